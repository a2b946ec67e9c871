//! cargo-fuzz target `engine`: the body is `ironicmdns::fuzzing::engine`, which
//! `tests/fuzz_corpus.rs` also replays on stable.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ironicmdns::fuzzing::engine(data));

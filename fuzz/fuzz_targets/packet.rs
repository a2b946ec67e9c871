//! cargo-fuzz target `packet`: the body is `ironicmdns::fuzzing::packet`, which
//! `tests/fuzz_corpus.rs` also replays on stable.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ironicmdns::fuzzing::packet(data));

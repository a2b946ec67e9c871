//! cargo-fuzz target `txt`: the body is `ironicmdns::fuzzing::txt`, which
//! `tests/fuzz_corpus.rs` also replays on stable.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ironicmdns::fuzzing::txt(data));

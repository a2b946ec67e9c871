//! cargo-fuzz target `url`: the body is `ironicmdns::fuzzing::url`, which
//! `tests/fuzz_corpus.rs` also replays on stable.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ironicmdns::fuzzing::url(data));

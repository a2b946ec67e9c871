//! cargo-fuzz target `capi`: the body is `ironicmdns::fuzzing::capi`, which
//! `tests/fuzz_corpus.rs` also replays on stable.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ironicmdns::fuzzing::capi(data));

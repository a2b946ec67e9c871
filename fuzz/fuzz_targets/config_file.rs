//! cargo-fuzz target `config_file`: the body is `ironicmdns::fuzzing::config_file`, which
//! `tests/fuzz_corpus.rs` also replays on stable.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ironicmdns::fuzzing::config_file(data));

//! cargo-fuzz target `dns_tsig`: the body is `ironicmdns::fuzzing::dns_tsig`, which
//! `tests/fuzz_corpus.rs` also replays on stable.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ironicmdns::fuzzing::dns_tsig(data));

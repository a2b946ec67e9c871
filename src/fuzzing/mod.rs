//! Fuzz target bodies, compiled only with the cargo feature `fuzzing`.
//!
//! Each target's `pub fn` takes the fuzzer's bytes and asserts the
//! invariants of one input boundary; a violated invariant is a panic. They
//! live inside the crate so that they see its internals. The feature keeps
//! them out of the shipped library (`tests/capi_symbols.rs` checks that no
//! fuzzing symbol is in the installed `.a` or `.so`); the fuzz crate
//! (`fuzz/Cargo.toml`, cargo-fuzz and libFuzzer) turns it on and only calls
//! the bodies, and `cargo test` turns it on through the crate's
//! dev-dependency on itself, so that `tests/fuzz_corpus.rs` replays every
//! corpus file through them on stable.
//!
//! One file per target, named as `fuzz/fuzz_targets/` and `fuzz/corpus/`
//! name them. Not part of the API: hidden from the docs and free to change.

mod capi;
mod config;
mod config_file;
mod dns_exchange;
mod dns_message;
mod dns_tsig;
mod engine;
mod packet;
mod txt;
mod url;

pub use self::capi::capi;
pub use self::config::config;
pub use self::config_file::config_file;
pub use self::dns_exchange::dns_exchange;
pub use self::dns_message::dns_message;
pub use self::dns_tsig::dns_tsig;
pub use self::engine::engine;
pub use self::packet::packet;
pub use self::txt::txt;
pub use self::url::url;

/// A target body: panics when an invariant does not hold.
pub type Target = fn(&[u8]);

/// The fuzz targets by name, as `fuzz/fuzz_targets/` and `fuzz/corpus/`
/// name them.
pub const TARGETS: &[(&str, Target)] = &[
    ("engine", engine),
    ("packet", packet),
    ("txt", txt),
    ("url", url),
    ("config", config),
    ("config_file", config_file),
    ("capi", capi),
    ("dns_message", dns_message),
    ("dns_tsig", dns_tsig),
    ("dns_exchange", dns_exchange),
];

/// The instance the `engine` target registers and the `txt` and `url`
/// targets resolve.
const INSTANCE: &str = "baremetal._openstack._tcp.local.";
/// Its service type.
const SERVICE_TYPE: &str = "_openstack._tcp.local.";

/// Reads the fuzzer's bytes as a stream of small values; past the end it
/// yields zeros, so every input is a complete program.
struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    fn new(data: &'a [u8]) -> Input<'a> {
        Input { data }
    }
    fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
    fn u8(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }
    fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.u8(), self.u8()])
    }
    fn u32(&mut self) -> u32 {
        u32::from_be_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }
    fn bytes(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.data.len());
        let (a, b) = self.data.split_at(n);
        self.data = b;
        a
    }
    /// A length-prefixed (one byte) chunk.
    fn chunk(&mut self) -> &'a [u8] {
        let n = self.u8() as usize;
        self.bytes(n)
    }
    fn rest(&mut self) -> &'a [u8] {
        self.bytes(self.data.len())
    }
}

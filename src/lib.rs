//! libironicmdns: multicast DNS (RFC 6762) and DNS-SD (RFC 6763) service
//! discovery for OpenStack, behaving like `ironic_lib.mdns`, with a C ABI.
//!
//! Layers (see `docs/DESIGN.md`): [`capi`] converts and guards;
//! [`Zeroconf`] is the reference's object, with the one retry policy of
//! both transports; below it the mDNS engine (`engine`), unicast DNS-SD
//! (`dns`) and the options ([`config`]); at the bottom, shared by both
//! transports: the wire format, the service model (`service`), `endpoint`
//! (URL <-> records), `route` (address choice) and [`log`].
//!
//! # What is public
//!
//! Supported, and kept stable within 0.x:
//! - the C ABI ([`capi`], `include/ironicmdns.h`), which is the product;
//! - the Rust face of the same object: [`Zeroconf`], [`get_endpoint`],
//!   [`lookup_once`], [`zeroconf::BrowsedService`], [`Config`] and its
//!   option table ([`config`]), [`Error`], [`Properties`]/[`Value`]
//!   ([`props`]), and the log hook ([`log`]).
//!
//! Public but internal (hidden from the docs, no stability promise): the
//! modules the command-line tool and the integration tests reach into:
//! `engine` (the mDNS engine and its sockets), `dns` (the unicast client
//! and publisher), `service`, `endpoint`, `route`, `config_file` and
//! `fuzzing`. Everything else is `pub(crate)`.

pub mod cancel;
pub mod capi;
pub mod config;
#[doc(hidden)]
pub mod config_file;
#[doc(hidden)]
pub mod dns;
#[doc(hidden)]
pub mod endpoint;
#[doc(hidden)]
pub mod engine;
pub mod error;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod log;
pub mod props;
mod random;
#[doc(hidden)]
pub mod route;
#[doc(hidden)]
pub mod service;
/// DNSSEC signing and validation (RFC 4034/4035): the records, the
/// canonical form, BIND key files, trust anchors, signing and validating.
#[doc(hidden)]
pub mod trust;
pub(crate) mod wire;
pub mod zeroconf;

pub use crate::cancel::Cancel;
pub use crate::config::Config;
pub use crate::error::{Error, Result};
pub use crate::props::{Properties, Value};
pub use crate::zeroconf::{get_endpoint, lookup_once, lookup_once_with, Zeroconf};

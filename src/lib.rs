//! libironicmdns: multicast DNS (RFC 6762) and DNS-SD (RFC 6763) service
//! discovery for OpenStack, behaving like `ironic_lib.mdns`, with a C ABI.
//!
//! Layers (see `docs/DESIGN.md`): [`capi`] converts and guards;
//! [`Zeroconf`] is the reference's object; [`endpoint`], [`route`] and
//! [`config`] are pure, [`props`] holds the shared property types; [`engine`] is the mDNS engine.

pub mod capi;
pub mod config;
pub mod config_file;
pub mod dns;
pub mod endpoint;
pub mod engine;
pub mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod log;
pub mod props;
mod random;
pub mod route;
pub mod service;
pub(crate) mod wire;
pub mod zeroconf;

pub use crate::config::Config;
pub use crate::error::{Error, Result};
pub use crate::props::{Properties, Value};
pub use crate::zeroconf::{get_endpoint, lookup_once, Zeroconf};

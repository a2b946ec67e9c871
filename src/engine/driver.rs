//! The driver: one thread owning sockets and clock, feeding the core.
//! OWNER: driver helper. The public API below is the contract the Zeroconf
//! layer codes against; bodies are to be written.

use std::net::IpAddr;
use std::time::Duration;

use super::*;
use crate::error::Result;

/// Options of a running engine.
#[derive(Clone, Debug, Default)]
pub struct MdnsOptions {
    /// Only the interfaces holding one of these addresses, and only those
    /// addresses' families. None: every multicast interface, IPv4 and IPv6.
    pub interfaces: Option<Vec<IpAddr>>,
    /// Cache bound (None: DEFAULT_CACHE_CAPACITY).
    pub cache_capacity: Option<usize>,
}

/// A running mDNS engine. Thread-safe; cheap calls (a lock) except where a
/// method says it blocks.
pub struct Mdns {
    _private: (),
}

impl Mdns {
    /// Open sockets and start the driver thread. Io error when no socket can
    /// be opened.
    pub fn start(opts: MdnsOptions) -> Result<Mdns> {
        let _ = opts;
        todo!()
    }
    /// Register and block until probing ends: Ok(id) once announced,
    /// Err(Error::Conflict) on a conflict, Err(Error::Registration) on an
    /// engine error. `timeout` bounds the wait.
    pub fn register(&self, info: ServiceInfo, timeout: Duration) -> Result<RegId> {
        let _ = (info, timeout);
        todo!()
    }
    /// Withdraw one registration; blocks until its goodbyes are sent.
    pub fn unregister(&self, id: RegId) -> Result<()> {
        let _ = id;
        todo!()
    }
    /// Resolve an instance (full name): from the cache at once when complete
    /// there, else query the network for at most `timeout`. Ok(None) when
    /// nothing complete arrived in time.
    pub fn resolve(&self, instance: &str, timeout: Duration) -> Result<Option<ResolvedService>> {
        let _ = (instance, timeout);
        todo!()
    }
    /// Browse a service type for `duration`, returning the instances seen
    /// (resolved as far as they could be).
    pub fn browse(&self, service_type: &str, duration: Duration) -> Result<Vec<ResolvedService>> {
        let _ = (service_type, duration);
        todo!()
    }
    /// Forget all cached records.
    pub fn flush_cache(&self) {
        todo!()
    }
    /// Withdraw every registration (goodbyes sent before return), stop the
    /// thread, close sockets. Idempotent.
    pub fn close(&self) -> Result<()> {
        todo!()
    }
}

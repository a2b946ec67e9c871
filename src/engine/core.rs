//! Sans-IO core. OWNER: engine helper. The public API below is the contract
//! the driver codes against; bodies are to be written.

use std::time::Instant;

use super::*;

/// The mDNS state machine: responder + querier + cache.
pub struct Engine {
    _private: (),
}

impl Engine {
    /// A new engine. `seed` feeds its random delays (probe 0-250 ms, shared
    /// answers 20-120 ms, refresh 80-95 %): fixed in tests, random in use.
    pub fn new(config: EngineConfig, seed: u64) -> Engine {
        let _ = (config, seed);
        todo!()
    }
    /// The interfaces now up (full list, replaces the previous one). New
    /// interfaces or addresses get probes/announcements of every
    /// registration; gone ones are forgotten.
    pub fn set_interfaces(&mut self, now: Instant, ifaces: Vec<Interface>) {
        let _ = (now, ifaces);
        todo!()
    }
    /// Feed one received datagram. Never panics on any input.
    pub fn handle_packet(&mut self, now: Instant, from: Received, data: &[u8]) {
        let _ = (now, from, data);
        todo!()
    }
    /// Run every timer due at or before `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        let _ = now;
        todo!()
    }
    /// When `handle_timeout` must next be called (None: nothing pending).
    pub fn poll_timeout(&self) -> Option<Instant> {
        todo!()
    }
    /// Next packet to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        todo!()
    }
    /// Next event for the driver.
    pub fn poll_event(&mut self) -> Option<Event> {
        todo!()
    }
    /// Start publishing a service: probe, then announce; `Event::Registered`
    /// or `Event::Conflict` follows.
    pub fn register(&mut self, now: Instant, info: ServiceInfo) -> Result<RegId, EngineError> {
        let _ = (now, info);
        todo!()
    }
    /// Withdraw a registration with goodbyes (TTL 0); `Event::Withdrawn`
    /// follows once they are all handed out by `poll_transmit`.
    pub fn unregister(&mut self, now: Instant, id: RegId) -> Result<(), EngineError> {
        let _ = (now, id);
        todo!()
    }
    /// One-shot lookup of an instance (full name), until `deadline`.
    pub fn query(&mut self, now: Instant, instance: &str, deadline: Instant) -> Result<QueryId, EngineError> {
        let _ = (now, instance, deadline);
        todo!()
    }
    /// Forget a one-shot query (no event follows).
    pub fn cancel_query(&mut self, id: QueryId) {
        let _ = id;
        todo!()
    }
    /// A complete answer for `instance` from the cache, if every record
    /// needed is still within its TTL.
    pub fn resolve_cached(&self, now: Instant, instance: &str) -> Option<ResolvedService> {
        let _ = (now, instance);
        todo!()
    }
    /// Continuous browse of a service type (`_openstack._tcp.local.`).
    pub fn browse(&mut self, now: Instant, service_type: &str) -> Result<BrowseId, EngineError> {
        let _ = (now, service_type);
        todo!()
    }
    pub fn stop_browse(&mut self, id: BrowseId) {
        let _ = id;
        todo!()
    }
    /// Drop every cached record (before a registration retry, SPEC 3.6).
    pub fn flush_cache(&mut self) {
        todo!()
    }
    /// Number of records in the cache (for tests of the bound).
    pub fn cache_len(&self) -> usize {
        todo!()
    }
}

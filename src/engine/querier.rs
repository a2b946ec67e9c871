//! Querier: one-shot and continuous queries, cache feeding, known answers.
//! OWNER: querier helper. The API below is the contract `core.rs` codes
//! against; bodies are to be written.

use std::time::Instant;

use simple_dns::Packet;

use super::*;

/// A query packet for the core to send on every interface and family
/// (or only `iface` when set).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutQuery {
    pub iface: Option<IfIndex>,
    pub payload: Vec<u8>,
}

pub struct Querier {
    _private: (),
}

impl Querier {
    pub fn new(cache_capacity: usize, seed: u64) -> Querier {
        let _ = (cache_capacity, seed);
        todo!()
    }
    /// A response (already validated by `wire`; source port 5353 or a
    /// legacy-unicast answer to one of our own queries) received on `from`.
    /// Caches answers and additionals, applies cache-flush (s10.2),
    /// goodbyes (s10.1), NSEC (address types only), completes queries.
    pub fn handle_response(&mut self, now: Instant, from: Received, packet: &Packet<'_>) {
        let _ = (now, from, packet);
        todo!()
    }
    /// Another host's query seen on the link (for duplicate question
    /// suppression, s7.3, optional).
    pub fn handle_query(&mut self, now: Instant, from: Received, packet: &Packet<'_>) {
        let _ = (now, from, packet);
        todo!()
    }
    pub fn handle_timeout(&mut self, now: Instant) {
        let _ = now;
        todo!()
    }
    pub fn poll_timeout(&self) -> Option<Instant> {
        todo!()
    }
    pub fn poll_query(&mut self) -> Option<OutQuery> {
        todo!()
    }
    pub fn poll_event(&mut self) -> Option<Event> {
        todo!()
    }
    pub fn query(&mut self, now: Instant, instance: &str, deadline: Instant) -> Result<QueryId, EngineError> {
        let _ = (now, instance, deadline);
        todo!()
    }
    pub fn cancel_query(&mut self, id: QueryId) {
        let _ = id;
        todo!()
    }
    pub fn resolve_cached(&self, now: Instant, instance: &str) -> Option<ResolvedService> {
        let _ = (now, instance);
        todo!()
    }
    pub fn browse(&mut self, now: Instant, service_type: &str) -> Result<BrowseId, EngineError> {
        let _ = (now, service_type);
        todo!()
    }
    pub fn stop_browse(&mut self, id: BrowseId) {
        let _ = id;
        todo!()
    }
    pub fn flush_cache(&mut self) {
        todo!()
    }
    pub fn cache_len(&self) -> usize {
        todo!()
    }
}

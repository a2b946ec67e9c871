//! Sans-IO core: the responder and the querier behind one front. It checks
//! every received datagram (source, port, shape) before either half sees it,
//! fans the querier's queries out to every interface and family, and merges
//! timers, packets and events.

use std::collections::VecDeque;
use std::time::Instant;

use simple_dns::{Packet, PacketFlag, OPCODE, RCODE};

use super::querier::{OutQuery, Querier};
use super::responder::Responder;
use super::*;
use crate::wire;

/// The mDNS state machine: responder + querier + cache.
pub struct Engine {
    ifaces: Vec<Interface>,
    responder: Responder,
    querier: Querier,
    /// Querier packets, fanned out per interface and family.
    queries: VecDeque<Transmit>,
}

impl Engine {
    /// A new engine. `seed` feeds its random delays (probe 0-250 ms, shared
    /// answers 20-120 ms, refresh 80-95 %): fixed in tests, random in use.
    pub fn new(config: EngineConfig, seed: u64) -> Engine {
        Engine {
            ifaces: Vec::new(),
            responder: Responder::new(seed, config.signing_key),
            querier: Querier::new(
                config.cache_capacity,
                seed ^ 0x5DEE_CE66_D1CE_5EED,
                config.trust,
            ),
            queries: VecDeque::new(),
        }
    }
    /// The wall-clock time is `unix_secs` (seconds since the epoch) at
    /// `now`: signature windows are made and checked against it. The
    /// driver tells it at every round; between two calls it advances with
    /// `now`. Never told, the system clock is read.
    pub fn set_wall_clock(&mut self, now: Instant, unix_secs: u64) {
        self.responder.set_wall_clock(now, unix_secs);
        self.querier.set_wall_clock(now, unix_secs);
    }
    /// The interfaces now up (full list, replaces the previous one). New
    /// interfaces or addresses get probes/announcements of every
    /// registration; gone ones are forgotten.
    pub fn set_interfaces(&mut self, now: Instant, ifaces: Vec<Interface>) {
        self.ifaces = ifaces.clone();
        self.responder.set_interfaces(now, ifaces);
    }
    /// Feed one received datagram. Never panics on any input.
    pub fn handle_packet(&mut self, now: Instant, from: Received, data: &[u8]) {
        let Some(packet) = screen(&self.ifaces, &from, data) else {
            return;
        };
        if packet.has_flags(PacketFlag::RESPONSE) {
            self.responder.handle_response(now, from, &packet);
            self.querier.handle_response(now, from, &packet);
        } else {
            // Queries are the responder's alone: the querier does no
            // duplicate question suppression (RFC 6762 s7.3, optional).
            self.responder.handle_query(now, from, &packet);
        }
    }

    /// Feed the loopback copy of a multicast packet we sent ourselves (the
    /// driver knows them): our own query goes to our responder, which
    /// answers it like another host's, and our own response to our querier
    /// only, so that a browse or lookup finds this engine's registrations
    /// too; the responder never takes its own packets for another host's.
    pub fn handle_own_echo(&mut self, now: Instant, from: Received, data: &[u8]) {
        let Some(packet) = screen(&self.ifaces, &from, data) else {
            return;
        };
        if packet.has_flags(PacketFlag::RESPONSE) {
            self.querier.handle_response(now, from, &packet);
        } else if packet.name_servers.is_empty() {
            // Not our own probe: nothing of ours to tie-break with.
            self.responder.handle_query(now, from, &packet);
        }
    }

    /// Run every timer due at or before `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.responder.handle_timeout(now);
        self.querier.handle_timeout(now);
    }
    /// When `handle_timeout` must next be called (None: nothing pending).
    pub fn poll_timeout(&self) -> Option<Instant> {
        match (self.responder.poll_timeout(), self.querier.poll_timeout()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
    /// Next packet to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        if let Some(t) = self.responder.poll_transmit() {
            return Some(t);
        }
        if self.queries.is_empty() {
            while let Some(q) = self.querier.poll_query() {
                self.fan_out(q);
            }
        }
        self.queries.pop_front()
    }

    /// A querier packet to every interface and family (or the one named).
    fn fan_out(&mut self, q: OutQuery) {
        for i in &self.ifaces {
            if q.iface.is_some_and(|want| want != i.index) {
                continue;
            }
            for f in [Family::V4, Family::V6] {
                if i.has_family(f) {
                    let (iface, dst, payload) = (i.index, f.group(), q.payload.clone());
                    self.queries.push_back(Transmit {
                        iface,
                        dst,
                        payload,
                        from_ephemeral: q.ephemeral,
                    });
                }
            }
        }
    }
    /// Next event for the driver.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.responder
            .poll_event()
            .or_else(|| self.querier.poll_event())
    }
    /// Start publishing a service: probe, then announce; `Event::Registered`
    /// or `Event::Conflict` follows.
    pub fn register(&mut self, now: Instant, info: ServiceInfo) -> Result<RegId, EngineError> {
        self.responder.register(now, info)
    }
    /// Withdraw a registration with goodbyes (TTL 0); `Event::Withdrawn`
    /// follows once they are all handed out by `poll_transmit`.
    pub fn unregister(&mut self, now: Instant, id: RegId) -> Result<(), EngineError> {
        self.responder.unregister(now, id)
    }
    /// One-shot lookup of an instance (full name), until `deadline`.
    pub fn query(
        &mut self,
        now: Instant,
        instance: &str,
        deadline: Instant,
    ) -> Result<QueryId, EngineError> {
        self.querier.query(now, instance, deadline)
    }
    /// Forget a one-shot query (no event follows).
    pub fn cancel_query(&mut self, id: QueryId) {
        self.querier.cancel_query(id)
    }
    /// A complete answer for `instance` from the cache, if every record
    /// needed is still within its TTL.
    pub fn resolve_cached(&self, now: Instant, instance: &str) -> Option<ResolvedService> {
        self.querier.resolve_cached(now, instance)
    }
    /// Continuous browse of a service type (`_openstack._tcp.local.`).
    pub fn browse(&mut self, now: Instant, service_type: &str) -> Result<BrowseId, EngineError> {
        self.querier.browse(now, service_type)
    }
    pub fn stop_browse(&mut self, id: BrowseId) {
        self.querier.stop_browse(id)
    }
    /// Drop every cached record (before a registration retry, SPEC 3.6).
    pub fn flush_cache(&mut self) {
        self.querier.flush_cache()
    }
    /// Number of records in the cache (for tests of the bound).
    pub fn cache_len(&self) -> usize {
        self.querier.cache_len()
    }
}

/// The checks every datagram passes before either half sees it; None: drop.
pub(crate) fn screen(
    ifaces: &[Interface],
    from: &Received,
    data: &[u8],
) -> Option<Packet<'static>> {
    let iface = ifaces.iter().find(|i| i.index == from.iface)?;
    // RFC 6762 s11: a unicast-addressed packet must come from a local subnet
    // of the interface it arrived on (link-local IPv6 is on-link).
    if !from.multicast && !iface.on_link(&from.src.ip()) {
        return None;
    }
    let packet = wire::parse(data).ok()?;
    // RFC 6762 s18.3, s18.11: only standard queries with RCODE 0.
    if packet.opcode() != OPCODE::StandardQuery || packet.rcode() != RCODE::NoError {
        return None;
    }
    // RFC 6762 s6: responses not from port 5353 are ignored. (Legacy
    // unicast answers to our one-shot queries, s6.7, come from 5353 too.)
    if packet.has_flags(PacketFlag::RESPONSE) && from.src.port() != MDNS_PORT {
        return None;
    }
    Some(packet)
}

#[cfg(test)]
mod engine_tests;
#[cfg(test)]
mod test_link;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod trust_tests;

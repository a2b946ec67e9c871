//! Answering queries (RFC 6762 s5.4, s6, s6.1, s6.2, s6.7, s7.1; RFC 6763
//! s12).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use simple_dns::{Name, Packet, PacketFlag, Question, ResourceRecord, CLASS, QCLASS, QTYPE};

use super::{is_addr, types_at, Delayed, Link, Responder};
use crate::engine::timers::{
    PROBE_DEFENCE_LIMIT, RATE_LIMIT, SHARED_ANSWER_DELAY_MS, TRUNCATED_ANSWER_DELAY_MS,
};
use crate::engine::*;
use crate::wire::{self, T_A, T_AAAA, T_PTR, T_SRV, T_TXT};

/// Largest TTL in a legacy unicast answer (RFC 6762 s6.7).
const LEGACY_TTL: u32 = 10;
/// Unicast answers one source address gets per second. A querier asks a
/// handful of times (a host running 50 lookups at once, a few per lookup);
/// a flood from one host (or spoofed as one) is not turned into more bytes
/// than it sent (an answer is 3-5 times its query: 100 a second stays far
/// below a flood's bytes in).
pub(super) const UNICAST_ANSWERS_PER_SOURCE: u32 = 100;
const UNICAST_WINDOW: Duration = Duration::from_secs(1);
/// Sources tracked at once; past it new sources wait for a window to end.
const UNICAST_SOURCES_TRACKED: usize = 4096;

/// How one answer goes out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Route {
    Unicast,
    Multicast,
    /// A legacy query's unicast answer (RFC 6762 s6.7), and the same record
    /// by multicast, not sent on this link within the last second (s6.2):
    /// in a boot storm every host asks the same, and those whose stack
    /// listens on 5353 resolve from the one multicast instead of asking.
    Both,
    /// Held back: multicast too recently, or already waiting (s6.2).
    Skip,
}

impl Responder {
    /// A query from the link (already checked by the core: on-link source
    /// for unicast-addressed packets).
    pub fn handle_query(&mut self, now: Instant, from: Received, packet: &Packet<'_>) {
        let link: Link = (from.iface, Family::of(&from.src.ip()));
        let is_probe = !packet.name_servers.is_empty();
        if is_probe {
            self.tie_break(now, link, packet);
        }
        // RFC 6762 s7.2: a packet of known answers only continues a query
        // whose answers we hold back; drop what it shows the querier knows.
        if packet.questions.is_empty() && !packet.answers.is_empty() {
            self.drop_known_from_delayed(link, packet);
            return;
        }
        let live = self.live_records(link);
        if live.is_empty() {
            return;
        }
        let mut mcast: Vec<ResourceRecord<'static>> = Vec::new();
        let mut ucast: Vec<ResourceRecord<'static>> = Vec::new();
        for q in &packet.questions {
            for r in matching(&live, q) {
                // RFC 6762 s7.1: known-answer suppression.
                if known(packet, &r) {
                    continue;
                }
                match self.route(now, from, link, is_probe, q.unicast_response, &r) {
                    Route::Unicast => push_unique(&mut ucast, r),
                    Route::Multicast => push_unique(&mut mcast, r),
                    Route::Both => {
                        push_unique(&mut ucast, r.clone());
                        push_unique(&mut mcast, r);
                    }
                    Route::Skip => {}
                }
            }
        }
        self.send_unicast_answers(now, from, packet, ucast);
        let truncated = packet.has_flags(PacketFlag::TRUNCATION);
        self.send_multicast_answers(now, link, truncated, mcast);
    }

    fn drop_known_from_delayed(&mut self, link: Link, packet: &Packet<'_>) {
        for d in self.delayed.iter_mut().filter(|d| d.link == link) {
            d.answers.retain(|r| !known(packet, r));
        }
        self.delayed.retain(|d| !d.answers.is_empty());
    }

    /// Records announced on `link`, one copy each.
    pub(super) fn live_records(&self, link: Link) -> Vec<ResourceRecord<'static>> {
        let mut live: Vec<ResourceRecord<'static>> = Vec::new();
        for reg in self.regs.values() {
            if reg.links.get(&link).is_some_and(|s| s.announced()) {
                for r in &reg.records {
                    if !live
                        .iter()
                        .any(|o| o.name == r.name && wire::same_rdata(o, r))
                    {
                        live.push(r.clone());
                    }
                }
            }
        }
        live
    }

    /// Unicast or multicast for one answer (RFC 6762 s5.4, s5.5, s6.2,
    /// s6.7, s8.1, s11).
    fn route(
        &self,
        now: Instant,
        from: Received,
        link: Link,
        is_probe: bool,
        qu: bool,
        r: &ResourceRecord<'static>,
    ) -> Route {
        let legacy = from.src.port() != MDNS_PORT;
        let on_link = self.on_link(from.iface, &from.src);
        let last = self.last_mcast.get(&(link, r.clone())).copied();
        // RFC 6762 s5.4: QU answered by unicast unless we have not
        // multicast the record in the last quarter TTL; probes are
        // defended by multicast (s8.1); off-link sources get none.
        let quarter = Duration::from_secs(u64::from(r.ttl) / 4);
        let fresh = last.is_some_and(|t| now.duration_since(t) < quarter);
        // RFC 6762 s5.5: a query sent by unicast to port 5353 (the core
        // let it in only from on-link) is answered by unicast.
        let direct = !from.multicast && on_link;
        // RFC 6762 s6.2: rate limit per record and link.
        let limit = if is_probe {
            PROBE_DEFENCE_LIMIT
        } else {
            RATE_LIMIT
        };
        let held = last.is_some_and(|t| now.duration_since(t) < limit)
            || self
                .delayed
                .iter()
                .any(|d| d.link == link && d.answers.contains(r));
        if legacy && from.multicast && on_link && !held {
            return Route::Both;
        }
        if legacy || direct || (qu && fresh && !is_probe && on_link) {
            return Route::Unicast;
        }
        if held {
            return Route::Skip;
        }
        Route::Multicast
    }

    fn send_unicast_answers(
        &mut self,
        now: Instant,
        from: Received,
        packet: &Packet<'_>,
        ucast: Vec<ResourceRecord<'static>>,
    ) {
        if ucast.is_empty() || !self.unicast_allowed(now, from.src.ip()) {
            return;
        }
        if from.src.port() != MDNS_PORT {
            self.legacy_reply(now, from, packet, ucast);
        } else if self.on_link(from.iface, &from.src) {
            let mut p = self.response_with_additionals(ucast);
            let link = (from.iface, Family::of(&from.src.ip()));
            self.sign_packet(now, Some(link), &mut p);
            self.send_unicast(from.iface, from.src, &p);
        }
    }

    fn send_multicast_answers(
        &mut self,
        now: Instant,
        link: Link,
        truncated: bool,
        mcast: Vec<ResourceRecord<'static>>,
    ) {
        if mcast.is_empty() {
            return;
        }
        if !truncated && mcast.iter().all(|r| r.cache_flush) {
            // RFC 6762 s6: unique records are answered at once.
            let mut p = self.response_with_additionals(mcast);
            self.sign_packet(now, Some(link), &mut p);
            self.send_multicast(now, link, &p, true);
            return;
        }
        // More known answers follow (RFC 6762 s7.2), or shared records
        // (s6): after a random delay.
        let delay = if truncated {
            TRUNCATED_ANSWER_DELAY_MS
        } else {
            SHARED_ANSWER_DELAY_MS
        };
        let at = now + self.rng.millis(delay);
        self.delayed.push(Delayed {
            at,
            link,
            answers: mcast,
        });
    }

    /// Whether `src` may have one more unicast answer now (at most
    /// `UNICAST_ANSWERS_PER_SOURCE` a second), counting it.
    fn unicast_allowed(&mut self, now: Instant, src: std::net::IpAddr) -> bool {
        if self.unicast_sent.len() >= UNICAST_SOURCES_TRACKED
            && !self.unicast_sent.contains_key(&src)
        {
            self.unicast_sent
                .retain(|_, (start, _)| now.duration_since(*start) < UNICAST_WINDOW);
            if self.unicast_sent.len() >= UNICAST_SOURCES_TRACKED {
                return false;
            }
        }
        let (start, n) = self.unicast_sent.entry(src).or_insert((now, 0));
        if now.duration_since(*start) >= UNICAST_WINDOW {
            (*start, *n) = (now, 0);
        }
        if *n >= UNICAST_ANSWERS_PER_SOURCE {
            return false;
        }
        *n += 1;
        true
    }

    /// RFC 6762 s6.7: a legacy unicast query (source port not 5353) gets a
    /// unicast reply with its ID and question, TTLs at most 10 s and no
    /// cache-flush bit. Never to an off-link source (s11).
    fn legacy_reply(
        &mut self,
        now: Instant,
        from: Received,
        query: &Packet<'_>,
        answers: Vec<ResourceRecord<'static>>,
    ) {
        if !self.on_link(from.iface, &from.src) {
            return;
        }
        let mut p = self.response_with_additionals(answers);
        // Signed with the published TTLs; the RRSIGs' TTLs are lowered
        // with the records' below.
        let link = (from.iface, Family::of(&from.src.ip()));
        self.sign_packet(now, Some(link), &mut p);
        p.set_id(query.id());
        p.questions = query
            .questions
            .iter()
            .map(|q| q.clone().into_owned())
            .collect();
        for r in p.answers.iter_mut().chain(p.additional_records.iter_mut()) {
            r.ttl = r.ttl.min(LEGACY_TTL);
            r.cache_flush = false;
        }
        self.send_unicast(from.iface, from.src, &p);
    }

    /// A response with `answers` and the additional records RFC 6763 s12
    /// asks for: PTR -> SRV, TXT, addresses; SRV -> addresses; an address ->
    /// the other family's (RFC 6762 s6.2); NSEC for a missing address type.
    pub(super) fn response_with_additionals(
        &self,
        answers: Vec<ResourceRecord<'static>>,
    ) -> Packet<'static> {
        let all: Vec<ResourceRecord<'static>> = self
            .regs
            .values()
            .flat_map(|r| r.records.iter().cloned())
            .collect();
        let mut extra: Vec<ResourceRecord<'static>> = Vec::new();
        let add = |r: &ResourceRecord<'static>, extra: &mut Vec<ResourceRecord<'static>>| {
            if !answers.contains(r) && !extra.contains(r) {
                extra.push(r.clone());
            }
        };
        let mut address_names: Vec<Name<'static>> = Vec::new();
        for a in &answers {
            let t = wire::rr_type(a);
            let mut targets = Vec::new();
            if t == T_PTR {
                if let simple_dns::rdata::RData::PTR(ptr) = &a.rdata {
                    let inst = ptr.0.clone().into_owned();
                    for r in all.iter().filter(|r| r.name == inst) {
                        let rt = wire::rr_type(r);
                        if rt == T_SRV || rt == T_TXT {
                            add(r, &mut extra);
                        }
                        if let simple_dns::rdata::RData::SRV(s) = &r.rdata {
                            targets.push(s.target.clone().into_owned());
                        }
                    }
                }
            } else if let simple_dns::rdata::RData::SRV(s) = &a.rdata {
                targets.push(s.target.clone().into_owned());
            } else if is_addr(t) {
                targets.push(a.name.clone());
            }
            for n in targets {
                for r in all
                    .iter()
                    .filter(|r| r.name == n && is_addr(wire::rr_type(r)))
                {
                    add(r, &mut extra);
                }
                if !address_names.contains(&n) {
                    address_names.push(n);
                }
            }
        }
        for n in address_names {
            let types = types_at(&all, &n);
            let owned = all
                .iter()
                .any(|r| r.cache_flush && r.name == n && is_addr(wire::rr_type(r)));
            if owned && !(types.contains(&T_A) && types.contains(&T_AAAA)) {
                let ttl = all
                    .iter()
                    .filter(|r| r.name == n)
                    .map(|r| r.ttl)
                    .min()
                    .unwrap_or(120);
                add(&wire::nsec(&n, &types, ttl), &mut extra);
            }
        }
        let mut p = Packet::new_reply(0);
        p.set_flags(PacketFlag::AUTHORITATIVE_ANSWER);
        p.answers = answers;
        p.additional_records = extra;
        p
    }

    /// Is `src` on-link for interface `iface` (RFC 6762 s11)?
    pub(crate) fn on_link(&self, iface: IfIndex, src: &SocketAddr) -> bool {
        self.iface(iface).is_some_and(|i| i.on_link(&src.ip()))
    }
}

/// Our live records answering question `q`; RFC 6762 s6.1: a name of ours
/// without the asked type gets an NSEC instead.
fn matching(live: &[ResourceRecord<'static>], q: &Question<'_>) -> Vec<ResourceRecord<'static>> {
    if !matches!(q.qclass, QCLASS::ANY | QCLASS::CLASS(CLASS::IN)) {
        return Vec::new();
    }
    let qtype: u16 = q.qtype.into();
    let mut matched: Vec<ResourceRecord<'static>> = live
        .iter()
        .filter(|r| r.name == q.qname && (q.qtype == QTYPE::ANY || wire::rr_type(r) == qtype))
        .cloned()
        .collect();
    if matched.is_empty() && live.iter().any(|r| r.cache_flush && r.name == q.qname) {
        let ttl = live
            .iter()
            .filter(|r| r.name == q.qname)
            .map(|r| r.ttl)
            .min()
            .unwrap_or(120);
        let owner = q.qname.clone().into_owned();
        matched.push(wire::nsec(&owner, &types_at(live, &owner), ttl));
    }
    matched
}

/// RFC 6762 s7.1: the querier already holds `r` with at least half its TTL.
fn known(query: &Packet<'_>, r: &ResourceRecord<'_>) -> bool {
    known_in(&query.answers, r)
}

/// `r` is among `list` with at least half its TTL.
pub(super) fn known_in(list: &[ResourceRecord<'_>], r: &ResourceRecord<'_>) -> bool {
    list.iter().any(|k| {
        k.name == r.name && wire::same_rdata(k, r) && u64::from(k.ttl) * 2 >= u64::from(r.ttl)
    })
}

fn push_unique(v: &mut Vec<ResourceRecord<'static>>, r: ResourceRecord<'static>) {
    if !v.contains(&r) {
        v.push(r);
    }
}

//! Answering queries (RFC 6762 s5.4, s6, s6.1, s6.2, s6.7, s7.1; RFC 6763
//! s12).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use simple_dns::{Name, Packet, PacketFlag, ResourceRecord, CLASS, QCLASS, QTYPE};

use super::{is_addr, types_at, Delayed, Link, Responder};
use crate::engine::timers::{
    PROBE_DEFENCE_LIMIT, RATE_LIMIT, SHARED_ANSWER_DELAY_MS, TRUNCATED_ANSWER_DELAY_MS,
};
use crate::engine::wire::{self, T_A, T_AAAA, T_PTR, T_SRV, T_TXT};
use crate::engine::*;

/// Largest TTL in a legacy unicast answer (RFC 6762 s6.7).
const LEGACY_TTL: u32 = 10;

impl Responder {
    /// A query from the link (already checked by the core: on-link source
    /// for unicast-addressed packets).
    pub fn handle_query(&mut self, now: Instant, from: Received, packet: &Packet<'_>) {
        let link: Link = (from.iface, Family::of(&from.src.ip()));
        let is_probe = !packet.name_servers.is_empty();
        if is_probe {
            self.tie_break(now, link, packet);
        }
        let legacy = from.src.port() != MDNS_PORT;
        // RFC 6762 s7.2: a packet of known answers only continues a query
        // whose answers we hold back; drop what it shows the querier knows.
        if packet.questions.is_empty() && !packet.answers.is_empty() {
            for d in self.delayed.iter_mut().filter(|d| d.link == link) {
                d.answers.retain(|r| !known(packet, r));
            }
            self.delayed.retain(|d| !d.answers.is_empty());
            return;
        }
        let truncated = packet.has_flags(PacketFlag::TRUNCATION);
        let on_link = self.on_link(from.iface, &from.src);

        // Records live on this link, one copy each.
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
        if live.is_empty() {
            return;
        }

        let mut mcast: Vec<ResourceRecord<'static>> = Vec::new();
        let mut ucast: Vec<ResourceRecord<'static>> = Vec::new();
        for q in &packet.questions {
            if !matches!(q.qclass, QCLASS::ANY | QCLASS::CLASS(CLASS::IN)) {
                continue;
            }
            let qtype: u16 = q.qtype.into();
            let mut matched: Vec<ResourceRecord<'static>> = live
                .iter()
                .filter(|r| {
                    r.name == q.qname && (q.qtype == QTYPE::ANY || wire::rr_type(r) == qtype)
                })
                .cloned()
                .collect();
            // RFC 6762 s6.1: a name of ours without the asked type -> NSEC.
            if matched.is_empty() && live.iter().any(|r| r.cache_flush && r.name == q.qname) {
                let ttl = live
                    .iter()
                    .filter(|r| r.name == q.qname)
                    .map(|r| r.ttl)
                    .min()
                    .unwrap_or(120);
                let owner = q.qname.clone().into_owned();
                matched.push(wire::nsec(&owner, &types_at(&live, &owner), ttl));
            }
            for r in matched {
                // RFC 6762 s7.1: known-answer suppression.
                if known(packet, &r) {
                    continue;
                }
                let last = self.last_mcast.get(&(link, r.clone())).copied();
                // RFC 6762 s5.4: QU answered by unicast unless we have not
                // multicast the record in the last quarter TTL; probes are
                // defended by multicast (s8.1); off-link sources get none.
                let quarter = Duration::from_secs(u64::from(r.ttl) / 4);
                let fresh = last.is_some_and(|t| now.duration_since(t) < quarter);
                // RFC 6762 s5.5: a query sent by unicast to port 5353 (the
                // core let it in only from on-link) is answered by unicast.
                let direct = !from.multicast && on_link;
                let unicast =
                    legacy || direct || (q.unicast_response && fresh && !is_probe && on_link);
                if unicast {
                    push_unique(&mut ucast, r);
                    continue;
                }
                // RFC 6762 s6.2: rate limit per record and link.
                let limit = if is_probe {
                    PROBE_DEFENCE_LIMIT
                } else {
                    RATE_LIMIT
                };
                if last.is_some_and(|t| now.duration_since(t) < limit) {
                    continue;
                }
                if self
                    .delayed
                    .iter()
                    .any(|d| d.link == link && d.answers.contains(&r))
                {
                    continue;
                }
                push_unique(&mut mcast, r);
            }
        }

        if !ucast.is_empty() {
            if legacy {
                self.legacy_reply(from, packet, ucast);
            } else if on_link {
                let p = self.response_with_additionals(ucast);
                self.send_unicast(from.iface, from.src, &p);
            }
        }
        if !mcast.is_empty() {
            if truncated {
                // More known answers follow (RFC 6762 s7.2).
                let at = now + self.rng.millis(TRUNCATED_ANSWER_DELAY_MS);
                self.delayed.push(Delayed {
                    at,
                    link,
                    answers: mcast,
                });
            } else if mcast.iter().all(|r| r.cache_flush) {
                // RFC 6762 s6: unique records are answered at once.
                let p = self.response_with_additionals(mcast);
                self.send_multicast(now, link, &p, true);
            } else {
                // RFC 6762 s6: shared records after a random delay.
                let at = now + self.rng.millis(SHARED_ANSWER_DELAY_MS);
                self.delayed.push(Delayed {
                    at,
                    link,
                    answers: mcast,
                });
            }
        }
    }

    /// RFC 6762 s6.7: a legacy unicast query (source port not 5353) gets a
    /// unicast reply with its ID and question, TTLs at most 10 s and no
    /// cache-flush bit. Never to an off-link source (s11).
    fn legacy_reply(
        &mut self,
        from: Received,
        query: &Packet<'_>,
        answers: Vec<ResourceRecord<'static>>,
    ) {
        if !self.on_link(from.iface, &from.src) {
            return;
        }
        let mut p = self.response_with_additionals(answers);
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

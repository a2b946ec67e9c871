//! Querier: one-shot and continuous queries, cache feeding, known answers.
//! The API below is the contract `core.rs` codes against.
//!
//! Sans-IO: `now` comes from the caller; packets to send come out of
//! `poll_query`, events out of `poll_event`.
//!
//! * One-shot lookup (`query`): SRV, TXT, A, AAAA of the instance. The
//!   first packet goes out from an ephemeral port with a random ID (RFC
//!   6762 s5.1 one-shot query, answered by legacy unicast s6.7 straight to
//!   that socket, whatever other stacks share port 5353 on this host); then
//!   QM retries from 5353, 1 s, 2 s, 4 s ... apart with known answers
//!   (continuous querying, s5.2, for responders that ignore legacy
//!   queries); an SRV target without addresses is asked for at once.
//!   Complete = SRV + TXT + at least one address of the target.
//! * Browse (`browse`): PTR queries 1 s, 2 s, 4 s ... up to 60 min apart;
//!   each instance resolved as far as it goes and reported once, again
//!   when it changes, and removed on goodbye or expiry.
//! * Cache (`cache.rs`): TTL expiry, goodbyes, cache flush, NSEC for
//!   address types, refresh of watched records at 80-95 % of their TTL.
//!
//! Not done (optional in RFC 6762): duplicate question suppression (s7.3;
//! a query seen on one link says nothing of the answers on another, and
//! our packets go to every interface at once) and passive observation of
//! failures (s10.5).

mod assemble;
mod browse;
mod packet;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_browse;
#[cfg(test)]
mod tests_cache;
mod validate;

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use simple_dns::rdata::RData;
use simple_dns::{Name, Packet};

use self::assemble::{complete, gather};
use self::browse::Browse;
use self::packet::Ask;
use super::cache::{Cache, Inserted};
use super::rng::Rng;
use super::timers::{FIRST_QUERY_DELAY_MS, FIRST_RETRY, MAX_QUERY_INTERVAL, ONE_SECOND_GRACE};
use super::*;
use crate::wire::{T_A, T_AAAA, T_NSEC, T_PTR, T_SRV, T_TXT};

/// The per-record verdicts on one packet (for the core's tests).
#[cfg(test)]
pub(crate) fn validate_for_tests(
    policy: &crate::trust::TrustPolicy,
    now_secs: u64,
    p: &Packet<'_>,
) -> Vec<Result<u32, crate::trust::ValidationError>> {
    let mut memo = validate::Verified::default();
    validate::packet(policy, now_secs, Instant::now(), &mut memo, p)
}

/// A query packet for the core to send on every interface and family
/// (or only `iface` when set).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutQuery {
    pub iface: Option<IfIndex>,
    pub payload: Vec<u8>,
    /// Send from the ephemeral-port socket (`Transmit::from_ephemeral`):
    /// the first packet of a one-shot query, with a non-zero ID.
    pub ephemeral: bool,
}

struct Query {
    id: QueryId,
    /// The name as the caller wrote it (reported back in `Resolved`).
    display: String,
    name: Name<'static>,
    deadline: Instant,
    next_send: Instant,
    interval: Duration,
    /// Resolved: no more sending; still watched (refreshes) until deadline.
    done: bool,
    asked_target: Option<Name<'static>>,
    /// With a trust policy: the furthest-going validation failure among
    /// the records heard for this lookup (reported if nothing validates).
    refused: Option<crate::trust::ValidationError>,
}

pub struct Querier {
    cache: Cache,
    next_id: u64,
    rng: Rng,
    queries: Vec<Query>,
    browses: Vec<Browse>,
    out: VecDeque<OutQuery>,
    events: VecDeque<Event>,
    /// Validate answers (only what validates is cached); None: off.
    trust: Option<crate::trust::TrustPolicy>,
    wall: super::signed::WallClock,
    /// RRsets already verified with the signatures they came with.
    verified: validate::Verified,
}

/// A name from the API: valid DNS text, not empty.
fn parse_name(text: &str) -> Result<Name<'static>, EngineError> {
    let name = Name::new(text)
        .map_err(|_| EngineError::InvalidName(text.to_string(), "not a valid DNS name"))?;
    if name.get_labels().is_empty() {
        return Err(EngineError::InvalidName(text.to_string(), "empty name"));
    }
    Ok(name.into_owned())
}

impl Querier {
    pub fn new(
        cache_capacity: usize,
        seed: u64,
        trust: Option<crate::trust::TrustPolicy>,
    ) -> Querier {
        Querier {
            cache: Cache::new(cache_capacity, seed),
            next_id: 1,
            rng: Rng::new(seed ^ 0x0b5e_55ed),
            queries: Vec::new(),
            browses: Vec::new(),
            out: VecDeque::new(),
            events: VecDeque::new(),
            trust,
            wall: Default::default(),
            verified: Default::default(),
        }
    }

    /// The wall time is `unix_secs` at `now` (signature windows).
    pub fn set_wall_clock(&mut self, now: Instant, unix_secs: u64) {
        self.wall.set(now, unix_secs);
    }

    /// A response (already validated by `wire`; source port 5353 or a
    /// legacy-unicast answer to one of our own queries) received on `from`.
    /// Caches answers and additionals, applies cache-flush (s10.2),
    /// goodbyes (s10.1), NSEC (address types only), completes queries.
    /// With a trust policy, only records of RRsets that validated in this
    /// packet count (`querier/validate.rs`).
    pub fn handle_response(&mut self, now: Instant, from: Received, packet: &Packet<'_>) {
        let wall = self.wall.at(now);
        let verdicts = self
            .trust
            .as_ref()
            .map(|t| validate::packet(t, wall, now, &mut self.verified, packet));
        if let Some(v) = &verdicts {
            self.note_refusals(now, packet, v);
        }
        for (i, rr) in packet
            .answers
            .iter()
            .chain(packet.additional_records.iter())
            .enumerate()
        {
            let rtype = u16::from(rr.rdata.type_code());
            match rtype {
                T_PTR | T_SRV | T_TXT | T_A | T_AAAA | T_NSEC => {}
                _ => continue, // nothing we look up: not worth a cache slot
            }
            let capped;
            let rr = match verdicts.as_ref().map(|v| &v[i]) {
                None => rr,
                Some(Ok(max_ttl)) => {
                    let mut r = rr.clone();
                    r.ttl = r.ttl.min(*max_ttl);
                    capped = r;
                    &capped
                }
                Some(Err(_)) => continue,
            };
            let outcome = self.cache.insert(now, rr, from.iface);
            if rtype == T_NSEC && matches!(outcome, Inserted::New(_) | Inserted::Renewed(_)) {
                self.apply_nsec(now, from.iface, rr);
            }
        }
        self.progress(now);
    }

    /// RFC 6762 s6.1: an NSEC record asserts that its name has no record of
    /// the types missing from its bitmap. Applied to A and AAAA only: a
    /// responder may list only the address types of a name that also owns
    /// SRV and TXT (the reference does), so it says nothing about those.
    /// Denied address records received earlier on the same interface go
    /// like a cache flush.
    fn apply_nsec(&mut self, now: Instant, iface: IfIndex, rr: &simple_dns::ResourceRecord<'_>) {
        let RData::NSEC(nsec) = &rr.rdata else { return };
        if rr.ttl == 0 {
            return;
        }
        for t in [T_A, T_AAAA] {
            if nsec.contains(simple_dns::TYPE::from(t)) {
                continue;
            }
            let denied: Vec<_> = self
                .cache
                .set(&rr.name, t)
                .filter(|(_, r)| {
                    r.live(now)
                        && r.iface == iface
                        && now.saturating_duration_since(r.received) > ONE_SECOND_GRACE
                        && r.expires > now + ONE_SECOND_GRACE
                })
                .map(|(id, _)| id)
                .collect();
            for id in denied {
                self.cache.expire_within_one_second(now, id);
            }
        }
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        self.cache.expire(now, |_| {});
        // One-shot queries: deadlines, then retries.
        let mut events = Vec::new();
        self.queries.retain(|q| {
            if now < q.deadline {
                return true;
            }
            if !q.done {
                events.push(match &q.refused {
                    Some(why) => Event::QueryRefused {
                        query: q.id,
                        why: format!("no answer for {} validated: {why}", q.display),
                    },
                    None => Event::QueryTimedOut(q.id),
                });
            }
            false
        });
        self.events.extend(events);
        let mut asked: Vec<usize> = Vec::new();
        for i in 0..self.queries.len() {
            let q = &self.queries[i];
            if q.done || now < q.next_send {
                continue;
            }
            // Several queries for one name due together send one packet.
            let twin_sent = asked.iter().any(|&j| self.queries[j].name == q.name);
            let asks = if twin_sent {
                Vec::new()
            } else {
                self.query_asks(now, q)
            };
            asked.push(i);
            let q = &mut self.queries[i];
            q.interval = q.interval.saturating_mul(2).min(MAX_QUERY_INTERVAL);
            q.next_send = now + q.interval;
            self.send(now, None, &asks);
        }
        // Browses: periodic PTR queries.
        for bi in 0..self.browses.len() {
            if now >= self.browses[bi].next_send {
                let mut asks = Vec::new();
                let (cache, browse) = (&self.cache, &mut self.browses[bi]);
                browse.periodic_asks(cache, now, &mut asks);
                self.send(now, None, &asks);
            }
        }
        // RFC 6762 s5.2: refresh records still wanted.
        let mut asks = Vec::new();
        while let Some(id) = self.cache.pop_refresh(now) {
            let Some(rec) = self.cache.get(id) else {
                continue;
            };
            let rtype = rec.rtype();
            if self.watched(now, &rec.rr.name, rtype) {
                asks.push(Ask::qm(&rec.rr.name, rtype));
            }
        }
        self.send(now, None, &asks);
        self.progress(now);
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        let mut next = self.cache.next_expiry();
        let mut consider = |t: Instant| next = Some(next.map_or(t, |n: Instant| n.min(t)));
        if let Some(t) = self.cache.next_refresh() {
            consider(t);
        }
        for q in &self.queries {
            consider(q.deadline);
            if !q.done {
                consider(q.next_send);
            }
        }
        for b in &self.browses {
            consider(b.next_timeout());
        }
        next
    }

    pub fn poll_query(&mut self) -> Option<OutQuery> {
        self.out.pop_front()
    }

    /// With a trust policy every service reported was built from the
    /// cache, where only validated records go: it is marked validated.
    pub fn poll_event(&mut self) -> Option<Event> {
        let mut ev = self.events.pop_front()?;
        if self.trust.is_some() {
            if let Event::Resolved { service, .. } | Event::BrowseAdded { service, .. } = &mut ev {
                service.validated = true;
            }
        }
        Some(ev)
    }

    /// Keep, for each lookup still waiting, the furthest-going failure
    /// among the records of `packet` that concern it.
    fn note_refusals(&mut self, now: Instant, packet: &Packet<'_>, v: &validate::Verdicts) {
        if v.iter().all(Result::is_ok) {
            return;
        }
        for q in self.queries.iter_mut().filter(|q| !q.done) {
            let target = assemble::srv(&self.cache, now, &q.name).map(|s| &s.target);
            if let Some(e) = validate::concerning(packet, v, &q.name, target) {
                let better = q
                    .refused
                    .as_ref()
                    .is_none_or(|b| super::signed::rank(&e) >= super::signed::rank(b));
                if better {
                    q.refused = Some(e);
                }
            }
        }
    }

    /// One-shot lookup of `instance` until `deadline`. Answered at once when
    /// the cache holds a complete answer; otherwise the first query goes out
    /// now from the ephemeral port (RFC 6762 s5.1), to be answered by
    /// unicast to that port (s6.7). Not QU: the QU bit means nothing in a
    /// legacy query, whose answer is unicast anyway.
    pub fn query(
        &mut self,
        now: Instant,
        instance: &str,
        deadline: Instant,
    ) -> Result<QueryId, EngineError> {
        let name = parse_name(instance)?;
        let id = QueryId(self.next_id);
        self.next_id += 1;
        let mut q = Query {
            id,
            display: instance.to_string(),
            name,
            deadline,
            next_send: now + FIRST_RETRY,
            interval: FIRST_RETRY,
            done: false,
            asked_target: None,
            refused: None,
        };
        let twin = self
            .queries
            .iter()
            .find(|o| !o.done && o.name == q.name && now < o.deadline);
        if let Some(service) = complete(&self.cache, now, &q.name, &q.display) {
            q.done = true;
            self.events
                .push_back(Event::Resolved { query: id, service });
        } else if let Some(twin) = twin {
            // The same name is already being asked: ride on its schedule
            // rather than ask twice within a second (RFC 6762 s5.2).
            q.next_send = twin.next_send;
            q.interval = twin.interval;
            q.asked_target = twin.asked_target.clone();
        } else {
            let asks = self.query_asks(now, &q);
            q.asked_target = assemble::srv(&self.cache, now, &q.name).map(|s| s.target.clone());
            self.send_one_shot(&asks);
        }
        self.queries.push(q);
        Ok(id)
    }

    /// Questions of a one-shot query: SRV, TXT, A and AAAA of the instance
    /// (the reference publishes the addresses under the instance name when
    /// the endpoint is an IP literal), and A/AAAA of a known SRV target.
    fn query_asks(&self, now: Instant, q: &Query) -> Vec<Ask> {
        let mut asks = Vec::with_capacity(6);
        for t in [T_SRV, T_TXT, T_A, T_AAAA] {
            if (t == T_A || t == T_AAAA) && self.cache.denied(now, &q.name, t) {
                continue;
            }
            asks.push(Ask::qm(&q.name, t));
        }
        if let Some(target) = assemble::srv(&self.cache, now, &q.name).map(|s| &s.target) {
            for t in [T_A, T_AAAA] {
                if !self.cache.denied(now, target, t) {
                    asks.push(Ask::qm(target, t));
                }
            }
        }
        asks
    }

    pub fn cancel_query(&mut self, id: QueryId) {
        self.queries.retain(|q| q.id != id);
    }

    /// A complete answer (SRV, TXT, at least one address of the target)
    /// from the cache, or None. A record said goodbye to counts as gone.
    pub fn resolve_cached(&self, now: Instant, instance: &str) -> Option<ResolvedService> {
        let name = Name::new(instance).ok()?;
        let mut s = complete(&self.cache, now, &name, instance)?;
        s.validated = self.trust.is_some();
        Some(s)
    }

    /// Continuous browse of a service type (PTR), RFC 6763 s4.
    pub fn browse(&mut self, now: Instant, service_type: &str) -> Result<BrowseId, EngineError> {
        let name = parse_name(service_type)?;
        let id = BrowseId(self.next_id);
        self.next_id += 1;
        let delay = self.rng.millis(FIRST_QUERY_DELAY_MS);
        self.browses.push(Browse::new(id, name, now + delay));
        self.progress(now);
        Ok(id)
    }

    pub fn stop_browse(&mut self, id: BrowseId) {
        self.browses.retain(|b| b.id != id);
    }

    pub fn flush_cache(&mut self) {
        self.cache.clear();
    }

    pub fn cache_len(&self) -> usize {
        self.cache.len()
    }

    fn send(&mut self, now: Instant, iface: Option<IfIndex>, asks: &[Ask]) {
        for payload in packet::build(&self.cache, now, asks) {
            self.out.push_back(OutQuery {
                iface,
                payload,
                ephemeral: false,
            });
        }
    }

    /// RFC 6762 s5.1: a one-shot query from the ephemeral port, with a
    /// random non-zero ID (s6.7: the legacy answer echoes it; the driver
    /// takes only answers carrying an ID it sent from that socket).
    fn send_one_shot(&mut self, asks: &[Ask]) {
        let id = self.rng.in_range(1..=0xffff) as u16;
        if let Some(payload) = packet::build_one_shot(asks, id) {
            self.out.push_back(OutQuery {
                iface: None,
                payload,
                ephemeral: true,
            });
        }
    }

    /// Whether some running query or browse needs records of `name`/`rtype`.
    fn watched(&self, now: Instant, name: &Name<'_>, rtype: u16) -> bool {
        let by_query = self.queries.iter().any(|q| {
            now < q.deadline
                && match rtype {
                    T_SRV | T_TXT => q.name == *name,
                    T_A | T_AAAA => {
                        q.name == *name
                            || assemble::srv(&self.cache, now, &q.name)
                                .is_some_and(|s| s.target == *name)
                    }
                    _ => false,
                }
        });
        by_query || self.browses.iter().any(|b| b.watches(name, rtype))
    }

    /// After the cache changed: complete queries, ask at once for the
    /// addresses of an SRV target that came without them, update browses.
    fn progress(&mut self, now: Instant) {
        let mut followups: Vec<Vec<Ask>> = Vec::new();
        for q in self.queries.iter_mut().filter(|q| !q.done) {
            let p = gather(&self.cache, now, &q.name, &q.display);
            match p.service {
                Some(service) if !service.addresses.is_empty() => {
                    q.done = true;
                    self.events.push_back(Event::Resolved {
                        query: q.id,
                        service,
                    });
                }
                _ => {
                    let Some(target) = p.target else { continue };
                    if q.asked_target.as_ref() == Some(target) || *target == q.name {
                        continue;
                    }
                    if !assemble::addresses(&self.cache, now, target).is_empty() {
                        continue;
                    }
                    let asks = [T_A, T_AAAA]
                        .into_iter()
                        .filter(|t| !self.cache.denied(now, target, *t))
                        .map(|t| Ask::qm(target, t))
                        .collect();
                    followups.push(asks);
                    q.asked_target = Some(target.clone());
                }
            }
        }
        for asks in followups {
            self.send(now, None, &asks);
        }
        let mut events = Vec::new();
        let mut asks = Vec::new();
        for b in &mut self.browses {
            b.update(&self.cache, now, &mut events, &mut asks);
        }
        self.events.extend(events);
        self.send(now, None, &asks);
    }
}

//! Responder (RFC 6762 s8-s10, RFC 6763): probe, announce, answer, defend,
//! goodbye. Sans-IO like the core: fed time and parsed packets, it queues
//! `Transmit`s and `Event`s.
//!
//! Records are kept as simple-dns `ResourceRecord`s; the cache-flush bit of
//! our own records marks the unique ones (RFC 6762 s10.2).

mod answer;
mod conflict;
mod goodbye;
mod probe;
pub(crate) mod sign;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::Instant;

use simple_dns::{Name, Packet, PacketFlag, ResourceRecord};

use super::rng::Rng;
use super::timers::{
    ANNOUNCEMENTS, ANNOUNCE_INTERVAL, CONFLICT_BACKOFF, GOODBYES, GOODBYE_INTERVAL, PROBES,
    PROBE_DELAY_MS, PROBE_INTERVAL,
};
use super::*;
use crate::wire::MAX_PACKET;
use crate::wire::{self, T_A, T_AAAA};

/// `_services._dns-sd._udp.local.` (RFC 6763 s9).
pub const SERVICES_META: &str = "_services._dns-sd._udp.local.";

/// One interface and address family: the unit on which we probe, announce
/// and rate-limit.
pub(crate) type Link = (IfIndex, Family);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// `n` probes sent so far.
    Probing(u8),
    /// `n` announcements sent so far.
    Announcing(u8),
    Live,
}

#[derive(Clone, Debug)]
struct LinkState {
    phase: Phase,
    next: Option<Instant>,
    /// Addresses of this family on the interface when we started here.
    addrs: Vec<IfAddr>,
    /// Announced here at least once (peers may cache the records), even if
    /// probing again now after a conflict (RFC 6762 s9).
    claimed: bool,
}

impl LinkState {
    fn probing(now: Instant, addrs: Vec<IfAddr>) -> LinkState {
        LinkState {
            phase: Phase::Probing(0),
            next: Some(now),
            addrs,
            claimed: false,
        }
    }
    /// Past probing: our records are answered and defended on this link.
    fn announced(&self) -> bool {
        !matches!(self.phase, Phase::Probing(_))
    }
}

struct Reg {
    /// Every record we publish; unique ones carry the cache-flush bit.
    records: Vec<ResourceRecord<'static>>,
    /// Names whose records are unique to us, probed and defended.
    owned: Vec<Name<'static>>,
    links: BTreeMap<Link, LinkState>,
    registered: bool,
    /// Probing again after a conflicting record (RFC 6762 s9): an answer
    /// now takes the name away.
    contested: bool,
}

impl Reg {
    fn owns(&self, name: &Name<'_>) -> bool {
        self.owned.iter().any(|n| n == name)
    }
    fn unique_of<'s>(
        &'s self,
        name: &'s Name<'_>,
    ) -> impl Iterator<Item = &'s ResourceRecord<'static>> + 's {
        self.records
            .iter()
            .filter(move |r| r.cache_flush && &r.name == name)
    }
}

/// A queued packet; `last_of` marks the final goodbye of a registration.
struct Out {
    tx: Transmit,
    last_of: Option<RegId>,
}

/// Goodbyes still to repeat (RFC 6762 s10.1).
struct Farewell {
    why: Bye,
    at: Instant,
    /// Rounds still to send (one packet set per link each).
    left: u8,
    links: Vec<Link>,
    byes: Vec<ResourceRecord<'static>>,
}

/// Why a farewell is said.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Bye {
    /// The registration was withdrawn: on every link it was announced on;
    /// `Event::Withdrawn` after the last round.
    Withdrawn(RegId),
    /// We left the link (its last address of the family went) while the
    /// interface stays: every record announced there, so that peers there
    /// stop using what no longer reaches us.
    Left,
}

/// A multicast answer held back by the shared-record delay (RFC 6762 s6).
struct Delayed {
    at: Instant,
    link: Link,
    answers: Vec<ResourceRecord<'static>>,
}

pub struct Responder {
    ifaces: Vec<Interface>,
    regs: BTreeMap<RegId, Reg>,
    next_id: u64,
    rng: Rng,
    out: VecDeque<Out>,
    events: VecDeque<Event>,
    delayed: Vec<Delayed>,
    /// Withdrawn registrations whose goodbyes are repeated.
    farewells: Vec<Farewell>,
    /// When each record was last multicast on each link (RFC 6762 s5.4, s6.2).
    last_mcast: HashMap<(Link, ResourceRecord<'static>), Instant>,
    /// Unicast answers per source in the current second (flood bound).
    unicast_sent: HashMap<std::net::IpAddr, (Instant, u32)>,
    /// Recent conflicts and lost tie-breaks (RFC 6762 s8.1 back-off).
    conflicts: VecDeque<Instant>,
    /// Signs every response when the engine was given a key.
    signer: Option<sign::Signer>,
}

impl Responder {
    pub fn new(seed: u64, key: Option<crate::trust::SigningKeyRef>) -> Responder {
        Responder {
            ifaces: Vec::new(),
            regs: BTreeMap::new(),
            next_id: 1,
            rng: Rng::new(seed),
            out: VecDeque::new(),
            events: VecDeque::new(),
            delayed: Vec::new(),
            farewells: Vec::new(),
            last_mcast: HashMap::new(),
            unicast_sent: HashMap::new(),
            conflicts: VecDeque::new(),
            signer: key.map(sign::Signer::new),
        }
    }

    /// The wall time is `unix_secs` at `now` (signature windows).
    pub fn set_wall_clock(&mut self, now: Instant, unix_secs: u64) {
        if let Some(s) = &mut self.signer {
            s.wall.set(now, unix_secs);
        }
    }

    fn links(&self) -> Vec<(Link, Vec<IfAddr>)> {
        let mut v = Vec::new();
        for i in &self.ifaces {
            for f in [Family::V4, Family::V6] {
                let addrs: Vec<IfAddr> = i
                    .addrs
                    .iter()
                    .copied()
                    .filter(|a| Family::of(&a.addr) == f)
                    .collect();
                if !addrs.is_empty() {
                    v.push(((i.index, f), addrs));
                }
            }
        }
        v
    }

    pub(crate) fn iface(&self, index: IfIndex) -> Option<&Interface> {
        self.ifaces.iter().find(|i| i.index == index)
    }

    /// New interfaces, or new addresses on one, start probing there (RFC 6762
    /// s8, s13); gone ones are forgotten.
    pub fn set_interfaces(&mut self, now: Instant, ifaces: Vec<Interface>) {
        self.ifaces = ifaces;
        let links = self.links();
        let ids: Vec<RegId> = self.regs.keys().copied().collect();
        let mut left: BTreeMap<Link, Vec<ResourceRecord<'static>>> = BTreeMap::new();
        for id in ids {
            let reg = self.regs.get_mut(&id).expect("id from keys");
            let ifaces = &self.ifaces;
            reg.links.retain(|l, st| {
                let stays = links.iter().any(|(k, _)| k == l);
                if !stays && (st.announced() || st.claimed) && can_bye_left(ifaces, *l) {
                    let byes = left.entry(*l).or_default();
                    for r in &reg.records {
                        if !byes
                            .iter()
                            .any(|b| b.name == r.name && wire::same_rdata(b, r))
                        {
                            byes.push(r.clone());
                        }
                    }
                }
                stays
            });
            let mut fresh = Vec::new();
            for (link, addrs) in &links {
                match reg.links.get_mut(link) {
                    Some(st) if addrs.iter().all(|a| st.addrs.contains(a)) => {
                        st.addrs = addrs.clone()
                    }
                    _ => fresh.push((*link, addrs.clone())),
                }
            }
            for (link, addrs) in fresh {
                let first = self.first_probe(now);
                let reg = self.regs.get_mut(&id).expect("id from keys");
                reg.links.insert(link, LinkState::probing(first, addrs));
            }
        }
        let ids: Vec<RegId> = self.regs.keys().copied().collect();
        for id in ids {
            self.check_registered(id);
        }
        let live: Vec<Link> = links.iter().map(|(l, _)| *l).collect();
        self.last_mcast.retain(|(l, _), _| live.contains(l));
        self.delayed.retain(|d| live.contains(&d.link));
        // A withdrawal's goodbyes go on the links still here (a departed
        // one gets its own below, where the kernel can still send); a
        // departed link's stop when we are back there (probing again).
        for f in &mut self.farewells {
            match f.why {
                Bye::Withdrawn(_) => f.links.retain(|l| live.contains(l)),
                Bye::Left => f.links.retain(|l| !live.contains(l)),
            }
        }
        let (gone, keep): (Vec<Farewell>, Vec<Farewell>) =
            self.farewells.drain(..).partition(|f| f.links.is_empty());
        self.farewells = keep;
        for f in gone {
            self.finish_farewell(f.why);
        }
        for (link, byes) in left {
            self.farewells.push(Farewell {
                why: Bye::Left,
                at: now,
                left: GOODBYES,
                links: vec![link],
                byes,
            });
        }
        self.send_farewells(now);
    }

    /// Check and add a registration. Probing starts on every link now up; with
    /// none, it waits for `set_interfaces`.
    pub fn register(&mut self, now: Instant, info: ServiceInfo) -> Result<RegId, EngineError> {
        let (records, owned) = build_records(&info)?;
        let instance = &owned[0];
        if self.regs.values().any(|r| r.owned[0] == *instance) {
            return Err(EngineError::Duplicate(info.instance.clone()));
        }
        // Everything must fit one announcement (RFC 6762 s17), signed
        // when we sign.
        let mut p = Packet::new_reply(0);
        p.answers = records.clone();
        if let Some(signer) = &self.signer {
            signer.check(&records)?;
            self.sign_packet(now, None, &mut p);
        }
        match p.build_bytes_vec_compressed() {
            Ok(b) if b.len() <= MAX_PACKET => {}
            _ => {
                return Err(EngineError::InvalidRecord(
                    "records do not fit a 9000-byte packet",
                ))
            }
        }
        let id = RegId(self.next_id);
        self.next_id += 1;
        let mut links = BTreeMap::new();
        for (link, addrs) in self.links() {
            let first = self.first_probe(now);
            links.insert(link, LinkState::probing(first, addrs));
        }
        self.regs.insert(
            id,
            Reg {
                records,
                owned,
                links,
                registered: false,
                contested: false,
            },
        );
        Ok(id)
    }

    /// Does a registration of ours publish exactly this record?
    pub(crate) fn is_ours(&self, r: &ResourceRecord<'_>) -> bool {
        self.regs.values().any(|reg| {
            reg.records
                .iter()
                .any(|o| o.name == r.name && wire::same_rdata(o, r))
        })
    }

    /// Does a registration announced on `link` publish exactly this record?
    fn is_live(&self, link: Link, r: &ResourceRecord<'_>) -> bool {
        self.regs.values().any(|reg| {
            reg.links.get(&link).is_some_and(|s| s.announced())
                && reg
                    .records
                    .iter()
                    .any(|o| o.name == r.name && wire::same_rdata(o, r))
        })
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        if let Some(s) = &mut self.signer {
            s.handle_timeout(now);
        }
        self.send_farewells(now);
        let ids: Vec<RegId> = self.regs.keys().copied().collect();
        for id in ids {
            let due: Vec<Link> = match self.regs.get(&id) {
                Some(reg) => reg
                    .links
                    .iter()
                    .filter(|(_, s)| s.next.is_some_and(|t| t <= now))
                    .map(|(l, _)| *l)
                    .collect(),
                None => continue,
            };
            for link in due {
                self.step(now, id, link);
            }
            self.check_registered(id);
        }
        let (fire, keep): (Vec<Delayed>, Vec<Delayed>) =
            self.delayed.drain(..).partition(|d| d.at <= now);
        self.delayed = keep;
        for d in fire {
            // Only what is still ours, and announced there, when the delay
            // ends (not while probing again, RFC 6762 s9).
            let answers: Vec<_> = d
                .answers
                .into_iter()
                .filter(|r| self.is_live(d.link, r))
                .collect();
            if !answers.is_empty() {
                let mut p = self.response_with_additionals(answers);
                self.sign_packet(now, Some(d.link), &mut p);
                self.send_multicast(now, d.link, &p, true);
            }
        }
    }

    /// One timer step of one registration on one link.
    fn step(&mut self, now: Instant, id: RegId, link: Link) {
        let Some(reg) = self.regs.get_mut(&id) else {
            return;
        };
        let Some(st) = reg.links.get_mut(&link) else {
            return;
        };
        let packet = match st.phase {
            Phase::Probing(n) if n < PROBES => {
                st.phase = Phase::Probing(n + 1);
                st.next = Some(now + PROBE_INTERVAL);
                probe::probe_packet(reg)
            }
            Phase::Probing(_) | Phase::Announcing(_) => {
                let n = match st.phase {
                    Phase::Announcing(n) => n,
                    _ => 0,
                };
                st.claimed = true;
                if n + 1 >= ANNOUNCEMENTS {
                    st.phase = Phase::Live;
                    st.next = None;
                } else {
                    st.phase = Phase::Announcing(n + 1);
                    st.next = Some(now + ANNOUNCE_INTERVAL);
                }
                let mut p = Packet::new_reply(0);
                p.set_flags(PacketFlag::AUTHORITATIVE_ANSWER);
                p.answers = reg.records.clone();
                p
            }
            Phase::Live => {
                st.next = None;
                return;
            }
        };
        let mut packet = packet;
        self.sign_packet(now, Some(link), &mut packet);
        let is_announce = packet.has_flags(PacketFlag::RESPONSE);
        self.send_multicast(now, link, &packet, is_announce);
    }

    fn check_registered(&mut self, id: RegId) {
        let Some(reg) = self.regs.get_mut(&id) else {
            return;
        };
        if reg.links.is_empty() || !reg.links.values().all(|s| s.announced()) {
            return;
        }
        // Out of a re-probe unanswered: ours again, nothing to report.
        reg.contested = false;
        if !reg.registered {
            reg.registered = true;
            self.events.push_back(Event::Registered(id));
        }
    }

    /// Queue `p` (split to fit) to the group of `link`; records its answers
    /// as multicast now when `track`. Returns the number of packets queued.
    fn send_multicast(&mut self, now: Instant, link: Link, p: &Packet<'_>, track: bool) -> usize {
        if track {
            for r in &p.answers {
                if !crate::engine::signed::is_trust_type(wire::rr_type(r)) {
                    self.last_mcast.insert((link, r.clone().into_owned()), now);
                }
            }
        }
        let payloads = self.payloads(p);
        let n = payloads.len();
        for payload in payloads {
            self.out.push_back(Out {
                tx: Transmit {
                    iface: link.0,
                    dst: link.1.group(),
                    payload,
                    from_ephemeral: false,
                },
                last_of: None,
            });
        }
        n
    }

    /// The datagrams of `p`: split keeping RRsets with their RRSIGs when
    /// signed.
    fn payloads(&self, p: &Packet<'_>) -> Vec<Vec<u8>> {
        let signed = p
            .answers
            .iter()
            .any(|r| wire::rr_type(r) == crate::trust::rtype::RRSIG);
        if self.signer.is_some() && signed {
            sign::build_signed(p)
        } else {
            wire::build(p)
        }
    }

    fn send_unicast(&mut self, iface: IfIndex, dst: SocketAddr, p: &Packet<'_>) {
        for payload in self.payloads(p) {
            self.out.push_back(Out {
                tx: Transmit {
                    iface,
                    dst,
                    payload,
                    from_ephemeral: false,
                },
                last_of: None,
            });
        }
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        let links = self
            .regs
            .values()
            .flat_map(|r| r.links.values().filter_map(|s| s.next));
        let resign = self.signer.as_ref().and_then(|s| s.next_resign());
        links
            .chain(resign)
            .chain(self.delayed.iter().map(|d| d.at))
            .chain(self.farewells.iter().map(|f| f.at))
            .min()
    }

    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        let o = self.out.pop_front()?;
        if let Some(id) = o.last_of {
            self.events.push_back(Event::Withdrawn(id));
        }
        Some(o.tx)
    }

    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When a new probe sequence may start: after the random probe delay,
    /// or the back-off once conflicts came in a burst.
    pub(crate) fn first_probe(&mut self, now: Instant) -> Instant {
        if self.backed_off(now) {
            now + CONFLICT_BACKOFF
        } else {
            now + self.rng.millis(PROBE_DELAY_MS)
        }
    }
}

/// Whether goodbyes can still reach a link we left (`ifaces`: the
/// interfaces now). Measured on Linux (docs/DESIGN.md, "Goodbyes on a link
/// that is leaving"): the interface must still be listed (deleted: no
/// device; set down: ENETUNREACH; no carrier: nobody hears it), and only
/// IPv4 can still send there: with the last IPv4 address gone the kernel
/// sends from 0.0.0.0 (or another interface's address), which receivers
/// accept for 224.0.0.251; an IPv6 link leaves only when its link-local
/// address went too, and then the send fails (EADDRNOTAVAIL).
fn can_bye_left(ifaces: &[Interface], link: Link) -> bool {
    link.1 == Family::V4 && ifaces.iter().any(|i| i.index == link.0)
}

/// The records of a service (RFC 6763 s4-s9) and the names it owns.
fn build_records(
    info: &ServiceInfo,
) -> Result<(Vec<ResourceRecord<'static>>, Vec<Name<'static>>), EngineError> {
    let st = wire::name_from_str(&info.service_type)?;
    let inst = wire::instance_name(&info.instance, &info.service_type)?;
    // SPEC 3.4: an IP-literal endpoint's target is the instance name itself;
    // take its labels, not its text (the first label may hold dots).
    let target = if info.target == info.instance {
        inst.clone()
    } else {
        wire::name_from_str(&info.target)?
    };
    let meta = wire::name_from_str(SERVICES_META)?;
    let t = info.ttls;
    // Addresses are ours to defend when the target is the instance name or
    // a .local. name (RFC 6762 s3); an ordinary DNS host name is shared.
    let own_target = target == inst || target.is_link_local();
    let mut records = vec![
        wire::ptr(&st, &inst, t.ptr),
        wire::ptr(&meta, &st, t.ptr),
        wire::srv(&inst, &target, info.port, t.srv),
        wire::txt(&inst, &info.txt, t.txt)?,
    ];
    let mut seen = Vec::new();
    for a in &info.addresses {
        if !seen.contains(a) {
            seen.push(*a);
            records.push(wire::addr(&target, *a, t.addr, own_target));
        }
    }
    let mut owned = vec![inst.clone()];
    if own_target && target != inst {
        owned.push(target);
    }
    Ok((records, owned))
}

/// Types present at `name` among `records`, for NSEC (RFC 6762 s6.1).
pub(crate) fn types_at(records: &[ResourceRecord<'static>], name: &Name<'_>) -> Vec<u16> {
    let mut v: Vec<u16> = records
        .iter()
        .filter(|r| &r.name == name)
        .map(wire::rr_type)
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

pub(crate) fn is_addr(t: u16) -> bool {
    t == T_A || t == T_AAAA
}

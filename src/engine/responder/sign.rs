//! Signing what the responder sends (DNSSEC on mDNS, with the key the
//! engine was given).
//!
//! Every response gets, per RRset in it (SRV, TXT, A/AAAA, PTR, NSEC), an
//! RRSIG by the key, signer name the key's zone (`local.`), in the same
//! section as its RRset; and in the additional section the key's DNSKEY
//! with its own RRSIG, so that a querier whose anchor is a DS can tie the
//! key to it from the one packet.
//!
//! - **Flush bits.** The RRSIG over a unique RRset carries the cache-flush
//!   bit like its RRset; over a shared one (PTR) it does not. The DNSKEY
//!   at `local.` is shared (several responders publish theirs there), and
//!   so is its RRSIG. RFC 6762 s10.2 flushes by name, type and class, which
//!   would let an RRSIG(SRV) flush the RRSIG(TXT) at the same name in a
//!   cache that keeps RRSIGs alone. Our querier keeps none: it validates
//!   each RRset with the RRSIGs of the packet it came in, and an RRSIG's
//!   bit then affects only the records it covers (theirs carry the bit
//!   too).
//! - **Whole RRsets.** A signature covers an RRset as a unit, so a packet
//!   with part of one of our RRsets (known-answer suppression left one
//!   address out) gets the rest of it from the records announced on that
//!   link, and the split of a large response keeps each RRset with its
//!   RRSIGs (and repeats the DNSKEY in every part).
//! - **Probes stay unsigned.** A probe asks whether a name is free; the
//!   tie-break (RFC 6762 s8.2) compares the proposed records byte by byte,
//!   and a signature in the authority section would decide it by a random
//!   ECDSA value. Nor would it protect anything: any host can answer a
//!   probe and deny us the name, signed or not; that is denial of service,
//!   which signing does not prevent. What signing protects is the answer.
//! - **Goodbyes are signed.** The TTL-0 records of a goodbye come with
//!   TTL-0 RRSIGs made over the records' real TTL (the RRSIG's original
//!   TTL), so a validating querier drops our records on our word only.
//! - **Validity.** Inception [`BACKDATE`] (1 h) before now, expiration
//!   [`LIFETIME`] (4 h) after now; signatures are remade every
//!   [`RESIGN_EVERY`] (1 h), so whatever is sent has at least 3 h left.
//!   3 h is more than the longest TTL we publish (PTR and TXT: 4500 s), so
//!   a record cached from our last answer never outlives its signature
//!   (RFC 4035 s5.3.3 would otherwise shorten its TTL). The agent validating
//!   may boot with a clock hours off; the backdated inception covers one
//!   up to 1 h behind, and the validator's skew (`trust_clock_skew`,
//!   default 1 h) widens both ends. A captured answer replays for at most
//!   4 h plus that skew. A jump of the wall clock (NTP setting it) outside
//!   the window remakes the signatures at once.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use simple_dns::{Packet, PacketFlag, ResourceRecord};

use super::{Link, Responder};
use crate::engine::signed::{self, dnskey_record, rrsig_record, set_key, WallClock};
use crate::engine::EngineError;
use crate::trust::{self, SigningKeyRef};
use crate::wire::{self, MAX_PACKET};

/// Inception this long before now.
pub const BACKDATE: u32 = 3600;
/// Expiration this long after now.
pub const LIFETIME: u32 = 4 * 3600;
/// Signatures are remade this often.
pub const RESIGN_EVERY: Duration = Duration::from_secs(3600);
/// TTL of the DNSKEY (and its RRSIG): as long as the PTR's (RFC 6762
/// s10: records not tied to a host name get 75 minutes).
pub const DNSKEY_TTL: u32 = 4500;
/// Signatures kept for reuse at most; past it the memo starts over.
const MEMO_MAX: usize = 1024;

/// The key, the current validity window and the signatures made in it.
pub(crate) struct Signer {
    key: SigningKeyRef,
    /// (inception, expiration) of the signatures now made, and the
    /// `Instant` at which they are remade.
    window: Option<(u32, u32, Instant)>,
    /// Signatures by RRset (canonical owner, type, original TTL, RDATA).
    memo: HashMap<Vec<u8>, trust::Rrsig>,
    pub(crate) wall: WallClock,
}

impl Signer {
    pub fn new(key: SigningKeyRef) -> Signer {
        Signer {
            key,
            window: None,
            memo: HashMap::new(),
            wall: WallClock::default(),
        }
    }

    /// When the signatures are next remade (None: none made yet).
    pub fn next_resign(&self) -> Option<Instant> {
        self.window.map(|w| w.2)
    }

    /// The re-sign timer: past it, the next response is signed afresh.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.window.is_some_and(|w| now >= w.2) {
            self.window = None;
            self.memo.clear();
        }
    }

    /// The registration's records all lie in the key's zone.
    pub fn check(&self, records: &[ResourceRecord<'static>]) -> Result<(), EngineError> {
        let zone = self.key.owner();
        for r in records {
            let inside = wire::trust_name(&r.name).is_some_and(|n| n.is_within(zone));
            if !inside {
                return Err(EngineError::Signing(format!(
                    "the signing key is for zone {zone}, which does not hold {}.; \
                     mDNS records are signed by a key for local.",
                    r.name
                )));
            }
        }
        Ok(())
    }

    /// The current window, made anew when none is in force or the wall
    /// clock left it.
    fn window(&mut self, now: Instant) -> (u32, u32) {
        let wall = self.wall.at(now);
        if let Some((inc, exp, _)) = self.window {
            let (inc, exp) = (u64::from(inc), u64::from(exp));
            // Still inside, with at least the re-sign period left.
            let fresh = (inc..exp).contains(&(wall as u32 as u64))
                && exp.saturating_sub(wall as u32 as u64) > RESIGN_EVERY.as_secs();
            if !fresh {
                self.window = None;
                self.memo.clear();
            }
        }
        if self.window.is_none() {
            let inception = (wall as u32).wrapping_sub(BACKDATE);
            let expiration = (wall as u32).wrapping_add(LIFETIME);
            self.window = Some((inception, expiration, now + RESIGN_EVERY));
        }
        let (i, e, _) = self.window.expect("set above");
        (i, e)
    }

    /// The RRSIG over `rrset` (records of one owner and type, TTLs as
    /// published), from the memo when made in this window.
    fn sign(&mut self, now: Instant, rrset: &[trust::Rr]) -> Option<trust::Rrsig> {
        let (inception, expiration) = self.window(now);
        let first = rrset.first()?;
        let mut key = first.owner.canonical_wire();
        key.extend_from_slice(&first.rtype.to_be_bytes());
        key.extend_from_slice(&first.ttl.to_be_bytes());
        let mut rdatas: Vec<&Vec<u8>> = rrset.iter().map(|r| &r.rdata).collect();
        rdatas.sort();
        for d in rdatas {
            key.extend_from_slice(&(d.len() as u16).to_be_bytes());
            key.extend_from_slice(d);
        }
        if let Some(s) = self.memo.get(&key) {
            return Some(s.clone());
        }
        let zone = self.key.owner().clone();
        let sig = self
            .key
            .sign_rrset(rrset, &zone, inception, expiration)
            .ok()?;
        if self.memo.len() >= MEMO_MAX {
            self.memo.clear();
        }
        self.memo.insert(key, sig.clone());
        Some(sig)
    }
}

/// One RRset of a packet section: its records' indices.
struct Group {
    key: (String, u16),
    members: Vec<usize>,
}

fn groups(records: &[ResourceRecord<'_>]) -> Vec<Group> {
    let mut out: Vec<Group> = Vec::new();
    for (i, r) in records.iter().enumerate() {
        if signed::is_trust_type(wire::rr_type(r)) {
            continue;
        }
        let key = set_key(r);
        match out.iter_mut().find(|g| g.key == key) {
            Some(g) => g.members.push(i),
            None => out.push(Group {
                key,
                members: vec![i],
            }),
        }
    }
    out
}

impl Responder {
    /// Sign response `p` in place (no key, or a query: unchanged).
    /// `link`: the records announced there complete a partial RRset (None
    /// for goodbyes, which carry whole RRsets already). TTLs must be the
    /// published ones; a goodbye or legacy answer lowers them afterwards
    /// (`lower_ttls`).
    pub(super) fn sign_packet(
        &mut self,
        now: Instant,
        link: Option<Link>,
        p: &mut Packet<'static>,
    ) {
        if self.signer.is_none() || !p.has_flags(PacketFlag::RESPONSE) {
            return;
        }
        if let Some(link) = link {
            self.complete_rrsets(link, p);
        }
        let Some(signer) = self.signer.as_mut() else {
            return;
        };
        let mut any = false;
        for section in 0..2 {
            let records = if section == 0 {
                &mut p.answers
            } else {
                &mut p.additional_records
            };
            let mut sigs = Vec::new();
            for g in groups(records) {
                let rrset: Vec<trust::Rr> = g
                    .members
                    .iter()
                    .filter_map(|&i| wire::trust_rr(&records[i]))
                    .collect();
                if rrset.len() != g.members.len() {
                    continue;
                }
                let first = &records[g.members[0]];
                if let Some(sig) = signer.sign(now, &rrset) {
                    sigs.push(rrsig_record(
                        &first.name,
                        &sig,
                        first.ttl,
                        first.cache_flush,
                    ));
                }
            }
            any |= !sigs.is_empty();
            records.extend(sigs);
        }
        if any {
            let key = signer.key.clone();
            let zone = wire::dns_name(key.owner());
            let dnskey = key.dnskey_rr(DNSKEY_TTL);
            if let Some(sig) = signer.sign(now, std::slice::from_ref(&dnskey)) {
                p.additional_records
                    .push(dnskey_record(&zone, key.dnskey(), DNSKEY_TTL));
                p.additional_records
                    .push(rrsig_record(&zone, &sig, DNSKEY_TTL, false));
            }
        }
    }

    /// Every RRset of ours in `p` whole: the missing records of an RRset
    /// in the answers come from those announced on `link`, and an RRset's
    /// records in the additional section move to the answers when it is
    /// there too.
    fn complete_rrsets(&self, link: Link, p: &mut Packet<'static>) {
        let live = self.live_records(link);
        for section in 0..2 {
            let keys: Vec<(String, u16)> = {
                let records = if section == 0 {
                    &p.answers
                } else {
                    &p.additional_records
                };
                groups(records).into_iter().map(|g| g.key).collect()
            };
            for key in keys {
                let records = if section == 0 {
                    &mut p.answers
                } else {
                    &mut p.additional_records
                };
                let Some(model) = records.iter().find(|r| set_key(r) == key).cloned() else {
                    continue;
                };
                for r in live.iter().filter(|r| set_key(r) == key) {
                    let present = records
                        .iter()
                        .any(|o| o.name == r.name && wire::same_rdata(o, r));
                    if !present {
                        let mut r = r.clone();
                        r.ttl = model.ttl;
                        r.cache_flush = model.cache_flush;
                        records.push(r);
                    }
                }
            }
        }
        let in_answers: Vec<(String, u16)> =
            groups(&p.answers).into_iter().map(|g| g.key).collect();
        let (moved, kept): (Vec<_>, Vec<_>) = p
            .additional_records
            .drain(..)
            .partition(|r| in_answers.contains(&set_key(r)));
        p.additional_records = kept;
        for r in moved {
            if !p
                .answers
                .iter()
                .any(|o| o.name == r.name && wire::same_rdata(o, &r))
            {
                p.answers.push(r);
            }
        }
    }
}

/// Set every TTL of `p` (records and RRSIGs) to at most `max`: goodbyes
/// (0) and legacy answers (RFC 6762 s6.7), after signing.
pub(super) fn lower_ttls(p: &mut Packet<'static>, max: u32) {
    for r in p.answers.iter_mut().chain(p.additional_records.iter_mut()) {
        r.ttl = r.ttl.min(max);
    }
}

/// The payloads of a signed response: one packet when it fits, else the
/// answers split with each RRset kept with its RRSIGs, every part carrying
/// the DNSKEY and its RRSIG (the other additionals go, as `wire::build`
/// drops them from a split response).
pub(super) fn build_signed<'a>(p: &Packet<'a>) -> Vec<Vec<u8>> {
    match p.build_bytes_vec_compressed() {
        Ok(bytes) if bytes.len() <= MAX_PACKET => return vec![bytes],
        Ok(_) => {}
        Err(_) => return Vec::new(),
    }
    let key_records: Vec<ResourceRecord<'a>> = p
        .additional_records
        .iter()
        .filter(|r| {
            let t = wire::rr_type(r);
            t == trust::rtype::DNSKEY
                || matches!(&r.rdata, simple_dns::rdata::RData::RRSIG(s) if s.type_covered == trust::rtype::DNSKEY)
        })
        .cloned()
        .collect();
    // Units: each RRset of the answers with the RRSIGs over it.
    let mut units: Vec<Vec<ResourceRecord<'a>>> = Vec::new();
    for g in groups(&p.answers) {
        let mut unit: Vec<ResourceRecord<'a>> =
            g.members.iter().map(|&i| p.answers[i].clone()).collect();
        unit.extend(
            p.answers
                .iter()
                .filter(|r| {
                    matches!(&r.rdata, simple_dns::rdata::RData::RRSIG(s)
                if s.type_covered == g.key.1 && set_key(r).0 == g.key.0)
                })
                .cloned(),
        );
        units.push(unit);
    }
    let part = |answers: Vec<ResourceRecord<'a>>, first: bool| {
        let mut q = Packet::new_reply(p.id());
        q.set_flags(PacketFlag::AUTHORITATIVE_ANSWER);
        if first {
            q.questions = p.questions.clone();
        }
        q.answers = answers;
        q.additional_records = key_records.clone();
        q
    };
    let mut out = Vec::new();
    let mut current: Vec<ResourceRecord<'a>> = Vec::new();
    for unit in units {
        let mut trial = current.clone();
        trial.extend(unit.iter().cloned());
        let fits = part(trial.clone(), out.is_empty())
            .build_bytes_vec_compressed()
            .is_ok_and(|b| b.len() <= MAX_PACKET);
        if fits || current.is_empty() {
            current = trial;
        } else {
            if let Ok(b) =
                part(std::mem::take(&mut current), out.is_empty()).build_bytes_vec_compressed()
            {
                out.push(b);
            }
            current = unit;
        }
    }
    if !current.is_empty() {
        if let Ok(b) = part(current, out.is_empty()).build_bytes_vec_compressed() {
            if b.len() <= MAX_PACKET {
                out.push(b);
            }
        }
    }
    out
}

/// `build_signed` for the core's tests.
#[cfg(test)]
pub(crate) fn build_signed_for_tests(p: &Packet<'_>) -> Vec<Vec<u8>> {
    build_signed(p)
}

//! Validation of received answers (DNSSEC on mDNS), when the engine has a
//! trust policy.
//!
//! Each packet is validated alone: every RRset in it (records of one
//! owner and type, answers and additionals together) against the RRSIGs
//! and DNSKEYs of that packet. Only records of RRsets that validated are
//! cached, with their TTL cut to what the signature allows (RFC 4035
//! s5.3.3); the rest is dropped, and the reason kept for the lookups it
//! concerned. So a forger's unsigned SRV never enters the cache, never
//! mixes into the publisher's RRset and never flushes it (cache-flush and
//! goodbyes act only through records that validated), and everything the
//! cache holds, hence everything a lookup or browse returns, validated.
//! RRSIGs and DNSKEYs are not cached at all: a signature is checked with
//! the records it came with and is worth nothing apart from them. NSEC is
//! not validated and not used (it only spares a question).
//!
//! Cost: one signature check per RRset (Ed25519 about 50-70 us on the
//! 2-core test machine), none for an RRset seen before with the same
//! signatures (`Verified`), and the key chain only when the anchors do not
//! trust the signing key directly.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use simple_dns::rdata::RData;
use simple_dns::{Name, Packet, ResourceRecord};

use crate::engine::signed;
use crate::trust::{self, rtype, Anchor, AnchorSet, Rr, TrustPolicy, ValidationError, Validator};
use crate::wire::{self, T_NSEC, T_SRV};

/// The verdict on each record of a packet, answers then additionals: the
/// longest TTL it may be kept, or why it did not validate.
pub(super) type Verdicts = Vec<Result<u32, ValidationError>>;

/// RRsets already verified, by their bytes and the RRSIGs they came with:
/// the same records with the same signatures (the legacy answer and its
/// multicast copy, a refresh) are not verified again while the first
/// verdict holds (its TTL, which the signature's expiration bounds).
#[derive(Default)]
pub(super) struct Verified {
    seen: HashMap<Vec<u8>, (Instant, u32)>,
}

/// Entries kept at most; past it the memo starts over.
const VERIFIED_MAX: usize = 512;

impl Verified {
    fn get(&self, key: &[u8], now: Instant) -> Option<u32> {
        let (until, ttl) = self.seen.get(key)?;
        let left = until.checked_duration_since(now)?.as_secs();
        Some((*ttl).min(u32::try_from(left).unwrap_or(u32::MAX)))
    }
    fn put(&mut self, key: Vec<u8>, now: Instant, max_ttl: u32) {
        if self.seen.len() >= VERIFIED_MAX {
            self.seen.retain(|_, (until, _)| *until > now);
            if self.seen.len() >= VERIFIED_MAX {
                self.seen.clear();
            }
        }
        let until = now + Duration::from_secs(u64::from(max_ttl));
        self.seen.insert(key, (until, max_ttl));
    }
}

/// Validate every RRset of `packet` at wall time `now_secs` (`now` on the
/// core's clock, for the memo).
///
/// The keys the anchors trust directly (a DNSKEY anchor, or a key in the
/// packet matching a DS anchor) are tried first, without the signatures
/// over the DNSKEY RRset, so that no RRset pays for the key chain. Only
/// when that fails and the packet signs its DNSKEY RRset is the one step
/// of chain taken: the DNSKEY RRset validated once, its keys then trusted
/// for the rest of the packet, as the validator would.
pub(super) fn packet(
    policy: &TrustPolicy,
    now_secs: u64,
    now: Instant,
    memo: &mut Verified,
    packet: &Packet<'_>,
) -> Verdicts {
    // Each record as the trust core takes it (None: not convertible),
    // and where it sits in `related`, the records that converted.
    let mut related: Vec<Rr> = Vec::new();
    let at: Vec<Option<usize>> = packet
        .answers
        .iter()
        .chain(packet.additional_records.iter())
        .map(|r| {
            wire::trust_rr(r).map(|rr| {
                related.push(rr);
                related.len() - 1
            })
        })
        .collect();
    // The RRsets: records of one owner (without case) and type.
    let mut sets: Vec<Vec<usize>> = Vec::new();
    let mut set_of: Vec<usize> = Vec::with_capacity(related.len());
    {
        let mut index: HashMap<(&trust::Name, u16), usize> = HashMap::new();
        for (k, rr) in related.iter().enumerate() {
            let s = *index.entry((&rr.owner, rr.rtype)).or_insert_with(|| {
                sets.push(Vec::new());
                sets.len() - 1
            });
            sets[s].push(k);
            set_of.push(s);
        }
    }
    let skew = u32::try_from(policy.clock_skew.as_secs()).unwrap_or(u32::MAX);
    let direct = Validator::new(&policy.anchors, now_secs, skew);
    let mut chained: Option<Option<AnchorSet>> = None;
    let mut verdicts: Vec<Option<Result<u32, ValidationError>>> = vec![None; sets.len()];
    let mut out = Vec::with_capacity(at.len());
    for k in at {
        let rtype = k.map(|k| related[k].rtype);
        let verdict = match (k, rtype) {
            (Some(k), Some(t)) if !signed::is_trust_type(t) && t != T_NSEC => {
                let s = set_of[k];
                verdicts[s]
                    .get_or_insert_with(|| {
                        let members: Vec<Rr> =
                            sets[s].iter().map(|&m| related[m].clone()).collect();
                        one_set(policy, &direct, &mut chained, now, memo, &members, &related)
                    })
                    .clone()
            }
            // NSEC only spares a question for an address type (RFC 6762
            // s6.1); not worth a signature check per answer: with a trust
            // policy it is not used.
            (Some(_), Some(T_NSEC)) => Err(ValidationError::Malformed(
                "NSEC is not used with a trust policy".into(),
            )),
            _ => Err(ValidationError::Malformed(
                "not a record to validate".into(),
            )),
        };
        out.push(verdict);
    }
    out
}

/// The verdict on one RRset: the memo's, else the anchored keys', else
/// (when they fail) that of the anchors with the keys one step away.
fn one_set(
    policy: &TrustPolicy,
    direct: &Validator<'_>,
    chained: &mut Option<Option<AnchorSet>>,
    now: Instant,
    memo: &mut Verified,
    members: &[Rr],
    related: &[Rr],
) -> Result<u32, ValidationError> {
    let mkey = memo_key(members, related);
    if let Some(ttl) = memo.get(&mkey, now) {
        return Ok(ttl);
    }
    let mut v = direct.validate_anchored(members, related);
    // Any failure, not only a wrong key: an RRset may carry an RRSIG by an
    // anchored key that fails (expired, in a rollover) beside a good one
    // by a key one step away.
    if v.is_err() {
        let extended = chained.get_or_insert_with(|| chain_anchors(policy, direct, related));
        if let Some(anchors) = extended {
            v = Validator::new(anchors, direct.now(), direct.skew())
                .validate_anchored(members, related);
        }
    }
    let v = v.map(|ok| ok.max_ttl);
    if let Ok(ttl) = v {
        memo.put(mkey, now, ttl);
    }
    v
}

/// The anchors plus the keys of every DNSKEY RRset of the packet that the
/// anchors validate (RFC 4035 s5.3: one step from the pinned key); None
/// when no DNSKEY RRset validates.
fn chain_anchors(
    policy: &TrustPolicy,
    direct: &Validator<'_>,
    related: &[Rr],
) -> Option<AnchorSet> {
    let mut owners: Vec<&trust::Name> = Vec::new();
    for r in related.iter().filter(|r| r.rtype == rtype::DNSKEY) {
        if !owners.contains(&&r.owner) {
            owners.push(&r.owner);
        }
    }
    let mut anchors: Vec<Anchor> = policy.anchors.anchors().to_vec();
    let before = anchors.len();
    for owner in owners {
        let set: Vec<Rr> = related
            .iter()
            .filter(|r| r.rtype == rtype::DNSKEY && r.owner == *owner)
            .cloned()
            .collect();
        anchors.extend(direct.step_keys(&set, related));
    }
    (anchors.len() > before)
        .then(|| AnchorSet::from_anchors(anchors).ok())
        .flatten()
}

/// The memo key of an RRset: its canonical records and every RRSIG at its
/// owner that came with it.
fn memo_key(rrset: &[Rr], related: &[Rr]) -> Vec<u8> {
    let first = &rrset[0];
    let mut key = first.owner.canonical_wire();
    key.extend_from_slice(&first.rtype.to_be_bytes());
    let mut rdatas: Vec<&Vec<u8>> = rrset.iter().map(|r| &r.rdata).collect();
    rdatas.sort();
    for d in rdatas {
        key.extend_from_slice(&(d.len() as u16).to_be_bytes());
        key.extend_from_slice(d);
    }
    for s in related
        .iter()
        .filter(|r| r.rtype == rtype::RRSIG && r.owner == first.owner)
    {
        key.extend_from_slice(&(s.rdata.len() as u16).to_be_bytes());
        key.extend_from_slice(&s.rdata);
    }
    key
}

/// The failures of `packet` that concern a lookup of `instance`: its own
/// records, and those of the SRV targets named for it (in this packet, or
/// `known_target` from the cache).
pub(super) fn concerning(
    packet: &Packet<'_>,
    verdicts: &Verdicts,
    instance: &Name<'_>,
    known_target: Option<&Name<'_>>,
) -> Option<ValidationError> {
    let records: Vec<&ResourceRecord<'_>> = packet
        .answers
        .iter()
        .chain(packet.additional_records.iter())
        .collect();
    let mut targets: Vec<Name<'static>> = known_target
        .map(|t| t.clone().into_owned())
        .into_iter()
        .collect();
    for r in &records {
        if let RData::SRV(s) = &r.rdata {
            if r.name == *instance && crate::wire::rr_type(r) == T_SRV {
                targets.push(s.target.clone().into_owned());
            }
        }
    }
    let mut best: Option<ValidationError> = None;
    for (r, v) in records.iter().zip(verdicts.iter()) {
        let Err(e) = v else { continue };
        let t = crate::wire::rr_type(r);
        if signed::is_trust_type(t) || t == T_NSEC {
            continue;
        }
        if r.name != *instance && !targets.contains(&r.name) {
            continue;
        }
        if best
            .as_ref()
            .is_none_or(|b| signed::rank(e) > signed::rank(b))
        {
            best = Some(e.clone());
        }
    }
    best
}

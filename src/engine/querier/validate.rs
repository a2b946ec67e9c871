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
//! the records it came with and is worth nothing apart from them.

use simple_dns::rdata::RData;
use simple_dns::{Name, Packet, ResourceRecord};

use crate::engine::signed::{self, set_key, to_rr};
use crate::trust::{Rr, TrustPolicy, ValidationError, Validator};
use crate::wire::T_SRV;

/// The verdict on each record of a packet, answers then additionals: the
/// longest TTL it may be kept, or why it did not validate.
pub(super) type Verdicts = Vec<Result<u32, ValidationError>>;

/// Validate every RRset of `packet` at wall time `now_secs`.
pub(super) fn packet(policy: &TrustPolicy, now_secs: u64, packet: &Packet<'_>) -> Verdicts {
    let records: Vec<&ResourceRecord<'_>> = packet
        .answers
        .iter()
        .chain(packet.additional_records.iter())
        .collect();
    let converted: Vec<Option<Rr>> = records.iter().map(|r| to_rr(r)).collect();
    let related: Vec<Rr> = converted.iter().flatten().cloned().collect();
    let skew = u32::try_from(policy.clock_skew.as_secs()).unwrap_or(u32::MAX);
    let validator = Validator::new(&policy.anchors, now_secs, skew);
    let keys: Vec<(String, u16)> = records.iter().map(|r| set_key(r)).collect();
    let mut done: Vec<((String, u16), Result<u32, ValidationError>)> = Vec::new();
    let mut out = Vec::with_capacity(records.len());
    for (i, key) in keys.iter().enumerate() {
        if let Some((_, v)) = done.iter().find(|(k, _)| k == key) {
            out.push(v.clone());
            continue;
        }
        let members: Vec<Rr> = keys
            .iter()
            .zip(converted.iter())
            .filter(|(k, _)| *k == key)
            .filter_map(|(_, c)| c.clone())
            .collect();
        let verdict = if converted[i].is_none() || signed::is_trust_type(key.1) {
            Err(ValidationError::Malformed(
                "not a record to validate".into(),
            ))
        } else {
            check(&validator, &members, &related)
        };
        done.push((key.clone(), verdict.clone()));
        out.push(verdict);
    }
    out
}

fn check(v: &Validator<'_>, rrset: &[Rr], related: &[Rr]) -> Result<u32, ValidationError> {
    v.validate(rrset, related).map(|ok| ok.max_ttl)
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
        if signed::is_trust_type(crate::wire::rr_type(r)) {
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

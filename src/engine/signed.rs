//! DNSSEC on mDNS: what the responder and the querier share. The records
//! travel as simple-dns `ResourceRecord`s; the signing and validation core
//! (`crate::trust`) takes `trust::Rr`s with uncompressed RDATA
//! (`wire::trust_rr`, shared with the unicast lookup). This module builds
//! the RRSIG and DNSKEY records, groups a packet's records into RRsets, and
//! keeps the wall clock the sans-IO core is told about.
//!
//! # Choices
//! - **Canonical RDATA.** `wire::rdata_bytes` writes a record alone,
//!   uncompressed, so the names inside SRV, PTR and NSEC RDATA are spelled
//!   out in full: that is what is signed and what is validated. The wire
//!   may compress them; a receiver decompresses before validating.
//! - **One packet, one responder.** The querier validates each RRset of a
//!   packet against the RRSIGs and DNSKEYs of that same packet (answers
//!   and additionals). A record from another host never joins a signed
//!   RRset, and an RRSIG never stands for records it did not come with.
//! - **Wall clock.** Signature windows are in seconds since the epoch,
//!   which `Instant` cannot give. The driver tells the core the wall time
//!   now and then ([`WallClock::set`]); between two settings it advances
//!   with `Instant`. Tests set it on the fake clock.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use simple_dns::rdata::{RData, DNSKEY, RRSIG};
use simple_dns::{Name, ResourceRecord, CLASS};

use crate::trust::{self, rtype, ValidationError};
use crate::wire;

/// Wall time of the core: seconds since the epoch at a given `Instant`.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct WallClock {
    base: Option<(Instant, u64)>,
}

impl WallClock {
    /// The wall time is `unix_secs` at `now`.
    pub fn set(&mut self, now: Instant, unix_secs: u64) {
        self.base = Some((now, unix_secs));
    }

    /// Seconds since the epoch at `now`. Never told: the system clock (a
    /// core used without a driver that sets it still signs and validates
    /// at the right time).
    pub fn at(&self, now: Instant) -> u64 {
        match self.base {
            Some((at, secs)) if now >= at => secs + now.duration_since(at).as_secs(),
            Some((at, secs)) => secs.saturating_sub(at.duration_since(now).as_secs()),
            None => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        }
    }
}

/// An RRSIG as a record at `owner`.
pub(crate) fn rrsig_record(
    owner: &Name<'static>,
    sig: &trust::Rrsig,
    ttl: u32,
    cache_flush: bool,
) -> ResourceRecord<'static> {
    let rdata = RRSIG {
        type_covered: sig.type_covered,
        algorithm: sig.algorithm,
        labels: sig.labels,
        original_ttl: sig.original_ttl,
        signature_expiration: sig.expiration,
        signature_inception: sig.inception,
        key_tag: sig.key_tag,
        signer_name: wire::dns_name(&sig.signer),
        signature: sig.signature.clone().into(),
    };
    ResourceRecord::new(owner.clone(), CLASS::IN, ttl, RData::RRSIG(rdata))
        .with_cache_flush(cache_flush)
}

/// A DNSKEY as a record at `owner`. Shared (no cache-flush bit): two
/// responders' keys at `local.` are one RRset.
pub(crate) fn dnskey_record(
    owner: &Name<'static>,
    key: &trust::Dnskey,
    ttl: u32,
) -> ResourceRecord<'static> {
    let rdata = DNSKEY {
        flags: key.flags,
        protocol: key.protocol,
        algorithm: key.algorithm,
        public_key: key.public_key.clone().into(),
    };
    ResourceRecord::new(owner.clone(), CLASS::IN, ttl, RData::DNSKEY(rdata))
}

/// RRSIG or DNSKEY: the records that carry trust, not data.
pub(crate) fn is_trust_type(t: u16) -> bool {
    t == rtype::RRSIG || t == rtype::DNSKEY
}

/// The RRset key of a record: its owner (case-folded) and type.
pub(crate) fn set_key(r: &ResourceRecord<'_>) -> (String, u16) {
    (r.name.to_string().to_ascii_lowercase(), wire::rr_type(r))
}

/// How far a failed validation got; the furthest is the one reported
/// (a forged signature by a trusted key says more than a missing one).
pub(crate) fn rank(e: &ValidationError) -> u8 {
    use ValidationError::*;
    match e {
        Malformed(_) | NoSignature { .. } => 0,
        MalformedSignature(_) => 1,
        SignerMismatch { .. } | LabelCount { .. } | WildcardExpansion { .. } => 2,
        UnsupportedAlgorithm { .. } => 3,
        WrongKey { .. } => 4,
        InvertedWindow { .. } | NotYetValid { .. } | Expired { .. } => 5,
        BadSignature { .. } => 6,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn names_convert_both_ways() {
        let n = wire::name_from_str("Baremetal._openstack._tcp.local.").unwrap();
        let t = wire::trust_name(&n).unwrap();
        assert_eq!(
            t.to_string().to_ascii_lowercase(),
            "baremetal._openstack._tcp.local."
        );
        assert_eq!(wire::dns_name(&t), n);
    }

    #[test]
    fn srv_rdata_is_uncompressed() {
        let inst = wire::name_from_str("baremetal._openstack._tcp.local.").unwrap();
        let srv = wire::srv(&inst, &inst, 6385, 120);
        let rr = wire::trust_rr(&srv).unwrap();
        // priority, weight, port, then the whole target spelled out
        assert_eq!(rr.rdata[6..], *wire::trust_name(&inst).unwrap().as_wire());
        assert_eq!(rr.class, 1 | trust::CACHE_FLUSH);
    }

    #[test]
    fn wall_clock_follows_the_instant() {
        let t0 = Instant::now();
        let mut w = WallClock::default();
        w.set(t0, 1_000_000);
        assert_eq!(w.at(t0 + Duration::from_secs(90)), 1_000_090);
        assert_eq!(w.at(t0), 1_000_000);
    }
}

//! Validation of an RRset against a trust anchor set (RFC 4035 s5.3,
//! limited to a pinned anchor and at most one DNSKEY step).

use std::fmt;

use super::anchor::{Anchor, AnchorSet};
use super::canon::{check_rrset, signed_data, Rr};
use super::crypto::{verify, VerifyFailure};
use super::name::Name;
use super::record::{rtype, Algorithm, Dnskey, Rrsig};
use super::text::{format_duration, format_time};

/// How the key that validated was tied to the anchor set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrustPath {
    /// The key is a DNSKEY anchor.
    AnchorKey,
    /// The key matches a DS anchor of this digest type.
    AnchorDs { digest_type: u8 },
    /// The key is in the signer's DNSKEY RRset, which a key of the first
    /// two kinds signed (this is that key's tag and algorithm).
    SignedByAnchoredKey { key_tag: u16, algorithm: u8 },
}

/// A successful validation: which key validated and how it is trusted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Validated {
    /// The zone whose key signed (the RRSIG's signer name).
    pub signer: Name,
    pub key_tag: u16,
    pub algorithm: u8,
    pub path: TrustPath,
    /// The longest the RRset may be kept (RFC 4035 s5.3.3): the RRSIG's
    /// original TTL, or less if the signature expires sooner.
    pub max_ttl: u32,
    /// The signature's expiration, seconds since the epoch.
    pub expiration: u64,
}

/// Why an RRset did not validate. When several RRSIGs came, the error is
/// the one from the RRSIG that got furthest (a bad signature by a trusted
/// key over an expiry, over a wrong key, over a signer mismatch).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ValidationError {
    /// The RRset handed over is not one RRset (empty, or mixed owners,
    /// types or classes), or its RDATA cannot be put in canonical form.
    Malformed(String),
    /// No RRSIG for this owner and type came with the answer.
    NoSignature { owner: Name, rtype: u16 },
    /// Every RRSIG that came could not be decoded.
    MalformedSignature(String),
    /// The RRSIG's signer is not the owner or an ancestor of it.
    SignerMismatch { owner: Name, signer: Name },
    /// The RRSIG's Labels field exceeds the owner's label count.
    LabelCount { owner: Name, labels: u8 },
    /// The RRSIG says the RRset was expanded from a wildcard; such answers
    /// are refused (see the module documentation).
    WildcardExpansion { owner: Name, labels: u8 },
    /// The RRSIG's algorithm is not one this module validates.
    UnsupportedAlgorithm { algorithm: u8 },
    /// Signed by a key that is neither an anchor nor signed by one.
    WrongKey {
        signer: Name,
        key_tag: u16,
        algorithm: u8,
    },
    /// The RRSIG's expiration is before its inception.
    InvertedWindow { inception: u64, expiration: u64 },
    /// The signature's inception is ahead of the clock by `by` seconds,
    /// more than the allowed skew.
    NotYetValid { by: u64, inception: u64, skew: u32 },
    /// The signature expired `by` seconds ago, more than the allowed skew.
    Expired { by: u64, expiration: u64, skew: u32 },
    /// A trusted key's signature does not match the records.
    BadSignature { signer: Name, key_tag: u16 },
}

impl ValidationError {
    /// How far the RRSIG got before this error; the furthest is reported.
    fn rank(&self) -> u8 {
        match self {
            ValidationError::Malformed(_) | ValidationError::NoSignature { .. } => 0,
            ValidationError::MalformedSignature(_) => 1,
            ValidationError::SignerMismatch { .. }
            | ValidationError::LabelCount { .. }
            | ValidationError::WildcardExpansion { .. } => 2,
            ValidationError::UnsupportedAlgorithm { .. } => 3,
            ValidationError::WrongKey { .. } => 4,
            ValidationError::InvertedWindow { .. }
            | ValidationError::NotYetValid { .. }
            | ValidationError::Expired { .. } => 5,
            ValidationError::BadSignature { .. } => 6,
        }
    }
}

/// A type's mnemonic for messages (the common ones), else `TYPEnn`.
fn type_name(t: u16) -> String {
    match t {
        1 => "A".into(),
        2 => "NS".into(),
        5 => "CNAME".into(),
        12 => "PTR".into(),
        16 => "TXT".into(),
        28 => "AAAA".into(),
        33 => "SRV".into(),
        43 => "DS".into(),
        46 => "RRSIG".into(),
        47 => "NSEC".into(),
        48 => "DNSKEY".into(),
        _ => format!("TYPE{t}"),
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ValidationError::*;
        match self {
            Malformed(why) => write!(f, "records cannot be validated: {why}"),
            NoSignature { owner, rtype } => {
                write!(f, "no signature (RRSIG) for {owner} {}", type_name(*rtype))
            }
            MalformedSignature(why) => write!(f, "malformed signature (RRSIG): {why}"),
            SignerMismatch { owner, signer } => write!(
                f,
                "signer name mismatch: {owner} is signed as {signer}, which is not its zone"
            ),
            LabelCount { owner, labels } => write!(
                f,
                "signature's label count {labels} exceeds the labels of {owner}"
            ),
            WildcardExpansion { owner, labels } => write!(
                f,
                "{owner} is a wildcard expansion (signature label count {labels}); wildcard answers are refused"
            ),
            UnsupportedAlgorithm { algorithm } => write!(
                f,
                "unsupported DNSSEC algorithm {algorithm} (8 RSASHA256, 13 ECDSAP256SHA256, 15 ED25519 are validated)"
            ),
            WrongKey {
                signer,
                key_tag,
                algorithm,
            } => write!(
                f,
                "signed by a key not in the trust anchor: {signer} key tag {key_tag} algorithm {algorithm}"
            ),
            InvertedWindow {
                inception,
                expiration,
            } => write!(
                f,
                "signature expires ({}) before its inception ({})",
                format_time(*expiration),
                format_time(*inception)
            ),
            NotYetValid { by, inception, skew } => write!(
                f,
                "signature not yet valid: clock outside the validity window by {} (inception {}, {} clock skew allowed)",
                format_duration(*by),
                format_time(*inception),
                format_duration(u64::from(*skew))
            ),
            Expired {
                by,
                expiration,
                skew,
            } => write!(
                f,
                "signature expired: clock outside the validity window by {} (expiration {}, {} clock skew allowed)",
                format_duration(*by),
                format_time(*expiration),
                format_duration(u64::from(*skew))
            ),
            BadSignature { signer, key_tag } => write!(
                f,
                "bad signature: {signer} key tag {key_tag} is trusted but its signature does not match the records"
            ),
        }
    }
}

impl std::error::Error for ValidationError {}

/// The trusted keys found for each signer name during one validation.
type KeyCache = Vec<(Name, Vec<(Dnskey, TrustPath)>)>;

/// A validator: an anchor set, the current time and the allowed clock
/// skew.
#[derive(Clone, Copy, Debug)]
pub struct Validator<'a> {
    anchors: &'a AnchorSet,
    now: u64,
    skew: u32,
}

/// Widens a 32-bit RRSIG time to the 64-bit time nearest `now` (RFC 4034
/// s3.1.5: the fields are serial numbers, RFC 1982; a time more than 68
/// years from now wraps to the other side).
fn widen(t: u32, now: u64) -> u64 {
    let delta = t.wrapping_sub(now as u32) as i32;
    (now as i64 + i64::from(delta)).max(0) as u64
}

impl<'a> Validator<'a> {
    /// `now` is seconds since the epoch; `skew` the seconds a signature's
    /// window is widened by on both sides for clock differences.
    pub fn new(anchors: &'a AnchorSet, now: u64, skew: u32) -> Validator<'a> {
        Validator { anchors, now, skew }
    }

    /// Validates `rrset` (one owner, type and class). `related` holds what
    /// came with it: the RRSIGs (those at the owner covering the type are
    /// used) and the DNSKEYs (those at an RRSIG's signer name, with their
    /// own RRSIGs); other records in it are ignored, so a whole answer may
    /// be passed. Accepts iff an RRSIG covering the RRset was made, within
    /// its validity window widened by the skew, by a key that is an anchor,
    /// matches a DS anchor, or sits in the signer's DNSKEY RRset which such
    /// a key signed, and the signature verifies.
    pub fn validate(&self, rrset: &[Rr], related: &[Rr]) -> Result<Validated, ValidationError> {
        self.validate_with(rrset, related, true)
    }

    /// [`validate`](Self::validate) without the DNSKEY step: only a key
    /// that is an anchor or matches a DS anchor verifies. For a caller
    /// that takes the step itself, once for many RRsets.
    pub fn validate_anchored(
        &self,
        rrset: &[Rr],
        related: &[Rr],
    ) -> Result<Validated, ValidationError> {
        self.validate_with(rrset, related, false)
    }

    /// The keys of the DNSKEY RRset `set` (one owner) as anchors at that
    /// owner, when the anchors validate it (RFC 4035 s5.3: the one step
    /// from a pinned key); empty when they do not. A caller validating
    /// many RRsets of one signer takes the step once, then validates each
    /// with [`validate_anchored`](Self::validate_anchored) against the
    /// anchors plus these.
    pub fn step_keys(&self, set: &[Rr], related: &[Rr]) -> Vec<Anchor> {
        if set.is_empty() || self.validate_anchored(set, related).is_err() {
            return Vec::new();
        }
        set.iter()
            .filter_map(|r| Dnskey::from_rdata(&r.rdata).ok())
            .map(|key| Anchor::Dnskey {
                owner: Some(set[0].owner.clone()),
                key,
            })
            .collect()
    }

    /// The anchors it validates against.
    pub fn anchors(&self) -> &'a AnchorSet {
        self.anchors
    }

    /// The time this validator checks windows against.
    pub fn now(&self) -> u64 {
        self.now
    }

    /// The skew it allows, in seconds.
    pub fn skew(&self) -> u32 {
        self.skew
    }

    fn validate_with(
        &self,
        rrset: &[Rr],
        related: &[Rr],
        chain: bool,
    ) -> Result<Validated, ValidationError> {
        check_rrset(rrset).map_err(|e| ValidationError::Malformed(e.to_string()))?;
        let first = &rrset[0];
        let mut best: Option<ValidationError> = None;
        // The trusted keys of each signer, worked out once per call: a
        // hostile answer with many RRSIGs then costs one DNSKEY RRset
        // validation per signer (an ancestor of the owner), not one per
        // RRSIG.
        let mut keys = KeyCache::new();
        let mut keep = |e: ValidationError| {
            if best.as_ref().is_none_or(|b| e.rank() > b.rank()) {
                best = Some(e);
            }
        };
        for rr in related {
            if rr.rtype != rtype::RRSIG || rr.owner != first.owner || rr.class() != first.class() {
                continue;
            }
            let rrsig = match Rrsig::from_rdata(&rr.rdata) {
                Ok(s) => s,
                Err(e) => {
                    keep(ValidationError::MalformedSignature(e.to_string()));
                    continue;
                }
            };
            if rrsig.type_covered != first.rtype {
                continue;
            }
            match self.check_one(rrset, &rrsig, related, chain, &mut keys) {
                Ok(v) => return Ok(v),
                Err(e) => keep(e),
            }
        }
        Err(best.unwrap_or_else(|| ValidationError::NoSignature {
            owner: first.owner.clone(),
            rtype: first.rtype,
        }))
    }

    /// The keys trusted for zone `signer`: anchors, keys a DS anchor
    /// matches, and (with `chain`) the keys of the signer's DNSKEY RRset if
    /// one of those signed it.
    fn trusted_keys(&self, signer: &Name, related: &[Rr], chain: bool) -> Vec<(Dnskey, TrustPath)> {
        let offered: Vec<Rr> = related
            .iter()
            .filter(|rr| rr.rtype == rtype::DNSKEY && rr.owner == *signer)
            .cloned()
            .collect();
        let keys: Vec<Dnskey> = offered
            .iter()
            .filter_map(|rr| Dnskey::from_rdata(&rr.rdata).ok())
            .collect();
        let mut out = Vec::new();
        for anchor in self
            .anchors
            .anchors()
            .iter()
            .filter(|a| a.applies_to(signer))
        {
            match anchor {
                Anchor::Dnskey { key, .. } => out.push((key.clone(), TrustPath::AnchorKey)),
                Anchor::Ds { ds, .. } => {
                    for key in keys.iter().filter(|k| ds.matches(signer, k)) {
                        out.push((
                            key.clone(),
                            TrustPath::AnchorDs {
                                digest_type: ds.digest_type,
                            },
                        ));
                    }
                }
            }
        }
        if chain && !offered.is_empty() {
            // One step: the DNSKEY RRset at the signer, validated by the
            // anchored keys alone.
            let same_class: Vec<Rr> = offered
                .iter()
                .filter(|rr| rr.class() == offered[0].class())
                .cloned()
                .collect();
            if let Ok(v) = self.validate_with(&same_class, related, false) {
                for key in keys {
                    if !out.iter().any(|(k, _)| *k == key) {
                        out.push((
                            key,
                            TrustPath::SignedByAnchoredKey {
                                key_tag: v.key_tag,
                                algorithm: v.algorithm,
                            },
                        ));
                    }
                }
            }
        }
        out
    }

    fn check_one(
        &self,
        rrset: &[Rr],
        rrsig: &Rrsig,
        related: &[Rr],
        chain: bool,
        keys: &mut KeyCache,
    ) -> Result<Validated, ValidationError> {
        let owner = &rrset[0].owner;
        // RFC 4035 s5.3.1: the signer is the zone holding the RRset.
        if !owner.is_within(&rrsig.signer) {
            return Err(ValidationError::SignerMismatch {
                owner: owner.clone(),
                signer: rrsig.signer.clone(),
            });
        }
        // RFC 4035 s5.3.1: Labels is at most the owner's label count; a
        // smaller count means a wildcard expansion (RFC 4035 s5.3.2),
        // refused here.
        let owner_labels = owner.rrsig_labels();
        if rrsig.labels > owner_labels {
            return Err(ValidationError::LabelCount {
                owner: owner.clone(),
                labels: rrsig.labels,
            });
        }
        if rrsig.labels < owner_labels {
            return Err(ValidationError::WildcardExpansion {
                owner: owner.clone(),
                labels: rrsig.labels,
            });
        }
        let Some(alg) = Algorithm::from_number(rrsig.algorithm) else {
            return Err(ValidationError::UnsupportedAlgorithm {
                algorithm: rrsig.algorithm,
            });
        };
        // RFC 4034 s2.1.1 and RFC 5011 s3: only zone keys that are not
        // revoked verify RRSIGs.
        let at = match keys.iter().position(|(n, _)| *n == rrsig.signer) {
            Some(at) => at,
            None => {
                let found = self.trusted_keys(&rrsig.signer, related, chain);
                keys.push((rrsig.signer.clone(), found));
                keys.len() - 1
            }
        };
        let candidates: Vec<(Dnskey, TrustPath)> = keys[at]
            .1
            .iter()
            .filter(|(k, _)| {
                k.algorithm == rrsig.algorithm && k.key_tag() == rrsig.key_tag && k.can_verify()
            })
            .cloned()
            .collect();
        if candidates.is_empty() {
            return Err(ValidationError::WrongKey {
                signer: rrsig.signer.clone(),
                key_tag: rrsig.key_tag,
                algorithm: rrsig.algorithm,
            });
        }
        // RFC 4035 s5.3.1: inception <= now <= expiration, here widened by
        // the skew; the 32-bit fields are read relative to now.
        let inception = widen(rrsig.inception, self.now);
        let expiration = widen(rrsig.expiration, self.now);
        if expiration < inception {
            return Err(ValidationError::InvertedWindow {
                inception,
                expiration,
            });
        }
        let skew = u64::from(self.skew);
        if self.now + skew < inception {
            return Err(ValidationError::NotYetValid {
                by: inception - self.now,
                inception,
                skew: self.skew,
            });
        }
        if self.now > expiration + skew {
            return Err(ValidationError::Expired {
                by: self.now - expiration,
                expiration,
                skew: self.skew,
            });
        }
        let data =
            signed_data(rrsig, rrset).map_err(|e| ValidationError::Malformed(e.to_string()))?;
        for (key, path) in candidates {
            match verify(alg, &key.public_key, &data, &rrsig.signature) {
                Ok(()) => {
                    let left = expiration.saturating_sub(self.now);
                    return Ok(Validated {
                        signer: rrsig.signer.clone(),
                        key_tag: rrsig.key_tag,
                        algorithm: rrsig.algorithm,
                        path,
                        max_ttl: rrsig
                            .original_ttl
                            .min(u32::try_from(left).unwrap_or(u32::MAX)),
                        expiration,
                    });
                }
                Err(VerifyFailure::BadKey | VerifyFailure::BadSignature) => {}
            }
        }
        Err(ValidationError::BadSignature {
            signer: rrsig.signer.clone(),
            key_tag: rrsig.key_tag,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widen_reads_times_around_now() {
        let now = 1_700_000_000u64;
        assert_eq!(widen(now as u32 + 10, now), now + 10);
        assert_eq!(widen(now as u32 - 10, now), now - 10);
        // past 2106 the 32-bit field wraps; still read relative to now
        let later = (1u64 << 32) + 100;
        assert_eq!(widen(200, later), later + 100);
        assert_eq!(widen(u32::MAX - 99, later), (1u64 << 32) - 100);
    }
}

//! DNSSEC validation of what a unicast lookup uses, when `Config.trust` is
//! set (docs/DNS.md, "Validation"). The queries carry the DO bit, so the
//! server sends the RRSIGs with each RRset; the DNSKEY RRset of each signer
//! zone is asked once per lookup call and kept for the rest of it; every
//! RRset used (SRV, TXT, A, AAAA) goes through `trust::Validator` with the
//! whole response and the signer's keys as the related records.

use simple_dns::ResourceRecord;

use super::message::Response;
use crate::error::{Error, Result};
use crate::trust::{self, rtype, Anchor, AnchorSet, Rr, Rrsig, TrustPolicy, Validator};
use crate::wire;

/// Most signer zones whose keys one lookup call asks for: a hostile answer
/// with RRSIGs naming many signers costs at most this many queries.
const MAX_SIGNERS: usize = 4;

/// Every record of a response, in the validator's form.
pub(crate) fn response_records(resp: &Response) -> Vec<Rr> {
    resp.answers
        .iter()
        .chain(&resp.authority)
        .chain(&resp.additional)
        .filter_map(wire::trust_rr)
        .collect()
}

/// The RRset `records` as the validator takes it.
pub(crate) fn rrset_of<'a>(records: impl Iterator<Item = &'a ResourceRecord<'static>>) -> Vec<Rr> {
    records.filter_map(wire::trust_rr).collect()
}

/// The zones named as signers by the RRSIGs over (`owner`, `covered`)
/// among `related`, the owner's own zone or an ancestor only (others can
/// never validate it), each once.
pub(crate) fn signers(related: &[Rr], owner: &trust::Name, covered: u16) -> Vec<trust::Name> {
    let mut out: Vec<trust::Name> = Vec::new();
    for rr in related {
        if rr.rtype != rtype::RRSIG || rr.owner != *owner {
            continue;
        }
        let Ok(sig) = Rrsig::from_rdata(&rr.rdata) else {
            continue;
        };
        if sig.type_covered == covered && owner.is_within(&sig.signer) && !out.contains(&sig.signer)
        {
            out.push(sig.signer);
        }
    }
    out
}

/// Whether `resp` may be taken as the answer to (`owner`, `qtype`) while
/// validating: records of that RRset must come with an RRSIG over it
/// (the full check follows once the signer's keys are known). An answer
/// without is discarded by the exchange, which keeps waiting for the
/// genuine one. Denials (no such records) pass: they are not
/// authenticated (docs/DNS.md, "Validation").
pub(crate) fn signed_answer(
    resp: &Response,
    owner: &str,
    qtype: u16,
) -> std::result::Result<(), String> {
    let rrset = rrset_of(super::message::records_of(&resp.answers, owner, qtype));
    let Some(first) = rrset.first() else {
        return Ok(());
    };
    let related = rrset_of(super::message::records_of(
        &resp.answers,
        owner,
        rtype::RRSIG,
    ));
    let covered = related
        .iter()
        .filter_map(|rr| Rrsig::from_rdata(&rr.rdata).ok())
        .any(|sig| sig.type_covered == first.rtype);
    if covered {
        Ok(())
    } else {
        Err(format!(
            "no DNSSEC signature (RRSIG) over {} type {qtype} in the answer",
            super::message::printable(owner)
        ))
    }
}

/// The validation state of one lookup call: the policy's validator at the
/// call's time and the DNSKEY RRsets (with their RRSIGs) fetched so far.
pub(crate) struct CallValidation<'a> {
    validator: Validator<'a>,
    /// (signer, its DNSKEY and RRSIG records as served; empty when the
    /// server had none).
    keys: Vec<(trust::Name, Vec<Rr>)>,
    /// (signer, the keys of its fetched DNSKEY RRset as anchors if the
    /// anchors validated that RRset): the one step of chain, taken once
    /// per signer and call.
    steps: Vec<(trust::Name, Vec<Anchor>)>,
}

impl<'a> CallValidation<'a> {
    pub(crate) fn new(policy: &'a TrustPolicy) -> CallValidation<'a> {
        CallValidation {
            validator: policy.validator(),
            keys: Vec::new(),
            steps: Vec::new(),
        }
    }

    /// Validates the RRset (`owner_text`, `rt`) in `section` of `resp` (`what` names
    /// it in errors, e.g. "SRV"). `fetch_keys` asks the server for the
    /// DNSKEY RRset of a signer zone (with RRSIGs); it is called once per
    /// signer and call. Error::Auth saying why when it does not validate.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn check(
        &mut self,
        section: &[ResourceRecord<'static>],
        resp: &Response,
        owner_text: &str,
        rt: u16,
        what: &str,
        fetch_keys: &mut dyn FnMut(&trust::Name) -> Result<Vec<Rr>>,
    ) -> Result<()> {
        let rrset = rrset_of(super::message::records_of(section, owner_text, rt));
        self.check_rrset(&rrset, resp, owner_text, what, fetch_keys)
    }

    /// `check` for an RRset already taken out of `resp`.
    pub(crate) fn check_rrset(
        &mut self,
        rrset: &[Rr],
        resp: &Response,
        owner_text: &str,
        what: &str,
        fetch_keys: &mut dyn FnMut(&trust::Name) -> Result<Vec<Rr>>,
    ) -> Result<()> {
        let shown = super::message::printable(owner_text);
        let Some(first) = rrset.first() else {
            return Err(Error::Auth(format!(
                "{what} {shown}: no records to validate"
            )));
        };
        let mut related = response_records(resp);
        let signers = signers(&related, &first.owner, first.rtype);
        for signer in &signers {
            if !self.keys.iter().any(|(s, _)| s == signer) {
                if self.keys.len() >= MAX_SIGNERS {
                    continue;
                }
                let got = fetch_keys(signer)?;
                self.keys.push((signer.clone(), got));
            }
            if let Some((_, k)) = self.keys.iter().find(|(s, _)| s == signer) {
                related.extend(k.iter().cloned());
            }
        }
        // The anchors' own keys first (one signature check for the RRset);
        // then with the keys one step away, that step taken once per
        // signer; last the validator's whole rule, which also takes a
        // DNSKEY RRset that came in the response itself and says why
        // nothing validated.
        if self.validator.validate_anchored(rrset, &related).is_ok()
            || self.stepped(&signers).is_some_and(|anchors| {
                Validator::new(&anchors, self.validator.now(), self.validator.skew())
                    .validate_anchored(rrset, &related)
                    .is_ok()
            })
        {
            return Ok(());
        }
        self.validator
            .validate(rrset, &related)
            .map(|_| ())
            .map_err(|e| Error::Auth(format!("{what} {shown} does not validate: {e}")))
    }

    /// The anchors plus the keys one step from them at `signers` (None
    /// when there are none such).
    fn stepped(&mut self, signers: &[trust::Name]) -> Option<AnchorSet> {
        let mut anchors = self.validator.anchors().anchors().to_vec();
        let before = anchors.len();
        for signer in signers {
            if !self.steps.iter().any(|(s, _)| s == signer) {
                let fetched = self
                    .keys
                    .iter()
                    .find(|(s, _)| s == signer)
                    .map_or(&[][..], |(_, k)| k.as_slice());
                let set: Vec<Rr> = fetched
                    .iter()
                    .filter(|r| r.rtype == rtype::DNSKEY && r.owner == *signer)
                    .cloned()
                    .collect();
                let keys = self.validator.step_keys(&set, fetched);
                self.steps.push((signer.clone(), keys));
            }
            if let Some((_, keys)) = self.steps.iter().find(|(s, _)| s == signer) {
                anchors.extend(keys.iter().cloned());
            }
        }
        (anchors.len() > before)
            .then(|| AnchorSet::from_anchors(anchors).ok())
            .flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::message;
    use crate::trust::{rrsig_rr, Algorithm, Anchor, AnchorSet, DigestType, SigningKey};
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    const INST: &str = "baremetal._openstack._tcp.example.test.";

    fn tn(s: &str) -> trust::Name {
        trust::Name::parse(s).unwrap()
    }

    fn now() -> u32 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs() as u32
    }

    fn wire_name(s: &str) -> Vec<u8> {
        tn(s).as_wire().to_vec()
    }

    /// The SRV RDATA uncompressed, as it is signed.
    fn srv_rdata(port: u16) -> Vec<u8> {
        let mut d = vec![0, 0, 0, 0];
        d.extend_from_slice(&port.to_be_bytes());
        d.extend_from_slice(&wire_name("conductor.example.test."));
        d
    }

    struct Zone {
        ksk: SigningKey,
        zsk: SigningKey,
    }

    impl Zone {
        fn new() -> Zone {
            let z = tn("example.test.");
            Zone {
                ksk: SigningKey::generate(z.clone(), Algorithm::EcdsaP256Sha256, 257).unwrap(),
                zsk: SigningKey::generate(z, Algorithm::Ed25519, 256).unwrap(),
            }
        }

        fn pin(&self) -> TrustPolicy {
            let z = tn("example.test.");
            let ds = self.ksk.dnskey().ds(&z, DigestType::Sha256);
            TrustPolicy::new(
                AnchorSet::from_anchors(vec![Anchor::Ds { owner: Some(z), ds }]).unwrap(),
                Duration::from_secs(60),
            )
        }

        /// The DNSKEY RRset signed by the KSK, as the server serves it.
        fn dnskeys(&self) -> Vec<Rr> {
            let set = vec![self.ksk.dnskey_rr(60), self.zsk.dnskey_rr(60)];
            let t = now();
            let sig = self
                .ksk
                .sign_rrset(&set, &tn("example.test."), t - 60, t + 3600)
                .unwrap();
            let mut out = set.clone();
            out.push(rrsig_rr(&set[0].owner, &sig));
            out
        }

        /// A response to SRV INST as a server writes it: the SRV target
        /// compressed (a pointer into the question), its RRSIG by the ZSK
        /// over `signed_port` (the SRV itself carries `port`).
        fn srv_response(&self, port: u16, signed_port: u16) -> Vec<u8> {
            let owner = tn(INST);
            let signed = vec![Rr {
                owner: owner.clone(),
                rtype: 33,
                class: 1,
                ttl: 60,
                rdata: srv_rdata(signed_port),
            }];
            let t = now();
            let sig = self
                .zsk
                .sign_rrset(&signed, &tn("example.test."), t - 60, t + 3600)
                .unwrap();
            let mut m = vec![0x12, 0x34, 0x84, 0x00, 0, 1, 0, 2, 0, 0, 0, 0];
            m.extend_from_slice(&wire_name(INST));
            m.extend_from_slice(&[0, 33, 0, 1]);
            // "example" starts after baremetal(10) _openstack(11) _tcp(5)
            let example_at = 12 + 10 + 11 + 5;
            let mut rd = vec![0, 0, 0, 0];
            rd.extend_from_slice(&port.to_be_bytes());
            rd.extend_from_slice(b"\x09conductor\xc0");
            rd.push(example_at as u8);
            for (rtype, rdata) in [(33u16, rd), (46, sig.to_rdata())] {
                m.extend_from_slice(&[0xC0, 12]);
                m.extend_from_slice(&rtype.to_be_bytes());
                m.extend_from_slice(&[0, 1, 0, 0, 0, 60]);
                m.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
                m.extend_from_slice(&rdata);
            }
            m
        }
    }

    #[test]
    fn a_compressed_signed_answer_validates_and_keys_are_asked_once() {
        let zone = Zone::new();
        let policy = zone.pin();
        let resp = message::parse_response(&zone.srv_response(6385, 6385)).unwrap();
        assert!(signed_answer(&resp, INST, 33).is_ok());
        let mut validation = CallValidation::new(&policy);
        let mut asked = Vec::new();
        let keys = zone.dnskeys();
        let mut fetch = |s: &trust::Name| {
            asked.push(s.to_string());
            Ok(keys.clone())
        };
        validation
            .check(&resp.answers, &resp, INST, 33, "SRV", &mut fetch)
            .unwrap();
        validation
            .check(&resp.answers, &resp, INST, 33, "SRV", &mut fetch)
            .unwrap();
        assert_eq!(asked, ["example.test."], "one DNSKEY query per call");
        // cost of one validation (DNSKEY RRset by the KSK, then the SRV by
        // the ZSK), for docs/DNS.md
        let t0 = std::time::Instant::now();
        let runs = 20;
        for _ in 0..runs {
            let mut s = CallValidation::new(&policy);
            s.check(&resp.answers, &resp, INST, 33, "SRV", &mut |_| {
                Ok(keys.clone())
            })
            .unwrap();
        }
        println!("one SRV validation: {:?}", t0.elapsed() / runs);
    }

    #[test]
    fn what_does_not_validate_is_an_auth_error_saying_why() {
        let zone = Zone::new();
        let policy = zone.pin();
        let keys = zone.dnskeys();
        let check = |policy: &TrustPolicy, bytes: &[u8], keys: &[Rr]| {
            let resp = message::parse_response(bytes).unwrap();
            let mut s = CallValidation::new(policy);
            s.check(&resp.answers, &resp, INST, 33, "SRV", &mut |_| {
                Ok(keys.to_vec())
            })
        };
        // the port changed after signing
        let e = check(&policy, &zone.srv_response(443, 6385), &keys).unwrap_err();
        assert!(
            matches!(&e, Error::Auth(m) if m.contains("SRV baremetal") && m.contains("does not match")),
            "{e:?}"
        );
        // another zone's keys under our pin
        let other = Zone::new();
        let e = check(&policy, &other.srv_response(6385, 6385), &other.dnskeys()).unwrap_err();
        assert!(
            matches!(&e, Error::Auth(m) if m.contains("not in the trust anchor")),
            "{e:?}"
        );
        // no DNSKEY served
        let e = check(&policy, &zone.srv_response(6385, 6385), &[]).unwrap_err();
        assert!(matches!(&e, Error::Auth(_)), "{e:?}");
        // no RRSIG at all: the exchange discards it, the check refuses it
        let mut bare = zone.srv_response(6385, 6385);
        let srv_end = crate::wire::record_offsets(&bare).unwrap()[0].2;
        bare[7] = 1; // ANCOUNT 1: the RRSIG is cut off
        bare.truncate(srv_end);
        let resp = message::parse_response(&bare).unwrap();
        assert!(signed_answer(&resp, INST, 33)
            .unwrap_err()
            .contains("no DNSSEC signature (RRSIG) over baremetal"));
        let e = check(&policy, &bare, &keys).unwrap_err();
        assert!(
            matches!(&e, Error::Auth(m) if m.contains("no signature")),
            "{e:?}"
        );
    }
}

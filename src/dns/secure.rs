//! DNSSEC validation of what a unicast lookup uses, when `Config.trust` is
//! set (docs/DNS.md, "Validation"). The queries carry the DO bit, so the
//! server sends the RRSIGs with each RRset; the DNSKEY RRset of each signer
//! zone is asked once per lookup call and kept for the rest of it; every
//! RRset used (SRV, TXT, A, AAAA) goes through `trust::Validator` with the
//! whole response and the signer's keys as the related records.

use simple_dns::{Label, Name, ResourceRecord};

use super::message::Response;
use crate::error::{Error, Result};
use crate::trust::{self, rtype, Rr, Rrsig, TrustPolicy, Validator};
use crate::wire;

/// Most signer zones whose keys one lookup call asks for: a hostile answer
/// with RRSIGs naming many signers costs at most this many queries.
const MAX_SIGNERS: usize = 4;

/// A record as the validator takes it: owner labels, type, class and TTL
/// as received, RDATA written out uncompressed. None for an owner name the
/// validator cannot hold (it never is one a lookup asked for).
pub(crate) fn trust_rr(rr: &ResourceRecord<'_>) -> Option<Rr> {
    let owner = trust::Name::from_labels(rr.name.get_labels().iter().map(|l| l.as_ref())).ok()?;
    Some(Rr {
        owner,
        rtype: wire::rr_type(rr),
        class: u16::from(rr.class),
        ttl: rr.ttl,
        rdata: wire::rdata_bytes(rr),
    })
}

/// Every record of a response, in the validator's form.
pub(crate) fn response_records(resp: &Response) -> Vec<Rr> {
    resp.answers
        .iter()
        .chain(&resp.authority)
        .chain(&resp.additional)
        .filter_map(trust_rr)
        .collect()
}

/// The RRset `records` as the validator takes it.
pub(crate) fn rrset_of<'a>(records: impl Iterator<Item = &'a ResourceRecord<'static>>) -> Vec<Rr> {
    records.filter_map(trust_rr).collect()
}

/// A name of the validator as a query name.
pub(crate) fn query_name(n: &trust::Name) -> Name<'static> {
    let labels: Vec<Label<'static>> = n
        .labels()
        .map(|l| Label::new_unchecked(l.to_vec()))
        .collect();
    Name::new_with_labels(&labels)
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
pub(crate) struct Session<'a> {
    validator: Validator<'a>,
    /// (signer, its DNSKEY and RRSIG records as served; empty when the
    /// server had none).
    keys: Vec<(trust::Name, Vec<Rr>)>,
}

impl<'a> Session<'a> {
    pub(crate) fn new(policy: &'a TrustPolicy) -> Session<'a> {
        Session {
            validator: policy.validator(),
            keys: Vec::new(),
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
        for signer in signers(&related, &first.owner, first.rtype) {
            if !self.keys.iter().any(|(s, _)| *s == signer) {
                if self.keys.len() >= MAX_SIGNERS {
                    continue;
                }
                let got = fetch_keys(&signer)?;
                self.keys.push((signer.clone(), got));
            }
            if let Some((_, k)) = self.keys.iter().find(|(s, _)| *s == signer) {
                related.extend(k.iter().cloned());
            }
        }
        // A DNSKEY RRset owned by the signer that came in the response
        // itself is used as well: the validator picks what it needs.
        self.validator
            .validate(rrset, &related)
            .map(|_| ())
            .map_err(|e| Error::Auth(format!("{what} {shown} does not validate: {e}")))
    }
}

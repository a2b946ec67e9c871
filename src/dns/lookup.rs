//! Lookup and browse over unicast DNS (RFC 6763 s4-s7, s11): SRV and TXT
//! of `<type>._openstack._tcp.<domain>.`, then A/AAAA of the SRV target,
//! into the same URL and properties as over mDNS (SPEC 4, through
//! `crate::endpoint`).

use std::net::IpAddr;

use simple_dns::rdata::RData;
use simple_dns::Name;

use super::exchange::ExchangeError;
use super::message::{self, Response, NOERROR, NXDOMAIN};
use super::secure::{self, CallValidation};
use super::Client;
use crate::error::{Error, Result};
use crate::service::{Lookup, ResolvedService, ScopedAddr, ServiceType};
use crate::trust;
use crate::wire::{T_A, T_AAAA, T_PTR, T_SRV, T_TXT};

/// DNSKEY (RFC 4034 s2).
const T_DNSKEY: u16 = 48;

/// Most browse domains (RFC 6763 s11) and instances we follow.
const MAX_BROWSE_DOMAINS: usize = 16;
const MAX_INSTANCES: usize = 256;
/// Most CNAME steps followed within one answer.
const MAX_CNAMES: usize = 8;
/// CNAME (RFC 1035 s3.3.1).
const T_CNAME: u16 = 5;

/// `_openstack._tcp.<domain>` (SPEC 5: the API SIG's unicast form).
pub fn service_name(domain: &str) -> String {
    format!("_openstack._tcp.{domain}")
}

/// `<type>._openstack._tcp.<domain>`.
pub fn instance_name(service_type: &ServiceType, domain: &str) -> String {
    format!("{service_type}.{}", service_name(domain))
}

/// What one question got.
#[derive(Debug)]
enum Answer {
    Records(Response),
    /// RFC 2308 s2.1: the name does not exist.
    NxDomain,
    /// RFC 2308 s2.2: the name exists, not with this type.
    NoData,
    /// Another RCODE (SERVFAIL, REFUSED, ...).
    Rcode(u16),
}

impl Client {
    /// Ask for `qname` (dotted text, no escapes).
    fn ask(&self, qname: &str, qtype: u16) -> Result<Answer> {
        let n = message::name(qname).map_err(|e| Error::InvalidArgument(e.0))?;
        self.ask_name(&n, qname, qtype)
    }

    /// Ask for the name `n`, shown as `qname` in errors.
    fn ask_name(&self, n: &Name<'static>, qname: &str, qtype: u16) -> Result<Answer> {
        let mut req = message::query_name(crate::random::message_id(), n, qtype)
            .map_err(|e| Error::InvalidArgument(e.0))?;
        // With validation on, the server is asked for the RRSIGs too.
        if self.trust.is_some() && !message::set_dnssec_ok(&mut req) {
            return Err(Error::Internal("the query has no OPT record".into()));
        }
        let owner = message::name_text(n);
        let resp = match self.trust {
            // Validating: an answer without signatures is discarded and
            // the wait goes on for the genuine one.
            Some(_) => {
                let accept = |r: &Response| secure::signed_answer(r, &owner, qtype);
                self.exchange_accepting(req, self.lookup_attempts, &accept)
            }
            None => self.exchange(req, self.lookup_attempts),
        }
        .map_err(|e| lookup_error(qname, e))?;
        Ok(match resp.rcode {
            NXDOMAIN => Answer::NxDomain,
            // The records may sit at the end of a CNAME chain.
            NOERROR
                if message::records_of(
                    &resp.answers,
                    &follow_cnames(&resp.answers, &owner).0,
                    qtype,
                )
                .next()
                .is_none() =>
            {
                Answer::NoData
            }
            NOERROR => Answer::Records(resp),
            r => Answer::Rcode(r),
        })
    }

    /// The DNSKEY RRset of the zone `signer` with its RRSIGs, as served
    /// (nothing when the server has none).
    fn fetch_keys(&self, signer: &trust::Name) -> Result<Vec<trust::Rr>> {
        let n = crate::wire::dns_name(signer);
        let text = message::name_text(&n);
        Ok(match self.ask_name(&n, &text, T_DNSKEY)? {
            Answer::Records(r) => secure::response_records(&r),
            _ => Vec::new(),
        })
    }

    /// One resolution of `service_type` (one attempt: the retry policy is
    /// the caller's): `Lookup::Missing` with a reason naming NXDOMAIN,
    /// NODATA or the server's RCODE when it is not there.
    pub(crate) fn resolve(&self, service_type: &ServiceType) -> Result<Lookup> {
        let name = message::name_under(service_type, &service_name(&self.domain))
            .map_err(|e| Error::InvalidArgument(e.0))?;
        self.resolve_instance(&name, &instance_name(service_type, &self.domain))
    }

    /// One resolution of the instance `name` (shown as `instance`).
    fn resolve_instance(&self, name: &Name<'static>, instance: &str) -> Result<Lookup> {
        let owner = message::name_text(name);
        // The instance may come from a server (browse): shown escaped.
        let shown = message::printable(instance);
        let not_there = |what: &str, a: &Answer| match a {
            Answer::NxDomain => format!("{what}: NXDOMAIN (no such name)"),
            Answer::NoData => format!("{what}: NODATA (the name has no such record)"),
            Answer::Rcode(r) => format!("{what}: the server answered {}", message::rcode_name(*r)),
            Answer::Records(_) => String::new(),
        };
        // With validation on: every RRset used below validates, or the
        // lookup fails with Error::Auth (docs/DNS.md, "Validation").
        let mut validation = self.trust.as_ref().map(CallValidation::new);
        let mut fetch = |s: &trust::Name| self.fetch_keys(s);
        let srv = match self.ask_name(name, instance, T_SRV)? {
            Answer::Records(r) => r,
            other => return Ok(Lookup::Missing(not_there(&format!("SRV {shown}"), &other))),
        };
        if let Some(s) = validation.as_mut() {
            s.check(&srv.answers, &srv, &owner, T_SRV, "SRV", &mut fetch)?;
        }
        // RFC 2782: the lowest priority, then the highest weight.
        let Some((port, target, target_name)) = choose_srv(&srv.answers, &owner) else {
            return Ok(Lookup::Missing(format!("SRV {shown}: no usable record")));
        };
        // RFC 2782: a target of "." says the service is not available.
        if target_name.get_labels().is_empty() {
            return Ok(Lookup::Missing(format!(
                "SRV {shown}: the service is not available (target \".\")"
            )));
        }
        // The target goes into the URL: a host name only (or our own
        // address-host form, replaced by an address, SPEC 4.5).
        if !(is_host_name(&target_name) || holds_addresses(instance, &target)) {
            return Err(Error::NoValidAddress(format!(
                "SRV {shown}: the target {} is not a host name (letters, digits and hyphens)",
                message::printable(&target)
            )));
        }
        // RFC 6763 s6.1: every instance has a TXT; a missing one reads as
        // no properties (without validation: a denial is not signed here,
        // so with validation on a missing TXT is refused).
        let txt = match self.ask_name(name, instance, T_TXT)? {
            Answer::Records(r) => {
                if let Some(s) = validation.as_mut() {
                    s.check(&r.answers, &r, &owner, T_TXT, "TXT", &mut fetch)?;
                }
                message::records_of(&r.answers, &owner, T_TXT)
                    .next()
                    .map(txt_strings)
                    .unwrap_or_default()
            }
            other if validation.is_some() => {
                return Err(Error::Auth(format!(
                    "{} (an unsigned denial, not taken with validation on)",
                    not_there(&format!("TXT {shown}"), &other)
                )))
            }
            _ => Vec::new(),
        };
        // RFC 6763 s12.2: a server adds the target's A/AAAA to an SRV
        // answer (BIND and Knot do for a target in their zone); the same
        // response, so the same trust (and under TSIG the same MAC). Only
        // without them (or, validating, without valid ones) are A and
        // AAAA asked.
        let mut addresses = Vec::new();
        for qtype in [T_A, T_AAAA] {
            if message::records_of(&srv.additional, &target, qtype)
                .next()
                .is_none()
            {
                continue;
            }
            let valid = match validation.as_mut() {
                None => true,
                Some(s) => s
                    .check(&srv.additional, &srv, &target, qtype, "address", &mut fetch)
                    .is_ok(),
            };
            if valid {
                add_addresses(&mut addresses, &srv.additional, &target, qtype);
            }
        }
        if addresses.is_empty() {
            for qtype in [T_A, T_AAAA] {
                if let Answer::Records(r) = self.ask(&target, qtype)? {
                    // The addresses may sit at the end of a CNAME chain.
                    let (owner, via) = follow_cnames(&r.answers, &target);
                    if let Some(s) = validation.as_mut() {
                        for c in &via {
                            s.check(&r.answers, &r, c, T_CNAME, "CNAME", &mut fetch)?;
                        }
                        let what = if qtype == T_A { "A" } else { "AAAA" };
                        s.check(&r.answers, &r, &owner, qtype, what, &mut fetch)?;
                    }
                    add_addresses(&mut addresses, &r.answers, &owner, qtype);
                }
            }
        }
        Ok(Lookup::Found(ResolvedService {
            validated: validation.is_some(),
            instance: instance.to_owned(),
            target,
            port,
            txt,
            addresses,
        }))
    }

    /// The instances of `_openstack._tcp` in our domain and in the browse
    /// domains it lists (RFC 6763 s11, `b._dns-sd._udp.<domain>`).
    pub fn browse(&self) -> Result<Vec<ResolvedService>> {
        let mut domains = vec![self.domain.clone()];
        let b = format!("b._dns-sd._udp.{}", self.domain);
        if let Answer::Records(r) = self.ask(&b, T_PTR)? {
            add_browse_domains(&mut domains, &r.answers, &b);
        }
        // (text, name): the same instance once, whatever its case.
        let mut instances: Vec<(String, Name<'static>)> = Vec::new();
        for d in &domains {
            let svc = service_name(d);
            if let Answer::Records(r) = self.ask(&svc, T_PTR)? {
                add_instances(&mut instances, &r.answers, &svc);
            }
        }
        let mut out = Vec::new();
        for (text, name) in instances {
            match self.resolve_instance(&name, &text) {
                Ok(Lookup::Found(found)) => out.push(found),
                Ok(Lookup::Missing(_)) => {}
                // The handle is closing, or a bug: the browse ends.
                Err(e @ (Error::Closed(_) | Error::Internal(_))) => return Err(e),
                // One instance that times out, does not validate or is
                // unusable does not cost the others.
                Err(e) => crate::log::log(
                    crate::log::LogLevel::Warning,
                    &format!("browse: skipping {}: {e}", message::printable(&text)),
                ),
            }
        }
        Ok(out)
    }
}

/// The browse domains the PTRs of `b` (`b._dns-sd._udp.<domain>`) among
/// `rrs` list (RFC 6763 s11; only PTRs owned by `b`), appended once each,
/// up to `MAX_BROWSE_DOMAINS` in all.
fn add_browse_domains(
    domains: &mut Vec<String>,
    rrs: &[simple_dns::ResourceRecord<'static>],
    b: &str,
) {
    for rr in message::records_of(rrs, b, T_PTR) {
        if let RData::PTR(p) = &rr.rdata {
            let d = message::name_text(&p.0);
            if !domains.contains(&d) && domains.len() < MAX_BROWSE_DOMAINS {
                domains.push(d);
            }
        }
    }
}

/// The instances the PTRs of `svc` among `rrs` name, appended once each
/// (whatever their case), up to `MAX_INSTANCES` in all: (text, name), the
/// instance's own labels (its first may hold dots), not a text to split
/// again.
fn add_instances(
    instances: &mut Vec<(String, Name<'static>)>,
    rrs: &[simple_dns::ResourceRecord<'static>],
    svc: &str,
) {
    for rr in message::records_of(rrs, svc, T_PTR) {
        if let RData::PTR(p) = &rr.rdata {
            let t = message::name_text(&p.0);
            if !instances.iter().any(|(i, _)| *i == t) && instances.len() < MAX_INSTANCES {
                instances.push((t, p.0.clone().into_owned()));
            }
        }
    }
}

/// The name whose records answer for `name` among `rrs`: `name` itself,
/// or the end of the CNAME chain starting there (RFC 1034 s3.6.2), at
/// most `MAX_CNAMES` steps; with the CNAME owners passed on the way.
fn follow_cnames(rrs: &[simple_dns::ResourceRecord<'static>], name: &str) -> (String, Vec<String>) {
    let mut at = name.to_ascii_lowercase();
    let mut passed = Vec::new();
    while passed.len() < MAX_CNAMES {
        let next = message::records_of(rrs, &at, T_CNAME).find_map(|r| match &r.rdata {
            RData::CNAME(c) => Some(message::name_text(&c.0)),
            _ => None,
        });
        match next {
            Some(n) if n != at && !passed.contains(&n) => {
                passed.push(std::mem::replace(&mut at, n));
            }
            _ => break,
        }
    }
    (at, passed)
}

/// RFC 2782: the (port, target as text, target) of the SRV record of
/// `owner` with the lowest priority, then the highest weight (the first
/// of equals).
fn choose_srv(
    rrs: &[simple_dns::ResourceRecord<'static>],
    owner: &str,
) -> Option<(u16, String, Name<'static>)> {
    message::records_of(rrs, owner, T_SRV)
        .filter_map(|r| match &r.rdata {
            RData::SRV(s) => Some((s.priority, u16::MAX - s.weight, s.port, &s.target)),
            _ => None,
        })
        .min_by_key(|&(p, w, _, _)| (p, w))
        .map(|(_, _, port, target)| {
            (
                port,
                message::name_text(target),
                target.clone().into_owned(),
            )
        })
}

/// RFC 952 / RFC 1123 s2.1: labels of letters, digits and hyphens, not
/// starting or ending with a hyphen (no underscore, no `@`, `/`, `:`, no
/// control byte: the name goes into a URL).
fn is_host_name(n: &Name<'_>) -> bool {
    let labels = n.get_labels();
    !labels.is_empty()
        && labels.iter().all(|l| {
            let b: &[u8] = l.as_ref();
            !b.is_empty()
                && b.len() <= 63
                && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
                && b[0] != b'-'
                && b[b.len() - 1] != b'-'
        })
}

/// Whether `target` (text) is the instance itself or its address host:
/// a name replaced by an address in the URL (`target_holds_addresses`).
fn holds_addresses(instance: &str, target: &str) -> bool {
    address_host(instance).is_some_and(|h| h.eq_ignore_ascii_case(target))
        || target.eq_ignore_ascii_case(instance)
}

/// The `qtype` (A or AAAA) records of `owner` among `rrs`, appended once
/// each, in order.
fn add_addresses(
    out: &mut Vec<ScopedAddr>,
    rrs: &[simple_dns::ResourceRecord<'static>],
    owner: &str,
    qtype: u16,
) {
    for rr in message::records_of(rrs, owner, qtype) {
        let addr = match &rr.rdata {
            RData::A(a) => IpAddr::from(std::net::Ipv4Addr::from(a.address)),
            RData::AAAA(a) => IpAddr::from(std::net::Ipv6Addr::from(a.address)),
            _ => continue,
        };
        if !out.iter().any(|s| s.addr == addr) {
            out.push(ScopedAddr { addr, iface: 0 });
        }
    }
}

/// TXT strings of a record, byte-exact.
fn txt_strings(rr: &simple_dns::ResourceRecord<'static>) -> Vec<Vec<u8>> {
    match &rr.rdata {
        RData::TXT(_) => {
            // Read the strings back from the wire form so that binary
            // values stay exact.
            let bytes = crate::wire::rdata_bytes(rr);
            let mut out = Vec::new();
            let mut p = 0;
            while p < bytes.len() {
                let n = bytes[p] as usize;
                out.push(bytes[p + 1..(p + 1 + n).min(bytes.len())].to_vec());
                p += 1 + n;
            }
            // RFC 6763 s6.1: one empty string is no properties.
            if out == [Vec::<u8>::new()] {
                out.clear();
            }
            out
        }
        _ => Vec::new(),
    }
}

/// The service type of an instance found in any domain.
pub fn service_type_of(instance: &str) -> String {
    match instance.to_ascii_lowercase().find("._openstack._tcp.") {
        Some(i) => instance[..i].to_owned(),
        None => instance.split('.').next().unwrap_or_default().to_owned(),
    }
}

/// The host name that holds the addresses of an IP-literal endpoint we
/// publish: `<type>.<domain>.` for `<type>._openstack._tcp.<domain>.`.
/// (Over mDNS the instance name itself holds them, SPEC 3.4; a unicast
/// zone refuses that as a host name: BIND's check-names rejects the
/// underscores of an SRV target or an A owner, RFC 952/1123 host names.)
pub fn address_host(instance: &str) -> Option<String> {
    let i = instance.to_ascii_lowercase().find("._openstack._tcp.")?;
    Some(format!(
        "{}.{}",
        &instance[..i],
        &instance[i + "._openstack._tcp.".len()..]
    ))
}

/// SPEC 4.5 over DNS: whether the SRV target of `found` holds the
/// instance's addresses: it is the address host (`<type>.<domain>.`, what
/// we publish for an IP-literal endpoint) or the instance itself. The URL
/// then carries the chosen address, as for a `.local.` target over mDNS;
/// any other target name is kept in the URL.
pub(crate) fn target_holds_addresses(found: &ResolvedService) -> bool {
    holds_addresses(&found.instance, &found.target)
}

/// An exchange failure during a lookup as the crate's error (`qname`
/// may come from a server: shown escaped).
pub(crate) fn lookup_error(qname: &str, e: ExchangeError) -> Error {
    let qname = &message::printable(qname);
    match e {
        ExchangeError::Refused { .. } | ExchangeError::KeyRejected { .. } => {
            Error::Auth(format!("lookup of {qname}: {e}"))
        }
        ExchangeError::Io { .. } => Error::Io(format!("lookup of {qname}: {e}")),
        ExchangeError::Request(m) => Error::InvalidArgument(m),
        ExchangeError::Cancelled => Error::Closed(format!("lookup of {qname}: {e}")),
        ExchangeError::Timeout { .. } | ExchangeError::Malformed { .. } => {
            Error::NotFound(format!("lookup of {qname}: {e}"))
        }
    }
}

#[cfg(test)]
mod tests;

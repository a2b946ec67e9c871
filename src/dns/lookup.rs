//! Lookup and browse over unicast DNS (RFC 6763 s4-s7, s11): SRV and TXT
//! of `<type>._openstack._tcp.<domain>.`, then A/AAAA of the SRV target,
//! into the same URL and properties as over mDNS (SPEC 4, through
//! `crate::endpoint`).

use std::net::IpAddr;
use std::time::Duration;

use simple_dns::rdata::RData;

use super::exchange::ExchangeError;
use super::message::{self, Response, NOERROR, NXDOMAIN};
use super::Client;
use crate::endpoint::{self, Properties};
use crate::error::{Error, Result};
use crate::route::RouteLookup;
use crate::service::{ResolvedService, ScopedAddr};
use crate::wire::{T_A, T_AAAA, T_PTR, T_SRV, T_TXT};

/// Most browse domains (RFC 6763 s11) and instances we follow.
const MAX_BROWSE_DOMAINS: usize = 16;
const MAX_INSTANCES: usize = 256;
/// First wait between not-found retries, doubled after each (SPEC 2).
const FIRST_WAIT: Duration = Duration::from_millis(100);

/// `_openstack._tcp.<domain>` (SPEC 5: the API SIG's unicast form).
pub fn service_name(domain: &str) -> String {
    format!("_openstack._tcp.{domain}")
}

/// `<type>._openstack._tcp.<domain>`.
pub fn instance_name(service_type: &str, domain: &str) -> Result<String> {
    endpoint::instance_name(service_type)?;
    Ok(format!("{service_type}.{}", service_name(domain)))
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
    fn ask(&self, qname: &str, qtype: u16) -> Result<Answer> {
        let req = message::query(crate::random::message_id(), qname, qtype)
            .map_err(Error::InvalidArgument)?;
        let resp = self
            .exchange(req, self.lookup_attempts)
            .map_err(|e| lookup_error(qname, e))?;
        Ok(match resp.rcode {
            NXDOMAIN => Answer::NxDomain,
            NOERROR
                if message::records_of(&resp.answers, qname, qtype)
                    .next()
                    .is_none() =>
            {
                Answer::NoData
            }
            NOERROR => Answer::Records(resp),
            r => Answer::Rcode(r),
        })
    }

    /// One resolution of `service_type`: Ok(Err(reason)) when it is not
    /// there (a reason naming NXDOMAIN, NODATA or the server's RCODE).
    pub fn resolve(
        &self,
        service_type: &str,
    ) -> Result<std::result::Result<ResolvedService, String>> {
        let instance = instance_name(service_type, &self.domain)?;
        self.resolve_instance(&instance)
    }

    fn resolve_instance(
        &self,
        instance: &str,
    ) -> Result<std::result::Result<ResolvedService, String>> {
        let not_there = |what: &str, a: &Answer| match a {
            Answer::NxDomain => format!("{what}: NXDOMAIN (no such name)"),
            Answer::NoData => format!("{what}: NODATA (the name has no such record)"),
            Answer::Rcode(r) => format!("{what}: the server answered {}", message::rcode_name(*r)),
            Answer::Records(_) => String::new(),
        };
        let srv = match self.ask(instance, T_SRV)? {
            Answer::Records(r) => r,
            other => return Ok(Err(not_there(&format!("SRV {instance}"), &other))),
        };
        // RFC 2782: the lowest priority, then the highest weight.
        let Some((port, target)) = message::records_of(&srv.answers, instance, T_SRV)
            .filter_map(|r| match &r.rdata {
                RData::SRV(s) => Some((
                    s.priority,
                    u16::MAX - s.weight,
                    s.port,
                    message::name_text(&s.target),
                )),
                _ => None,
            })
            .min()
            .map(|(_, _, port, target)| (port, target))
        else {
            return Ok(Err(format!("SRV {instance}: no usable record")));
        };
        // RFC 6763 s6.1: every instance has a TXT; a missing one reads as
        // no properties.
        let txt = match self.ask(instance, T_TXT)? {
            Answer::Records(r) => message::records_of(&r.answers, instance, T_TXT)
                .next()
                .map(txt_strings)
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        // RFC 6763 s12.2: a server adds the target's A/AAAA to an SRV
        // answer (BIND and Knot do for a target in their zone); the same
        // response, so the same trust (and under TSIG the same MAC). Only
        // without them are A and AAAA asked.
        let mut addresses = Vec::new();
        add_addresses(&mut addresses, &srv.additional, &target);
        if addresses.is_empty() {
            for qtype in [T_A, T_AAAA] {
                if let Answer::Records(r) = self.ask(&target, qtype)? {
                    add_addresses(&mut addresses, &r.answers, &target);
                }
            }
        }
        Ok(Ok(ResolvedService {
            instance: instance.to_owned(),
            target,
            port,
            txt,
            addresses,
        }))
    }

    /// SPEC 4 over DNS: up to `lookup_attempts` resolutions with the
    /// doubling waits between not-found answers; the failure says why
    /// (NXDOMAIN, NODATA, a server RCODE; a timeout or a refused answer
    /// ends at once with its own error).
    pub fn get_endpoint(
        &self,
        service_type: &str,
        skip_loopback: bool,
        skip_link_local: bool,
        routes: &dyn RouteLookup,
        warn: &mut dyn FnMut(&str),
        sleep: &mut dyn FnMut(Duration),
    ) -> Result<(String, Properties)> {
        let mut wait = FIRST_WAIT;
        let mut last = String::new();
        for attempt in 1..=self.lookup_attempts {
            match self.resolve(service_type)? {
                Ok(found) => {
                    return url_of(
                        service_type,
                        &found,
                        skip_loopback,
                        skip_link_local,
                        routes,
                        warn,
                    )
                }
                Err(why) => last = why,
            }
            if attempt < self.lookup_attempts {
                sleep(wait);
                wait = wait.saturating_mul(2);
            }
        }
        Err(Error::NotFound(format!(
            "cannot find {service_type} service in DNS domain {}: {last}",
            self.domain
        )))
    }

    /// The instances of `_openstack._tcp` in our domain and in the browse
    /// domains it lists (RFC 6763 s11, `b._dns-sd._udp.<domain>`).
    pub fn browse(&self) -> Result<Vec<ResolvedService>> {
        let mut domains = vec![self.domain.clone()];
        if let Answer::Records(r) = self.ask(&format!("b._dns-sd._udp.{}", self.domain), T_PTR)? {
            for rr in &r.answers {
                if let RData::PTR(p) = &rr.rdata {
                    let d = message::name_text(&p.0);
                    if !domains.contains(&d) && domains.len() < MAX_BROWSE_DOMAINS {
                        domains.push(d);
                    }
                }
            }
        }
        let mut instances: Vec<String> = Vec::new();
        for d in &domains {
            let svc = service_name(d);
            if let Answer::Records(r) = self.ask(&svc, T_PTR)? {
                for rr in message::records_of(&r.answers, &svc, T_PTR) {
                    if let RData::PTR(p) = &rr.rdata {
                        let i = message::name_text(&p.0);
                        if !instances.contains(&i) && instances.len() < MAX_INSTANCES {
                            instances.push(i);
                        }
                    }
                }
            }
        }
        let mut out = Vec::new();
        for i in instances {
            if let Ok(found) = self.resolve_instance(&i)? {
                out.push(found);
            }
        }
        Ok(out)
    }
}

/// The A/AAAA of `owner` among `rrs`, appended once each, in order.
fn add_addresses(
    out: &mut Vec<ScopedAddr>,
    rrs: &[simple_dns::ResourceRecord<'static>],
    owner: &str,
) {
    for qtype in [T_A, T_AAAA] {
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

/// SPEC 4.2-4.7 through `crate::endpoint`. One rule for DNS: an SRV target
/// that is the instance's address host (`<type>.<domain>.`, what we
/// publish for an IP-literal endpoint) gives the chosen address in the
/// URL, as a `.local.` target does over mDNS; any other target name is
/// kept in the URL (SPEC 4.5).
pub fn url_of(
    service_type: &str,
    found: &ResolvedService,
    skip_loopback: bool,
    skip_link_local: bool,
    routes: &dyn RouteLookup,
    warn: &mut dyn FnMut(&str),
) -> Result<(String, Properties)> {
    let mut s = found.clone();
    let ours = address_host(&s.instance).is_some_and(|h| h.eq_ignore_ascii_case(&s.target));
    if ours || s.target.eq_ignore_ascii_case(&s.instance) {
        // endpoint::url_host takes the address for a `.local.` target.
        s.target = "address.local.".into();
    }
    endpoint::lookup_result(
        service_type,
        &s,
        skip_loopback,
        skip_link_local,
        routes,
        &endpoint::if_name,
        warn,
    )
}

/// An exchange failure during a lookup as the crate's error.
pub(crate) fn lookup_error(qname: &str, e: ExchangeError) -> Error {
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

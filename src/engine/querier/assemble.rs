//! Putting a `ResolvedService` together from cached records (RFC 6763 s6,
//! s12): SRV and TXT of the instance, A/AAAA of the SRV target.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Instant;

use simple_dns::rdata::{RData, SRV};
use simple_dns::Name;

use crate::engine::cache::{Cache, RecordId};
use crate::service::{ResolvedService, ScopedAddr};
use crate::wire::{T_A, T_AAAA, T_SRV, T_TXT};

/// The most recently received live SRV of `instance`.
pub(crate) fn srv<'c>(
    cache: &'c Cache,
    now: Instant,
    instance: &Name<'_>,
) -> Option<&'c SRV<'static>> {
    cache
        .live(now, instance, T_SRV)
        .max_by_key(|(id, r)| (r.received, *id))
        .and_then(|(_, r)| match &r.rr.rdata {
            RData::SRV(srv) => Some(srv),
            _ => None,
        })
}

/// The most recently received live TXT of `instance`, as its strings.
/// RFC 6763 s6.1: zero-length RDATA and a single empty string both mean "no
/// properties". RFC 6763 s6.4: a string starting with '=' (no key) is
/// ignored; every other string is kept byte-exact.
pub(crate) fn txt(cache: &Cache, now: Instant, instance: &Name<'_>) -> Option<Vec<Vec<u8>>> {
    let (_, rec) = cache
        .live(now, instance, T_TXT)
        .max_by_key(|(id, r)| (r.received, *id))?;
    Some(match &rec.rr.rdata {
        RData::TXT(txt) => txt
            .iter_raw()
            .map(|(key, value)| {
                let mut s = key.to_vec();
                if let Some(v) = value {
                    s.push(b'=');
                    s.extend_from_slice(v);
                }
                s
            })
            .collect(),
        _ => Vec::new(),
    })
}

/// Live A and AAAA records of `target`, in the order first received.
pub(crate) fn addresses(cache: &Cache, now: Instant, target: &Name<'_>) -> Vec<ScopedAddr> {
    let mut found: Vec<(RecordId, ScopedAddr)> = Vec::new();
    for t in [T_A, T_AAAA] {
        for (id, rec) in cache.live(now, target, t) {
            let addr = match &rec.rr.rdata {
                RData::A(a) => IpAddr::V4(Ipv4Addr::from(a.address)),
                RData::AAAA(a) => IpAddr::V6(Ipv6Addr::from(a.address)),
                _ => continue,
            };
            found.push((
                id,
                ScopedAddr {
                    addr,
                    iface: rec.iface,
                },
            ));
        }
    }
    found.sort_unstable_by_key(|(id, _)| *id);
    found.into_iter().map(|(_, a)| a).collect()
}

/// What the cache knows of one instance.
pub(crate) struct Partial<'c> {
    pub target: Option<&'c Name<'static>>,
    pub service: Option<ResolvedService>,
}

/// SRV + TXT (+ addresses, possibly none) of `instance`, named `display`.
pub(crate) fn gather<'c>(
    cache: &'c Cache,
    now: Instant,
    instance: &Name<'_>,
    display: &str,
) -> Partial<'c> {
    let Some(srv) = srv(cache, now, instance) else {
        return Partial {
            target: None,
            service: None,
        };
    };
    let target = &srv.target;
    let Some(txt) = txt(cache, now, instance) else {
        return Partial {
            target: Some(target),
            service: None,
        };
    };
    let service = ResolvedService {
        validated: false,
        instance: with_dot(display),
        target: dotted(target),
        port: srv.port,
        txt,
        addresses: addresses(cache, now, target),
    };
    Partial {
        target: Some(target),
        service: Some(service),
    }
}

/// A complete answer: SRV, TXT and at least one address of the target.
pub(crate) fn complete(
    cache: &Cache,
    now: Instant,
    instance: &Name<'_>,
    display: &str,
) -> Option<ResolvedService> {
    let srv = srv(cache, now, instance)?;
    let addresses = addresses(cache, now, &srv.target);
    if addresses.is_empty() {
        return None;
    }
    Some(ResolvedService {
        validated: false,
        instance: with_dot(display),
        target: dotted(&srv.target),
        port: srv.port,
        txt: txt(cache, now, instance)?,
        addresses,
    })
}

/// A name as the caller wrote it, with a trailing dot added if it had none.
fn with_dot(text: &str) -> String {
    let mut s = String::with_capacity(text.len() + 1);
    s.push_str(text);
    if !text.ends_with('.') {
        s.push('.');
    }
    s
}

/// A name written with its trailing dot.
pub(crate) fn dotted(name: &Name<'_>) -> String {
    let mut s = name.to_string();
    s.push('.');
    s
}

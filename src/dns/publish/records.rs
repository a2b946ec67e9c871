//! Our records of one registration and the UPDATEs that add, re-assert
//! and withdraw them (RFC 2136), as pure functions of the plan.

use std::time::Instant;

use simple_dns::{Name, ResourceRecord};

use super::super::lookup::{instance_name, service_name};
use super::super::message::{self, Update};
use super::owner;
use crate::error::{Error, Refused, Result};
use crate::service::{ServiceInfo, ServiceType};
use crate::wire;

/// One registration of ours.
#[derive(Clone, Debug)]
pub(super) struct Reg {
    pub(super) instance: String,
    pub(super) zone: String,
    pub(super) srv: ResourceRecord<'static>,
    pub(super) txt: ResourceRecord<'static>,
    /// The address host (IP-literal endpoints only).
    pub(super) host: Option<Name<'static>>,
    /// `<type>.<domain>.`, where an IP-literal endpoint's addresses live
    /// (read back for a hostname endpoint too: a previous run may have
    /// left addresses there).
    pub(super) addr_host: Name<'static>,
    /// Our A/AAAA records (of `host`).
    pub(super) addrs: Vec<ResourceRecord<'static>>,
    /// `_zc-owner.<instance>` and our marker TXT there.
    pub(super) marker_name: Name<'static>,
    pub(super) marker: ResourceRecord<'static>,
    /// Everything we add: PTR, SRV, TXT, A/AAAA, the marker.
    pub(super) records: Vec<ResourceRecord<'static>>,
    pub(super) next_refresh: Instant,
}

impl Reg {
    /// Our RRsets of the marker's kinds (SRV, TXT, A, AAAA).
    pub(super) fn sets(&self) -> [Vec<ResourceRecord<'static>>; 4] {
        let of = |k: owner::Kind| {
            self.addrs
                .iter()
                .filter(|r| owner::Kind::of(r) == Some(k))
                .cloned()
                .collect::<Vec<_>>()
        };
        [
            vec![self.srv.clone()],
            vec![self.txt.clone()],
            of(owner::Kind::A),
            of(owner::Kind::Aaaa),
        ]
    }

    /// The owner names of the marker's kinds.
    pub(super) fn names(&self) -> [&Name<'static>; 4] {
        [
            &self.srv.name,
            &self.srv.name,
            &self.addr_host,
            &self.addr_host,
        ]
    }
}

/// Our records for `info` (built by `endpoint::service_info` for mDNS)
/// under `domain`, in `zone`, with `ttl`.
pub(super) fn plan(
    domain: &str,
    zone: &str,
    ttl: u32,
    service_type: &ServiceType,
    info: &ServiceInfo,
    owner_id: &str,
) -> Result<Reg> {
    let bad = |e: Refused| Error::InvalidArgument(e.0);
    let instance = instance_name(service_type, domain);
    let service = service_name(domain);
    let inst = message::name_under(service_type, &service).map_err(bad)?;
    let svc = message::name(&service).map_err(bad)?;
    let ip_literal = info.target.eq_ignore_ascii_case(&info.instance);
    let host = match ip_literal {
        true => {
            // `<type>.<domain>.` (see `lookup::address_host`).
            Some(message::name_under(service_type, domain).map_err(bad)?)
        }
        false => None,
    };
    let addr_host = message::name_under(service_type, domain).map_err(bad)?;
    let target = match &host {
        Some(h) => h.clone(),
        None => message::name(&info.target).map_err(bad)?,
    };
    let unicast = |r: ResourceRecord<'static>| r.with_cache_flush(false);
    let srv = unicast(wire::srv(&inst, &target, info.port, ttl));
    let txt = unicast(
        wire::txt(&inst, &info.txt, ttl).map_err(|e| Error::InvalidArgument(e.to_string()))?,
    );
    let addrs: Vec<ResourceRecord<'static>> = match &host {
        Some(h) => info
            .addresses
            .iter()
            .map(|a| unicast(wire::addr(h, *a, ttl, false)))
            .collect(),
        None => Vec::new(),
    };
    let mut records = vec![
        unicast(wire::ptr(&svc, &inst, ttl)),
        srv.clone(),
        txt.clone(),
    ];
    records.extend(addrs.iter().cloned());
    let marker_name = owner::marker_name(&inst).ok_or_else(|| {
        Error::InvalidArgument(format!(
            "{instance}: no room for the owner marker (the name is too long)"
        ))
    })?;
    let (v4, v6): (Vec<_>, Vec<_>) = addrs
        .iter()
        .cloned()
        .partition(|r| owner::Kind::of(r) == Some(owner::Kind::A));
    let text = owner::marker_text(
        owner_id,
        [
            std::slice::from_ref(&srv),
            std::slice::from_ref(&txt),
            &v4,
            &v6,
        ],
    );
    let marker = unicast(
        wire::txt(&marker_name, &[text.into_bytes()], ttl)
            .map_err(|e| Error::InvalidArgument(e.to_string()))?,
    );
    records.push(marker.clone());
    Ok(Reg {
        instance,
        zone: zone.to_owned(),
        srv,
        txt,
        host,
        addr_host,
        addrs,
        marker_name,
        marker,
        records,
        next_refresh: Instant::now(),
    })
}

/// Register: the names must not be in use (RFC 2136 s2.4.5).
pub(super) fn fresh(reg: &Reg) -> Update {
    let mut prerequisites = vec![message::name_not_in_use(&reg.srv.name)];
    prerequisites.extend(reg.host.iter().map(message::name_not_in_use));
    prerequisites.push(message::name_not_in_use(&reg.marker_name));
    Update {
        prerequisites,
        updates: reg.records.clone(),
    }
}

/// Re-add our records if the SRV, TXT, A/AAAA and marker RRsets there are
/// exactly ours (RFC 2136 s2.4.2): the refresh's first try.
pub(super) fn reassert(reg: &Reg) -> Update {
    let mut prerequisites = vec![
        message::rrset_equals(&reg.srv),
        message::rrset_equals(&reg.txt),
    ];
    // The whole A and AAAA RRsets must be ours.
    prerequisites.extend(reg.addrs.iter().map(message::rrset_equals));
    prerequisites.push(message::rrset_equals(&reg.marker));
    Update {
        prerequisites,
        updates: reg.records.clone(),
    }
}

/// Withdraw: if our marker is there, alone, delete each of our records by
/// value (RFC 2136 s2.5.4).
pub(super) fn withdraw(reg: &Reg) -> Update {
    Update {
        prerequisites: vec![message::rrset_equals(&reg.marker)],
        updates: reg.records.iter().map(message::delete_rr).collect(),
    }
}

//! The three UPDATEs of a registration, on the wire (no network): what
//! each section holds, by RFC 2136 rule.

use super::*;
use crate::endpoint;
use crate::service::ServiceType;
use crate::wire::{read_name, record_offsets};

fn info(url: &str) -> ServiceInfo {
    let ep = endpoint::parse_endpoint(url).unwrap();
    let addrs = match &ep.host {
        endpoint::Host::Ip(ip) => vec![*ip],
        endpoint::Host::Name(_) => vec!["198.18.0.9".parse().unwrap()],
    };
    let mut call = crate::Properties::new();
    call.set_str("ipa_debug", "1");
    endpoint::service_info(
        "baremetal",
        &ep,
        addrs,
        &crate::Properties::new(),
        Some(&call),
    )
    .unwrap()
}

/// (owner, type, class, ttl, rdata length) of every record of a section
/// (0: prerequisites, 1: updates) of an UPDATE message.
fn section(msg: &[u8], which: usize) -> Vec<(String, u16, u16, u32, usize)> {
    let pre = u16::from_be_bytes([msg[6], msg[7]]) as usize;
    let recs = record_offsets(msg).unwrap();
    let range = if which == 0 { 0..pre } else { pre..recs.len() };
    recs[range]
        .iter()
        .map(|&(start, t, end)| {
            let (name, after) = read_name(msg, start).unwrap();
            let class = u16::from_be_bytes([msg[after + 2], msg[after + 3]]);
            let ttl = u32::from_be_bytes(msg[after + 4..after + 8].try_into().unwrap());
            (name, t, class, ttl, end - after - 10)
        })
        .collect()
}

const INST: &str = "baremetal._openstack._tcp.mystack.example.test.";
const HOST: &str = "baremetal.mystack.example.test.";
const PTR_OWNER: &str = "_openstack._tcp.mystack.example.test.";

#[test]
fn ip_literal_endpoint_plans() {
    let reg = plan(
        "mystack.example.test.",
        "example.test.",
        120,
        &ServiceType::new("baremetal").unwrap(),
        &info("http://198.18.0.2:6385/baremetal"),
    )
    .unwrap();
    let wire = |u: &Update| message::update(1, &reg.zone, u).unwrap();
    // register: "name not in use" (NONE, ANY, TTL 0, no RDATA) for the
    // instance and the address host; adds PTR, SRV, TXT, A (IN, TTL 120)
    let f = wire(&fresh(&reg));
    assert_eq!(
        message::question_of(&f),
        Some(("example.test.".into(), 6, 1)),
        "zone section: the zone's SOA"
    );
    assert_eq!(
        section(&f, 0),
        vec![(INST.into(), 255, 254, 0, 0), (HOST.into(), 255, 254, 0, 0)]
    );
    let adds: Vec<(String, u16, u16, u32)> = section(&f, 1)
        .into_iter()
        .map(|(n, t, c, ttl, _)| (n, t, c, ttl))
        .collect();
    assert_eq!(
        adds,
        vec![
            (PTR_OWNER.into(), 12, 1, 120),
            (INST.into(), 33, 1, 120),
            (INST.into(), 16, 1, 120),
            (HOST.into(), 1, 1, 120),
        ]
    );
    // the SRV points at the address host; the TXT is what mDNS publishes
    assert_eq!(
        message::name_text(match &reg.srv.rdata {
            RData::SRV(s) => &s.target,
            _ => unreachable!(),
        }),
        HOST
    );
    let i = info("http://198.18.0.2:6385/baremetal");
    let mut txt_rdata = Vec::new();
    for s in &i.txt {
        txt_rdata.push(s.len() as u8);
        txt_rdata.extend_from_slice(s);
    }
    assert_eq!(wire::rdata_bytes(&reg.txt), txt_rdata);
    // take back / refresh: value-dependent prerequisites (IN, TTL 0,
    // RDATA) for SRV, TXT and A; the same adds
    let r = wire(&reassert(&reg));
    let pre: Vec<(String, u16, u16, u32)> = section(&r, 0)
        .into_iter()
        .map(|(n, t, c, ttl, len)| {
            assert!(len > 0, "value dependent: RDATA present");
            (n, t, c, ttl)
        })
        .collect();
    assert_eq!(
        pre,
        vec![
            (INST.into(), 33, 1, 0),
            (INST.into(), 16, 1, 0),
            (HOST.into(), 1, 1, 0),
        ]
    );
    assert_eq!(section(&r, 1), section(&f, 1));
    // withdraw: our SRV there; each record deleted by value (NONE, TTL 0)
    let w = wire(&withdraw(&reg));
    assert_eq!(section(&w, 0).len(), 1);
    let dels = section(&w, 1);
    assert_eq!(dels.len(), 4);
    for ((n, t, c, ttl, len), (n2, t2, _, _, len2)) in dels.iter().zip(section(&f, 1)) {
        assert_eq!((n, t, c, ttl, len), (&n2, &t2, &254, &0, &len2));
    }
}

#[test]
fn host_name_endpoint_publishes_no_address() {
    let reg = plan(
        "mystack.example.test.",
        "example.test.",
        120,
        &ServiceType::new("baremetal").unwrap(),
        &info("https://conductor.example.test/baremetal"),
    )
    .unwrap();
    assert!(reg.host.is_none() && reg.addrs.is_empty());
    let f = message::update(1, &reg.zone, &fresh(&reg)).unwrap();
    assert_eq!(section(&f, 0), vec![(INST.into(), 255, 254, 0, 0)]);
    let types: Vec<u16> = section(&f, 1).iter().map(|r| r.1).collect();
    assert_eq!(types, [12, 33, 16]);
    assert_eq!(
        message::name_text(match &reg.srv.rdata {
            RData::SRV(s) => &s.target,
            _ => unreachable!(),
        }),
        "conductor.example.test."
    );
}

/// A service type is one label, literally, whatever it holds (SPEC 1,
/// RFC 6763 s4.3): one with `._openstack._tcp.` inside is not split there.
/// The instance and the address host are built from the typed service
/// type, not from a joined text.
#[test]
fn a_service_type_holding_the_service_name_stays_one_label() {
    let st = ServiceType::new("a._openstack._tcp.b").unwrap();
    let ep = endpoint::parse_endpoint("http://198.18.0.2:6385").unwrap();
    let info = endpoint::service_info_of(
        &st,
        &ep,
        vec!["198.18.0.2".parse().unwrap()],
        &crate::Properties::new(),
        None,
    )
    .unwrap();
    let reg = plan("mystack.example.test.", "example.test.", 120, &st, &info).unwrap();
    let first = |n: &simple_dns::Name<'_>| n.get_labels()[0].as_ref().to_vec();
    assert_eq!(first(&reg.srv.name), b"a._openstack._tcp.b");
    assert_eq!(reg.srv.name.get_labels().len(), 6, "{}", reg.srv.name);
    let host = reg
        .host
        .as_ref()
        .expect("an IP literal has an address host");
    assert_eq!(first(host), b"a._openstack._tcp.b");
    assert_eq!(host.get_labels().len(), 4, "{host}");
    assert_eq!(
        reg.instance,
        "a._openstack._tcp.b._openstack._tcp.mystack.example.test."
    );
}

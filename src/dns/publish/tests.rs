//! The three UPDATEs of a registration, on the wire (no network): what
//! each section holds, by RFC 2136 rule.

use super::*;
use crate::endpoint;
use crate::service::ServiceType;
use crate::wire::{self, read_name, record_offsets};

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
const PTR_NAME: &str = "_openstack._tcp.mystack.example.test.";
const MARKER: &str = "_zc-owner.baremetal._openstack._tcp.mystack.example.test.";
const HOST_ID: &str = "00112233445566778899aabbccddeeff";

#[test]
fn ip_literal_endpoint_plans() {
    let reg = plan(
        "mystack.example.test.",
        "example.test.",
        120,
        &ServiceType::new("baremetal").unwrap(),
        &info("http://198.18.0.2:6385/baremetal"),
        HOST_ID,
    )
    .unwrap();
    let wire = |u: &Update| message::update(1, &reg.zone, u).unwrap();
    // register: "name not in use" (NONE, ANY, TTL 0, no RDATA) for the
    // instance, the address host and the owner marker; adds PTR, SRV,
    // TXT, A and the marker TXT (IN, TTL 120)
    let f = wire(&fresh(&reg));
    assert_eq!(
        message::question_of(&f),
        Some(("example.test.".into(), 6, 1)),
        "zone section: the zone's SOA"
    );
    assert_eq!(
        section(&f, 0),
        vec![
            (INST.into(), 255, 254, 0, 0),
            (HOST.into(), 255, 254, 0, 0),
            (MARKER.into(), 255, 254, 0, 0)
        ]
    );
    let adds: Vec<(String, u16, u16, u32)> = section(&f, 1)
        .into_iter()
        .map(|(n, t, c, ttl, _)| (n, t, c, ttl))
        .collect();
    assert_eq!(
        adds,
        vec![
            (PTR_NAME.into(), 12, 1, 120),
            (INST.into(), 33, 1, 120),
            (INST.into(), 16, 1, 120),
            (HOST.into(), 1, 1, 120),
            (MARKER.into(), 16, 1, 120),
        ]
    );
    // the marker names the owner and the hashes of what it vouches for
    let marker = owner::txt_text(&reg.marker).unwrap();
    let m = owner::parse_marker(&marker).unwrap();
    assert_eq!(m.owner, HOST_ID);
    assert_eq!(
        m.hashes[0],
        owner::rrset_hash(std::slice::from_ref(&reg.srv))
    );
    assert_eq!(m.hashes[2], owner::rrset_hash(&reg.addrs));
    assert_eq!(m.hashes[3], "-", "no AAAA");
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
    // refresh: value-dependent prerequisites (IN, TTL 0, RDATA) for SRV,
    // TXT, A and the marker; the same adds
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
            (MARKER.into(), 16, 1, 0),
        ]
    );
    assert_eq!(section(&r, 1), section(&f, 1));
    // withdraw: our marker there; each record deleted by value (NONE, TTL 0)
    let w = wire(&withdraw(&reg));
    assert_eq!(
        section(&w, 0),
        vec![(MARKER.into(), 16, 1, 0, marker.len() + 1)]
    );
    let dels = section(&w, 1);
    assert_eq!(dels.len(), 5);
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
        HOST_ID,
    )
    .unwrap();
    assert!(reg.host.is_none() && reg.addrs.is_empty());
    let f = message::update(1, &reg.zone, &fresh(&reg)).unwrap();
    assert_eq!(
        section(&f, 0),
        vec![
            (INST.into(), 255, 254, 0, 0),
            (MARKER.into(), 255, 254, 0, 0)
        ]
    );
    let types: Vec<u16> = section(&f, 1).iter().map(|r| r.1).collect();
    assert_eq!(types, [12, 33, 16, 16]);
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
    let reg = plan(
        "mystack.example.test.",
        "example.test.",
        120,
        &st,
        &info,
        HOST_ID,
    )
    .unwrap();
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

fn reg_of(url: &str, owner: &str) -> Reg {
    plan(
        "mystack.example.test.",
        "example.test.",
        120,
        &ServiceType::new("baremetal").unwrap(),
        &info(url),
        owner,
    )
    .unwrap()
}

/// The zone holding what `reg` published (`marker`: its marker too).
fn zone_of(reg: &Reg, marker: bool) -> owner::Seen {
    owner::Seen {
        marker: if marker {
            vec![reg.marker.clone()]
        } else {
            vec![]
        },
        sets: reg.sets(),
    }
}

/// (class, type) of each record of a section of an UPDATE.
fn kinds(u: &[ResourceRecord<'static>]) -> Vec<(u16, u16)> {
    u.iter()
        .map(|r| (u16::from(r.class), u16::from(r.rdata.type_code())))
        .collect()
}

/// Reconciling, one row per state of the zone: what is exactly ours, or
/// what our previous run on this host left (our marker vouches for it),
/// is taken by one UPDATE whose prerequisites are what was read; anything
/// another publisher made (another owner's marker, records without a
/// marker that differ from ours, a record changed under our marker) is
/// theirs.
#[test]
fn reconcile_takes_only_what_is_ours() {
    const OTHER: &str = "ffeeddccbbaa99887766554433221100";
    let now = reg_of("http://198.18.0.2:6385/baremetal", HOST_ID);
    let before = reg_of("http://198.18.0.3:6385/baremetal", HOST_ID);
    let theirs = reg_of("http://198.18.0.3:6385/baremetal", OTHER);
    let twin = reg_of("http://198.18.0.2:6385/baremetal", OTHER);
    let by_name = reg_of("https://conductor.example.test/baremetal", HOST_ID);
    let decide = |me: &Reg, seen: &owner::Seen| {
        owner::reconcile(
            &owner::Ours {
                owner: HOST_ID,
                marker_name: &me.marker_name,
                marker: &me.marker,
                names: me.names(),
                sets: me.sets(),
                records: &me.records,
            },
            seen,
        )
    };
    let mut thief = zone_of(&now, true);
    thief.sets[0] = before.sets()[0].clone();
    if let RData::SRV(s) = &mut thief.sets[0][0].rdata {
        s.port = 1;
    }
    let mut no_txt = zone_of(&before, true);
    no_txt.sets[1].clear();
    let mut stray_a = owner::Seen::default();
    stray_a.sets[2] = theirs.sets()[2].clone();
    let mut nsupdate = zone_of(&now, false);
    nsupdate.sets[0] = thief.sets[0].clone();
    // (what, us, the zone, Ok(records deleted by value) or Err(theirs))
    let rows: Vec<(&str, &Reg, owner::Seen, std::result::Result<usize, &str>)> = vec![
        ("empty zone", &now, owner::Seen::default(), Ok(0)),
        ("exactly ours", &now, zone_of(&now, true), Ok(0)),
        ("identical, no marker", &now, zone_of(&now, false), Ok(0)),
        (
            "our previous run, other address",
            &now,
            zone_of(&before, true),
            Ok(2),
        ),
        ("our previous run, TXT removed", &now, no_txt, Ok(2)),
        (
            "another owner",
            &now,
            zone_of(&theirs, true),
            Err("owner marker"),
        ),
        (
            "another owner, identical data",
            &now,
            zone_of(&twin, true),
            Err("owner marker"),
        ),
        ("no marker, another SRV", &now, nsupdate, Err("srv")),
        ("our marker, SRV changed", &now, thief, Err("srv")),
        ("hostname endpoint, a stray A", &by_name, stray_a, Ok(0)),
    ];
    for (what, me, seen, want) in rows {
        match (decide(me, &seen), want) {
            (owner::Plan::Take(u), Ok(deleted)) => {
                let k = kinds(&u.updates);
                let dels = k.iter().filter(|c| c.0 == 254).count();
                assert_eq!(dels, deleted, "{what}: {k:?}");
                assert_eq!(&u.updates[deleted..], &me.records[..], "{what}");
                // every RRset read is a prerequisite: as read, or absent
                let pre = kinds(&u.prerequisites);
                let read = seen.marker.len() + seen.sets.iter().map(Vec::len).sum::<usize>();
                assert!(pre.len() >= read.max(1), "{what}: {pre:?}");
            }
            (owner::Plan::Foreign(kind), Err(w)) => assert_eq!(kind, w, "{what}"),
            (owner::Plan::Take(_), Err(w)) => panic!("{what}: took what is {w}"),
            (owner::Plan::Foreign(kind), Ok(_)) => panic!("{what}: refused ({kind})"),
        }
    }
    // the owner id: 32 hex digits, fixed for a machine id, differing
    // between machine ids
    assert_eq!(owner::owner_id_of("a").len(), 32);
    assert_eq!(owner::owner_id_of("a"), owner::owner_id_of("a"));
    assert_ne!(owner::owner_id_of("a"), owner::owner_id_of("b"));
}

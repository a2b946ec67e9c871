//! A hostile link, between two private hosts (tests/common/lab.rs): host B
//! floods host A's engine with 100,000 unique records, then with malformed
//! packets of every class; A's cache stays within its bound, its memory
//! stays flat, and A keeps answering and resolving (RFC 6762 s18 sizes,
//! our bounded cache).

#[macro_use]
mod common;

use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::time::Duration;

use ironicmdns::engine::{Mdns, MdnsOptions};
use ironicmdns::engine::{DEFAULT_CACHE_CAPACITY, MDNS_PORT, MDNS_V4};
use ironicmdns::service::{ServiceInfo, Ttls};
use simple_dns::rdata::{RData, A};
use simple_dns::{Name, Packet, PacketFlag, ResourceRecord, CLASS};
use socket2::{Domain, Protocol, Socket, Type};

const TY: &str = "_openstack._tcp.local.";

fn service(name: &str, target_ip: IpAddr) -> ServiceInfo {
    let instance = format!("{name}.{TY}");
    ServiceInfo {
        target: instance.clone(),
        instance,
        service_type: TY.into(),
        port: 6385,
        txt: vec![b"path=/baremetal".to_vec()],
        addresses: vec![target_ip],
        ttls: Ttls::default(),
    }
}

fn only(addr: IpAddr) -> MdnsOptions {
    MdnsOptions {
        interfaces: Some(vec![addr]),
        ..Default::default()
    }
}

/// A socket on host B that sends as an mDNS responder would: from port
/// 5353 (shared with B's own engine), to the IPv4 group, out of `local`.
fn responder_socket(local: Ipv4Addr) -> UdpSocket {
    let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP)).expect("socket");
    s.set_reuse_address(true).expect("SO_REUSEADDR");
    s.set_reuse_port(true).expect("SO_REUSEPORT");
    s.set_multicast_if_v4(&local).expect("IP_MULTICAST_IF");
    s.set_multicast_ttl_v4(255).expect("IP_MULTICAST_TTL");
    s.bind(&SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), MDNS_PORT).into())
        .expect("bind 5353");
    s.into()
}

/// A response of `n` unique A records `flood-<first+i>.local.`, TTL 4500.
fn flood_packet(first: u32, n: u32) -> Vec<u8> {
    let names: Vec<String> = (first..first + n)
        .map(|i| format!("flood-{i}.local"))
        .collect();
    let mut p = Packet::new_reply(0);
    p.set_flags(PacketFlag::AUTHORITATIVE_ANSWER);
    for (i, name) in names.iter().enumerate() {
        let ip = Ipv4Addr::from(0x0a00_0000 + first + i as u32);
        let rr = ResourceRecord::new(
            Name::new_unchecked(name),
            CLASS::IN,
            4500,
            RData::A(A::from(ip)),
        );
        p.answers.push(rr);
    }
    p.build_bytes_vec_compressed().expect("flood packet")
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

#[test]
fn flood_of_100000_unique_records_keeps_the_cache_bounded_and_the_engine_alive() {
    let Some(lab) = lab!() else { return };
    let (a, b) = (0, 1);
    let (a_ip, b_ip) = (lab.v4(a), lab.v4(b));
    let IpAddr::V4(b_v4) = b_ip else {
        unreachable!()
    };

    // A listens on the link once it publishes something (an idle engine
    // opens no socket): its cache then takes every answer heard.
    let mdns_a = lab.run_on(a, move || {
        let m = Mdns::start(only(a_ip)).expect("engine on A");
        m.register(service("conductor", a_ip), Duration::from_secs(10))
            .expect("A registers");
        m
    });
    let mdns_b = lab.run_on(b, move || {
        let m = Mdns::start(only(b_ip)).expect("engine on B");
        m.register(service("baremetal", b_ip), Duration::from_secs(10))
            .expect("B registers");
        m
    });
    let rss_before = rss_kib();

    // 100,000 unique records in 2,000 packets, paced so that A's socket
    // buffer can keep up (the point is the cache, not UDP drops).
    let sent = lab.run_on(b, move || {
        let s = responder_socket(b_v4);
        let group = SocketAddr::new(IpAddr::V4(MDNS_V4), MDNS_PORT);
        let mut sent = 0u32;
        for chunk in 0..2000u32 {
            let bytes = flood_packet(chunk * 50, 50);
            assert!(bytes.len() <= 9000);
            s.send_to(&bytes, group).expect("send flood");
            sent += 50;
            if chunk % 10 == 9 {
                std::thread::sleep(Duration::from_millis(2));
            }
        }
        sent
    });
    assert_eq!(sent, 100_000);
    std::thread::sleep(Duration::from_millis(500));

    let len = mdns_a.cache_len();
    let grown_kib = rss_kib().saturating_sub(rss_before);
    println!("flood: {sent} records sent; A's cache holds {len} (bound {DEFAULT_CACHE_CAPACITY}); RSS grew {grown_kib} KiB");
    assert!(len <= DEFAULT_CACHE_CAPACITY, "cache over its bound: {len}");
    assert!(
        len >= DEFAULT_CACHE_CAPACITY / 2,
        "the flood did not reach A's cache ({len} records): the test proves nothing"
    );
    assert!(
        grown_kib < 16 * 1024,
        "memory grew by {grown_kib} KiB under the flood"
    );

    // Still alive: A resolves B's service, and B resolves one of A's.
    let instance = format!("baremetal.{TY}");
    let found = mdns_a
        .resolve(&instance, Duration::from_secs(3))
        .expect("resolve after the flood");
    let found = found.expect("A still resolves B's service after the flood");
    assert_eq!(found.port, 6385);
    assert_eq!(
        found.addresses.iter().map(|s| s.addr).collect::<Vec<_>>(),
        vec![b_ip]
    );
    mdns_a
        .register(service("identity", a_ip), Duration::from_secs(10))
        .expect("A registers after the flood");
    let back = mdns_b
        .resolve(&format!("identity.{TY}"), Duration::from_secs(3))
        .expect("resolve");
    assert!(
        back.is_some(),
        "B cannot resolve A's service after the flood"
    );
    mdns_a.close().expect("close A");
    mdns_b.close().expect("close B");
}

#[test]
fn malformed_packets_over_the_wire_are_dropped_and_answering_goes_on() {
    let Some(lab) = lab!() else { return };
    let (a, b) = (0, 1);
    let (a_ip, b_ip) = (lab.v4(a), lab.v4(b));
    let IpAddr::V4(b_v4) = b_ip else {
        unreachable!()
    };

    let mdns_a = lab.run_on(a, move || {
        let m = Mdns::start(only(a_ip)).expect("engine on A");
        m.register(service("baremetal", a_ip), Duration::from_secs(10))
            .expect("A registers");
        m
    });
    let mdns_b = lab.run_on(b, move || Mdns::start(only(b_ip)).expect("engine on B"));

    // A well-formed query for A's SRV, then broken variants of it.
    let mut q = Packet::new_query(0);
    q.questions.push(simple_dns::Question::new(
        Name::new_unchecked("baremetal._openstack._tcp.local"),
        simple_dns::TYPE::SRV.into(),
        simple_dns::QCLASS::CLASS(CLASS::IN),
        false,
    ));
    let q = q.build_bytes_vec().expect("query");
    let mut classes: Vec<(&str, Vec<u8>)> = Vec::new();
    let mut looped = q[..12].to_vec();
    looped.extend_from_slice(&[0xC0, 12, 0, 33, 0, 1]);
    classes.push(("compression loop", looped));
    let mut fwd = q[..12].to_vec();
    fwd.extend_from_slice(&[
        0xC0, 20, 0, 33, 0, 1, 0, 0, 5, b'l', b'o', b'c', b'a', b'l', 0,
    ]);
    classes.push(("forward pointer", fwd));
    let mut bits = q.clone();
    bits[12] |= 0xC0 & 0x40;
    classes.push(("reserved label bits", bits));
    let mut counts = q.clone();
    counts[5] = 200;
    classes.push(("counts larger than the data", counts));
    let flood = flood_packet(0, 3);
    classes.push(("truncated record", flood[..flood.len() - 3].to_vec()));
    let mut label = q[..12].to_vec();
    label.push(63);
    label.extend(std::iter::repeat_n(b'x', 10));
    classes.push(("label longer than the packet", label));

    let n = classes.len();
    lab.run_on(b, move || {
        let s = responder_socket(b_v4);
        let group = SocketAddr::new(IpAddr::V4(MDNS_V4), MDNS_PORT);
        for _ in 0..50 {
            for (_, bytes) in &classes {
                s.send_to(bytes, group).expect("send malformed");
            }
        }
    });
    println!("sent {n} classes of malformed packets, 50 times each");
    std::thread::sleep(Duration::from_millis(200));

    let found = mdns_b
        .resolve(&format!("baremetal.{TY}"), Duration::from_secs(3))
        .expect("resolve");
    let found = found.expect("A stopped answering after the malformed packets");
    assert_eq!(
        found.addresses.iter().map(|s| s.addr).collect::<Vec<_>>(),
        vec![a_ip]
    );
    mdns_a.close().expect("close A");
    mdns_b.close().expect("close B");
}

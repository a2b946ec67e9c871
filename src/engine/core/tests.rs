//! The core's screening of received datagrams, and a fuzz of the whole
//! receive path.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use simple_dns::{Name, Packet, PacketFlag, Question, CLASS, QCLASS, QTYPE, TYPE};

use super::*;
use crate::engine::rng::Rng;
use crate::wire::MAX_PACKET;

fn eth0() -> Interface {
    Interface {
        index: 2,
        name: "eth0".into(),
        addrs: vec![
            IfAddr {
                addr: "198.18.0.1".parse().unwrap(),
                prefix_len: 24,
            },
            IfAddr {
                addr: "fd00:99::1".parse().unwrap(),
                prefix_len: 64,
            },
        ],
    }
}

fn srv_query() -> Vec<u8> {
    let mut p = Packet::new_query(0);
    let n = Name::new_unchecked("baremetal._openstack._tcp.local");
    p.questions.push(Question::new(
        n,
        QTYPE::TYPE(TYPE::SRV),
        QCLASS::CLASS(CLASS::IN),
        false,
    ));
    p.build_bytes_vec().unwrap()
}

fn response() -> Vec<u8> {
    let mut p = Packet::new_reply(0);
    p.set_flags(PacketFlag::AUTHORITATIVE_ANSWER);
    let n = crate::wire::name_from_str("x.local.").unwrap();
    p.answers.push(crate::wire::addr(
        &n,
        "198.18.0.7".parse().unwrap(),
        120,
        true,
    ));
    p.build_bytes_vec().unwrap()
}

fn from(ip: IpAddr, port: u16, multicast: bool) -> Received {
    Received {
        iface: 2,
        src: SocketAddr::new(ip, port),
        multicast,
    }
}

#[test]
fn rfc6762_s11_unicast_from_off_link_source_dropped() {
    let ifs = [eth0()];
    let q = srv_query();
    let v4 = |a, b, c, d| IpAddr::V4(Ipv4Addr::new(a, b, c, d));
    // Unicast-addressed: only from a local subnet, or IPv6 link-local.
    assert!(screen(&ifs, &from(v4(198, 18, 0, 9), 5353, false), &q).is_some());
    assert!(screen(&ifs, &from(v4(203, 0, 113, 9), 5353, false), &q).is_none());
    assert!(screen(&ifs, &from(v4(198, 18, 1, 9), 40000, false), &q).is_none());
    let ll = IpAddr::V6("fe80::1234".parse::<Ipv6Addr>().unwrap());
    assert!(screen(&ifs, &from(ll, 5353, false), &q).is_some());
    let far6 = IpAddr::V6("2001:db8::1".parse::<Ipv6Addr>().unwrap());
    assert!(screen(&ifs, &from(far6, 5353, false), &q).is_none());
    // Multicast-addressed packets pass (the driver checks TTL 255).
    assert!(screen(&ifs, &from(v4(203, 0, 113, 9), 5353, true), &q).is_some());
    // Unknown interface.
    let mut f = from(v4(198, 18, 0, 9), 5353, true);
    f.iface = 9;
    assert!(screen(&ifs, &f, &q).is_none());
}

#[test]
fn rfc6762_s6_response_not_from_port_5353_dropped() {
    let ifs = [eth0()];
    let r = response();
    let src = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 9));
    assert!(screen(&ifs, &from(src, 5353, true), &r).is_some());
    assert!(screen(&ifs, &from(src, 5354, true), &r).is_none());
    // A query from another port is a legacy query: kept.
    assert!(screen(&ifs, &from(src, 40000, true), &srv_query()).is_some());
}

#[test]
fn rfc6762_s18_3_other_opcodes_and_rcodes_dropped() {
    let ifs = [eth0()];
    let src = from(IpAddr::V4(Ipv4Addr::new(198, 18, 0, 9)), 5353, true);
    let mut q = srv_query();
    q[2] |= 0x28; // opcode 5 (UPDATE)
    assert!(screen(&ifs, &src, &q).is_none());
    let mut r = response();
    r[3] |= 0x03; // RCODE NXDOMAIN
    assert!(screen(&ifs, &src, &r).is_none());
}

/// Corpus of well-formed packets: a live responder's own output plus
/// questions of each kind.
fn corpus(h: &mut Responder, now: Instant) -> Vec<Vec<u8>> {
    let mut v = vec![srv_query(), response()];
    while let Some(t) = h.poll_transmit() {
        v.push(t.payload);
    }
    let _ = now;
    v
}

pub(super) fn mutate(rng: &mut Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    let pick = |rng: &mut Rng| seeds[(rng.next_u64() % seeds.len() as u64) as usize].clone();
    let mut v = pick(rng);
    match rng.next_u64() % 7 {
        0 => {
            let n = (rng.next_u64() % 600) as usize;
            v = (0..n).map(|_| rng.next_u64() as u8).collect();
        }
        1 => {
            let cut = (rng.next_u64() % (v.len() as u64 + 1)) as usize;
            v.truncate(cut);
        }
        2 => {
            let other = pick(rng);
            let at = (rng.next_u64() % (v.len() as u64 + 1)) as usize;
            let from = (rng.next_u64() % (other.len() as u64 + 1)) as usize;
            v.truncate(at);
            v.extend_from_slice(&other[from..]);
        }
        3 => {
            // Section counts at random.
            for i in 4..12.min(v.len()) {
                if rng.next_u64().is_multiple_of(3) {
                    v[i] = rng.next_u64() as u8;
                }
            }
        }
        4 => {
            // Plant compression pointers.
            for _ in 0..1 + rng.next_u64() % 3 {
                if v.len() > 13 {
                    let at = 12 + (rng.next_u64() % (v.len() as u64 - 13)) as usize;
                    v[at] = 0xC0 | (rng.next_u64() as u8 & 0x3F);
                    v[at + 1] = rng.next_u64() as u8;
                }
            }
        }
        _ => {
            for _ in 0..1 + rng.next_u64() % 8 {
                if !v.is_empty() {
                    let at = (rng.next_u64() % v.len() as u64) as usize;
                    v[at] = rng.next_u64() as u8;
                }
            }
        }
    }
    v
}

fn service() -> ServiceInfo {
    ServiceInfo {
        instance: "baremetal._openstack._tcp.local.".into(),
        service_type: "_openstack._tcp.local.".into(),
        target: "baremetal._openstack._tcp.local.".into(),
        port: 80,
        txt: vec![b"path=/bm".to_vec()],
        addresses: vec!["198.18.0.1".parse().unwrap(), "fd00:99::1".parse().unwrap()],
        ttls: Ttls::default(),
    }
}

/// A responder through probing and announcing on eth0, its output kept.
fn live_responder(t0: Instant) -> (Responder, Vec<Vec<u8>>, Instant) {
    let mut r = Responder::new(1, None);
    r.set_interfaces(t0, vec![eth0()]);
    r.register(t0, service()).unwrap();
    let mut now = t0;
    let mut out = Vec::new();
    while let Some(t) = r.poll_timeout() {
        now = t;
        r.handle_timeout(now);
        out.extend(corpus(&mut r, now));
    }
    while r.poll_event().is_some() {}
    (r, out, now)
}

/// The receive path as the core runs it, minus the querier.
fn feed(r: &mut Responder, now: Instant, f: Received, data: &[u8]) {
    if let Some(p) = screen(&[eth0()], &f, data) {
        if p.has_flags(PacketFlag::RESPONSE) {
            r.handle_response(now, f, &p);
        } else {
            r.handle_query(now, f, &p);
        }
    }
}

fn answers_srv(r: &mut Responder, now: Instant) -> bool {
    let src = from(IpAddr::V4(Ipv4Addr::new(198, 18, 0, 9)), 40000, true);
    feed(r, now, src, &srv_query());
    let mut got = false;
    while let Some(t) = r.poll_transmit() {
        got |= t.dst == src.src;
    }
    got
}

#[test]
fn rfc6762_s18_malformed_packets_of_each_class_dropped_and_answering_goes_on() {
    let t0 = Instant::now();
    let (mut r, _, now) = live_responder(t0);
    let q = srv_query();
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
    bits[12] |= 0x40;
    classes.push(("reserved label bits 0x40", bits.clone()));
    bits[12] = (bits[12] & 0x3F) | 0x80;
    classes.push(("reserved label bits 0x80", bits));
    let mut counts = q.clone();
    counts[5] = 50;
    classes.push(("counts larger than data", counts));
    let r_ok = response();
    classes.push(("truncated record", r_ok[..r_ok.len() - 2].to_vec()));
    let mut big = q.clone();
    big.resize(9001, 0);
    classes.push(("over 9000 bytes", big));
    for (what, bytes) in &classes {
        assert!(crate::wire::parse(bytes).is_err(), "{what} parsed");
        feed(
            &mut r,
            now,
            from(IpAddr::V4(Ipv4Addr::new(198, 18, 0, 9)), 5353, true),
            bytes,
        );
        assert!(r.poll_transmit().is_none(), "{what} answered");
        assert!(answers_srv(&mut r, now), "not answering after {what}");
    }
}

#[test]
fn never_panics_on_100k_random_and_mutated_packets() {
    let t0 = Instant::now();
    let (mut r, mut seeds, mut now) = live_responder(t0);
    seeds.push(srv_query());
    let mut rng = Rng::new(0xF022);
    let srcs = [
        IpAddr::V4(Ipv4Addr::new(198, 18, 0, 9)),
        IpAddr::V4(Ipv4Addr::new(203, 0, 113, 1)),
        IpAddr::V6("fe80::9".parse().unwrap()),
        IpAddr::V6("fd00:99::9".parse().unwrap()),
    ];
    let mut parsed = 0;
    for i in 0..100_000u32 {
        let data = mutate(&mut rng, &seeds);
        let src = srcs[(rng.next_u64() % 4) as usize];
        let port = if rng.next_u64().is_multiple_of(4) {
            40000
        } else {
            5353
        };
        let f = from(src, port, rng.next_u64().is_multiple_of(2));
        if crate::wire::parse(&data).is_ok() {
            parsed += 1;
        }
        feed(&mut r, now, f, &data);
        if i % 64 == 0 {
            now += Duration::from_millis(130);
            r.handle_timeout(now);
        }
        while let Some(t) = r.poll_transmit() {
            assert!(t.payload.len() <= MAX_PACKET);
            Packet::parse(&t.payload).expect("our output parses");
        }
        // A mutated response may carry a rival record: a real conflict.
        // Register again so the responder keeps being exercised.
        while let Some(e) = r.poll_event() {
            if matches!(e, Event::Conflict(_)) {
                r.register(now, service()).unwrap();
            }
        }
    }
    assert!(
        parsed > 1000,
        "the mutations still reach the responder ({parsed})"
    );
}

/// An engine with `service()` registered on eth0, probing and announcing
/// done, its output drained.
fn live_engine(t0: Instant) -> (Engine, Instant) {
    let mut e = Engine::new(EngineConfig::default(), 7);
    e.set_interfaces(t0, vec![eth0()]);
    let id = e.register(t0, service()).unwrap();
    let mut now = t0;
    let mut registered = false;
    while let Some(t) = e.poll_timeout() {
        if t > t0 + Duration::from_secs(5) {
            break;
        }
        now = t;
        e.handle_timeout(now);
        while e.poll_transmit().is_some() {}
        while let Some(ev) = e.poll_event() {
            registered |= ev == Event::Registered(id);
        }
    }
    assert!(registered);
    (e, now)
}

/// The SRV ports answered by `e` within a second.
fn srv_ports_sent(e: &mut Engine, mut now: Instant) -> Vec<u16> {
    let until = now + Duration::from_secs(1);
    let mut ports = Vec::new();
    loop {
        while let Some(t) = e.poll_transmit() {
            let p = Packet::parse(&t.payload).unwrap();
            for r in p.answers.iter().chain(&p.additional_records) {
                if let simple_dns::rdata::RData::SRV(s) = &r.rdata {
                    ports.push(s.port);
                }
            }
        }
        match e.poll_timeout() {
            Some(t) if t <= until => {
                now = now.max(t);
                e.handle_timeout(now);
            }
            _ => return ports,
        }
    }
}

fn raw_question(name: &[u8], qtype: u16) -> Vec<u8> {
    let mut v = name.to_vec();
    v.extend_from_slice(&qtype.to_be_bytes());
    v.extend_from_slice(&[0, 1]);
    v
}

#[test]
fn rfc1035_s4_1_rfc6762_s6_query_with_an_unknown_qtype_still_answered_for_the_rest() {
    let (mut e, announced) = live_engine(Instant::now());
    // RFC 6762 s6.2: past the one second after the last announcement.
    let now = announced + Duration::from_secs(2);
    let peer = from(IpAddr::V4(Ipv4Addr::new(198, 18, 0, 9)), 5353, true);
    // [type 65280 for the instance, SRV for the instance by pointer].
    let mut q = vec![0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0];
    let inst = [
        &[9u8][..],
        b"baremetal",
        &[10],
        b"_openstack",
        &[4],
        b"_tcp",
        &[5],
        b"local",
        &[0],
    ]
    .concat();
    q.extend(raw_question(&inst, 65280));
    q.extend(raw_question(&[0xC0, 12], 33));
    e.handle_packet(now, peer, &q);
    assert!(srv_ports_sent(&mut e, now).contains(&80), "SRV answered");
    // Only unknown questions: nothing to answer, and no panic.
    let mut q = vec![0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0];
    q.extend(raw_question(&inst, 65280));
    q.extend(raw_question(&[0xC0, 12], 0xFF00));
    let later = now + Duration::from_secs(2);
    e.handle_packet(later, peer, &q);
    assert!(srv_ports_sent(&mut e, later).is_empty(), "nothing answered");
}

#[test]
fn rfc1035_s4_1_3_response_with_a_record_of_unknown_class_cached_for_the_rest() {
    let t0 = Instant::now();
    let mut e = Engine::new(EngineConfig::default(), 3);
    e.set_interfaces(t0, vec![eth0()]);
    let inst = crate::wire::name_from_str("other._openstack._tcp.local.").unwrap();
    let host = crate::wire::name_from_str("other.local.").unwrap();
    let mut p = Packet::new_reply(0);
    p.set_flags(PacketFlag::AUTHORITATIVE_ANSWER);
    p.answers.push(crate::wire::srv(&inst, &host, 8080, 120));
    p.answers
        .push(crate::wire::txt(&inst, &[b"k=v".to_vec()], 4500).unwrap());
    p.answers.push(crate::wire::addr(
        &host,
        "198.18.0.7".parse().unwrap(),
        120,
        true,
    ));
    p.answers.push(crate::wire::addr(
        &host,
        "198.18.0.99".parse().unwrap(),
        120,
        true,
    ));
    let mut bytes = p.build_bytes_vec().unwrap();
    // The last A record: class 5 with the cache-flush bit. RDATA 4, RDLENGTH
    // 2, TTL 4, then CLASS.
    let n = bytes.len();
    assert_eq!(bytes[n - 12..n - 10], [0x80, 1]);
    bytes[n - 11] = 5;
    e.handle_packet(
        t0,
        from(IpAddr::V4(Ipv4Addr::new(198, 18, 0, 7)), 5353, true),
        &bytes,
    );
    assert_eq!(e.cache_len(), 3, "SRV, TXT and the class IN address");
    let s = e
        .resolve_cached(t0, "other._openstack._tcp.local.")
        .expect("resolved from the cache");
    assert_eq!(s.port, 8080);
    let addrs: Vec<IpAddr> = s.addresses.iter().map(|a| a.addr).collect();
    assert_eq!(addrs, vec!["198.18.0.7".parse::<IpAddr>().unwrap()]);
}

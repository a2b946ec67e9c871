//! Probe, announce, tie-break, conflict, goodbye, interfaces.

use super::*;

#[test]
fn rfc6762_s8_1_probes_after_0_250ms_then_three_250ms_apart() {
    for seed in 0..20u64 {
        let mut h = Harness::seeded(vec![eth0()], seed);
        let t0 = h.t0;
        h.r.register(t0, info()).unwrap();
        h.run_until(t0 + ms(1200));
        let probes: Vec<&Sent> = h.sent.iter().filter(|s| s.is_probe()).collect();
        assert_eq!(probes.len(), 3, "seed {seed}");
        let first = probes[0].at - t0;
        assert!(first <= ms(250), "first probe at {first:?}");
        assert_eq!(probes[1].at - probes[0].at, ms(250));
        assert_eq!(probes[2].at - probes[1].at, ms(250));
        // The probe: QU question ANY for the instance, proposed records in
        // the authority section.
        let p = probes[0].packet();
        assert_eq!(p.questions.len(), 1);
        assert_eq!(p.questions[0].qname, name(INSTANCE));
        assert_eq!(p.questions[0].qtype, QTYPE::ANY);
        assert!(p.questions[0].unicast_response);
        let mut auth = types(&p.name_servers);
        auth.sort();
        assert_eq!(auth, vec![T_A, T_TXT, T_SRV]);
        assert_eq!(probes[0].tx.dst, Family::V4.group());
        // No announcement before the third probe plus 250 ms.
        let first_announce = h.sent.iter().find(|s| s.is_response()).unwrap();
        assert_eq!(first_announce.at - probes[2].at, ms(250));
    }
}

#[test]
fn rfc6762_s8_3_announces_twice_one_second_apart_unique_records_flush() {
    let mut h = Harness::new(vec![eth0()]);
    let id = h.r.register(h.t0, info()).unwrap();
    h.run_until(h.t0 + Duration::from_secs(10));
    let ann: Vec<&Sent> = h.sent.iter().filter(|s| s.is_response()).collect();
    assert_eq!(ann.len(), 2);
    assert_eq!(ann[1].at - ann[0].at, Duration::from_secs(1));
    assert_eq!(h.events, vec![Event::Registered(id)]);
    let p = ann[0].packet();
    for r in &p.answers {
        let t = crate::wire::rr_type(r);
        // PTRs are shared; SRV, TXT and the instance's addresses unique.
        assert_eq!(r.cache_flush, t != T_PTR, "{:?}", dump(&p));
    }
    let mut ts = types(&p.answers);
    ts.sort();
    assert_eq!(ts, vec![T_A, T_PTR, T_PTR, T_TXT, T_SRV]);
    let meta = p
        .answers
        .iter()
        .find(|r| r.name == name(SERVICES_META))
        .expect("services PTR");
    assert_eq!(meta.rdata, RData::PTR(simple_dns::rdata::PTR(name(STYPE))));
}

#[test]
fn rfc6762_s8_3_registered_only_after_probing_completes() {
    let mut h = Harness::new(vec![eth0()]);
    let id = h.r.register(h.t0, info()).unwrap();
    while h.sent.iter().filter(|s| s.is_probe()).count() < 3 {
        let t = h.r.poll_timeout().unwrap();
        h.run_until(t);
    }
    assert!(h.events.is_empty());
    h.run_until(h.now + ms(250));
    assert_eq!(h.events, vec![Event::Registered(id)]);
}

/// Another host's simultaneous probe: our address and TXT, SRV `port`.
fn rival_probe(port: u16) -> Packet<'static> {
    let mut p = Packet::new_query(0);
    p.questions.push(Question::new(
        name(INSTANCE),
        QTYPE::ANY,
        QCLASS::CLASS(CLASS::IN),
        true,
    ));
    let inst = name(INSTANCE);
    p.name_servers.push(crate::wire::addr(
        &inst,
        "198.18.0.1".parse().unwrap(),
        120,
        false,
    ));
    p.name_servers
        .push(crate::wire::txt(&inst, &[b"path=/bm".to_vec()], 4500).unwrap());
    p.name_servers.push(srv_with_port(port));
    p
}

#[test]
fn rfc6762_s8_2_tie_break_lost_waits_one_second_and_probes_again() {
    let mut h = Harness::new(vec![eth0()]);
    h.r.register(h.t0, info()).unwrap();
    let first = h.r.poll_timeout().unwrap();
    h.run_until(first); // one probe out
                        // Their SRV (port 9999) sorts after ours (port 80): we lose.
    h.query(peer(), &rival_probe(9999));
    let lost_at = h.now;
    h.run_until(lost_at + Duration::from_secs(3));
    let probes: Vec<&Sent> = h.sent.iter().filter(|s| s.is_probe()).collect();
    assert_eq!(probes.len(), 4, "one before, three after the wait");
    assert_eq!(probes[1].at - lost_at, Duration::from_secs(1));
    assert_eq!(probes[2].at - probes[1].at, ms(250));
    assert!(h.events.iter().any(|e| matches!(e, Event::Registered(_))));
}

#[test]
fn rfc6762_s8_2_tie_break_won_keeps_probing() {
    let mut h = Harness::new(vec![eth0()]);
    h.r.register(h.t0, info()).unwrap();
    let first = h.r.poll_timeout().unwrap();
    h.run_until(first);
    // Their SRV (port 1) sorts before ours (port 80): we win, carry on.
    h.query(peer(), &rival_probe(1));
    h.run_until(first + ms(500) + ms(1));
    let probes: Vec<&Sent> = h.sent.iter().filter(|s| s.is_probe()).collect();
    assert_eq!(probes.len(), 3);
    assert_eq!(probes[2].at - first, ms(500));
}

#[test]
fn rfc6762_s8_2_our_own_probe_looped_back_is_no_conflict() {
    let mut h = Harness::new(vec![eth0()]);
    let id = h.r.register(h.t0, info()).unwrap();
    let first = h.r.poll_timeout().unwrap();
    h.run_until(first);
    let own = h.sent[0].tx.payload.clone();
    let p = crate::wire::parse(&own).unwrap();
    h.r.handle_query(
        h.now,
        Received {
            iface: 2,
            src: peer(),
            multicast: true,
        },
        &p,
    );
    h.run_until(h.t0 + Duration::from_secs(5));
    assert_eq!(h.sent.iter().filter(|s| s.is_probe()).count(), 3);
    assert_eq!(h.events, vec![Event::Registered(id)]);
}

#[test]
fn rfc6762_s8_1_conflict_while_probing() {
    let mut h = Harness::new(vec![eth0()]);
    let id = h.r.register(h.t0, info()).unwrap();
    let first = h.r.poll_timeout().unwrap();
    h.run_until(first);
    h.response(&rival_response(8080));
    assert_eq!(h.events, vec![Event::Conflict(id)]);
    h.sent.clear();
    h.run_until(h.t0 + Duration::from_secs(5));
    assert!(
        h.sent.is_empty(),
        "no probes, announcements or goodbyes after a conflict"
    );
}

#[test]
fn rfc6762_s9_ordinary_dns_target_addresses_are_shared() {
    let mut h = Harness::new(vec![eth0()]);
    let mut i = info();
    i.target = "example.com.".into();
    let id = h.r.register(h.t0, i).unwrap();
    h.run_until(h.t0 + Duration::from_secs(5));
    let ann = h.sent.iter().find(|s| s.is_response()).unwrap().packet();
    let a = rec_of(&ann, T_A).unwrap();
    assert!(!a.cache_flush);
    assert_eq!(a.name, name("example.com."));
    let mut p = Packet::new_reply(0);
    p.answers.push(crate::wire::addr(
        &name("example.com."),
        "1.2.3.4".parse().unwrap(),
        120,
        false,
    ));
    h.response(&p);
    assert!(!h.events.contains(&Event::Conflict(id)));
}

#[test]
fn rfc6762_s10_1_goodbye_ttl_zero_three_times_125ms_apart_then_withdrawn() {
    let (mut h, id) = Harness::live();
    let t = h.now;
    h.r.unregister(h.now, id).unwrap();
    // The first goodbye at once; Withdrawn only once the last is handed out.
    h.drain();
    assert_eq!(h.sent.len(), 1);
    assert!(!h.events.contains(&Event::Withdrawn(id)));
    assert_eq!(h.r.poll_timeout(), Some(t + GOODBYE_INTERVAL));
    h.advance(Duration::from_secs(2));
    assert_eq!(h.events.last(), Some(&Event::Withdrawn(id)));
    let at: Vec<Duration> = h.sent.iter().map(|s| s.at - t).collect();
    assert_eq!(at, vec![ms(0), ms(125), ms(250)]);
    assert_eq!(usize::from(GOODBYES), h.sent.len());
    for s in &h.sent {
        let p = s.packet();
        let mut ts = types(&p.answers);
        ts.sort();
        assert_eq!(ts, vec![T_A, T_PTR, T_PTR, T_TXT, T_SRV]);
        assert!(p.answers.iter().all(|r| r.ttl == 0));
        assert_eq!(s.tx.dst, Family::V4.group());
    }
    assert_eq!(
        h.r.unregister(h.now, id),
        Err(EngineError::UnknownRegistration)
    );
    assert_eq!(h.r.poll_timeout(), None);
}

#[test]
fn rfc6762_s10_1_goodbye_repeats_spare_records_registered_again_meanwhile() {
    let (mut h, id) = Harness::live();
    h.r.unregister(h.now, id).unwrap();
    h.drain();
    h.advance(ms(10));
    // The same service again: its records are ours once more and must not
    // be said goodbye to by the repeats (its probes still go out).
    let again = h.r.register(h.now, info()).unwrap();
    h.advance(ms(400));
    let byes: Vec<&Sent> = h
        .sent
        .iter()
        .filter(|s| s.is_response() && s.packet().answers.iter().all(|r| r.ttl == 0))
        .collect();
    assert_eq!(byes.len(), 1, "only the goodbye sent before");
    assert!(h.events.contains(&Event::Withdrawn(id)));
    h.advance(Duration::from_secs(5));
    assert!(h.events.contains(&Event::Registered(again)));
}

#[test]
fn rfc6762_s10_1_goodbye_repeats_end_when_the_link_goes() {
    let (mut h, id) = Harness::live();
    h.r.unregister(h.now, id).unwrap();
    h.drain();
    h.r.set_interfaces(h.now + ms(50), vec![]);
    h.advance(Duration::from_secs(1));
    assert_eq!(h.sent.len(), 1);
    assert_eq!(h.events.last(), Some(&Event::Withdrawn(id)));
    assert_eq!(h.r.poll_timeout(), None);
}

#[test]
fn rfc6762_s10_1_unregister_before_announcing_sends_nothing() {
    let mut h = Harness::new(vec![eth0()]);
    let id = h.r.register(h.t0, info()).unwrap();
    h.r.unregister(h.t0, id).unwrap();
    h.run_until(h.t0 + Duration::from_secs(5));
    assert!(h.sent.is_empty());
    assert_eq!(h.events, vec![Event::Withdrawn(id)]);
}

#[test]
fn rfc6762_s8_registration_waits_for_an_interface_then_probes_and_announces() {
    let mut h = Harness::new(vec![]);
    let id = h.r.register(h.t0, info()).unwrap();
    assert_eq!(h.r.poll_timeout(), None);
    h.now = h.t0 + Duration::from_secs(30);
    h.r.set_interfaces(h.now, vec![eth0_dual()]);
    h.run_until(h.now + Duration::from_secs(5));
    assert!(h.events.contains(&Event::Registered(id)));
    // Probes and announcements on both families of the new interface.
    for f in [Family::V4, Family::V6] {
        let on: Vec<&Sent> = h
            .sent
            .iter()
            .filter(|s| s.tx.dst == f.group() && s.tx.iface == 2)
            .collect();
        assert_eq!(on.iter().filter(|s| s.is_probe()).count(), 3, "{f:?}");
        assert_eq!(on.iter().filter(|s| s.is_response()).count(), 2, "{f:?}");
    }
}

#[test]
fn rfc6762_s13_interface_appearing_later_gets_probes_and_announcements() {
    let (mut h, _id) = Harness::live();
    let eth1 = Interface {
        index: 3,
        name: "eth1".into(),
        addrs: vec![IfAddr {
            addr: "198.19.0.1".parse().unwrap(),
            prefix_len: 24,
        }],
    };
    h.r.set_interfaces(h.now, vec![eth0(), eth1]);
    h.advance(Duration::from_secs(5));
    let on3: Vec<&Sent> = h.sent.iter().filter(|s| s.tx.iface == 3).collect();
    assert_eq!(on3.iter().filter(|s| s.is_probe()).count(), 3);
    assert_eq!(on3.iter().filter(|s| s.is_response()).count(), 2);
    assert!(h.sent.iter().all(|s| s.tx.iface == 3), "eth0 is left alone");
}

#[test]
fn rfc6763_s6_1_empty_txt_is_zero_length_rdata_on_the_wire() {
    let mut h = Harness::new(vec![eth0()]);
    let mut i = info();
    i.txt.clear();
    h.r.register(h.t0, i).unwrap();
    h.run_until(h.t0 + Duration::from_secs(5));
    let ann = h.sent.iter().find(|s| s.is_response()).unwrap();
    let txt = rec_of(&ann.packet(), T_TXT).unwrap();
    assert!(is_empty_txt(&txt), "{txt:?}");
    // And byte-exact on the wire: TXT type, class IN|flush, TTL, RDLENGTH 0.
    let needle = [0x00, 0x10, 0x80, 0x01, 0x00, 0x00, 0x11, 0x94, 0x00, 0x00];
    assert!(ann.tx.payload.windows(needle.len()).any(|w| w == needle));
}

#[test]
fn rfc1035_s2_3_4_rfc6762_s17_registration_rejects_what_dns_cannot_carry() {
    let mut h = Harness::new(vec![eth0()]);
    let mut i = info();
    i.instance = format!("{}.{}", "x".repeat(64), STYPE);
    assert!(matches!(
        h.r.register(h.t0, i),
        Err(EngineError::InvalidName(_, _))
    ));
    let mut i = info();
    i.target = format!("{}local.", "abcdefghi.".repeat(26));
    assert!(matches!(
        h.r.register(h.t0, i),
        Err(EngineError::InvalidName(_, _))
    ));
    let mut i = info();
    i.txt = vec![vec![b'a'; 256]];
    assert!(matches!(
        h.r.register(h.t0, i),
        Err(EngineError::InvalidRecord(_))
    ));
    let mut i = info();
    i.txt = (0..40).map(|_| vec![b'b'; 255]).collect();
    assert!(matches!(
        h.r.register(h.t0, i),
        Err(EngineError::InvalidRecord(_))
    ));
    let mut i = info();
    i.instance = "baremetal._other._tcp.local.".into();
    assert!(matches!(
        h.r.register(h.t0, i),
        Err(EngineError::InvalidName(_, _))
    ));
    h.r.register(h.t0, info()).unwrap();
    assert!(matches!(
        h.r.register(h.t0, info()),
        Err(EngineError::Duplicate(_))
    ));
}

#[test]
fn rfc6762_s8_1_local_target_is_probed_and_defended_too() {
    let mut h = Harness::new(vec![eth0()]);
    let mut i = info();
    i.target = "myhost.local.".into();
    let id = h.r.register(h.t0, i.clone()).unwrap();
    // A second service on the same host name is no conflict with the first.
    let mut j = i.clone();
    j.instance = format!("inspector.{STYPE}");
    let id2 = h.r.register(h.t0, j).unwrap();
    h.run_until(h.t0 + Duration::from_secs(5));
    assert!(
        h.events.contains(&Event::Registered(id)) && h.events.contains(&Event::Registered(id2))
    );
    let probe = h.sent.iter().find(|s| s.is_probe()).unwrap().packet();
    let qnames: Vec<_> = probe
        .questions
        .iter()
        .map(|q| q.qname.to_string())
        .collect();
    assert!(qnames.contains(&"myhost.local".to_string()), "{qnames:?}");
    let ann = h.sent.iter().find(|s| s.is_response()).unwrap().packet();
    assert!(
        rec_of(&ann, T_A).unwrap().cache_flush,
        "addresses of a .local. target are unique"
    );
    // Another host claims the host name with another address: both
    // services probe again (RFC 6762 s9), and lose when it answers.
    let mut p = Packet::new_reply(0);
    p.answers.push(crate::wire::addr(
        &name("myhost.local."),
        "198.18.0.77".parse().unwrap(),
        120,
        true,
    ));
    h.sent.clear();
    h.response(&p);
    h.advance(ms(1));
    assert!(
        h.sent.iter().any(|s| s.is_probe()),
        "probing the host name again"
    );
    h.response(&p);
    assert!(h.events.contains(&Event::Conflict(id)) && h.events.contains(&Event::Conflict(id2)));
}

#[test]
fn rfc6762_s8_1_fifteen_conflicts_in_ten_seconds_slow_probing_to_5s() {
    let mut h = Harness::new(vec![eth0()]);
    for _ in 0..15 {
        let id = h.r.register(h.now, info()).unwrap();
        let first = h.r.poll_timeout().unwrap();
        assert!(first - h.now <= ms(250));
        h.run_until(first);
        h.response(&rival_response(8080));
        assert_eq!(h.events.last(), Some(&Event::Conflict(id)));
        h.advance(ms(100));
    }
    let id = h.r.register(h.now, info()).unwrap();
    assert_eq!(h.r.poll_timeout().unwrap() - h.now, Duration::from_secs(5));
    // Ten seconds on, the burst is over.
    h.r.unregister(h.now, id).unwrap();
    h.now += Duration::from_secs(11);
    h.r.register(h.now, info()).unwrap();
    assert!(h.r.poll_timeout().unwrap() - h.now <= ms(250));
}

/// Registered and announced on both families of eth0.
fn live_dual() -> (Harness, RegId) {
    let mut h = Harness::new(vec![eth0_dual()]);
    let id = h.r.register(h.t0, info()).unwrap();
    h.run_until(h.t0 + Duration::from_secs(5));
    assert!(h.events.contains(&Event::Registered(id)));
    h.sent.clear();
    (h, id)
}

fn eth0_v6_only() -> Interface {
    let mut i = eth0_dual();
    i.addrs.retain(|a| a.addr.is_ipv6());
    i
}

/// The IPv4 address goes, the interface stays (IPv6 on
/// it): goodbyes for everything announced there, on IPv4, repeated like a
/// withdrawal's; the registration lives on over IPv6.
#[test]
fn rfc6762_s10_1_goodbyes_on_a_link_left_while_the_interface_stays() {
    let (mut h, id) = live_dual();
    let t = h.now;
    h.r.set_interfaces(t, vec![eth0_v6_only()]);
    h.advance(Duration::from_secs(2));
    let at: Vec<Duration> = h.sent.iter().map(|s| s.at - t).collect();
    assert_eq!(at, vec![ms(0), ms(125), ms(250)]);
    for s in &h.sent {
        assert_eq!((s.tx.iface, s.tx.dst), (2, Family::V4.group()));
        let p = s.packet();
        let mut ts = types(&p.answers);
        ts.sort();
        assert_eq!(ts, vec![T_A, T_PTR, T_PTR, T_TXT, T_SRV]);
        assert!(p.answers.iter().all(|r| r.ttl == 0), "{:?}", dump(&p));
    }
    assert!(!h.events.contains(&Event::Withdrawn(id)));
    assert_eq!(h.r.poll_timeout(), None);
    // Still answered over IPv6.
    h.sent.clear();
    let v6: SocketAddr = "[fd00:99::2]:5353".parse().unwrap();
    h.query_via(
        Received {
            iface: 2,
            src: v6,
            multicast: true,
        },
        &question(INSTANCE, TYPE::SRV, false),
    );
    h.advance(Duration::from_secs(1));
    assert!(
        h.sent
            .iter()
            .any(|s| s.tx.dst.is_ipv6() && rec_of(&s.packet(), T_SRV).is_some_and(|r| r.ttl > 0)),
        "SRV answered over IPv6"
    );
}

/// Where the kernel cannot send any more, nothing is queued: the interface
/// gone (deleted, down, no carrier) or an IPv6 link left (its link-local
/// address gone too: no source address).
#[test]
fn rfc6762_s10_1_no_goodbye_where_the_link_cannot_carry_it() {
    let (mut h, id) = live_dual();
    h.r.set_interfaces(h.now, vec![eth0()]);
    h.advance(Duration::from_secs(2));
    assert!(h.sent.is_empty(), "IPv6 left: nothing");
    h.r.set_interfaces(h.now, vec![]);
    h.advance(Duration::from_secs(2));
    assert!(h.sent.is_empty(), "interface gone: nothing");
    assert!(!h.events.contains(&Event::Withdrawn(id)));
    // A registration still probing there had claimed nothing: no goodbye.
    let mut h = Harness::new(vec![eth0_dual()]);
    h.r.register(h.t0, info()).unwrap();
    h.run_until(h.t0 + ms(300));
    h.sent.clear();
    h.r.set_interfaces(h.now, vec![eth0_v6_only()]);
    h.advance(ms(500));
    assert!(
        h.sent.iter().all(|s| s.tx.dst.is_ipv6()),
        "only IPv6 probes"
    );
}

/// The address back before the repeats are through: they stop, and the
/// link is probed and announced again.
#[test]
fn rfc6762_s10_1_goodbyes_on_a_left_link_stop_when_we_are_back() {
    let (mut h, id) = live_dual();
    h.r.set_interfaces(h.now, vec![eth0_v6_only()]);
    h.drain();
    assert_eq!(h.sent.len(), 1);
    h.advance(ms(50));
    h.r.set_interfaces(h.now, vec![eth0_dual()]);
    h.advance(Duration::from_secs(5));
    let v4: Vec<&Sent> = h
        .sent
        .iter()
        .filter(|s| s.tx.dst == Family::V4.group())
        .collect();
    let byes = v4
        .iter()
        .filter(|s| s.is_response() && s.packet().answers.iter().all(|r| r.ttl == 0))
        .count();
    assert_eq!(byes, 1, "no repeat once back");
    assert_eq!(v4.iter().filter(|s| s.is_probe()).count(), 3);
    assert_eq!(v4.iter().filter(|s| s.is_response()).count(), 1 + 2);
    assert!(!h.events.contains(&Event::Withdrawn(id)));
}

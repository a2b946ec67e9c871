//! Answering questions: delays, unicast, legacy, rate limit, known answers,
//! NSEC, additionals, probe defence.

use super::*;

#[test]
fn rfc6762_s6_shared_answer_waits_20_to_120ms() {
    for seed in 0..20u64 {
        let (mut h, _) = Harness::live_seeded(seed);
        h.query(peer(), &question(STYPE, TYPE::PTR, false));
        assert!(h.sent.is_empty(), "PTR is shared: not at once");
        let asked = h.now;
        h.advance(ms(200));
        assert_eq!(h.sent.len(), 1);
        let delay = h.sent[0].at - asked;
        assert!(delay >= ms(20) && delay <= ms(120), "{delay:?}");
        assert_eq!(h.sent[0].tx.dst, Family::V4.group());
    }
}

#[test]
fn rfc6763_s12_ptr_answer_carries_srv_txt_address_and_nsec() {
    let (mut h, _) = Harness::live();
    h.query(peer(), &question(STYPE, TYPE::PTR, false));
    h.advance(ms(200));
    let p = h.sent[0].packet();
    assert_eq!(types(&p.answers), vec![T_PTR]);
    let mut extra = types(&p.additional_records);
    extra.sort();
    // No AAAA: RFC 6762 s6.1 asserts that with an NSEC.
    assert_eq!(extra, vec![T_A, T_TXT, T_SRV, crate::wire::T_NSEC]);
}

#[test]
fn rfc6762_s6_unique_answer_at_once() {
    let (mut h, _) = Harness::live_seeded(3);
    h.advance(Duration::from_secs(2));
    h.query(peer(), &question(INSTANCE, TYPE::SRV, false));
    assert_eq!(h.sent.len(), 1, "SRV is unique: no delay");
    let p = h.sent[0].packet();
    assert_eq!(types(&p.answers), vec![T_SRV]);
    assert!(
        types(&p.additional_records).contains(&T_A),
        "RFC 6763 s12.2: SRV -> address"
    );
    assert_eq!(h.sent[0].tx.dst, Family::V4.group());
}

#[test]
fn rfc6762_s5_4_qu_question_answered_by_unicast() {
    // Just announced: multicast within the last quarter TTL -> unicast.
    let (mut h, _) = Harness::live();
    h.query(peer(), &question(INSTANCE, TYPE::SRV, true));
    assert_eq!(h.sent.len(), 1);
    assert_eq!(h.sent[0].tx.dst, peer());
    assert_eq!(types(&h.sent[0].packet().answers), vec![T_SRV]);
}

#[test]
fn rfc6762_s5_4_qu_answered_by_multicast_when_not_multicast_for_quarter_ttl() {
    let (mut h, _) = Harness::live();
    h.advance(Duration::from_secs(31)); // SRV TTL 120: quarter is 30 s
    h.query(peer(), &question(INSTANCE, TYPE::SRV, true));
    assert_eq!(h.sent.len(), 1);
    assert_eq!(h.sent[0].tx.dst, Family::V4.group());
}

#[test]
fn rfc6762_s6_7_legacy_unicast_echoes_id_and_question_ttl_10_no_flush() {
    let (mut h, _) = Harness::live();
    let src = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(198, 18, 0, 2)), 40000);
    let mut q = question(INSTANCE, TYPE::SRV, false);
    q.set_id(0xBEEF);
    h.query(src, &q);
    let to_src: Vec<&Sent> = h.sent.iter().filter(|s| s.tx.dst == src).collect();
    assert_eq!(to_src.len(), 1);
    let p = to_src[0].packet();
    assert_eq!(p.id(), 0xBEEF);
    assert_eq!(p.questions.len(), 1);
    assert_eq!(p.questions[0].qname, name(INSTANCE));
    assert!(!p.answers.is_empty());
    for r in p.answers.iter().chain(p.additional_records.iter()) {
        assert!(r.ttl <= 10, "{r:?}");
        assert!(!r.cache_flush);
    }
}

/// RFC 6762 s6.7 + s6.2: beside the unicast answer a legacy query must
/// get, the records go out by multicast once a second at most, so that
/// hosts asking the same in a boot storm resolve from that one packet.
#[test]
fn rfc6762_s6_7_legacy_query_also_multicast_at_most_once_a_second() {
    let (mut h, _) = Harness::live();
    let src = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(198, 18, 0, 2)), 40000);
    let q = question(INSTANCE, TYPE::SRV, false);
    let dsts = |h: &Harness| h.sent.iter().map(|s| s.tx.dst).collect::<Vec<_>>();
    h.query(src, &q);
    assert_eq!(dsts(&h), vec![src, Family::V4.group()]);
    h.advance(ms(500));
    h.query(src, &q);
    assert_eq!(dsts(&h)[2..], [src], "no second multicast within 1 s");
    h.advance(ms(600));
    h.query(src, &q);
    assert_eq!(dsts(&h)[3..], [src, Family::V4.group()]);
    let m = h.sent[1].packet();
    assert!(
        m.answers.iter().all(|r| r.ttl > 10),
        "multicast keeps full TTLs"
    );
}

/// A flood of queries from one on-link source is not answered beyond
/// `UNICAST_ANSWERS_PER_SOURCE` unicast packets a second (no amplification
/// toward it); other sources are unaffected, and the source is answered
/// again in the next second.
#[test]
fn unicast_answers_bounded_per_source_and_second() {
    use super::super::answer::UNICAST_ANSWERS_PER_SOURCE as CAP;
    let (mut h, _) = Harness::live();
    let flooder = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(198, 18, 0, 66)), 40000);
    let other = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(198, 18, 0, 2)), 40001);
    let q = question(INSTANCE, TYPE::SRV, false);
    for _ in 0..CAP + 50 {
        h.query(flooder, &q);
    }
    let to = |h: &Harness, a| h.sent.iter().filter(|s| s.tx.dst == a).count();
    assert_eq!(to(&h, flooder), CAP as usize);
    h.query(other, &q);
    assert_eq!(to(&h, other), 1);
    h.advance(Duration::from_secs(1));
    h.query(flooder, &q);
    assert_eq!(to(&h, flooder), CAP as usize + 1);
}

#[test]
fn rfc6762_s11_legacy_query_from_off_link_source_not_answered() {
    let (mut h, _) = Harness::live();
    let src = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 5)), 40000);
    h.query(src, &question(INSTANCE, TYPE::SRV, false));
    assert!(h.sent.is_empty());
}

#[test]
fn rfc6762_s6_2_one_multicast_per_record_per_second() {
    let (mut h, _) = Harness::live();
    h.advance(Duration::from_secs(2));
    h.query(peer(), &question(INSTANCE, TYPE::SRV, false));
    assert_eq!(h.sent.len(), 1);
    h.advance(ms(500));
    h.query(peer(), &question(INSTANCE, TYPE::SRV, false));
    assert_eq!(h.sent.len(), 1, "second multicast within 1 s suppressed");
    h.advance(ms(500));
    h.query(peer(), &question(INSTANCE, TYPE::SRV, false));
    assert_eq!(h.sent.len(), 2, "allowed again after 1 s");
}

#[test]
fn rfc6762_s7_1_known_answer_suppression() {
    let (mut h, _) = Harness::live();
    h.advance(Duration::from_secs(2));
    let ptr = crate::wire::ptr(&name(STYPE), &name(INSTANCE), 4500);
    // Known with more than half our TTL: suppressed.
    let mut q = question(STYPE, TYPE::PTR, false);
    q.answers.push(ResourceRecord {
        ttl: 2250,
        ..ptr.clone()
    });
    h.query(peer(), &q);
    h.advance(ms(200));
    assert!(h.sent.is_empty());
    // Known with less than half: answered.
    let mut q = question(STYPE, TYPE::PTR, false);
    q.answers.push(ResourceRecord { ttl: 2249, ..ptr });
    h.query(peer(), &q);
    h.advance(ms(200));
    assert_eq!(h.sent.len(), 1);
}

#[test]
fn rfc6762_s6_1_nsec_for_a_type_the_name_lacks() {
    let (mut h, _) = Harness::live();
    h.advance(Duration::from_secs(2));
    h.query(peer(), &question(INSTANCE, TYPE::AAAA, false));
    assert_eq!(h.sent.len(), 1);
    let p = h.sent[0].packet();
    let nsec = p.answers.iter().find(|r| r.name == name(INSTANCE)).unwrap();
    let RData::NSEC(n) = &nsec.rdata else {
        panic!("{nsec:?}")
    };
    assert_eq!(n.next_name, name(INSTANCE));
    // Bitmap window 0: A(1), TXT(16), SRV(33).
    let bits = &n.type_bit_maps[0].bitmap;
    let has = |t: usize| bits.get(t / 8).is_some_and(|b| b & (0x80 >> (t % 8)) != 0);
    assert!(has(1) && has(16) && has(33) && !has(28));
    // A name that is not ours gets nothing.
    h.query(
        peer(),
        &question("other._openstack._tcp.local.", TYPE::AAAA, false),
    );
    assert_eq!(h.sent.len(), 1);
}

#[test]
fn rfc6762_s6_any_question_gets_every_record_of_the_name() {
    let (mut h, _) = Harness::live();
    h.advance(Duration::from_secs(2));
    let mut q = Packet::new_query(0);
    q.questions.push(Question::new(
        name(INSTANCE),
        QTYPE::ANY,
        QCLASS::CLASS(CLASS::IN),
        false,
    ));
    h.query(peer(), &q);
    let p = h.sent[0].packet();
    let mut ts = types(&p.answers);
    ts.sort();
    assert_eq!(ts, vec![T_A, T_TXT, T_SRV]);
}

#[test]
fn rfc6762_s8_1_probe_for_our_name_defended_at_once_by_multicast() {
    let (mut h, _) = Harness::live();
    h.advance(Duration::from_secs(2));
    h.query(peer(), &question(INSTANCE, TYPE::SRV, false));
    h.advance(ms(300)); // multicast 300 ms ago: defence still allowed
    let mut probe = Packet::new_query(0);
    probe.questions.push(Question::new(
        name(INSTANCE),
        QTYPE::ANY,
        QCLASS::CLASS(CLASS::IN),
        true,
    ));
    probe.name_servers.push(srv_with_port(8080));
    h.query(peer(), &probe);
    assert_eq!(h.sent.len(), 2);
    assert_eq!(
        h.sent[1].tx.dst,
        Family::V4.group(),
        "QU probe still answered by multicast"
    );
    let p = h.sent[1].packet();
    assert!(p.answers.iter().all(|r| r.cache_flush));
    assert!(types(&p.answers).contains(&T_SRV));
}

#[test]
fn rfc6762_s6_nothing_answered_while_still_probing() {
    let mut h = Harness::new(vec![eth0()]);
    h.r.register(h.t0, info()).unwrap();
    h.query(peer(), &question(INSTANCE, TYPE::SRV, false));
    assert!(h.sent.is_empty());
}

#[test]
fn rfc6763_s9_services_enumeration_answered() {
    let (mut h, _) = Harness::live();
    h.advance(Duration::from_secs(2));
    h.query(peer(), &question(SERVICES_META, TYPE::PTR, false));
    h.advance(ms(200));
    let p = h.sent[0].packet();
    assert_eq!(
        p.answers[0].rdata,
        RData::PTR(simple_dns::rdata::PTR(name(STYPE)))
    );
}

#[test]
fn rfc6762_s7_2_truncated_query_waits_400_500ms_for_more_known_answers() {
    let (mut h, _) = Harness::live();
    h.advance(Duration::from_secs(2));
    let mut q = question(INSTANCE, TYPE::SRV, false);
    q.set_flags(PacketFlag::TRUNCATION);
    h.query(peer(), &q);
    assert!(h.sent.is_empty(), "even a unique answer waits");
    let asked = h.now;
    h.advance(ms(600));
    assert_eq!(h.sent.len(), 1);
    let d = h.sent[0].at - asked;
    assert!(d >= ms(400) && d <= ms(500), "{d:?}");

    // The continuation lists the answer as known: nothing is sent.
    h.advance(Duration::from_secs(2));
    h.sent.clear();
    let mut q = question(STYPE, TYPE::PTR, false);
    q.set_flags(PacketFlag::TRUNCATION);
    h.query(peer(), &q);
    let mut more = Packet::new_query(0);
    more.answers
        .push(crate::wire::ptr(&name(STYPE), &name(INSTANCE), 4500));
    h.query(peer(), &more);
    h.advance(ms(600));
    assert!(h.sent.is_empty());
}

#[test]
fn rfc6762_s7_4_answer_multicast_by_another_host_first_is_not_repeated() {
    let (mut h, _) = Harness::live();
    h.advance(Duration::from_secs(2));
    h.query(peer(), &question(STYPE, TYPE::PTR, false));
    // Another responder multicasts the same PTR before our delay ends.
    let mut p = Packet::new_reply(0);
    p.answers
        .push(crate::wire::ptr(&name(STYPE), &name(INSTANCE), 4500));
    h.response(&p);
    h.advance(ms(200));
    assert!(h.sent.is_empty());
}

#[test]
fn rfc6762_s5_5_direct_unicast_query_answered_by_unicast() {
    let (mut h, _) = Harness::live();
    h.advance(Duration::from_secs(40)); // not multicast for a quarter TTL
    h.query_via(
        Received {
            iface: 2,
            src: peer(),
            multicast: false,
        },
        &question(INSTANCE, TYPE::SRV, false),
    );
    assert_eq!(h.sent.len(), 1);
    assert_eq!(h.sent[0].tx.dst, peer());
}

#[test]
fn rfc6762_s6_answer_goes_to_the_group_of_the_query_family() {
    let mut h = Harness::new(vec![eth0_dual()]);
    h.r.register(h.t0, info()).unwrap();
    h.run_until(h.t0 + Duration::from_secs(5));
    // Announced once per family.
    let v6 = h
        .sent
        .iter()
        .filter(|s| s.is_response() && s.tx.dst == Family::V6.group())
        .count();
    assert_eq!(v6, 2);
    h.sent.clear();
    let src6 = SocketAddr::new("fd00:99::2".parse().unwrap(), 5353);
    h.query(src6, &question(INSTANCE, TYPE::SRV, false));
    assert_eq!(h.sent.len(), 1);
    assert_eq!(h.sent[0].tx.dst, Family::V6.group());
    // The IPv4 link has its own rate limit: answered there too.
    h.query(peer(), &question(INSTANCE, TYPE::SRV, false));
    assert_eq!(h.sent.len(), 2);
    assert_eq!(h.sent[1].tx.dst, Family::V4.group());
}

#[test]
fn rfc6762_s8_1_reference_style_probe_for_the_type_ptr_gets_our_ptr_by_multicast() {
    // python-zeroconf probes with a QU PTR question for the service type
    // and its PTR in the authority section; it sees a conflict only when
    // someone answers that question with the same instance.
    let (mut h, _) = Harness::live();
    let mut probe = question(STYPE, TYPE::PTR, true);
    probe
        .name_servers
        .push(crate::wire::ptr(&name(STYPE), &name(INSTANCE), 4500));
    h.query(peer(), &probe);
    let asked = h.now;
    h.advance(ms(200));
    assert_eq!(h.sent.len(), 1);
    assert!(h.sent[0].at - asked <= ms(120));
    assert_eq!(h.sent[0].tx.dst, Family::V4.group());
    let p = h.sent[0].packet();
    assert_eq!(
        p.answers[0].rdata,
        RData::PTR(simple_dns::rdata::PTR(name(INSTANCE)))
    );
}

#[test]
fn rfc6762_s11_qu_from_an_off_link_source_answered_by_multicast_only() {
    let (mut h, _) = Harness::live();
    let far = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 5)), 5353);
    h.query(far, &question(INSTANCE, TYPE::SRV, true));
    assert!(
        h.sent.iter().all(|s| s.tx.dst != far),
        "never unicast off-link"
    );
    assert_eq!(h.sent.len(), 1);
    assert_eq!(h.sent[0].tx.dst, Family::V4.group());
}

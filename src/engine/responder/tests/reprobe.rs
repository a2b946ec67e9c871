//! RFC 6762 s9: a conflicting record for an announced name sends the
//! registration back to probing; only an answer to those probes takes the
//! name away. One spoofed packet never does.

use super::*;
use crate::wire;

fn probes(h: &Harness) -> Vec<&Sent> {
    h.sent.iter().filter(|s| s.is_probe()).collect()
}

fn announcements(h: &Harness) -> Vec<&Sent> {
    h.sent.iter().filter(|s| s.is_response()).collect()
}

/// Every record we announce for the instance, exactly as we announce it.
fn our_records() -> Vec<ResourceRecord<'static>> {
    let inst = name(INSTANCE);
    vec![
        wire::ptr(&name(STYPE), &inst, 4500),
        srv_with_port(80).with_cache_flush(true),
        wire::txt(&inst, &[b"path=/bm".to_vec()], 4500)
            .unwrap()
            .with_cache_flush(true),
        wire::addr(&inst, "198.18.0.1".parse().unwrap(), 120, true),
    ]
}

fn reply(answers: Vec<ResourceRecord<'static>>) -> Packet<'static> {
    let mut p = Packet::new_reply(0);
    p.set_flags(PacketFlag::AUTHORITATIVE_ANSWER);
    p.answers = answers;
    p
}

#[test]
fn rfc6762_s9_one_spoofed_conflict_reprobes_then_announces_again_and_keeps_the_name() {
    let (mut h, id) = Harness::live();
    let at = h.now;
    h.response(&rival_response(8080));
    assert_eq!(
        h.events,
        vec![Event::Registered(id)],
        "nothing for the driver: still registered"
    );
    // Probing again at once (no 0-250 ms delay).
    assert_eq!(h.r.poll_timeout(), Some(at));
    h.advance(ms(600));
    // While probing, the contested records are not answered.
    let before = h.sent.len();
    h.query(peer(), &question(INSTANCE, TYPE::SRV, false));
    h.query(peer(), &question(STYPE, TYPE::PTR, false));
    h.advance(ms(130));
    assert_eq!(h.sent.len(), before, "no answers during the re-probe");
    h.run_until(at + Duration::from_secs(5));
    let p = probes(&h);
    assert_eq!(p.len(), 3, "three probes");
    assert_eq!(p[0].at, at);
    assert_eq!(p[1].at - p[0].at, ms(250));
    assert_eq!(p[2].at - p[1].at, ms(250));
    // The probe names the instance (ANY, QU) and proposes our records.
    let probe = p[0].packet();
    assert_eq!(
        (probe.questions[0].qname.clone(), probe.questions[0].qtype),
        (name(INSTANCE), QTYPE::ANY)
    );
    assert!(probe.questions[0].unicast_response);
    let mut auth = types(&probe.name_servers);
    auth.sort();
    assert_eq!(auth, vec![T_A, T_TXT, T_SRV]);
    // Nobody answered: announced again, twice, one second apart.
    let a = announcements(&h);
    assert_eq!(a.len(), 2);
    assert_eq!(a[0].at - p[2].at, ms(250));
    assert_eq!(a[1].at - a[0].at, Duration::from_secs(1));
    assert_eq!(
        rec_of(&a[0].packet(), T_SRV).unwrap(),
        srv_with_port(80).with_cache_flush(true)
    );
    assert_eq!(
        h.events,
        vec![Event::Registered(id)],
        "kept, no second Registered either"
    );
    // And answered again.
    h.advance(Duration::from_secs(2));
    h.sent.clear();
    h.query(peer(), &question(INSTANCE, TYPE::SRV, false));
    assert_eq!(h.sent.len(), 1);
    assert_eq!(
        rec_of(&h.sent[0].packet(), T_SRV).unwrap().rdata,
        srv_with_port(80).rdata
    );
}

#[test]
fn rfc6762_s9_conflict_then_an_answer_to_our_probe_takes_the_name() {
    let (mut h, id) = Harness::live();
    h.response(&rival_response(8080));
    h.advance(ms(1));
    assert_eq!(probes(&h).len(), 1);
    // The other host answers our probe with its records.
    let mut theirs = reply(vec![rival_response(8080).answers[0].clone()]);
    theirs.answers.push(wire::addr(
        &name(INSTANCE),
        "198.18.0.2".parse().unwrap(),
        120,
        true,
    ));
    h.response(&theirs);
    assert_eq!(h.events, vec![Event::Registered(id), Event::Conflict(id)]);
    h.sent.clear();
    h.advance(Duration::from_secs(5));
    assert!(
        h.sent.is_empty(),
        "no more probes, announcements, nor goodbyes for records now theirs"
    );
    h.query(peer(), &question(INSTANCE, TYPE::SRV, false));
    h.query(peer(), &question(STYPE, TYPE::PTR, false));
    h.advance(ms(200));
    assert!(h.sent.is_empty(), "forgotten: no answers");
    assert_eq!(
        h.r.unregister(h.now, id),
        Err(EngineError::UnknownRegistration)
    );
}

#[test]
fn rfc6762_s9_conflicting_address_at_the_instance_name_reprobes() {
    let (mut h, id) = Harness::live();
    h.response(&reply(vec![wire::addr(
        &name(INSTANCE),
        "198.18.0.9".parse().unwrap(),
        120,
        true,
    )]));
    h.advance(ms(1));
    assert_eq!(probes(&h).len(), 1);
    assert_eq!(h.events, vec![Event::Registered(id)]);
}

#[test]
fn rfc6762_s9_identical_records_are_no_conflict() {
    let (mut h, id) = Harness::live();
    // The same data, even with other TTLs and without the flush bit.
    let mut same = our_records();
    for r in same.iter_mut() {
        r.ttl = 60;
    }
    same.push(srv_with_port(80));
    h.response(&reply(same));
    assert_eq!(h.r.poll_timeout(), None, "nothing scheduled");
    h.advance(Duration::from_secs(3));
    assert!(h.sent.is_empty(), "no re-probe");
    assert_eq!(h.events, vec![Event::Registered(id)]);
}

#[test]
fn rfc6762_s9_other_types_at_our_name_goodbyes_and_nsec_are_no_conflict() {
    let (mut h, id) = Harness::live();
    let inst = name(INSTANCE);
    let mut goodbye = srv_with_port(8080).with_cache_flush(true);
    goodbye.ttl = 0;
    h.response(&reply(vec![
        // We publish no AAAA at the instance name: no record to conflict with.
        wire::addr(&inst, "fd00:99::9".parse().unwrap(), 120, true),
        // A PTR owned by our instance name is not of a type we claim there.
        wire::ptr(&inst, &name("elsewhere.local."), 4500),
        // The reference's NSEC lists only its address type: ignored.
        wire::nsec(&inst, &[T_A], 120),
        // A goodbye (TTL 0) claims nothing.
        goodbye,
        // Another instance of the same type is another name.
        wire::srv(
            &name(&format!("inspector.{STYPE}")),
            &name(INSTANCE),
            5050,
            120,
        )
        .with_cache_flush(true),
    ]));
    h.advance(Duration::from_secs(3));
    assert!(probes(&h).is_empty(), "no re-probe");
    assert_eq!(h.events, vec![Event::Registered(id)]);
}

#[test]
fn rfc6762_s8_1_fifteen_conflicts_in_ten_seconds_delay_the_reprobe_5s() {
    let (mut h, id) = Harness::live();
    let other = format!("inspector.{STYPE}");
    let theirs = reply(vec![
        wire::srv(&name(&other), &name(&other), 9, 120).with_cache_flush(true)
    ]);
    for _ in 0..15 {
        let lost =
            h.r.register(
                h.now,
                ServiceInfo {
                    instance: other.clone(),
                    target: other.clone(),
                    ..info()
                },
            )
            .unwrap();
        let first = h.r.poll_timeout().unwrap();
        h.run_until(first);
        h.response(&theirs);
        assert_eq!(h.events.last(), Some(&Event::Conflict(lost)));
    }
    h.sent.clear();
    let at = h.now;
    h.response(&rival_response(8080));
    assert_eq!(h.r.poll_timeout().unwrap() - at, Duration::from_secs(5));
    h.advance(ms(5000 + 750 + 500));
    assert_eq!(probes(&h).len(), 3);
    assert_eq!(probes(&h)[0].at - at, Duration::from_secs(5));
    assert_eq!(
        announcements(&h).len(),
        1,
        "announcing again after the 5 s wait"
    );
    assert_eq!(
        h.events
            .iter()
            .filter(|e| **e == Event::Conflict(id))
            .count(),
        0
    );
}

#[test]
fn rfc6762_s10_1_unregister_during_a_reprobe_says_goodbye_to_what_peers_cached() {
    let (mut h, id) = Harness::live();
    h.response(&rival_response(8080));
    h.advance(ms(1));
    h.sent.clear();
    h.r.unregister(h.now, id).unwrap();
    h.advance(GOODBYE_INTERVAL * 2);
    assert_eq!(h.events.last(), Some(&Event::Withdrawn(id)));
    assert_eq!(h.sent.len(), usize::from(GOODBYES));
    let p = h.sent[0].packet();
    assert!(p.has_flags(PacketFlag::RESPONSE) && p.answers.iter().all(|r| r.ttl == 0));
    assert_eq!(types(&p.answers).len(), 5);
}

#[test]
fn rfc6762_s9_registered_name_still_probing_on_a_new_interface_reprobes_on_one_packet() {
    let (mut h, id) = Harness::live();
    let eth1 = Interface {
        index: 3,
        name: "eth1".into(),
        addrs: vec![IfAddr {
            addr: "198.19.0.1".parse().unwrap(),
            prefix_len: 24,
        }],
    };
    h.r.set_interfaces(h.now, vec![eth0(), eth1]);
    h.advance(ms(260)); // probing on eth1 has begun
    h.response(&rival_response(8080));
    assert_eq!(
        h.events,
        vec![Event::Registered(id)],
        "a registration made is not lost to one packet"
    );
    h.advance(Duration::from_secs(5));
    assert_eq!(h.events, vec![Event::Registered(id)]);
    assert_eq!(
        announcements(&h).iter().filter(|s| s.tx.iface == 2).count(),
        2,
        "announced again on eth0"
    );
}

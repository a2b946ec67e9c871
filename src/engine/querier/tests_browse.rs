//! Browse tests (RFC 6763 s4, RFC 6762 s5.2), with a fake clock.

use std::time::Instant;

use simple_dns::TYPE;

use super::tests::*;
use super::*;

const OTHER: &str = "inspector._openstack._tcp.local.";

fn added(evs: &[Event]) -> Vec<&ResolvedService> {
    evs.iter()
        .filter_map(|e| match e {
            Event::BrowseAdded { service, .. } => Some(service),
            _ => None,
        })
        .collect()
}

fn removed(evs: &[Event]) -> Vec<&str> {
    evs.iter()
        .filter_map(|e| match e {
            Event::BrowseRemoved { instance, .. } => Some(instance.as_str()),
            _ => None,
        })
        .collect()
}

#[test]
fn s5_2_browse_queries_start_after_20_to_120_ms_then_1_2_4_s_apart() {
    let t0 = Instant::now();
    let mut q = Querier::new(64, 3, None);
    q.browse(t0, SERVICE).unwrap();
    assert!(sent(&mut q).is_empty(), "not at once");
    let log = run(&mut q, ms(t0, 8_000));
    let times: Vec<u64> = log
        .iter()
        .map(|(t, _)| t.duration_since(t0).as_millis() as u64)
        .collect();
    assert!((20..=120).contains(&times[0]), "{times:?}");
    let gaps: Vec<u64> = times.windows(2).map(|w| w[1] - w[0]).collect();
    assert_eq!(gaps, vec![1_000, 2_000, 4_000]);
    for (_, s) in &log {
        assert_eq!(
            s[0].questions,
            vec![(SERVICE.to_string(), TYPE::PTR, false)]
        );
    }
}

#[test]
fn s5_2_browse_interval_is_capped_at_sixty_minutes() {
    let t0 = Instant::now();
    let mut q = Querier::new(64, 3, None);
    q.browse(t0, SERVICE).unwrap();
    let log = run(&mut q, t0 + std::time::Duration::from_secs(5 * 3600));
    let times: Vec<u64> = log
        .iter()
        .map(|(t, _)| t.duration_since(t0).as_secs())
        .collect();
    let gaps: Vec<u64> = times.windows(2).map(|w| w[1] - w[0]).collect();
    assert_eq!(*gaps.iter().max().unwrap(), 3600);
    assert!(gaps.windows(2).all(|w| w[1] >= w[0]));
}

#[test]
fn rfc6763_s4_browse_reports_a_resolved_instance_once() {
    let t0 = Instant::now();
    let mut q = Querier::new(64, 3, None);
    let b = q.browse(t0, SERVICE).unwrap();
    feed(
        &mut q,
        ms(t0, 200),
        2,
        vec![
            ptr(SERVICE, INSTANCE, 4500),
            srv(INSTANCE, HOST, 6385, 120),
            txt(INSTANCE, &[b"protocol=http"], 4500),
            addr(HOST, "fd00:99::5", 120),
        ],
    );
    let evs = events(&mut q);
    assert_eq!(
        evs,
        vec![Event::BrowseAdded {
            browse: b,
            service: ResolvedService {
                validated: false,
                instance: INSTANCE.to_string(),
                target: HOST.to_string(),
                port: 6385,
                txt: vec![b"protocol=http".to_vec()],
                addresses: vec![ScopedAddr {
                    addr: "fd00:99::5".parse().unwrap(),
                    iface: 2
                }],
            },
        }]
    );
    // The same records again (an announcement repeat): nothing new.
    feed(
        &mut q,
        ms(t0, 1_200),
        2,
        vec![ptr(SERVICE, INSTANCE, 4500), srv(INSTANCE, HOST, 6385, 120)],
    );
    assert!(events(&mut q).is_empty());
    // A changed port is reported again.
    feed(
        &mut q,
        ms(t0, 5_000),
        2,
        vec![srv(INSTANCE, HOST, 6386, 120)],
    );
    q.handle_timeout(ms(t0, 6_001));
    let evs = events(&mut q);
    assert_eq!(
        added(&evs).iter().map(|s| s.port).collect::<Vec<_>>(),
        vec![6386]
    );
}

#[test]
fn browse_asks_at_once_for_what_a_new_instance_lacks() {
    let t0 = Instant::now();
    let mut q = Querier::new(64, 3, None);
    q.browse(t0, SERVICE).unwrap();
    feed(&mut q, ms(t0, 200), 1, vec![ptr(SERVICE, INSTANCE, 4500)]);
    let s = sent(&mut q);
    let asked: Vec<_> = s
        .iter()
        .flat_map(|p| p.questions.iter().map(|(n, t, _)| (n.clone(), *t)))
        .collect();
    assert_eq!(
        asked,
        vec![
            (INSTANCE.to_string(), TYPE::SRV),
            (INSTANCE.to_string(), TYPE::TXT)
        ]
    );
    feed(
        &mut q,
        ms(t0, 250),
        1,
        vec![srv(INSTANCE, HOST, 80, 120), txt(INSTANCE, &[], 4500)],
    );
    let s = sent(&mut q);
    let asked: Vec<_> = s
        .iter()
        .flat_map(|p| p.questions.iter().map(|(n, t, _)| (n.clone(), *t)))
        .collect();
    assert_eq!(
        asked,
        vec![(HOST.to_string(), TYPE::A), (HOST.to_string(), TYPE::AAAA)]
    );
    assert!(events(&mut q).is_empty(), "waiting a moment for an address");
    feed(&mut q, ms(t0, 300), 1, vec![addr(HOST, "198.18.0.7", 120)]);
    assert_eq!(added(&events(&mut q)).len(), 1);
}

#[test]
fn browse_reports_srv_and_txt_without_address_after_a_short_wait() {
    let t0 = Instant::now();
    let mut q = Querier::new(64, 3, None);
    q.browse(t0, SERVICE).unwrap();
    feed(
        &mut q,
        ms(t0, 200),
        1,
        vec![
            ptr(SERVICE, INSTANCE, 4500),
            srv(INSTANCE, HOST, 80, 120),
            txt(INSTANCE, &[], 4500),
        ],
    );
    assert!(events(&mut q).is_empty());
    run(&mut q, ms(t0, 1_199));
    assert!(events(&mut q).is_empty());
    run(&mut q, ms(t0, 1_200));
    let evs = events(&mut q);
    let svc = added(&evs);
    assert_eq!(svc.len(), 1);
    assert!(svc[0].addresses.is_empty());
}

#[test]
fn s10_1_browse_removes_an_instance_on_goodbye_at_once() {
    let t0 = Instant::now();
    let mut q = Querier::new(64, 3, None);
    let b = q.browse(t0, SERVICE).unwrap();
    let records = |ttl| {
        vec![
            ptr(SERVICE, INSTANCE, ttl),
            ptr(SERVICE, OTHER, 4500),
            srv(INSTANCE, HOST, 80, ttl),
            txt(INSTANCE, &[], ttl),
            srv(OTHER, HOST, 81, 4500),
            txt(OTHER, &[], 4500),
            addr(HOST, "198.18.0.7", 4500),
        ]
    };
    feed(&mut q, ms(t0, 200), 1, records(4500));
    assert_eq!(added(&events(&mut q)).len(), 2);
    // The service is withdrawn: goodbyes for its PTR, SRV, TXT.
    feed(
        &mut q,
        ms(t0, 5_000),
        1,
        records(0)
            .into_iter()
            .take(4)
            .filter(|r| r.ttl == 0)
            .collect(),
    );
    assert_eq!(
        events(&mut q),
        vec![Event::BrowseRemoved {
            browse: b,
            instance: INSTANCE.to_string()
        }]
    );
    assert_eq!(q.resolve_cached(ms(t0, 5_000), INSTANCE), None);
    assert!(q.resolve_cached(ms(t0, 5_000), OTHER).is_some());
}

#[test]
fn s10_browse_removes_an_instance_when_its_ptr_expires() {
    let t0 = Instant::now();
    let mut q = Querier::new(64, 3, None);
    q.browse(t0, SERVICE).unwrap();
    // Nobody answers the refresh queries: the PTR runs out after 10 s.
    feed(
        &mut q,
        ms(t0, 200),
        1,
        vec![
            ptr(SERVICE, INSTANCE, 10),
            srv(INSTANCE, HOST, 80, 120),
            txt(INSTANCE, &[], 120),
            addr(HOST, "198.18.0.7", 120),
        ],
    );
    assert_eq!(added(&events(&mut q)).len(), 1);
    let log = run(&mut q, ms(t0, 10_199));
    assert!(
        log.iter().any(|(_, s)| s.iter().any(|p| p
            .questions
            .iter()
            .any(|(n, t, _)| n == SERVICE && *t == TYPE::PTR))),
        "PTR refreshed before expiry"
    );
    assert!(removed(&events(&mut q)).is_empty());
    run(&mut q, ms(t0, 10_200));
    assert_eq!(removed(&events(&mut q)), vec![INSTANCE]);
}

#[test]
fn s7_1_browse_queries_list_known_ptrs() {
    let t0 = Instant::now();
    let mut q = Querier::new(64, 3, None);
    q.browse(t0, SERVICE).unwrap();
    feed(
        &mut q,
        t0,
        1,
        vec![
            ptr(SERVICE, INSTANCE, 4500),
            srv(INSTANCE, HOST, 80, 120),
            txt(INSTANCE, &[], 4500),
            addr(HOST, "198.18.0.7", 120),
        ],
    );
    sent(&mut q);
    let log = run(&mut q, ms(t0, 200));
    let s = &log[0].1[0];
    assert_eq!(s.known, vec![(SERVICE.to_string(), TYPE::PTR, 4499)]);
}

#[test]
fn stop_browse_stops_its_queries_and_events() {
    let t0 = Instant::now();
    let mut q = Querier::new(64, 3, None);
    let b = q.browse(t0, SERVICE).unwrap();
    q.stop_browse(b);
    assert!(run(&mut q, ms(t0, 10_000)).is_empty());
    feed(&mut q, ms(t0, 200), 1, vec![ptr(SERVICE, INSTANCE, 4500)]);
    assert!(events(&mut q).is_empty());
}

#[test]
fn a_browse_started_late_reports_what_the_cache_holds() {
    let t0 = Instant::now();
    let mut q = Querier::new(64, 3, None);
    feed(
        &mut q,
        t0,
        1,
        vec![
            ptr(SERVICE, INSTANCE, 4500),
            srv(INSTANCE, HOST, 80, 120),
            txt(INSTANCE, &[], 4500),
            addr(HOST, "198.18.0.7", 120),
        ],
    );
    let b = q.browse(ms(t0, 10), SERVICE).unwrap();
    let evs = events(&mut q);
    assert!(matches!(&evs[..], [Event::BrowseAdded { browse, .. }] if *browse == b));
}

#[test]
fn s7_2_a_long_known_answer_list_continues_in_tc_packets() {
    let t0 = Instant::now();
    let mut q = Querier::new(DEFAULT_CACHE_CAPACITY, 3, None);
    let instances: Vec<String> = (0..300)
        .map(|i| format!("{}-{i:03}.{SERVICE}", "x".repeat(55)))
        .collect();
    for chunk in instances.chunks(50) {
        let mut records = vec![addr(HOST, "198.18.0.7", 4500)];
        for i in chunk {
            records.extend([
                ptr(SERVICE, i, 4500),
                srv(i, HOST, 80, 4500),
                txt(i, &[], 4500),
            ]);
        }
        feed(&mut q, t0, 1, records);
    }
    q.browse(t0, SERVICE).unwrap();
    assert_eq!(added(&events(&mut q)).len(), 300);
    sent(&mut q);
    let log = run(&mut q, ms(t0, 200));
    let packets = &log[0].1;
    assert!(packets.len() >= 3, "{} packets", packets.len());
    assert_eq!(
        packets[0].questions,
        vec![(SERVICE.to_string(), TYPE::PTR, false)]
    );
    assert!(packets[1..].iter().all(|p| p.questions.is_empty()));
    let tcs: Vec<bool> = packets.iter().map(|p| p.tc).collect();
    assert!(
        tcs[..tcs.len() - 1].iter().all(|t| *t) && !tcs[tcs.len() - 1],
        "{tcs:?}"
    );
    let known: usize = packets.iter().map(|p| p.known.len()).sum();
    assert_eq!(known, 300, "every known answer sent once");
}

#[test]
fn s17_many_questions_are_spread_over_packets_of_at_most_9000_bytes() {
    let t0 = Instant::now();
    let mut q = Querier::new(DEFAULT_CACHE_CAPACITY, 3, None);
    q.browse(t0, SERVICE).unwrap();
    // 300 instances known only by their PTR: SRV and TXT asked for each.
    let instances: Vec<String> = (0..300)
        .map(|i| format!("{}-{i:03}.{SERVICE}", "y".repeat(58)))
        .collect();
    feed(
        &mut q,
        ms(t0, 1),
        1,
        instances.iter().map(|i| ptr(SERVICE, i, 4500)).collect(),
    );
    let packets = sent(&mut q); // `sent` checks the 9000-byte bound
    assert!(packets.len() > 1);
    let asked: usize = packets.iter().map(|p| p.questions.len()).sum();
    assert_eq!(asked, 600);
    assert!(packets.iter().all(|p| !p.tc && p.known.is_empty()));
}

#[test]
fn s10_browse_removes_an_instance_whose_srv_expires_and_adds_it_back() {
    let t0 = Instant::now();
    let mut q = Querier::new(64, 3, None);
    let b = q.browse(t0, SERVICE).unwrap();
    // The reference's TTLs: PTR 4500 s, SRV 120 s. The host dies silently.
    let records = vec![
        ptr(SERVICE, INSTANCE, 4500),
        srv(INSTANCE, HOST, 80, 120),
        txt(INSTANCE, &[], 4500),
        addr(HOST, "198.18.0.7", 120),
    ];
    feed(&mut q, ms(t0, 200), 1, records.clone());
    assert_eq!(added(&events(&mut q)).len(), 1);
    run(&mut q, ms(t0, 120_199));
    assert!(removed(&events(&mut q)).is_empty());
    run(&mut q, ms(t0, 120_200));
    assert_eq!(
        events(&mut q),
        vec![Event::BrowseRemoved {
            browse: b,
            instance: INSTANCE.to_string()
        }]
    );
    // It comes back.
    feed(&mut q, ms(t0, 130_000), 1, records);
    assert_eq!(added(&events(&mut q)).len(), 1);
}

/// Random operations and records: never a panic, the cache within its
/// bound and consistent, every packet within 9000 bytes.
#[test]
fn random_traffic_and_calls_never_break_the_querier() {
    let t0 = Instant::now();
    let mut q = Querier::new(40, 11, None);
    let mut x: u64 = 0xdead_beef;
    let mut rand = move |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    let names = [
        INSTANCE,
        OTHER,
        HOST,
        SERVICE,
        "h2.local.",
        "BAREMETAL._openstack._tcp.local.",
    ];
    let mut browses = Vec::new();
    let mut queries = Vec::new();
    for step in 0..2_000u64 {
        let now = ms(t0, step * 97);
        let mut records = Vec::new();
        for _ in 0..rand(6) {
            let owner = names[rand(names.len() as u64) as usize];
            let other = names[rand(names.len() as u64) as usize];
            let ttl = [0, 1, 2, 120, 4500, 0x7fff_ffff, u32::MAX][rand(7) as usize];
            let mut r = match rand(7) {
                0 => ptr(owner, other, ttl),
                1 => srv(owner, other, rand(65536) as u16, ttl),
                2 => {
                    let all: [&[u8]; 3] = [b"a=1", b"", b"=x"];
                    txt(owner, &all[..rand(4) as usize], ttl)
                }
                3 => txt_empty_rdata(owner, ttl),
                4 => addr(owner, &format!("198.18.0.{}", rand(4)), ttl),
                5 => addr(owner, &format!("fe80::{}", rand(4)), ttl),
                _ => nsec(owner, &[TYPE::A], ttl),
            };
            r.cache_flush = rand(2) == 0;
            records.push(r);
        }
        feed(&mut q, now, 1 + rand(3) as u32, records);
        match rand(40) {
            0 => browses.push(q.browse(now, SERVICE).unwrap()),
            1 => queries.push(
                q.query(now, names[rand(3) as usize], ms(now, rand(5_000)))
                    .unwrap(),
            ),
            2 => {
                if let Some(b) = browses.pop() {
                    q.stop_browse(b)
                }
            }
            3 => {
                if let Some(id) = queries.pop() {
                    q.cancel_query(id)
                }
            }
            4 => q.flush_cache(),
            _ => {}
        }
        let _ = q.resolve_cached(now, INSTANCE);
        run(&mut q, now);
        events(&mut q);
        q.cache.check_invariants();
    }
}

#[test]
fn rfc6763_s4_1_a_ptr_to_a_name_outside_the_type_is_no_instance() {
    // Found by the engine fuzz target: a PTR from the browsed type to
    // `baremetal.` (or to a name two labels down) was reported as an
    // instance of `_openstack._tcp.local.`.
    let t0 = Instant::now();
    let mut q = Querier::new(64, 3, None);
    q.browse(t0, SERVICE).unwrap();
    let deep = format!("a.{INSTANCE}");
    feed(
        &mut q,
        ms(t0, 200),
        2,
        vec![
            ptr(SERVICE, "baremetal.", 4500),
            srv("baremetal.", HOST, 6385, 120),
            txt("baremetal.", &[b"x=1"], 4500),
            ptr(SERVICE, &deep, 4500),
            srv(&deep, HOST, 6385, 120),
            txt(&deep, &[b"x=1"], 4500),
            addr(HOST, "fd00:99::5", 120),
        ],
    );
    let _ = run(&mut q, ms(t0, 3_000));
    assert!(added(&events(&mut q)).is_empty());
}

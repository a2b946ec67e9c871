//! One-shot query tests, with a fake clock. Each names the rule it shows.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use simple_dns::rdata::{RData, A, AAAA, NSEC, PTR, SRV, TXT};
use simple_dns::{CharacterString, Name, Packet, ResourceRecord, CLASS, QTYPE, TYPE};

use super::*;
use crate::wire::MAX_PACKET;

pub(super) const INSTANCE: &str = "baremetal._openstack._tcp.local.";
pub(super) const SERVICE: &str = "_openstack._tcp.local.";
pub(super) const HOST: &str = "host1.local.";

pub(super) fn ms(t0: Instant, ms: u64) -> Instant {
    t0 + Duration::from_millis(ms)
}

pub(super) fn recv(iface: IfIndex) -> Received {
    Received {
        iface,
        src: "198.18.0.2:5353".parse::<SocketAddr>().unwrap(),
        multicast: true,
    }
}

pub(super) fn name(s: &str) -> Name<'static> {
    Name::new(s).unwrap().into_owned()
}

pub(super) fn rr(owner: &str, ttl: u32, rdata: RData<'static>) -> ResourceRecord<'static> {
    ResourceRecord::new(name(owner), CLASS::IN, ttl, rdata).with_cache_flush(true)
}

pub(super) fn srv(owner: &str, target: &str, port: u16, ttl: u32) -> ResourceRecord<'static> {
    rr(
        owner,
        ttl,
        RData::SRV(SRV {
            priority: 0,
            weight: 0,
            port,
            target: name(target),
        }),
    )
}

pub(super) fn txt(owner: &str, strings: &[&[u8]], ttl: u32) -> ResourceRecord<'static> {
    let mut t = TXT::new();
    for s in strings {
        t.add_char_string(CharacterString::new(s).unwrap().into_owned());
    }
    rr(owner, ttl, RData::TXT(t))
}

/// A TXT record with zero-length RDATA (as python-zeroconf sends it).
pub(super) fn txt_empty_rdata(owner: &str, ttl: u32) -> ResourceRecord<'static> {
    rr(owner, ttl, RData::Empty(TYPE::TXT))
}

pub(super) fn addr(owner: &str, ip: &str, ttl: u32) -> ResourceRecord<'static> {
    match ip.parse::<IpAddr>().unwrap() {
        IpAddr::V4(a) => rr(owner, ttl, RData::A(A::from(a))),
        IpAddr::V6(a) => rr(owner, ttl, RData::AAAA(AAAA::from(a))),
    }
}

pub(super) fn ptr(owner: &str, instance: &str, ttl: u32) -> ResourceRecord<'static> {
    rr(owner, ttl, RData::PTR(PTR(name(instance)))).with_cache_flush(false)
}

pub(super) fn nsec(owner: &str, types: &[TYPE], ttl: u32) -> ResourceRecord<'static> {
    rr(
        owner,
        ttl,
        RData::NSEC(NSEC::from_types(name(owner), types)),
    )
}

/// Feed a response holding `answers`, through the wire and back.
pub(super) fn feed(
    q: &mut Querier,
    now: Instant,
    iface: IfIndex,
    answers: Vec<ResourceRecord<'static>>,
) {
    let mut p = Packet::new_reply(0);
    p.answers = answers;
    let bytes = p.build_bytes_vec_compressed().unwrap();
    let parsed = Packet::parse(&bytes).unwrap();
    q.handle_response(now, recv(iface), &parsed);
}

/// A sent query, decoded: (name, type, QU) of each question, and the known
/// answers as (name, type, ttl).
#[derive(Debug)]
pub(super) struct Sent {
    pub questions: Vec<(String, TYPE, bool)>,
    pub known: Vec<(String, TYPE, u32)>,
    pub id: u16,
    /// TC bit: more known answers follow (RFC 6762 s7.2).
    pub tc: bool,
    /// Sent from the ephemeral port (RFC 6762 s5.1 one-shot query).
    pub ephemeral: bool,
}

pub(super) fn sent(q: &mut Querier) -> Vec<Sent> {
    let mut all = Vec::new();
    while let Some(out) = q.poll_query() {
        assert!(out.payload.len() <= MAX_PACKET);
        let p = Packet::parse(&out.payload).unwrap();
        all.push(Sent {
            questions: p
                .questions
                .iter()
                .map(|x| {
                    let QTYPE::TYPE(t) = x.qtype else {
                        panic!("odd qtype")
                    };
                    (format!("{}.", x.qname), t, x.unicast_response)
                })
                .collect(),
            known: p
                .answers
                .iter()
                .map(|r| (format!("{}.", r.name), r.rdata.type_code(), r.ttl))
                .collect(),
            id: p.id(),
            tc: p.has_flags(simple_dns::PacketFlag::TRUNCATION),
            ephemeral: out.ephemeral,
        });
    }
    all
}

pub(super) fn events(q: &mut Querier) -> Vec<Event> {
    std::iter::from_fn(|| q.poll_event()).collect()
}

/// Run the querier's timers from `from` to `to` (inclusive), returning the
/// times at which it sent something, with what it sent.
pub(super) fn run(q: &mut Querier, to: Instant) -> Vec<(Instant, Vec<Sent>)> {
    let mut log = Vec::new();
    while let Some(t) = q.poll_timeout() {
        if t > to {
            break;
        }
        q.handle_timeout(t);
        let s = sent(q);
        if !s.is_empty() {
            log.push((t, s));
        }
    }
    log
}

fn resolved_service(evs: &[Event]) -> &ResolvedService {
    match evs {
        [Event::Resolved { service, .. }] => service,
        other => panic!("expected one Resolved, got {other:?}"),
    }
}

fn full_answer() -> Vec<ResourceRecord<'static>> {
    vec![
        srv(INSTANCE, HOST, 6385, 120),
        txt(INSTANCE, &[b"path=/baremetal"], 4500),
        addr(HOST, "198.18.0.10", 120),
    ]
}

/// RFC 6762 s5.1, s6.7: the first packet of a one-shot query is a legacy
/// query from the ephemeral port: a random non-zero ID (the unicast answer
/// echoes it), SRV, TXT, A and AAAA of the instance, no QU bit.
#[test]
fn s5_1_first_query_is_one_shot_from_the_ephemeral_port() {
    let t0 = Instant::now();
    let want: Vec<(String, TYPE, bool)> = [TYPE::SRV, TYPE::TXT, TYPE::A, TYPE::AAAA]
        .iter()
        .map(|t| (INSTANCE.to_string(), *t, false))
        .collect();
    let mut ids = Vec::new();
    for seed in 1..=8 {
        let mut q = Querier::new(64, seed, None);
        q.query(t0, INSTANCE, ms(t0, 10_000)).unwrap();
        let s = sent(&mut q);
        assert_eq!(s.len(), 1, "one packet");
        assert!(s[0].ephemeral, "sent from the ephemeral port");
        assert_ne!(s[0].id, 0, "s6.7: a non-zero ID for the answer to echo");
        assert!(!s[0].tc);
        assert_eq!(s[0].questions, want);
        ids.push(s[0].id);
    }
    ids.sort_unstable();
    ids.dedup();
    assert!(ids.len() > 1, "the ID is random: {ids:?}");
}

/// A one-shot query carries no known answers (a legacy resolver sends
/// none; Avahi ignores a legacy query with any), even with part of the
/// answer cached; its retries from 5353 do carry them (s7.1).
#[test]
fn s5_1_one_shot_query_carries_no_known_answers() {
    let t0 = Instant::now();
    let mut q = Querier::new(64, 1, None);
    feed(
        &mut q,
        t0,
        1,
        vec![
            srv(INSTANCE, INSTANCE, 80, 120),
            txt(INSTANCE, &[b"a=1"], 4500),
        ],
    );
    q.query(t0, INSTANCE, ms(t0, 10_000)).unwrap();
    let s = sent(&mut q);
    assert_eq!(s.len(), 1);
    assert!(s[0].ephemeral && !s[0].tc);
    assert_eq!(s[0].questions.len(), 4);
    assert_eq!(s[0].known, vec![], "no known answers in a one-shot query");
    let log = run(&mut q, ms(t0, 1_000));
    let retry = &log[0].1[0];
    assert!(!retry.ephemeral);
    assert_eq!(
        retry.known.len(),
        2,
        "the QM retry lists SRV and TXT as known answers"
    );
}

#[test]
fn s5_2_retries_are_qm_one_second_then_doubling_until_deadline() {
    let t0 = Instant::now();
    let mut q = Querier::new(64, 1, None);
    let id = q.query(t0, INSTANCE, ms(t0, 10_000)).unwrap();
    sent(&mut q);
    let log = run(&mut q, ms(t0, 10_000));
    let times: Vec<u64> = log
        .iter()
        .map(|(t, _)| t.duration_since(t0).as_millis() as u64)
        .collect();
    assert_eq!(times, vec![1_000, 3_000, 7_000]);
    for (_, s) in &log {
        assert!(
            s[0].questions.iter().all(|(_, _, qu)| !qu),
            "retries are QM"
        );
        // s5.2 continuous querying: from port 5353, ID 0 (s18.1).
        assert!(
            s.iter().all(|p| !p.ephemeral && p.id == 0),
            "retries leave from 5353 with ID 0"
        );
    }
    assert_eq!(events(&mut q), vec![Event::QueryTimedOut(id)]);
    assert_eq!(q.poll_timeout(), None);
}

#[test]
fn s7_1_retries_carry_known_answers_over_half_their_ttl() {
    let t0 = Instant::now();
    let mut q = Querier::new(64, 1, None);
    q.query(t0, INSTANCE, ms(t0, 10_000)).unwrap();
    sent(&mut q);
    // SRV and TXT, no address; the TXT has a short TTL (under half left at 1 s).
    feed(
        &mut q,
        ms(t0, 100),
        1,
        vec![
            srv(INSTANCE, INSTANCE, 80, 120),
            txt(INSTANCE, &[b"a=1"], 2),
        ],
    );
    sent(&mut q);
    let log = run(&mut q, ms(t0, 1_000));
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].0, ms(t0, 1_000));
    let s = &log[0].1[0];
    assert_eq!(s.known, vec![(INSTANCE.to_string(), TYPE::SRV, 119)]);
}

#[test]
fn srv_target_without_addresses_is_asked_for_at_once() {
    let t0 = Instant::now();
    let mut q = Querier::new(64, 1, None);
    let id = q.query(t0, INSTANCE, ms(t0, 10_000)).unwrap();
    sent(&mut q);
    // Avahi-like: SRV + TXT first, addresses later.
    feed(
        &mut q,
        ms(t0, 50),
        2,
        vec![srv(INSTANCE, HOST, 80, 120), txt(INSTANCE, &[], 4500)],
    );
    let s = sent(&mut q);
    assert_eq!(s.len(), 1);
    assert_eq!(
        s[0].questions,
        vec![
            (HOST.to_string(), TYPE::A, false),
            (HOST.to_string(), TYPE::AAAA, false)
        ]
    );
    assert!(events(&mut q).is_empty(), "no address yet: not resolved");
    feed(&mut q, ms(t0, 80), 2, vec![addr(HOST, "fe80::1", 120)]);
    let evs = events(&mut q);
    assert!(matches!(&evs[..], [Event::Resolved { query, .. }] if *query == id));
}

#[test]
fn ordinary_dns_target_is_asked_for_its_addresses_too() {
    let t0 = Instant::now();
    let mut q = Querier::new(64, 1, None);
    q.query(t0, INSTANCE, ms(t0, 10_000)).unwrap();
    sent(&mut q);
    feed(
        &mut q,
        ms(t0, 50),
        1,
        vec![
            srv(INSTANCE, "openstack.example.com.", 443, 120),
            txt(INSTANCE, &[], 4500),
        ],
    );
    let s = sent(&mut q);
    assert_eq!(
        s[0].questions[0],
        ("openstack.example.com.".to_string(), TYPE::A, false)
    );
}

#[test]
fn deadline_with_srv_and_txt_but_no_address_times_out() {
    let t0 = Instant::now();
    let mut q = Querier::new(64, 1, None);
    let id = q.query(t0, INSTANCE, ms(t0, 3_000)).unwrap();
    feed(
        &mut q,
        ms(t0, 50),
        1,
        vec![srv(INSTANCE, HOST, 80, 120), txt(INSTANCE, &[], 4500)],
    );
    run(&mut q, ms(t0, 3_000));
    assert_eq!(events(&mut q), vec![Event::QueryTimedOut(id)]);
}

#[test]
fn resolved_event_carries_port_target_txt_bytes_and_addresses_in_order() {
    let t0 = Instant::now();
    let mut q = Querier::new(64, 1, None);
    let id = q.query(t0, INSTANCE, ms(t0, 10_000)).unwrap();
    let strings: &[&[u8]] = &[
        b"path=/baremetal",
        b"binary=\xE2\x28\xA1",
        b"flag",
        b"empty=",
        b"eq=a=b",
    ];
    feed(
        &mut q,
        ms(t0, 10),
        3,
        vec![
            srv(INSTANCE, HOST, 8080, 120),
            txt(INSTANCE, strings, 4500),
            addr(HOST, "fd00:99::2", 120),
        ],
    );
    // Not a query completion yet? It is: one address is enough; later ones
    // are in resolve_cached, in order first received.
    let evs = events(&mut q);
    let svc = resolved_service(&evs);
    assert_eq!(
        *svc,
        ResolvedService {
            validated: false,
            instance: INSTANCE.to_string(),
            target: HOST.to_string(),
            port: 8080,
            txt: strings.iter().map(|s| s.to_vec()).collect(),
            addresses: vec![ScopedAddr {
                addr: "fd00:99::2".parse().unwrap(),
                iface: 3
            }],
        }
    );
    assert!(matches!(evs[0], Event::Resolved { query, .. } if query == id));
    feed(
        &mut q,
        ms(t0, 20),
        4,
        vec![
            addr(HOST, "198.18.0.10", 120),
            addr(HOST, "fd00:99::2", 120),
        ],
    );
    let cached = q.resolve_cached(ms(t0, 30), INSTANCE).unwrap();
    let got: Vec<(String, IfIndex)> = cached
        .addresses
        .iter()
        .map(|a| (a.addr.to_string(), a.iface))
        .collect();
    assert_eq!(
        got,
        vec![
            ("fd00:99::2".to_string(), 4),
            ("198.18.0.10".to_string(), 4)
        ]
    );
}

#[test]
fn rfc6763_s6_1_empty_txt_both_ways_means_no_properties() {
    for (label, record) in [
        ("zero-length rdata", txt_empty_rdata(INSTANCE, 4500)),
        ("single empty string", txt(INSTANCE, &[b""], 4500)),
    ] {
        let t0 = Instant::now();
        let mut q = Querier::new(64, 1, None);
        feed(
            &mut q,
            t0,
            1,
            vec![
                srv(INSTANCE, HOST, 80, 120),
                record,
                addr(HOST, "198.18.0.10", 120),
            ],
        );
        let svc = q
            .resolve_cached(t0, INSTANCE)
            .unwrap_or_else(|| panic!("{label}: not resolved"));
        assert_eq!(svc.txt, Vec::<Vec<u8>>::new(), "{label}");
    }
}

#[test]
fn a_cached_answer_resolves_a_query_at_once_without_sending() {
    let t0 = Instant::now();
    let mut q = Querier::new(64, 1, None);
    feed(&mut q, t0, 1, full_answer());
    let id = q.query(ms(t0, 5), INSTANCE, ms(t0, 3_000)).unwrap();
    assert!(sent(&mut q).is_empty());
    assert!(matches!(&events(&mut q)[..], [Event::Resolved { query, .. }] if *query == id));
}

#[test]
fn s10_resolve_cached_answers_until_the_ttl_runs_out() {
    let t0 = Instant::now();
    let mut q = Querier::new(64, 1, None);
    assert_eq!(q.resolve_cached(t0, INSTANCE), None, "nothing cached yet");
    feed(&mut q, t0, 1, full_answer());
    assert!(q.resolve_cached(ms(t0, 119_999), INSTANCE).is_some());
    // SRV and A had 120 s.
    assert_eq!(q.resolve_cached(ms(t0, 120_000), INSTANCE), None);
    assert_eq!(q.cache_len(), 3);
    q.handle_timeout(ms(t0, 120_000));
    assert_eq!(
        q.cache_len(),
        1,
        "expired SRV and A removed, TXT (4500 s) stays"
    );
}

#[test]
fn s16_names_compare_case_insensitively() {
    let t0 = Instant::now();
    let mut q = Querier::new(64, 1, None);
    feed(
        &mut q,
        t0,
        1,
        vec![
            srv("BareMetal._OpenStack._TCP.Local.", "Host1.LOCAL.", 80, 120),
            txt("BAREMETAL._openstack._tcp.local.", &[], 4500),
            addr("HOST1.local.", "198.18.0.10", 120),
        ],
    );
    let svc = q
        .resolve_cached(t0, INSTANCE)
        .expect("resolved across case");
    assert_eq!(svc.instance, INSTANCE);
    let undotted = q
        .resolve_cached(t0, "BAREMETAL._openstack._tcp.local")
        .expect("without the final dot");
    assert_eq!(
        undotted.instance, "BAREMETAL._openstack._tcp.local.",
        "the caller's name, with its dot"
    );
    feed(
        &mut q,
        ms(t0, 10),
        1,
        vec![addr("host1.local.", "198.18.0.10", 120)],
    );
    assert_eq!(
        q.cache_len(),
        3,
        "same record in another case is not a new one"
    );
}

#[test]
fn invalid_names_are_errors_not_panics() {
    let t0 = Instant::now();
    let mut q = Querier::new(64, 1, None);
    let long = format!("{}.local.", "x".repeat(64));
    for bad in ["", ".", long.as_str()] {
        assert!(
            matches!(
                q.query(t0, bad, ms(t0, 1000)),
                Err(EngineError::InvalidName(..))
            ),
            "{bad:?}"
        );
        assert!(
            matches!(q.browse(t0, bad), Err(EngineError::InvalidName(..))),
            "{bad:?}"
        );
        assert_eq!(q.resolve_cached(t0, bad), None);
    }
}

#[test]
fn odd_records_never_panic() {
    let t0 = Instant::now();
    let mut q = Querier::new(8, 1, None);
    let mut odd = vec![
        srv(INSTANCE, ".", 0, u32::MAX),
        txt(INSTANCE, &[b"=novalue", b""], 0x8000_0000),
        addr(INSTANCE, "0.0.0.0", 1),
        nsec(INSTANCE, &[], 120),
        nsec(HOST, &[TYPE::A, TYPE::NSEC], 0),
        ptr(SERVICE, ".", 120),
        ResourceRecord::new(name(HOST), CLASS::CH, 120, RData::A(A { address: 1 })),
    ];
    odd.extend((0..20).map(|i| addr(&format!("h{i}.local."), "198.18.0.1", i)));
    q.query(t0, INSTANCE, ms(t0, 500)).unwrap();
    q.browse(t0, SERVICE).unwrap();
    feed(&mut q, t0, 1, odd);
    run(&mut q, ms(t0, 10_000));
    assert!(q.cache_len() <= 8);
}

#[test]
fn s5_2_concurrent_queries_for_one_name_share_their_packets() {
    let t0 = Instant::now();
    let mut q = Querier::new(64, 1, None);
    let a = q.query(t0, INSTANCE, ms(t0, 10_000)).unwrap();
    let b = q
        .query(
            ms(t0, 300),
            "BareMetal._openstack._tcp.local.",
            ms(t0, 10_000),
        )
        .unwrap();
    assert_eq!(
        sent(&mut q).len(),
        1,
        "the second query does not ask again within a second"
    );
    let log = run(&mut q, ms(t0, 4_000));
    let times: Vec<u64> = log
        .iter()
        .map(|(t, s)| (t.duration_since(t0).as_millis() as u64, s.len()))
        .map(|(t, n)| {
            assert_eq!(n, 1, "one packet at {t} ms");
            t
        })
        .collect();
    assert_eq!(times, vec![1_000, 3_000]);
    feed(&mut q, ms(t0, 4_100), 1, full_answer());
    let done: Vec<QueryId> = events(&mut q)
        .into_iter()
        .filter_map(|e| match e {
            Event::Resolved { query, .. } => Some(query),
            _ => None,
        })
        .collect();
    assert_eq!(done, vec![a, b]);
}

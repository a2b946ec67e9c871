//! DNSSEC on mDNS through the whole core, on the fake clock: a signing
//! responder, a validating querier, and a forger on the same link.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use simple_dns::rdata::RData;
use simple_dns::{Packet, PacketFlag, ResourceRecord};

use crate::engine::responder::sign::{build_signed_for_tests, BACKDATE, LIFETIME, RESIGN_EVERY};
use crate::engine::signed;
use crate::engine::*;
use crate::trust::{
    self, rtype, Algorithm, Anchor, AnchorSet, DigestType, SigningKey, SigningKeyRef, TrustPolicy,
};
use crate::wire::{self, MAX_PACKET, T_A, T_PTR, T_SRV, T_TXT};

use super::test_link::{self, service, Host, Loopback, INSTANCE};

/// The wall time at the start of every test (2026-12-01).
const WALL0: u64 = 1_796_083_200;

fn local() -> trust::Name {
    trust::Name::parse("local.").unwrap()
}

fn key(alg: Algorithm) -> SigningKeyRef {
    SigningKeyRef(Arc::new(SigningKey::generate(local(), alg, 257).unwrap()))
}

fn key_anchor(k: &SigningKeyRef) -> TrustPolicy {
    let a = Anchor::Dnskey {
        owner: Some(local()),
        key: k.dnskey().clone(),
    };
    TrustPolicy::new(
        AnchorSet::from_anchors(vec![a]).unwrap(),
        trust::DEFAULT_CLOCK_SKEW,
    )
}

fn ds_anchor(k: &SigningKeyRef) -> TrustPolicy {
    let a = Anchor::Ds {
        owner: Some(local()),
        ds: k.dnskey().ds(&local(), DigestType::Sha256),
    };
    TrustPolicy::new(
        AnchorSet::from_anchors(vec![a]).unwrap(),
        trust::DEFAULT_CLOCK_SKEW,
    )
}

impl Host {
    fn configured(last: u8, t0: Instant, config: EngineConfig) -> Host {
        Host::on_link(last, u64::from(last), t0, config, Some(WALL0))
    }
    fn signer(last: u8, t0: Instant, k: &SigningKeyRef) -> Host {
        Host::configured(
            last,
            t0,
            EngineConfig {
                signing_key: Some(k.clone()),
                ..EngineConfig::default()
            },
        )
    }
    fn validator(last: u8, t0: Instant, policy: TrustPolicy) -> Host {
        Host::configured(
            last,
            t0,
            EngineConfig {
                trust: Some(policy),
                ..EngineConfig::default()
            },
        )
    }
}

fn deliver(hosts: &mut [Host], from: IpAddr, now: Instant, tx: &Transmit) {
    test_link::deliver(hosts, from, now, tx, Loopback::No)
}

/// Run the hosts until `until`, piping every packet (to the others: a
/// host's own multicast is not looped back here).
fn run(hosts: &mut [Host], now: Instant, until: Instant) -> Instant {
    test_link::run(hosts, now, until, Loopback::No)
}

fn outcome(h: &Host, q: QueryId) -> Option<Result<ResolvedService, String>> {
    h.events.iter().find_map(|e| match e {
        Event::Resolved { query, service } if *query == q => Some(Ok(service.clone())),
        Event::QueryRefused { query, why } if *query == q => Some(Err(why.clone())),
        Event::QueryTimedOut(query) if *query == q => Some(Err("timed out".into())),
        _ => None,
    })
}

/// A publisher signing with a new Ed25519 key (host 1) and a querier
/// that anchors that key (host 2), on a link that starts now.
fn signer_and_validator() -> (SigningKeyRef, Instant, Vec<Host>) {
    let k = key(Algorithm::Ed25519);
    let t0 = Instant::now();
    let hosts = vec![
        Host::signer(1, t0, &k),
        Host::validator(2, t0, key_anchor(&k)),
    ];
    (k, t0, hosts)
}

/// Publisher (host 1, signing) registered; returns the time after.
fn published(hosts: &mut [Host], t0: Instant) -> Instant {
    let info = service(hosts[0].addr, 6385);
    hosts[0].e.register(t0, info).unwrap();
    run(hosts, t0, t0 + Duration::from_secs(3))
}

fn lookup(hosts: &mut [Host], who: usize, now: Instant) -> (QueryId, Instant) {
    let q = hosts[who]
        .e
        .query(now, INSTANCE, now + Duration::from_secs(3))
        .unwrap();
    (q, run(hosts, now, now + Duration::from_secs(4)))
}

fn parsed(tx: &Transmit) -> Packet<'static> {
    wire::parse(&tx.payload).unwrap()
}

fn rrsigs(rs: &[ResourceRecord<'_>]) -> Vec<(String, u16, bool, u32)> {
    rs.iter()
        .filter_map(|r| match &r.rdata {
            RData::RRSIG(s) => Some((r.name.to_string(), s.type_covered, r.cache_flush, r.ttl)),
            _ => None,
        })
        .collect()
}

#[test]
fn signed_publisher_resolves_validated_with_key_and_ds_anchors() {
    for alg in [Algorithm::Ed25519, Algorithm::EcdsaP256Sha256] {
        let k = key(alg);
        for policy in [key_anchor(&k), ds_anchor(&k)] {
            let t0 = Instant::now();
            let mut hosts = vec![Host::signer(1, t0, &k), Host::validator(2, t0, policy)];
            let now = published(&mut hosts, t0);
            let (q, _) = lookup(&mut hosts, 1, now);
            let s = outcome(&hosts[1], q)
                .expect("an outcome")
                .expect("resolved");
            assert!(s.validated, "{alg:?}");
            assert_eq!(s.port, 6385);
            assert_eq!(s.addresses[0].addr, hosts[0].addr);
        }
    }
}

#[test]
fn announcements_carry_rrsigs_and_the_dnskey_probes_do_not() {
    let k = key(Algorithm::Ed25519);
    let t0 = Instant::now();
    let mut hosts = vec![Host::signer(1, t0, &k)];
    published(&mut hosts, t0);
    let probes: Vec<Packet<'_>> = hosts[0]
        .sent
        .iter()
        .map(parsed)
        .filter(|p| !p.has_flags(PacketFlag::RESPONSE))
        .collect();
    assert!(!probes.is_empty());
    for p in &probes {
        let all: Vec<_> = p
            .name_servers
            .iter()
            .chain(p.additional_records.iter())
            .collect();
        assert!(
            all.iter().all(|r| !signed::is_trust_type(wire::rr_type(r))),
            "probe unsigned"
        );
    }
    let ann = hosts[0]
        .sent
        .iter()
        .map(parsed)
        .find(|p| p.has_flags(PacketFlag::RESPONSE))
        .expect("an announcement");
    let mut sigs = rrsigs(&ann.answers);
    sigs.sort();
    let inst = INSTANCE.trim_end_matches('.').to_string();
    // (owner, covered type, cache-flush like its RRset, TTL like its RRset)
    let mut want = vec![
        ("_openstack._tcp.local".to_string(), T_PTR, false, 4500),
        (
            "_services._dns-sd._udp.local".to_string(),
            T_PTR,
            false,
            4500,
        ),
        (inst.clone(), T_SRV, true, 120),
        (inst.clone(), T_TXT, true, 4500),
        (inst, T_A, true, 120),
    ];
    want.sort();
    assert_eq!(sigs, want);
    let keys: Vec<_> = ann
        .additional_records
        .iter()
        .filter(|r| wire::rr_type(r) == rtype::DNSKEY)
        .collect();
    assert_eq!(keys.len(), 1);
    assert!(!keys[0].cache_flush, "the DNSKEY at local. is shared");
    assert_eq!(keys[0].name.to_string(), "local");
    assert_eq!(
        rrsigs(&ann.additional_records),
        vec![("local".to_string(), rtype::DNSKEY, false, 4500)]
    );
    // Every signature's window: backdated, hours ahead.
    for r in ann.answers.iter() {
        if let RData::RRSIG(s) = &r.rdata {
            assert_eq!(
                u64::from(s.signature_inception),
                WALL0 - u64::from(BACKDATE)
            );
            assert_eq!(
                u64::from(s.signature_expiration),
                WALL0 + u64::from(LIFETIME)
            );
            assert_eq!(s.signer_name.to_string(), "local");
        }
    }
}

#[test]
fn signatures_are_remade_on_the_resign_timer() {
    let (_, t0, mut hosts) = signer_and_validator();
    let now = published(&mut hosts, t0);
    assert!(hosts[0]
        .e
        .poll_timeout()
        .is_some_and(|t| t <= t0 + RESIGN_EVERY));
    // Past the re-sign time, a lookup's answer carries fresh signatures.
    let later = t0 + RESIGN_EVERY + Duration::from_secs(60);
    let now = run(&mut hosts, now, later);
    hosts[0].sent.clear();
    let (q, _) = lookup(&mut hosts, 1, now);
    assert!(outcome(&hosts[1], q).unwrap().unwrap().validated);
    let inceptions: Vec<u64> = hosts[0]
        .sent
        .iter()
        .map(parsed)
        .flat_map(|p| p.answers.into_iter())
        .filter_map(|r| match r.rdata {
            RData::RRSIG(s) => Some(u64::from(s.signature_inception)),
            _ => None,
        })
        .collect();
    assert!(!inceptions.is_empty());
    let fresh = WALL0 + (later - t0).as_secs() - u64::from(BACKDATE);
    assert!(
        inceptions.iter().all(|&i| i >= fresh - 1),
        "{inceptions:?} vs {fresh}"
    );
}

#[test]
fn goodbyes_carry_ttl_zero_rrsigs_that_validate() {
    let (_, t0, mut hosts) = signer_and_validator();
    let now = published(&mut hosts, t0);
    let (q, now) = lookup(&mut hosts, 1, now);
    assert!(outcome(&hosts[1], q).unwrap().is_ok());
    assert!(hosts[1].e.resolve_cached(now, INSTANCE).is_some());
    let id = match hosts[0].events[0] {
        Event::Registered(id) => id,
        ref e => panic!("{e:?}"),
    };
    hosts[0].sent.clear();
    hosts[0].e.unregister(now, id).unwrap();
    let now = run(&mut hosts, now, now + Duration::from_secs(3));
    let bye = parsed(&hosts[0].sent[0]);
    assert!(bye.answers.iter().all(|r| r.ttl == 0));
    assert!(!rrsigs(&bye.answers).is_empty());
    assert!(rrsigs(&bye.answers).iter().all(|s| s.3 == 0));
    // The validating peer took the signed goodbye.
    assert!(hosts[1].e.resolve_cached(now, INSTANCE).is_none());
}

/// A hostile host's packet: answers `records` as a response from
/// 198.18.0.66, multicast.
fn forge(hosts: &mut [Host], now: Instant, answers: Vec<ResourceRecord<'static>>) {
    let mut p = Packet::new_reply(0);
    p.set_flags(PacketFlag::AUTHORITATIVE_ANSWER);
    p.answers = answers;
    let tx = Transmit {
        iface: 2,
        dst: Family::V4.group(),
        payload: p.build_bytes_vec_compressed().unwrap(),
        from_ephemeral: false,
    };
    deliver(hosts, IpAddr::V4(Ipv4Addr::new(198, 18, 0, 66)), now, &tx);
}

const EVIL: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 66));

fn forged_records() -> Vec<ResourceRecord<'static>> {
    let inst = wire::name_from_str(INSTANCE).unwrap();
    vec![
        wire::srv(&inst, &inst, 6385, 120),
        wire::txt(&inst, &[b"path=/evil".to_vec()], 4500).unwrap(),
        wire::addr(&inst, EVIL, 120, true),
    ]
}

/// `records` signed by `k` over the wall window given, with its DNSKEY.
fn signed_by(
    k: &SigningKeyRef,
    records: Vec<ResourceRecord<'static>>,
    inception: u32,
    expiration: u32,
) -> Vec<ResourceRecord<'static>> {
    let mut out = records.clone();
    for r in &records {
        let rr = wire::trust_rr(r).unwrap();
        let sig = k
            .sign_rrset(&[rr], &local(), inception, expiration)
            .unwrap();
        out.push(signed::rrsig_record(&r.name, &sig, r.ttl, r.cache_flush));
    }
    let zone = wire::dns_name(&local());
    out.push(signed::dnskey_record(&zone, k.dnskey(), 4500));
    out
}

/// Query from the validator, the forger answering `forged` at once; with
/// or without the genuine publisher on the link.
#[test]
fn without_a_policy_nothing_is_validated_and_unsigned_answers_resolve() {
    let t0 = Instant::now();
    let mut hosts = vec![
        Host::configured(1, t0, EngineConfig::default()),
        Host::configured(2, t0, EngineConfig::default()),
    ];
    let now = published(&mut hosts, t0);
    let (q, _) = lookup(&mut hosts, 1, now);
    let s = outcome(&hosts[1], q).unwrap().unwrap();
    assert!(!s.validated);
    assert!(hosts[0]
        .sent
        .iter()
        .map(parsed)
        .all(|p| rrsigs(&p.answers).is_empty()));
    // A plain querier also resolves a signing publisher.
    let k = key(Algorithm::Ed25519);
    let mut hosts = vec![
        Host::signer(1, t0, &k),
        Host::configured(2, t0, EngineConfig::default()),
    ];
    let now = published(&mut hosts, t0);
    let (q, _) = lookup(&mut hosts, 1, now);
    assert!(!outcome(&hosts[1], q).unwrap().unwrap().validated);
}

#[test]
fn a_validating_lookup_that_hears_nothing_times_out_as_before() {
    let k = key(Algorithm::Ed25519);
    let t0 = Instant::now();
    let mut hosts = vec![Host::validator(2, t0, key_anchor(&k))];
    let (q, _) = lookup(&mut hosts, 0, t0);
    assert_eq!(outcome(&hosts[0], q), Some(Err("timed out".into())));
}

#[test]
fn other_responders_rrsigs_and_dnskeys_are_no_conflict() {
    let k = key(Algorithm::Ed25519);
    let t0 = Instant::now();
    let mut hosts = vec![Host::signer(1, t0, &k)];
    let now = published(&mut hosts, t0);
    // Another responder's signatures at our instance name and its own key
    // at local.: not records of ours, whatever their data.
    let other = key(Algorithm::Ed25519);
    let inst = wire::name_from_str(INSTANCE).unwrap();
    let w = WALL0 as u32;
    let their = signed_by(
        &other,
        vec![wire::ptr(
            &wire::name_from_str("_openstack._tcp.local.").unwrap(),
            &inst,
            4500,
        )],
        w,
        w + 3600,
    );
    let mut sigs: Vec<_> = their
        .into_iter()
        .filter(|r| wire::rr_type(r) != T_PTR)
        .collect();
    let sig = other
        .sign_rrset(
            &[wire::trust_rr(&wire::srv(&inst, &inst, 1, 120)).unwrap()],
            &local(),
            w,
            w + 3600,
        )
        .unwrap();
    sigs.push(signed::rrsig_record(&inst, &sig, 120, true));
    forge(&mut hosts, now, sigs);
    run(&mut hosts, now, now + Duration::from_secs(5));
    assert!(
        !hosts[0]
            .events
            .iter()
            .any(|e| matches!(e, Event::Conflict(_))),
        "{:?}",
        hosts[0].events
    );
    let probes_after = hosts[0]
        .sent
        .iter()
        .map(parsed)
        .filter(|p| !p.has_flags(PacketFlag::RESPONSE))
        .count();
    assert_eq!(probes_after, 3, "no re-probe");
}

#[test]
fn a_key_outside_the_records_zone_is_refused_at_registration() {
    let k = SigningKeyRef(Arc::new(
        SigningKey::generate(
            trust::Name::parse("example.com.").unwrap(),
            Algorithm::Ed25519,
            257,
        )
        .unwrap(),
    ));
    let t0 = Instant::now();
    let mut h = Host::signer(1, t0, &k);
    let info = service(h.addr, 6385);
    match h.e.register(t0, info) {
        Err(EngineError::Signing(m)) => {
            assert!(m.contains("example.com") && m.contains("local."), "{m}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn known_answer_suppression_keeps_rrsets_whole() {
    // Two addresses; the querier knows one: the answer carries both with
    // the RRSIG over both, and it validates.
    let k = key(Algorithm::Ed25519);
    let t0 = Instant::now();
    let mut hosts = vec![Host::signer(1, t0, &k)];
    let mut info = service(hosts[0].addr, 6385);
    info.addresses.push("198.18.0.9".parse().unwrap());
    hosts[0].e.register(t0, info).unwrap();
    let now = run(&mut hosts, t0, t0 + Duration::from_secs(3));
    hosts[0].sent.clear();
    let inst = wire::name_from_str(INSTANCE).unwrap();
    let mut q = Packet::new_query(0);
    q.questions.push(simple_dns::Question::new(
        inst.clone(),
        simple_dns::QTYPE::TYPE(simple_dns::TYPE::A),
        simple_dns::QCLASS::CLASS(simple_dns::CLASS::IN),
        false,
    ));
    let mut known = wire::addr(&inst, hosts[0].addr, 120, false);
    known.ttl = 120;
    q.answers.push(known);
    let from = Received {
        iface: 2,
        src: SocketAddr::new("198.18.0.2".parse().unwrap(), MDNS_PORT),
        multicast: true,
    };
    let later = now + Duration::from_secs(2);
    hosts[0]
        .e
        .handle_packet(later, from, &q.build_bytes_vec().unwrap());
    run(&mut hosts, later, later + Duration::from_secs(1));
    let answer = parsed(&hosts[0].sent[0]);
    let a: Vec<_> = answer
        .answers
        .iter()
        .filter(|r| wire::rr_type(r) == T_A)
        .collect();
    assert_eq!(a.len(), 2, "the whole A RRset");
    let policy = key_anchor(&k);
    assert_all_validate(&policy, &answer);
}

#[test]
fn a_large_signed_response_splits_with_rrsets_kept_whole() {
    let k = key(Algorithm::EcdsaP256Sha256);
    let t0 = Instant::now();
    let mut hosts = vec![Host::signer(1, t0, &k)];
    let mut info = service(hosts[0].addr, 6385);
    // About 6 KB of TXT: one announcement, but not with everything else.
    info.txt = (0..24)
        .map(|i| format!("k{i:02}={}", "v".repeat(240)).into_bytes())
        .collect();
    hosts[0].e.register(t0, info).unwrap();
    run(&mut hosts, t0, t0 + Duration::from_secs(3));
    let ann = hosts[0]
        .sent
        .iter()
        .map(parsed)
        .find(|p| p.has_flags(PacketFlag::RESPONSE))
        .unwrap();
    // Doubling the answers forces a split of the same packet.
    let mut big = ann.clone();
    let inst = wire::name_from_str("other._openstack._tcp.local.").unwrap();
    let txt = wire::txt(
        &inst,
        &(0..24)
            .map(|i| format!("z{i:02}={}", "w".repeat(240)).into_bytes())
            .collect::<Vec<_>>(),
        4500,
    )
    .unwrap();
    let sig = k
        .sign_rrset(
            &[wire::trust_rr(&txt).unwrap()],
            &local(),
            WALL0 as u32,
            WALL0 as u32 + 3600,
        )
        .unwrap();
    big.answers.push(txt);
    big.answers
        .push(signed::rrsig_record(&inst, &sig, 4500, true));
    let parts = build_signed_for_tests(&big);
    assert!(parts.len() >= 2, "split");
    let policy = key_anchor(&k);
    for b in &parts {
        assert!(b.len() <= MAX_PACKET);
        let p = wire::parse(b).unwrap();
        assert!(p
            .additional_records
            .iter()
            .any(|r| wire::rr_type(r) == rtype::DNSKEY));
        assert_all_validate(&policy, &p);
    }
}

/// Every data record of `p` validates with what `p` carries.
fn assert_all_validate(policy: &TrustPolicy, p: &Packet<'_>) {
    let v = crate::engine::querier::validate_for_tests(policy, WALL0 + 5, p);
    let records = p.answers.iter().chain(p.additional_records.iter());
    let mut data = 0;
    for (r, v) in records.zip(v.iter()) {
        // NSEC is not validated with a trust policy (querier/validate.rs).
        if !signed::is_trust_type(wire::rr_type(r)) && wire::rr_type(r) != wire::T_NSEC {
            data += 1;
            assert!(v.is_ok(), "{} {}: {v:?}", r.name, wire::rr_type(r));
        }
    }
    assert!(data > 0);
}

mod forgery;

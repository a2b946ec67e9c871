//! The whole core: responder and querier behind `Engine`, two engines on
//! one simulated link.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use simple_dns::{Packet, PacketFlag};

use crate::engine::*;
use crate::wire;
use crate::wire::MAX_PACKET;

use super::test_link::{self, service, Host, Loopback};

impl Host {
    fn plain(last: u8, seed: u64, t0: Instant) -> Host {
        Host::on_link(last, seed, t0, EngineConfig::default(), None)
    }
}

/// Run the hosts until `until`, piping every packet: multicast to all
/// (the sender included, as multicast loops back), unicast to its owner.
fn run(hosts: &mut [Host], now: Instant, until: Instant) -> Instant {
    test_link::run(hosts, now, until, Loopback::Yes)
}

#[test]
fn register_on_one_host_resolve_from_the_other() {
    let t0 = Instant::now();
    let mut hosts = vec![Host::plain(1, 1, t0), Host::plain(2, 2, t0)];
    let info = service(hosts[0].addr, 8080);
    let id = hosts[0].e.register(t0, info).unwrap();
    let now = run(&mut hosts, t0, t0 + Duration::from_secs(3));
    assert_eq!(hosts[0].events, vec![Event::Registered(id)]);
    let q = hosts[1]
        .e
        .query(
            now,
            "baremetal._openstack._tcp.local.",
            now + Duration::from_secs(3),
        )
        .unwrap();
    run(&mut hosts, now, now + Duration::from_secs(4));
    let resolved = hosts[1].events.iter().find_map(|e| match e {
        Event::Resolved { query, service } if *query == q => Some(service.clone()),
        _ => None,
    });
    let s = resolved.expect("resolved from the other host");
    assert_eq!(s.port, 8080);
    assert_eq!(s.txt, vec![b"path=/baremetal".to_vec()]);
    assert_eq!(s.addresses[0].addr, hosts[0].addr);
}

#[test]
fn register_then_resolve_on_the_same_engine() {
    let t0 = Instant::now();
    let mut hosts = vec![Host::plain(1, 1, t0)];
    let info = service(hosts[0].addr, 80);
    hosts[0].e.register(t0, info).unwrap();
    let now = run(&mut hosts, t0, t0 + Duration::from_secs(3));
    let q = hosts[0]
        .e
        .query(
            now,
            "baremetal._openstack._tcp.local.",
            now + Duration::from_secs(3),
        )
        .unwrap();
    run(&mut hosts, now, now + Duration::from_secs(4));
    assert!(hosts[0]
        .events
        .iter()
        .any(|e| matches!(e, Event::Resolved { query, .. } if *query == q)));
}

#[test]
fn rfc6762_s10_1_unregister_goodbyes_reach_the_other_host() {
    let t0 = Instant::now();
    let mut hosts = vec![Host::plain(1, 1, t0), Host::plain(2, 2, t0)];
    let info = service(hosts[0].addr, 80);
    let id = hosts[0].e.register(t0, info).unwrap();
    let now = run(&mut hosts, t0, t0 + Duration::from_secs(3));
    assert!(
        hosts[1]
            .e
            .resolve_cached(now, "baremetal._openstack._tcp.local.")
            .is_some(),
        "announcements cached"
    );
    hosts[0].e.unregister(now, id).unwrap();
    let now = run(&mut hosts, now, now + Duration::from_secs(2));
    assert_eq!(hosts[0].events.last(), Some(&Event::Withdrawn(id)));
    let last = hosts[0].sent.last().unwrap();
    let p = Packet::parse(&last.payload).unwrap();
    assert!(p.has_flags(PacketFlag::RESPONSE) && p.answers.iter().all(|r| r.ttl == 0));
    assert!(
        hosts[1]
            .e
            .resolve_cached(now, "baremetal._openstack._tcp.local.")
            .is_none(),
        "goodbye flushed it"
    );
}

#[test]
fn rfc6762_s9_duplicate_registration_on_another_host_conflicts() {
    let t0 = Instant::now();
    let mut hosts = vec![Host::plain(1, 1, t0), Host::plain(2, 2, t0)];
    let a = service(hosts[0].addr, 80);
    let ida = hosts[0].e.register(t0, a).unwrap();
    let now = run(&mut hosts, t0, t0 + Duration::from_secs(3));
    let b = service(hosts[1].addr, 80);
    let idb = hosts[1].e.register(now, b).unwrap();
    run(&mut hosts, now, now + Duration::from_secs(3));
    assert_eq!(hosts[1].events, vec![Event::Conflict(idb)]);
    assert_eq!(hosts[0].events, vec![Event::Registered(ida)]);
}

/// A response claiming the instance with another port, as a spoofer on the
/// link (198.18.0.66) would send it.
fn spoofed_srv() -> Vec<u8> {
    let inst = wire::name_from_str("baremetal._openstack._tcp.local.").unwrap();
    let mut p = Packet::new_reply(0);
    p.set_flags(PacketFlag::AUTHORITATIVE_ANSWER);
    p.answers
        .push(wire::srv(&inst, &inst, 9999, 120).with_cache_flush(true));
    p.build_bytes_vec_compressed().unwrap()
}

#[test]
fn rfc6762_s9_a_single_spoofed_response_costs_a_reprobe_not_the_registration() {
    let t0 = Instant::now();
    let mut hosts = vec![Host::plain(1, 1, t0), Host::plain(2, 2, t0)];
    let info = service(hosts[0].addr, 80);
    let id = hosts[0].e.register(t0, info).unwrap();
    let now = run(&mut hosts, t0, t0 + Duration::from_secs(3));
    hosts[0].sent.clear();
    let spoofer = Received {
        iface: 2,
        src: SocketAddr::new(IpAddr::V4(Ipv4Addr::new(198, 18, 0, 66)), MDNS_PORT),
        multicast: true,
    };
    hosts[0].e.handle_packet(now, spoofer, &spoofed_srv());
    let now = run(&mut hosts, now, now + Duration::from_secs(3));
    let probes = hosts[0]
        .sent
        .iter()
        .filter(|t| Packet::parse(&t.payload).is_ok_and(|p| !p.name_servers.is_empty()))
        .count();
    assert_eq!(probes, 3, "probed again");
    assert_eq!(hosts[0].events, vec![Event::Registered(id)], "and kept it");
    // The other host still finds it, with our port.
    let q = hosts[1]
        .e
        .query(
            now,
            "baremetal._openstack._tcp.local.",
            now + Duration::from_secs(3),
        )
        .unwrap();
    run(&mut hosts, now, now + Duration::from_secs(4));
    let port = hosts[1].events.iter().find_map(|e| match e {
        Event::Resolved { query, service } if *query == q => Some(service.port),
        _ => None,
    });
    assert_eq!(port, Some(80));
}

#[test]
fn rfc6762_s9_spoofed_response_then_another_during_the_reprobe_is_a_conflict() {
    let t0 = Instant::now();
    let mut hosts = vec![Host::plain(1, 1, t0)];
    let info = service(hosts[0].addr, 80);
    let id = hosts[0].e.register(t0, info).unwrap();
    let now = run(&mut hosts, t0, t0 + Duration::from_secs(3));
    let other = Received {
        iface: 2,
        src: SocketAddr::new(IpAddr::V4(Ipv4Addr::new(198, 18, 0, 2)), MDNS_PORT),
        multicast: true,
    };
    hosts[0].e.handle_packet(now, other, &spoofed_srv());
    let now = run(&mut hosts, now, now + Duration::from_millis(100));
    // The owner answers our probe.
    hosts[0].e.handle_packet(
        now,
        Received {
            multicast: false,
            ..other
        },
        &spoofed_srv(),
    );
    run(&mut hosts, now, now + Duration::from_secs(3));
    assert_eq!(
        hosts[0].events,
        vec![Event::Registered(id), Event::Conflict(id)]
    );
}

#[test]
fn never_panics_on_100k_random_and_mutated_packets_through_the_engine() {
    let t0 = Instant::now();
    let mut hosts = vec![Host::plain(1, 1, t0), Host::plain(2, 2, t0)];
    let info = service(hosts[0].addr, 80);
    hosts[0].e.register(t0, info).unwrap();
    let mut now = run(&mut hosts, t0, t0 + Duration::from_secs(3));
    hosts[1]
        .e
        .query(
            now,
            "baremetal._openstack._tcp.local.",
            now + Duration::from_secs(3),
        )
        .unwrap();
    hosts[1].e.browse(now, "_openstack._tcp.local.").unwrap();
    now = run(&mut hosts, now, now + Duration::from_secs(2));
    let mut seeds: Vec<Vec<u8>> = hosts
        .iter()
        .flat_map(|h| h.sent.iter().map(|t| t.payload.clone()))
        .collect();
    seeds.dedup();
    let mut rng = crate::engine::rng::Rng::new(99);
    let mut e = Engine::new(
        EngineConfig {
            cache_capacity: 64,
            ..EngineConfig::default()
        },
        5,
    );
    let iface = Interface {
        index: 2,
        name: "eth0".into(),
        addrs: vec![IfAddr {
            addr: "198.18.0.3".parse().unwrap(),
            prefix_len: 24,
        }],
    };
    e.set_interfaces(now, vec![iface]);
    e.register(now, service("198.18.0.3".parse().unwrap(), 80))
        .unwrap();
    e.browse(now, "_openstack._tcp.local.").unwrap();
    for i in 0..100_000u32 {
        let data = super::tests::mutate(&mut rng, &seeds);
        let port = if rng.next_u64().is_multiple_of(4) {
            40000
        } else {
            MDNS_PORT
        };
        let src = SocketAddr::new(
            IpAddr::V4(Ipv4Addr::new(198, 18, 0, (rng.next_u64() % 4) as u8 + 1)),
            port,
        );
        e.handle_packet(
            now,
            Received {
                iface: 2,
                src,
                multicast: !rng.next_u64().is_multiple_of(3),
            },
            &data,
        );
        if i % 64 == 0 {
            now += Duration::from_millis(150);
            e.handle_timeout(now);
        }
        while let Some(t) = e.poll_transmit() {
            assert!(t.payload.len() <= MAX_PACKET);
        }
        while e.poll_event().is_some() {}
        assert!(e.cache_len() <= 64);
    }
}

/// One engine alone, its multicast looped back as the driver hands it
/// over: through `handle_own_echo` (the driver's echo filter knows them).
fn run_alone_with_echoes(h: &mut Host, mut now: Instant, until: Instant) -> Instant {
    loop {
        while let Some(tx) = h.e.poll_transmit() {
            h.sent.push(tx.clone());
            if tx.dst.ip().is_multicast() {
                let from = Received {
                    iface: 2,
                    src: SocketAddr::new(h.addr, MDNS_PORT),
                    multicast: true,
                };
                h.e.handle_own_echo(now, from, &tx.payload);
            }
        }
        while let Some(ev) = h.e.poll_event() {
            h.events.push(ev);
        }
        match h.e.poll_timeout() {
            Some(t) if t <= until => {
                now = now.max(t);
                h.e.handle_timeout(now);
            }
            _ => return until,
        }
    }
}

/// A browse finds the engine's own registration through the loopback
/// copies of its own packets, and those never cost the registration
/// (its own probes and announcements are not another host's).
#[test]
fn own_echoes_let_a_browse_find_our_own_registration_and_cost_nothing() {
    let t0 = Instant::now();
    let mut h = Host::plain(1, 7, t0);
    let id = h.e.register(t0, service(h.addr, 8080)).unwrap();
    let now = run_alone_with_echoes(&mut h, t0, t0 + Duration::from_secs(3));
    assert_eq!(
        h.events,
        vec![Event::Registered(id)],
        "no conflict with itself"
    );
    let b = h.e.browse(now, "_openstack._tcp.local.").unwrap();
    run_alone_with_echoes(&mut h, now, now + Duration::from_secs(2));
    let added = h.events.iter().find_map(|e| match e {
        Event::BrowseAdded { browse, service } if *browse == b => Some(service.clone()),
        _ => None,
    });
    let s = added.expect("the browse lists our own service");
    assert_eq!(
        (s.instance.as_str(), s.port),
        ("baremetal._openstack._tcp.local.", 8080)
    );
    assert!(!h.events.iter().any(|e| matches!(e, Event::Conflict(_))));
}

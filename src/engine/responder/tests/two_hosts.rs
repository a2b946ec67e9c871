//! Two responders on one link, their packets piped to each other (and
//! looped back to the sender, as multicast is).

use super::*;
use crate::engine::core::screen;

struct Host {
    r: Responder,
    addr: IpAddr,
    iface: Interface,
    events: Vec<Event>,
}

impl Host {
    fn new(last: u8, seed: u64, t0: Instant) -> Host {
        let addr = IpAddr::V4(Ipv4Addr::new(198, 18, 0, last));
        let iface = Interface {
            index: 2,
            name: "eth0".into(),
            addrs: vec![IfAddr {
                addr,
                prefix_len: 24,
            }],
        };
        let mut r = Responder::new(seed, None);
        r.set_interfaces(t0, vec![iface.clone()]);
        Host {
            r,
            addr,
            iface,
            events: Vec::new(),
        }
    }
    fn info(&self, port: u16) -> ServiceInfo {
        ServiceInfo {
            port,
            addresses: vec![self.addr],
            ..info()
        }
    }
    fn deliver(&mut self, now: Instant, src: IpAddr, multicast: bool, data: &[u8]) {
        let from = Received {
            iface: 2,
            src: SocketAddr::new(src, 5353),
            multicast,
        };
        if let Some(p) = screen(std::slice::from_ref(&self.iface), &from, data) {
            if p.has_flags(PacketFlag::RESPONSE) {
                self.r.handle_response(now, from, &p);
            } else {
                self.r.handle_query(now, from, &p);
            }
        }
    }
}

/// Run both hosts until `until`, piping every packet.
fn run(hosts: &mut [Host; 2], mut now: Instant, until: Instant) -> Instant {
    loop {
        let mut moved = true;
        while moved {
            moved = false;
            for i in 0..2 {
                while let Some(tx) = hosts[i].r.poll_transmit() {
                    moved = true;
                    let src = hosts[i].addr;
                    let mcast = tx.dst.ip().is_multicast();
                    for h in hosts.iter_mut() {
                        if mcast || tx.dst.ip() == h.addr {
                            h.deliver(now, src, mcast, &tx.payload);
                        }
                    }
                }
                while let Some(e) = hosts[i].r.poll_event() {
                    hosts[i].events.push(e);
                }
            }
        }
        let next = hosts.iter().filter_map(|h| h.r.poll_timeout()).min();
        match next {
            Some(t) if t <= until => {
                now = now.max(t);
                for h in hosts.iter_mut() {
                    h.r.handle_timeout(now);
                }
            }
            _ => return until,
        }
    }
}

#[test]
fn rfc6762_s8_2_simultaneous_probes_one_wins_the_other_conflicts() {
    for seed in 0..10u64 {
        let t0 = Instant::now();
        let mut hosts = [Host::new(1, seed, t0), Host::new(2, seed + 100, t0)];
        let a = hosts[0].info(80);
        let b = hosts[1].info(8080);
        let ida = hosts[0].r.register(t0, a).unwrap();
        let idb = hosts[1].r.register(t0, b).unwrap();
        run(&mut hosts, t0, t0 + Duration::from_secs(10));
        // B's address record (198.18.0.2) sorts after A's: B wins.
        assert_eq!(hosts[1].events, vec![Event::Registered(idb)], "seed {seed}");
        assert_eq!(hosts[0].events, vec![Event::Conflict(ida)], "seed {seed}");
    }
}

#[test]
fn rfc6762_s9_late_comer_conflicts_and_owner_keeps_its_name() {
    let t0 = Instant::now();
    let mut hosts = [Host::new(1, 1, t0), Host::new(2, 2, t0)];
    let a = hosts[0].info(80);
    let ida = hosts[0].r.register(t0, a).unwrap();
    let now = run(&mut hosts, t0, t0 + Duration::from_secs(5));
    assert_eq!(hosts[0].events, vec![Event::Registered(ida)]);
    let b = hosts[1].info(80);
    let idb = hosts[1].r.register(now, b).unwrap();
    run(&mut hosts, now, now + Duration::from_secs(5));
    assert_eq!(hosts[1].events, vec![Event::Conflict(idb)]);
    assert_eq!(
        hosts[0].events,
        vec![Event::Registered(ida)],
        "the owner is not disturbed"
    );
}

#[test]
fn rfc6762_s10_1_goodbye_then_the_other_host_can_take_the_name() {
    let t0 = Instant::now();
    let mut hosts = [Host::new(1, 1, t0), Host::new(2, 2, t0)];
    let a = hosts[0].info(80);
    let ida = hosts[0].r.register(t0, a).unwrap();
    let now = run(&mut hosts, t0, t0 + Duration::from_secs(5));
    hosts[0].r.unregister(now, ida).unwrap();
    let now = run(&mut hosts, now, now + GOODBYE_INTERVAL * 2);
    assert_eq!(hosts[0].events.last(), Some(&Event::Withdrawn(ida)));
    let b = hosts[1].info(80);
    let idb = hosts[1].r.register(now, b).unwrap();
    run(&mut hosts, now, now + Duration::from_secs(5));
    assert_eq!(hosts[1].events, vec![Event::Registered(idb)]);
}

#[test]
fn two_services_of_one_type_on_two_hosts_coexist() {
    let t0 = Instant::now();
    let mut hosts = [Host::new(1, 1, t0), Host::new(2, 2, t0)];
    let a = hosts[0].info(80);
    let mut b = hosts[1].info(80);
    b.instance = "identity._openstack._tcp.local.".into();
    b.target = b.instance.clone();
    let ida = hosts[0].r.register(t0, a).unwrap();
    let idb = hosts[1].r.register(t0, b).unwrap();
    let now = run(&mut hosts, t0, t0 + Duration::from_secs(5));
    assert_eq!(hosts[0].events, vec![Event::Registered(ida)]);
    assert_eq!(hosts[1].events, vec![Event::Registered(idb)]);
    // Browsing answers from both keep them registered (shared PTRs).
    let mut q = Packet::new_query(0);
    q.questions.push(Question::new(
        name(STYPE),
        QTYPE::TYPE(TYPE::PTR),
        QCLASS::CLASS(CLASS::IN),
        false,
    ));
    let bytes = q.build_bytes_vec().unwrap();
    let peer_ip = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 3));
    for h in hosts.iter_mut() {
        h.deliver(now, peer_ip, true, &bytes);
    }
    run(&mut hosts, now, now + Duration::from_secs(2));
    assert_eq!(hosts[0].events.len(), 1);
    assert_eq!(hosts[1].events.len(), 1);
}

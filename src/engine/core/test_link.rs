//! Engines on one simulated link, for the core's tests: a host (its engine,
//! address, what it sent and what it reported), the service they register,
//! and the loop that pipes packets between them on the fake clock.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Instant;

use crate::engine::*;
use crate::wire::MAX_PACKET;

pub(super) const INSTANCE: &str = "baremetal._openstack._tcp.local.";

pub(super) struct Host {
    pub(super) e: Engine,
    pub(super) addr: IpAddr,
    pub(super) events: Vec<Event>,
    pub(super) sent: Vec<Transmit>,
}

impl Host {
    /// Host 198.18.0.`last` on interface 2 (eth0, a /24); `wall`: the wall
    /// time set at `t0` before the interface comes up.
    pub(super) fn on_link(
        last: u8,
        seed: u64,
        t0: Instant,
        config: EngineConfig,
        wall: Option<u64>,
    ) -> Host {
        let addr = IpAddr::V4(Ipv4Addr::new(198, 18, 0, last));
        let iface = Interface {
            index: 2,
            name: "eth0".into(),
            addrs: vec![IfAddr {
                addr,
                prefix_len: 24,
            }],
        };
        let mut e = Engine::new(config, seed);
        if let Some(wall) = wall {
            e.set_wall_clock(t0, wall);
        }
        e.set_interfaces(t0, vec![iface]);
        Host {
            e,
            addr,
            events: Vec::new(),
            sent: Vec::new(),
        }
    }
}

/// `INSTANCE` at `addr`:`port`, TXT `path=/baremetal`.
pub(super) fn service(addr: IpAddr, port: u16) -> ServiceInfo {
    ServiceInfo {
        instance: INSTANCE.into(),
        service_type: "_openstack._tcp.local.".into(),
        target: INSTANCE.into(),
        port,
        txt: vec![b"path=/baremetal".to_vec()],
        addresses: vec![addr],
        ttls: Ttls::default(),
    }
}

/// Whether a host hears its own multicast (as a real link loops it back).
#[derive(Clone, Copy)]
pub(super) enum Loopback {
    Yes,
    No,
}

/// `tx`, sent by `from`, to the hosts it reaches: multicast to all (the
/// sender only with `Loopback::Yes`), unicast to its owner.
pub(super) fn deliver(
    hosts: &mut [Host],
    from: IpAddr,
    now: Instant,
    tx: &Transmit,
    loopback: Loopback,
) {
    let src = SocketAddr::new(from, MDNS_PORT);
    let mcast = tx.dst.ip().is_multicast();
    let own = matches!(loopback, Loopback::Yes);
    for h in hosts.iter_mut() {
        if (mcast && (own || h.addr != from)) || tx.dst.ip() == h.addr {
            let r = Received {
                iface: 2,
                src,
                multicast: mcast,
            };
            h.e.handle_packet(now, r, &tx.payload);
        }
    }
}

/// Run the hosts until `until`, piping every packet (`deliver`) and
/// keeping what each sent and reported.
pub(super) fn run(
    hosts: &mut [Host],
    mut now: Instant,
    until: Instant,
    loopback: Loopback,
) -> Instant {
    loop {
        let mut moved = true;
        while moved {
            moved = false;
            for i in 0..hosts.len() {
                while let Some(tx) = hosts[i].e.poll_transmit() {
                    moved = true;
                    assert!(tx.payload.len() <= MAX_PACKET);
                    hosts[i].sent.push(tx.clone());
                    let from = hosts[i].addr;
                    deliver(hosts, from, now, &tx, loopback);
                }
                while let Some(ev) = hosts[i].e.poll_event() {
                    hosts[i].events.push(ev);
                }
            }
        }
        match hosts.iter().filter_map(|h| h.e.poll_timeout()).min() {
            Some(t) if t <= until => {
                now = now.max(t);
                for h in hosts.iter_mut() {
                    h.e.handle_timeout(now);
                }
            }
            _ => return until,
        }
    }
}

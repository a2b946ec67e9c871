//! Responder rules with a fake clock: `t0` once, then Durations.

mod answering;
mod lifecycle;
mod reprobe;
mod two_hosts;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use simple_dns::rdata::RData;
use simple_dns::{Name, Packet, PacketFlag, Question, ResourceRecord, CLASS, QCLASS, QTYPE, TYPE};

use super::*;
use crate::wire::{T_A, T_PTR, T_SRV, T_TXT};

pub(super) const INSTANCE: &str = "baremetal._openstack._tcp.local.";
pub(super) const STYPE: &str = "_openstack._tcp.local.";

pub(super) fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

pub(super) fn eth0() -> Interface {
    Interface {
        index: 2,
        name: "eth0".into(),
        addrs: vec![IfAddr {
            addr: "198.18.0.1".parse().unwrap(),
            prefix_len: 24,
        }],
    }
}

pub(super) fn eth0_dual() -> Interface {
    let mut i = eth0();
    i.addrs.push(IfAddr {
        addr: "fd00:99::1".parse().unwrap(),
        prefix_len: 64,
    });
    i
}

pub(super) fn info() -> ServiceInfo {
    ServiceInfo {
        instance: INSTANCE.into(),
        service_type: STYPE.into(),
        target: INSTANCE.into(),
        port: 80,
        txt: vec![b"path=/bm".to_vec()],
        addresses: vec!["198.18.0.1".parse().unwrap()],
        ttls: Ttls::default(),
    }
}

/// A packet sent, when, parsed back with simple-dns.
pub(super) struct Sent {
    pub at: Instant,
    pub tx: Transmit,
}

impl Sent {
    pub fn packet(&self) -> Packet<'_> {
        Packet::parse(&self.tx.payload).expect("our own output parses")
    }
    pub fn is_probe(&self) -> bool {
        let p = self.packet();
        !p.has_flags(PacketFlag::RESPONSE) && !p.name_servers.is_empty()
    }
    pub fn is_response(&self) -> bool {
        self.packet().has_flags(PacketFlag::RESPONSE)
    }
}

pub(super) struct Harness {
    pub t0: Instant,
    pub now: Instant,
    pub r: Responder,
    pub sent: Vec<Sent>,
    pub events: Vec<Event>,
}

impl Harness {
    pub fn new(ifaces: Vec<Interface>) -> Harness {
        Harness::seeded(ifaces, 7)
    }
    pub fn seeded(ifaces: Vec<Interface>, seed: u64) -> Harness {
        let t0 = Instant::now();
        let mut r = Responder::new(seed, None);
        r.set_interfaces(t0, ifaces);
        Harness {
            t0,
            now: t0,
            r,
            sent: Vec::new(),
            events: Vec::new(),
        }
    }
    /// Registered and through probing and announcing.
    pub fn live() -> (Harness, RegId) {
        Harness::live_seeded(7)
    }
    pub fn live_seeded(seed: u64) -> (Harness, RegId) {
        let mut h = Harness::seeded(vec![eth0()], seed);
        let id = h.r.register(h.t0, info()).unwrap();
        h.run_until(h.t0 + Duration::from_secs(5));
        assert!(h.events.contains(&Event::Registered(id)));
        h.sent.clear();
        (h, id)
    }
    pub fn drain(&mut self) {
        while let Some(tx) = self.r.poll_transmit() {
            self.sent.push(Sent { at: self.now, tx });
        }
        while let Some(e) = self.r.poll_event() {
            self.events.push(e);
        }
    }
    /// Run every timer up to `until`, each exactly at its deadline.
    pub fn run_until(&mut self, until: Instant) {
        self.drain();
        while let Some(t) = self.r.poll_timeout() {
            if t > until {
                break;
            }
            self.now = self.now.max(t);
            self.r.handle_timeout(self.now);
            self.drain();
        }
        self.now = self.now.max(until);
    }
    pub fn advance(&mut self, d: Duration) {
        let until = self.now + d;
        self.run_until(until);
    }
    pub fn query(&mut self, from: SocketAddr, p: &Packet<'_>) {
        self.query_via(
            Received {
                iface: 2,
                src: from,
                multicast: true,
            },
            p,
        )
    }
    pub fn query_via(&mut self, from: Received, p: &Packet<'_>) {
        let bytes = p.build_bytes_vec_compressed().unwrap();
        let parsed = crate::wire::parse(&bytes).unwrap();
        self.r.handle_query(self.now, from, &parsed);
        self.drain();
    }
    pub fn response(&mut self, p: &Packet<'_>) {
        let bytes = p.build_bytes_vec_compressed().unwrap();
        let parsed = crate::wire::parse(&bytes).unwrap();
        self.r.handle_response(
            self.now,
            Received {
                iface: 2,
                src: peer(),
                multicast: true,
            },
            &parsed,
        );
        self.drain();
    }
}

pub(super) fn peer() -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(198, 18, 0, 2)), 5353)
}

pub(super) fn name(s: &str) -> Name<'static> {
    crate::wire::name_from_str(s).unwrap()
}

pub(super) fn question(n: &str, t: TYPE, qu: bool) -> Packet<'static> {
    let mut p = Packet::new_query(0);
    p.questions.push(Question::new(
        name(n),
        QTYPE::TYPE(t),
        QCLASS::CLASS(CLASS::IN),
        qu,
    ));
    p
}

pub(super) fn types(rs: &[ResourceRecord<'_>]) -> Vec<u16> {
    rs.iter().map(crate::wire::rr_type).collect()
}

pub(super) fn srv_with_port(port: u16) -> ResourceRecord<'static> {
    crate::wire::srv(&name(INSTANCE), &name(INSTANCE), port, 120)
}

/// Another host's response claiming our instance with SRV port `port`.
pub(super) fn rival_response(port: u16) -> Packet<'static> {
    let mut p = Packet::new_reply(0);
    p.set_flags(PacketFlag::AUTHORITATIVE_ANSWER);
    p.answers.push(srv_with_port(port).with_cache_flush(true));
    p
}

pub(super) fn rec_of(p: &Packet<'_>, t: u16) -> Option<ResourceRecord<'static>> {
    p.answers
        .iter()
        .find(|r| crate::wire::rr_type(r) == t)
        .map(|r| r.clone().into_owned())
}

#[allow(unused)]
pub(super) fn dump(p: &Packet<'_>) -> Vec<(String, u16, u32, bool)> {
    p.answers
        .iter()
        .map(|r| {
            (
                r.name.to_string(),
                crate::wire::rr_type(r),
                r.ttl,
                r.cache_flush,
            )
        })
        .collect()
}

#[allow(unused)]
pub(super) fn is_empty_txt(r: &ResourceRecord<'_>) -> bool {
    matches!(r.rdata, RData::Empty(TYPE::TXT))
}

#[allow(unused)]
pub(super) const TYPES: [u16; 4] = [T_A, T_PTR, T_SRV, T_TXT];

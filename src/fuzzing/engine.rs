//! The `engine` target: the whole sans-IO engine fed datagrams and timer
//! runs.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use simple_dns::{Name, PacketFlag};

use crate::engine::responder::SERVICES_META;
use crate::engine::{Engine, EngineConfig, Event, Family, IfAddr, Interface, Received, RegId};
use crate::engine::{ServiceInfo, Transmit, MDNS_PORT};
use crate::service::Ttls;
use crate::wire;
use crate::wire::MAX_PACKET;

use super::{Input, INSTANCE, SERVICE_TYPE};

const TARGET: &str = "conductor.local.";
const LOOKUP: &str = "ironic._openstack._tcp.local.";
/// A small cache, so that eviction is reached within a few packets.
const CACHE: usize = 64;
/// Most packets one step may make the engine send (one step is one
/// datagram or one timer run; a timer run after a long jump may catch up
/// probes, announcements, query retries and refreshes on every link).
const MAX_TX_PER_STEP: usize = 256;
/// Most events one step may produce.
const MAX_EVENTS_PER_STEP: usize = 256;
/// Most steps of one input (keeps one run short).
const MAX_STEPS: usize = 512;

fn v4(a: [u8; 4]) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(a))
}
fn v6(s: &str) -> IpAddr {
    IpAddr::V6(s.parse::<Ipv6Addr>().expect("literal"))
}

fn fuzz_ifaces(with_second: bool) -> Vec<Interface> {
    let mut v = vec![Interface {
        index: 2,
        name: "eth0".into(),
        addrs: vec![
            IfAddr {
                addr: v4([198, 18, 0, 1]),
                prefix_len: 24,
            },
            IfAddr {
                addr: v6("fe80::1"),
                prefix_len: 64,
            },
            IfAddr {
                addr: v6("fd00:99::1"),
                prefix_len: 64,
            },
        ],
    }];
    if with_second {
        v.push(Interface {
            index: 3,
            name: "eth1".into(),
            addrs: vec![IfAddr {
                addr: v4([10, 1, 0, 1]),
                prefix_len: 16,
            }],
        });
    }
    v
}

fn fuzz_service() -> ServiceInfo {
    ServiceInfo {
        instance: INSTANCE.into(),
        service_type: SERVICE_TYPE.into(),
        target: TARGET.into(),
        port: 6385,
        txt: vec![b"path=/baremetal".to_vec(), b"protocol=http".to_vec()],
        addresses: vec![v4([198, 18, 0, 1]), v6("fd00:99::1")],
        ttls: Ttls::default(),
    }
}

/// A source address: one of a fixed set (on-link, off-link, link-local,
/// odd ones) or raw bytes from the input.
fn source_ip(inp: &mut Input<'_>) -> IpAddr {
    const FIXED: &[&str] = &[
        "198.18.0.7",
        "198.18.1.7",
        "10.1.2.3",
        "8.8.8.8",
        "fe80::7",
        "fd00:99::7",
        "fd00:98::7",
        "2001:db8::7",
        "0.0.0.0",
        "224.0.0.251",
        "::ffff:198.18.0.7",
        "ff02::fb",
        "127.0.0.1",
        "::1",
        "198.18.0.1",
        "255.255.255.255",
    ];
    let sel = inp.u8();
    match sel >> 6 {
        0 | 1 => FIXED[sel as usize % FIXED.len()].parse().expect("literal"),
        2 => {
            let b = inp.bytes(4);
            let mut a = [0u8; 4];
            a[..b.len()].copy_from_slice(b);
            IpAddr::V4(Ipv4Addr::from(a))
        }
        _ => {
            let b = inp.bytes(16);
            let mut a = [0u8; 16];
            a[..b.len()].copy_from_slice(b);
            IpAddr::V6(Ipv6Addr::from(a))
        }
    }
}

/// The names our registration owns, lower-cased with a trailing dot.
fn owned_names() -> HashSet<String> {
    [INSTANCE, SERVICE_TYPE, TARGET, SERVICES_META]
        .iter()
        .map(|s| s.to_ascii_lowercase())
        .collect()
}

/// A name as lower-case text with a trailing dot.
fn name_key(n: &Name<'_>) -> String {
    let mut s = String::new();
    for l in n.get_labels() {
        s.push_str(&String::from_utf8_lossy(l.as_ref()).to_ascii_lowercase());
        s.push('.');
    }
    s
}

struct EngineRig {
    e: Engine,
    now: Instant,
    reg: Option<RegId>,
    second_iface: bool,
    owned: HashSet<String>,
}

impl EngineRig {
    fn new(seed: u64) -> EngineRig {
        let now = Instant::now();
        let mut e = Engine::new(
            EngineConfig {
                cache_capacity: CACHE,
                ..EngineConfig::default()
            },
            seed,
        );
        e.set_interfaces(now, fuzz_ifaces(true));
        let reg = e.register(now, fuzz_service()).expect("register");
        e.query(now, LOOKUP, now + Duration::from_secs(9))
            .expect("query");
        e.browse(now, SERVICE_TYPE).expect("browse");
        let mut rig = EngineRig {
            e,
            now,
            reg: Some(reg),
            second_iface: true,
            owned: owned_names(),
        };
        rig.settle();
        rig
    }

    /// Drain packets and events, checking each, and the bounds.
    fn settle(&mut self) {
        let ifaces = fuzz_ifaces(self.second_iface);
        let mut sent = 0;
        while let Some(tx) = self.e.poll_transmit() {
            sent += 1;
            assert!(
                sent <= MAX_TX_PER_STEP,
                "more than {MAX_TX_PER_STEP} packets queued by one step"
            );
            self.check_transmit(&ifaces, &tx);
        }
        let mut events = 0;
        while let Some(ev) = self.e.poll_event() {
            events += 1;
            assert!(
                events <= MAX_EVENTS_PER_STEP,
                "more than {MAX_EVENTS_PER_STEP} events queued by one step"
            );
            match ev {
                Event::Conflict(id) | Event::Withdrawn(id) if self.reg == Some(id) => {
                    self.reg = None;
                }
                Event::Resolved { service, .. } => {
                    assert!(
                        service.instance.eq_ignore_ascii_case(LOOKUP),
                        "resolved {:?} for a lookup of {LOOKUP}",
                        service.instance
                    );
                    assert!(!service.addresses.is_empty(), "resolved without address");
                }
                Event::BrowseAdded { service, .. } => {
                    let lower = service.instance.to_ascii_lowercase();
                    assert!(
                        lower.ends_with(SERVICE_TYPE) && lower.len() > SERVICE_TYPE.len(),
                        "browse of {SERVICE_TYPE} added {:?}",
                        service.instance
                    );
                }
                _ => {}
            }
        }
        let len = self.e.cache_len();
        assert!(len <= CACHE, "cache holds {len} records, bound {CACHE}");
    }

    fn check_transmit(&self, ifaces: &[Interface], tx: &Transmit) {
        let iface = ifaces
            .iter()
            .find(|i| i.index == tx.iface)
            .unwrap_or_else(|| panic!("packet for interface {} which is not up", tx.iface));
        assert!(
            tx.payload.len() <= MAX_PACKET,
            "packet of {} bytes",
            tx.payload.len()
        );
        let fam = Family::of(&tx.dst.ip());
        if tx.dst.ip().is_multicast() {
            assert_eq!(tx.dst, fam.group(), "multicast to a foreign group");
            assert!(
                iface.has_family(fam),
                "{fam:?} out of {} lacking it",
                iface.name
            );
        } else {
            // RFC 6762 s11 / CVE-2017-6519: never to an off-link source.
            assert!(
                iface.on_link(&tx.dst.ip()),
                "unicast to off-link {} on {}",
                tx.dst,
                iface.name
            );
            assert!(tx.dst.port() != 0, "unicast to port 0");
        }
        let p = wire::parse(&tx.payload)
            .unwrap_or_else(|e| panic!("we sent a packet we cannot parse: {e:?}"));
        if p.has_flags(PacketFlag::RESPONSE) {
            for rr in p
                .answers
                .iter()
                .chain(&p.name_servers)
                .chain(&p.additional_records)
            {
                let name = name_key(&rr.name);
                assert!(
                    self.owned.contains(&name),
                    "we answered for {name:?}, which is not ours"
                );
            }
        }
    }

    fn step(&mut self, inp: &mut Input<'_>) {
        let op = inp.u8();
        match op % 16 {
            // A datagram (most inputs).
            0..=9 => {
                let dt = Duration::from_millis(inp.u16() as u64);
                self.now += dt;
                let sel = inp.u8();
                let iface = match sel % 4 {
                    0 | 1 => 2,
                    2 => 3,
                    _ => inp.u32(),
                };
                let ip = source_ip(inp);
                let port = match inp.u8() {
                    0..=191 => MDNS_PORT,
                    _ => inp.u16(),
                };
                let multicast = sel & 0x80 == 0;
                let len = inp.u16() as usize;
                let data = inp.bytes(len);
                let from = Received {
                    iface,
                    src: SocketAddr::new(ip, port),
                    multicast,
                };
                self.e.handle_packet(self.now, from, data);
            }
            // Time passes; timers run.
            10 | 11 => {
                let dt = match op >> 4 {
                    0..=7 => Duration::from_millis(inp.u16() as u64),
                    8..=13 => Duration::from_millis(inp.u32() as u64),
                    // Past every TTL (75 min) and refresh.
                    _ => Duration::from_secs(inp.u16() as u64 * 60),
                };
                self.now += dt;
                self.e.handle_timeout(self.now);
                self.settle();
                // The driver sleeps until poll_timeout: a deadline not in
                // the future after its timers ran would spin it.
                if let Some(t) = self.e.poll_timeout() {
                    assert!(t > self.now, "timer due {:?} in the past", self.now - t);
                }
            }
            12 => match self.reg {
                Some(id) => {
                    self.e.unregister(self.now, id).expect("unregister ours");
                    self.reg = None;
                }
                None => {
                    if let Ok(id) = self.e.register(self.now, fuzz_service()) {
                        self.reg = Some(id);
                    }
                }
            },
            13 => {
                let secs = (inp.u8() % 16) as u64;
                let _ = self
                    .e
                    .query(self.now, LOOKUP, self.now + Duration::from_secs(secs));
            }
            14 => self.e.flush_cache(),
            _ => {
                self.second_iface = !self.second_iface;
                self.e
                    .set_interfaces(self.now, fuzz_ifaces(self.second_iface));
            }
        }
        self.settle();
    }
}

/// The whole sans-IO engine holding a registration, an open lookup and a
/// browse, fed datagrams from arbitrary sources at arbitrary times, and
/// timer runs. Input: a 1-byte seed, then steps (see [`EngineRig::step`]):
/// `op`, and for a datagram `dt_ms:u16 sel:u8 [iface:u32] src [ip] port:u8
/// [port:u16] len:u16 bytes`.
pub fn engine(data: &[u8]) {
    let mut inp = Input::new(data);
    let seed = inp.u8() as u64;
    let mut rig = EngineRig::new(seed);
    let mut steps = 0;
    while !inp.is_empty() && steps < MAX_STEPS {
        rig.step(&mut inp);
        steps += 1;
    }
    // Finally, let every timer run out: still bounded and well-behaved.
    rig.now += Duration::from_secs(3 * 3600);
    rig.e.handle_timeout(rig.now);
    rig.settle();
}

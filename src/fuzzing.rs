//! Fuzz target bodies (issue 10). OWNER: fuzz helper.
//!
//! Each `pub fn` takes the fuzzer's bytes and asserts the invariants of one
//! input boundary; a violated invariant is a panic. They live inside the
//! crate so that they see its internals, and behind no feature so that the
//! stable test `tests/fuzz_corpus.rs` replays every corpus file through
//! them. `fuzz/fuzz_targets/*.rs` (cargo-fuzz, libFuzzer) only call them.
//!
//! Not part of the API: hidden from the docs and free to change.

use std::collections::HashSet;
use std::ffi::{c_char, c_int, CString};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use simple_dns::{Packet, PacketFlag};

use crate::capi::options::{zc_option_count, zc_option_info, zc_options_new, zc_options_set};
use crate::capi::options::{zc_options, zc_options_free, zc_options_last_error};
use crate::capi::props::{zc_props, zc_props_count, zc_props_free, zc_props_get};
use crate::capi::props::{zc_props_get_at, zc_props_new, zc_props_set};
use crate::capi::status::{zc_strerror, ZC_OK};
use crate::capi::strings::ZC_MAX_INPUT;
use crate::config::Config;
use crate::endpoint;
use crate::engine::responder::SERVICES_META;
use crate::engine::*;
use crate::wire::MAX_PACKET;

/// A target body: panics when an invariant does not hold.
pub type Target = fn(&[u8]);

/// The fuzz targets by name, as `fuzz/fuzz_targets/` and `fuzz/corpus/`
/// name them.
pub const TARGETS: &[(&str, Target)] = &[
    ("engine", engine),
    ("packet", packet),
    ("txt", txt),
    ("url", url),
    ("config", config),
    ("config_file", config_file),
    ("capi", capi),
];

/// Reads the fuzzer's bytes as a stream of small values; past the end it
/// yields zeros, so every input is a complete program.
struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    fn new(data: &'a [u8]) -> Input<'a> {
        Input { data }
    }
    fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
    fn u8(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }
    fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.u8(), self.u8()])
    }
    fn u32(&mut self) -> u32 {
        u32::from_be_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }
    fn bytes(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.data.len());
        let (a, b) = self.data.split_at(n);
        self.data = b;
        a
    }
    /// A length-prefixed (one byte) chunk.
    fn chunk(&mut self) -> &'a [u8] {
        let n = self.u8() as usize;
        self.bytes(n)
    }
    fn rest(&mut self) -> &'a [u8] {
        self.bytes(self.data.len())
    }
}

// ---------------------------------------------------------------- engine

const INSTANCE: &str = "baremetal._openstack._tcp.local.";
const SERVICE_TYPE: &str = "_openstack._tcp.local.";
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
fn name_key(n: &simple_dns::Name<'_>) -> String {
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
        let p = crate::wire::parse(&tx.payload)
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

/// Wrap one datagram as an [`engine`] input: seed 0, one datagram step
/// from `src` (multicast, interface 2), then a 10 s timer step. For seeding
/// the corpus from captures.
pub fn engine_input_for_packet(src_sel: u8, from_5353: bool, packet: &[u8]) -> Vec<u8> {
    let mut v = vec![0u8, 0, 0, 20, 0, src_sel];
    v.push(if from_5353 { 0 } else { 0xff });
    if !from_5353 {
        v.extend_from_slice(&40000u16.to_be_bytes());
    }
    let len = packet.len().min(u16::MAX as usize) as u16;
    v.extend_from_slice(&len.to_be_bytes());
    v.extend_from_slice(&packet[..len as usize]);
    v.push(10);
    v.extend_from_slice(&10_000u16.to_be_bytes());
    v
}

// ---------------------------------------------------------------- packet

/// Parse, build, parse again: what we accept we can write, and writing
/// keeps every question and record (RFC 1035 s4.1 wire format).
pub fn packet(data: &[u8]) {
    use crate::wire;
    let Ok(p) = wire::parse(data) else {
        return;
    };
    let built = wire::build(&p);
    let mut again: Vec<Packet<'static>> = Vec::new();
    for b in &built {
        assert!(b.len() <= MAX_PACKET, "built {} bytes", b.len());
        let q = wire::parse(b).unwrap_or_else(|e| panic!("cannot parse what we built: {e:?}"));
        assert_eq!(q.id(), p.id());
        assert_eq!(q.opcode(), p.opcode());
        // A non-zero RCODE may be extended by the OPT record (RFC 6891
        // s6.1.3), which we do not keep, or unknown to simple-dns
        // (`Reserved`); the engine drops every packet whose RCODE is not 0
        // (RFC 6762 s18.11). NoError must stay NoError.
        if p.rcode() == simple_dns::RCODE::NoError {
            assert_eq!(q.rcode(), p.rcode());
        }
        again.push(q);
    }
    if built.len() == 1 {
        let q = &again[0];
        let show = |p: &Packet<'_>| format!("{:?}", p.questions);
        assert_eq!(show(q), show(&p), "questions changed");
        for (a, b) in [
            (&q.answers, &p.answers),
            (&q.name_servers, &p.name_servers),
            (&q.additional_records, &p.additional_records),
        ] {
            assert_eq!(a, b, "records changed");
            for (x, y) in a.iter().zip(b) {
                assert_eq!((x.ttl, x.cache_flush), (y.ttl, y.cache_flush));
            }
        }
    } else {
        // A split packet (over MAX_PACKET): its answers are all kept.
        let n: usize = again.iter().map(|q| q.answers.len()).sum();
        assert_eq!(n, p.answers.len(), "answers lost in the split");
    }
}

// ---------------------------------------------------------------- txt

/// TXT RDATA (length-prefixed strings, RFC 6763 s6) to properties, and
/// on to the C ABI's property set; then back to strings and again.
pub fn txt(data: &[u8]) {
    let mut inp = Input::new(data);
    let mut strings = Vec::new();
    while !inp.is_empty() {
        strings.push(inp.chunk().to_vec());
    }
    let Ok(props) = endpoint::decode_txt(SERVICE_TYPE, &strings) else {
        // Only a key that is not UTF-8 fails.
        assert!(strings.iter().any(|s| {
            let key = s.split(|&b| b == b'=').next().unwrap_or(&[]);
            !key.is_empty() && std::str::from_utf8(key).is_err()
        }));
        return;
    };
    let mut seen = HashSet::new();
    for s in &strings {
        let (key, value) = match s.iter().position(|&b| b == b'=') {
            Some(i) => (&s[..i], Some(s[i + 1..].to_vec())),
            None => (&s[..], None),
        };
        if key.is_empty() {
            continue;
        }
        let key = std::str::from_utf8(key).expect("decoded, so UTF-8");
        // RFC 6763 s6.4: keys are case-insensitive; the first occurrence
        // counts.
        if seen.insert(key.to_ascii_lowercase()) {
            assert_eq!(props.get(key), Some(&value), "key {key:?}");
        }
    }
    assert_eq!(props.len(), seen.len());
    // What we would publish again: keys of printable US-ASCII only (every
    // string came from one 255-byte chunk, so each pair fits).
    let publishable = props
        .iter()
        .all(|(k, v)| crate::props::check_pair(k, v.as_deref()).is_ok());
    match endpoint::encode_txt(&props) {
        Ok(encoded) => {
            assert!(publishable);
            let back = endpoint::decode_txt(SERVICE_TYPE, &encoded).expect("decode again");
            assert_eq!(back, props);
        }
        Err(_) => assert!(!publishable, "publishable properties refused"),
    }
    // The C ABI's set: a key holding NUL is refused, the rest kept.
    match zc_props::from_properties(&props) {
        Ok(c) => assert_eq!(c.to_properties(), props),
        Err(_) => assert!(props.iter().any(|(k, _)| k.contains('\0'))),
    }
}

// ---------------------------------------------------------------- url

/// SPEC 3.1 endpoint parsing and SPEC 4.3-4.7 URL building.
pub fn url(data: &[u8]) {
    let mut inp = Input::new(data);
    let mode = inp.u8();
    if mode & 1 == 0 {
        // An endpoint URL as given to register_service.
        let Ok(text) = std::str::from_utf8(inp.rest()) else {
            return;
        };
        let Ok(ep) = endpoint::parse_endpoint(text) else {
            return;
        };
        if ep.scheme == "https" && !text.contains(':') {
            unreachable!("https without ':'");
        }
        let props = endpoint::derived_properties(&ep);
        for s in endpoint::encode_txt(&props).unwrap_or_default() {
            assert!(s.len() <= crate::wire::MAX_TXT_STRING);
        }
        if let endpoint::Host::Name(n) = &ep.host {
            assert!(!n.is_empty(), "empty host accepted");
        }
        return;
    }
    // A resolved service to a URL.
    let port = inp.u16();
    let iface = inp.u8() as u32;
    let addr = if mode & 2 == 0 {
        let b = inp.bytes(4);
        let mut a = [0u8; 4];
        a[..b.len()].copy_from_slice(b);
        IpAddr::V4(Ipv4Addr::from(a))
    } else {
        let b = inp.bytes(16);
        let mut a = [0u8; 16];
        a[..b.len()].copy_from_slice(b);
        IpAddr::V6(Ipv6Addr::from(a))
    };
    let target = String::from_utf8_lossy(inp.chunk()).into_owned();
    let mut txt = Vec::new();
    while !inp.is_empty() {
        txt.push(inp.chunk().to_vec());
    }
    let chosen = ScopedAddr { addr, iface };
    let service = ResolvedService {
        instance: INSTANCE.into(),
        target: target.clone(),
        port,
        txt,
        addresses: vec![chosen],
    };
    let ifname = |i: u32| (i == 7).then(|| "eth7".to_string());
    let Ok((url, props)) = endpoint::endpoint_url(SERVICE_TYPE, &service, &chosen, &ifname) else {
        return;
    };
    assert!(props.get("path").is_none() && props.get("protocol").is_none());
    let suffix = format!(":{port}");
    let (scheme, rest) = url.split_once("://").expect("scheme separator");
    assert!(!scheme.is_empty());
    let host = endpoint::url_host(&target, &chosen, &ifname);
    assert!(rest.starts_with(&format!("{host}{suffix}")), "{url}");
    // A plain http(s) URL to an address we chose reads back the same.
    let local = target.to_ascii_lowercase().ends_with(".local.");
    // SPEC 4.6 appends the path as received: only one that starts with
    // '/' makes a URL that reads back.
    let path = &rest[host.len() + suffix.len()..];
    let plain_path = (path.is_empty() || path.starts_with('/'))
        && path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/-_.~".contains(c));
    let link_local = matches!(addr, IpAddr::V6(a) if crate::engine::is_link_local_v6(&a));
    // SRV port 0 is written as received (like the reference); as an
    // endpoint to register it is refused.
    if local && (scheme == "http" || scheme == "https") && plain_path && !link_local && port != 0 {
        let ep = endpoint::parse_endpoint(&url).unwrap_or_else(|e| panic!("{url}: {e}"));
        assert_eq!(ep.host, endpoint::Host::Ip(addr), "{url}");
        assert_eq!(ep.port, port, "{url}");
    }
}

// ---------------------------------------------------------------- config

/// The config value parser (`Config::set`): a failure changes nothing, a
/// success leaves a usable configuration.
pub fn config(data: &[u8]) {
    const NAMES: &[&str] = &[
        "registration_attempts",
        "lookup_attempts",
        "params",
        "interfaces",
        "lookup_timeout",
    ];
    let mut inp = Input::new(data);
    let mut cfg = Config::default();
    while !inp.is_empty() {
        let sel = inp.u8();
        let raw = inp.chunk();
        let Ok(value) = std::str::from_utf8(raw) else {
            continue;
        };
        let unknown;
        let name = match NAMES.get(sel as usize % 6) {
            Some(n) => *n,
            None => {
                unknown = String::from_utf8_lossy(inp.chunk()).into_owned();
                &unknown
            }
        };
        let before = cfg.clone();
        match cfg.set(name, value) {
            Ok(()) => {
                assert!(cfg.registration_attempts >= 1 && cfg.lookup_attempts >= 1);
                assert!(!cfg.lookup_timeout.is_zero(), "zero timeout from {value:?}");
                if let Some(list) = &cfg.interfaces {
                    assert!(!list.is_empty(), "empty interface list from {value:?}");
                }
            }
            Err(e) => {
                assert_eq!(cfg, before, "failed set changed the config");
                assert!(!e.to_string().is_empty());
            }
        }
    }
}

/// An OpenStack config file (oslo.config's INI dialect) through
/// `config_file::load`: a failure changes nothing and names the file; a
/// success leaves a usable configuration; loading is deterministic.
pub fn config_file(data: &[u8]) {
    use crate::config_file::{load, Source};
    crate::log::set_log_hook(Some(|_, _| {}));
    let path = std::env::temp_dir().join(format!(
        "ironicmdns-fuzz-{}-{:?}.conf",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::write(&path, data).expect("write the config file");
    let sources = [Source::File(path.clone())];
    let mut cfg = Config::default();
    let first = load(&mut cfg, &sources);
    let mut again = Config::default();
    let second = load(&mut again, &sources);
    let _ = std::fs::remove_file(&path);
    assert_eq!(cfg, again, "two loads of one file differ");
    match first {
        Ok(warnings) => {
            assert_eq!(second.ok(), Some(warnings));
            assert!(cfg.registration_attempts >= 1 && cfg.lookup_attempts >= 1);
            assert!(!cfg.lookup_timeout.is_zero());
            if let Some(list) = &cfg.interfaces {
                assert!(!list.is_empty(), "empty interface list");
            }
        }
        Err(e) => {
            assert!(second.is_err());
            assert_eq!(cfg, Config::default(), "failed load changed the config");
            let text = e.to_string();
            assert!(
                text.contains(&*path.to_string_lossy()),
                "error without the file name: {text}"
            );
        }
    }
}

// ---------------------------------------------------------------- capi

/// A NUL-terminated copy of `b`, cut at its first NUL as C would read it.
fn c_string(b: &[u8]) -> CString {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    CString::new(&b[..end]).expect("no NUL")
}

/// snprintf-style copy out of the library: at most `len - 1` bytes and a
/// NUL, nothing past `len`, the full length returned.
fn check_copy(f: impl Fn(*mut c_char, usize) -> usize, len: usize) {
    const CANARY: c_char = 0x5a;
    let mut buf = vec![CANARY; len + 16];
    let full = f(buf.as_mut_ptr(), len);
    assert!(buf[len..].iter().all(|&c| c == CANARY), "wrote past len");
    if len > 0 {
        let n = buf[..len].iter().position(|&c| c == 0).expect("NUL in buf");
        assert!(n <= full && n < len);
        assert!(n == full || full >= len, "cut although it fit");
        let bytes: Vec<u8> = buf[..n].iter().map(|&c| c as u8).collect();
        assert!(
            std::str::from_utf8(&bytes).is_ok(),
            "cut inside a character"
        );
    }
    assert_eq!(f(std::ptr::null_mut(), 0), full);
}

/// The C ABI's string, props and options entry points, called as a C
/// program would, with a mirror of what the property set must hold.
pub fn capi(data: &[u8]) {
    let mut inp = Input::new(data);
    let mut opts: *mut zc_options = std::ptr::null_mut();
    assert_eq!(zc_options_new(&mut opts), ZC_OK);
    let mut props: *mut zc_props = std::ptr::null_mut();
    assert_eq!(zc_props_new(&mut props), ZC_OK);
    let mut mirror: Vec<(Vec<u8>, Option<Vec<u8>>)> = Vec::new();
    while !inp.is_empty() {
        match inp.u8() % 6 {
            0 => {
                let name = c_string(inp.chunk());
                let value = c_string(inp.chunk());
                zc_options_set(opts, name.as_ptr(), value.as_ptr());
            }
            1 => {
                let len = inp.u8() as usize;
                check_copy(|b, l| zc_options_last_error(opts, b, l), len);
                check_copy(
                    |b, l| crate::capi::zeroconf::zc_last_error(std::ptr::null(), b, l),
                    len,
                );
            }
            2 => {
                let key = c_string(inp.chunk());
                let with_value = inp.u8();
                let value = inp.chunk();
                let vptr = if with_value & 1 == 1 {
                    value.as_ptr().cast::<c_char>()
                } else {
                    std::ptr::null()
                };
                // An over-long value_len is refused before anything is read.
                let vlen = if with_value & 2 == 2 {
                    256 + inp.u8() as usize
                } else {
                    value.len()
                };
                let st = zc_props_set(props, key.as_ptr(), vptr, vlen);
                let k = key.to_bytes().to_vec();
                let v = (!vptr.is_null()).then(|| value.to_vec());
                let valid = std::str::from_utf8(&k).is_ok_and(|ks| {
                    (vptr.is_null() || vlen <= 255)
                        && crate::props::check_pair(ks, v.as_deref()).is_ok()
                });
                assert_eq!(
                    st == ZC_OK,
                    valid,
                    "zc_props_set({k:?}, {v:?}, {vlen}) = {st}"
                );
                if st == ZC_OK {
                    // Keys are case-insensitive: the new spelling replaces.
                    match mirror
                        .iter_mut()
                        .find(|(mk, _)| mk.eq_ignore_ascii_case(&k))
                    {
                        Some(e) => *e = (k, v),
                        None => mirror.push((k, v)),
                    }
                }
            }
            3 => {
                let key = c_string(inp.chunk());
                let mut v: *const c_char = std::ptr::null();
                let mut vl = 0usize;
                let mut has: c_int = -1;
                let st = zc_props_get(props, key.as_ptr(), &mut v, &mut vl, &mut has);
                let want = mirror
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(key.to_bytes()));
                assert_eq!(st == ZC_OK, want.is_some());
                if let Some((_, want)) = want {
                    check_value(v, vl, has, want);
                }
            }
            4 => {
                let i = inp.u8() as usize;
                let mut k: *const c_char = std::ptr::null();
                let mut v: *const c_char = std::ptr::null();
                let mut vl = 0usize;
                let mut has: c_int = -1;
                let st = zc_props_get_at(props, i, &mut k, &mut v, &mut vl, &mut has);
                assert_eq!(zc_props_count(props), mirror.len());
                assert_eq!(st == ZC_OK, i < mirror.len());
                if st == ZC_OK {
                    // SAFETY: ZC_OK wrote a NUL-terminated key.
                    let key = unsafe { std::ffi::CStr::from_ptr(k) };
                    assert_eq!(key.to_bytes(), &mirror[i].0[..]);
                    check_value(v, vl, has, &mirror[i].1);
                }
            }
            _ => {
                let code = inp.u32() as i32;
                assert!(!zc_strerror(code).is_null());
                let i = inp.u8() as usize;
                let mut name: *const c_char = std::ptr::null();
                let st = zc_option_info(
                    i,
                    std::ptr::null_mut(),
                    &mut name,
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                );
                assert_eq!(st == ZC_OK, i < zc_option_count());
                // An over-long input string is refused, not read past.
                let long = CString::new(vec![b'a'; ZC_MAX_INPUT + 1]).expect("no NUL");
                assert_ne!(zc_options_set(opts, long.as_ptr(), long.as_ptr()), ZC_OK);
            }
        }
    }
    zc_props_free(props);
    zc_options_free(opts);
}

fn check_value(v: *const c_char, vl: usize, has: c_int, want: &Option<Vec<u8>>) {
    match want {
        Some(w) => {
            assert_eq!(has, 1);
            assert!(!v.is_null());
            // SAFETY: ZC_OK wrote a value of vl bytes plus a NUL.
            let got = unsafe { std::slice::from_raw_parts(v.cast::<u8>(), vl + 1) };
            assert_eq!(&got[..vl], &w[..]);
            assert_eq!(got[vl], 0);
        }
        None => {
            assert_eq!(has, 0);
            assert!(v.is_null());
        }
    }
}

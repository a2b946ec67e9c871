//! Two-host network tests of the engine and its driver, in the lab
//! (tests/common/lab.rs): every test runs in private network namespaces and
//! skips cleanly where none can be made.

#[macro_use]
mod common;

use std::net::IpAddr;
use std::time::{Duration, Instant};

use common::lab::Lab;

const TY: &str = "_openstack._tcp.local.";

/// An mdns-sd daemon on host `h`, restricted to one family when `only` is
/// given (IPv4 or IPv6 interfaces only).
fn mdns_sd_daemon(only: Option<mdns_sd::IfKind>) -> mdns_sd::ServiceDaemon {
    let d = mdns_sd::ServiceDaemon::new().expect("mdns-sd daemon");
    match only {
        Some(mdns_sd::IfKind::IPv4) => d.disable_interface(mdns_sd::IfKind::IPv6).unwrap(),
        Some(mdns_sd::IfKind::IPv6) => d.disable_interface(mdns_sd::IfKind::IPv4).unwrap(),
        _ => {}
    }
    d
}

/// mdns-sd browses `TY` on the current host until `instance` resolves.
fn mdns_sd_find(d: &mdns_sd::ServiceDaemon, instance: &str, within: Duration) -> Option<Box<mdns_sd::ResolvedService>> {
    let rx = d.browse(TY).expect("browse");
    let deadline = Instant::now() + within;
    while let Ok(ev) = rx.recv_deadline(deadline) {
        if let mdns_sd::ServiceEvent::ServiceResolved(s) = ev {
            if s.fullname == instance {
                return Some(s);
            }
        }
    }
    None
}

/// The lab itself: an mdns-sd responder on host B is found by an mdns-sd
/// browser on host A over the veth, with only IPv4 and with only IPv6.
fn lab_mdns_sd_pair(lab: &Lab, kind: fn() -> mdns_sd::IfKind, b_addr: IpAddr) {
    let (a, b) = (0, 1);
    let responder = lab.run_on(b, move || {
        let d = mdns_sd_daemon(Some(kind()));
        let info = mdns_sd::ServiceInfo::new(TY, "baremetal", "hostb.local.", b_addr, 6385, &[("path", "/baremetal")][..])
            .expect("service info");
        d.register(info).expect("register");
        d
    });
    let found = lab.run_on(a, move || {
        let d = mdns_sd_daemon(Some(kind()));
        let found = mdns_sd_find(&d, &format!("baremetal.{TY}"), Duration::from_secs(5));
        let _ = d.shutdown();
        found
    });
    let _ = responder.shutdown();
    let s = found.expect("host A's browser found host B's service");
    assert_eq!(s.port, 6385);
    let addrs: Vec<IpAddr> = s.addresses.iter().map(|a| a.to_ip_addr()).collect();
    assert_eq!(addrs, vec![b_addr]);
    // Host A is its own namespace: it holds A's address and not B's.
    let ip_a = lab.sh(a, "ip addr show").unwrap();
    let ip_a = String::from_utf8_lossy(&ip_a.stdout);
    assert!(ip_a.contains("198.18.0.1/24") && !ip_a.contains("198.18.0.2/"), "{ip_a}");
}

#[test]
fn lab_mdns_sd_pair_ipv4() {
    let Some(lab) = lab!() else { return };
    lab_mdns_sd_pair(&lab, || mdns_sd::IfKind::IPv4, lab.v4(1));
}

#[test]
fn lab_mdns_sd_pair_ipv6() {
    let Some(lab) = lab!() else { return };
    lab_mdns_sd_pair(&lab, || mdns_sd::IfKind::IPv6, lab.v6(1));
}

/// Three hosts on a bridge: each sees the other two.
#[test]
fn lab_three_hosts_on_a_bridge() {
    let Some(lab) = lab!(3) else { return };
    for h in 0..3 {
        let script = format!("ip addr show dev eth0 | grep -q ' {}/24'", lab.host(h).v4);
        lab.sh(h, &script).expect("own address");
    }
    let responder = {
        let addr = lab.v4(2);
        lab.run_on(2, move || {
            let d = mdns_sd_daemon(Some(mdns_sd::IfKind::IPv4));
            let info = mdns_sd::ServiceInfo::new(TY, "c", "hostc.local.", addr, 1, &[("a", "b")][..]).unwrap();
            d.register(info).unwrap();
            d
        })
    };
    for h in 0..2 {
        let found = lab.run_on(h, || {
            let d = mdns_sd_daemon(Some(mdns_sd::IfKind::IPv4));
            let f = mdns_sd_find(&d, &format!("c.{TY}"), Duration::from_secs(5));
            let _ = d.shutdown();
            f
        });
        assert!(found.is_some(), "host {h} found host 2's service");
    }
    let _ = responder.shutdown();
}

// ---------------------------------------------------------------------------
// Our engine (ironicmdns::engine::driver::Mdns) between two hosts.

use ironicmdns::engine::driver::{Mdns, MdnsOptions};
use ironicmdns::engine::{ServiceInfo, Ttls};

/// A service as ironic registers an IP-literal endpoint: the SRV target is
/// the instance name, which owns the address records.
fn our_service(label: &str, port: u16, addresses: Vec<IpAddr>) -> ServiceInfo {
    let instance = format!("{label}.{TY}");
    ServiceInfo {
        instance: instance.clone(),
        service_type: TY.into(),
        target: instance,
        port,
        txt: vec![b"path=/baremetal".to_vec(), b"txtvers=1".to_vec()],
        addresses,
        ttls: Ttls::default(),
    }
}

fn start(only: Option<Vec<IpAddr>>) -> Mdns {
    Mdns::start(MdnsOptions { interfaces: only, cache_capacity: None }).expect("Mdns::start")
}

const PROBE_LIMIT: Duration = Duration::from_secs(5);

/// Our responder on host B (restricted to one family) is found by mdns-sd
/// on host A (same family) and by our own querier on host A.
fn responder_found(lab: &Lab, b_addr: IpAddr, a_addr: IpAddr, kind: fn() -> mdns_sd::IfKind) {
    let (a, b) = (0, 1);
    let ours = lab.run_on(b, move || {
        let m = start(Some(vec![b_addr]));
        let t = Instant::now();
        m.register(our_service("baremetal", 6385, vec![b_addr]), PROBE_LIMIT).expect("register on B");
        let took = t.elapsed();
        // RFC 6762 s8.1: three probes 250 ms apart, after a 0-250 ms wait.
        assert!(took >= Duration::from_millis(500) && took < Duration::from_secs(2), "probing took {took:?}");
        m
    });
    let instance = format!("baremetal.{TY}");
    let peer = lab.run_on(a, {
        let instance = instance.clone();
        move || {
            let d = mdns_sd_daemon(Some(kind()));
            let f = mdns_sd_find(&d, &instance, Duration::from_secs(5));
            let _ = d.shutdown();
            f
        }
    });
    let s = peer.expect("mdns-sd on A found our service on B");
    assert_eq!(s.port, 6385);
    assert_eq!(s.host, instance);
    let addrs: Vec<IpAddr> = s.addresses.iter().map(|x| x.to_ip_addr()).collect();
    assert_eq!(addrs, vec![b_addr]);
    assert_eq!(s.txt_properties.get_property_val_str("path"), Some("/baremetal"));

    let got = lab.run_on(a, move || {
        let m = start(Some(vec![a_addr]));
        let t = Instant::now();
        let r = m.resolve(&format!("baremetal.{TY}"), Duration::from_secs(3)).expect("resolve");
        let cold = t.elapsed();
        // A second resolve is answered from the cache.
        let t = Instant::now();
        let again = m.resolve(&format!("baremetal.{TY}"), Duration::from_secs(3)).expect("resolve again");
        let warm = t.elapsed();
        m.close().expect("close A");
        (r, cold, again, warm)
    });
    let (r, cold, again, warm) = got;
    eprintln!("resolve: cold {cold:?}, warm (cache) {warm:?}");
    let r = r.expect("our querier on A resolved B's service");
    assert_eq!(r.port, 6385);
    assert_eq!(r.target, instance);
    assert_eq!(r.txt, vec![b"path=/baremetal".to_vec(), b"txtvers=1".to_vec()]);
    assert_eq!(r.addresses.iter().map(|s| s.addr).collect::<Vec<_>>(), vec![b_addr]);
    assert!(cold < Duration::from_secs(1), "cold resolve took {cold:?}");
    assert_eq!(again.as_ref(), Some(&r));
    assert!(warm < Duration::from_millis(20), "warm resolve took {warm:?} (a cache hit: no network)");
    ours.close().expect("close B");
}

#[test]
fn our_responder_found_ipv4() {
    let Some(lab) = lab!() else { return };
    responder_found(&lab, lab.v4(1), lab.v4(0), || mdns_sd::IfKind::IPv4);
}

#[test]
fn our_responder_found_ipv6() {
    let Some(lab) = lab!() else { return };
    responder_found(&lab, lab.v6(1), lab.v6(0), || mdns_sd::IfKind::IPv6);
}

/// An mdns-sd responder on host B is resolved by our querier on host A,
/// on each family alone.
fn mdns_sd_responder_resolved(lab: &Lab, b_addr: IpAddr, a_addr: IpAddr, kind: fn() -> mdns_sd::IfKind) {
    let (a, b) = (0, 1);
    let peer = lab.run_on(b, move || {
        let d = mdns_sd_daemon(Some(kind()));
        let info = mdns_sd::ServiceInfo::new(TY, "inspector", "hostb.local.", b_addr, 5050, &[("path", "/v1")][..]).unwrap();
        d.register(info).unwrap();
        d
    });
    let r = lab.run_on(a, move || {
        let m = start(Some(vec![a_addr]));
        let r = m.resolve(&format!("inspector.{TY}"), Duration::from_secs(3));
        m.close().unwrap();
        r
    });
    let _ = peer.shutdown();
    let r = r.expect("resolve").expect("found mdns-sd's service");
    assert_eq!(r.port, 5050);
    assert_eq!(r.target, "hostb.local.");
    assert_eq!(r.txt, vec![b"path=/v1".to_vec()]);
    assert_eq!(r.addresses.iter().map(|s| s.addr).collect::<Vec<_>>(), vec![b_addr]);
}

#[test]
fn mdns_sd_responder_resolved_ipv4() {
    let Some(lab) = lab!() else { return };
    mdns_sd_responder_resolved(&lab, lab.v4(1), lab.v4(0), || mdns_sd::IfKind::IPv4);
}

#[test]
fn mdns_sd_responder_resolved_ipv6() {
    let Some(lab) = lab!() else { return };
    mdns_sd_responder_resolved(&lab, lab.v6(1), lab.v6(0), || mdns_sd::IfKind::IPv6);
}

/// Both hosts register the same instance with different data at the same
/// moment: the probe tie-break (RFC 6762 s8.2) lets exactly one win.
#[test]
fn simultaneous_probes_exactly_one_wins() {
    let Some(lab) = lab!() else { return };
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
    let (a_addr, b_addr) = (lab.v4(0), lab.v4(1));
    let bb = barrier.clone();
    let on_b = lab.spawn_on(1, move || {
        let m = start(Some(vec![b_addr]));
        bb.wait();
        let r = m.register(our_service("baremetal", 6385, vec![b_addr]), PROBE_LIMIT);
        (r.map(|id| m.is_registered(id)), m)
    });
    let (ra, ma) = lab.run_on(0, move || {
        let m = start(Some(vec![a_addr]));
        barrier.wait();
        let r = m.register(our_service("baremetal", 6385, vec![a_addr]), PROBE_LIMIT);
        (r.map(|id| m.is_registered(id)), m)
    });
    let (rb, mb) = on_b.join().unwrap();
    let wins = [&ra, &rb].iter().filter(|r| matches!(r, Ok(true))).count();
    let conflicts = [&ra, &rb].iter().filter(|r| matches!(r, Err(ironicmdns::Error::Conflict(_)))).count();
    assert_eq!((wins, conflicts), (1, 1), "A: {ra:?}, B: {rb:?}");
    ma.close().unwrap();
    mb.close().unwrap();
}

/// B has announced; A's later registration of the same name loses to B's
/// defence (RFC 6762 s8.1), and B keeps its name.
#[test]
fn announced_name_is_defended() {
    let Some(lab) = lab!() else { return };
    let (a_addr, b_addr) = (lab.v4(0), lab.v4(1));
    let (mb, idb) = lab.run_on(1, move || {
        let m = start(Some(vec![b_addr]));
        let id = m.register(our_service("baremetal", 6385, vec![b_addr]), PROBE_LIMIT).expect("B registers");
        (m, id)
    });
    let ra = lab.run_on(0, move || {
        let m = start(Some(vec![a_addr]));
        let r = m.register(our_service("baremetal", 80, vec![a_addr]), PROBE_LIMIT);
        m.close().unwrap();
        r
    });
    assert!(matches!(ra, Err(ironicmdns::Error::Conflict(_))), "A: {ra:?}");
    assert!(mb.is_registered(idb), "B still owns the name");
    mb.close().unwrap();
}

/// A multicast response claiming `instance`'s SRV with other data, as a
/// host that did not probe would send it (cache-flush bit set).
fn conflicting_announcement(instance: &str, port: u16) -> Vec<u8> {
    use simple_dns::{rdata::RData, rdata::SRV, Name, Packet, PacketFlag, ResourceRecord, CLASS};
    let mut p = Packet::new_reply(0);
    p.set_flags(PacketFlag::AUTHORITATIVE_ANSWER);
    let mut rr = ResourceRecord::new(
        Name::new_unchecked(instance),
        CLASS::IN,
        120,
        RData::SRV(SRV { priority: 0, weight: 0, port, target: Name::new_unchecked("intruder.local") }),
    );
    rr.cache_flush = true;
    p.answers.push(rr);
    p.build_bytes_vec().unwrap()
}

/// After announcing, a peer's conflicting record takes the name away
/// (RFC 6762 s9): the registration is reported lost by `is_registered`.
#[test]
fn conflict_after_announcing_is_reported() {
    let Some(lab) = lab!() else { return };
    let b_addr = lab.v4(1);
    let (mb, idb) = lab.run_on(1, move || {
        let m = start(Some(vec![b_addr]));
        let id = m.register(our_service("baremetal", 6385, vec![b_addr]), PROBE_LIMIT).expect("B registers");
        (m, id)
    });
    assert!(mb.is_registered(idb));
    // Let B finish announcing (RFC 6762 s8.3: two announcements, 1 s apart).
    std::thread::sleep(Duration::from_millis(1200));
    assert!(mb.is_registered(idb), "nothing has conflicted yet");
    lab.run_on(0, || {
        let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None).unwrap();
        s.set_reuse_address(true).unwrap();
        s.set_reuse_port(true).unwrap();
        s.bind(&"0.0.0.0:5353".parse::<std::net::SocketAddr>().unwrap().into()).unwrap();
        s.set_multicast_ttl_v4(255).unwrap();
        let pkt = conflicting_announcement(&format!("baremetal.{TY}"), 9999);
        s.send_to(&pkt, &"224.0.0.251:5353".parse::<std::net::SocketAddr>().unwrap().into()).unwrap();
    });
    let deadline = Instant::now() + Duration::from_secs(2);
    while mb.is_registered(idb) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(!mb.is_registered(idb), "the conflict was reported");
    // Withdrawing a lost registration is not an error.
    mb.unregister(idb).expect("unregister of a lost registration");
    mb.close().unwrap();
}

/// Our goodbyes reach the peer: mdns-sd browsing on A sees the service
/// removed within 2 s of our `unregister` on B.
#[test]
fn goodbye_seen_by_peer() {
    let Some(lab) = lab!() else { return };
    let b_addr = lab.v4(1);
    let (mb, idb) = lab.run_on(1, move || {
        let m = start(Some(vec![b_addr]));
        let id = m.register(our_service("baremetal", 6385, vec![b_addr]), PROBE_LIMIT).expect("B registers");
        (m, id)
    });
    let instance = format!("baremetal.{TY}");
    let (d, rx) = lab.run_on(0, || {
        let d = mdns_sd_daemon(Some(mdns_sd::IfKind::IPv4));
        let rx = d.browse(TY).unwrap();
        (d, rx)
    });
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut resolved = false;
    while let Ok(ev) = rx.recv_deadline(deadline) {
        if matches!(&ev, mdns_sd::ServiceEvent::ServiceResolved(s) if s.fullname == instance) {
            resolved = true;
            break;
        }
    }
    assert!(resolved, "mdns-sd resolved our service first");
    let t = Instant::now();
    mb.unregister(idb).expect("unregister");
    assert!(!mb.is_registered(idb));
    let deadline = t + Duration::from_secs(2);
    let mut removed = None;
    while let Ok(ev) = rx.recv_deadline(deadline) {
        if matches!(&ev, mdns_sd::ServiceEvent::ServiceRemoved(_, name) if *name == instance) {
            removed = Some(t.elapsed());
            break;
        }
    }
    let _ = d.shutdown();
    mb.close().unwrap();
    assert!(removed.is_some(), "mdns-sd saw the goodbye within 2 s");
}

/// A service registered while its host's link is down is probed and
/// announced once the link comes up (netlink), and is then found.
#[test]
fn registered_before_link_up_becomes_reachable() {
    let Some(lab) = lab!() else { return };
    let (a_addr, b_addr) = (lab.v4(0), lab.v4(1));
    lab.link_down(1).unwrap();
    let mb = lab.run_on(1, || start(None));
    let mb = std::sync::Arc::new(mb);
    let m2 = mb.clone();
    let reg = std::thread::spawn(move || m2.register(our_service("baremetal", 6385, vec![b_addr]), Duration::from_secs(10)));
    std::thread::sleep(Duration::from_millis(500));
    assert!(!reg.is_finished(), "nothing to probe on while the link is down");
    lab.link_up(1).unwrap();
    let t = Instant::now();
    let id = reg.join().unwrap().expect("registered once the link came up");
    assert!(t.elapsed() < Duration::from_secs(2), "probing took {:?} after link up", t.elapsed());
    assert!(mb.is_registered(id));
    let r = lab.run_on(0, move || {
        let m = start(Some(vec![a_addr]));
        let r = m.resolve(&format!("baremetal.{TY}"), Duration::from_secs(3));
        m.close().unwrap();
        r
    });
    let r = r.unwrap().expect("A finds B's service");
    assert_eq!(r.addresses.iter().map(|s| s.addr).collect::<Vec<_>>(), vec![b_addr]);
    mb.close().unwrap();
}

/// Context switches of this process's threads named `name` (from /proc).
fn thread_wakeups(name: &str) -> u64 {
    let mut total = 0;
    for t in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let comm = std::fs::read_to_string(t.path().join("comm")).unwrap_or_default();
        if comm.trim() != name {
            continue;
        }
        let status = std::fs::read_to_string(t.path().join("status")).unwrap_or_default();
        for line in status.lines() {
            if let Some(v) = line.strip_prefix("voluntary_ctxt_switches:") {
                total += v.trim().parse::<u64>().unwrap();
            }
        }
    }
    total
}

/// No periodic polling: once announced, an idle engine holding one
/// registration sleeps (at most one wake-up per 5 s).
#[test]
fn idle_engine_sleeps() {
    let Some(lab) = lab!() else { return };
    let b_addr = lab.v4(1);
    let mb = lab.run_on(1, move || {
        let m = start(None);
        m.register(our_service("baremetal", 6385, vec![b_addr]), PROBE_LIMIT).expect("B registers");
        m
    });
    // RFC 6762 s8.3: the last announcement goes out 1 s after the first.
    std::thread::sleep(Duration::from_millis(1500));
    let before = thread_wakeups("ironicmdns");
    std::thread::sleep(Duration::from_secs(10));
    let woke = thread_wakeups("ironicmdns") - before;
    mb.close().unwrap();
    eprintln!("idle driver thread: {woke} wake-ups in 10 s");
    assert!(woke <= 2, "the idle driver thread woke {woke} times in 10 s");
}

/// One host, two engines (two stacks sharing port 5353 over `lo` with
/// multicast on, LAB.md): multicast loopback stays on, so each hears the
/// other, while each drops its own looped-back packets.
#[test]
fn one_host_two_engines_hear_each_other() {
    let Some(lab) = lab!(1) else { return };
    let r = lab.run_on(0, || {
        let responder = start(None);
        let id = responder
            .register(our_service("baremetal", 6385, vec!["127.0.0.1".parse().unwrap()]), PROBE_LIMIT)
            .expect("register");
        let querier = start(None);
        let r = querier.resolve(&format!("baremetal.{TY}"), Duration::from_secs(3));
        // Own packets are not mistaken for a peer's: still registered.
        let still = responder.is_registered(id);
        querier.close().unwrap();
        responder.close().unwrap();
        (r, still)
    });
    let (r, still) = r;
    let r = r.expect("resolve").expect("the second engine found the first");
    assert_eq!(r.port, 6385);
    assert!(still);
}

/// close withdraws everything with goodbyes, is idempotent, and every
/// later call says Closed; bad input is an error, never a panic.
#[test]
fn close_is_final_and_idempotent() {
    let Some(lab) = lab!() else { return };
    let b_addr = lab.v4(1);
    let instance = format!("baremetal.{TY}");
    let (d, rx) = lab.run_on(0, || {
        let d = mdns_sd_daemon(Some(mdns_sd::IfKind::IPv4));
        let rx = d.browse(TY).unwrap();
        (d, rx)
    });
    let m = lab.run_on(1, move || {
        let m = start(Some(vec![b_addr]));
        m.register(our_service("baremetal", 6385, vec![b_addr]), PROBE_LIMIT).expect("register");
        // Engine errors come back as errors.
        let bad = m.register(our_service("", 1, vec![b_addr]), PROBE_LIMIT);
        assert!(matches!(bad, Err(ironicmdns::Error::InvalidArgument(_))), "{bad:?}");
        let dup = m.register(our_service("baremetal", 6385, vec![b_addr]), PROBE_LIMIT);
        assert!(matches!(dup, Err(ironicmdns::Error::Registration(_))), "{dup:?}");
        let unknown = m.unregister(ironicmdns::engine::RegId(999));
        assert!(matches!(unknown, Err(ironicmdns::Error::InvalidArgument(_))), "{unknown:?}");
        m
    });
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut resolved = false;
    while let Ok(ev) = rx.recv_deadline(deadline) {
        if matches!(&ev, mdns_sd::ServiceEvent::ServiceResolved(s) if s.fullname == instance) {
            resolved = true;
            break;
        }
    }
    assert!(resolved, "the peer resolved our service");
    m.close().expect("close");
    // The goodbyes were sent before close returned (the peer drops the
    // records 1 s after a goodbye, RFC 6762 s10.1).
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut removed = false;
    while let Ok(ev) = rx.recv_deadline(deadline) {
        if matches!(&ev, mdns_sd::ServiceEvent::ServiceRemoved(_, name) if *name == instance) {
            removed = true;
            break;
        }
    }
    let _ = d.shutdown();
    assert!(removed, "the peer saw our goodbye");
    m.close().expect("second close");
    let closed = |r: &ironicmdns::Error| matches!(r, ironicmdns::Error::Closed(_));
    assert!(closed(&m.register(our_service("x", 1, vec![b_addr]), PROBE_LIMIT).unwrap_err()));
    assert!(closed(&m.resolve(&instance, Duration::from_millis(10)).unwrap_err()));
    assert!(closed(&m.browse(TY, Duration::from_millis(10)).unwrap_err()));
    assert!(closed(&m.unregister(ironicmdns::engine::RegId(1)).unwrap_err()));
    m.flush_cache();
    // No thread is left behind.
    assert_eq!(thread_count("ironicmdns"), 0);
}

fn thread_count(name: &str) -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .flatten()
        .filter(|t| std::fs::read_to_string(t.path().join("comm")).unwrap_or_default().trim() == name)
        .count()
}

/// browse lists the instances on the link, resolved.
#[test]
fn browse_lists_instances() {
    let Some(lab) = lab!() else { return };
    let (a_addr, b_addr) = (lab.v4(0), lab.v4(1));
    let mb = lab.run_on(1, move || {
        let m = start(Some(vec![b_addr]));
        m.register(our_service("baremetal", 6385, vec![b_addr]), PROBE_LIMIT).unwrap();
        m.register(our_service("baremetal-introspection", 5050, vec![b_addr]), PROBE_LIMIT).unwrap();
        m
    });
    let seen = lab.run_on(0, move || {
        let m = start(Some(vec![a_addr]));
        let seen = m.browse(TY, Duration::from_millis(1500)).expect("browse");
        m.close().unwrap();
        seen
    });
    mb.close().unwrap();
    let mut names: Vec<(String, u16)> = seen.iter().map(|s| (s.instance.clone(), s.port)).collect();
    names.sort();
    assert_eq!(
        names,
        vec![(format!("baremetal-introspection.{TY}"), 5050), (format!("baremetal.{TY}"), 6385)]
    );
}

/// A child process started on a host runs in that host's namespace, and
/// `stop` ends it with SIGTERM.
#[test]
fn lab_child_process_runs_on_its_host() {
    let Some(lab) = lab!() else { return };
    let out = lab.command(1, "ip").args(["-4", "-o", "addr", "show", "dev", "eth0"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("198.18.0.2/24"));
    let mut child = lab.spawn(lab.command(0, "sleep").arg("60")).unwrap();
    let status = child.stop(Duration::from_secs(2)).unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGTERM));
}

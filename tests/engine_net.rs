//! Two-host network tests of the engine and its driver, in the lab
//! (tests/common/lab.rs): every test runs in private network namespaces and
//! skips cleanly where none can be made.

#[macro_use]
mod common;

use std::net::IpAddr;
use std::time::{Duration, Instant};

use common::lab::Lab;
use ironicmdns::engine::{Mdns, MdnsOptions};
use ironicmdns::service::{ServiceInfo, Ttls};

#[path = "engine_net/interop.rs"]
mod interop;
#[path = "engine_net/lifecycle.rs"]
mod lifecycle;
#[path = "engine_net/many_stacks.rs"]
mod many_stacks;

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
fn mdns_sd_find(
    d: &mdns_sd::ServiceDaemon,
    instance: &str,
    within: Duration,
) -> Option<Box<mdns_sd::ResolvedService>> {
    let rx = d.browse(TY).expect("browse");
    wait_resolved(&rx, instance, within)
}

/// The first ServiceResolved event for `instance` on a running browse.
fn wait_resolved(
    rx: &mdns_sd::Receiver<mdns_sd::ServiceEvent>,
    instance: &str,
    within: Duration,
) -> Option<Box<mdns_sd::ResolvedService>> {
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
        let info = mdns_sd::ServiceInfo::new(
            TY,
            "baremetal",
            "hostb.local.",
            b_addr,
            6385,
            &[("path", "/baremetal")][..],
        )
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
    assert!(
        ip_a.contains("198.18.0.1/24") && !ip_a.contains("198.18.0.2/"),
        "{ip_a}"
    );
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
            let info =
                mdns_sd::ServiceInfo::new(TY, "c", "hostc.local.", addr, 1, &[("a", "b")][..])
                    .unwrap();
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
    Mdns::start(MdnsOptions {
        interfaces: only,
        cache_capacity: None,
        ..Default::default()
    })
    .expect("Mdns::start")
}

const PROBE_LIMIT: Duration = Duration::from_secs(5);

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

fn thread_count(name: &str) -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .flatten()
        .filter(|t| {
            std::fs::read_to_string(t.path().join("comm"))
                .unwrap_or_default()
                .trim()
                == name
        })
        .count()
}

/// A child process started on a host runs in that host's namespace, and
/// `stop` ends it with SIGTERM.
#[test]
fn lab_child_process_runs_on_its_host() {
    let Some(lab) = lab!() else { return };
    let out = lab
        .command(1, "ip")
        .args(["-4", "-o", "addr", "show", "dev", "eth0"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("198.18.0.2/24"));
    let mut child = lab.spawn(lab.command(0, "sleep").arg("60")).unwrap();
    let status = child.stop(Duration::from_secs(2)).unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGTERM));
    // A child left running without a guard is killed with the lab.
    let mut stray = lab.command(1, "sleep").arg("60").spawn().unwrap();
    drop(lab);
    let t = Instant::now();
    let status = stray.wait().unwrap();
    assert!(
        t.elapsed() < Duration::from_secs(5) && status.signal() == Some(libc::SIGKILL),
        "{status:?}"
    );
}

/// The lab's interface index of `eth0` on the calling thread's host.
fn ifindex() -> u32 {
    let name = std::ffi::CString::new("eth0").unwrap();
    // SAFETY: a valid NUL-terminated name.
    unsafe { libc::if_nametoindex(name.as_ptr()) }
}

/// The next datagram on `s` (within 2 s).
fn recv(s: &ironicmdns::engine::MdnsSocket) -> (Vec<u8>, ironicmdns::engine::Received) {
    let mut buf = vec![0u8; 9000];
    let t = Instant::now();
    loop {
        if let Some((n, from)) = s.recv(&mut buf).expect("recv") {
            return (buf[..n].to_vec(), from);
        }
        assert!(t.elapsed() < Duration::from_secs(2), "nothing received");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// socket.rs on its own: a multicast Transmit out of host A's eth0 reaches
/// host B's socket tagged with B's eth0 index and `multicast`, whole at
/// 9000 bytes; a unicast one arrives untagged; a larger one is dropped.
fn socket_roundtrip(lab: &Lab, fam: ironicmdns::engine::Family) {
    use ironicmdns::engine::MdnsSocket;
    use ironicmdns::engine::Transmit;
    let (sb, b_idx) = lab.run_on(1, move || {
        let s = MdnsSocket::open(fam).expect("open on B");
        s.join(ifindex()).expect("join on B");
        s.join(ifindex()).expect("joining twice is fine");
        (s, ifindex())
    });
    let (sa, a_idx) = lab.run_on(0, move || {
        let s = MdnsSocket::open(fam).expect("open on A");
        (s, ifindex())
    });
    let b_ip = match fam {
        ironicmdns::engine::Family::V4 => lab.v4(1),
        ironicmdns::engine::Family::V6 => lab.v6(1),
    };
    let a_ip = match fam {
        ironicmdns::engine::Family::V4 => lab.v4(0),
        ironicmdns::engine::Family::V6 => lab.v6(0),
    };
    let big = vec![7u8; 9000];
    sa.send(&Transmit {
        iface: a_idx,
        dst: fam.group(),
        payload: big.clone(),
        from_ephemeral: false,
    })
    .expect("multicast send");
    let (data, from) = recv(&sb);
    assert_eq!(data, big, "a 9000-byte packet arrives whole");
    assert_eq!(
        (from.iface, from.multicast, from.src.port()),
        (b_idx, true, 5353)
    );
    if fam == ironicmdns::engine::Family::V4 {
        assert_eq!(from.src.ip(), a_ip);
    }
    sa.send(&Transmit {
        iface: a_idx,
        dst: std::net::SocketAddr::new(b_ip, 5353),
        payload: b"uni".to_vec(),
        from_ephemeral: false,
    })
    .expect("unicast send");
    let (data, from) = recv(&sb);
    assert_eq!(
        (data.as_slice(), from.iface, from.multicast),
        (&b"uni"[..], b_idx, false)
    );
    assert_eq!(from.src.ip(), a_ip);
    // Larger than RFC 6762 s17 allows: dropped by the receiver.
    let _ = sa.send(&Transmit {
        iface: a_idx,
        dst: fam.group(),
        payload: vec![1u8; 9001],
        from_ephemeral: false,
    });
    sa.send(&Transmit {
        iface: a_idx,
        dst: fam.group(),
        payload: b"after".to_vec(),
        from_ephemeral: false,
    })
    .unwrap();
    let (data, _) = recv(&sb);
    assert_eq!(data, b"after");
}

#[test]
fn socket_roundtrip_ipv4() {
    let Some(lab) = lab!() else { return };
    socket_roundtrip(&lab, ironicmdns::engine::Family::V4);
}

#[test]
fn socket_roundtrip_ipv6() {
    let Some(lab) = lab!() else { return };
    socket_roundtrip(&lab, ironicmdns::engine::Family::V6);
}

/// The ephemeral-port socket (RFC 6762 s5.1): its multicast reaches host
/// B's 5353 socket from a port other than 5353, and B's unicast reply to
/// that port comes back to it, tagged with A's interface, not multicast.
fn ephemeral_roundtrip(lab: &Lab, fam: ironicmdns::engine::Family) {
    use ironicmdns::engine::MdnsSocket;
    use ironicmdns::engine::Transmit;
    let (sb, b_idx) = lab.run_on(1, move || {
        let s = MdnsSocket::open(fam).expect("open on B");
        s.join(ifindex()).expect("join on B");
        (s, ifindex())
    });
    let (ea, a_idx) = lab.run_on(0, move || {
        (
            MdnsSocket::open_ephemeral(fam).expect("ephemeral socket on A"),
            ifindex(),
        )
    });
    let port = ea.local_port().unwrap();
    assert_ne!(port, 5353);
    assert_ne!(port, 0);
    ea.send(&Transmit {
        iface: a_idx,
        dst: fam.group(),
        payload: b"one-shot".to_vec(),
        from_ephemeral: true,
    })
    .expect("multicast from the ephemeral port");
    let (data, from) = recv(&sb);
    assert_eq!(
        (data.as_slice(), from.iface, from.multicast),
        (&b"one-shot"[..], b_idx, true)
    );
    assert_eq!(
        from.src.port(),
        port,
        "the query leaves from the ephemeral port"
    );
    sb.send(&Transmit {
        iface: b_idx,
        dst: from.src,
        payload: b"answer".to_vec(),
        from_ephemeral: false,
    })
    .expect("unicast reply");
    let (data, from) = recv(&ea);
    assert_eq!(
        (data.as_slice(), from.iface, from.multicast),
        (&b"answer"[..], a_idx, false)
    );
    assert_eq!(from.src.port(), 5353);
}

#[test]
fn ephemeral_roundtrip_ipv4() {
    let Some(lab) = lab!() else { return };
    ephemeral_roundtrip(&lab, ironicmdns::engine::Family::V4);
}

#[test]
fn ephemeral_roundtrip_ipv6() {
    let Some(lab) = lab!() else { return };
    ephemeral_roundtrip(&lab, ironicmdns::engine::Family::V6);
}

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

//! Our engine and mdns-sd finding each other, on each family alone; our
//! querier against our responder (two hosts, and two stacks on one host).

use std::net::IpAddr;
use std::time::{Duration, Instant};

use super::*;

/// Our responder on host B (restricted to one family) is found by mdns-sd
/// on host A (same family) and by our own querier on host A.
fn responder_found(lab: &Lab, b_addr: IpAddr, a_addr: IpAddr, kind: fn() -> mdns_sd::IfKind) {
    let (a, b) = (0, 1);
    let ours = lab.run_on(b, move || {
        let m = start(Some(vec![b_addr]));
        let t = Instant::now();
        m.register(our_service("baremetal", 6385, vec![b_addr]), PROBE_LIMIT)
            .expect("register on B");
        let took = t.elapsed();
        // RFC 6762 s8.1: three probes 250 ms apart, after a 0-250 ms wait.
        assert!(
            took >= Duration::from_millis(500) && took < Duration::from_secs(2),
            "probing took {took:?}"
        );
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
    assert_eq!(
        s.txt_properties.get_property_val_str("path"),
        Some("/baremetal")
    );

    let got = lab.run_on(a, move || {
        let m = start(Some(vec![a_addr]));
        let t = Instant::now();
        let r = m
            .resolve(&format!("baremetal.{TY}"), Duration::from_secs(3))
            .expect("resolve");
        let cold = t.elapsed();
        // A second resolve is answered from the cache.
        let t = Instant::now();
        let again = m
            .resolve(&format!("baremetal.{TY}"), Duration::from_secs(3))
            .expect("resolve again");
        let warm = t.elapsed();
        m.close().expect("close A");
        (r, cold, again, warm)
    });
    let (r, cold, again, warm) = got;
    eprintln!("resolve: cold {cold:?}, warm (cache) {warm:?}");
    let r = r.expect("our querier on A resolved B's service");
    assert_eq!(r.port, 6385);
    assert_eq!(r.target, instance);
    assert_eq!(
        r.txt,
        vec![b"path=/baremetal".to_vec(), b"txtvers=1".to_vec()]
    );
    assert_eq!(
        r.addresses.iter().map(|s| s.addr).collect::<Vec<_>>(),
        vec![b_addr]
    );
    assert!(cold < Duration::from_secs(1), "cold resolve took {cold:?}");
    assert_eq!(again.as_ref(), Some(&r));
    assert!(
        warm < Duration::from_millis(20),
        "warm resolve took {warm:?} (a cache hit: no network)"
    );
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
fn mdns_sd_responder_resolved(
    lab: &Lab,
    b_addr: IpAddr,
    a_addr: IpAddr,
    kind: fn() -> mdns_sd::IfKind,
) {
    let (a, b) = (0, 1);
    let peer = lab.run_on(b, move || {
        let d = mdns_sd_daemon(Some(kind()));
        let info = mdns_sd::ServiceInfo::new(
            TY,
            "inspector",
            "hostb.local.",
            b_addr,
            5050,
            &[("path", "/v1")][..],
        )
        .unwrap();
        d.register(info).unwrap();
        d
    });
    let (r, first, again) = lab.run_on(a, move || {
        let resolve = || {
            let m = start(Some(vec![a_addr]));
            let t = Instant::now();
            let r = m.resolve(&format!("inspector.{TY}"), Duration::from_secs(3));
            let took = t.elapsed();
            m.close().unwrap();
            (r, took)
        };
        // The first lookup may meet mdns-sd still probing; a second one,
        // from a new engine (cold cache), meets it announced.
        let (r, first) = resolve();
        let (again, took) = resolve();
        (r, first, again.map(|a| (a, took)))
    });
    let _ = peer.shutdown();
    let (again, took) = again.expect("resolve again");
    eprintln!("resolve from mdns-sd: {first:?} just after its registration, then {took:?}");
    let r = r.expect("resolve").expect("found mdns-sd's service");
    assert_eq!(again.as_ref(), Some(&r));
    // mdns-sd answers the one-shot query (RFC 6762 s6.7) by unicast: no
    // wait for the 1 s multicast retry.
    assert!(
        took < Duration::from_millis(500),
        "resolve from announced mdns-sd took {took:?}"
    );
    assert_eq!(r.port, 5050);
    assert_eq!(r.target, "hostb.local.");
    assert_eq!(r.txt, vec![b"path=/v1".to_vec()]);
    assert_eq!(
        r.addresses.iter().map(|s| s.addr).collect::<Vec<_>>(),
        vec![b_addr]
    );
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

/// One host, two engines (two stacks sharing port 5353 over `lo` with
/// multicast on, docs/LAB.md): multicast loopback stays on, so each hears the
/// other, while each drops its own looped-back packets.
#[test]
fn one_host_two_engines_hear_each_other() {
    let Some(lab) = lab!(1) else { return };
    let r = lab.run_on(0, || {
        let responder = start(None);
        let id = responder
            .register(
                our_service("baremetal", 6385, vec!["127.0.0.1".parse().unwrap()]),
                PROBE_LIMIT,
            )
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
    let r = r
        .expect("resolve")
        .expect("the second engine found the first");
    assert_eq!(r.port, 6385);
    assert!(still);
}

/// browse lists the instances on the link, resolved.
#[test]
fn browse_lists_instances() {
    let Some(lab) = lab!() else { return };
    let (a_addr, b_addr) = (lab.v4(0), lab.v4(1));
    let mb = lab.run_on(1, move || {
        let m = start(Some(vec![b_addr]));
        m.register(our_service("baremetal", 6385, vec![b_addr]), PROBE_LIMIT)
            .unwrap();
        m.register(
            our_service("baremetal-introspection", 5050, vec![b_addr]),
            PROBE_LIMIT,
        )
        .unwrap();
        m
    });
    let seen = lab.run_on(0, move || {
        let m = start(Some(vec![a_addr]));
        let seen = m.browse(TY, Duration::from_millis(2500)).expect("browse");
        m.close().unwrap();
        seen
    });
    mb.close().unwrap();
    let mut names: Vec<(String, u16)> = seen.iter().map(|s| (s.instance.clone(), s.port)).collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            (format!("baremetal-introspection.{TY}"), 5050),
            (format!("baremetal.{TY}"), 6385)
        ],
        "browse saw {seen:?}"
    );
}

/// One engine shared by many threads: registrations and lookups made at
/// the same moment all complete (each caller waits for its own event).
#[test]
fn many_callers_at_once() {
    let Some(lab) = lab!() else { return };
    let (a_addr, b_addr) = (lab.v4(0), lab.v4(1));
    let names: Vec<String> = (0..8).map(|i| format!("svc-{i}")).collect();
    let mb = std::sync::Arc::new(lab.run_on(1, move || start(Some(vec![b_addr]))));
    let regs: Vec<_> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let (m, n) = (mb.clone(), n.clone());
            std::thread::spawn(move || {
                m.register(our_service(&n, 1000 + i as u16, vec![b_addr]), PROBE_LIMIT)
            })
        })
        .collect();
    for r in regs {
        let id = r.join().unwrap().expect("register");
        assert!(mb.is_registered(id));
    }
    let found = lab.run_on(0, move || {
        let m = std::sync::Arc::new(start(Some(vec![a_addr])));
        let threads: Vec<_> = (0..8)
            .flat_map(|i| [i, i]) // two lookups of each name at once
            .map(|i| {
                let m = m.clone();
                std::thread::spawn(move || {
                    m.resolve(&format!("svc-{i}.{TY}"), Duration::from_secs(3))
                })
            })
            .collect();
        let found: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        m.close().unwrap();
        found
    });
    for (k, r) in found.into_iter().enumerate() {
        let r = r
            .expect("resolve")
            .unwrap_or_else(|| panic!("lookup {k} found nothing"));
        assert_eq!(r.port, 1000 + (k / 2) as u16, "{}", r.instance);
    }
    mb.close().unwrap();
}

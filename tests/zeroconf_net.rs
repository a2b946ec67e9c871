//! The `Zeroconf` object between two private hosts (tests/common/lab.rs):
//! SPEC 3, 4 and 6 end to end over our own engine. Every test runs in
//! private network namespaces and skips cleanly where none can be made.

#[macro_use]
mod common;

use std::net::IpAddr;
use std::time::{Duration, Instant};

use common::lab::Lab;
use ironicmdns::{Config, Error, Properties, Zeroconf};

fn config_on(addr: IpAddr) -> Config {
    Config {
        interfaces: Some(vec![addr]),
        lookup_timeout: Duration::from_secs(2),
        ..Config::default()
    }
}

fn props(pairs: &[(&str, &str)]) -> Properties {
    let mut p = Properties::new();
    for (k, v) in pairs {
        p.set_str(k, v);
    }
    p
}

/// Host B registers, host A looks up: the URL and properties of SPEC 4.
fn register_and_lookup(
    lab: &Lab,
    a_addr: IpAddr,
    b_addr: IpAddr,
    endpoint: &'static str,
    want_url: &'static str,
) {
    let b = lab.run_on(1, move || {
        let mut c = config_on(b_addr);
        c.set("params", "answer:none,foo:bar").unwrap();
        let zc = Zeroconf::new(c).expect("start on B");
        zc.register_service("baremetal", endpoint, Some(&props(&[("answer", "42")])))
            .expect("register on B");
        zc
    });
    let (found, second) = lab.run_on(0, move || {
        let zc = Zeroconf::new(config_on(a_addr)).expect("start on A");
        let found = zc.get_endpoint("baremetal", true, false);
        // SPEC 4.1: the cached record answers at once
        let t = Instant::now();
        let second = zc.get_endpoint("baremetal", true, false);
        let warm = t.elapsed();
        zc.close().unwrap();
        (found, second.map(|r| (r, warm)))
    });
    b.close().unwrap();
    let (url, params) = found.expect("A finds B's service");
    assert_eq!(url, want_url);
    assert_eq!(
        params,
        props(&[("txtvers", "1"), ("answer", "42"), ("foo", "bar")])
    );
    let ((url2, _), warm) = second.unwrap();
    assert_eq!(url2, want_url);
    assert!(
        warm < Duration::from_millis(100),
        "cached lookup took {warm:?}"
    );
}

#[test]
fn register_on_b_lookup_on_a_ipv4() {
    let Some(lab) = lab!() else { return };
    register_and_lookup(
        &lab,
        lab.v4(0),
        lab.v4(1),
        "http://198.18.0.2:6385/baremetal",
        "http://198.18.0.2:6385/baremetal",
    );
}

#[test]
fn register_on_b_lookup_on_a_ipv6() {
    let Some(lab) = lab!() else { return };
    register_and_lookup(
        &lab,
        lab.v6(0),
        lab.v6(1),
        "https://[fd00:99::2]/v1",
        "https://[fd00:99::2]:443/v1",
    );
}

/// Nothing lost: wait_registrations_lost times out empty; a watcher
/// blocked with no timeout wakes empty as soon as close runs.
#[test]
fn wait_registrations_lost_ends_on_timeout_and_close() {
    let Some(lab) = lab!() else { return };
    let b_addr = lab.v4(1);
    let zc = lab.run_on(1, move || {
        let zc = Zeroconf::new(config_on(b_addr)).unwrap();
        zc.register_service("baremetal", "http://198.18.0.2:6385", None)
            .expect("B registers");
        zc
    });
    let t0 = std::time::Instant::now();
    assert_eq!(
        zc.wait_registrations_lost(Some(Duration::from_millis(200))),
        Vec::<String>::new()
    );
    assert!(t0.elapsed() >= Duration::from_millis(200), "returned early");
    assert_eq!(zc.registrations_lost(), Vec::<String>::new());
    let woke_after_close = std::thread::scope(|s| {
        let watcher = s.spawn(|| (zc.wait_registrations_lost(None), std::time::Instant::now()));
        std::thread::sleep(Duration::from_millis(300));
        assert!(
            !watcher.is_finished(),
            "the watcher returned with nothing lost"
        );
        zc.close().unwrap();
        let closed_at = std::time::Instant::now();
        let (lost, woke) = watcher.join().unwrap();
        assert_eq!(lost, Vec::<String>::new(), "close is not a loss");
        woke.saturating_duration_since(closed_at)
    });
    assert!(
        woke_after_close < Duration::from_millis(500),
        "woke {woke_after_close:?} after close"
    );
    assert_eq!(
        zc.wait_registrations_lost(None),
        Vec::<String>::new(),
        "closed: at once"
    );
}

#[test]
fn second_host_gets_a_conflict() {
    let Some(lab) = lab!() else { return };
    let (a_addr, b_addr) = (lab.v4(0), lab.v4(1));
    let b = lab.run_on(1, move || {
        let zc = Zeroconf::new(config_on(b_addr)).unwrap();
        zc.register_service("baremetal", "http://198.18.0.2:6385", None)
            .expect("B registers first");
        zc
    });
    let got = lab.run_on(0, move || {
        let mut c = config_on(a_addr);
        c.registration_attempts = 2;
        let zc = Zeroconf::new(c).unwrap();
        let got = zc.register_service("baremetal", "http://198.18.0.1:6385", None);
        zc.close().unwrap();
        got
    });
    b.close().unwrap();
    match got {
        Err(Error::Conflict(m)) => {
            assert!(m.contains("conflict") && m.contains("baremetal"), "{m}")
        }
        other => panic!("A should lose the name: {other:?}"),
    }
}

#[test]
fn close_withdraws_and_lookups_fail_after() {
    let Some(lab) = lab!() else { return };
    let (a_addr, b_addr) = (lab.v4(0), lab.v4(1));
    let b = lab.run_on(1, move || {
        let zc = Zeroconf::new(config_on(b_addr)).unwrap();
        zc.register_service("inspector", "http://198.18.0.2:5050", None)
            .unwrap();
        zc
    });
    let a = lab.run_on(0, move || {
        let mut c = config_on(a_addr);
        c.lookup_attempts = 1;
        Zeroconf::new(c).unwrap()
    });
    assert_eq!(
        a.get_endpoint("inspector", true, false).unwrap().0,
        "http://198.18.0.2:5050"
    );
    b.close().unwrap();
    b.close().unwrap(); // idempotent
    assert!(matches!(
        b.get_endpoint("inspector", true, false),
        Err(Error::Closed(_))
    ));
    assert!(matches!(
        b.register_service("x", "http://198.18.0.2", None),
        Err(Error::Closed(_))
    ));
    // SPEC 6: goodbyes make A's cache drop the service at once
    std::thread::sleep(Duration::from_millis(500));
    match a.get_endpoint("inspector", true, false) {
        Err(Error::NotFound(m)) => assert!(m.contains("inspector service"), "{m}"),
        other => panic!("withdrawn service still found: {other:?}"),
    }
    a.close().unwrap();
}

#[test]
fn not_found_after_the_attempts() {
    let Some(lab) = lab!() else { return };
    let a_addr = lab.v4(0);
    let (got, took) = lab.run_on(0, move || {
        let mut c = config_on(a_addr);
        c.lookup_attempts = 2;
        c.lookup_timeout = Duration::from_millis(300);
        let zc = Zeroconf::new(c).unwrap();
        let t = Instant::now();
        let got = zc.get_endpoint("identity", true, false);
        (got, t.elapsed())
    });
    match got {
        Err(Error::NotFound(m)) => assert!(m.contains("identity service"), "{m}"),
        other => panic!("{other:?}"),
    }
    // two attempts of 0.3 s and one 0.1 s wait
    assert!(
        took >= Duration::from_millis(700) && took < Duration::from_secs(3),
        "{took:?}"
    );
}

#[test]
fn browse_lists_every_openstack_service() {
    let Some(lab) = lab!() else { return };
    let (a_addr, b_addr) = (lab.v4(0), lab.v4(1));
    let b = lab.run_on(1, move || {
        let zc = Zeroconf::new(config_on(b_addr)).unwrap();
        zc.register_service("baremetal", "http://198.18.0.2:6385", None)
            .unwrap();
        zc.register_service(
            "baremetal-introspection",
            "http://198.18.0.2:5050/v1",
            Some(&props(&[("ipa_debug", "1")])),
        )
        .unwrap();
        zc
    });
    let mut seen = lab.run_on(0, move || {
        let zc = Zeroconf::new(config_on(a_addr)).unwrap();
        zc.browse(Duration::from_secs(2)).unwrap()
    });
    b.close().unwrap();
    seen.sort_by(|x, y| x.service_type.cmp(&y.service_type));
    let got: Vec<(&str, Result<&str, &str>)> = seen
        .iter()
        .map(|s| {
            (
                s.service_type.as_str(),
                s.url.as_deref().map_err(|e| e.as_str()),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("baremetal", Ok("http://198.18.0.2:6385")),
            ("baremetal-introspection", Ok("http://198.18.0.2:5050/v1"))
        ]
    );
    assert_eq!(
        seen[1].params,
        props(&[("txtvers", "1"), ("ipa_debug", "1")])
    );
}

/// The same service type string registers on B, looks up
/// and browses on A, and comes back the same from browse.
#[test]
fn a_service_type_means_the_same_everywhere() {
    let Some(lab) = lab!() else { return };
    let (a_addr, b_addr) = (lab.v4(0), lab.v4(1));
    const TYPES: [&str; 5] = ["a.b", "_x._tcp", "back\\slash", ".", "a..b"];
    let b = lab.run_on(1, move || {
        let zc = Zeroconf::new(config_on(b_addr)).unwrap();
        for (i, st) in TYPES.iter().enumerate() {
            zc.register_service(st, &format!("http://198.18.0.2:{}", 7000 + i), None)
                .unwrap_or_else(|e| panic!("register {st:?}: {e}"));
        }
        zc
    });
    let (found, mut seen) = lab.run_on(0, move || {
        let zc = Zeroconf::new(config_on(a_addr)).unwrap();
        let found: Vec<_> = TYPES
            .iter()
            .map(|st| zc.get_endpoint(st, true, false).map(|(url, _)| url))
            .collect();
        (found, zc.browse(Duration::from_secs(2)).unwrap())
    });
    b.close().unwrap();
    for (i, (st, got)) in TYPES.iter().zip(found).enumerate() {
        assert_eq!(
            got,
            Ok(format!("http://198.18.0.2:{}", 7000 + i)),
            "lookup {st:?}"
        );
    }
    seen.sort_by(|x, y| x.service_type.cmp(&y.service_type));
    let mut want: Vec<&str> = TYPES.to_vec();
    want.sort();
    let got: Vec<&str> = seen.iter().map(|s| s.service_type.as_str()).collect();
    assert_eq!(got, want, "browse gives the types back unchanged");
}

/// An interfaces address no interface has fails at
/// `Zeroconf::new` with Error::Io, instead of a registration that reports
/// success without a probe.
#[test]
fn an_interface_address_nobody_has_fails_at_new() {
    let Some(lab) = lab!() else { return };
    let a_addr = lab.v4(0);
    let got = lab.run_on(0, move || {
        let mut rows = Vec::new();
        for list in ["198.18.0.77", "fd00:99::77"] {
            let mut c = Config::default();
            c.set("interfaces", &format!("{a_addr},{list}")).unwrap();
            rows.push((list, Zeroconf::new(c).map(|_| ())));
        }
        rows
    });
    for (list, got) in got {
        assert!(
            matches!(&got, Err(Error::Io(m)) if m.contains("no interface has the address")),
            "{list}: {got:?}"
        );
    }
}

/// Close from another thread wakes lookups (also while
/// they wait between attempts), browses and waits for losses; each
/// returns Error::Closed well under 100 ms after close began.
#[test]
fn close_from_another_thread_wakes_every_call() {
    let Some(lab) = lab!() else { return };
    let a_addr = lab.v4(0);
    let lates = lab.run_on(0, move || {
        let mut c = config_on(a_addr);
        c.set("lookup_attempts", "10").unwrap();
        c.set("lookup_timeout", "0.05").unwrap();
        let zc = Zeroconf::new(c).unwrap();
        std::thread::scope(|s| {
            let mut calls = Vec::new();
            for i in 0..6 {
                let zc = &zc;
                calls.push(s.spawn(move || {
                    let got = match i % 3 {
                        0 => zc
                            .get_endpoint(&format!("nobody-{i}"), true, false)
                            .map(|_| ()),
                        1 => zc.browse(Duration::from_secs(30)).map(|_| ()),
                        _ => {
                            zc.wait_registrations_lost(Some(Duration::from_secs(30)));
                            if zc.is_closed() {
                                Err(Error::Closed("closed".into()))
                            } else {
                                Ok(())
                            }
                        }
                    };
                    (got, Instant::now())
                }));
            }
            // deep into the attempts: the lookups sit in a doubling wait
            std::thread::sleep(Duration::from_millis(500));
            let closed_at = Instant::now();
            zc.close().unwrap();
            calls
                .into_iter()
                .map(|h| {
                    let (got, at) = h.join().unwrap();
                    (got, at.saturating_duration_since(closed_at))
                })
                .collect::<Vec<_>>()
        })
    });
    for (got, late) in lates {
        assert!(matches!(got, Err(Error::Closed(_))), "{got:?}");
        assert!(
            late < Duration::from_millis(100),
            "returned {late:?} after close"
        );
    }
}

/// The library is quiet by default, but the CLI prints its
/// warnings: a lookup whose only address has no route warns and falls back
/// (SPEC 4.2), and `ironic-mdns lookup` shows the warning on stderr.
#[test]
fn the_cli_prints_the_library_warnings() {
    let Some(lab) = lab!() else { return };
    let (a_addr, b_addr) = (lab.v4(0), lab.v4(1));
    // 198.19.5.5: in the lab range, but no host has a route to it
    let b = lab.run_on(1, move || {
        let zc = Zeroconf::new(config_on(b_addr)).unwrap();
        zc.register_service("unrouted", "http://198.19.5.5:6385", None)
            .unwrap();
        zc
    });
    let out = lab
        .command(0, env!("CARGO_BIN_EXE_ironic-mdns"))
        .args(["lookup", "unrouted", "--interface", &a_addr.to_string()])
        .env_remove("IRONICMDNS_LOG")
        .output()
        .expect("run ironic-mdns");
    b.close().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert_eq!(stdout.lines().next(), Some("http://198.19.5.5:6385"));
    assert!(
        stderr.contains("ironicmdns: warning: ") && stderr.contains("198.19.5.5"),
        "the CLI did not print the warning:\n{stderr}"
    );
}

/// With no interface up (the host's link is down), a
/// registration is not reported as done: nobody could answer its probe.
/// It fails with Error::Registration and leaves nothing pending: when the
/// link comes back, nothing of it is announced.
#[test]
fn no_registered_without_an_interface_to_probe_on() {
    let Some(lab) = lab!() else { return };
    let a_addr = lab.v4(0);
    lab.link_down(1).unwrap();
    let (got, b) = lab.run_on(1, || {
        let zc = Zeroconf::new(Config::default()).expect("start with all interfaces");
        let got = zc.register_service("baremetal", "http://198.18.0.2:6385", None);
        (got, zc)
    });
    assert!(
        matches!(&got, Err(Error::Registration(m)) if m.contains("no interface")),
        "{got:?}"
    );
    lab.link_up(1).unwrap();
    let found = lab.run_on(0, move || {
        let mut c = config_on(a_addr);
        c.lookup_attempts = 1;
        c.lookup_timeout = Duration::from_millis(1500);
        let zc = Zeroconf::new(c).unwrap();
        zc.get_endpoint("baremetal", true, false)
    });
    b.close().unwrap();
    assert!(
        matches!(found, Err(Error::NotFound(_))),
        "a failed registration was published later: {found:?}"
    );
}

//! Cancelling one call with a token (`ironicmdns::Cancel`) between two
//! private hosts (tests/common/lab.rs): every blocking call ends with
//! Error::Cancelled within 50 ms of the trigger, the handle stays usable,
//! a registration cancelled while probing leaves nothing on the wire but
//! its probes, and with `discovery = both` the DNS records it had already
//! added are removed (BIND on host 0). Skips cleanly where no namespace
//! can be made.

#[macro_use]
mod common;
#[path = "dns/servers.rs"]
mod servers;

use std::net::{IpAddr, Ipv4Addr, UdpSocket};
use std::time::{Duration, Instant};

use ironicmdns::{lookup_once_with, Cancel, Config, Error, Zeroconf};

/// The promise of the C header: cancel-to-return.
const PROMPT: Duration = Duration::from_millis(50);

fn config_on(addr: IpAddr) -> Config {
    let mut c = Config {
        interfaces: Some(vec![addr]),
        ..Config::default()
    };
    c.set("lookup_attempts", "10").unwrap();
    c.set("lookup_timeout", "2").unwrap();
    c
}

#[test]
fn every_blocking_call_ends_promptly_and_the_handle_stays_usable() {
    let Some(lab) = lab!() else { return };
    let (a_addr, b_addr) = (lab.v4(0), lab.v4(1));
    // Host B answers nothing but is there to probe against.
    let results = lab.run_on(0, move || {
        let zc = Zeroconf::new(config_on(a_addr)).unwrap();
        let token = Cancel::new();
        let results = std::thread::scope(|s| {
            let mut calls = Vec::new();
            for i in 0..6 {
                let (zc, token) = (&zc, &token);
                calls.push(s.spawn(move || {
                    let t = Some(token);
                    let got = match i {
                        0 => zc.get_endpoint_with("nobody", true, false, t).map(|_| ()),
                        1 => zc.browse_with(Duration::from_secs(30), t).map(|_| ()),
                        2 => zc
                            .wait_registrations_lost_with(Some(Duration::from_secs(30)), t)
                            .map(|_| ()),
                        // still probing when the token fires (~750 ms)
                        3 => zc.register_service_with("probing", "http://198.18.0.1:8080", None, t),
                        4 => lookup_once_with(config_on(a_addr), "nobody", true, false, t)
                            .map(|_| ()),
                        // in the wait between two attempts
                        _ => {
                            let mut c = config_on(a_addr);
                            c.set("lookup_timeout", "0.05").unwrap();
                            c.set("lookup_attempts", "5").unwrap();
                            lookup_once_with(c, "nobody", true, false, t).map(|_| ())
                        }
                    };
                    (i, got, Instant::now())
                }));
            }
            std::thread::sleep(Duration::from_millis(300));
            let at = Instant::now();
            token.trigger();
            calls
                .into_iter()
                .map(|h| {
                    let (i, got, end) = h.join().unwrap();
                    (i, got, end.saturating_duration_since(at))
                })
                .collect::<Vec<_>>()
        });
        // The handle is still usable: a call with a fresh token (and one
        // with the triggered token, which ends at once).
        let again = zc.register_service_with(
            "probing",
            "http://198.18.0.1:8080",
            None,
            Some(&Cancel::new()),
        );
        let t = Instant::now();
        let stale = zc.get_endpoint_with("nobody", true, false, Some(&token));
        let stale_took = t.elapsed();
        (results, again, stale, stale_took, zc)
    });
    let (results, again, stale, stale_took, zc) = results;
    for (i, got, late) in &results {
        assert!(matches!(got, Err(Error::Cancelled(_))), "call {i}: {got:?}");
        assert!(
            *late < PROMPT,
            "call {i} returned {late:?} after the trigger"
        );
        eprintln!("call {i}: cancelled, returned {late:?} after the trigger");
    }
    again.expect("the handle registers after a cancelled call");
    assert!(matches!(stale, Err(Error::Cancelled(_))), "{stale:?}");
    assert!(stale_took < Duration::from_millis(5), "{stale_took:?}");
    // B finds what A registered after the cancel.
    let found = lab.run_on(1, move || {
        let zc = Zeroconf::new(config_on(b_addr)).unwrap();
        zc.get_endpoint("probing", true, false)
    });
    assert_eq!(found.unwrap().0, "http://198.18.0.1:8080");
    lab.run_on(0, move || zc.close().unwrap());
}

/// Every mDNS packet host B hears for `window`, as (is a response, bytes).
fn listen(b_addr: Ipv4Addr, window: Duration) -> Vec<(bool, Vec<u8>)> {
    let s = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 5353)).unwrap();
    s.join_multicast_v4(&Ipv4Addr::new(224, 0, 0, 251), &b_addr)
        .unwrap();
    let until = Instant::now() + window;
    let mut buf = [0u8; 9000];
    let mut seen = Vec::new();
    while let Some(left) = until.checked_duration_since(Instant::now()) {
        s.set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .unwrap();
        if let Ok(n) = s.recv(&mut buf) {
            if n > 2 {
                seen.push((buf[2] & 0x80 != 0, buf[..n].to_vec()));
            }
        }
    }
    seen
}

#[test]
fn a_registration_cancelled_while_probing_leaves_only_its_probes() {
    let Some(lab) = lab!() else { return };
    let (a_addr, b_addr) = (lab.v4(0), lab.v4(1));
    let IpAddr::V4(b4) = b_addr else { panic!("v4") };
    let sniffer = lab.spawn_on(1, move || listen(b4, Duration::from_secs(3)));
    std::thread::sleep(Duration::from_millis(200));
    let (got, late) = lab.run_on(0, move || {
        let zc = Zeroconf::new(config_on(a_addr)).unwrap();
        let token = Cancel::new();
        let t2 = token.clone();
        let trigger = std::thread::spawn(move || {
            // the first probe goes out within 250 ms, the last at ~500 ms
            std::thread::sleep(Duration::from_millis(300));
            let at = Instant::now();
            t2.trigger();
            at
        });
        let got =
            zc.register_service_with("withdrawn", "http://198.18.0.1:8080", None, Some(&token));
        let end = Instant::now();
        let at = trigger.join().unwrap();
        // close() would send goodbyes for anything still registered.
        zc.close().unwrap();
        (got, end.saturating_duration_since(at))
    });
    assert!(matches!(got, Err(Error::Cancelled(_))), "{got:?}");
    assert!(late < PROMPT, "returned {late:?} after the trigger");
    let seen = sniffer.join().unwrap();
    let name = b"withdrawn";
    let ours: Vec<&(bool, Vec<u8>)> = seen
        .iter()
        .filter(|(_, p)| p.windows(name.len()).any(|w| w == name))
        .collect();
    assert!(
        ours.iter().any(|(response, _)| !response),
        "the probes were heard ({} packets)",
        seen.len()
    );
    assert!(
        ours.iter().all(|(response, _)| !response),
        "no announcement and no goodbye for a name never announced: {ours:?}"
    );
}

/// `discovery = both`: the UPDATE is applied in milliseconds, then mDNS
/// probes; a cancel while probing returns at once and the DNS records the
/// call added are removed in the background, without waiting for close.
#[test]
fn a_cancelled_registration_removes_the_dns_records_it_added() {
    let Some(lab) = lab!() else { return };
    if !servers::server_programs(servers::Kind::Bind) {
        return;
    }
    let srv = servers::Server::start(&lab, 0, servers::Kind::Bind);
    let server = srv.v4;
    let before = srv.zone_records(&lab, 1);
    let b_addr = lab.v4(1);
    let (got, late, zc) = lab.run_on(1, move || {
        let mut c = servers::config(server, true);
        c.set("discovery", "both").unwrap();
        c.interfaces = Some(vec![b_addr]);
        let zc = Zeroconf::new(c).unwrap();
        let token = Cancel::new();
        let t2 = token.clone();
        let trigger = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(400));
            let at = Instant::now();
            t2.trigger();
            at
        });
        let got = zc.register_service_with(
            "baremetal",
            "http://198.18.0.2:6385/baremetal",
            None,
            Some(&token),
        );
        let end = Instant::now();
        let at = trigger.join().unwrap();
        (got, end.saturating_duration_since(at), zc)
    });
    assert!(matches!(got, Err(Error::Cancelled(_))), "{got:?}");
    assert!(late < PROMPT, "returned {late:?} after the trigger");
    // The zone held our records (the UPDATE went through before the
    // cancel) and holds them no more soon after, the handle still open.
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut after = srv.zone_records(&lab, 1);
    while after != before && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        after = srv.zone_records(&lab, 1);
    }
    assert_eq!(
        after, before,
        "the cancelled registration's records are gone"
    );
    // ... and the zone did hold them: the server added them, then deleted
    // them (while the handle was still open: close comes below).
    let log = srv.log();
    let added = log.find("adding an RR at 'baremetal._openstack._tcp.mystack.example.test' SRV");
    let deleted = log.find("deleting an RR at baremetal._openstack._tcp.mystack.example.test SRV");
    assert!(
        matches!((added, deleted), (Some(a), Some(d)) if a < d),
        "BIND added our SRV, then deleted it:\n{log}"
    );
    lab.run_on(1, move || zc.close().unwrap());
    srv.stop();
}

/// What a registration that had announced when its cancel was seen gets:
/// `Mdns::withdraw_later` returns at once and the goodbyes (TTL 0) follow
/// on the wire.
#[test]
fn an_announced_registration_withdrawn_later_says_goodbye() {
    use ironicmdns::engine::{Mdns, MdnsOptions};
    use ironicmdns::service::{ServiceInfo, Ttls};
    let Some(lab) = lab!() else { return };
    let (a_addr, b_addr) = (lab.v4(0), lab.v4(1));
    let IpAddr::V4(b4) = b_addr else { panic!("v4") };
    let instance = "announced._openstack._tcp.local.";
    let (mdns, id) = lab.run_on(0, move || {
        let mdns = Mdns::start(MdnsOptions {
            interfaces: Some(vec![a_addr]),
            ..MdnsOptions::default()
        })
        .unwrap();
        let info = ServiceInfo {
            instance: instance.into(),
            service_type: "_openstack._tcp.local.".into(),
            target: instance.into(),
            port: 6385,
            txt: vec![b"txtvers=1".to_vec()],
            addresses: vec![a_addr],
            ttls: Ttls::default(),
        };
        let id = mdns.register(info, Duration::from_secs(5)).unwrap();
        (mdns, id)
    });
    let sniffer = lab.spawn_on(1, move || listen(b4, Duration::from_millis(1500)));
    std::thread::sleep(Duration::from_millis(200));
    let (took, mdns) = lab.run_on(0, move || {
        let t = Instant::now();
        mdns.withdraw_later(id).unwrap();
        (t.elapsed(), mdns)
    });
    assert!(
        took < Duration::from_millis(5),
        "withdraw_later took {took:?}"
    );
    let seen = sniffer.join().unwrap();
    let goodbyes = seen
        .iter()
        .filter(|(response, _)| *response)
        .filter_map(|(_, p)| simple_dns::Packet::parse(p).ok())
        .filter(|p| {
            p.answers.iter().any(|rr| {
                rr.ttl == 0
                    && rr.name.to_string() == instance.trim_end_matches('.')
                    && matches!(rr.rdata, simple_dns::rdata::RData::SRV(_))
            })
        })
        .count();
    assert!(
        goodbyes >= 1,
        "no goodbye for our SRV among {} packets",
        seen.len()
    );
    lab.run_on(0, move || mdns.close().unwrap());
}

/// `zc_get_endpoint_ex` and `zc_lookup_ex` write the flags on success: an
/// mDNS answer without any trust anchor is not validated (0); NULL
/// `flags_out` is allowed.
#[test]
fn the_c_lookups_tell_an_unvalidated_answer() {
    use ironicmdns::capi::cancel::{zc_cancel, zc_cancel_free, zc_cancel_new};
    use ironicmdns::capi::cancellable::{zc_get_endpoint_ex, zc_lookup_ex};
    use ironicmdns::capi::status::ZC_OK;
    use ironicmdns::capi::strings::zc_string_free;
    use ironicmdns::capi::zeroconf::{zc_close, zc_new, zc_zeroconf};
    use std::ffi::{c_char, CStr};
    let Some(lab) = lab!() else { return };
    let b_addr = lab.v4(1);
    let b = lab.run_on(1, move || {
        let zc = Zeroconf::new(config_on(b_addr)).unwrap();
        zc.register_service("baremetal", "http://198.18.0.2:6385/baremetal", None)
            .unwrap();
        zc
    });
    let got = lab.run_on(0, || {
        // The URL a call wrote (None: none), its C string freed.
        let taken = |url: *mut c_char| {
            // SAFETY: NULL or a string the library wrote and nobody freed.
            let text = (!url.is_null()).then(|| {
                unsafe { CStr::from_ptr(url) }
                    .to_string_lossy()
                    .into_owned()
            });
            zc_string_free(url);
            text
        };
        let mut rows = Vec::new();
        let mut token: *mut zc_cancel = std::ptr::null_mut();
        assert_eq!(zc_cancel_new(&mut token), ZC_OK);
        let mut zc: *mut zc_zeroconf = std::ptr::null_mut();
        assert_eq!(zc_new(std::ptr::null(), &mut zc), ZC_OK);
        for with_flags in [true, false] {
            let mut url: *mut c_char = std::ptr::null_mut();
            let mut flags: u32 = 0xdead;
            let flags_out = if with_flags {
                &mut flags as *mut u32
            } else {
                std::ptr::null_mut()
            };
            let st = zc_get_endpoint_ex(
                zc,
                c"baremetal".as_ptr(),
                1,
                0,
                token,
                &mut url,
                std::ptr::null_mut(),
                flags_out,
            );
            rows.push((st, taken(url), flags));
        }
        zc_close(zc);
        let mut url: *mut c_char = std::ptr::null_mut();
        let mut flags: u32 = 0xdead;
        let st = zc_lookup_ex(
            std::ptr::null(),
            c"baremetal".as_ptr(),
            1,
            0,
            std::ptr::null(),
            &mut url,
            std::ptr::null_mut(),
            &mut flags,
        );
        rows.push((st, taken(url), flags));
        zc_cancel_free(token);
        rows
    });
    b.close().unwrap();
    let url = Some("http://198.18.0.2:6385/baremetal".to_string());
    assert_eq!(
        got,
        [
            (ZC_OK, url.clone(), 0),
            (ZC_OK, url.clone(), 0xdead),
            (ZC_OK, url, 0)
        ]
    );
}

//! Unicast DNS-SD against a hostile server (a script of tests/dns started
//! by the test on a private lab host), `discovery = both`, close from
//! another thread, the C ABI, and Avahi's wide-area browser. Host 0
//! (198.18.0.1) runs the server, host 1 (198.18.0.2) our library.

#[macro_use]
mod common;
#[path = "dns/servers.rs"]
mod servers;

use std::time::{Duration, Instant};

use ironicmdns::{Config, Error, Zeroconf};
use servers::{
    config, have, hostile, key_line, props, server_programs, venv_python, Kind, Server, DOMAIN,
    SECRET,
};

/// A hostile server on host 0 answers our signed query in each bad way:
/// each gets its clear status, within the attempts' time, no hang. Under a
/// key, a datagram that is discarded (however broken) is an authentication
/// failure at the end, never "not found"; only silence is.
#[test]
fn hostile_server_answers_are_refused() {
    let Some(lab) = lab!() else { return };
    let Some(py) = venv_python() else { return };
    // (mode, expected error kind, text in the message)
    type Row = (&'static str, fn(&Error) -> bool, &'static str);
    let rows: &[Row] = &[
        ("wrong-mac", |e| matches!(e, Error::Auth(_)), "MAC is wrong"),
        (
            "unsigned",
            |e| matches!(e, Error::Auth(_)),
            "no TSIG signature",
        ),
        ("stale", |e| matches!(e, Error::Auth(_)), "fudge"),
        (
            "wrong-id",
            |e| matches!(e, Error::Auth(_)),
            "wrong message ID",
        ),
        ("truncated", |e| matches!(e, Error::Io(_)), "over TCP"),
        (
            "garbage",
            |e| matches!(e, Error::Auth(_)),
            "unusable response",
        ),
        ("byte", |e| matches!(e, Error::Auth(_)), "unusable response"),
        ("badsig", |e| matches!(e, Error::Auth(_)), "BADSIG"),
        ("silent", |e| matches!(e, Error::NotFound(_)), "timed out"),
        (
            "bad-target",
            |e| matches!(e, Error::NoValidAddress(_)),
            "the target u@h:1/x\\010error forged.example.test. is not a host name",
        ),
    ];
    let mut port = 5300;
    for &(mode, kind_ok, needle) in rows {
        port += 1;
        let mut child = hostile(&lab, &py, port, mode, None);
        let (r, took) = lab.run_on(1, move || {
            let mut c = config("198.18.0.1".parse().unwrap(), true);
            c.set("dns_servers", &format!("198.18.0.1:{port}")).unwrap();
            c.set("lookup_timeout", "0.5").unwrap();
            let zc = Zeroconf::new(c).unwrap();
            let t0 = Instant::now();
            let r = zc.get_endpoint("baremetal", true, false);
            (r, t0.elapsed())
        });
        let e = r.expect_err(mode);
        assert!(kind_ok(&e), "{mode}: {e:?}");
        assert!(e.to_string().contains(needle), "{mode}: {e}");
        assert!(!e.to_string().contains(SECRET), "{mode}: secret in {e}");
        assert!(
            !e.to_string().contains('\n'),
            "{mode}: a raw newline in {e:?}"
        );
        // 2 attempts of 0.5 s at most, with room for a loaded machine
        assert!(took < Duration::from_secs(3), "{mode}: {took:?}");
        assert!(
            child.try_wait().unwrap().is_none(),
            "{mode}: the server checked our signature and stayed up"
        );
        let _ = child.stop(Duration::from_secs(1));
    }
    // the control: the same script answering correctly is accepted
    port += 1;
    let log = std::env::temp_dir().join(format!("ironicmdns-hostile-{}.log", std::process::id()));
    let _ = std::fs::remove_file(&log);
    let mut child = hostile(&lab, &py, port, "good", Some(&log));
    let r = lab.run_on(1, move || {
        let mut c = config("198.18.0.1".parse().unwrap(), true);
        c.set("dns_servers", &format!("198.18.0.1:{port}")).unwrap();
        Zeroconf::new(c)
            .unwrap()
            .get_endpoint("baremetal", true, false)
    });
    assert_eq!(r.unwrap().0, "https://evil.example.test:443");
    // without a trust policy: no DO bit, no DNSKEY query
    let queries = std::fs::read_to_string(&log).unwrap();
    let _ = std::fs::remove_file(&log);
    assert!(!queries.is_empty());
    for q in queries.lines() {
        assert!(q.ends_with(" -") && !q.contains("DNSKEY"), "{queries}");
    }
    // with one: the DO bit on every query; this unsigned server is refused
    let r = lab.run_on(1, move || {
        let mut c = config("198.18.0.1".parse().unwrap(), true);
        c.set("dns_servers", &format!("198.18.0.1:{port}")).unwrap();
        c.set("lookup_timeout", "0.3").unwrap();
        c.trust = Some(ironicmdns::trust::TrustPolicy::new(
            ironicmdns::trust::AnchorSet::parse(
                "example.test. IN DS 12345 13 2 \
                 0000000000000000000000000000000000000000000000000000000000000000",
            )
            .unwrap(),
            ironicmdns::trust::DEFAULT_CLOCK_SKEW,
        ));
        Zeroconf::new(c)
            .unwrap()
            .get_endpoint("baremetal", true, false)
    });
    assert!(
        matches!(&r, Err(Error::Auth(m)) if m.contains("no DNSSEC signature")),
        "{r:?}"
    );
    let queries = std::fs::read_to_string(&log).unwrap();
    let _ = std::fs::remove_file(&log);
    assert!(!queries.is_empty());
    for q in queries.lines() {
        assert!(q.ends_with(" DO"), "{queries}");
    }
    let _ = child.stop(Duration::from_secs(1));
}

/// `discovery = both`: the DNS answer when DNS has one (even while mDNS
/// has another), mDNS when DNS finds nothing, and a forged DNS answer is
/// an error, never replaced by the multicast one.
#[test]
fn discovery_both() {
    let Some(lab) = lab!() else { return };
    if !server_programs(Kind::Bind) {
        return;
    }
    let Some(py) = venv_python() else { return };
    let srv = Server::start(&lab, 0, Kind::Bind);
    let v4 = srv.v4;
    // host 0 publishes over mDNS only: baremetal and identity
    let mdns = lab.run_on(0, move || {
        let mut c = Config::default();
        c.set("interfaces", "198.18.0.1").unwrap();
        let zc = Zeroconf::new(c).unwrap();
        zc.register_service("baremetal", "http://198.18.0.1:1111/mdns", None)
            .unwrap();
        zc.register_service("identity", "http://198.18.0.1:2222/mdns", None)
            .unwrap();
        zc
    });
    // over DNS only baremetal, another URL
    let out = srv.nsupdate(
        &lab,
        1,
        "update add baremetal._openstack._tcp.mystack.example.test. 60 IN SRV 0 0 3333 dns.example.test.\n\
         update add baremetal._openstack._tcp.mystack.example.test. 60 IN TXT \"protocol=http\"\n\
         update add dns.example.test. 60 IN A 198.18.0.1",
    );
    assert!(out.status.success(), "{out:?}");
    let both = move |server: &str| {
        let mut c = config(v4, true);
        c.set("dns_servers", server).unwrap();
        c.set("discovery", "both").unwrap();
        c.set("interfaces", "198.18.0.2").unwrap();
        c
    };
    let (bm, id) = lab.run_on(1, move || {
        let zc = Zeroconf::new(both("198.18.0.1")).unwrap();
        let r = (
            zc.get_endpoint("baremetal", true, false),
            zc.get_endpoint("identity", true, false),
        );
        zc.close().unwrap();
        r
    });
    assert_eq!(bm.unwrap().0, "http://dns.example.test:3333", "DNS wins");
    assert_eq!(
        id.unwrap().0,
        "http://198.18.0.1:2222/mdns",
        "mDNS when DNS has nothing"
    );
    srv.stop();
    let mut hostile = hostile(&lab, &py, 53, "wrong-mac", None);
    let forged = lab.run_on(1, move || {
        let zc = Zeroconf::new(both("198.18.0.1")).unwrap();
        let r = zc.get_endpoint("identity", true, false);
        zc.close().unwrap();
        r
    });
    assert!(matches!(&forged, Err(Error::Auth(_))), "{forged:?}");
    let _ = hostile.stop(Duration::from_secs(1));
    lab.run_on(0, move || mdns.close()).unwrap();
}

/// RFC 8945 s5.4 with `discovery = both` and a key: a forged datagram
/// (one byte, garbage, a wrong ID, an unsigned BADSIG, an unsigned or
/// badly signed answer) from the server's address neither ends the wait
/// nor hands the lookup to mDNS, where a forger on the link (host 0)
/// answers for the same service: the genuine signed answer that follows
/// is returned; forged datagrams alone end in Error::Auth, and the
/// multicast answer is never taken.
#[test]
fn forged_datagrams_neither_end_the_wait_nor_hand_over_to_mdns() {
    let Some(lab) = lab!() else { return };
    let Some(py) = venv_python() else { return };
    let forger = lab.run_on(0, move || {
        let mut c = Config::default();
        c.set("interfaces", "198.18.0.1").unwrap();
        let zc = Zeroconf::new(c).unwrap();
        zc.register_service("baremetal", "http://198.18.0.1:1111/forged", None)
            .unwrap();
        zc
    });
    let lookup = |port: u16| {
        lab.run_on(1, move || {
            let mut c = config("198.18.0.1".parse().unwrap(), true);
            c.set("dns_servers", &format!("198.18.0.1:{port}")).unwrap();
            c.set("discovery", "both").unwrap();
            c.set("interfaces", "198.18.0.2").unwrap();
            c.set("lookup_timeout", "0.5").unwrap();
            let zc = Zeroconf::new(c).unwrap();
            let r = zc.get_endpoint("baremetal", true, false).map(|(u, _)| u);
            zc.close().unwrap();
            r
        })
    };
    let mut port = 5400;
    for forged in [
        "byte",
        "garbage",
        "wrong-id",
        "badsig",
        "unsigned",
        "wrong-mac",
    ] {
        port += 1;
        let mut child = hostile(&lab, &py, port, &format!("{forged}-then-good"), None);
        let r = lookup(port);
        assert_eq!(
            r.as_deref().ok(),
            Some("https://evil.example.test:443"),
            "{forged} then the genuine answer: {r:?}"
        );
        let _ = child.stop(Duration::from_secs(1));
    }
    for forged in ["byte", "badsig"] {
        port += 1;
        let mut child = hostile(&lab, &py, port, forged, None);
        let r = lookup(port);
        assert!(
            matches!(&r, Err(Error::Auth(_))),
            "{forged} only: an authentication failure, not mDNS: {r:?}"
        );
        let _ = child.stop(Duration::from_secs(1));
    }
    // the control: silence falls back to mDNS (docs/DNS.md), where the
    // forger answers, so the test above could have seen it
    port += 1;
    let mut child = hostile(&lab, &py, port, "silent", None);
    assert_eq!(
        lookup(port).unwrap(),
        "http://198.18.0.1:1111/forged",
        "silence falls back"
    );
    let _ = child.stop(Duration::from_secs(1));
    lab.run_on(0, move || forger.close()).unwrap();
}

/// Browse against a hostile domain: a browse-domain PTR owned by another
/// name is not followed, and an instance whose lookups time out costs its
/// own time only: the others are returned.
#[test]
fn browse_skips_what_fails_and_follows_only_the_names_asked() {
    let Some(lab) = lab!() else { return };
    let Some(py) = venv_python() else { return };
    let mut child = hostile(&lab, &py, 5501, "browse", None);
    let (r, took) = lab.run_on(1, || {
        let mut c = config("198.18.0.1".parse().unwrap(), true);
        c.set("dns_servers", "198.18.0.1:5501").unwrap();
        c.set("lookup_timeout", "0.5").unwrap();
        let zc = Zeroconf::new(c).unwrap();
        let t0 = Instant::now();
        let r = zc.browse(Duration::from_millis(100));
        zc.close().unwrap();
        (r, t0.elapsed())
    });
    let found: Vec<(String, Result<String, String>)> = r
        .expect("the browse does not fail for one instance")
        .into_iter()
        .map(|b| (b.service_type, b.url))
        .collect();
    assert_eq!(
        found,
        vec![(
            "baremetal".to_string(),
            Ok("https://evil.example.test:443".to_string())
        )],
        "only the instance that answers, only in the domain asked"
    );
    // the silent instance: 2 attempts of 0.5 s, nothing more
    assert!(took < Duration::from_secs(4), "{took:?}");
    let _ = child.stop(Duration::from_secs(1));
}

/// `close` from another thread wakes a DNS lookup waiting on a silent
/// server: it returns Error::Closed at once, not after its timeouts.
#[test]
fn close_wakes_a_dns_lookup() {
    let Some(lab) = lab!() else { return };
    let Some(py) = venv_python() else { return };
    let mut hostile = hostile(&lab, &py, 53, "silent", None);
    let (r, took) = lab.run_on(1, || {
        let mut c = config("198.18.0.1".parse().unwrap(), true);
        c.set("lookup_timeout", "5").unwrap();
        let zc = Zeroconf::new(c).unwrap();
        std::thread::scope(|s| {
            let t = s.spawn(|| {
                let t0 = Instant::now();
                (zc.get_endpoint("baremetal", true, false), t0.elapsed())
            });
            std::thread::sleep(Duration::from_millis(300));
            zc.close().unwrap();
            t.join().unwrap()
        })
    });
    assert!(matches!(r, Err(Error::Closed(_))), "{r:?}");
    assert!(took < Duration::from_secs(2), "woken: {took:?}");
    let _ = hostile.stop(Duration::from_secs(1));
}

/// Through the C ABI: `zc_options_set` the DNS options, `zc_get_endpoint`
/// finds what nsupdate published; the same call against a forger returns
/// ZC_ERR_AUTH with a detail naming why, and writes no output.
#[test]
fn c_abi_get_endpoint_and_zc_err_auth() {
    use ironicmdns::capi::options::{zc_options_free, zc_options_new, zc_options_set};
    use ironicmdns::capi::status::{ZC_ERR_AUTH, ZC_OK};
    use ironicmdns::capi::strings::zc_string_free;
    use ironicmdns::capi::zeroconf::{zc_close, zc_get_endpoint, zc_last_error, zc_new};
    use std::ffi::{CStr, CString};
    let Some(lab) = lab!() else { return };
    if !server_programs(Kind::Bind) {
        return;
    }
    let Some(py) = venv_python() else { return };
    let srv = Server::start(&lab, 0, Kind::Bind);
    let out = srv.nsupdate(
        &lab,
        1,
        "update add baremetal._openstack._tcp.mystack.example.test. 60 IN SRV 0 0 6385 conductor.example.test.\n\
         update add baremetal._openstack._tcp.mystack.example.test. 60 IN TXT \"path=/baremetal\"\n\
         update add conductor.example.test. 60 IN A 198.18.0.1",
    );
    assert!(out.status.success(), "{out:?}");
    // (status, url or detail)
    let lookup = || -> (i32, String) {
        let c = |s: &str| CString::new(s).unwrap();
        let mut opts = std::ptr::null_mut();
        assert_eq!(zc_options_new(&mut opts), ZC_OK);
        for (k, v) in [
            ("domain", DOMAIN.to_string()),
            ("dns_servers", "198.18.0.1".to_string()),
            ("tsig_key", key_line()),
            ("lookup_timeout", "0.5".to_string()),
        ] {
            assert_eq!(
                zc_options_set(opts, c(k).as_ptr(), c(&v).as_ptr()),
                ZC_OK,
                "{k}"
            );
        }
        let mut zc = std::ptr::null_mut();
        assert_eq!(zc_new(opts, &mut zc), ZC_OK);
        zc_options_free(opts);
        let (mut url, mut props) = (std::ptr::null_mut(), std::ptr::null_mut());
        let st = zc_get_endpoint(zc, c("baremetal").as_ptr(), 1, 0, &mut url, &mut props);
        let text = if st == ZC_OK {
            let u = unsafe { CStr::from_ptr(url) }
                .to_string_lossy()
                .into_owned();
            zc_string_free(url);
            ironicmdns::capi::props::zc_props_free(props);
            u
        } else {
            assert!(url.is_null() && props.is_null(), "no output on failure");
            let mut buf = vec![0u8; 512];
            let n = zc_last_error(zc, buf.as_mut_ptr().cast(), buf.len());
            String::from_utf8_lossy(&buf[..n.min(511)]).into_owned()
        };
        assert_eq!(zc_close(zc), ZC_OK);
        (st, text)
    };
    let got = lab.run_on(1, lookup);
    assert_eq!(
        got,
        (
            ZC_OK,
            "https://conductor.example.test:6385/baremetal".into()
        )
    );
    srv.stop();
    let mut forger = hostile(&lab, &py, 53, "wrong-mac", None);
    let (st, detail) = lab.run_on(1, lookup);
    assert_eq!(st, ZC_ERR_AUTH, "{detail}");
    assert!(detail.contains("MAC is wrong"), "{detail}");
    let text = unsafe { CStr::from_ptr(ironicmdns::capi::status::zc_strerror(st)) };
    assert!(
        text.to_string_lossy().contains("not authenticated"),
        "{text:?}"
    );
    let _ = forger.stop(Duration::from_secs(1));
}

/// Avahi's wide-area browser (`avahi-browse -d DOMAIN`, enable-wide-area
/// pointed at the BIND server) finds what we publish over DNS, resolved
/// to our address host, port and TXT.
#[test]
fn avahi_wide_area_browse_finds_what_we_publish() {
    let Some(lab) = lab!() else { return };
    if !server_programs(Kind::Bind) || !have("avahi-daemon") || !have("avahi-browse") {
        return;
    }
    let srv = Server::start(&lab, 0, Kind::Bind);
    let v4 = srv.v4;
    let zc = lab.run_on(1, move || {
        let zc = Zeroconf::new(config(v4, true)).unwrap();
        zc.register_service(
            "baremetal",
            "http://198.18.0.2:6385/baremetal",
            Some(&props(&[("ipa_debug", "1")])),
        )
        .unwrap();
        zc
    });
    let dir = std::env::temp_dir().join(format!("ironicmdns-avahi-wide-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("resolv.conf"), format!("nameserver {v4}\n")).unwrap();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/avahi_host.sh");
    let start = lab
        .command(1, &script)
        .arg("start")
        .arg(&dir)
        .arg("eth0")
        .env("AVAHI_WIDE_AREA", DOMAIN)
        .output()
        .unwrap();
    assert!(start.status.success(), "{start:?}");
    let browse = lab
        .command(1, "timeout")
        .args([
            "10",
            "avahi-browse",
            "-rtp",
            "-d",
            DOMAIN,
            "_openstack._tcp",
        ])
        .env(
            "DBUS_SYSTEM_BUS_ADDRESS",
            format!("unix:path={}/system_bus_socket", dir.display()),
        )
        .output()
        .unwrap();
    let _ = lab.command(1, &script).arg("stop").arg(&dir).output();
    let text = String::from_utf8_lossy(&browse.stdout).into_owned();
    let resolved: Vec<&str> = text.lines().filter(|l| l.starts_with("=;")).collect();
    assert_eq!(resolved.len(), 1, "{text}\n{browse:?}");
    let f: Vec<&str> = resolved[0].split(';').collect();
    assert_eq!(
        &f[3..9],
        &[
            "baremetal",
            "_openstack._tcp",
            DOMAIN,
            "baremetal.mystack.example.test",
            "198.18.0.2",
            "6385"
        ],
        "{text}"
    );
    for kv in [
        "\"txtvers=1\"",
        "\"ipa_debug=1\"",
        "\"path=/baremetal\"",
        "\"protocol=http\"",
    ] {
        assert!(f[9].contains(kv), "{kv} in {}", f[9]);
    }
    lab.run_on(1, move || zc.close()).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    srv.stop();
}

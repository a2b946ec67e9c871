//! Unicast DNS-SD against real servers (BIND 9 and Knot), started by the
//! tests on private lab hosts (tests/common/lab.rs) and stopped by PID
//! (the hostile server, `discovery = both`, the C ABI and Avahi: in
//! tests/dns_hostile.rs). Host 0 (198.18.0.1, fd00:99::1) runs the server,
//! host 1 (198.18.0.2, fd00:99::2) our library and the peer clients.

#[macro_use]
mod common;
#[path = "dns/servers.rs"]
mod servers;

use std::net::IpAddr;
use std::time::{Duration, Instant};

use common::lab::Lab;
use common::support::register_cli;
use ironicmdns::{Config, Error, Properties, Zeroconf};
use servers::{
    config, key_line, props, server_programs, venv_python, Kind, Server, DOMAIN, SECRET, SRV_NAME,
};

/// We publish on host 1 through the server on host 0; dig, kdig and
/// dnspython (with the key) find our records byte-equal to what mDNS would
/// publish; our own lookup finds the URL back; close removes exactly ours
/// (a record somebody else added stays).
fn we_publish_they_find(lab: &Lab, kind: Kind, server_addr: fn(&Server) -> IpAddr) {
    if !server_programs(kind) {
        return;
    }
    let srv = Server::start(lab, 0, kind);
    let addr = server_addr(&srv);
    // somebody else's records in the same zone and service type
    let out = srv.nsupdate(
        lab,
        1,
        "update add _openstack._tcp.mystack.example.test. 60 IN PTR identity._openstack._tcp.mystack.example.test.\n\
         update add identity._openstack._tcp.mystack.example.test. 60 IN SRV 0 0 5000 keystone.example.test.\n\
         update add identity._openstack._tcp.mystack.example.test. 60 IN TXT \"txtvers=1\"",
    );
    assert!(out.status.success(), "{out:?}");
    let before = srv.zone_records(lab, 1);
    let zc = lab.run_on(1, move || {
        let zc = Zeroconf::new(config(addr, true)).unwrap();
        zc.register_service(
            "baremetal",
            "http://198.18.0.2:6385/baremetal",
            Some(&props(&[("ipa_debug", "1")])),
        )
        .expect("register over DNS");
        zc
    });
    // dig (BIND's client) and kdig (Knot's)
    let dig = srv.dig(lab, 1, &["+short", "SRV", SRV_NAME]);
    assert_eq!(
        String::from_utf8_lossy(&dig.stdout).trim(),
        "0 0 6385 baremetal.mystack.example.test.",
        "{dig:?}"
    );
    let kdig = lab
        .command(1, "kdig")
        .arg(format!("@{}", srv.v4))
        .args(["+short", "TXT", SRV_NAME])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&kdig.stdout).trim(),
        "\"txtvers=1\" \"ipa_debug=1\" \"path=/baremetal\" \"protocol=http\"",
        "the TXT strings mDNS publishes, in order"
    );
    let a = srv.dig(lab, 1, &["+short", "A", "baremetal.mystack.example.test."]);
    assert_eq!(String::from_utf8_lossy(&a.stdout).trim(), "198.18.0.2");
    // dnspython, signed: what the response carries is checked by it
    if let Some(py) = venv_python() {
        let out = lab
            .command(1, &py)
            .arg(servers::scripts().join("dnspy.py"))
            .args(["query", &addr.to_string(), SRV_NAME, "SRV", &key_line()])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "0 0 6385 baremetal.mystack.example.test."
        );
    }
    // our own lookup, signed, from the other host
    let found = lab.run_on(0, move || {
        let zc = Zeroconf::new(config(addr, true)).unwrap();
        let r = zc.get_endpoint("baremetal", true, false);
        zc.close().unwrap();
        r
    });
    assert_eq!(
        found.unwrap(),
        (
            "http://198.18.0.2:6385/baremetal".to_string(),
            props(&[("txtvers", "1"), ("ipa_debug", "1")])
        )
    );
    // browse lists both services
    let browsed = lab.run_on(0, move || {
        let zc = Zeroconf::new(config(addr, true)).unwrap();
        zc.browse(Duration::from_millis(100)).unwrap()
    });
    let mut types: Vec<&str> = browsed.iter().map(|b| b.service_type.as_str()).collect();
    types.sort();
    assert_eq!(types, ["baremetal", "identity"], "{browsed:?}");
    lab.run_on(1, move || zc.close()).unwrap();
    assert_eq!(
        srv.zone_records(lab, 1),
        before,
        "close removes exactly ours ({kind:?})"
    );
    srv.stop();
}

#[test]
fn bind_we_publish_dig_kdig_dnspython_find_it_ipv4() {
    let Some(lab) = lab!() else { return };
    we_publish_they_find(&lab, Kind::Bind, |s| s.v4);
}

#[test]
fn bind_we_publish_dig_kdig_dnspython_find_it_ipv6() {
    let Some(lab) = lab!() else { return };
    we_publish_they_find(&lab, Kind::Bind, |s| s.v6);
}

#[test]
fn knot_we_publish_dig_kdig_dnspython_find_it_ipv4() {
    let Some(lab) = lab!() else { return };
    we_publish_they_find(&lab, Kind::Knot, |s| s.v4);
}

#[test]
fn knot_we_publish_dig_kdig_dnspython_find_it_ipv6() {
    let Some(lab) = lab!() else { return };
    we_publish_they_find(&lab, Kind::Knot, |s| s.v6);
}

/// nsupdate / knsupdate publish (the way an operator would, target a real
/// host name): we find the URL, signed and unsigned, and tell NXDOMAIN,
/// NODATA and silence apart in the error text.
fn they_publish_we_find(lab: &Lab, kind: Kind) {
    if !server_programs(kind) {
        return;
    }
    let srv = Server::start(lab, 0, kind);
    let out = srv.nsupdate(
        lab,
        1,
        "update add _openstack._tcp.mystack.example.test. 60 IN PTR baremetal._openstack._tcp.mystack.example.test.\n\
         update add baremetal._openstack._tcp.mystack.example.test. 60 IN SRV 0 0 6385 conductor.example.test.\n\
         update add baremetal._openstack._tcp.mystack.example.test. 60 IN TXT \"path=/baremetal\" \"protocol=http\" \"ipa_debug=1\"\n\
         update add conductor.example.test. 60 IN A 198.18.0.1\n\
         update add conductor.example.test. 60 IN AAAA fd00:99::1\n\
         update add nodata._openstack._tcp.mystack.example.test. 60 IN TXT \"txtvers=1\"",
    );
    assert!(out.status.success(), "{out:?}");
    let v4 = srv.v4;
    let v6 = srv.v6;
    let (signed, plain, over_v6, nx, nodata, silent) = lab.run_on(1, move || {
        let look = |c: Config, t: &str| {
            let zc = Zeroconf::new(c).unwrap();
            let t0 = Instant::now();
            let r = zc.get_endpoint(t, true, false);
            (r, t0.elapsed())
        };
        let mut one = config(v4, false);
        one.set("lookup_attempts", "1").unwrap();
        let mut silent = config("198.18.0.2".parse().unwrap(), false);
        silent.set("lookup_timeout", "0.3").unwrap();
        (
            look(config(v4, true), "baremetal").0,
            look(config(v4, false), "baremetal").0,
            look(config(v6, true), "baremetal").0,
            look(one.clone(), "identity").0,
            look(one, "nodata").0,
            look(silent, "baremetal"),
        )
    });
    let want = (
        "http://conductor.example.test:6385/baremetal".to_string(),
        props(&[("ipa_debug", "1")]),
    );
    assert_eq!(signed.unwrap(), want);
    assert_eq!(plain.unwrap(), want);
    assert_eq!(over_v6.unwrap(), want);
    let text = |r: Result<(String, Properties), Error>| match r {
        Err(Error::NotFound(m)) => m,
        other => panic!("expected not found, got {other:?}"),
    };
    let nx = text(nx);
    assert!(nx.contains("NXDOMAIN") && nx.contains("identity"), "{nx}");
    let nodata = text(nodata);
    assert!(nodata.contains("NODATA"), "{nodata}");
    let (silent, took) = silent;
    let silent = match silent {
        Err(Error::NotFound(m)) | Err(Error::Io(m)) => m,
        other => panic!("{other:?}"),
    };
    assert!(
        silent.contains("timed out") || silent.contains("refused"),
        "{silent}"
    );
    assert!(took < Duration::from_secs(3), "bounded: {took:?}");
    srv.stop();
}

#[test]
fn bind_nsupdate_publishes_we_find_it() {
    let Some(lab) = lab!() else { return };
    they_publish_we_find(&lab, Kind::Bind);
}

#[test]
fn knot_knsupdate_publishes_we_find_it() {
    let Some(lab) = lab!() else { return };
    they_publish_we_find(&lab, Kind::Knot);
}

/// Another publisher holds the instance: our registration is the same
/// conflict failure as over mDNS, and their records stay as they were.
/// The same data again (a restarted publisher) is taken back.
fn conflict(lab: &Lab, kind: Kind) {
    if !server_programs(kind) {
        return;
    }
    let srv = Server::start(lab, 0, kind);
    let out = srv.nsupdate(
        lab,
        1,
        "update add baremetal._openstack._tcp.mystack.example.test. 60 IN SRV 0 0 6385 other.example.test.",
    );
    assert!(out.status.success(), "{out:?}");
    let before = srv.zone_records(lab, 1);
    let v4 = srv.v4;
    let r = lab.run_on(1, move || {
        let mut c = config(v4, true);
        c.set("registration_attempts", "2").unwrap();
        let zc = Zeroconf::new(c).unwrap();
        zc.register_service("baremetal", "http://198.18.0.2:6385/baremetal", None)
    });
    assert!(
        matches!(&r, Err(Error::Conflict(m)) if m.contains("conflict")),
        "{r:?}"
    );
    assert_eq!(srv.zone_records(lab, 1), before, "theirs untouched");
    // close ends a registration that waits between conflict attempts at
    // once: the waits 0.1 s ... 1.6 s are over by 3.5 s and the 3.2 s one
    // is running
    let (r, late) = lab.run_on(1, move || {
        let mut c = config(v4, true);
        c.set("registration_attempts", "10").unwrap();
        let zc = std::sync::Arc::new(Zeroconf::new(c).unwrap());
        let z = zc.clone();
        let t = std::thread::spawn(move || {
            z.register_service("baremetal", "http://198.18.0.2:6385/baremetal", None)
        });
        std::thread::sleep(Duration::from_millis(3500));
        let closed = Instant::now();
        zc.close().unwrap();
        let r = t.join().unwrap();
        (r, closed.elapsed())
    });
    assert!(matches!(&r, Err(Error::Closed(_))), "{r:?}");
    assert!(
        late < Duration::from_secs(1),
        "the registration ended {late:?} after close"
    );
    assert_eq!(srv.zone_records(lab, 1), before, "theirs untouched");
    // wrong key: refused with the new status, nothing changed
    let r = lab.run_on(1, move || {
        let mut c = config(v4, false);
        c.set("tsig_key", "hmac-sha256:upd.example.test:c2VjcmV0c2VjcmV0")
            .unwrap();
        let zc = Zeroconf::new(c).unwrap();
        zc.register_service("identity", "http://198.18.0.2:5000", None)
    });
    assert!(
        matches!(&r, Err(Error::Auth(m)) if m.contains("BAD")),
        "{r:?}"
    );
    // no key at all: the server refuses
    let r = lab.run_on(1, move || {
        let zc = Zeroconf::new(config(v4, false)).unwrap();
        zc.register_service("identity", "http://198.18.0.2:5000", None)
    });
    assert!(
        matches!(&r, Err(Error::Registration(m)) if m.contains("REFUSED") || m.contains("NOTAUTH")),
        "{r:?}"
    );
    assert_eq!(srv.zone_records(lab, 1), before);
    // a publisher restarted with the same data takes its records back
    let first = lab.run_on(1, move || {
        let zc = Zeroconf::new(config(v4, true)).unwrap();
        zc.register_service("identity", "http://198.18.0.2:5000", None)
            .unwrap();
        zc
    });
    let again = lab.run_on(1, move || {
        let zc = Zeroconf::new(config(v4, true)).unwrap();
        zc.register_service("identity", "http://198.18.0.2:5000", None)
            .map(|_| zc)
    });
    let again = again.expect("same data is ours to take back");
    std::mem::forget(first); // crashed: never withdraws
    lab.run_on(1, move || again.close()).unwrap();
    assert_eq!(srv.zone_records(lab, 1), before);
    srv.stop();
}

#[test]
fn bind_conflict_and_refusals() {
    let Some(lab) = lab!() else { return };
    conflict(&lab, Kind::Bind);
}

#[test]
fn knot_conflict_and_refusals() {
    let Some(lab) = lab!() else { return };
    conflict(&lab, Kind::Knot);
}

/// The records are refreshed before their TTL runs out (the zone's serial
/// moves), and a take-over by another publisher is reported as lost.
#[test]
fn bind_refresh_and_loss() {
    let Some(lab) = lab!() else { return };
    if !server_programs(Kind::Bind) {
        return;
    }
    let srv = Server::start(&lab, 0, Kind::Bind);
    let v4 = srv.v4;
    let publisher = lab.run_on(1, move || {
        let c = config(v4, true);
        let client = ironicmdns::dns::Client::from_config(&c).unwrap().unwrap();
        let p = ironicmdns::dns::Publisher::with_ttl(client, 2);
        let ep = ironicmdns::endpoint::parse_endpoint("http://198.18.0.2:6385").unwrap();
        let info = ironicmdns::endpoint::service_info(
            "baremetal",
            &ep,
            vec!["198.18.0.2".parse().unwrap()],
            &Properties::new(),
            None,
        )
        .unwrap();
        p.register("baremetal", &info).unwrap();
        p
    });
    // Somebody removes our PTR: the refresh (at 80 % of the 2 s TTL)
    // puts it back, as the records' value prerequisites still hold.
    let ptr = || {
        let o = srv.dig(
            &lab,
            1,
            &["+short", "PTR", "_openstack._tcp.mystack.example.test."],
        );
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    };
    assert_eq!(ptr(), SRV_NAME);
    let out = srv.nsupdate(
        &lab,
        1,
        "update delete _openstack._tcp.mystack.example.test. PTR baremetal._openstack._tcp.mystack.example.test.",
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(ptr(), "");
    let until = Instant::now() + Duration::from_secs(5);
    while ptr().is_empty() {
        assert!(Instant::now() < until, "not refreshed within 5 s");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(ptr(), SRV_NAME, "refreshed");
    assert!(publisher.lost().is_empty());
    // somebody else takes the instance over
    let out = srv.nsupdate(
        &lab,
        1,
        "update delete baremetal._openstack._tcp.mystack.example.test. SRV\n\
         update add baremetal._openstack._tcp.mystack.example.test. 60 IN SRV 0 0 1 thief.example.test.",
    );
    assert!(out.status.success(), "{out:?}");
    let lost = publisher.wait_lost(Some(Duration::from_secs(5)));
    assert_eq!(lost, vec![SRV_NAME.to_string()]);
    // what was still exactly ours (TXT, A, the owner marker) is removed
    // with the loss; the thief's SRV and the PTR naming the instance stay
    let short = |name: &str, rtype: &str| {
        let o = srv.dig(&lab, 1, &["+short", rtype, name]);
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    };
    let marker = format!("_zc-owner.{SRV_NAME}");
    for (name, rtype) in [
        (SRV_NAME, "TXT"),
        ("baremetal.mystack.example.test.", "A"),
        (marker.as_str(), "TXT"),
    ] {
        assert_eq!(short(name, rtype), "", "{name} {rtype} left after the loss");
    }
    assert_eq!(ptr(), SRV_NAME);
    lab.run_on(1, move || publisher.close());
    let dig = srv.dig(&lab, 1, &["+short", "SRV", SRV_NAME]);
    assert_eq!(
        String::from_utf8_lossy(&dig.stdout).trim(),
        "0 0 1 thief.example.test.",
        "the thief's record is not ours to remove"
    );
    srv.stop();
}

/// The "Done when", by the command line: `ironic-mdns register ...
/// --domain --dns-server --tsig-key-file` on one host makes `dig` on
/// another find our SRV; after SIGTERM the zone holds none of our records;
/// `ironic-mdns lookup` finds what nsupdate published and refuses a forged
/// answer (exit 1, "authentication failed").
fn cli_done_when(lab: &Lab, kind: Kind) {
    if !server_programs(kind) {
        return;
    }
    let srv = Server::start(lab, 0, kind);
    let before = srv.zone_records(lab, 1);
    let keydir =
        std::env::temp_dir().join(format!("ironicmdns-clikey-{}-{kind:?}", std::process::id()));
    std::fs::create_dir_all(&keydir).unwrap();
    let keyfile = keydir.join("client.key");
    std::fs::write(
        &keyfile,
        format!(
            "key \"{}\" {{\n\talgorithm hmac-sha256;\n\tsecret \"{SECRET}\";\n}};\n",
            servers::KEY_NAME
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&keyfile, std::fs::Permissions::from_mode(0o600)).unwrap();
    let bin = env!("CARGO_BIN_EXE_ironic-mdns");
    let dns_args = |srv_addr: String| -> Vec<String> {
        vec![
            "--domain".into(),
            DOMAIN.into(),
            "--dns-server".into(),
            srv_addr,
            "--tsig-key-file".into(),
            keyfile.display().to_string(),
            "--lookup-timeout".into(),
            "1".into(),
        ]
    };
    let mut reg = register_cli(
        lab,
        1,
        "http://198.18.0.2:6385/baremetal",
        dns_args(srv.v4.to_string()),
    );
    let dig = srv.dig(lab, 0, &["+short", "SRV", SRV_NAME]);
    assert_eq!(
        String::from_utf8_lossy(&dig.stdout).trim(),
        "0 0 6385 baremetal.mystack.example.test.",
        "{kind:?}"
    );
    // lookup over IPv6 from the server's host
    let look = lab
        .command(0, bin)
        .args(["lookup", "baremetal"])
        .args(dns_args(format!("[{}]:53", srv.v6)))
        .output()
        .unwrap();
    assert!(look.status.success(), "{look:?}");
    assert_eq!(
        String::from_utf8_lossy(&look.stdout),
        "http://198.18.0.2:6385/baremetal\ntxtvers=1\n"
    );
    let status = reg.stop(Duration::from_secs(10)).unwrap();
    assert!(status.success(), "{status:?}");
    assert_eq!(srv.zone_records(lab, 0), before, "nothing of ours left");
    // nsupdate publishes; we find it
    let out = srv.nsupdate(
        lab,
        0,
        "update add identity._openstack._tcp.mystack.example.test. 60 IN SRV 0 0 5000 keystone.example.test.\n\
         update add identity._openstack._tcp.mystack.example.test. 60 IN TXT \"txtvers=1\" \"path=/identity\"\n\
         update add keystone.example.test. 60 IN A 198.18.0.1",
    );
    assert!(out.status.success(), "{out:?}");
    let look = lab
        .command(1, bin)
        .args(["lookup", "identity", "--json"])
        .args(dns_args(srv.v4.to_string()))
        .output()
        .unwrap();
    assert!(look.status.success(), "{look:?}");
    assert_eq!(
        String::from_utf8_lossy(&look.stdout),
        "{\"url\": \"https://keystone.example.test:5000/identity\", \"params\": {\"txtvers\": \"1\"}, \"validated\": false}\n"
    );
    srv.stop();
    // a forged answer (signed with another secret) is refused
    if let Some(py) = venv_python() {
        let mut hostile = servers::hostile(lab, &py, 53, "wrong-mac", None);
        let look = lab
            .command(1, bin)
            .args(["lookup", "identity"])
            .args(dns_args("198.18.0.1".into()))
            .output()
            .unwrap();
        assert_eq!(look.status.code(), Some(1), "{look:?}");
        let err = String::from_utf8_lossy(&look.stderr);
        assert!(
            err.contains("authentication failed") && err.contains("MAC is wrong"),
            "{err}"
        );
        assert!(look.stdout.is_empty(), "no endpoint printed");
        let _ = hostile.stop(Duration::from_secs(1));
    }
    let _ = std::fs::remove_dir_all(&keydir);
}

#[test]
fn bind_cli_register_dig_sigterm_lookup_forged() {
    let Some(lab) = lab!() else { return };
    cli_done_when(&lab, Kind::Bind);
}

#[test]
fn knot_cli_register_dig_sigterm_lookup_forged() {
    let Some(lab) = lab!() else { return };
    cli_done_when(&lab, Kind::Knot);
}

//! Unicast DNS publishing under attack and after crashes, and the TSIG
//! key options, against real servers (BIND 9, Knot) and small fakes and
//! proxies, all on private lab hosts (tests/common/lab.rs), started and
//! stopped by PID. Host 0 (198.18.0.1) runs the server, host 1
//! (198.18.0.2) our library and the CLI. docs/DNS.md describes the
//! behaviour (the owner marker, SERVFAIL retries, withdrawals).

#[macro_use]
mod common;
#[path = "dns/servers.rs"]
mod servers;

use std::net::IpAddr;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::lab::Lab;
use ironicmdns::{Config, Error, Properties, Zeroconf};
use servers::{config, key_line, server_programs, Kind, Server, DOMAIN, SECRET, SRV_NAME};

/// Key options on the command line: parts swapped (`--tsig-key
/// SECRET:name`), a long secret as the name, an empty `--tsig-key` beside
/// `--tsig-key-file`, a key file that is /dev/zero. Each is refused (exit
/// 64, a usage error) before anything is sent, the secret nowhere in the output, and the
/// run never hangs. Run on a lab host, so that nothing could reach the
/// machine's network even if a check let one through.
#[test]
fn cli_key_options_refused_without_echo() {
    let Some(lab) = lab!() else { return };
    let bin = env!("CARGO_BIN_EXE_ironic-mdns");
    let dir = std::env::temp_dir().join(format!("ironicmdns-clikeyopt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let keyfile = dir.join("client.key");
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
    let kf = keyfile.display().to_string();
    let long = "Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MEFCQ0RFRg==";
    // (extra arguments, what the error says, the secret that must not show)
    let rows: Vec<(Vec<String>, &str, &str)> = vec![
        (
            vec![
                "--tsig-key".into(),
                format!("{SECRET}:{}", servers::KEY_NAME),
            ],
            "tsig_key",
            SECRET,
        ),
        (
            vec!["--tsig-key".into(), format!("hmac-sha256:{long}:{SECRET}")],
            "tsig_key",
            long,
        ),
        (
            vec![
                "--tsig-key-file".into(),
                kf.clone(),
                "--tsig-key".into(),
                String::new(),
            ],
            "empty",
            SECRET,
        ),
        (
            vec!["--tsig-key-file".into(), "/dev/zero".into()],
            "not a regular file",
            SECRET,
        ),
    ];
    for (extra, want, secret) in rows {
        let mut cmd = lab.command(1, bin);
        cmd.args(["lookup", "baremetal", "--domain", DOMAIN])
            .args(["--dns-server", "198.18.0.1", "--lookup-timeout", "1"])
            .args(&extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = lab.spawn(&mut cmd).unwrap();
        let until = Instant::now() + Duration::from_secs(10);
        while child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < until, "{extra:?}: the CLI hangs");
            std::thread::sleep(Duration::from_millis(20));
        }
        let out = child.stop(Duration::from_secs(1)).unwrap();
        let mut stderr = String::new();
        use std::io::Read;
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        assert_eq!(out.code(), Some(64), "{extra:?}: {stderr}");
        assert!(stderr.contains(want), "{extra:?}: {stderr}");
        assert!(
            !stderr.contains(secret) && !stderr.contains(&secret[..10]),
            "{extra:?}: the secret shown: {stderr}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A reply to `req` (QR, AA, the request's opcode and question) with
/// `rcode`; with `soa`, an SOA answer owned by the question's name.
fn fake_reply(req: &[u8], rcode: u8, soa: bool) -> Vec<u8> {
    let mut q_end = 12;
    while req[q_end] != 0 {
        q_end += 1 + req[q_end] as usize;
    }
    q_end += 5;
    let mut out = req[..2].to_vec();
    out.push(0x80 | (req[2] & 0x78) | 0x04);
    out.push(rcode);
    out.extend_from_slice(&[0, 1, 0, soa as u8, 0, 0, 0, 0]);
    out.extend_from_slice(&req[12..q_end]);
    if soa {
        out.extend_from_slice(&[0xC0, 0x0C, 0, 6, 0, 1, 0, 0, 0, 60, 0, 22, 0, 0]);
        for v in [1u32, 3600, 600, 86400, 60] {
            out.extend_from_slice(&v.to_be_bytes());
        }
    }
    out
}

/// A server that has just started answers SERVFAIL (BIND does so to
/// signed requests in its first moments): the SOA query that finds the
/// zone and the UPDATE are each asked again within the attempts, not taken
/// as the end of the registration. A fake server on host 0 answers the
/// first query and the first UPDATE with SERVFAIL, then the genuine answer.
#[test]
fn servfail_is_retried_within_the_attempts() {
    let Some(lab) = lab!() else { return };
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let halt = stop.clone();
    // The client starts once the socket is bound: a query sent before
    // would be refused (port unreachable), not answered.
    let (bound, listening) = std::sync::mpsc::channel();
    let server = lab.spawn_on(0, move || {
        let sock = std::net::UdpSocket::bind("198.18.0.1:53").unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        bound.send(()).unwrap();
        let mut seen: Vec<(u8, u8)> = Vec::new();
        let mut buf = [0u8; 4096];
        while !halt.load(std::sync::atomic::Ordering::SeqCst) {
            let Ok((n, from)) = sock.recv_from(&mut buf) else {
                continue;
            };
            let req = &buf[..n];
            let opcode = (req[2] >> 3) & 0xF;
            let first = !seen.iter().any(|s| s.0 == opcode);
            let rcode = if first { 2 } else { 0 };
            seen.push((opcode, rcode));
            let soa = opcode == 0 && !first;
            sock.send_to(&fake_reply(req, rcode, soa), from).unwrap();
        }
        seen
    });
    listening.recv_timeout(Duration::from_secs(10)).unwrap();
    let r = lab.run_on(1, move || {
        let c = servers::config("198.18.0.1".parse().unwrap(), false);
        let zc = Zeroconf::new(c).unwrap();
        let r = zc.register_service("baremetal", "http://198.18.0.2:6385/baremetal", None);
        std::mem::forget(zc); // no withdrawal: only the registration counts
        r
    });
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let seen = server.join().unwrap();
    assert!(r.is_ok(), "{r:?}; the server saw {seen:?}");
    // (opcode, RCODE answered): query SERVFAIL, query, UPDATE SERVFAIL, UPDATE
    assert_eq!(seen, [(0, 2), (0, 0), (5, 2), (5, 0)]);
}

/// Registrations right after BIND came up (it answers SERVFAIL to signed
/// requests in its first moments): each one succeeds, three starts in a
/// row.
#[test]
fn bind_registration_right_after_start() {
    let Some(lab) = lab!() else { return };
    if !server_programs(Kind::Bind) {
        return;
    }
    for round in 0..3 {
        let srv = Server::start(&lab, 0, Kind::Bind);
        let v4 = srv.v4;
        let r = lab.run_on(1, move || {
            let zc = Zeroconf::new(config(v4, true)).unwrap();
            let r = zc.register_service("baremetal", "http://198.18.0.2:6385/baremetal", None);
            let _ = zc.close();
            r
        });
        assert!(r.is_ok(), "round {round}: {r:?}\n{}", srv.log());
        srv.stop();
    }
}

/// The records the zone holds at `name` of `rtype`, sorted (dig +short).
fn dig_set(srv: &Server, lab: &Lab, name: &str, rtype: &str) -> Vec<String> {
    let o = srv.dig(lab, 1, &["+short", rtype, name]);
    let mut v: Vec<String> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    v.sort();
    v
}

/// A publisher killed with SIGKILL leaves its records (DNS has no lease).
/// Restarted on the same host (same owner id) with another URL, it
/// registers in its first attempt and the zone shows only the new data;
/// the same instance from another owner id, and a name that nsupdate
/// holds, stay a name conflict: nothing of theirs is taken.
fn crash_restart(lab: &Lab, kind: Kind) {
    if !server_programs(kind) {
        return;
    }
    let srv = Server::start(lab, 0, kind);
    let before = srv.zone_records(lab, 1);
    let bin = env!("CARGO_BIN_EXE_ironic-mdns");
    let key = key_line();
    let v4 = srv.v4.to_string();
    let cli = |owner: &str, args: &[&str]| {
        let mut c = lab.command(1, bin);
        c.args(args)
            .args(["--domain", DOMAIN, "--dns-server", &v4, "--tsig-key", &key])
            .args(["--lookup-timeout", "1", "--registration-attempts", "1"])
            .env("IRONICMDNS_HOST_ID", owner)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    };
    let mut first = lab
        .spawn(&mut cli(
            "host-a",
            &["register", "baremetal", "http://198.18.0.2:6385/baremetal"],
        ))
        .unwrap();
    assert!(first.first_line().starts_with("registered"), "{kind:?}");
    assert_eq!(
        dig_set(&srv, lab, SRV_NAME, "SRV"),
        ["0 0 6385 baremetal.mystack.example.test."]
    );
    first.kill().unwrap(); // SIGKILL: no withdrawal
    first.wait().unwrap();
    let host = "baremetal.mystack.example.test.";
    assert_eq!(dig_set(&srv, lab, host, "A"), ["198.18.0.2"], "left behind");
    // another owner id: a conflict, nothing changed
    let other = cli(
        "host-b",
        &["register", "baremetal", "http://198.18.0.2:7000/other"],
    )
    .output()
    .unwrap();
    assert_eq!(other.status.code(), Some(2), "{other:?}");
    assert!(
        String::from_utf8_lossy(&other.stderr).contains("conflict"),
        "{other:?}"
    );
    assert_eq!(dig_set(&srv, lab, host, "A"), ["198.18.0.2"]);
    // the same owner, restarted with a new address, port and path
    let started = Instant::now();
    let mut again = lab
        .spawn(&mut cli(
            "host-a",
            &["register", "baremetal", "http://198.18.0.9:6390/v2"],
        ))
        .unwrap();
    let line = again.first_line();
    assert_eq!(
        line.trim(),
        "registered baremetal at http://198.18.0.9:6390/v2",
        "{kind:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        dig_set(&srv, lab, SRV_NAME, "SRV"),
        ["0 0 6390 baremetal.mystack.example.test."]
    );
    assert_eq!(dig_set(&srv, lab, host, "A"), ["198.18.0.9"]);
    let txt = dig_set(&srv, lab, SRV_NAME, "TXT");
    assert!(
        txt.len() == 1 && txt[0].contains("path=/v2") && !txt[0].contains("/baremetal"),
        "{txt:?}"
    );
    assert_eq!(
        dig_set(&srv, lab, &format!("_zc-owner.{SRV_NAME}"), "TXT").len(),
        1,
        "one owner marker"
    );
    // a name nsupdate holds is not taken, whoever asks
    let out = srv.nsupdate(
        lab,
        1,
        "update add identity._openstack._tcp.mystack.example.test. 60 IN SRV 0 0 5000 keystone.example.test.",
    );
    assert!(out.status.success(), "{out:?}");
    let taken = cli(
        "host-a",
        &["register", "identity", "http://198.18.0.2:5000"],
    )
    .output()
    .unwrap();
    assert_eq!(taken.status.code(), Some(2), "{taken:?}");
    assert_eq!(
        dig_set(
            &srv,
            lab,
            "identity._openstack._tcp.mystack.example.test.",
            "SRV"
        ),
        ["0 0 5000 keystone.example.test."]
    );
    let out = srv.nsupdate(
        lab,
        1,
        "update delete identity._openstack._tcp.mystack.example.test. SRV",
    );
    assert!(out.status.success(), "{out:?}");
    // SIGTERM: the restarted publisher withdraws all of it
    let status = again.stop(Duration::from_secs(10)).unwrap();
    assert!(status.success(), "{status:?}");
    assert_eq!(srv.zone_records(lab, 1), before, "{kind:?}: nothing left");
    srv.stop();
}

#[test]
fn bind_crash_restart_takes_back_its_own_only() {
    let Some(lab) = lab!() else { return };
    crash_restart(&lab, Kind::Bind);
}

#[test]
fn knot_crash_restart_takes_back_its_own_only() {
    let Some(lab) = lab!() else { return };
    crash_restart(&lab, Kind::Knot);
}

/// The refresh puts back what is ours and missing: two publishers with
/// the same data (one host), the first one closing removes the records,
/// and the other one re-adds them at its refresh instead of reporting the
/// registration lost; the same after somebody deletes SRV, TXT and A.
fn refresh_restores(lab: &Lab, kind: Kind) {
    if !server_programs(kind) {
        return;
    }
    let srv = Server::start(lab, 0, kind);
    let v4 = srv.v4;
    let publisher = move || {
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
    };
    let one = lab.run_on(1, publisher);
    let two = lab.run_on(1, publisher);
    let host = "baremetal.mystack.example.test.";
    let present = || {
        !dig_set(&srv, lab, SRV_NAME, "SRV").is_empty()
            && !dig_set(&srv, lab, SRV_NAME, "TXT").is_empty()
            && dig_set(&srv, lab, host, "A") == ["198.18.0.2"]
    };
    assert!(present());
    lab.run_on(1, move || one.close());
    assert!(dig_set(&srv, lab, SRV_NAME, "SRV").is_empty(), "withdrawn");
    let wait_back = |what: &str| {
        let until = Instant::now() + Duration::from_secs(5);
        while !present() {
            assert!(Instant::now() < until, "{what}: not restored within 5 s");
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    wait_back("after the other publisher's close");
    let out = srv.nsupdate(
        lab,
        1,
        &format!(
            "update delete {SRV_NAME} SRV\nupdate delete {SRV_NAME} TXT\nupdate delete {host} A"
        ),
    );
    assert!(out.status.success(), "{out:?}");
    assert!(!present());
    wait_back("after a deletion");
    assert!(two.lost().is_empty(), "{:?}", two.lost());
    let before_close = srv.zone_records(lab, 1);
    assert!(before_close.iter().any(|r| r.contains("_zc-owner")));
    lab.run_on(1, move || two.close());
    let left = srv.zone_records(lab, 1);
    assert!(
        !left.iter().any(|r| r.contains("baremetal")),
        "nothing of ours left: {left:?}"
    );
    srv.stop();
}

#[test]
fn bind_refresh_restores_what_is_ours() {
    let Some(lab) = lab!() else { return };
    refresh_restores(&lab, Kind::Bind);
}

#[test]
fn knot_refresh_restores_what_is_ours() {
    let Some(lab) = lab!() else { return };
    refresh_restores(&lab, Kind::Knot);
}

/// What the proxy in front of the server does with one UPDATE.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Act {
    /// Forward it and relay the answer.
    Forward,
    /// Forward it (the server applies it) and relay the answer this late.
    Late(Duration),
    /// Answer at once with an unsigned forged BADKEY; the server never
    /// sees the request.
    ForgeBadkey,
}

/// An unsigned BADKEY answer to `req` (NOTAUTH, a TSIG record with an
/// empty MAC, RFC 8945 s5.2), as an off-path forger would send it.
fn forged_badkey(req: &[u8]) -> Vec<u8> {
    let mut end = 12;
    while req[end] != 0 {
        end += 1 + req[end] as usize;
    }
    end += 5;
    let mut out = req[..2].to_vec();
    out.push(0x80 | (req[2] & 0x78));
    out.push(9);
    out.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 1]);
    out.extend_from_slice(&req[12..end]);
    let name = |n: &str| {
        let mut w = Vec::new();
        for l in n.split('.').filter(|l| !l.is_empty()) {
            w.push(l.len() as u8);
            w.extend_from_slice(l.as_bytes());
        }
        w.push(0);
        w
    };
    out.extend_from_slice(&name(servers::KEY_NAME));
    out.extend_from_slice(&[0, 250, 0, 255, 0, 0, 0, 0]);
    let mut rd = name("hmac-sha256");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    rd.extend_from_slice(&now.to_be_bytes()[2..]);
    rd.extend_from_slice(&300u16.to_be_bytes());
    rd.extend_from_slice(&[0, 0]); // MAC size 0
    rd.extend_from_slice(&req[..2]);
    rd.extend_from_slice(&17u16.to_be_bytes()); // BADKEY
    rd.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&(rd.len() as u16).to_be_bytes());
    out.extend_from_slice(&rd);
    out
}

/// A UDP and TCP proxy on host 0 at 198.18.0.1:5300 in front of the server at
/// `upstream`: queries are relayed; each UPDATE is handled by `act(nth
/// UPDATE, its prerequisite count)` (a withdrawal has one prerequisite,
/// our marker). Returns the stop flag and the thread, which yields the
/// (prerequisite count, act) of every UPDATE.
#[allow(clippy::type_complexity)]
fn proxy(
    lab: &Lab,
    upstream: IpAddr,
    act: fn(usize, u16) -> Act,
) -> (
    std::sync::Arc<std::sync::atomic::AtomicBool>,
    std::thread::JoinHandle<Vec<(u16, Act)>>,
) {
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let halt = stop.clone();
    // Returned once both sockets are bound (a query before would be
    // refused).
    let (bound, listening) = std::sync::mpsc::channel();
    let t = lab.spawn_on(0, move || {
        use std::io::{Read, Write};
        let sock = std::net::UdpSocket::bind("198.18.0.1:5300").unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(20)))
            .unwrap();
        let tcp = std::net::TcpListener::bind("198.18.0.1:5300").unwrap();
        tcp.set_nonblocking(true).unwrap();
        bound.send(()).unwrap();
        let mut seen = Vec::new();
        // The answer to relay for `req` (None: none), after `act`.
        let mut handle = |req: &[u8], over_tcp: bool| -> Option<Vec<u8>> {
            let a = match (req[2] >> 3) & 0xF {
                5 => {
                    let pre = u16::from_be_bytes([req[6], req[7]]);
                    let a = act(seen.len(), pre);
                    seen.push((pre, a));
                    a
                }
                _ => Act::Forward,
            };
            if a == Act::ForgeBadkey {
                return Some(forged_badkey(req));
            }
            let answer = if over_tcp {
                let mut up = std::net::TcpStream::connect((upstream, 53)).ok()?;
                up.set_read_timeout(Some(Duration::from_secs(3))).ok()?;
                up.write_all(&(req.len() as u16).to_be_bytes()).ok()?;
                up.write_all(req).ok()?;
                let mut len = [0u8; 2];
                up.read_exact(&mut len).ok()?;
                let mut b = vec![0u8; u16::from_be_bytes(len) as usize];
                up.read_exact(&mut b).ok()?;
                b
            } else {
                let up = std::net::UdpSocket::bind("198.18.0.1:0").ok()?;
                up.set_read_timeout(Some(Duration::from_secs(3))).ok()?;
                up.send_to(req, (upstream, 53)).ok()?;
                let mut b = vec![0u8; 65535];
                let m = up.recv(&mut b).ok()?;
                b.truncate(m);
                b
            };
            if let Act::Late(d) = a {
                std::thread::sleep(d);
            }
            Some(answer)
        };
        let mut buf = [0u8; 4096];
        while !halt.load(std::sync::atomic::Ordering::SeqCst) {
            if let Ok((n, from)) = sock.recv_from(&mut buf) {
                if let Some(a) = handle(&buf[..n], false) {
                    let _ = sock.send_to(&a, from);
                }
            }
            if let Ok((mut conn, _)) = tcp.accept() {
                conn.set_nonblocking(false).unwrap();
                conn.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
                let mut len = [0u8; 2];
                if conn.read_exact(&mut len).is_err() {
                    continue;
                }
                let mut req = vec![0u8; u16::from_be_bytes(len) as usize];
                if conn.read_exact(&mut req).is_err() {
                    continue;
                }
                if let Some(a) = handle(&req, true) {
                    let _ = conn.write_all(&(a.len() as u16).to_be_bytes());
                    let _ = conn.write_all(&a);
                }
            }
        }
        seen
    });
    listening.recv_timeout(Duration::from_secs(10)).unwrap();
    (stop, t)
}

fn via_proxy(key: bool) -> Config {
    let mut c = config("198.18.0.1".parse().unwrap(), key);
    c.set("dns_servers", "198.18.0.1:5300").unwrap();
    c
}

/// An unsigned forged BADKEY answering the withdrawal at close does not
/// end it: close sends the withdrawal again within its attempts and our
/// records are gone. (With the exchange discarding unsigned answers to a
/// signed request, the forged datagram is ignored and the retransmission
/// gets through; without it, close's own retry does.)
#[test]
fn bind_forged_badkey_during_close_still_withdraws() {
    let Some(lab) = lab!() else { return };
    if !server_programs(Kind::Bind) {
        return;
    }
    let srv = Server::start(&lab, 0, Kind::Bind);
    let before = srv.zone_records(&lab, 1);
    // UPDATE 0 registers; UPDATE 1, the withdrawal (one prerequisite),
    // is answered by the forger and never reaches the server
    let (stop, t) = proxy(&lab, srv.v4, |n, pre| match (n, pre) {
        (1, 1) => Act::ForgeBadkey,
        _ => Act::Forward,
    });
    lab.run_on(1, move || {
        let zc = Zeroconf::new(via_proxy(true)).unwrap();
        zc.register_service("baremetal", "http://198.18.0.2:6385/baremetal", None)
            .unwrap();
        zc.close().unwrap();
    });
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let seen = t.join().unwrap();
    assert!(seen.iter().any(|s| s.1 == Act::ForgeBadkey), "{seen:?}");
    assert_eq!(srv.zone_records(&lab, 1), before, "withdrawn: {seen:?}");
    srv.stop();
}

/// A registration whose UPDATE the server applied but whose answer comes
/// only after close began is withdrawn, not left in the zone: through the
/// publisher (close finds nothing yet; the late registration is withdrawn
/// as it completes, the call says closed) and through `Zeroconf` (close
/// cancels the exchange; the cancelled UPDATE is withdrawn).
#[test]
fn bind_registration_meeting_close_is_withdrawn() {
    let Some(lab) = lab!() else { return };
    if !server_programs(Kind::Bind) {
        return;
    }
    let srv = Server::start(&lab, 0, Kind::Bind);
    let before = srv.zone_records(&lab, 1);
    let late = |n: usize, _| match n {
        0 => Act::Late(Duration::from_millis(600)),
        _ => Act::Forward,
    };
    // the publisher: close while the registration's answer is on its way
    let (stop, t) = proxy(&lab, srv.v4, late);
    let r = lab.run_on(1, move || {
        let client = ironicmdns::dns::Client::from_config(&via_proxy(true))
            .unwrap()
            .unwrap();
        let p = ironicmdns::dns::Publisher::new(client);
        let ep = ironicmdns::endpoint::parse_endpoint("http://198.18.0.2:6385").unwrap();
        let info = ironicmdns::endpoint::service_info(
            "baremetal",
            &ep,
            vec!["198.18.0.2".parse().unwrap()],
            &Properties::new(),
            None,
        )
        .unwrap();
        let q = p.clone();
        let reg = std::thread::spawn(move || q.register("baremetal", &info));
        std::thread::sleep(Duration::from_millis(300));
        p.close();
        reg.join().unwrap()
    });
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let seen = t.join().unwrap();
    assert!(matches!(&r, Err(Error::Closed(_))), "{r:?}");
    assert_eq!(
        seen.len(),
        2,
        "the registration, then its withdrawal: {seen:?}"
    );
    assert_eq!(srv.zone_records(&lab, 1), before, "withdrawn");
    // Zeroconf: close cancels the UPDATE in progress
    let (stop, t) = proxy(&lab, srv.v4, late);
    let r = lab.run_on(1, move || {
        let zc = std::sync::Arc::new(Zeroconf::new(via_proxy(true)).unwrap());
        let z = zc.clone();
        let reg = std::thread::spawn(move || {
            z.register_service("baremetal", "http://198.18.0.2:6385/baremetal", None)
        });
        std::thread::sleep(Duration::from_millis(300));
        zc.close().unwrap();
        reg.join().unwrap()
    });
    // the withdrawal may still be on its way when close returns
    let until = Instant::now() + Duration::from_secs(5);
    while srv.zone_records(&lab, 1) != before && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(100));
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let seen = t.join().unwrap();
    assert!(matches!(&r, Err(Error::Closed(_))), "{r:?}");
    assert_eq!(srv.zone_records(&lab, 1), before, "withdrawn: {seen:?}");
    srv.stop();
}

//! The C examples between two private hosts (docs/LAB.md): `publish` on host B,
//! `lookup` on host A prints the URL and the properties; after B's publisher
//! gets SIGTERM it withdraws the service and exits 0, and A no longer finds
//! it. IPv4 and IPv6.

mod capi_util;
mod common;

use std::io::{BufRead, BufReader};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use capi_util::{cc, installed, root, scratch, text};
use common::lab::{Lab, LabChild};

/// Build both examples against the installed library.
fn examples() -> (PathBuf, PathBuf, PathBuf) {
    let inst = installed();
    let dir = scratch("two-hosts");
    let (cflags, libs) = (inst.pkg_config(&["--cflags"]), inst.pkg_config(&["--libs"]));
    let build = |name: &str| {
        let exe = dir.join(name);
        cc(
            &[&root().join(format!("examples/c/{name}.c"))],
            &exe,
            &cflags,
            &libs,
        );
        exe
    };
    (build("publish"), build("lookup"), build("browse"))
}

fn host_in_url(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(a) => a.to_string(),
        IpAddr::V6(a) => format!("[{a}]"),
    }
}

fn on(lab: &Lab, h: usize, exe: &Path) -> Command {
    let mut cmd = lab.command(h, exe);
    cmd.env("LD_LIBRARY_PATH", installed().libdir())
        .env("RUST_BACKTRACE", "0");
    cmd
}

/// Start `publish` on host `h` and wait until it says it published.
fn start_publish(
    lab: &Lab,
    h: usize,
    exe: &Path,
    ip: IpAddr,
    options: &[&str],
    url: &str,
    params: &[&str],
) -> LabChild {
    let mut publisher = lab
        .spawn(
            on(lab, h, exe)
                .args(["--interface", &ip.to_string()])
                .args(options)
                .args(["baremetal", url])
                .args(params)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped()),
        )
        .expect("start publish");
    let stdout = publisher.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(Duration::from_secs(30)).unwrap_or_default();
    if line.trim() != format!("published baremetal at {url}") {
        let _ = publisher.kill();
        let out = publisher.0.wait_with_output_of_stderr();
        panic!("publish on host {h} did not publish: {line:?}; stderr: {out}");
    }
    publisher
}

/// Publish on B with `options` (`-o NAME=VALUE`...) and `params`, expect
/// lookup on A to print the URL and then `props` (in any order). The first
/// lookup runs with `lookup_args` before the service type (none: the
/// one-shot `zc_lookup` with defaults). Then signal `stop` ends publish.
fn publish_then_lookup(
    lab: &Lab,
    (a_ip, b_ip): (IpAddr, IpAddr),
    stop: libc::c_int,
    lookup_args: &[&str],
    options: &[&str],
    params: &[&str],
    props: &[&str],
) {
    let (publish, lookup, browse) = examples();
    let (a, b) = (0, 1);
    let url = format!("http://{}:6385/baremetal", host_in_url(b_ip));

    // Host B: publish, and wait for "published" (registration probes first).
    let mut publisher = start_publish(lab, b, &publish, b_ip, options, &url, params);

    // Host A: lookup prints the URL, then the properties (SPEC 4: path and
    // protocol are consumed by the URL; txtvers=1 is published, SPEC 3.5).
    let found = on(lab, a, &lookup)
        .args(lookup_args)
        .arg("baremetal")
        .output()
        .unwrap();
    let stdout = text(&found.stdout);
    assert_eq!(
        found.status.code(),
        Some(0),
        "lookup on host A: {stdout} {}",
        text(&found.stderr)
    );
    let mut lines = stdout.lines();
    assert_eq!(lines.next(), Some(url.as_str()));
    let mut got: Vec<&str> = lines.collect();
    got.sort();
    let mut want = props.to_vec();
    want.sort();
    assert_eq!(got, want);

    // browse on A lists it: TYPE URL PROPERTIES... (2.5 s: B may hold its
    // PTR answer up to 1 s after its last multicast of it, RFC 6762 s6, and
    // the resolution of SRV/TXT/A follows).
    let listed = on(lab, a, &browse)
        .args(["--interface", &a_ip.to_string(), "2500"])
        .output()
        .unwrap();
    let stdout = text(&listed.stdout);
    assert_eq!(
        listed.status.code(),
        Some(0),
        "browse on host A: {stdout} {}",
        text(&listed.stderr)
    );
    let line = stdout
        .lines()
        .find(|l| l.starts_with("baremetal "))
        .unwrap_or_else(|| panic!("browse: {stdout:?}"));
    let mut words: Vec<&str> = line.split(' ').collect();
    assert_eq!(words[1], url, "{line}");
    words[2..].sort();
    assert_eq!(words[2..], want[..], "{line}");

    // SIGTERM / SIGINT: the publisher withdraws (goodbye) and exits 0.
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(
        unsafe { libc::kill(publisher.id() as libc::pid_t, stop) },
        0
    );
    let status = publisher.wait().unwrap();
    assert_eq!(status.code(), Some(0), "publish exit status");

    let gone = on(lab, a, &lookup)
        .args([
            "--interface",
            &a_ip.to_string(),
            "-o",
            "lookup_attempts=1",
            "-o",
            "lookup_timeout=0.5",
            "baremetal",
        ])
        .output()
        .unwrap();
    assert_eq!(
        gone.status.code(),
        Some(1),
        "after withdrawal: {} {}",
        text(&gone.stdout),
        text(&gone.stderr)
    );
    assert!(
        text(&gone.stderr).starts_with("lookup: baremetal: not found"),
        "{}",
        text(&gone.stderr)
    );
}

trait StderrOf {
    fn wait_with_output_of_stderr(&mut self) -> String;
}

impl StderrOf for std::process::Child {
    fn wait_with_output_of_stderr(&mut self) -> String {
        let mut s = String::new();
        if let Some(mut e) = self.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut s);
        }
        let _ = self.wait();
        s
    }
}

#[test]
fn publish_on_b_lookup_on_a_ipv4() {
    let Some(lab) = lab!() else { return };
    // SPEC 3.5: the params option, then the call's params, later wins.
    let a = lab.v4(0).to_string();
    publish_then_lookup(
        &lab,
        (lab.v4(0), lab.v4(1)),
        libc::SIGTERM,
        &["--interface", &a],
        &["-o", "params=answer:none,foo:bar"],
        &["answer=42", "ipa_debug=1", "flag"],
        &["answer=42", "flag", "foo=bar", "ipa_debug=1", "txtvers=1"],
    );
}

#[test]
fn publish_on_b_lookup_on_a_ipv6() {
    let Some(lab) = lab!() else { return };
    // The first lookup with all defaults (zc_lookup): both IP versions, every interface of A.
    let (a, b) = (lab.v6(0), lab.v6(1));
    publish_then_lookup(
        &lab,
        (a, b),
        libc::SIGINT,
        &[],
        &[],
        &["ipa_debug=1", "flag"],
        &["flag", "ipa_debug=1", "txtvers=1"],
    );
}

#[test]
fn second_publisher_of_a_name_gets_name_conflict() {
    let Some(lab) = lab!() else { return };
    let (publish, _, _) = examples();
    let (a, b) = (0, 1);
    let url_b = format!("http://{}:6385", lab.v4(b));
    let _publisher = start_publish(&lab, b, &publish, lab.v4(b), &[], &url_b, &[]);
    // SPEC 3.6: host A probes, hears B's records, and gives up after its
    // one attempt: ZC_ERR_NAME_CONFLICT, so publish says so and exits 1.
    let url_a = format!("http://{}:6385", lab.v4(a));
    let out = on(&lab, a, &publish)
        .args([
            "--interface",
            &lab.v4(a).to_string(),
            "-o",
            "registration_attempts=1",
            "baremetal",
            &url_a,
        ])
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "stdout {} stderr {stderr}",
        text(&out.stdout)
    );
    assert!(
        stderr.starts_with("publish: baremetal: registration failed: name conflict ("),
        "{stderr}"
    );
}

/// A publisher whose name is taken after it announced (a host that claims
/// the name and answers the re-probe, RFC 6762 s9) learns it through
/// zc_wait_lost, says so and exits 3.
#[test]
fn publisher_exits_3_when_its_name_is_taken() {
    let Some(lab) = lab!() else { return };
    let (publish, _, _) = examples();
    let (a, b) = (0, 1);
    let url_b = format!("http://{}:6385", lab.v4(b));
    let mut publisher = start_publish(&lab, b, &publish, lab.v4(b), &[], &url_b, &[]);
    std::thread::sleep(Duration::from_millis(1200));
    // The claim, then the same records again while B re-probes.
    let claim = common::intruder::conflicting_announcement("baremetal._openstack._tcp.local", 9999);
    common::intruder::send_from(&lab, a, &claim, 2);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(st) = publisher.try_wait().unwrap() {
            break st;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "publish still running 10 s after its name was taken"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let stderr = publisher.0.wait_with_output_of_stderr();
    assert_eq!(status.code(), Some(3), "stderr: {stderr}");
    assert!(
        stderr.contains("publish: registration lost: baremetal._openstack._tcp.local"),
        "{stderr}"
    );
}

/// A C program that sets no log callback gets no output
/// from the library, even for a warning (a lookup whose only address has
/// no route falls back to it, SPEC 4.2), unless IRONICMDNS_LOG asks.
#[test]
fn the_library_is_quiet_unless_ironicmdns_log_asks() {
    let Some(lab) = lab!() else { return };
    let (_, lookup, _) = examples();
    let b_addr = lab.v4(1);
    // 198.19.5.5: in the lab range, but no host has a route to it
    let b = lab.run_on(1, move || {
        let mut c = ironicmdns::Config::default();
        c.set("interfaces", &b_addr.to_string()).unwrap();
        let zc = ironicmdns::Zeroconf::new(c).unwrap();
        zc.register_service("unrouted", "http://198.19.5.5:6385", None)
            .unwrap();
        zc
    });
    let a = lab.v4(0).to_string();
    // (IRONICMDNS_LOG, warning expected on stderr)
    for (value, warned) in [
        (None, false),
        (Some("warning"), true),
        (Some("error"), false),
    ] {
        let mut cmd = on(&lab, 0, &lookup);
        cmd.args(["--interface", &a, "unrouted"]);
        match value {
            Some(v) => cmd.env("IRONICMDNS_LOG", v),
            None => cmd.env_remove("IRONICMDNS_LOG"),
        };
        let out = cmd.output().expect("run lookup");
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert!(out.status.success(), "{value:?}: {stdout}\n{stderr}");
        assert!(stdout.starts_with("http://198.19.5.5:6385"), "{stdout}");
        let ours: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("ironicmdns: "))
            .collect();
        assert_eq!(
            ours.iter().any(|l| l.starts_with("ironicmdns: warning: ")),
            warned,
            "IRONICMDNS_LOG={value:?}: {ours:?}"
        );
        if value.is_none() {
            assert!(ours.is_empty(), "quiet by default: {ours:?}");
        }
    }
    b.close().unwrap();
}

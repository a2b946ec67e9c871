//! Real DNS servers for the unicast DNS-SD tests: BIND 9 (`named -g`) and
//! Knot (`knotd`), each started on a lab host by PID, serving the dynamic
//! zone `example.test` with a TSIG key allowed to update it, and stopped by
//! PID when dropped (recipes of docs/LAB.md). Also the peer clients: dig, kdig,
//! nsupdate, knsupdate, dnspython (the venv of scripts/setup-peers.sh).
//!
//! `Server::start_with(.., Some(Signing))` serves the same zone DNSSEC-signed
//! by the server (BIND: `dnssec-policy`, Knot: `dnssec-signing` with a
//! `policy`); the signed-zone helpers (DS, DNSKEY, RRSIGs, delv) are in
//! tests/dns/signed.rs.

#![allow(dead_code)]

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::lab::{Lab, LabChild};
use ironicmdns::{Config, Properties};

pub const ZONE: &str = "example.test";
pub const DOMAIN: &str = "mystack.example.test";
pub const KEY_NAME: &str = "upd.example.test";
/// What `tsig-keygen -a hmac-sha256 upd.example.test` printed once.
pub const SECRET: &str = "JBxtZjUj9elM77XPItQmCv/XMXwLT6a45tRAkXj8noc=";

pub fn key_line() -> String {
    format!("hmac-sha256:{KEY_NAME}:{SECRET}")
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Bind,
    Knot,
}

/// `1` in `IRONICMDNS_REQUIRE_PEERS`: a missing server fails the test.
fn require_peers() -> bool {
    std::env::var("IRONICMDNS_REQUIRE_PEERS").as_deref() == Ok("1")
}

/// Whether `program` runs; prints why a test is skipped otherwise.
pub fn have(program: &str) -> bool {
    let found = ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]
        .iter()
        .any(|d| Path::new(d).join(program).exists());
    if !found {
        assert!(
            !require_peers(),
            "{program} is missing and IRONICMDNS_REQUIRE_PEERS=1 (scripts/setup-peers.sh installs it)"
        );
        println!("dns test skipped: {program} is not installed");
    }
    found
}

/// A DNSSEC signing algorithm the servers are asked to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    /// 13, ECDSA P-256 with SHA-256 (both servers' default).
    EcdsaP256Sha256,
    /// 15, Ed25519.
    Ed25519,
}

impl Algorithm {
    /// The IANA number (RFC 8624).
    pub fn number(self) -> u8 {
        match self {
            Algorithm::EcdsaP256Sha256 => 13,
            Algorithm::Ed25519 => 15,
        }
    }

    /// The name in `named.conf` and `knot.conf` (both spell it alike).
    pub fn conf_name(self) -> &'static str {
        match self {
            Algorithm::EcdsaP256Sha256 => "ecdsap256sha256",
            Algorithm::Ed25519 => "ed25519",
        }
    }
}

/// The key roles of a signed zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Roles {
    /// One combined signing key (flags 257) signs everything.
    Csk,
    /// A KSK (257) signs the DNSKEY RRset, a ZSK (256) the rest.
    KskZsk,
}

/// How the server signs the zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Signing {
    pub algorithm: Algorithm,
    pub roles: Roles,
    /// BIND only: `inline-signing yes` (UPDATEs go to the unsigned zone,
    /// named keeps a signed copy); `no`: named signs the dynamic zone
    /// itself. BIND 9.18 serves a signed dynamic zone either way.
    pub inline: bool,
}

impl Signing {
    pub fn csk(algorithm: Algorithm) -> Signing {
        Signing {
            algorithm,
            roles: Roles::Csk,
            inline: true,
        }
    }

    pub fn ksk_zsk(algorithm: Algorithm) -> Signing {
        Signing {
            algorithm,
            roles: Roles::KskZsk,
            inline: true,
        }
    }
}

impl Default for Signing {
    /// One CSK, algorithm 13, inline signing on BIND.
    fn default() -> Signing {
        Signing::csk(Algorithm::EcdsaP256Sha256)
    }
}

/// A server running on a lab host.
pub struct Server {
    pub kind: Kind,
    /// `Some` when the server signs the zone.
    pub signing: Option<Signing>,
    pub v4: IpAddr,
    pub v6: IpAddr,
    pub dir: PathBuf,
    child: LabChild,
    host: usize,
}

/// A fresh work directory. named's under /var/cache/bind when we may write
/// there: Debian's AppArmor profile for named (enforced on some machines)
/// lets it read and write only there, not in /tmp.
fn tempdir(tag: &str) -> PathBuf {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let cache = Path::new("/var/cache/bind");
    let base = match tag == "named" && writable(cache) {
        true => cache.to_path_buf(),
        false => std::env::temp_dir(),
    };
    let d = base.join(format!("ironicmdns-{tag}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn writable(dir: &Path) -> bool {
    let probe = dir.join(format!(".ironicmdns-probe-{}", std::process::id()));
    let ok = std::fs::write(&probe, b"").is_ok();
    let _ = std::fs::remove_file(&probe);
    ok
}

const ZONE_FILE: &str = "$TTL 60
@ IN SOA ns.example.test. admin.example.test. 1 60 60 600 60
@ IN NS ns.example.test.
ns IN A 198.18.0.1
";

/// Give `dir` to `user` when we can (real root); else run as ourselves.
fn own(dir: &Path, user: &str) -> bool {
    Command::new("chown")
        .args(["-R", &format!("{user}:{user}")])
        .arg(dir)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

impl Server {
    /// Start `kind` on lab host `h` (its IPv4 and IPv6 addresses), ready
    /// to answer (SOA of the zone answered) before it returns.
    pub fn start(lab: &Lab, h: usize, kind: Kind) -> Server {
        Server::start_with(lab, h, kind, None)
    }

    /// `start`, with the zone signed by the server when `signing` is
    /// `Some`: then it also waits (at most 10 s) until the SOA and the
    /// DNSKEY RRset are served with their RRSIGs.
    pub fn start_with(lab: &Lab, h: usize, kind: Kind, signing: Option<Signing>) -> Server {
        let (v4, v6) = (lab.v4(h), lab.v6(h));
        let dir = tempdir(match kind {
            Kind::Bind => "named",
            Kind::Knot => "knotd",
        });
        let d = dir.display();
        let child = match kind {
            Kind::Bind => {
                std::fs::write(
                    dir.join("key"),
                    format!(
                        "key \"{KEY_NAME}\" {{\n\talgorithm hmac-sha256;\n\tsecret \"{SECRET}\";\n}};\n"
                    ),
                )
                .unwrap();
                std::fs::write(dir.join("zone"), ZONE_FILE).unwrap();
                let (key_dir, policy, zone_dnssec) = match signing {
                    None => (String::new(), String::new(), String::new()),
                    Some(sg) => {
                        std::fs::create_dir_all(dir.join("keys")).unwrap();
                        let alg = sg.algorithm.conf_name();
                        let keys = match sg.roles {
                            Roles::Csk => format!("csk lifetime unlimited algorithm {alg};"),
                            Roles::KskZsk => format!(
                                "ksk lifetime unlimited algorithm {alg}; \
                                 zsk lifetime unlimited algorithm {alg};"
                            ),
                        };
                        let inline = if sg.inline { "yes" } else { "no" };
                        (
                            format!(" key-directory \"{d}/keys\";"),
                            format!("dnssec-policy \"signed\" {{ keys {{ {keys} }}; }};\n"),
                            format!(" dnssec-policy \"signed\"; inline-signing {inline};"),
                        )
                    }
                };
                std::fs::write(
                    dir.join("named.conf"),
                    format!(
                        "include \"{d}/key\";
options {{ directory \"{d}\"; listen-on {{ {v4}; }}; listen-on-v6 {{ {v6}; }};
  pid-file \"{d}/pid\"; recursion no; dnssec-validation no;
  session-keyfile \"{d}/session.key\"; managed-keys-directory \"{d}\";{key_dir} }};
controls {{ }};
{policy}zone \"{ZONE}\" {{ type primary; file \"{d}/zone\"; allow-update {{ key {KEY_NAME}; }};{zone_dnssec} }};
"
                    ),
                )
                .unwrap();
                let mut cmd = lab.command(h, "named");
                cmd.args(["-g", "-c"]).arg(dir.join("named.conf"));
                if own(&dir, "bind") {
                    cmd.args(["-u", "bind"]);
                }
                cmd.stdout(Stdio::null())
                    .stderr(std::fs::File::create(dir.join("log")).unwrap());
                lab.spawn(&mut cmd).expect("start named")
            }
            Kind::Knot => {
                std::fs::write(dir.join("example.test.zone"), ZONE_FILE).unwrap();
                let owned = own(&dir, "knot");
                let user = if owned { "    user: knot:knot\n" } else { "" };
                // Signed: the zone file stays the unsigned source (never
                // written back), the journal holds the updates and the
                // signatures, and a restart applies the file's difference.
                let (policy, zone_dnssec) = match signing {
                    None => (String::new(), String::new()),
                    Some(sg) => (
                        format!(
                            "policy:
  - id: signed
    algorithm: {}
    single-type-signing: {}
    ksk-lifetime: 0
    zsk-lifetime: 0
    nsec3: off
",
                            sg.algorithm.conf_name(),
                            if sg.roles == Roles::Csk { "on" } else { "off" }
                        ),
                        "    dnssec-signing: on
    dnssec-policy: signed
    zonefile-sync: -1
    zonefile-load: difference-no-serial
    journal-content: all
"
                        .to_string(),
                    ),
                };
                std::fs::write(
                    dir.join("knot.conf"),
                    format!(
                        "server:
    listen: [ {v4}@53, {v6}@53 ]
    rundir: {d}
{user}log:
  - target: stderr
    any: info
key:
  - id: {KEY_NAME}
    algorithm: hmac-sha256
    secret: {SECRET}
acl:
  - id: upd
    key: {KEY_NAME}
    action: [update, transfer]
database:
    storage: {d}
    journal-db: {d}/journal
    kasp-db: {d}/kasp
    timer-db: {d}/timer
{policy}template:
  - id: default
    storage: {d}
zone:
  - domain: {ZONE}
    file: {d}/example.test.zone
    acl: upd
{zone_dnssec}"
                    ),
                )
                .unwrap();
                if owned {
                    own(&dir, "knot");
                }
                let mut cmd = lab.command(h, "knotd");
                cmd.arg("-c").arg(dir.join("knot.conf"));
                cmd.stdout(Stdio::null())
                    .stderr(std::fs::File::create(dir.join("log")).unwrap());
                lab.spawn(&mut cmd).expect("start knotd")
            }
        };
        let s = Server {
            kind,
            signing,
            v4,
            v6,
            dir,
            child,
            host: h,
        };
        let until = Instant::now() + Duration::from_secs(10);
        loop {
            let out = s.dig(lab, h, &["+short", "SOA", ZONE]);
            if String::from_utf8_lossy(&out.stdout).contains("ns.example.test.") {
                break;
            }
            assert!(Instant::now() < until, "{kind:?} not ready: {}", s.log());
            std::thread::sleep(Duration::from_millis(50));
        }
        if signing.is_some() {
            let until = Instant::now() + Duration::from_secs(10);
            while !(s.signed_rrset(lab, h, ZONE, "SOA") && s.signed_rrset(lab, h, ZONE, "DNSKEY")) {
                assert!(
                    Instant::now() < until,
                    "{kind:?} did not sign {ZONE} within 10 s: {}",
                    s.log()
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        s
    }

    /// Whether `dig +dnssec` from host `h` gets `name`'s `rtype` RRset
    /// with an RRSIG covering it.
    pub fn signed_rrset(&self, lab: &Lab, h: usize, name: &str, rtype: &str) -> bool {
        let out = self.dig(lab, h, &["+dnssec", "+noall", "+answer", rtype, name]);
        String::from_utf8_lossy(&out.stdout).lines().any(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            w.len() > 4 && w[3] == "RRSIG" && w[4] == rtype
        })
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("log")).unwrap_or_default()
    }

    /// `dig @server(v4) +time=2 +tries=1 ARGS` from host `h`.
    pub fn dig(&self, lab: &Lab, h: usize, args: &[&str]) -> Output {
        lab.command(h, "dig")
            .arg(format!("@{}", self.v4))
            .args(["+time=2", "+tries=1"])
            .args(args)
            .output()
            .expect("dig")
    }

    /// The records of the zone (AXFR, signed), one line each without the
    /// TTL, SOA and NS and the server's A left out. (An RRset has one TTL,
    /// RFC 2181 s5.2: adding our PTR to a shared PTR RRset gives it ours.)
    pub fn zone_records(&self, lab: &Lab, h: usize) -> Vec<String> {
        let out = lab
            .command(h, "dig")
            .arg(format!("@{}", self.v4))
            .args(["+noall", "+answer", "+time=2", "+tries=1", "-y"])
            .arg(key_line())
            .args(["AXFR", ZONE])
            .output()
            .expect("dig AXFR");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        // A refused transfer prints only comments: an empty list would make
        // every "the zone is as before" comparison pass without looking.
        assert!(
            text.lines()
                .any(|l| l.split_whitespace().nth(3) == Some("SOA")),
            "AXFR of {ZONE} failed ({:?}): {text}",
            self.kind
        );
        let mut lines: Vec<String> = text
            .lines()
            .map(|l| {
                let mut w: Vec<&str> = l.split_whitespace().collect();
                if w.len() > 2 {
                    w.remove(1);
                }
                w.join(" ")
            })
            .filter(|l| {
                !l.is_empty()
                    && !l.starts_with(';')
                    && !l.contains(" SOA ")
                    && !l.contains(" NS ")
                    && !l.starts_with("ns.example.test.")
            })
            .collect();
        lines.sort();
        lines.dedup();
        lines
    }

    /// Run an `nsupdate` (BIND) or `knsupdate` (Knot) script from host
    /// `h`, signed with the key; the server and zone lines are added.
    pub fn nsupdate(&self, lab: &Lab, h: usize, body: &str) -> Output {
        let (prog, key_args) = match self.kind {
            Kind::Bind => ("nsupdate", vec!["-y".to_string(), key_line()]),
            Kind::Knot => ("knsupdate", vec!["-y".to_string(), key_line()]),
        };
        let script = format!("server {}\nzone {ZONE}\n{body}\nsend\n", self.v4);
        let mut child = lab
            .command(h, prog)
            .args(&key_args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect(prog);
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(script.as_bytes())
            .unwrap();
        child.wait_with_output().expect(prog)
    }

    /// Stop the server by PID.
    pub fn stop(mut self) {
        let _ = self.child.stop(Duration::from_secs(5));
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The venv's python with dnspython (scripts/setup-peers.sh), if any.
pub fn venv_python() -> Option<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let py = root.join(".venv/bin/python");
    let ok = py.exists()
        && Command::new(&py)
            .args(["-c", "import dns.tsig"])
            .status()
            .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            !require_peers(),
            "dnspython missing from .venv and IRONICMDNS_REQUIRE_PEERS=1 (run scripts/setup-peers.sh)"
        );
        println!("dnspython part skipped: no .venv with dnspython (scripts/setup-peers.sh)");
        return None;
    }
    Some(py)
}

/// Starts tests/dns/hostile.py in `mode` on host 0, port `port` (logging the
/// queries it gets to `log`, if given); returns once ready.
pub fn hostile(lab: &Lab, py: &Path, port: u16, mode: &str, log: Option<&Path>) -> LabChild {
    let mut cmd = lab.command(0, py);
    cmd.arg(scripts().join("hostile.py"))
        .args(["198.18.0.1", &port.to_string(), mode, &key_line()])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if let Some(log) = log {
        cmd.env("HOSTILE_LOG", log);
    }
    let mut child = lab.spawn(&mut cmd).unwrap();
    assert_eq!(child.first_line().trim(), "ready", "{mode}");
    child
}

/// The directory of the test scripts (tests/dns).
pub fn scripts() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/dns")
}

pub const SRV_NAME: &str = "baremetal._openstack._tcp.mystack.example.test.";

pub fn config(server: IpAddr, key: bool) -> Config {
    let mut c = Config::default();
    c.set("domain", DOMAIN).unwrap();
    let s = match server {
        IpAddr::V6(a) => format!("[{a}]:53"),
        IpAddr::V4(a) => a.to_string(),
    };
    c.set("dns_servers", &s).unwrap();
    if key {
        c.set("tsig_key", &key_line()).unwrap();
    }
    c.set("lookup_timeout", "1").unwrap();
    c.set("lookup_attempts", "2").unwrap();
    c
}

pub fn props(pairs: &[(&str, &str)]) -> Properties {
    let mut p = Properties::new();
    for (k, v) in pairs {
        p.set_str(k, v);
    }
    p
}

pub fn server_programs(kind: Kind) -> bool {
    match kind {
        Kind::Bind => have("named") && have("dig") && have("nsupdate"),
        Kind::Knot => have("knotd") && have("kdig") && have("knsupdate") && have("dig"),
    }
}

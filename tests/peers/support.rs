//! The peer suite's machinery: which peers exist, child processes on lab
//! hosts with line-wise output, lookup results in one comparable shape.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::common::lab::{Lab, LabChild};
use crate::json::{self, Json};

/// `1`: a missing peer is a failure, not a skip.
pub const ENV_REQUIRE_PEERS: &str = "IRONICMDNS_REQUIRE_PEERS";

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}
pub fn python() -> PathBuf {
    root().join(".venv/bin/python")
}
pub fn script(name: &str) -> PathBuf {
    root().join("tests/peers").join(name)
}
pub fn cli() -> &'static str {
    env!("CARGO_BIN_EXE_ironic-mdns")
}

/// An interop partner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Peer {
    /// ironic_lib.mdns on python-zeroconf, in .venv
    Ironic,
    /// avahi-daemon + avahi-utils + dbus-daemon
    Avahi,
}

fn which(prog: &str) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default() + ":/usr/sbin:/sbin";
    path.split(':')
        .map(|d| Path::new(d).join(prog))
        .find(|p| p.is_file())
}

fn missing(peer: Peer) -> Option<String> {
    static IRONIC: OnceLock<Option<String>> = OnceLock::new();
    static AVAHI: OnceLock<Option<String>> = OnceLock::new();
    match peer {
        Peer::Ironic => IRONIC
            .get_or_init(|| {
                let py = python();
                if !py.exists() {
                    return Some(format!(
                        "{} missing (run scripts/setup-peers.sh)",
                        py.display()
                    ));
                }
                let ok = Command::new(&py)
                    .args(["-c", "import ironic_lib.mdns, zeroconf"])
                    .stdin(Stdio::null())
                    .output()
                    .map(|o| o.status.success())
                    .unwrap_or(false);
                (!ok).then(|| {
                    "ironic_lib.mdns does not import in .venv (run scripts/setup-peers.sh)".into()
                })
            })
            .clone(),
        Peer::Avahi => AVAHI
            .get_or_init(|| {
                let lost: Vec<&str> = [
                    "avahi-daemon",
                    "avahi-publish-service",
                    "avahi-browse",
                    "dbus-daemon",
                    "unshare",
                ]
                .into_iter()
                .filter(|p| which(p).is_none())
                .collect();
                (!lost.is_empty()).then(|| {
                    format!(
                        "not installed: {} (run scripts/setup-peers.sh)",
                        lost.join(", ")
                    )
                })
            })
            .clone(),
    }
}

/// True when every peer is there. Otherwise: a failure with
/// IRONICMDNS_REQUIRE_PEERS=1, else a skip message and false.
pub fn have(peers: &[Peer]) -> bool {
    for &p in peers {
        if let Some(why) = missing(p) {
            if std::env::var(ENV_REQUIRE_PEERS).as_deref() == Ok("1") {
                panic!("peer {p:?} missing: {why} and {ENV_REQUIRE_PEERS}=1");
            }
            println!("peer test skipped: peer {p:?} missing: {why}");
            eprintln!("peer test skipped: peer {p:?} missing: {why}");
            return false;
        }
    }
    true
}

/// A private scratch directory, removed on drop.
pub struct Scratch(pub PathBuf);
impl Scratch {
    pub fn new(tag: &str) -> Scratch {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir =
            std::env::temp_dir().join(format!("ironicmdns-peers-{}-{tag}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Scratch(dir)
    }
    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}
impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A child process on a lab host; stdout arrives line by line, stderr is
/// kept for messages. Dropped: SIGTERM, then SIGKILL after 5 s.
pub struct Proc {
    pub name: String,
    child: Option<LabChild>,
    lines: Receiver<String>,
    pub seen: Arc<Mutex<Vec<String>>>,
    pub stderr: Arc<Mutex<String>>,
}

impl Proc {
    pub fn spawn(name: &str, lab: &Lab, cmd: &mut Command) -> Proc {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd.env("PYTHONDONTWRITEBYTECODE", "1")
            .env("PYTHONUNBUFFERED", "1");
        let mut child = lab
            .spawn(cmd)
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        let (tx, rx) = channel();
        let tx2 = tx.clone();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let out = child.0.stdout.take().expect("piped");
        let seen2 = seen.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                seen2.lock().unwrap().push(line.clone());
                let _ = tx.send(line);
            }
        });
        // stderr lines reach wait_line too (Avahi's tools report there)
        let stderr = Arc::new(Mutex::new(String::new()));
        let err = child.0.stderr.take().expect("piped");
        let stderr2 = stderr.clone();
        std::thread::spawn(move || {
            let mut r = BufReader::new(err);
            let mut buf = Vec::new();
            while let Ok(n) = r.read_until(b'\n', &mut buf) {
                if n == 0 {
                    break;
                }
                let line = String::from_utf8_lossy(&buf).into_owned();
                stderr2.lock().unwrap().push_str(&line);
                let _ = tx2.send(line.trim_end().to_string());
                buf.clear();
            }
        });
        Proc {
            name: name.to_string(),
            child: Some(child),
            lines: rx,
            seen,
            stderr,
        }
    }

    /// The next stdout line matching `pred` within `limit`.
    pub fn wait_line(&self, limit: Duration, pred: impl Fn(&str) -> bool) -> Option<String> {
        let end = Instant::now() + limit;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) if pred(&l) => return Some(l),
                Ok(_) => continue,
                Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => {
                    return None
                }
            }
        }
    }

    /// Wait for a line starting with one of `ok`; anything else is an error
    /// carrying the output so far.
    pub fn expect_ready(&self, limit: Duration, ok: &str) -> Result<String, String> {
        match self.wait_line(limit, |l| l.starts_with(ok) || l.starts_with("FAILED")) {
            Some(l) if l.starts_with(ok) => Ok(l),
            other => Err(format!(
                "{}: no {ok:?} line (got {other:?}); stderr: {}",
                self.name,
                self.stderr_text()
            )),
        }
    }

    pub fn stderr_text(&self) -> String {
        let s = self.stderr.lock().unwrap().clone();
        let lines: Vec<&str> = s.lines().filter(|l| !l.trim().is_empty()).collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }

    /// SIGTERM and wait (at most `limit`); the exit code, None if killed.
    pub fn stop(&mut self, limit: Duration) -> Option<i32> {
        let mut child = self.child.take()?;
        // SAFETY: signalling our own child by pid.
        unsafe { libc::kill(child.0.id() as i32, libc::SIGTERM) };
        let end = Instant::now() + limit;
        loop {
            match child.0.try_wait() {
                Ok(Some(s)) => return s.code(),
                Ok(None) if Instant::now() < end => std::thread::sleep(Duration::from_millis(20)),
                _ => return None, // LabChild's drop kills it
            }
        }
    }

    /// Wait for a normal exit within `limit`; the exit code.
    pub fn wait(&mut self, limit: Duration) -> Option<i32> {
        let child = self.child.as_mut()?;
        let end = Instant::now() + limit;
        loop {
            match child.0.try_wait() {
                Ok(Some(s)) => return s.code(),
                Ok(None) if Instant::now() < end => std::thread::sleep(Duration::from_millis(20)),
                _ => return None,
            }
        }
    }

    pub fn output_lines(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.stop(Duration::from_secs(5));
    }
}

/// Run a command on a host to completion (bounded); (exit code, stdout,
/// stderr).
pub fn run(
    lab: &Lab,
    host: usize,
    prog: impl AsRef<std::ffi::OsStr>,
    args: &[&std::ffi::OsStr],
    limit: Duration,
) -> (Option<i32>, String, String) {
    let mut cmd = lab.command(host, prog);
    cmd.args(args);
    let mut p = Proc::spawn("command", lab, &mut cmd);
    let code = p.wait(limit);
    // let the readers drain
    std::thread::sleep(Duration::from_millis(30));
    let out = p.output_lines().join("\n");
    let err = p.stderr.lock().unwrap().clone();
    if code.is_none() {
        p.stop(Duration::from_secs(2));
    }
    (code, out, err)
}

/// Wrap a command so that it runs in a private mount namespace where
/// `hosts` is bind-mounted on /etc/hosts (a DNS name resolved privately).
pub fn with_hosts_file(
    lab: &Lab,
    host: usize,
    hosts: &Path,
    prog: &Path,
    args: &[&std::ffi::OsStr],
) -> Command {
    let mut cmd = lab.command(host, "unshare");
    cmd.args([
        "-m",
        "--propagation",
        "private",
        "sh",
        "-c",
        "mount --bind \"$0\" /etc/hosts && exec \"$@\"",
    ]);
    cmd.arg(hosts).arg(prog).args(args);
    cmd
}

// ---- one comparable shape for every looker-up ------------------------------

/// A property value as the lookers report it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PVal {
    Text(String),
    Bytes(Vec<u8>),
    NoValue,
}

impl PVal {
    pub fn from_bytes(v: Option<&[u8]>) -> PVal {
        match v {
            None => PVal::NoValue,
            Some(b) => match std::str::from_utf8(b) {
                Ok(s) => PVal::Text(s.to_string()),
                Err(_) => PVal::Bytes(b.to_vec()),
            },
        }
    }
    fn from_json(j: &Json) -> Result<PVal, String> {
        match j {
            Json::Null => Ok(PVal::NoValue),
            Json::Str(s) => Ok(PVal::Text(s.clone())),
            Json::Obj(_) => {
                let b64 = j
                    .get("b64")
                    .and_then(Json::str)
                    .ok_or("value object without b64")?;
                Ok(PVal::Bytes(b64_decode(b64)?))
            }
            other => Err(format!("unexpected value {other:?}")),
        }
    }
}

/// What a lookup found: URL and the remaining properties.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    pub url: String,
    pub params: BTreeMap<String, PVal>,
}

pub type Outcome = Result<Found, String>;

/// `{"url": ..., "params": {...}}` (ours `--json`, ironic_lookup.py).
pub fn found_from_json(j: &Json) -> Outcome {
    if let Some(e) = j.get("error").and_then(Json::str) {
        return Err(e.to_string());
    }
    let url = j
        .get("url")
        .and_then(Json::str)
        .ok_or_else(|| format!("no url in {j:?}"))?;
    let mut params = BTreeMap::new();
    for (k, v) in j.get("params").map(Json::obj).unwrap_or_default() {
        params.insert(k, PVal::from_json(&v)?);
    }
    Ok(Found {
        url: url.to_string(),
        params,
    })
}

pub fn found_from_line(line: &str) -> Outcome {
    found_from_json(&json::parse(line)?)
}

fn b64_decode(s: &str) -> Result<Vec<u8>, String> {
    let val = |c: u8| -> Result<u32, String> {
        Ok(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return Err(format!("bad base64 {s:?}")),
        } as u32)
    };
    let clean: Vec<u8> = s.bytes().filter(|&c| c != b'=').collect();
    let mut out = Vec::new();
    for chunk in clean.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= val(c)? << (18 - 6 * i);
        }
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..chunk.len().saturating_sub(1)]);
    }
    Ok(out)
}

/// SPEC 4 applied to raw records (for avahi-browse, which resolves but
/// builds no URL): target, chosen address, port, TXT strings.
pub fn spec4_url(target: &str, address: &str, port: u16, txt: &[Vec<u8>]) -> Outcome {
    let mut params = BTreeMap::new();
    for s in txt {
        if s.is_empty() {
            continue;
        }
        let (k, v) = match s.iter().position(|&b| b == b'=') {
            Some(i) => (&s[..i], Some(&s[i + 1..])),
            None => (&s[..], None),
        };
        let k = String::from_utf8(k.to_vec()).map_err(|_| "cannot decode key".to_string())?;
        params.entry(k).or_insert(PVal::from_bytes(v));
    }
    let text = |v: Option<PVal>| match v {
        Some(PVal::Text(s)) => s,
        _ => String::new(),
    };
    let path = text(params.remove("path"));
    let mut protocol = text(params.remove("protocol"));
    if protocol.is_empty() {
        protocol = if port == 80 { "http" } else { "https" }.to_string();
    }
    let target = target.trim_end_matches('.');
    let host = if target.ends_with(".local") {
        if address.contains(':') {
            format!("[{address}]")
        } else {
            address.to_string()
        }
    } else {
        target.to_string()
    };
    Ok(Found {
        url: format!("{protocol}://{host}:{port}{path}"),
        params,
    })
}

/// One resolved line of `avahi-browse -rtp`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AvahiResolved {
    pub name: String,
    pub target: String,
    pub address: String,
    pub port: u16,
    pub txt: Vec<Vec<u8>>,
}

/// `=;iface;proto;name;type;domain;host;address;port;"txt" "txt"...`
pub fn parse_avahi_browse(out: &str) -> Vec<AvahiResolved> {
    let mut found = Vec::new();
    for line in out.lines() {
        let f: Vec<&str> = line.splitn(10, ';').collect();
        if f.len() < 9 || f[0] != "=" {
            continue;
        }
        found.push(AvahiResolved {
            name: String::from_utf8_lossy(&avahi_unescape(f[3].as_bytes())).into_owned(),
            target: f[6].to_string(),
            address: f[7].to_string(),
            port: f[8].parse().unwrap_or(0),
            txt: f
                .get(9)
                .map(|t| avahi_txt(t.as_bytes()))
                .unwrap_or_default(),
        });
    }
    found
}

/// Avahi's escapes: `\DDD` (decimal byte), `\c` (the character).
fn avahi_unescape(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'\\' && i + 3 < s.len() && s[i + 1..i + 4].iter().all(u8::is_ascii_digit) {
            let d = &s[i + 1..i + 4];
            out.push(
                ((d[0] - b'0') as u32 * 100 + (d[1] - b'0') as u32 * 10 + (d[2] - b'0') as u32)
                    as u8,
            );
            i += 4;
        } else if s[i] == b'\\' && i + 1 < s.len() {
            out.push(s[i + 1]);
            i += 2;
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    out
}

/// `"a=b" "c"` -> [a=b, c] (avahi_string_list_to_string).
fn avahi_txt(s: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        if s[i] != b'"' {
            i += 1;
            continue;
        }
        let start = i + 1;
        let mut j = start;
        while j < s.len() && s[j] != b'"' {
            j += if s[j] == b'\\' { 2 } else { 1 };
        }
        out.push(avahi_unescape(&s[start..j.min(s.len())]));
        i = j + 1;
    }
    out
}

#[test]
fn avahi_browse_lines_decode() {
    let out = "+;eth0;IPv4;baremetal;_openstack._tcp;local\n\
               =;eth0;IPv4;baremetal;_openstack._tcp;local;avahi-h1.local;198.18.0.2;6385;\"bin=\\226(\\161\" \"q=\\\"x\\\"\" \"n\" \"path=/b;c\"";
    let r = parse_avahi_browse(out);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].target, "avahi-h1.local");
    assert_eq!(r[0].port, 6385);
    assert_eq!(
        r[0].txt,
        vec![
            b"bin=\xe2(\xa1".to_vec(),
            b"q=\"x\"".to_vec(),
            b"n".to_vec(),
            b"path=/b;c".to_vec()
        ]
    );
    let f = spec4_url(&r[0].target, &r[0].address, r[0].port, &r[0].txt).unwrap();
    assert_eq!(f.url, "https://198.18.0.2:6385/b;c");
    assert_eq!(
        f.params.get("bin"),
        Some(&PVal::Bytes(vec![0xe2, 0x28, 0xa1]))
    );
    assert_eq!(f.params.get("n"), Some(&PVal::NoValue));
    assert_eq!(b64_decode("4iih").unwrap(), vec![0xe2, 0x28, 0xa1]);
    assert_eq!(b64_decode("YQ==").unwrap(), b"a".to_vec());
}

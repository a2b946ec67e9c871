//! Small pieces the tests with peers share: whether a missing peer tool
//! fails, a fresh scratch directory, the wall clock in seconds, the
//! dnspython DNSSEC peer (tests/data/trust/dnssec_peer.py), and a running
//! `ironic-mdns register`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use super::lab::{Lab, LabChild};
use std::time::{SystemTime, UNIX_EPOCH};

/// IRONICMDNS_REQUIRE_PEERS=1: a missing peer tool fails the test
/// instead of skipping its part.
pub fn require_peers() -> bool {
    std::env::var("IRONICMDNS_REQUIRE_PEERS").as_deref() == Ok("1")
}

/// An empty directory `ironicmdns-<name>-<pid>` under the temporary
/// directory (what an earlier run left there is removed).
pub fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ironicmdns-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The .venv's python (scripts/setup-peers.sh) when it has dnspython's
/// `dns.dnssec` and `cryptography`; None otherwise (the caller skips or
/// fails, as it says).
pub fn dnspython() -> Option<PathBuf> {
    let py = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    let ok = py.exists()
        && Command::new(&py)
            .args(["-c", "import dns.dnssec, cryptography"])
            .status()
            .is_ok_and(|s| s.success());
    ok.then_some(py)
}

/// The dnspython peer script.
pub fn dnssec_peer_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/trust/dnssec_peer.py")
}

/// `dnssec_peer.py validate <at>` run by `py` over `text` (records in RFC
/// 3597 generic form on its stdin); what it printed, one line per RRset.
pub fn dnssec_peer_validate(py: &Path, at: u64, text: &str) -> Output {
    let mut child = Command::new(py)
        .arg(dnssec_peer_script())
        .args(["validate", &at.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// `ironic-mdns register baremetal <url> <args>` on host `h` (stdout and
/// stderr piped), returned still running once its first line said
/// `registered baremetal at <url>` (asserted).
pub fn register_cli<I, S>(lab: &Lab, h: usize, url: &str, args: I) -> LabChild
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut reg = lab
        .spawn(
            lab.command(h, env!("CARGO_BIN_EXE_ironic-mdns"))
                .args(["register", "baremetal", url])
                .args(args)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped()),
        )
        .unwrap();
    assert_eq!(
        reg.first_line().trim(),
        format!("registered baremetal at {url}")
    );
    reg
}

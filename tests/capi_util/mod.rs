//! Shared by the tests/capi_*.rs drivers: build and install the C library
//! into a scratch DESTDIR, compile C programs against it, and run programs
//! inside a private network namespace (docs/LAB.md).
#![allow(dead_code)]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn env_flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| v == "1")
}

/// Run a command, panicking with its output when it fails.
pub fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// This process's scratch area, target/capi-tests/<binary>-<pid>: tests
/// of one binary may run in several processes at once (the lab re-runs each
/// test in its own), so each process has its own. Areas of processes that
/// are gone are removed first, so nothing piles up.
fn scratch_root() -> &'static Path {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let base = root().join("target/capi-tests");
        for entry in std::fs::read_dir(&base).into_iter().flatten().flatten() {
            let name = entry.file_name();
            let pid = name
                .to_str()
                .and_then(|n| n.rsplit('-').next())
                .and_then(|p| p.parse::<i32>().ok());
            // SAFETY: kill with signal 0 only checks that the process exists.
            if pid.is_some_and(|p| unsafe { libc::kill(p, 0) } != 0) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
        let exe = std::env::current_exe().ok();
        let binary = exe
            .as_deref()
            .and_then(Path::file_stem)
            .and_then(OsStr::to_str)
            .unwrap_or("capi");
        let binary = binary.split('-').next().unwrap_or(binary);
        base.join(format!("{binary}-{}", std::process::id()))
    })
}

/// A fresh scratch directory in this process's area.
pub fn scratch(name: &str) -> PathBuf {
    let dir = scratch_root().join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create a scratch directory");
    dir
}

/// The C library as `make install` lays it out in a DESTDIR.
pub struct Installed {
    pub destdir: PathBuf,
    pub prefix: &'static str,
}

impl Installed {
    pub fn libdir(&self) -> PathBuf {
        self.destdir.join("usr/lib")
    }
    pub fn includedir(&self) -> PathBuf {
        self.destdir.join("usr/include")
    }
    pub fn pkgconfig_dir(&self) -> PathBuf {
        self.libdir().join("pkgconfig")
    }
    /// pkg-config for the DESTDIR: the .pc file says prefix=/usr, the
    /// sysroot puts the DESTDIR in front of its paths.
    pub fn pkg_config(&self, args: &[&str]) -> Vec<String> {
        let out = run_ok(
            Command::new("pkg-config")
                .env("PKG_CONFIG_PATH", self.pkgconfig_dir())
                .env("PKG_CONFIG_SYSROOT_DIR", &self.destdir)
                .args(args)
                .arg("ironicmdns"),
        );
        text(&out.stdout)
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    }
}

/// `make install` into a scratch DESTDIR, once per test process. Profile
/// dev for speed (same link settings as release);
/// IRONICMDNS_CAPI_PROFILE=release tests the release build instead.
pub fn installed() -> &'static Installed {
    static INSTALLED: OnceLock<Installed> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let destdir = scratch("destdir");
        run_ok(
            Command::new("make")
                .current_dir(root())
                .arg("install")
                .arg(format!(
                    "PROFILE={}",
                    std::env::var("IRONICMDNS_CAPI_PROFILE").unwrap_or_else(|_| "dev".into())
                ))
                .arg("PREFIX=/usr")
                .arg(format!("DESTDIR={}", destdir.display()))
                .env(
                    "CARGO",
                    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()),
                ),
        );
        Installed {
            destdir,
            prefix: "/usr",
        }
    })
}

/// Compile C sources into `out`, linking with `link` (e.g. pkg-config's).
pub fn cc(sources: &[&Path], out: &Path, cflags: &[String], link: &[String]) {
    run_ok(
        Command::new("cc")
            .args([
                "-std=c99",
                "-pedantic",
                "-Wall",
                "-Wextra",
                "-Werror",
                "-O1",
                "-g",
            ])
            .args(cflags)
            .args(sources)
            .arg("-o")
            .arg(out)
            .args(link),
    );
}

/// How this process makes a private network namespace.
#[derive(Clone, Copy, Debug)]
pub enum Netns {
    /// root: `unshare -n`
    Root,
    /// ordinary user: `unshare -rn`
    User,
}

const LO_SETUP: &str =
    "ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo";

impl Netns {
    fn flag(self) -> &'static str {
        match self {
            Netns::Root => "-n",
            Netns::User => "-rn",
        }
    }
    /// `program args...` in a fresh namespace whose `lo` carries IPv4
    /// multicast; it never sees this machine's own interfaces.
    pub fn command<S: AsRef<OsStr>>(self, program: impl AsRef<OsStr>, args: &[S]) -> Command {
        let mut cmd = Command::new("unshare");
        cmd.arg(self.flag())
            .arg("sh")
            .arg("-c")
            .arg(format!("{LO_SETUP} && exec \"$0\" \"$@\""))
            .arg(program)
            .args(args)
            .env("RUST_BACKTRACE", "0");
        cmd
    }
}

/// A private network namespace, or None (with a message) when none can be
/// made here; with IRONICMDNS_REQUIRE_NETNS=1 that is a failure instead.
/// Never falls back to this machine's own network.
pub fn netns(test: &str) -> Option<Netns> {
    static PROBE: OnceLock<Result<Netns, String>> = OnceLock::new();
    let probe = PROBE.get_or_init(|| {
        // SAFETY: geteuid has no preconditions.
        let kind = if unsafe { libc::geteuid() } == 0 {
            Netns::Root
        } else {
            Netns::User
        };
        match kind.command("true", &[] as &[&str]).output() {
            Ok(o) if o.status.success() => Ok(kind),
            Ok(o) => Err(format!(
                "unshare {} failed: {}",
                kind.flag(),
                text(&o.stderr).trim()
            )),
            Err(e) => Err(format!("cannot run unshare: {e}")),
        }
    });
    match probe {
        Ok(kind) => Some(*kind),
        Err(why) if env_flag("IRONICMDNS_REQUIRE_NETNS") => {
            panic!("{test}: no private network namespace ({why}) and IRONICMDNS_REQUIRE_NETNS=1")
        }
        Err(why) => {
            eprintln!("SKIP {test}: no private network namespace ({why}); not running on the host network");
            None
        }
    }
}

/// Whether `tool` runs; when it does not: a message, or a failure with
/// IRONICMDNS_REQUIRE_PEERS=1.
pub fn have_tool(test: &str, tool: &str, probe_arg: &str) -> bool {
    let ok = Command::new(tool)
        .arg(probe_arg)
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            !env_flag("IRONICMDNS_REQUIRE_PEERS"),
            "{test}: {tool} is missing and IRONICMDNS_REQUIRE_PEERS=1"
        );
        eprintln!("SKIP {test}: {tool} is not installed");
    }
    ok
}

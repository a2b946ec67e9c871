//! The network lab: hosts in private network namespaces for tests that send.
//!
//! The machine's own interfaces are a real, shared network (docs/LAB.md): nothing
//! of ours may open an mDNS socket there. This module gives a test a few
//! private hosts joined by a virtual link, and never falls back to the host
//! network.
//!
//! # Design (one path for root and for ordinary users)
//!
//! 1. **Re-exec.** `Lab::new` called in a normal test process does not build
//!    anything: it re-runs the current test binary, for this one test only
//!    (`<name> --exact --nocapture --include-ignored --test-threads=1`),
//!    under `unshare -n` (root) or `unshare -rn` (ordinary user: a user
//!    namespace first, which needs a single-threaded process, hence the
//!    re-exec). The re-run process lives in a private network namespace of
//!    its own: even a socket opened by mistake on the test thread cannot
//!    reach the real network. The outer call waits, relays the inner
//!    output (captured by libtest like any test output), fails when the
//!    inner run failed, and returns `None`; the test body then returns.
//!    The inner run must report `1 passed` (a wrong test name would
//!    otherwise pass silently).
//! 2. **Hosts.** Inside, every host is one more network namespace, made by
//!    a short-lived thread calling `unshare(CLONE_NEWNET)` (allowed in a
//!    multi-threaded process; we hold CAP_SYS_ADMIN there) and kept alive
//!    by an open `/proc/thread-self/ns/net` descriptor. Code runs "on host
//!    X" on a thread that did `setns(fd, CLONE_NEWNET)`: the sockets it
//!    opens and the threads it spawns (an `Mdns` driver, an mdns-sd daemon)
//!    live in X. A child process runs on X through `pre_exec` + `setns`.
//! 3. **Links.** Two hosts: one veth pair, `eth0` on each side. More: a
//!    bridge (`mcast_snooping 0`) in one extra namespace, one veth per host,
//!    each host's end again called `eth0`. Host `i` (from 0) gets
//!    198.18.0.(i+1)/24 and fd00:99::(i+1)/64 (nodad, and DAD off for the
//!    link-local address too), multicast on, route 224.0.0.0/4 via eth0.
//!    One host alone: only `lo`, multicast on and 224.0.0.0/4 routed there
//!    (IPv4 only: the kernel drops IPv6 multicast on lo).
//! 4. **Teardown.** Everything is a namespace held by a descriptor: dropping
//!    the `Lab` (also while unwinding from a panic) first kills any process
//!    still living in one of its namespaces (found through /proc), then
//!    closes them, and the kernel removes the links. `LabChild` kills its
//!    process on drop.
//!
//! When no namespace can be made (no `unshare`/`ip` binary, `unshare`
//! refused), the test prints `network test skipped: no private network
//! namespace (<reason>)` and returns, or panics when
//! `IRONICMDNS_REQUIRE_NETNS=1`. `IRONICMDNS_LAB_TIMEOUT` (seconds, default
//! 300) bounds the inner run.
//!
//! # Use
//!
//! ```ignore
//! mod common;
//! use common::lab::Lab;
//!
//! #[test]
//! fn peer_finds_us() {
//!     let Some(lab) = lab!() else { return };   // first line of the test
//!     let (a, b) = (0, 1);
//!     let h = lab.spawn_on(b, || { /* responder on host B */ });
//!     lab.run_on(a, || { /* querier on host A */ });
//!     let out = lab.command(a, "ping").args(["-c1", "198.18.0.2"]).output();
//! }
//! ```
//! `lab!()` must be invoked directly in the `#[test]` function (it derives
//! the test name from it); `lab!(3)` makes three hosts.

#![allow(dead_code)]

use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, Read};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Set in the inner (re-executed) run: the outer network namespace's inode.
const ENV_INNER: &str = "IRONICMDNS_LAB_INNER";
/// `1`: a test that cannot get a namespace fails instead of skipping.
pub const ENV_REQUIRE: &str = "IRONICMDNS_REQUIRE_NETNS";
/// Bound of the inner run, in seconds.
pub const ENV_TIMEOUT: &str = "IRONICMDNS_LAB_TIMEOUT";
/// Exit status of an inner run that could not build its hosts.
const EXIT_NO_NETNS: i32 = 77;

/// The libtest name of the enclosing test function (module path without the
/// crate name). Must be used directly in the `#[test]` fn body.
#[macro_export]
macro_rules! test_name {
    () => {{
        fn __here() {}
        fn __name_of<T>(_: T) -> &'static str {
            std::any::type_name::<T>()
        }
        let full = __name_of(__here);
        let full = full.strip_suffix("::__here").unwrap_or(full);
        match full.find("::") {
            Some(i) => &full[i + 2..],
            None => full,
        }
    }};
}

/// `lab!()`: two hosts; `lab!(n)`: n hosts. `None` means "return now": the
/// test ran in the inner process (and passed), or was skipped.
#[macro_export]
macro_rules! lab {
    () => {
        $crate::common::lab::Lab::new($crate::test_name!(), 2)
    };
    ($n:expr) => {
        $crate::common::lab::Lab::new($crate::test_name!(), $n)
    };
}

/// One private host.
#[derive(Debug)]
pub struct Host {
    /// `h0`, `h1`, ...
    pub name: String,
    /// The interface joining it to the others (`eth0`; `lo` when alone).
    pub ifname: String,
    pub v4: Ipv4Addr,
    pub v6: Ipv6Addr,
    ns: OwnedFd,
}

/// A set of private hosts; see the module docs.
#[derive(Debug)]
pub struct Lab {
    hosts: Vec<Host>,
    /// The bridge's namespace (three hosts or more).
    switch: Option<OwnedFd>,
}

/// A child process running on a lab host; killed and reaped on drop.
#[derive(Debug)]
pub struct LabChild(pub Child);

impl std::ops::Deref for LabChild {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}
impl std::ops::DerefMut for LabChild {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}
impl LabChild {
    /// The first line the child writes to its piped stdout, without the
    /// newline; the pipe is closed after it.
    pub fn first_line(&mut self) -> String {
        use std::io::BufRead;
        let mut line = String::new();
        let out = self.0.stdout.take().expect("stdout piped");
        std::io::BufReader::new(out).read_line(&mut line).unwrap();
        line.trim_end_matches('\n').to_string()
    }

    /// SIGTERM, then wait up to `grace` for a clean exit, then SIGKILL.
    /// Returns the exit status.
    pub fn stop(&mut self, grace: Duration) -> io::Result<ExitStatus> {
        if let Some(s) = self.0.try_wait()? {
            return Ok(s);
        }
        // SAFETY: signalling our own child by pid.
        unsafe { libc::kill(self.0.id() as libc::pid_t, libc::SIGTERM) };
        let until = Instant::now() + grace;
        while Instant::now() < until {
            if let Some(s) = self.0.try_wait()? {
                return Ok(s);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.0.kill();
        self.0.wait()
    }
}

impl Drop for LabChild {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
    }
}

fn skip(reason: &str) -> Option<Lab> {
    if std::env::var(ENV_REQUIRE).as_deref() == Ok("1") {
        panic!("no private network namespace ({reason}) and {ENV_REQUIRE}=1");
    }
    eprintln!("network test skipped: no private network namespace ({reason})");
    println!("network test skipped: no private network namespace ({reason})");
    None
}

fn netns_inode_of(path: &str) -> io::Result<u64> {
    Ok(std::fs::metadata(path)?.ino())
}

fn enter(fd: RawFd) -> io::Result<()> {
    // SAFETY: plain syscall on a descriptor we own.
    if unsafe { libc::setns(fd, libc::CLONE_NEWNET) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// A new network namespace, held by a descriptor.
fn new_netns() -> io::Result<OwnedFd> {
    std::thread::spawn(|| {
        // SAFETY: unsharing the network namespace of this thread only.
        if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(OwnedFd::from(File::open("/proc/thread-self/ns/net")?))
    })
    .join()
    .map_err(|_| io::Error::other("netns thread panicked"))?
}

fn run_checked(mut cmd: Command, what: &str) -> io::Result<Output> {
    let out = cmd.stdin(Stdio::null()).output()?;
    if !out.status.success() {
        return Err(io::Error::other(format!(
            "{what}: {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(out)
}

fn command_in(fd: RawFd, program: impl AsRef<OsStr>) -> Command {
    let mut c = Command::new(program);
    // SAFETY: setns is async-signal-safe; runs in the forked child only.
    unsafe {
        c.pre_exec(move || enter(fd));
    }
    c
}

fn sh_in(fd: RawFd, script: &str) -> io::Result<Output> {
    let mut c = command_in(fd, "sh");
    c.args(["-ec", script]);
    run_checked(c, script)
}

impl Lab {
    /// A lab of `n` hosts (see the module docs for the `None` cases).
    pub fn new(test_name: &str, n: usize) -> Option<Lab> {
        assert!((1..=200).contains(&n), "lab: 1 to 200 hosts");
        match std::env::var(ENV_INNER) {
            Ok(outer) => Some(Self::inner(&outer, n)),
            Err(_) => Self::outer(test_name),
        }
    }

    /// Outer run: re-execute this one test in a private namespace.
    fn outer(test_name: &str) -> Option<Lab> {
        let outer_ns = match netns_inode_of("/proc/self/ns/net") {
            Ok(i) => i,
            Err(e) => return skip(&format!("cannot read /proc/self/ns/net: {e}")),
        };
        if Command::new("ip").arg("-V").output().is_err() {
            return skip("the `ip` command (iproute2) is missing");
        }
        let root = unsafe { libc::geteuid() } == 0;
        let mut flags: Vec<&str> = if root { vec!["-n", "-rn"] } else { vec!["-rn"] };
        let mut why = String::new();
        flags.retain(
            |f| match Command::new("unshare").arg(f).arg("true").output() {
                Ok(o) if o.status.success() => true,
                Ok(o) => {
                    why = format!(
                        "`unshare {f}` failed: {}",
                        String::from_utf8_lossy(&o.stderr).trim()
                    );
                    false
                }
                Err(e) => {
                    why = format!("cannot run `unshare`: {e}");
                    false
                }
            },
        );
        let Some(flag) = flags.first() else {
            return skip(&why);
        };
        let exe = match std::env::current_exe() {
            Ok(p) => p,
            Err(e) => return skip(&format!("cannot find the test binary: {e}")),
        };
        let mut cmd = Command::new("unshare");
        cmd.arg(flag)
            .arg(&exe)
            .args([
                test_name,
                "--exact",
                "--nocapture",
                "--include-ignored",
                "--test-threads=1",
            ])
            .env(ENV_INNER, outer_ns.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("lab: cannot start the inner run: {e}"));
        let (status, out, err) = wait_bounded(child, lab_timeout());
        print!("{out}");
        eprint!("{err}");
        match status {
            Some(s) if s.code() == Some(EXIT_NO_NETNS) => {
                let reason = err
                    .lines()
                    .find_map(|l| l.strip_prefix("lab: no namespace: "))
                    .unwrap_or("the inner run could not build its hosts")
                    .to_string();
                skip(&reason)
            }
            Some(s) if s.success() => {
                assert!(
                    out.contains("1 passed"),
                    "lab: the inner run of {test_name:?} ran no test (is the name right?)"
                );
                None
            }
            Some(s) => panic!("test {test_name} failed inside the lab ({s})"),
            None => panic!(
                "test {test_name} timed out inside the lab (>{:?})",
                lab_timeout()
            ),
        }
    }

    /// Inner run: build the hosts.
    fn inner(outer: &str, n: usize) -> Lab {
        let here = netns_inode_of("/proc/self/ns/net")
            .map(|i| i.to_string())
            .unwrap_or_default();
        if here.is_empty() || here == outer {
            // Not the private namespace we were promised: refuse outright.
            panic!("lab: the inner run is not in a private network namespace");
        }
        match Self::build(n) {
            Ok(lab) => lab,
            Err(e) => {
                eprintln!("lab: no namespace: {e}");
                std::process::exit(EXIT_NO_NETNS);
            }
        }
    }

    fn build(n: usize) -> io::Result<Lab> {
        let mut hosts = Vec::with_capacity(n);
        for i in 0..n {
            let ns = new_netns()?;
            let ifname = if n == 1 { "lo" } else { "eth0" };
            hosts.push(Host {
                name: format!("h{i}"),
                ifname: ifname.to_string(),
                v4: Ipv4Addr::new(198, 18, 0, i as u8 + 1),
                v6: Ipv6Addr::new(0xfd00, 0x99, 0, 0, 0, 0, 0, i as u16 + 1),
                ns,
            });
        }
        // No DAD anywhere: addresses (link-local too) usable at once.
        for h in &hosts {
            sh_in(
                h.ns.as_raw_fd(),
                "echo 0 > /proc/sys/net/ipv6/conf/default/accept_dad
                 echo 0 > /proc/sys/net/ipv6/conf/all/accept_dad
                 ip link set lo up",
            )?;
        }
        let pid = std::process::id();
        let mut switch = None;
        if n == 1 {
            sh_in(
                hosts[0].ns.as_raw_fd(),
                "ip link set lo multicast on; ip route add 224.0.0.0/4 dev lo",
            )?;
        } else if n == 2 {
            let peer = format!("/proc/{pid}/fd/{}", hosts[1].ns.as_raw_fd());
            sh_in(
                hosts[0].ns.as_raw_fd(),
                &format!("ip link add eth0 type veth peer name eth0 netns {peer}"),
            )?;
        } else {
            let sw = new_netns()?;
            sh_in(
                sw.as_raw_fd(),
                "ip link set lo up
                 ip link add br0 type bridge mcast_snooping 0
                 ip link set br0 up",
            )?;
            for (i, h) in hosts.iter().enumerate() {
                let peer = format!("/proc/{pid}/fd/{}", h.ns.as_raw_fd());
                sh_in(
                    sw.as_raw_fd(),
                    &format!(
                        "ip link add p{i} type veth peer name eth0 netns {peer}
                         ip link set p{i} master br0
                         ip link set p{i} up"
                    ),
                )?;
            }
            switch = Some(sw);
        }
        let lab = Lab { hosts, switch };
        if n > 1 {
            for i in 0..n {
                lab.link_up(i)?;
            }
            for i in 0..n {
                lab.wait_operstate_up(i)?;
            }
        }
        Ok(lab)
    }

    pub fn len(&self) -> usize {
        self.hosts.len()
    }

    pub fn host(&self, h: usize) -> &Host {
        &self.hosts[h]
    }

    /// Host `h`'s IPv4 address as an `IpAddr`.
    pub fn v4(&self, h: usize) -> IpAddr {
        IpAddr::V4(self.hosts[h].v4)
    }

    /// Host `h`'s IPv6 (ULA) address as an `IpAddr`.
    pub fn v6(&self, h: usize) -> IpAddr {
        IpAddr::V6(self.hosts[h].v6)
    }

    /// Run `f` on host `h` (on a thread in its namespace) and return its
    /// result; a panic in `f` is re-raised here.
    pub fn run_on<T: Send, F: FnOnce() -> T + Send>(&self, h: usize, f: F) -> T {
        let fd = self.hosts[h].ns.as_raw_fd();
        let name = self.hosts[h].name.clone();
        std::thread::scope(|s| {
            let t = std::thread::Builder::new()
                .name(name)
                .spawn_scoped(s, move || {
                    enter(fd).expect("lab: setns");
                    f()
                })
                .expect("lab: spawn thread");
            match t.join() {
                Ok(v) => v,
                Err(p) => std::panic::resume_unwind(p),
            }
        })
    }

    /// Start `f` on host `h` on its own thread and return at once. The
    /// namespace stays alive while the thread runs, even past the `Lab`.
    pub fn spawn_on<T, F>(&self, h: usize, f: F) -> JoinHandle<T>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        // The thread enters before spawn_on returns, so the fd is still open.
        let fd = self.hosts[h].ns.as_raw_fd();
        let (tx, rx) = std::sync::mpsc::channel();
        let t = std::thread::Builder::new()
            .name(self.hosts[h].name.clone())
            .spawn(move || {
                let r = enter(fd);
                let ok = r.is_ok();
                let _ = tx.send(r);
                assert!(ok, "lab: setns failed");
                f()
            })
            .expect("lab: spawn thread");
        rx.recv().expect("lab: thread start").expect("lab: setns");
        t
    }

    /// A `Command` that runs on host `h` (spawn it while the `Lab` lives).
    pub fn command(&self, h: usize, program: impl AsRef<OsStr>) -> Command {
        command_in(self.hosts[h].ns.as_raw_fd(), program)
    }

    /// Spawn a `command(h, ..)`; the process is killed when the guard drops.
    pub fn spawn(&self, cmd: &mut Command) -> io::Result<LabChild> {
        cmd.spawn().map(LabChild)
    }

    /// Run a shell script on host `h`; error on a non-zero exit.
    pub fn sh(&self, h: usize, script: &str) -> io::Result<Output> {
        sh_in(self.hosts[h].ns.as_raw_fd(), script)
    }

    /// Wait (up to 5 s) until host `h`'s link is operationally up. The
    /// kernel attaches the link's queue when it handles the carrier
    /// change, a moment after `ip link set up` returns (later on a busy
    /// machine); a datagram sent before that is dropped without an error.
    fn wait_operstate_up(&self, h: usize) -> io::Result<()> {
        let dev = &self.hosts[h].ifname;
        let t = std::time::Instant::now();
        loop {
            let out = self.sh(h, &format!("ip -o link show dev {dev}"))?;
            if String::from_utf8_lossy(&out.stdout).contains("state UP") {
                return Ok(());
            }
            if t.elapsed() > std::time::Duration::from_secs(5) {
                return Err(io::Error::other(format!(
                    "{dev} of host {h} is not up after 5 s"
                )));
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }

    /// Take host `h`'s link down (its addresses and routes go with it).
    pub fn link_down(&self, h: usize) -> io::Result<()> {
        let host = &self.hosts[h];
        self.sh(h, &format!("ip link set {} down", host.ifname))
            .map(drop)
    }

    /// Bring host `h`'s link up with its addresses and multicast route.
    pub fn link_up(&self, h: usize) -> io::Result<()> {
        let host = &self.hosts[h];
        let dev = &host.ifname;
        self.sh(
            h,
            &format!(
                "ip link set {dev} multicast on
                 ip link set {dev} up
                 ip addr replace {}/24 dev {dev}
                 ip -6 addr replace {}/64 dev {dev} nodad
                 ip route replace 224.0.0.0/4 dev {dev}",
                host.v4, host.v6
            ),
        )
        .map(drop)
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let mut inodes: Vec<u64> = self
            .hosts
            .iter()
            .filter_map(|h| fd_inode(h.ns.as_raw_fd()))
            .collect();
        if let Some(sw) = &self.switch {
            inodes.extend(fd_inode(sw.as_raw_fd()));
        }
        // Children left running (spawned without a LabChild guard).
        let me = std::process::id();
        let Ok(dir) = std::fs::read_dir("/proc") else {
            return;
        };
        for e in dir.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
                continue;
            };
            if pid == me {
                continue;
            }
            if netns_inode_of(&format!("/proc/{pid}/ns/net")).is_ok_and(|i| inodes.contains(&i)) {
                // SAFETY: signalling a process living in our private namespace.
                unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
            }
        }
    }
}

fn fd_inode(fd: RawFd) -> Option<u64> {
    netns_inode_of(&format!("/proc/self/fd/{fd}")).ok()
}

fn lab_timeout() -> Duration {
    let secs = std::env::var(ENV_TIMEOUT)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    Duration::from_secs(secs)
}

/// Wait for `child` at most `limit`, collecting its output; None = killed.
fn wait_bounded(mut child: Child, limit: Duration) -> (Option<ExitStatus>, String, String) {
    fn reader(mut r: impl Read + Send + 'static) -> JoinHandle<String> {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            String::from_utf8_lossy(&buf).into_owned()
        })
    }
    let out = reader(child.stdout.take().expect("piped"));
    let err = reader(child.stderr.take().expect("piped"));
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if start.elapsed() < limit => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    (
        status,
        out.join().unwrap_or_default(),
        err.join().unwrap_or_default(),
    )
}

//! The driver's side of the network, opened only when a call needs it:
//! the ephemeral-port socket of a family when a one-shot query first goes
//! out (RFC 6762 s5.1), the port-5353 socket of a family (joined to the
//! group on every chosen interface) when the engine first sends from 5353
//! or a registration or browse must hear the link, and a family only when
//! an interface carries it. A fresh lookup answered on the ephemeral port
//! never opens a 5353 socket.
//!
//! Sockets are opened under the state lock and published through
//! `OnceLock`s, so the driver reads and polls them without the lock.
//!
//! An engine belongs to the network namespace of the thread that started
//! it, as when it opened everything at start: a socket opened later from
//! a thread of another namespace (a test's lab host, a program that
//! switches namespaces) is opened in the engine's own (`NetNs`).

use std::collections::HashSet;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use super::super::iface::{self, IfaceFilter};
use super::super::socket::MdnsSocket;
use super::super::{Family, IfIndex, Interface, Received};
use crate::error::{Error, Result};

fn slot(f: Family) -> usize {
    match f {
        Family::V4 => 0,
        Family::V6 => 1,
    }
}

/// The sockets opened so far, per family.
#[derive(Default)]
pub(super) struct SocketSet {
    /// Port 5353, shared with other stacks (SO_REUSEPORT).
    listen: [OnceLock<MdnsSocket>; 2],
    /// Ephemeral port: one-shot queries and their unicast answers.
    eph: [OnceLock<MdnsSocket>; 2],
}

impl SocketSet {
    pub fn listen(&self, f: Family) -> Option<&MdnsSocket> {
        self.listen[slot(f)].get()
    }

    pub fn eph(&self, f: Family) -> Option<&MdnsSocket> {
        self.eph[slot(f)].get()
    }

    /// Every socket open now, with whether it is an ephemeral one; the
    /// ephemeral ones first: what they hear answers our own lookups, and
    /// goes ahead of a backlog on 5353.
    pub fn open_now(&self) -> Vec<(&MdnsSocket, bool)> {
        let eph = self.eph.iter().filter_map(|s| s.get().map(|s| (s, true)));
        let listen = self
            .listen
            .iter()
            .filter_map(|s| s.get().map(|s| (s, false)));
        eph.chain(listen).collect()
    }
}

const THREAD_NS: &std::ffi::CStr = c"/proc/thread-self/ns/net";

fn open_ns() -> io::Result<OwnedFd> {
    // SAFETY: a NUL-terminated path; the descriptor is owned below.
    let fd = unsafe { libc::open(THREAD_NS.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh descriptor we own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn ns_id(fd: &OwnedFd) -> io::Result<(u64, u64)> {
    // SAFETY: fstat into a zeroed local.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstat(fd.as_raw_fd(), &mut st) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((st.st_dev, st.st_ino))
}

/// The calling thread's namespace, by one stat(2) of its /proc link (no
/// descriptor to open and close).
fn current_ns_id() -> io::Result<(u64, u64)> {
    // SAFETY: stat of a NUL-terminated path into a zeroed local.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::stat(THREAD_NS.as_ptr(), &mut st) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((st.st_dev, st.st_ino))
}

fn set_ns(fd: &OwnedFd) -> io::Result<()> {
    // SAFETY: setns(2) on a namespace descriptor we own.
    if unsafe { libc::setns(fd.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The network namespace an engine was started in.
pub(super) struct NetNs {
    /// None where /proc is not mounted: everything then opens in the
    /// calling thread's namespace. With it, the namespace's identity.
    fd: Option<(OwnedFd, (u64, u64))>,
}

impl NetNs {
    pub fn here() -> NetNs {
        let fd = open_ns()
            .ok()
            .and_then(|fd| ns_id(&fd).ok().map(|id| (fd, id)));
        NetNs { fd }
    }

    /// For an engine that lives within one call on the caller's thread
    /// (a one-shot lookup): no other thread opens its sockets and the
    /// calling thread cannot change namespace during the call (setns(2)
    /// moves only the thread that calls it), so there is nothing to
    /// compare and /proc is not read.
    pub fn this_call() -> NetNs {
        NetNs { fd: None }
    }

    /// Whether the calling thread is in another namespace than this one.
    fn elsewhere(&self) -> Option<&OwnedFd> {
        let (fd, id) = self.fd.as_ref()?;
        match current_ns_id() {
            Ok(cur) if cur != *id => Some(fd),
            _ => None,
        }
    }

    /// Run `f` in this namespace: at once when the calling thread is in
    /// it, else after entering it (and back after). The namespace is
    /// compared every time, never the thread: a thread id is reused once
    /// its thread ends, and a thread may have moved to another namespace
    /// since it started the engine.
    pub fn run<T>(&self, f: impl FnOnce() -> T) -> T {
        let Some(fd) = self.elsewhere() else {
            return f();
        };
        let Ok(cur) = open_ns() else { return f() };
        if set_ns(fd).is_err() {
            return f();
        }
        let r = f();
        let _ = set_ns(&cur);
        r
    }

    /// Move the calling thread (the driver thread) into this namespace
    /// for good.
    pub fn enter(&self) {
        if let Some(fd) = self.elsewhere() {
            let _ = set_ns(fd);
        }
    }
}

/// Interfaces, sockets and group memberships (kept in the driver's state).
pub(super) struct Net {
    pub sockets: Arc<SocketSet>,
    pub filter: IfaceFilter,
    /// The interfaces mDNS runs on now.
    pub ifaces: Vec<Interface>,
    joined: HashSet<(Family, IfIndex)>,
    /// Groups whose join failed (warned about once).
    join_failed: HashSet<(Family, IfIndex)>,
    /// When `ifaces` was read.
    pub scanned: Instant,
    pub ns: NetNs,
}

impl Net {
    /// The interface table now; no socket yet. `ns`: where later sockets
    /// are opened (`NetNs::here` unless the engine lives within one call).
    pub fn new(filter: IfaceFilter, ns: NetNs) -> Result<Net> {
        let ifaces =
            iface::list(&filter).map_err(|e| Error::Io(format!("listing interfaces: {e}")))?;
        Ok(Net {
            sockets: Arc::default(),
            filter,
            ifaces,
            joined: HashSet::new(),
            join_failed: HashSet::new(),
            scanned: Instant::now(),
            ns,
        })
    }

    /// Families allowed by the option and carried by an interface now.
    pub fn families_in_use(&self) -> Vec<Family> {
        self.filter
            .families()
            .into_iter()
            .filter(|f| self.ifaces.iter().any(|i| i.has_family(*f)))
            .collect()
    }

    /// Open the 5353 socket of `f` (and join its groups) unless open.
    pub fn ensure_listen(&mut self, f: Family) -> io::Result<()> {
        if self.sockets.listen(f).is_none() {
            let s = self.ns.run(|| MdnsSocket::open(f))?;
            // Under the state lock: nobody else sets this slot meanwhile.
            let _ = self.sockets.listen[slot(f)].set(s);
            self.join_groups();
        }
        Ok(())
    }

    /// Open the ephemeral socket of `f` unless open.
    pub fn ensure_eph(&mut self, f: Family) -> io::Result<()> {
        if self.sockets.eph(f).is_none() {
            let s = self.ns.run(|| MdnsSocket::open_ephemeral(f))?;
            let _ = self.sockets.eph[slot(f)].set(s);
        }
        Ok(())
    }

    /// A registration or a browse must hear the link: 5353 for every
    /// family in use. Io error when a family is in use and none opens.
    pub fn listen_all(&mut self) -> Result<()> {
        let fams = self.families_in_use();
        let mut errors = Vec::new();
        for f in &fams {
            if let Err(e) = self.ensure_listen(*f) {
                errors.push(format!("{f:?}: {e}"));
            }
        }
        if !fams.is_empty() && errors.len() == fams.len() {
            return Err(Error::Io(format!(
                "no mDNS socket could be opened: {}",
                errors.join("; ")
            )));
        }
        Ok(())
    }

    /// A one-shot query is about to go out: the ephemeral socket of every
    /// family in use; where none opens, 5353 instead (answered then like
    /// any query, RFC 6762 s5.1).
    pub fn prepare_one_shot(&mut self) -> Result<()> {
        let fams = self.families_in_use();
        let opened = fams.iter().filter(|f| self.ensure_eph(**f).is_ok()).count();
        if opened == 0 && !fams.is_empty() {
            return self.listen_all();
        }
        Ok(())
    }

    /// Join the group on the interfaces new to `ifaces`, leave the gone
    /// ones, for every 5353 socket open.
    pub fn join_groups(&mut self) {
        let sockets = Arc::clone(&self.sockets);
        let mut want: HashSet<(Family, IfIndex)> = HashSet::new();
        for f in [Family::V4, Family::V6] {
            if sockets.listen(f).is_some() {
                for i in self.ifaces.iter().filter(|i| i.has_family(f)) {
                    want.insert((f, i.index));
                }
            }
        }
        for &(f, idx) in self.joined.iter().filter(|k| !want.contains(k)) {
            if let Some(s) = sockets.listen(f) {
                s.leave(idx);
            }
        }
        self.joined.retain(|k| want.contains(k));
        for &(f, idx) in &want {
            if self.joined.contains(&(f, idx)) {
                continue;
            }
            let Some(s) = sockets.listen(f) else { continue };
            match s.join(idx) {
                Ok(()) => {
                    self.joined.insert((f, idx));
                    self.join_failed.remove(&(f, idx));
                }
                // Retried at every rescan; said once per interface.
                Err(e) if self.join_failed.insert((f, idx)) => {
                    let name = self
                        .ifaces
                        .iter()
                        .find(|i| i.index == idx)
                        .map_or("?", |i| i.name.as_str());
                    crate::log::log(
                        crate::log::LogLevel::Warning,
                        &format!(
                            "cannot join {} on interface {name} (index {idx}): {e}; \
                             queries there go unheard (the kernel's multicast \
                             membership limit, net.ipv4.igmp_max_memberships, \
                             when ENOBUFS)",
                            f.group().ip()
                        ),
                    );
                }
                Err(_) => {}
            }
        }
        self.join_failed.retain(|k| want.contains(k));
    }

    /// Re-read the interface table; the new list when it changed.
    pub fn rescan(&mut self, now: Instant) -> Option<Vec<Interface>> {
        self.scanned = now;
        let list = self.ns.run(|| iface::list(&self.filter)).ok()?;
        let changed = list != self.ifaces;
        self.ifaces = list;
        // A retry of failed joins costs nothing when all are in place.
        self.join_groups();
        changed.then(|| self.ifaces.clone())
    }

    /// Whether a packet arrived on an interface (and family) we serve.
    pub fn serves(&self, from: &Received) -> bool {
        let fam = Family::of(&from.src.ip());
        self.ifaces
            .iter()
            .any(|i| i.index == from.iface && i.has_family(fam))
    }

    /// The first IPv4 address of interface `index`: the source of what we
    /// send there.
    pub fn v4_source(&self, index: IfIndex) -> Option<std::net::Ipv4Addr> {
        let i = self.ifaces.iter().find(|i| i.index == index)?;
        i.addrs.iter().find_map(|a| match a.addr {
            std::net::IpAddr::V4(v4) => Some(v4),
            std::net::IpAddr::V6(_) => None,
        })
    }

    /// Whether `ip` is one of our interfaces' addresses.
    pub fn is_our_address(&self, ip: &std::net::IpAddr) -> bool {
        self.ifaces
            .iter()
            .any(|i| i.addrs.iter().any(|a| a.addr == *ip))
    }
}

//! Interface enumeration and change notification (rtnetlink).
//!
//! Chosen interfaces: up, running (carrier) and flagged MULTICAST. Loopback
//! is not special: `lo` is used when someone turned its MULTICAST flag on
//! (the one-host lab does, docs/LAB.md), and skipped otherwise (the default).

use std::collections::BTreeMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use super::{Family, IfAddr, Interface};

/// Which interfaces and families the caller allows (`MdnsOptions.interfaces`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IfaceFilter {
    /// None: every multicast interface, both families.
    pub addresses: Option<Vec<IpAddr>>,
}

impl IfaceFilter {
    /// The families in use: those of the listed addresses, or both.
    pub fn families(&self) -> Vec<Family> {
        match &self.addresses {
            None => vec![Family::V4, Family::V6],
            Some(list) => {
                let mut f: Vec<Family> =
                    list.iter().map(|a| Family::of(&a.to_canonical())).collect();
                f.sort();
                f.dedup();
                f
            }
        }
    }

    /// Apply to one interface's full address list: None when the interface
    /// is not chosen, else the addresses kept (all of the interface's
    /// addresses of each family that has a listed address on it).
    pub fn apply(&self, addrs: &[IfAddr]) -> Option<Vec<IfAddr>> {
        let kept: Vec<IfAddr> = match &self.addresses {
            None => addrs.to_vec(),
            Some(list) => {
                let fams: Vec<Family> = list
                    .iter()
                    .filter(|l| addrs.iter().any(|a| same_addr(&a.addr, l)))
                    .map(|l| Family::of(&l.to_canonical()))
                    .collect();
                addrs
                    .iter()
                    .filter(|a| fams.contains(&Family::of(&a.addr)))
                    .copied()
                    .collect()
            }
        };
        (!kept.is_empty()).then_some(kept)
    }
}

/// Equal addresses, an IPv4-mapped IPv6 address matching its IPv4 form.
fn same_addr(a: &IpAddr, b: &IpAddr) -> bool {
    a.to_canonical() == b.to_canonical()
}

/// One raw entry of the interface table, before filtering.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawIface {
    pub index: u32,
    pub name: String,
    pub flags: u32,
    pub addrs: Vec<IfAddr>,
}

/// Whether an interface with these flags carries mDNS.
pub fn usable_flags(flags: u32) -> bool {
    let need = (libc::IFF_UP | libc::IFF_RUNNING | libc::IFF_MULTICAST) as u32;
    flags & need == need
}

/// Select and filter: the interfaces mDNS runs on, sorted by index.
pub fn choose(raw: Vec<RawIface>, filter: &IfaceFilter) -> Vec<Interface> {
    raw.into_iter()
        .filter(|r| usable_flags(r.flags))
        .filter_map(|r| {
            filter.apply(&r.addrs).map(|addrs| Interface {
                index: r.index,
                name: r.name,
                addrs,
            })
        })
        .collect()
}

/// The interface table: two rtnetlink dumps on one socket, the links
/// (without their statistics) and then the addresses. getifaddrs(3) asks
/// for every link's counters as well, which cost 0.1-0.5 ms per call on a
/// veth in the lab (RTEXT_FILTER_SKIP_STATS: about 20 us), more than the
/// rest of a one-shot lookup's start; a fresh engine pays this each time.
pub fn list_raw() -> io::Result<Vec<RawIface>> {
    let nl = Rtnl::open()?;
    // A dump interrupted by a change (NLM_F_DUMP_INTR) is read again.
    let mut tries = 0;
    loop {
        tries += 1;
        let mut by_index: BTreeMap<u32, RawIface> = BTreeMap::new();
        let links = nl.dump(libc::RTM_GETLINK, |payload| {
            if let Some(r) = parse_link(payload) {
                by_index.insert(r.index, r);
            }
        })?;
        let addrs = nl.dump(libc::RTM_GETADDR, |payload| {
            if let Some((index, a)) = parse_addr(payload) {
                if let Some(r) = by_index.get_mut(&index) {
                    r.addrs.push(a);
                }
            }
        })?;
        if (links == Dump::Complete && addrs == Dump::Complete) || tries == 3 {
            return Ok(by_index.into_values().collect());
        }
    }
}

/// How a dump ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dump {
    Complete,
    /// The table changed while it was read (NLM_F_DUMP_INTR).
    Interrupted,
}

const NLMSG_HDRLEN: usize = 16;
/// sizeof(struct ifinfomsg), sizeof(struct ifaddrmsg)
const IFINFOMSG_LEN: usize = 16;
const IFADDRMSG_LEN: usize = 8;

const fn nl_align(n: usize) -> usize {
    (n + 3) & !3
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// The (type, value) attributes that follow a fixed header in `b`; a
/// malformed tail ends the walk.
fn attrs(b: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    let mut off = 0;
    std::iter::from_fn(move || {
        let len = usize::from(u16_at(b, off)?);
        let kind = u16_at(b, off + 2)?;
        let value = b.get(off + 4..off + len)?;
        off += nl_align(len.max(4));
        Some((kind, value))
    })
}

/// An RTM_NEWLINK payload: index, flags and name (no address yet).
fn parse_link(p: &[u8]) -> Option<RawIface> {
    let index = u32_at(p, 4)?;
    let flags = u32_at(p, 8)?;
    let name = attrs(p.get(IFINFOMSG_LEN..)?)
        .find(|(k, _)| *k == libc::IFLA_IFNAME)
        .map(|(_, v)| {
            let v = v.split(|c| *c == 0).next().unwrap_or(v);
            String::from_utf8_lossy(v).into_owned()
        })?;
    (index != 0).then_some(RawIface {
        index,
        name,
        flags,
        addrs: Vec::new(),
    })
}

/// An RTM_NEWADDR payload: the interface index and the address with its
/// prefix. The local address (IFA_LOCAL) wins over IFA_ADDRESS, which is
/// the peer's on a point-to-point link (as getifaddrs reads them).
fn parse_addr(p: &[u8]) -> Option<(u32, IfAddr)> {
    let family = i32::from(*p.first()?);
    let prefix_len = *p.get(1)?;
    let index = u32_at(p, 4)?;
    let (mut address, mut local) = (None, None);
    for (kind, v) in attrs(p.get(IFADDRMSG_LEN..)?) {
        let ip = match (family, v.len()) {
            (libc::AF_INET, 4) => IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(v).ok()?)),
            (libc::AF_INET6, 16) => IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(v).ok()?)),
            _ => continue,
        };
        match kind {
            libc::IFA_ADDRESS => address = Some(ip),
            libc::IFA_LOCAL => local = Some(ip),
            _ => {}
        }
    }
    let addr = local.or(address)?;
    Some((index, IfAddr { addr, prefix_len }))
}

/// A NETLINK_ROUTE socket for one-off dumps.
struct Rtnl {
    fd: OwnedFd,
    seq: std::cell::Cell<u32>,
}

impl Rtnl {
    fn open() -> io::Result<Rtnl> {
        // SAFETY: plain socket(2) call; the fd is owned below.
        let raw = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::NETLINK_ROUTE,
            )
        };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a fresh descriptor we own.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        Ok(Rtnl {
            fd,
            seq: std::cell::Cell::new(1),
        })
    }

    /// Ask for a dump of `kind` (all families) and hand each answer's
    /// payload to `each`.
    fn dump(&self, kind: u16, mut each: impl FnMut(&[u8])) -> io::Result<Dump> {
        let seq = self.seq.get();
        self.seq.set(seq.wrapping_add(1));
        let mut req = Vec::with_capacity(40);
        let body = if kind == libc::RTM_GETLINK {
            IFINFOMSG_LEN + 8
        } else {
            IFADDRMSG_LEN
        };
        req.extend_from_slice(&((NLMSG_HDRLEN + body) as u32).to_ne_bytes());
        req.extend_from_slice(&kind.to_ne_bytes());
        req.extend_from_slice(&((libc::NLM_F_REQUEST | libc::NLM_F_DUMP) as u16).to_ne_bytes());
        req.extend_from_slice(&seq.to_ne_bytes());
        req.extend_from_slice(&0u32.to_ne_bytes()); // to the kernel
        if kind == libc::RTM_GETLINK {
            req.resize(NLMSG_HDRLEN + IFINFOMSG_LEN, 0); // AF_UNSPEC, any link
            req.extend_from_slice(&8u16.to_ne_bytes());
            req.extend_from_slice(&libc::IFLA_EXT_MASK.to_ne_bytes());
            req.extend_from_slice(&(libc::RTEXT_FILTER_SKIP_STATS as u32).to_ne_bytes());
        } else {
            req.resize(NLMSG_HDRLEN + IFADDRMSG_LEN, 0); // AF_UNSPEC, any address
        }
        // SAFETY: zeroed sockaddr_nl is a valid value (nl_pid 0: the kernel).
        let mut sa: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        sa.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        // SAFETY: sending our buffer to a properly sized sockaddr_nl.
        let n = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                req.as_ptr().cast(),
                req.len(),
                0,
                &sa as *const libc::sockaddr_nl as *const libc::sockaddr,
                std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let bad =
            |what: &str| io::Error::new(io::ErrorKind::InvalidData, format!("rtnetlink: {what}"));
        // The kernel sends a dump in datagrams of at most 32 KiB.
        let mut buf = vec![0u8; 32 * 1024];
        let mut state = Dump::Complete;
        loop {
            // SAFETY: reading into our buffer of the given size; MSG_TRUNC
            // makes the result the datagram's full length.
            let n = unsafe {
                libc::recv(
                    self.fd.as_raw_fd(),
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    libc::MSG_TRUNC,
                )
            };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            let n = n as usize;
            if n > buf.len() {
                return Err(bad("answer larger than 32 KiB"));
            }
            let mut off = 0;
            while off + NLMSG_HDRLEN <= n {
                let len = u32_at(&buf, off).unwrap_or(0) as usize;
                if len < NLMSG_HDRLEN || off + len > n {
                    return Err(bad("malformed message"));
                }
                let msg_type = u16_at(&buf, off + 4).unwrap_or(0);
                let flags = u16_at(&buf, off + 6).unwrap_or(0);
                let msg_seq = u32_at(&buf, off + 8).unwrap_or(0);
                let payload = &buf[off + NLMSG_HDRLEN..off + len];
                off += nl_align(len);
                if msg_seq != seq {
                    continue; // an answer to an earlier request
                }
                if flags & libc::NLM_F_DUMP_INTR as u16 != 0 {
                    state = Dump::Interrupted;
                }
                match i32::from(msg_type) {
                    libc::NLMSG_DONE => return Ok(state),
                    libc::NLMSG_ERROR => {
                        let code = u32_at(payload, 0).ok_or_else(|| bad("short error"))? as i32;
                        if code != 0 {
                            return Err(io::Error::from_raw_os_error(-code));
                        }
                        return Ok(state);
                    }
                    _ => each(payload),
                }
            }
        }
    }
}

/// The interfaces mDNS runs on now.
pub fn list(filter: &IfaceFilter) -> io::Result<Vec<Interface>> {
    Ok(choose(list_raw()?, filter))
}

/// A NETLINK_ROUTE socket subscribed to link and address changes. Readable
/// when something changed; `drain` empties it. No periodic polling.
#[derive(Debug)]
pub struct Watcher {
    fd: OwnedFd,
}

impl Watcher {
    pub fn open() -> io::Result<Watcher> {
        // SAFETY: plain socket(2) call; the fd is owned below.
        let raw = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                libc::NETLINK_ROUTE,
            )
        };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a fresh descriptor we own.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        // SAFETY: zeroed sockaddr_nl is a valid value.
        let mut sa: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        sa.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        sa.nl_groups =
            (libc::RTMGRP_LINK | libc::RTMGRP_IPV4_IFADDR | libc::RTMGRP_IPV6_IFADDR) as u32;
        // SAFETY: binding our socket to a properly sized sockaddr_nl.
        let rc = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                &sa as *const libc::sockaddr_nl as *const libc::sockaddr,
                std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
            )
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Watcher { fd })
    }

    /// Read and discard every pending message; true if there was any (or
    /// the socket overflowed: either way, re-enumerate).
    pub fn drain(&self) -> bool {
        let mut buf = [0u8; 8192];
        let mut any = false;
        loop {
            // SAFETY: reading into a local buffer of the given size.
            let n =
                unsafe { libc::recv(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
            if n > 0 {
                any = true;
                continue;
            }
            if n < 0 && io::Error::last_os_error().raw_os_error() == Some(libc::ENOBUFS) {
                any = true; // lost messages: the caller re-enumerates anyway
                continue;
            }
            return any;
        }
    }
}

impl AsRawFd for Watcher {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

#[cfg(test)]
mod tests;

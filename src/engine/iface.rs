//! Interface enumeration (getifaddrs) and change notification (netlink).
//! OWNER: driver helper. Declared as `engine::socket::iface`.
//!
//! Chosen interfaces: up, running (carrier) and flagged MULTICAST. Loopback
//! is not special: `lo` is used when someone turned its MULTICAST flag on
//! (the one-host lab does, docs/LAB.md), and skipped otherwise (the default).

use std::collections::BTreeMap;
use std::ffi::CStr;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use super::super::{Family, IfAddr, Interface};

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

fn prefix_len(mask: &[u8]) -> u8 {
    mask.iter().map(|b| b.count_ones() as u8).sum()
}

/// The interface table, from getifaddrs(3).
pub fn list_raw() -> io::Result<Vec<RawIface>> {
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `head` with a list freed below.
    if unsafe { libc::getifaddrs(&mut head) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let mut by_name: BTreeMap<String, RawIface> = BTreeMap::new();
    let mut cur = head;
    while !cur.is_null() {
        // SAFETY: a node of the list returned by getifaddrs.
        let ifa = unsafe { &*cur };
        cur = ifa.ifa_next;
        if ifa.ifa_name.is_null() {
            continue;
        }
        // SAFETY: NUL-terminated name owned by the list.
        let name = unsafe { CStr::from_ptr(ifa.ifa_name) }
            .to_string_lossy()
            .into_owned();
        // The index comes with the link's AF_PACKET entry (no syscall);
        // an interface without one is asked for it below.
        let entry = by_name.entry(name.clone()).or_insert_with(|| RawIface {
            index: 0,
            name,
            flags: ifa.ifa_flags,
            addrs: Vec::new(),
        });
        if ifa.ifa_addr.is_null() {
            continue;
        }
        // SAFETY: ifa_addr points to a sockaddr of the family it names;
        // the netmask, when present, has the same family.
        unsafe {
            match (*ifa.ifa_addr).sa_family as i32 {
                libc::AF_PACKET => {
                    let sll = &*(ifa.ifa_addr as *const libc::sockaddr_ll);
                    entry.index = sll.sll_ifindex as u32;
                }
                libc::AF_INET => {
                    let sin = &*(ifa.ifa_addr as *const libc::sockaddr_in);
                    let addr = Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr));
                    let plen = if ifa.ifa_netmask.is_null() {
                        32
                    } else {
                        let m = &*(ifa.ifa_netmask as *const libc::sockaddr_in);
                        prefix_len(&m.sin_addr.s_addr.to_ne_bytes())
                    };
                    entry.addrs.push(IfAddr {
                        addr: IpAddr::V4(addr),
                        prefix_len: plen,
                    });
                }
                libc::AF_INET6 => {
                    let sin6 = &*(ifa.ifa_addr as *const libc::sockaddr_in6);
                    let addr = Ipv6Addr::from(sin6.sin6_addr.s6_addr);
                    let plen = if ifa.ifa_netmask.is_null() {
                        128
                    } else {
                        let m = &*(ifa.ifa_netmask as *const libc::sockaddr_in6);
                        prefix_len(&m.sin6_addr.s6_addr)
                    };
                    entry.addrs.push(IfAddr {
                        addr: IpAddr::V6(addr),
                        prefix_len: plen,
                    });
                }
                _ => {}
            }
        }
    }
    // SAFETY: the list from getifaddrs, not used after this.
    unsafe { libc::freeifaddrs(head) };
    for r in by_name.values_mut().filter(|r| r.index == 0) {
        if let Ok(c) = std::ffi::CString::new(r.name.as_str()) {
            // SAFETY: a valid NUL-terminated name.
            r.index = unsafe { libc::if_nametoindex(c.as_ptr()) };
        }
    }
    let mut v: Vec<RawIface> = by_name.into_values().filter(|r| r.index != 0).collect();
    v.sort_by_key(|r| r.index);
    Ok(v)
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
mod tests {
    use super::*;

    const UMC: u32 = (libc::IFF_UP | libc::IFF_RUNNING | libc::IFF_MULTICAST) as u32;

    fn a(s: &str, p: u8) -> IfAddr {
        IfAddr {
            addr: s.parse().unwrap(),
            prefix_len: p,
        }
    }

    fn raw() -> Vec<RawIface> {
        vec![
            RawIface {
                index: 1,
                name: "lo".into(),
                flags: (libc::IFF_UP | libc::IFF_RUNNING | libc::IFF_LOOPBACK) as u32,
                addrs: vec![a("127.0.0.1", 8), a("::1", 128)],
            },
            RawIface {
                index: 2,
                name: "eth0".into(),
                flags: UMC,
                addrs: vec![a("198.18.0.1", 24), a("fd00:99::1", 64), a("fe80::1", 64)],
            },
            RawIface {
                index: 3,
                name: "eth1".into(),
                flags: (libc::IFF_UP | libc::IFF_MULTICAST) as u32,
                addrs: vec![a("198.19.0.1", 24)],
            },
            RawIface {
                index: 4,
                name: "eth2".into(),
                flags: UMC,
                addrs: vec![a("198.19.1.1", 24)],
            },
            RawIface {
                index: 5,
                name: "eth3".into(),
                flags: UMC,
                addrs: vec![],
            },
        ]
    }

    fn names(v: &[Interface]) -> Vec<(&str, Vec<String>)> {
        v.iter()
            .map(|i| {
                (
                    i.name.as_str(),
                    i.addrs.iter().map(|a| a.addr.to_string()).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn choose_table() {
        // (interfaces option, chosen interfaces with their kept addresses)
        type Row<'a> = (Option<Vec<&'a str>>, Vec<(&'a str, Vec<&'a str>)>);
        let rows: Vec<Row> = vec![
            // no option: up + running + multicast (lo without MULTICAST,
            // eth1 without carrier, eth3 without address are out)
            (
                None,
                vec![
                    ("eth0", vec!["198.18.0.1", "fd00:99::1", "fe80::1"]),
                    ("eth2", vec!["198.19.1.1"]),
                ],
            ),
            // an IPv4 address: that interface, IPv4 only
            (Some(vec!["198.18.0.1"]), vec![("eth0", vec!["198.18.0.1"])]),
            // an IPv6 address: that interface, IPv6 only (all its IPv6)
            (
                Some(vec!["fd00:99::1"]),
                vec![("eth0", vec!["fd00:99::1", "fe80::1"])],
            ),
            // both families listed
            (
                Some(vec!["fd00:99::1", "198.18.0.1"]),
                vec![("eth0", vec!["198.18.0.1", "fd00:99::1", "fe80::1"])],
            ),
            // an address nobody holds: nothing
            (Some(vec!["203.0.113.9"]), vec![]),
            // an interface without carrier is not chosen even when listed
            (
                Some(vec!["198.19.0.1", "198.19.1.1"]),
                vec![("eth2", vec!["198.19.1.1"])],
            ),
            // IPv4-mapped form of a listed address
            (
                Some(vec!["::ffff:198.19.1.1"]),
                vec![("eth2", vec!["198.19.1.1"])],
            ),
        ];
        for (opt, want) in rows {
            let f = IfaceFilter {
                addresses: opt
                    .as_ref()
                    .map(|v| v.iter().map(|s| s.parse().unwrap()).collect()),
            };
            let got = choose(raw(), &f);
            let want: Vec<(&str, Vec<String>)> = want
                .into_iter()
                .map(|(n, a)| (n, a.into_iter().map(String::from).collect()))
                .collect();
            assert_eq!(names(&got), want, "option {opt:?}");
        }
    }

    #[test]
    fn loopback_with_multicast_flag_is_used() {
        let mut r = raw();
        r[0].flags |= libc::IFF_MULTICAST as u32;
        let got = choose(r, &IfaceFilter::default());
        assert_eq!(got[0].name, "lo");
    }

    #[test]
    fn families_follow_the_option() {
        let f = |v: Option<Vec<&str>>| {
            IfaceFilter {
                addresses: v.map(|v| v.iter().map(|s| s.parse().unwrap()).collect()),
            }
            .families()
        };
        assert_eq!(f(None), vec![Family::V4, Family::V6]);
        assert_eq!(f(Some(vec!["198.18.0.1", "198.18.0.2"])), vec![Family::V4]);
        assert_eq!(f(Some(vec!["fd00:99::1"])), vec![Family::V6]);
    }

    #[test]
    fn prefix_from_mask() {
        assert_eq!(prefix_len(&[255, 255, 255, 0]), 24);
        assert_eq!(prefix_len(&[0xff; 16]), 128);
        assert_eq!(
            prefix_len(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0]),
            64
        );
    }

    /// Reading the real table opens no socket: safe anywhere. The indexes
    /// taken from the AF_PACKET entries are the kernel's.
    #[test]
    fn list_raw_reads_the_table() {
        let v = list_raw().expect("getifaddrs");
        assert!(v.iter().all(|r| r.index != 0));
        for r in &v {
            let c = std::ffi::CString::new(r.name.as_str()).unwrap();
            // SAFETY: a valid NUL-terminated name.
            assert_eq!(
                r.index,
                unsafe { libc::if_nametoindex(c.as_ptr()) },
                "{}",
                r.name
            );
        }
    }
}

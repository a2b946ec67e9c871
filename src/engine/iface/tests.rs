//! Interface choice and rtnetlink parsing, on recorded and built messages.

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

/// The netlink reading agrees with glibc's getifaddrs(3) on the real
/// table: the same interfaces (index, name, flags) and addresses with
/// their prefix lengths. Reading asks the kernel only (rtnetlink):
/// nothing is sent on a network, safe anywhere.
#[test]
fn list_raw_matches_getifaddrs() {
    use std::collections::BTreeSet;
    fn plen(mask: &[u8]) -> u8 {
        mask.iter().map(|b| b.count_ones() as u8).sum()
    }
    type Table = BTreeMap<u32, (String, u32, BTreeSet<(IpAddr, u8)>)>;
    let mut want = Table::new();
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `head`; every node is read before the
    // list is freed, each sockaddr as the family it names.
    unsafe {
        assert_eq!(libc::getifaddrs(&mut head), 0);
        let mut cur = head;
        while !cur.is_null() {
            let ifa = &*cur;
            cur = ifa.ifa_next;
            let name = std::ffi::CStr::from_ptr(ifa.ifa_name)
                .to_string_lossy()
                .into_owned();
            let index = libc::if_nametoindex(ifa.ifa_name);
            let e = want
                .entry(index)
                .or_insert_with(|| (name, ifa.ifa_flags, BTreeSet::new()));
            if ifa.ifa_addr.is_null() {
                continue;
            }
            match (*ifa.ifa_addr).sa_family as i32 {
                libc::AF_INET => {
                    let a = &*(ifa.ifa_addr as *const libc::sockaddr_in);
                    let m = &*(ifa.ifa_netmask as *const libc::sockaddr_in);
                    e.2.insert((
                        IpAddr::V4(Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr))),
                        plen(&m.sin_addr.s_addr.to_ne_bytes()),
                    ));
                }
                libc::AF_INET6 => {
                    let a = &*(ifa.ifa_addr as *const libc::sockaddr_in6);
                    let m = &*(ifa.ifa_netmask as *const libc::sockaddr_in6);
                    e.2.insert((
                        IpAddr::V6(Ipv6Addr::from(a.sin6_addr.s6_addr)),
                        plen(&m.sin6_addr.s6_addr),
                    ));
                }
                _ => {}
            }
        }
        libc::freeifaddrs(head);
    }
    let got: Table = list_raw()
        .expect("rtnetlink dump")
        .into_iter()
        .map(|r| {
            let addrs = r.addrs.iter().map(|a| (a.addr, a.prefix_len)).collect();
            (r.index, (r.name, r.flags, addrs))
        })
        .collect();
    assert!(!got.is_empty(), "no interface at all (not even lo)");
    assert_eq!(got, want);
}

/// Truncated or lying netlink payloads are skipped, never a panic.
#[test]
fn malformed_payloads_are_refused() {
    assert_eq!(parse_link(&[]), None);
    assert_eq!(parse_link(&[0; 15]), None);
    assert_eq!(parse_addr(&[2, 24]), None);
    // an attribute whose length runs past the end, one shorter than
    // its own header, and an address of the wrong size
    let mut link = vec![0u8; IFINFOMSG_LEN];
    link[4] = 7;
    for bad in [[200u8, 0, 3, 0], [2, 0, 3, 0]] {
        let mut p = link.clone();
        p.extend_from_slice(&bad);
        assert_eq!(parse_link(&p), None);
    }
    let mut addr = vec![libc::AF_INET as u8, 24, 0, 0, 9, 0, 0, 0];
    addr.extend_from_slice(&[7, 0, 2, 0, 198, 18, 0]); // 3-byte IPv4
    assert_eq!(parse_addr(&addr), None);
    // a well-formed one for contrast
    let mut ok = vec![libc::AF_INET as u8, 24, 0, 0, 9, 0, 0, 0];
    ok.extend_from_slice(&[8, 0, 2, 0, 198, 18, 0, 1]);
    assert_eq!(
        parse_addr(&ok),
        Some((
            9,
            IfAddr {
                addr: "198.18.0.1".parse().unwrap(),
                prefix_len: 24
            }
        ))
    );
}

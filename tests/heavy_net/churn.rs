//! Interface churn: links appear and vanish by the dozen while a
//! registration and a browse are live.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use simple_dns::{Packet, PacketFlag};

use super::*;
use crate::common::lab::Lab;

static WARNINGS: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn keep_warning(level: ironicmdns::log::LogLevel, msg: &str) {
    if level >= ironicmdns::log::LogLevel::Warning {
        WARNINGS.lock().unwrap().push(msg.to_string());
    }
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

fn rss_kib() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap()
}

/// Per source address on the far side: (probes, announcements) heard.
type Heard = HashMap<IpAddr, (u32, u32)>;

/// Listen on host 1's port 5353 (joined on every `w<n>` of the burst) for
/// `d`, counting our probes and announcements per source address.
fn hear_burst(s: &socket2::Socket, d: Duration) -> Heard {
    let mut heard = Heard::new();
    let until = Instant::now() + d;
    let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); 9000];
    while Instant::now() < until {
        let Ok((n, from)) = s.recv_from(&mut buf) else {
            continue;
        };
        // SAFETY: recv_from initialised the first n bytes.
        let data: Vec<u8> = buf[..n]
            .iter()
            .map(|b| unsafe { b.assume_init() })
            .collect();
        let Ok(p) = Packet::parse(&data) else {
            continue;
        };
        let ours = |rs: &[simple_dns::ResourceRecord]| {
            rs.iter()
                .any(|r| r.name.to_string() == INSTANCE.trim_end_matches('.') && r.ttl > 0)
        };
        let Some(src) = from.as_socket().map(|a| a.ip()) else {
            continue;
        };
        let e = heard.entry(src).or_default();
        if !p.has_flags(PacketFlag::RESPONSE) && ours(&p.name_servers) {
            e.0 += 1;
        } else if p.has_flags(PacketFlag::RESPONSE) && ours(&p.answers) {
            e.1 += 1;
        }
    }
    heard
}

/// One burst: `count` veths c<n> (host 0) / w<n> (host 1), 198.19.<n>.1/.2,
/// up at once; host 1 hears the probes and announcements on each; then all
/// of them are deleted.
fn burst(lab: &Lab, host1_ns: &str, first: usize, count: usize) -> Heard {
    let mut here = String::new();
    let mut there = String::new();
    for n in first..first + count {
        here += &format!(
            "ip link add c{n} type veth peer name w{n} netns {host1_ns}\n\
             ip addr add 198.19.{n}.1/24 dev c{n}\n\
             ip link set c{n} multicast on\n"
        );
        there += &format!(
            "ip addr add 198.19.{n}.2/24 dev w{n}\n\
             ip link set w{n} multicast on\nip link set w{n} up\n"
        );
    }
    lab.sh(0, &here).expect("veths made");
    lab.sh(1, &there).expect("far ends up");
    let listener = lab.run_on(1, || {
        let s = listener(ifindex("eth0"), false);
        for n in first..first + count {
            s.join_multicast_v4_n(
                &Ipv4Addr::new(224, 0, 0, 251),
                &socket2::InterfaceIndexOrAddress::Index(ifindex(&format!("w{n}"))),
            )
            .unwrap();
        }
        s
    });
    let up: String = (first..first + count)
        .map(|n| format!("ip link set c{n} up\n"))
        .collect();
    lab.sh(0, &up).expect("links up");
    // Probing starts within 250 ms, takes 750 ms; announcing at once after.
    let heard = lab.run_on(1, move || {
        hear_burst(&listener, Duration::from_millis(3500))
    });
    let down: String = (first..first + count)
        .map(|n| format!("ip link del c{n}\n"))
        .collect();
    lab.sh(0, &down).expect("links deleted");
    std::thread::sleep(Duration::from_millis(500));
    heard
}

/// 50 links come and go in two bursts of 25 while `baremetal` is registered
/// and a browse runs: each new link gets three probes and an announcement
/// (RFC 6762 s8), the 20-group IGMP membership limit of host 0 turns into a
/// warning naming the interface, and neither descriptors nor memory grow.
#[test]
fn fifty_links_come_and_go_under_a_registration_and_a_browse() {
    let Some(lab) = lab!() else { return };
    // The far side holds 50 memberships; ours keeps the kernel's default
    // (net.ipv4.igmp_max_memberships = 20) to meet ENOBUFS.
    lab.sh(1, "sysctl -qw net.ipv4.igmp_max_memberships=200")
        .expect("sysctl on host 1");
    let limit = lab
        .sh(0, "cat /proc/sys/net/ipv4/igmp_max_memberships")
        .unwrap();
    let limit: usize = String::from_utf8_lossy(&limit.stdout)
        .trim()
        .parse()
        .unwrap();
    let holder = lab
        .spawn(lab.command(1, "sleep").arg("300"))
        .expect("host 1 holder");
    let host1_ns = format!("/proc/{}/ns/net", holder.id());
    ironicmdns::log::set_log_hook(Some(keep_warning));

    let a = lab.v4(0);
    let (m, id) = lab.run_on(0, move || {
        let m = start(None);
        let id = m
            .register(baremetal(vec![a]), PROBE_LIMIT)
            .expect("registered");
        (Arc::new(m), id)
    });
    let m2 = Arc::clone(&m);
    let browse = lab.spawn_on(0, move || m2.browse(TY, Duration::from_secs(15)));
    std::thread::sleep(Duration::from_millis(300));
    let (fds0, _) = lab.run_on(0, || (open_fds(), rss_kib()));

    let mut rss = Vec::new();
    let mut missing = Vec::new();
    for (w, first) in [(0usize, 1usize), (1, 26)] {
        let heard = burst(&lab, &host1_ns, first, 25);
        for n in first..first + 25 {
            let src: IpAddr = format!("198.19.{n}.1").parse().unwrap();
            let (probes, announces) = heard.get(&src).copied().unwrap_or_default();
            if probes < 3 || announces < 1 {
                missing.push(format!("c{n}: {probes} probes, {announces} announcements"));
            }
        }
        let (fds, kib) = lab.run_on(0, || (open_fds(), rss_kib()));
        assert_eq!(fds, fds0, "descriptors after burst {w}");
        rss.push(kib);
    }
    assert!(
        missing.is_empty(),
        "links not probed and announced: {missing:?}"
    );
    assert!(
        rss[1] <= rss[0] + 1024,
        "memory grew from {} to {} KiB between bursts",
        rss[0],
        rss[1]
    );
    // Still a working engine: registered, and the browse returns.
    assert!(m.is_registered(id), "registration survived the churn");
    assert!(browse.join().unwrap().is_ok(), "browse survived the churn");
    let warnings = WARNINGS.lock().unwrap().clone();
    ironicmdns::log::set_log_hook(None);
    // 25 links at once plus eth0 exceed the membership limit: the ones
    // past it are named in a warning.
    let named: Vec<&String> = warnings
        .iter()
        .filter(|w| w.contains("224.0.0.251") && w.contains("on interface c"))
        .collect();
    assert!(
        named.len() >= 26 - limit,
        "expected warnings for the links past {limit} memberships: {warnings:?}"
    );
    m.close().unwrap();
}

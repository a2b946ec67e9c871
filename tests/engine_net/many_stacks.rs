//! Many mDNS stacks on one host, each bound to port 5353 with SO_REUSEPORT
//! (docs/LAB.md, the SO_REUSEPORT lottery): a unicast answer sent to port 5353
//! reaches a random one of them. A one-shot query from an ephemeral port
//! (RFC 6762 s5.1) is answered by unicast to that port (s6.7), so every
//! stack gets its own answer at once instead of waiting for the 1 s
//! multicast retry.

use std::net::IpAddr;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use super::*;

/// Separate engines on host A, each on its own thread.
const STACKS: usize = 20;

/// Host B publishes; host A runs `STACKS` separate engines that all
/// resolve B's service at the same instant. Every one is answered well
/// within the 1 s retry interval.
fn many_stacks_resolve_at_once(lab: &Lab, b_addr: IpAddr, a_addr: IpAddr) {
    let instance = format!("baremetal.{TY}");
    let mb = lab.run_on(1, move || {
        let m = start(Some(vec![b_addr]));
        m.register(our_service("baremetal", 6385, vec![b_addr]), PROBE_LIMIT)
            .expect("register on B");
        m
    });
    // Let B finish announcing (RFC 6762 s8.3), so the lookups meet a
    // quiet link and cannot be served by announcements.
    std::thread::sleep(Duration::from_millis(1200));
    let started = Arc::new(Barrier::new(STACKS));
    let go = Arc::new(Barrier::new(STACKS));
    let threads: Vec<_> = (0..STACKS)
        .map(|_| {
            let (started, go, instance) = (started.clone(), go.clone(), instance.clone());
            lab.spawn_on(0, move || {
                let m = start(Some(vec![a_addr]));
                started.wait(); // every stack holds its sockets on 5353
                go.wait();
                let t = Instant::now();
                let r = m
                    .resolve(&instance, Duration::from_secs(5))
                    .expect("resolve");
                let took = t.elapsed();
                (r, took, m)
            })
        })
        .collect();
    let mut results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let mut times: Vec<Duration> = results.iter().map(|(_, took, _)| *took).collect();
    times.sort_unstable();
    let found = results.iter().filter(|(r, _, _)| r.is_some()).count();
    let (median, max) = (times[STACKS / 2], times[STACKS - 1]);
    eprintln!("{STACKS} stacks on one host, resolving at once: {found} found, median {median:?}, max {max:?}");
    for (r, _, _) in &results {
        if let Some(r) = r {
            assert_eq!(r.port, 6385);
            assert_eq!(
                r.addresses.iter().map(|s| s.addr).collect::<Vec<_>>(),
                vec![b_addr]
            );
        }
    }
    for (_, _, m) in results.drain(..) {
        m.close().unwrap();
    }
    mb.close().unwrap();
    assert_eq!(found, STACKS, "every stack found B's service");
    assert!(
        median < Duration::from_millis(100),
        "median {median:?}: answers went astray (1 s retries)"
    );
    assert!(
        max < Duration::from_millis(900),
        "max {max:?}: some stack waited for the 1 s retry"
    );
}

#[test]
fn many_stacks_on_one_host_resolve_at_once_ipv4() {
    let Some(lab) = lab!() else { return };
    many_stacks_resolve_at_once(&lab, lab.v4(1), lab.v4(0));
}

#[test]
fn many_stacks_on_one_host_resolve_at_once_ipv6() {
    let Some(lab) = lab!() else { return };
    many_stacks_resolve_at_once(&lab, lab.v6(1), lab.v6(0));
}

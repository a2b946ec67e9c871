//! RFC 6762 s10.1 goodbyes, repeated so one lost packet does not leave our
//! records in peers' caches (SRV 120 s, PTR 75 min).

use std::time::{Duration, Instant};

use simple_dns::{Packet, PacketFlag};

use super::*;

/// The goodbye packets (responses whose every answer has TTL 0 and which
/// say goodbye to our SRV) heard until `until`, with their arrival times.
fn goodbyes_heard(s: &socket2::Socket, until: Instant) -> Vec<Instant> {
    let mut seen = Vec::new();
    while Instant::now() < until {
        let Some(data) = recv_one(s) else { continue };
        let Ok(p) = Packet::parse(&data) else {
            continue;
        };
        let srv_bye = p.answers.iter().any(|r| {
            r.name.to_string() == INSTANCE.trim_end_matches('.')
                && matches!(r.rdata, simple_dns::rdata::RData::SRV(_))
        });
        if p.has_flags(PacketFlag::RESPONSE) && srv_bye && p.answers.iter().all(|r| r.ttl == 0) {
            seen.push(Instant::now());
        }
    }
    seen
}

/// Host B (lab host 1) registers `baremetal` at its two addresses (on the
/// given interfaces; None: all), then host A listens for goodbyes on each
/// family for `listen` from now: the engine and the two listeners, which
/// have had 300 ms to start.
#[allow(clippy::type_complexity)]
fn registered_and_listened(
    lab: &crate::common::lab::Lab,
    interfaces: Option<Vec<std::net::IpAddr>>,
    listen: Duration,
) -> (
    Mdns,
    std::thread::JoinHandle<Vec<Instant>>,
    std::thread::JoinHandle<Vec<Instant>>,
) {
    let (b4, b6) = (lab.v4(1), lab.v6(1));
    let m = lab.run_on(1, move || {
        let m = start(interfaces);
        m.register(baremetal(vec![b4, b6]), PROBE_LIMIT)
            .expect("B registers");
        m
    });
    let on_a = |v6| {
        lab.spawn_on(0, move || {
            let s = listener(ifindex("eth0"), v6);
            goodbyes_heard(&s, Instant::now() + listen)
        })
    };
    let (l4, l6) = (on_a(false), on_a(true));
    std::thread::sleep(Duration::from_millis(300));
    (m, l4, l6)
}

/// Host B registers on IPv4 and IPv6 and closes; host A, listening on the
/// groups, hears three goodbyes per family, 125 ms apart, and close takes
/// no longer than the repeats need.
#[test]
fn rfc6762_s10_1_goodbye_sent_three_times_on_each_family_and_close_stays_quick() {
    let Some(lab) = lab!() else { return };
    let both = Some(vec![lab.v4(1), lab.v6(1)]);
    let (m, l4, l6) = registered_and_listened(&lab, both, Duration::from_millis(1500));
    let t = Instant::now();
    m.close().unwrap();
    let close_took = t.elapsed();
    eprintln!("close with one registration took {close_took:?}");
    for (fam, l) in [("IPv4", l4), ("IPv6", l6)] {
        let heard = l.join().unwrap();
        assert_eq!(heard.len(), 3, "{fam}: goodbyes heard at {heard:?}");
        for w in heard.windows(2) {
            let gap = w[1] - w[0];
            assert!(
                gap >= Duration::from_millis(100) && gap <= Duration::from_millis(400),
                "{fam}: goodbyes {gap:?} apart"
            );
        }
    }
    // Two intervals of 125 ms, plus scheduling on a loaded machine.
    assert!(
        close_took >= Duration::from_millis(240) && close_took < Duration::from_secs(1),
        "close took {close_took:?}"
    );
}

/// Host B's IPv4 address is removed while its interface
/// stays up (with IPv6): host A, on the link, hears B's goodbyes on IPv4,
/// three times, and none on IPv6, where the registration lives on. (A link
/// deleted or set down cannot carry anything: docs/DESIGN.md.)
#[test]
fn rfc6762_s10_1_goodbyes_on_ipv4_when_the_address_the_registration_announced_goes() {
    let Some(lab) = lab!() else { return };
    let b4 = lab.v4(1);
    let (m, l4, l6) = registered_and_listened(&lab, None, Duration::from_millis(2500));
    let t = Instant::now();
    lab.sh(1, &format!("ip addr del {b4}/24 dev eth0"))
        .expect("remove B's IPv4 address");
    let heard4 = l4.join().unwrap();
    let heard6 = l6.join().unwrap();
    let after: Vec<Duration> = heard4.iter().map(|h| *h - t).collect();
    assert_eq!(heard4.len(), 3, "IPv4 goodbyes heard at {after:?}");
    assert!(after[0] < Duration::from_secs(1), "first goodbye {after:?}");
    assert!(heard6.is_empty(), "IPv6 goodbyes: {heard6:?}");
    m.close().unwrap();
}

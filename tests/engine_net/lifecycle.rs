//! A registration's life on the link: probing conflicts (RFC 6762 s8),
//! conflicts after announcing (s9), goodbyes (s10.1), interfaces coming
//! and going, close, and an idle engine's wake-ups.

use std::time::{Duration, Instant};

use super::*;
use crate::common::intruder::{conflicting_announcement, send_from};

/// Both hosts register the same instance with different data at the same
/// moment: the probe tie-break (RFC 6762 s8.2) lets exactly one win.
#[test]
fn simultaneous_probes_exactly_one_wins() {
    let Some(lab) = lab!() else { return };
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
    let (a_addr, b_addr) = (lab.v4(0), lab.v4(1));
    let bb = barrier.clone();
    let on_b = lab.spawn_on(1, move || {
        let m = start(Some(vec![b_addr]));
        bb.wait();
        let r = m.register(our_service("baremetal", 6385, vec![b_addr]), PROBE_LIMIT);
        (r.map(|id| m.is_registered(id)), m)
    });
    let (ra, ma) = lab.run_on(0, move || {
        let m = start(Some(vec![a_addr]));
        barrier.wait();
        let r = m.register(our_service("baremetal", 6385, vec![a_addr]), PROBE_LIMIT);
        (r.map(|id| m.is_registered(id)), m)
    });
    let (rb, mb) = on_b.join().unwrap();
    let wins = [&ra, &rb].iter().filter(|r| matches!(r, Ok(true))).count();
    let conflicts = [&ra, &rb]
        .iter()
        .filter(|r| matches!(r, Err(ironicmdns::Error::Conflict(_))))
        .count();
    assert_eq!((wins, conflicts), (1, 1), "A: {ra:?}, B: {rb:?}");
    ma.close().unwrap();
    mb.close().unwrap();
}

/// B has announced; A's later registration of the same name loses to B's
/// defence (RFC 6762 s8.1), and B keeps its name.
#[test]
fn announced_name_is_defended() {
    let Some(lab) = lab!() else { return };
    let a_addr = lab.v4(0);
    let (mb, idb) = baremetal_on_b(&lab);
    let ra = lab.run_on(0, move || {
        let m = start(Some(vec![a_addr]));
        let r = m.register(our_service("baremetal", 80, vec![a_addr]), PROBE_LIMIT);
        m.close().unwrap();
        r
    });
    assert!(
        matches!(ra, Err(ironicmdns::Error::Conflict(_))),
        "A: {ra:?}"
    );
    assert!(mb.is_registered(idb), "B still owns the name");
    mb.close().unwrap();
}

/// Host B's engine (IPv4 only) with `baremetal` registered and announced.
fn baremetal_on_b(lab: &Lab) -> (Mdns, ironicmdns::engine::RegId) {
    let b_addr = lab.v4(1);
    lab.run_on(1, move || {
        let m = start(Some(vec![b_addr]));
        let id = m
            .register(our_service("baremetal", 6385, vec![b_addr]), PROBE_LIMIT)
            .expect("B registers");
        (m, id)
    })
}

/// After announcing, a peer's conflicting record sends us back to probing
/// (RFC 6762 s9); its answer to that probe takes the name away: the
/// registration is reported lost by `is_registered`.
#[test]
fn conflict_after_announcing_is_reported() {
    let Some(lab) = lab!() else { return };
    let (mb, idb) = baremetal_on_b(&lab);
    assert!(mb.is_registered(idb));
    // Let B finish announcing (RFC 6762 s8.3: two announcements, 1 s apart).
    std::thread::sleep(Duration::from_millis(1200));
    assert!(mb.is_registered(idb), "nothing has conflicted yet");
    // Nothing lost yet: wait_lost waits out its timeout.
    let t0 = Instant::now();
    assert_eq!(mb.wait_lost(Some(Duration::from_millis(300))), vec![]);
    assert!(
        t0.elapsed() >= Duration::from_millis(300),
        "wait_lost returned early"
    );
    let lost = std::thread::scope(|s| {
        // A waiter blocked before the conflict wakes with the lost id.
        let waiter = s.spawn(|| {
            let t0 = Instant::now();
            (mb.wait_lost(Some(Duration::from_secs(10))), t0.elapsed())
        });
        std::thread::sleep(Duration::from_millis(100));
        // The announcement, then the same records again while B re-probes.
        send_from(
            &lab,
            0,
            &conflicting_announcement(&format!("baremetal.{TY}"), 9999),
            2,
        );
        waiter.join().unwrap()
    });
    assert_eq!(lost.0, vec![idb], "wait_lost names the lost registration");
    assert!(
        lost.1 < Duration::from_secs(3),
        "wait_lost took {:?}",
        lost.1
    );
    assert!(!mb.is_registered(idb), "the conflict was reported");
    // Still lost: a later call returns at once.
    assert_eq!(mb.wait_lost(None), vec![idb]);
    // Withdrawing a lost registration is not an error.
    mb.unregister(idb)
        .expect("unregister of a lost registration");
    mb.close().unwrap();
}

/// wait_lost blocks while nothing is lost, and close wakes it at once.
#[test]
fn wait_lost_returns_on_close() {
    let Some(lab) = lab!() else { return };
    let (mb, idb) = baremetal_on_b(&lab);
    assert!(mb.is_registered(idb));
    let t0 = Instant::now();
    assert_eq!(
        mb.wait_lost(Some(Duration::from_millis(200))),
        vec![],
        "nothing lost: times out empty"
    );
    assert!(
        t0.elapsed() >= Duration::from_millis(200),
        "wait_lost returned early"
    );
    let (lost, after_close) = std::thread::scope(|s| {
        let waiter = s.spawn(|| {
            let r = mb.wait_lost(None);
            (r, Instant::now())
        });
        std::thread::sleep(Duration::from_millis(300));
        assert!(
            !waiter.is_finished(),
            "wait_lost(None) returned with nothing lost"
        );
        mb.close().unwrap();
        let closed_at = Instant::now();
        let (r, woke) = waiter.join().unwrap();
        (r, woke.saturating_duration_since(closed_at))
    });
    assert_eq!(lost, vec![], "close is not a loss");
    assert!(
        after_close < Duration::from_millis(500),
        "woke {after_close:?} after close"
    );
    // Once closed, it returns at once.
    let t0 = Instant::now();
    assert_eq!(mb.wait_lost(None), vec![]);
    assert!(t0.elapsed() < Duration::from_millis(100));
}

/// One spoofed conflicting packet costs a re-probe, not the registration
/// (RFC 6762 s9: nobody answers the probe, B announces again).
#[test]
fn single_spoofed_conflict_does_not_lose_the_registration() {
    let Some(lab) = lab!() else { return };
    let (mb, idb) = baremetal_on_b(&lab);
    std::thread::sleep(Duration::from_millis(1200));
    send_from(
        &lab,
        0,
        &conflicting_announcement(&format!("baremetal.{TY}"), 9999),
        1,
    );
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        assert!(
            mb.is_registered(idb),
            "a single spoofed packet took the registration"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    mb.close().unwrap();
}

/// Our goodbyes reach the peer: mdns-sd browsing on A sees the service
/// removed within 2 s of our `unregister` on B.
#[test]
fn goodbye_seen_by_peer() {
    let Some(lab) = lab!() else { return };
    let (mb, idb) = baremetal_on_b(&lab);
    let instance = format!("baremetal.{TY}");
    let (d, rx) = lab.run_on(0, || {
        let d = mdns_sd_daemon(Some(mdns_sd::IfKind::IPv4));
        let rx = d.browse(TY).unwrap();
        (d, rx)
    });
    let resolved = wait_resolved(&rx, &instance, Duration::from_secs(5)).is_some();
    assert!(resolved, "mdns-sd resolved our service first");
    let t = Instant::now();
    mb.unregister(idb).expect("unregister");
    assert!(!mb.is_registered(idb));
    let deadline = t + Duration::from_secs(2);
    let mut removed = None;
    while let Ok(ev) = rx.recv_deadline(deadline) {
        if matches!(&ev, mdns_sd::ServiceEvent::ServiceRemoved(_, name) if *name == instance) {
            removed = Some(t.elapsed());
            break;
        }
    }
    let _ = d.shutdown();
    mb.close().unwrap();
    assert!(removed.is_some(), "mdns-sd saw the goodbye within 2 s");
}

/// A service registered while its host's link is down (no interface at
/// all) is accepted at once as pending, then probed and announced once the
/// link comes up (netlink), and is then found.
#[test]
fn registered_before_link_up_becomes_reachable() {
    let Some(lab) = lab!() else { return };
    let (a_addr, b_addr) = (lab.v4(0), lab.v4(1));
    lab.link_down(1).unwrap();
    let mb = lab.run_on(1, || start(None));
    let t = Instant::now();
    let id = mb
        .register_pending(our_service("baremetal", 6385, vec![b_addr]), PROBE_LIMIT)
        .expect("pending registration");
    assert!(
        t.elapsed() < Duration::from_millis(100),
        "no interface: nothing to probe on, no wait"
    );
    std::thread::sleep(Duration::from_millis(300));
    assert!(!mb.is_registered(id), "not announced anywhere yet");
    lab.link_up(1).unwrap();
    let t = Instant::now();
    while !mb.is_registered(id) && t.elapsed() < Duration::from_secs(3) {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        mb.is_registered(id),
        "probed and announced after the link came up"
    );
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "probing took {:?} after link up",
        t.elapsed()
    );
    let r = lab.run_on(0, move || {
        let m = start(Some(vec![a_addr]));
        let r = m.resolve(&format!("baremetal.{TY}"), Duration::from_secs(3));
        m.close().unwrap();
        r
    });
    let r = r.unwrap().expect("A finds B's service");
    assert_eq!(
        r.addresses.iter().map(|s| s.addr).collect::<Vec<_>>(),
        vec![b_addr]
    );
    mb.close().unwrap();
}

/// A registered service survives its link going down and up again: it is
/// probed and announced anew, and found again.
#[test]
fn link_flap_reannounces() {
    let Some(lab) = lab!() else { return };
    let (a_addr, b_addr) = (lab.v4(0), lab.v4(1));
    let (mb, id) = lab.run_on(1, move || {
        let m = start(None);
        let id = m
            .register(our_service("baremetal", 6385, vec![b_addr]), PROBE_LIMIT)
            .expect("register");
        (m, id)
    });
    lab.link_down(1).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    lab.link_up(1).unwrap();
    std::thread::sleep(Duration::from_millis(1200));
    assert!(mb.is_registered(id));
    let r = lab.run_on(0, move || {
        let m = start(Some(vec![a_addr]));
        let r = m.resolve(&format!("baremetal.{TY}"), Duration::from_secs(3));
        m.close().unwrap();
        r
    });
    assert!(r.unwrap().is_some(), "found again after the flap");
    mb.close().unwrap();
}

/// No periodic polling: once announced, an idle engine holding one
/// registration sleeps (at most one wake-up per 5 s).
#[test]
fn idle_engine_sleeps() {
    let Some(lab) = lab!() else { return };
    let b_addr = lab.v4(1);
    let mb = lab.run_on(1, move || {
        let m = start(None);
        m.register(our_service("baremetal", 6385, vec![b_addr]), PROBE_LIMIT)
            .expect("B registers");
        m
    });
    // RFC 6762 s8.3: the last announcement goes out 1 s after the first.
    std::thread::sleep(Duration::from_millis(1500));
    let before = thread_wakeups("ironicmdns");
    std::thread::sleep(Duration::from_secs(10));
    let woke = thread_wakeups("ironicmdns") - before;
    mb.close().unwrap();
    eprintln!("idle driver thread: {woke} wake-ups in 10 s");
    assert!(
        woke <= 2,
        "the idle driver thread woke {woke} times in 10 s"
    );
}

/// close withdraws everything with goodbyes, is idempotent, and every
/// later call says Closed; bad input is an error, never a panic.
#[test]
fn close_is_final_and_idempotent() {
    let Some(lab) = lab!() else { return };
    let b_addr = lab.v4(1);
    let instance = format!("baremetal.{TY}");
    let (d, rx) = lab.run_on(0, || {
        let d = mdns_sd_daemon(Some(mdns_sd::IfKind::IPv4));
        let rx = d.browse(TY).unwrap();
        (d, rx)
    });
    let m = lab.run_on(1, move || {
        let m = start(Some(vec![b_addr]));
        m.register(our_service("baremetal", 6385, vec![b_addr]), PROBE_LIMIT)
            .expect("register");
        // Engine errors come back as errors.
        let bad = m.register(our_service("", 1, vec![b_addr]), PROBE_LIMIT);
        assert!(
            matches!(bad, Err(ironicmdns::Error::InvalidArgument(_))),
            "{bad:?}"
        );
        let dup = m.register(our_service("baremetal", 6385, vec![b_addr]), PROBE_LIMIT);
        assert!(
            matches!(dup, Err(ironicmdns::Error::Registration(_))),
            "{dup:?}"
        );
        let unknown = m.unregister(ironicmdns::engine::RegId(999));
        assert!(
            matches!(unknown, Err(ironicmdns::Error::InvalidArgument(_))),
            "{unknown:?}"
        );
        m
    });
    let resolved = wait_resolved(&rx, &instance, Duration::from_secs(5)).is_some();
    assert!(resolved, "the peer resolved our service");
    m.close().expect("close");
    // The goodbyes were sent before close returned (the peer drops the
    // records 1 s after a goodbye, RFC 6762 s10.1).
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut removed = false;
    while let Ok(ev) = rx.recv_deadline(deadline) {
        if matches!(&ev, mdns_sd::ServiceEvent::ServiceRemoved(_, name) if *name == instance) {
            removed = true;
            break;
        }
    }
    let _ = d.shutdown();
    assert!(removed, "the peer saw our goodbye");
    m.close().expect("second close");
    let closed = |r: &ironicmdns::Error| matches!(r, ironicmdns::Error::Closed(_));
    assert!(closed(
        &m.register(our_service("x", 1, vec![b_addr]), PROBE_LIMIT)
            .unwrap_err()
    ));
    assert!(closed(
        &m.resolve(&instance, Duration::from_millis(10)).unwrap_err()
    ));
    assert!(closed(
        &m.browse(TY, Duration::from_millis(10)).unwrap_err()
    ));
    assert!(closed(
        &m.unregister(ironicmdns::engine::RegId(1)).unwrap_err()
    ));
    m.flush_cache();
    // No thread is left behind.
    assert_eq!(thread_count("ironicmdns"), 0);
}

//! The driver's own checks that open no socket.

use super::*;

#[test]
fn deadlines_never_overflow() {
    let now = Instant::now();
    assert_eq!(after(now, Duration::MAX), now + MAX_WAIT);
    assert_eq!(
        after(now, Duration::from_millis(5)),
        now + Duration::from_millis(5)
    );
}

#[test]
fn engine_errors_map_to_crate_errors() {
    let rows = [
        (
            EngineError::InvalidName("x".into(), "empty label"),
            "invalid argument",
        ),
        (EngineError::InvalidRecord("bad"), "invalid argument"),
        (EngineError::Duplicate("x".into()), "registration failed"),
        (EngineError::UnknownRegistration, "registration failed"),
    ];
    for (e, prefix) in rows {
        let got = arg_err(e.clone()).to_string();
        assert!(got.starts_with(prefix), "{e:?} -> {got}");
    }
}

/// A caller blocked with no deadline (`wait_lost(None)`, what
/// `ironic-mdns register` does) is woken when the driver notifies: it
/// counts as a waiter. Opens no socket.
#[test]
fn an_untimed_waiter_is_woken() {
    let m = Arc::new(Mdns::start(MdnsOptions::default()).expect("engine"));
    let (tx, rx) = std::sync::mpsc::channel();
    let m2 = Arc::clone(&m);
    std::thread::spawn(move || {
        let _ = tx.send(m2.wait_lost(None));
    });
    let t0 = Instant::now();
    while m.lock().waiters == 0 {
        assert!(
            t0.elapsed() < Duration::from_secs(5),
            "the waiter never blocked"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    {
        let mut st = m.lock();
        st.regs.insert(RegId(7), Reg::Lost);
        m.shared.notify(&st);
    }
    let lost = rx
        .recv_timeout(Duration::from_secs(5))
        .expect("the untimed waiter was not woken");
    assert_eq!(lost, vec![RegId(7)]);
}

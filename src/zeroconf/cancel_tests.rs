//! Cancelling a call of the object (no network: the waits alone).

use std::time::Instant;

use super::*;

/// A handle that opens no socket until a call needs one.
fn handle() -> Zeroconf {
    Zeroconf::new(Config::default()).expect("an engine over the interface table")
}

#[test]
fn a_wait_between_attempts_ends_at_the_trigger_and_not_before() {
    let zc = handle();
    let token = Cancel::new();
    let t2 = token.clone();
    let trigger = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        let at = Instant::now();
        t2.trigger();
        at
    });
    let start = Instant::now();
    let got = zc.cancellable(Some(&token), || zc.pause(Duration::from_secs(30)));
    let end = Instant::now();
    let at = trigger.join().unwrap();
    assert!(matches!(got, Err(Error::Cancelled(_))), "{got:?}");
    assert!(end >= at, "it waited for the trigger");
    assert!(end - at < Duration::from_millis(50), "{:?}", end - at);
    assert!(end - start < Duration::from_secs(1));
    // The handle is not closed, and a wait without the token is unaffected.
    assert!(!zc.is_closed());
    assert_eq!(zc.pause(Duration::from_millis(1)), Ok(()));
}

#[test]
fn a_triggered_token_ends_a_call_before_it_starts() {
    let zc = handle();
    let token = Cancel::new();
    token.trigger();
    let mut ran = false;
    let got: Result<()> = zc.cancellable(Some(&token), || {
        ran = true;
        Ok(())
    });
    assert!(matches!(got, Err(Error::Cancelled(_))), "{got:?}");
    assert!(!ran);
    let got = lookup_once_with(Config::default(), "baremetal", true, false, Some(&token));
    assert!(matches!(got, Err(Error::Cancelled(_))), "{got:?}");
}

#[test]
fn a_completed_call_keeps_its_result_and_a_failed_one_says_cancelled() {
    let zc = handle();
    let token = Cancel::new();
    let got = zc.cancellable(Some(&token), || {
        token.trigger();
        Ok(7)
    });
    assert_eq!(got, Ok(7), "completed before the trigger was seen");
    let token = Cancel::new();
    let got: Result<()> = zc.cancellable(Some(&token), || {
        token.trigger();
        Err(Error::Closed("the exchange ended".into()))
    });
    assert!(matches!(got, Err(Error::Cancelled(_))), "{got:?}");
    // Without a token an error stays as it is.
    let got: Result<()> = zc.cancellable(None, || Err(Error::Closed("x".into())));
    assert_eq!(got, Err(Error::Closed("x".into())));
}

#[test]
fn close_still_ends_a_cancellable_wait() {
    let zc = std::sync::Arc::new(handle());
    let z2 = std::sync::Arc::clone(&zc);
    let closer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        z2.close().unwrap();
    });
    let token = Cancel::new();
    let got = zc.cancellable(Some(&token), || zc.pause(Duration::from_secs(30)));
    closer.join().unwrap();
    assert!(matches!(got, Err(Error::Closed(_))), "{got:?}");
}

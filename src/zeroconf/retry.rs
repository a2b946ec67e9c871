//! The one retry policy of both transports (SPEC 2, 3.6, 4.1): up to
//! `attempts` tries, waits of 0.1 s, 0.2 s, 0.4 s ... between them, each
//! wait ended by `close` (the caller's `pause` returns Error::Closed). A
//! transport gives one attempt; this module decides whether there is
//! another.

use std::time::Duration;

use crate::engine::driver::NO_INTERFACE;
use crate::engine::RegId;
use crate::error::{Error, Result};
use crate::log::{log, LogLevel};
use crate::service::{Lookup, ResolvedService};

/// First wait between attempts; doubled after each (SPEC 2).
pub(crate) const FIRST_WAIT: Duration = Duration::from_millis(100);

/// SPEC 4.1: up to `attempts` lookups with the doubling waits between the
/// ones that found nothing. The last `Lookup::Missing` when none found
/// it; an error ends the attempts at once.
pub(crate) fn lookup(
    attempts: u32,
    mut once: impl FnMut() -> Result<Lookup>,
    mut pause: impl FnMut(Duration) -> Result<()>,
) -> Result<Lookup> {
    let mut wait = FIRST_WAIT;
    let mut last = Lookup::Missing(String::new());
    for attempt in 1..=attempts {
        last = once()?;
        if matches!(last, Lookup::Found(_)) {
            return Ok(last);
        }
        if attempt < attempts {
            pause(wait)?;
            wait = wait.saturating_mul(2);
        }
    }
    Ok(last)
}

/// SPEC 3.6: up to `attempts` registrations. After a conflict
/// (`Error::Conflict`), `before_retry` (the mDNS cache is forgotten) and
/// the wait before the next; the last conflict is Error::Conflict saying
/// the name is `held` (by whom) after `attempts` attempts. Any other error
/// ends the attempts at once, as it is.
pub(crate) fn register<T>(
    service_type: &str,
    attempts: u32,
    held: &str,
    mut once: impl FnMut() -> Result<T>,
    mut before_retry: impl FnMut(),
    mut pause: impl FnMut(Duration) -> Result<()>,
) -> Result<T> {
    let mut wait = FIRST_WAIT;
    for attempt in 1..=attempts {
        match once() {
            Ok(done) => return Ok(done),
            Err(Error::Conflict(m)) => {
                log(
                    LogLevel::Debug,
                    &format!("could not register {service_type} - conflict: {m}"),
                );
                if attempt == attempts {
                    break;
                }
                before_retry();
                pause(wait)?;
                wait = wait.saturating_mul(2);
            }
            Err(e) => return Err(e),
        }
    }
    Err(Error::Conflict(format!(
        "cannot register {service_type} service: conflict, {held} after {attempts} attempts"
    )))
}

/// SPEC 3.6 over mDNS: the retry policy around the engine's registration;
/// after a conflict the cache is forgotten. An engine error other than a
/// conflict, a close, a poisoned engine or the host's is a registration
/// failure naming the service type.
pub(super) fn register_with_attempts(
    service_type: &str,
    attempts: u32,
    mut register: impl FnMut() -> Result<RegId>,
    flush_cache: impl FnMut(),
    sleep: impl FnMut(Duration) -> Result<()>,
) -> Result<RegId> {
    let once = || match register() {
        Ok(id) => Ok(id),
        // Not the registration's fault: the handle or the host.
        Err(e @ (Error::Conflict(_) | Error::Closed(_) | Error::Poisoned(_) | Error::Io(_))) => {
            Err(e)
        }
        Err(Error::Registration(m)) if m == NO_INTERFACE => Err(Error::Registration(format!(
            "cannot register {service_type} service: {m}"
        ))),
        Err(e) => Err(Error::Registration(format!(
            "cannot register {service_type} service: {e}"
        ))),
    };
    self::register(
        service_type,
        attempts,
        "the name is in use",
        once,
        flush_cache,
        sleep,
    )
}

/// SPEC 4.1 over mDNS: the retry policy around the engine's lookup;
/// nothing found is Error::NotFound naming the service type.
pub(super) fn lookup_with_attempts(
    service_type: &str,
    attempts: u32,
    mut resolve: impl FnMut() -> Result<Option<ResolvedService>>,
    sleep: impl FnMut(Duration) -> Result<()>,
) -> Result<ResolvedService> {
    let once = || {
        Ok(match resolve()? {
            Some(s) => Lookup::Found(s),
            None => Lookup::Missing(String::new()),
        })
    };
    match lookup(attempts, once, sleep)? {
        Lookup::Found(s) => Ok(s),
        Lookup::Missing(_) => Err(Error::NotFound(format!(
            "cannot find {service_type} service through multicast"
        ))),
    }
}

#[cfg(test)]
#[allow(clippy::type_complexity)] // tables of rows
pub(super) mod tests {
    use super::*;
    use crate::service::ScopedAddr;

    fn ms(v: &[u64]) -> Vec<Duration> {
        v.iter().map(|&m| Duration::from_millis(m)).collect()
    }

    #[test]
    fn a_lookup_keeps_the_last_reason() {
        let mut reasons = ["NXDOMAIN", "NODATA"].into_iter();
        let mut waits = Vec::new();
        let got = lookup(
            2,
            || Ok(Lookup::Missing(reasons.next().unwrap().into())),
            |d| {
                waits.push(d);
                Ok(())
            },
        );
        assert!(
            matches!(got, Ok(Lookup::Missing(ref m)) if m == "NODATA"),
            "{got:?}"
        );
        assert_eq!(waits, ms(&[100]));
    }

    #[test]
    fn a_registration_error_other_than_a_conflict_is_kept_as_it_is() {
        let mut calls = 0;
        let got: Result<()> = register(
            "baremetal",
            5,
            "held",
            || {
                calls += 1;
                Err(Error::Auth("the server refused the update".into()))
            },
            || panic!("no retry"),
            |_| panic!("no wait"),
        );
        assert_eq!(calls, 1);
        assert_eq!(
            got,
            Err(Error::Auth("the server refused the update".into()))
        );
    }

    #[test]
    fn the_last_conflict_names_the_holder() {
        let mut waits = Vec::new();
        let got: Result<()> = register(
            "baremetal",
            3,
            "x in zone example.test. is held by another publisher",
            || Err(Error::Conflict("prerequisite failed".into())),
            || {},
            |d| {
                waits.push(d);
                Ok(())
            },
        );
        assert_eq!(waits, ms(&[100, 200]));
        assert_eq!(
            got,
            Err(Error::Conflict(
                "cannot register baremetal service: conflict, x in zone example.test. is held by \
                 another publisher after 3 attempts"
                    .into()
            ))
        );
    }

    #[test]
    fn registration_attempts_table() {
        // (attempts, outcomes of the engine's register calls, calls made,
        //  waits, cache flushes, result)
        struct Row {
            attempts: u32,
            outcomes: Vec<Result<RegId>>,
            calls: usize,
            waits: Vec<Duration>,
            ok: bool,
        }
        let conflict = || Err(Error::Conflict("probe lost".into()));
        let rows = vec![
            Row {
                attempts: 5,
                outcomes: vec![Ok(RegId(1))],
                calls: 1,
                waits: ms(&[]),
                ok: true,
            },
            // the reference's test_with_race
            Row {
                attempts: 5,
                outcomes: vec![conflict(), conflict(), conflict(), Ok(RegId(7))],
                calls: 4,
                waits: ms(&[100, 200, 400]),
                ok: true,
            },
            // the reference's test_failure: attempts calls, attempts-1 waits
            Row {
                attempts: 5,
                outcomes: (0..5).map(|_| conflict()).collect(),
                calls: 5,
                waits: ms(&[100, 200, 400, 800]),
                ok: false,
            },
            Row {
                attempts: 1,
                outcomes: vec![conflict()],
                calls: 1,
                waits: ms(&[]),
                ok: false,
            },
            Row {
                attempts: 5,
                outcomes: vec![Err(Error::Registration("engine".into()))],
                calls: 1,
                waits: ms(&[]),
                ok: false,
            },
        ];
        for (i, row) in rows.into_iter().enumerate() {
            let mut outcomes = row.outcomes.clone().into_iter();
            let (mut calls, mut flushes, mut waits) = (0, 0, Vec::new());
            let got = register_with_attempts(
                "baremetal",
                row.attempts,
                || {
                    calls += 1;
                    outcomes.next().expect("no more calls expected")
                },
                || flushes += 1,
                |d| {
                    waits.push(d);
                    Ok(())
                },
            );
            assert_eq!(calls, row.calls, "row {i}");
            assert_eq!(waits, row.waits, "row {i}");
            assert_eq!(
                flushes,
                row.waits.len(),
                "row {i}: one cache flush before each retry"
            );
            match (&got, row.ok, row.outcomes.last()) {
                (Ok(id), true, Some(Ok(want))) => assert_eq!(id, want),
                (Err(Error::Conflict(m)), false, Some(Err(Error::Conflict(_)))) => {
                    assert!(m.contains("conflict") && m.contains("baremetal"), "{m}")
                }
                (Err(Error::Registration(m)), false, Some(Err(Error::Registration(_)))) => {
                    assert!(m.contains("baremetal"), "{m}")
                }
                _ => panic!("row {i}: {got:?}"),
            }
        }
    }

    pub(in crate::zeroconf) fn found() -> ResolvedService {
        ResolvedService {
            validated: false,
            instance: "baremetal._openstack._tcp.local.".into(),
            target: "x.local.".into(),
            port: 80,
            txt: vec![],
            addresses: vec![ScopedAddr {
                addr: "192.168.1.1".parse().unwrap(),
                iface: 2,
            }],
        }
    }

    #[test]
    fn lookup_attempts_table() {
        // (attempts, answers, calls, waits, found)
        let rows: Vec<(
            u32,
            Vec<Option<ResolvedService>>,
            usize,
            Vec<Duration>,
            bool,
        )> = vec![
            (3, vec![Some(found())], 1, ms(&[]), true),
            (3, vec![None, Some(found())], 2, ms(&[100]), true),
            // the reference's test_not_found: attempts-1 waits
            (3, vec![None, None, None], 3, ms(&[100, 200]), false),
            (1, vec![None], 1, ms(&[]), false),
        ];
        for (i, (attempts, answers, want_calls, want_waits, ok)) in rows.into_iter().enumerate() {
            let mut answers = answers.into_iter();
            let (mut calls, mut waits) = (0, Vec::new());
            let got = lookup_with_attempts(
                "baremetal",
                attempts,
                || {
                    calls += 1;
                    Ok(answers.next().expect("no more calls expected"))
                },
                |d| {
                    waits.push(d);
                    Ok(())
                },
            );
            assert_eq!((calls, &waits), (want_calls, &want_waits), "row {i}");
            match got {
                Ok(s) => assert!(ok && s == found(), "row {i}"),
                Err(Error::NotFound(m)) => {
                    assert!(!ok && m.contains("baremetal service"), "row {i}: {m}")
                }
                Err(e) => panic!("row {i}: {e}"),
            }
        }
    }

    #[test]
    fn lookup_stops_at_an_engine_error() {
        let mut calls = 0;
        let got = lookup_with_attempts(
            "baremetal",
            3,
            || {
                calls += 1;
                Err(Error::Closed("engine stopped".into()))
            },
            |_| panic!("no wait after an error"),
        );
        assert_eq!(calls, 1);
        assert!(matches!(got, Err(Error::Closed(_))));
    }

    #[test]
    fn a_wait_between_attempts_ends_with_the_close() {
        let mut calls = 0;
        let got = lookup_with_attempts(
            "baremetal",
            5,
            || {
                calls += 1;
                Ok(None)
            },
            |_| Err(Error::Closed("closing".into())),
        );
        assert_eq!(calls, 1, "no attempt after the close");
        assert!(matches!(got, Err(Error::Closed(_))), "{got:?}");
        let mut calls = 0;
        let got = register_with_attempts(
            "baremetal",
            5,
            || {
                calls += 1;
                Err(Error::Conflict("probe lost".into()))
            },
            || {},
            |_| Err(Error::Closed("closing".into())),
        );
        assert_eq!(calls, 1, "no attempt after the close");
        assert!(matches!(got, Err(Error::Closed(_))), "{got:?}");
    }
}

//! The one retry policy of both transports (SPEC 2, 3.6, 4.1): up to
//! `attempts` tries, waits of 0.1 s, 0.2 s, 0.4 s ... between them, each
//! wait ended by `close` (the caller's `pause` returns Error::Closed). A
//! transport gives one attempt; this module decides whether there is
//! another.

use std::time::Duration;

use crate::error::{Error, Result};
use crate::log::{log, LogLevel};
use crate::service::Lookup;

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

#[cfg(test)]
mod tests {
    use super::*;

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
}

//! `zc_cancel`: a token that cancels blocking calls without closing their
//! handle (`crate::cancel`).

use super::boundary::{required, required_out, run, run_value, Sink};
use super::status::zc_status;
use crate::cancel::Cancel;

/// A cancel token. Create with `zc_cancel_new`, pass it to the `_ex`
/// variants of the blocking calls (`zc_register_service_ex`,
/// `zc_get_endpoint_ex`, `zc_browse_ex`, `zc_wait_lost_ex`,
/// `zc_lookup_ex`), end it with `zc_cancel_free`.
///
/// `zc_cancel_trigger` from any thread makes every call holding the token
/// return `ZC_ERR_CANCELLED` within 50 ms (a few ms in practice); their
/// handle stays usable. One token may serve several calls, at once (on
/// several threads: one trigger cancels them all) or one after another.
/// A token stays triggered: a call given a triggered token returns
/// `ZC_ERR_CANCELLED` at once, so make a new token for new work.
pub struct zc_cancel {
    token: Cancel,
}

impl zc_cancel {
    /// The token of a `const zc_cancel *` argument (NULL: not cancellable).
    pub(crate) fn token_of(p: *const zc_cancel) -> Option<Cancel> {
        // SAFETY: NULL or a live token, as the header requires.
        unsafe { p.as_ref() }.map(|c| c.token.clone())
    }
}

/// Make a new, untriggered token and write it to `*out` (only on `ZC_OK`).
/// `ZC_ERR_INVALID_ARGUMENT` when `out` is NULL.
#[no_mangle]
pub extern "C" fn zc_cancel_new(out: *mut *mut zc_cancel) -> zc_status {
    run("zc_cancel_new", Sink::none(), || {
        let out = required_out(out, "out")?;
        let c = Box::new(zc_cancel {
            token: Cancel::new(),
        });
        // SAFETY: out was checked non-NULL.
        unsafe { *out = Box::into_raw(c) };
        Ok(())
    })
}

/// Cancel every call holding `cancel`, now and from now on: each returns
/// `ZC_ERR_CANCELLED` within 50 ms. Idempotent. Callable from any thread,
/// but not from a signal handler: it takes locks, so it is not
/// async-signal-safe (from a handler, wake a thread of yours, e.g. with a
/// pipe or `signalfd`, and trigger there). Do not call it from the log
/// callback. `ZC_ERR_INVALID_ARGUMENT` when `cancel` is NULL.
#[no_mangle]
pub extern "C" fn zc_cancel_trigger(cancel: *const zc_cancel) -> zc_status {
    run("zc_cancel_trigger", Sink::none(), || {
        required(cancel, "cancel")?.token.trigger();
        Ok(())
    })
}

/// Whether `zc_cancel_trigger` was called on `cancel`: 1 if so, 0 if not
/// (also for NULL).
#[no_mangle]
pub extern "C" fn zc_cancel_is_triggered(cancel: *const zc_cancel) -> i32 {
    run_value("zc_cancel_is_triggered", 0, || {
        i32::from(zc_cancel::token_of(cancel).is_some_and(|c| c.is_triggered()))
    })
}

/// Free a token. NULL is accepted. A call in progress keeps what it
/// needs of the token, so freeing it while calls hold it is allowed (they
/// can then no longer be cancelled with it); the pointer must not be used
/// again, by `zc_cancel_trigger` on another thread included.
#[no_mangle]
pub extern "C" fn zc_cancel_free(cancel: *mut zc_cancel) {
    if cancel.is_null() {
        return;
    }
    run_value("zc_cancel_free", (), || {
        // SAFETY: a pointer from zc_cancel_new, freed once.
        drop(unsafe { Box::from_raw(cancel) });
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capi::status::{ZC_ERR_INVALID_ARGUMENT, ZC_OK};

    #[test]
    fn a_token_is_made_triggered_and_freed() {
        let mut c: *mut zc_cancel = std::ptr::null_mut();
        assert_eq!(zc_cancel_new(&mut c), ZC_OK);
        assert!(!c.is_null());
        assert_eq!(zc_cancel_is_triggered(c), 0);
        assert_eq!(zc_cancel_trigger(c), ZC_OK);
        assert_eq!(zc_cancel_trigger(c), ZC_OK, "idempotent");
        assert_eq!(zc_cancel_is_triggered(c), 1);
        zc_cancel_free(c);
        zc_cancel_free(std::ptr::null_mut());
    }

    #[test]
    fn null_arguments_are_refused() {
        assert_eq!(zc_cancel_new(std::ptr::null_mut()), ZC_ERR_INVALID_ARGUMENT);
        assert_eq!(zc_cancel_trigger(std::ptr::null()), ZC_ERR_INVALID_ARGUMENT);
        assert_eq!(zc_cancel_is_triggered(std::ptr::null()), 0);
    }
}

//! The one boundary every export goes through (after rustls-ffi):
//! - a panic never crosses into C: it is caught, reported as
//!   `ZC_ERR_INTERNAL`, and poisons the handle it happened on, whose later
//!   calls then fail with `ZC_ERR_POISONED`;
//! - an engine that failed inside its driver (`Error::Poisoned`) is
//!   reported as `ZC_ERR_POISONED` and poisons the handle the same way
//!   (`zc_close` still frees it);
//! - a failure's detail text is recorded in the object the call was given
//!   (handle or options) and in the calling thread's slot;
//! - outputs are written by the body only after everything succeeded.

use std::cell::RefCell;
use std::ffi::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use super::status::{
    self, zc_status, ZC_ERR_INTERNAL, ZC_ERR_INVALID_ARGUMENT, ZC_ERR_POISONED, ZC_OK,
};
use super::strings::copy_to_buffer;
use crate::error::{panic_text, Error};

/// A failure as the C side sees it: a status and a detail text.
#[derive(Debug)]
pub(crate) struct Failure {
    pub status: zc_status,
    pub message: String,
}

impl Failure {
    pub fn invalid(message: impl Into<String>) -> Failure {
        Failure {
            status: ZC_ERR_INVALID_ARGUMENT,
            message: message.into(),
        }
    }
    pub fn new(status: zc_status, message: impl Into<String>) -> Failure {
        Failure {
            status,
            message: message.into(),
        }
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        Failure {
            status: status::of_error(&e),
            message: e.to_string(),
        }
    }
}

pub(crate) type Outcome<T = ()> = Result<T, Failure>;

/// A required pointer argument, or `invalid argument: NAME is NULL`.
pub(crate) fn required<'a, T>(p: *const T, name: &str) -> Outcome<&'a T> {
    // SAFETY: the caller passes NULL or a pointer the header allows.
    unsafe { p.as_ref() }.ok_or_else(|| Failure::invalid(format!("{name} is NULL")))
}

/// A required out-parameter.
pub(crate) fn required_out<T>(p: *mut T, name: &str) -> Outcome<*mut T> {
    if p.is_null() {
        Err(Failure::invalid(format!("{name} is NULL")))
    } else {
        Ok(p)
    }
}

/// The detail text of the last failure recorded in one object.
#[derive(Debug, Default)]
pub(crate) struct Detail(Mutex<String>);

impl Detail {
    pub fn set(&self, text: &str) {
        let mut g = self.0.lock().unwrap_or_else(|e| e.into_inner());
        g.clear();
        g.push_str(text);
    }
    /// snprintf-style copy, see `copy_to_buffer`.
    pub fn copy_to(&self, buf: *mut c_char, len: usize) -> usize {
        let g = self.0.lock().unwrap_or_else(|e| e.into_inner());
        copy_to_buffer(&g, buf, len)
    }
}

thread_local! {
    static THREAD_DETAIL: RefCell<String> = const { RefCell::new(String::new()) };
}

fn set_thread_detail(text: &str) {
    // try_with: a call made while the thread is being torn down records nothing.
    let _ = THREAD_DETAIL.try_with(|d| {
        if let Ok(mut d) = d.try_borrow_mut() {
            d.clear();
            d.push_str(text);
        }
    });
}

/// snprintf-style copy of the calling thread's last failure detail.
pub(crate) fn copy_thread_detail(buf: *mut c_char, len: usize) -> usize {
    THREAD_DETAIL
        .try_with(|d| match d.try_borrow() {
            Ok(d) => copy_to_buffer(&d, buf, len),
            Err(_) => copy_to_buffer("", buf, len),
        })
        .unwrap_or_else(|_| copy_to_buffer("", buf, len))
}

/// Where a call's failure goes besides the thread slot, and what it poisons.
#[derive(Clone, Copy, Default)]
pub(crate) struct Sink<'a> {
    pub detail: Option<&'a Detail>,
    pub poison: Option<&'a AtomicBool>,
}

impl<'a> Sink<'a> {
    pub const fn none() -> Sink<'static> {
        Sink {
            detail: None,
            poison: None,
        }
    }

    fn record(&self, func: &str, failure: &Failure) -> zc_status {
        let text = format!("{func}: {}", failure.message);
        if let Some(d) = self.detail {
            d.set(&text);
        }
        set_thread_detail(&text);
        failure.status
    }
}

/// Run the body of export `func`: poisoned check, panic catch, detail.
pub(crate) fn run(func: &str, sink: Sink<'_>, body: impl FnOnce() -> Outcome) -> zc_status {
    if let Some(p) = sink.poison {
        if p.load(Ordering::Acquire) {
            let f = Failure::new(
                ZC_ERR_POISONED,
                "the handle failed earlier (an internal error or its engine); close it",
            );
            return sink.record(func, &f);
        }
    }
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => ZC_OK,
        Ok(Err(failure)) => {
            if failure.status == ZC_ERR_POISONED {
                if let Some(p) = sink.poison {
                    p.store(true, Ordering::Release);
                }
            }
            sink.record(func, &failure)
        }
        Err(payload) => {
            if let Some(p) = sink.poison {
                p.store(true, Ordering::Release);
            }
            let f = Failure::new(
                ZC_ERR_INTERNAL,
                format!("internal error: panic: {}", panic_text(&*payload)),
            );
            sink.record(func, &f)
        }
    }
}

/// Run a body that returns a plain value (no status): on a panic, `fallback`.
pub(crate) fn run_value<T>(func: &str, fallback: T, body: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(v) => v,
        Err(payload) => {
            set_thread_detail(&format!(
                "{func}: internal error: panic: {}",
                panic_text(&*payload)
            ));
            fallback
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capi::status::ZC_ERR_NOT_FOUND;

    fn thread_detail() -> String {
        let mut buf = [0 as c_char; 256];
        copy_thread_detail(buf.as_mut_ptr(), buf.len());
        unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) }
            .to_string_lossy()
            .into_owned()
    }

    #[test]
    fn a_failure_is_recorded_in_the_object_and_the_thread() {
        let d = Detail::default();
        let sink = Sink {
            detail: Some(&d),
            poison: None,
        };
        let st = run("zc_x", sink, || {
            Err(Error::NotFound("no baremetal".into()).into())
        });
        assert_eq!(st, ZC_ERR_NOT_FOUND);
        let mut buf = [0 as c_char; 64];
        let n = d.copy_to(buf.as_mut_ptr(), buf.len());
        let text = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) }
            .to_str()
            .unwrap()
            .to_owned();
        assert_eq!(text, "zc_x: lookup failed: no baremetal");
        assert_eq!(n, text.len());
        assert_eq!(thread_detail(), text);
    }

    #[test]
    fn a_panic_is_internal_then_poisoned() {
        let poison = AtomicBool::new(false);
        let sink = Sink {
            detail: None,
            poison: Some(&poison),
        };
        let st = run("zc_y", sink, || panic!("boom"));
        assert_eq!(st, ZC_ERR_INTERNAL);
        assert_eq!(thread_detail(), "zc_y: internal error: panic: boom");
        let mut ran = false;
        let st = run("zc_y", sink, || {
            ran = true;
            Ok(())
        });
        assert_eq!(st, ZC_ERR_POISONED);
        assert!(!ran, "a poisoned handle must not run the body");
    }

    #[test]
    fn success_is_ok_and_panics_in_value_calls_give_the_fallback() {
        assert_eq!(run("zc_z", Sink::none(), || Ok(())), ZC_OK);
        assert_eq!(run_value("zc_w", 7usize, || panic!("x")), 7);
        assert_eq!(thread_detail(), "zc_w: internal error: panic: x");
    }

    /// An engine that fails inside its driver (here: a panic injected into
    /// the engine) reaches every entry point as ZC_ERR_POISONED, the first
    /// call after the failure from the engine itself, later calls from
    /// the handle's mark; zc_close still frees the handle. The handle is
    /// failed before any call that could open a socket, so nothing is
    /// sent: zc_new opens none.
    #[test]
    fn an_engine_failure_poisons_the_handle_at_every_entry_point() {
        use crate::capi::browse::{zc_browse, zc_services};
        use crate::capi::status::ZC_ERR_POISONED;
        use crate::capi::zeroconf::{
            zc_close, zc_get_endpoint, zc_last_error, zc_new, zc_register_service, zc_wait_lost,
            zc_zeroconf,
        };
        type Call = fn(*const zc_zeroconf) -> zc_status;
        let calls: [(&str, Call); 4] = [
            ("zc_register_service", |zc| {
                zc_register_service(
                    zc,
                    c"baremetal".as_ptr(),
                    c"http://198.18.0.1:6385/baremetal".as_ptr(),
                    std::ptr::null(),
                )
            }),
            ("zc_get_endpoint", |zc| {
                let mut url: *mut c_char = std::ptr::null_mut();
                zc_get_endpoint(
                    zc,
                    c"baremetal".as_ptr(),
                    1,
                    0,
                    &mut url,
                    std::ptr::null_mut(),
                )
            }),
            ("zc_browse", |zc| {
                let mut out: *mut zc_services = std::ptr::null_mut();
                zc_browse(zc, 10, &mut out)
            }),
            ("zc_wait_lost", |zc| {
                let mut out: *mut c_char = std::ptr::null_mut();
                zc_wait_lost(zc, 0, &mut out)
            }),
        ];
        for (name, first) in calls {
            let mut zc: *mut zc_zeroconf = std::ptr::null_mut();
            assert_eq!(zc_new(std::ptr::null(), &mut zc), ZC_OK);
            // SAFETY: a live handle from zc_new.
            unsafe { &*zc }.inner.inject_engine_failure();
            assert_eq!(first(zc), ZC_ERR_POISONED, "{name}: from the engine");
            let mut buf = [0 as c_char; 256];
            zc_last_error(zc, buf.as_mut_ptr(), buf.len());
            let text = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) }
                .to_string_lossy()
                .into_owned();
            assert!(
                text.starts_with(name) && text.contains("injected engine failure"),
                "{name}: {text}"
            );
            for (other, call) in calls {
                assert_eq!(call(zc), ZC_ERR_POISONED, "{other} after {name}");
            }
            assert_eq!(zc_close(zc), ZC_OK, "{name}: close still frees");
        }
    }
}

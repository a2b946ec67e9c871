//! Log messages to a C callback (`zc_set_log_callback`), instead of the
//! default: nothing, unless `IRONICMDNS_LOG` asks for stderr.

use std::ffi::{c_char, c_int, c_void, CString};
use std::sync::RwLock;

use super::boundary::{run, Sink};
use super::status::zc_status;
use crate::log::{set_log_hook, LogLevel};

/// Log level of a debug message (sent to a callback, or to stderr with
/// `IRONICMDNS_LOG=debug`).
pub const ZC_LOG_DEBUG: c_int = 0;
/// Log level of a warning (e.g. no route to any address of a service: the
/// first one is used anyway).
pub const ZC_LOG_WARNING: c_int = 1;
/// Log level of an error that did not fail a call (e.g. a withdrawal that
/// failed during `zc_close`).
pub const ZC_LOG_ERROR: c_int = 2;

/// A log callback: `level` is a `ZC_LOG_*` value, `message` a NUL-terminated
/// UTF-8 line valid only during the call, `user` what was given to
/// `zc_set_log_callback`.
pub type zc_log_fn =
    Option<unsafe extern "C" fn(level: c_int, message: *const c_char, user: *mut c_void)>;

/// The C callback and its user pointer (kept as an address: the caller
/// promises it may be used from any thread).
static CALLBACK: RwLock<
    Option<(
        unsafe extern "C" fn(c_int, *const c_char, *mut c_void),
        usize,
    )>,
> = RwLock::new(None);

fn forward(level: LogLevel, message: &str) {
    let Some((cb, user)) = *CALLBACK.read().unwrap_or_else(|e| e.into_inner()) else {
        return;
    };
    let level = match level {
        LogLevel::Debug => ZC_LOG_DEBUG,
        LogLevel::Warning => ZC_LOG_WARNING,
        LogLevel::Error => ZC_LOG_ERROR,
    };
    let text = CString::new(message.replace('\0', " ")).unwrap_or_default();
    // SAFETY: the callback and user pointer the caller registered.
    unsafe { cb(level, text.as_ptr(), user as *mut c_void) };
}

/// Send the library's log messages (all levels) to `callback` with `user`;
/// NULL restores the default. Process-wide. The default is quiet: the
/// library writes nothing unless the environment variable
/// `IRONICMDNS_LOG` is `warning` (warnings and errors go to stderr),
/// `debug` (everything) or `error` (errors only), read at each message.
/// The callback may be called from any thread that is inside a library
/// call, including several at once, and from the library's background
/// threads; it must not call back into the library, and must stay valid
/// until it is replaced. Always `ZC_OK`.
#[no_mangle]
pub extern "C" fn zc_set_log_callback(callback: zc_log_fn, user: *mut c_void) -> zc_status {
    run("zc_set_log_callback", Sink::none(), || {
        let mut slot = CALLBACK.write().unwrap_or_else(|e| e.into_inner());
        *slot = callback.map(|cb| (cb, user as usize));
        set_log_hook(slot.is_some().then_some(forward as fn(LogLevel, &str)));
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    unsafe extern "C" fn collect(level: c_int, message: *const c_char, user: *mut c_void) {
        let seen = &*(user as *const Mutex<Vec<(c_int, String)>>);
        let text = std::ffi::CStr::from_ptr(message)
            .to_string_lossy()
            .into_owned();
        seen.lock().unwrap().push((level, text));
    }

    // zc_set_log_callback itself installs a process-wide hook, which would
    // race the other unit tests that set one: it is exercised by the C
    // tests (tests/c/bad_input.c), in their own process. Here: forwarding.
    #[test]
    fn messages_reach_the_callback_with_their_level() {
        let seen: &'static Mutex<Vec<(c_int, String)>> = Box::leak(Box::default());
        *CALLBACK.write().unwrap() = Some((collect, seen as *const _ as usize));
        forward(LogLevel::Warning, "no route to fd00:99::2");
        forward(LogLevel::Debug, "debug");
        forward(LogLevel::Error, "a\0b");
        *CALLBACK.write().unwrap() = None;
        forward(LogLevel::Error, "after removal");
        assert_eq!(
            *seen.lock().unwrap(),
            [
                (ZC_LOG_WARNING, "no route to fd00:99::2".to_owned()),
                (ZC_LOG_DEBUG, "debug".to_owned()),
                (ZC_LOG_ERROR, "a b".to_owned()),
            ]
        );
    }
}

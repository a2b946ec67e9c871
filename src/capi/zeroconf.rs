//! `zc_zeroconf`: the service object (SPEC 3, 4, 6) and the one-shot
//! lookups.

use std::collections::HashMap;
use std::ffi::{c_char, c_int};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use super::boundary::{
    copy_thread_detail, required, required_out, run, run_value, Detail, Failure, Outcome, Sink,
};
use super::options::{config_of, zc_options};
use super::props::zc_props;
use super::status::{zc_status, ZC_ENDPOINT_VALIDATED, ZC_ERR_CLOSED, ZC_OK};
use super::strings::{in_str, out_string};
use crate::cancel::Cancel;
use crate::config::Config;
use crate::props::Properties;
use crate::zeroconf::{Found, Zeroconf};

/// An mDNS client and server, like `ironic_lib.mdns.Zeroconf`: it owns the
/// sockets and, from the first call that needs one, a background thread.
/// Create with `zc_new`, end with
/// `zc_close`. Thread-safe: any number of threads may call any function on
/// one handle at once, `zc_close` included. `zc_close` from any thread
/// wakes every call in progress on that handle (`zc_register_service`,
/// `zc_get_endpoint`, `zc_browse`, `zc_wait_lost`, also while they wait
/// between attempts): each returns `ZC_ERR_CLOSED` promptly (well under
/// 100 ms, not at the end of its attempts), and the handle's memory is
/// freed only after the last of them has returned. This is how a C agent
/// cancels a lookup on shutdown. A call that starts after `zc_close` began
/// returns `ZC_ERR_CLOSED` too; using the pointer after `zc_close`
/// returned is a caller error, which the library still reports as
/// `ZC_ERR_CLOSED` unless a later `zc_new` got the same address.
pub struct zc_zeroconf {
    pub(crate) inner: Zeroconf,
    detail: Detail,
    poisoned: AtomicBool,
}

impl zc_zeroconf {
    fn sink(&self) -> Sink<'_> {
        Sink {
            detail: Some(&self.detail),
            poison: Some(&self.poisoned),
        }
    }
}

/// The live handles by address. A call takes a reference to its handle
/// from here for its whole duration; `zc_close` removes the handle, closes
/// it (which wakes the calls inside it) and drops its own reference: the
/// memory goes with the last reference. A pointer that is not here (NULL
/// aside) belongs to a closed handle.
fn live() -> &'static Mutex<HashMap<usize, Arc<zc_zeroconf>>> {
    static LIVE: OnceLock<Mutex<HashMap<usize, Arc<zc_zeroconf>>>> = OnceLock::new();
    LIVE.get_or_init(Mutex::default)
}

pub(crate) fn closed_failure() -> Failure {
    Failure::new(ZC_ERR_CLOSED, "the handle is closed")
}

/// A reference to the live handle `zc`: NULL is an invalid argument, a
/// handle not (or no longer) live is closed.
fn acquire(zc: *const zc_zeroconf) -> Outcome<Arc<zc_zeroconf>> {
    required(zc, "zc")?;
    let map = live().lock().unwrap_or_else(|e| e.into_inner());
    map.get(&(zc as usize)).cloned().ok_or_else(closed_failure)
}

/// Run a call on a handle, holding a reference to it throughout: a NULL
/// or closed handle is recorded for the thread only.
pub(crate) fn on_handle(
    func: &str,
    zc: *const zc_zeroconf,
    body: impl FnOnce(&zc_zeroconf) -> Outcome,
) -> zc_status {
    match acquire(zc) {
        // A call woken by zc_close reports the close, whatever the engine
        // said on its way out.
        Ok(h) => run(func, h.sink(), || match body(&h) {
            Err(f) if f.status != ZC_ERR_CLOSED && h.inner.is_closed() => Err(Failure::new(
                ZC_ERR_CLOSED,
                format!("the handle was closed during the call ({})", f.message),
            )),
            other => other,
        }),
        Err(f) => run(func, Sink::none(), || Err(f)),
    }
}

/// Write a lookup result: the URL (required), the properties and the
/// flags (optional).
pub(crate) fn write_found(
    found: Found,
    url_out: *mut *mut c_char,
    props_out: *mut *mut zc_props,
    flags_out: *mut u32,
) -> Outcome {
    let flags = if found.validated {
        ZC_ENDPOINT_VALIDATED
    } else {
        0
    };
    write_result((found.url, found.params), url_out, props_out)?;
    if !flags_out.is_null() {
        // SAFETY: a non-NULL flags_out is writable, as the header requires.
        unsafe { *flags_out = flags };
    }
    Ok(())
}

/// Write a lookup result: the URL (required) and the properties (optional).
fn write_result(
    (url, props): (String, Properties),
    url_out: *mut *mut c_char,
    props_out: *mut *mut zc_props,
) -> Outcome {
    // Convert everything first: outputs are written only on success.
    let props = if props_out.is_null() {
        None
    } else {
        Some(Box::new(zc_props::from_properties(&props)?))
    };
    let url = out_string(&url, "the URL")?;
    // SAFETY: url_out was checked non-NULL by the caller; props_out is
    // written only when not NULL.
    unsafe {
        *url_out = url;
        if let Some(p) = props {
            *props_out = Box::into_raw(p);
        }
    }
    Ok(())
}

/// Start an mDNS instance with `opts` (NULL: all defaults; the options are
/// copied, so they may be freed or changed afterwards) and write it to
/// `*out` (only on `ZC_OK`). Reads the interface table only: sockets and
/// the background thread start with the first call that needs them, which
/// returns `ZC_ERR_IO` when no socket can be opened. `ZC_ERR_IO` here when
/// an address of the `interfaces` option is held by no interface that is
/// up and multicast-capable now (e.g. "198.18.0.77" where no interface has
/// it): a service registered there could never be found, so no handle is
/// made. On failure the detail is in `zc_options_last_error(opts, ...)`
/// (and `zc_last_error(NULL, ...)` on this thread).
#[no_mangle]
pub extern "C" fn zc_new(opts: *const zc_options, out: *mut *mut zc_zeroconf) -> zc_status {
    // SAFETY: NULL or a live options object.
    let sink = unsafe { opts.as_ref() }.map_or(Sink::none(), zc_options::sink);
    run("zc_new", sink, || {
        let out = required_out(out, "out")?;
        let inner = Zeroconf::new(config_of(opts))?;
        let h = Arc::new(zc_zeroconf {
            inner,
            detail: Detail::default(),
            poisoned: AtomicBool::new(false),
        });
        let ptr = Arc::as_ptr(&h).cast_mut();
        live()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(ptr as usize, h);
        // SAFETY: out was checked non-NULL.
        unsafe { *out = ptr };
        Ok(())
    })
}

/// Register the OpenStack service `service_type` (e.g. "baremetal") at
/// `endpoint_url` (e.g. "https://198.18.0.2/baremetal"), publishing
/// `params` (NULL: none; copied) as TXT properties after the `params`
/// option and before the derived `path` and `protocol` (SPEC 3); keys
/// compare without regard to case, so a `PATH` in `params` is replaced by
/// the derived `path` (RFC 6763 s6.4). Probes first and retries a name
/// conflict `registration_attempts` times; blocks for about a second per
/// attempt. `ZC_OK` only once the service was probed and announced on at
/// least one interface. `ZC_ERR_NAME_CONFLICT` when another host keeps the
/// name; `ZC_ERR_REGISTRATION` for an unresolvable host, and when no
/// interface is up to probe on (nothing is published then);
/// `ZC_ERR_INVALID_ARGUMENT` for a bad URL (also port 0, RFC 6763 s8) or
/// service type; `ZC_ERR_CLOSED` when `zc_close` came first or meanwhile.
///
/// The service type is the instance's first DNS label, taken literally
/// (RFC 6763 s4.3): "a.b" or "back\slash" register, look up and browse as
/// the same one label, and `zc_browse` reports it unchanged. Refused with
/// `ZC_ERR_INVALID_ARGUMENT` by `zc_register_service`, `zc_get_endpoint`
/// and `zc_lookup` alike: empty, longer than 63 bytes, not UTF-8, or
/// holding an ASCII control character (0x00-0x1F, 0x7F).
#[no_mangle]
pub extern "C" fn zc_register_service(
    zc: *const zc_zeroconf,
    service_type: *const c_char,
    endpoint_url: *const c_char,
    params: *const zc_props,
) -> zc_status {
    on_handle("zc_register_service", zc, |h| {
        let service_type = in_str(service_type, "service_type")?;
        let endpoint_url = in_str(endpoint_url, "endpoint_url")?;
        // SAFETY: NULL or a live property set.
        let params = unsafe { params.as_ref() }.map(zc_props::to_properties);
        h.inner
            .register_service(service_type, endpoint_url, params.as_ref())?;
        Ok(())
    })
}

/// Look up the OpenStack service `service_type` (SPEC 4): up to
/// `lookup_attempts` attempts of `lookup_timeout` each with doubling waits
/// between them, so it never blocks longer than those options allow. On
/// `ZC_OK`, `*url_out` gets the endpoint URL (free it with
/// `zc_string_free`) and, when `props_out` is not NULL, `*props_out` the
/// remaining TXT properties (free with `zc_props_free`); nothing is written
/// on failure. `skip_loopback` / `skip_link_local` (0 or not 0) as in the
/// reference (it uses 1 and 0). `ZC_ERR_NOT_FOUND` when nobody answered,
/// `ZC_ERR_NO_VALID_ADDRESS`, `ZC_ERR_DECODE` for a key that is not UTF-8,
/// `ZC_ERR_INVALID_ARGUMENT` for a service type `zc_register_service`
/// refuses, `ZC_ERR_CLOSED` when `zc_close` came first or meanwhile (the
/// lookup is cancelled at once).
#[no_mangle]
pub extern "C" fn zc_get_endpoint(
    zc: *const zc_zeroconf,
    service_type: *const c_char,
    skip_loopback: c_int,
    skip_link_local: c_int,
    url_out: *mut *mut c_char,
    props_out: *mut *mut zc_props,
) -> zc_status {
    on_handle("zc_get_endpoint", zc, |h| {
        let service_type = in_str(service_type, "service_type")?;
        let url_out = required_out(url_out, "url_out")?;
        let found = h
            .inner
            .get_endpoint(service_type, skip_loopback != 0, skip_link_local != 0)?;
        write_result(found, url_out, props_out)
    })
}

/// The lost instance names as one C string: NULL when none, else the names
/// joined by '\n'.
pub(crate) fn lost_text(lost: &[String]) -> Outcome<*mut c_char> {
    if lost.is_empty() {
        return Ok(std::ptr::null_mut());
    }
    out_string(&lost.join("\n"), "a lost instance name")
}

/// Learn whether a registration made on `zc` was lost: another host
/// answered the re-probe this library sends after a conflicting record
/// appears (RFC 6762 s9), so the library withdrew that service. A lost
/// registration is never renamed or retried; the publisher should exit or
/// call `zc_register_service` again. Waits up to `timeout_ms` ms (0: only
/// check now; negative: `ZC_ERR_INVALID_ARGUMENT`) for a loss; to stop a
/// waiting thread call `zc_close` (the wait then returns `ZC_ERR_CLOSED`),
/// let its timeout pass, or wait with `zc_wait_lost_ex` and a `zc_cancel`. On `ZC_OK`, `*lost_out` is NULL when nothing was lost, else a new
/// string (free it with `zc_string_free`) of the lost instance names
/// (e.g. "baremetal._openstack._tcp.local.") separated by '\n'; a lost
/// name is reported by every later call as well. Nothing is written on
/// failure.
#[no_mangle]
pub extern "C" fn zc_wait_lost(
    zc: *const zc_zeroconf,
    timeout_ms: i32,
    lost_out: *mut *mut c_char,
) -> zc_status {
    on_handle("zc_wait_lost", zc, |h| {
        wait_lost(h, timeout_ms, None, lost_out)
    })
}

/// The body of `zc_wait_lost` and `zc_wait_lost_ex`.
pub(crate) fn wait_lost(
    h: &zc_zeroconf,
    timeout_ms: i32,
    cancel: Option<&Cancel>,
    lost_out: *mut *mut c_char,
) -> Outcome {
    {
        let lost_out = required_out(lost_out, "lost_out")?;
        let ms = u64::try_from(timeout_ms)
            .map_err(|_| Failure::invalid(format!("timeout_ms {timeout_ms} is negative")))?;
        // 0 ms still goes through the wait: it returns at once, and it also
        // counts a loss no earlier call saw announced.
        let lost = h
            .inner
            .wait_registrations_lost_with(Some(Duration::from_millis(ms)), cancel)?;
        if h.inner.is_closed() {
            return Err(closed_failure());
        }
        if let Some(e) = h.inner.engine_failure() {
            return Err(e.into());
        }
        let text = lost_text(&lost)?;
        // SAFETY: lost_out was checked non-NULL.
        unsafe { *lost_out = text };
        Ok(())
    }
}

/// Copy the detail text of the last failed call on `zc` into `buf` of `len`
/// bytes, snprintf-style: at most `len - 1` bytes and a NUL; returns the
/// full length (without NUL), so a result `>= len` means it was cut (call
/// again with a bigger buffer). `buf` may be NULL when `len` is 0. Returns
/// 0 and writes "" when nothing failed yet. `zc` NULL, or a handle that is
/// closed (e.g. by another thread while a call was inside it): the last
/// failure of any call made by this thread (the only detail of
/// `zc_lookup`, the `zc_props_*` calls and a `zc_new` without options;
/// unreliable from languages that move a caller between threads, like Go).
#[no_mangle]
pub extern "C" fn zc_last_error(zc: *const zc_zeroconf, buf: *mut c_char, len: usize) -> usize {
    run_value("zc_last_error", 0, || match acquire(zc) {
        Ok(h) => h.detail.copy_to(buf, len),
        Err(_) => copy_thread_detail(buf, len),
    })
}

/// Withdraw every service this handle registered (goodbye packets, so
/// peers forget them at once), stop its thread, close its sockets and free
/// it. NULL is accepted (returns `ZC_OK`). May be called from any thread
/// while other threads are inside calls on the same handle: those are
/// woken and return `ZC_ERR_CLOSED` promptly, and the memory is freed when
/// the last of them has returned (`zc_close` itself does not wait for
/// them). Returns once the goodbyes are sent; a withdrawal that failed is
/// logged (`ZC_LOG_ERROR`), not returned. A second `zc_close` of the same
/// handle (also one racing the first) returns `ZC_ERR_CLOSED`. After
/// `zc_close` returned, the pointer must not be used again.
#[no_mangle]
pub extern "C" fn zc_close(zc: *mut zc_zeroconf) -> zc_status {
    if zc.is_null() {
        return ZC_OK;
    }
    run("zc_close", Sink::none(), || {
        let h = {
            let mut map = live().lock().unwrap_or_else(|e| e.into_inner());
            let h = map.remove(&(zc as usize)).ok_or_else(closed_failure)?;
            if map.is_empty() {
                // No table left behind once every handle is closed (leak
                // checkers see a clean exit).
                map.shrink_to_fit();
            }
            h
        };
        let result = h.inner.close();
        // Freed here unless a call is still inside: then by the last one.
        drop(h);
        result.map_err(Failure::from)
    })
}

fn lookup_once(config: Config, service_type: &str) -> Outcome<(String, Properties)> {
    Ok(crate::zeroconf::lookup_once(
        config,
        service_type,
        true,
        false,
    )?)
}

/// One-shot lookup with default options (SPEC 6, the reference's
/// module-level `get_endpoint`): start an instance, look `service_type` up
/// (skipping loopback addresses), close it. Outputs as `zc_get_endpoint`.
/// Detail of a failure: `zc_last_error(NULL, ...)` on this thread, or use
/// `zc_lookup_with_options`.
#[no_mangle]
pub extern "C" fn zc_lookup(
    service_type: *const c_char,
    url_out: *mut *mut c_char,
    props_out: *mut *mut zc_props,
) -> zc_status {
    run("zc_lookup", Sink::none(), || {
        let service_type = in_str(service_type, "service_type")?;
        let url_out = required_out(url_out, "url_out")?;
        let found = crate::zeroconf::get_endpoint(service_type)?;
        write_result(found, url_out, props_out)
    })
}

/// `zc_lookup` with options (NULL: defaults), e.g. `lookup_attempts` "1"
/// and `lookup_timeout` "0.2" for a quick answer. Detail of a failure:
/// `zc_options_last_error(opts, ...)`.
#[no_mangle]
pub extern "C" fn zc_lookup_with_options(
    opts: *const zc_options,
    service_type: *const c_char,
    url_out: *mut *mut c_char,
    props_out: *mut *mut zc_props,
) -> zc_status {
    // SAFETY: NULL or a live options object.
    let sink = unsafe { opts.as_ref() }.map_or(Sink::none(), zc_options::sink);
    run("zc_lookup_with_options", sink, || {
        let service_type = in_str(service_type, "service_type")?;
        let url_out = required_out(url_out, "url_out")?;
        let found = lookup_once(config_of(opts), service_type)?;
        write_result(found, url_out, props_out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capi::status::ZC_ERR_INVALID_ARGUMENT;
    use crate::capi::strings::{read, zc_string_free};

    #[test]
    fn nothing_lost_is_null() {
        assert!(lost_text(&[]).unwrap().is_null());
    }

    #[test]
    fn lost_names_are_joined_by_newlines() {
        let names = [
            "baremetal._openstack._tcp.local.".to_string(),
            "identity._openstack._tcp.local.".to_string(),
        ];
        let text = lost_text(&names).unwrap();
        assert_eq!(
            read(text),
            "baremetal._openstack._tcp.local.\nidentity._openstack._tcp.local."
        );
        zc_string_free(text);
    }

    #[test]
    fn a_pointer_that_is_not_a_live_handle_is_closed_and_never_read() {
        // Never dereferenced: the live table is asked first.
        let gone = std::ptr::NonNull::<zc_zeroconf>::dangling().as_ptr();
        let mut url: *mut c_char = std::ptr::null_mut();
        assert_eq!(
            zc_get_endpoint(
                gone,
                c"baremetal".as_ptr(),
                1,
                0,
                &mut url,
                std::ptr::null_mut()
            ),
            ZC_ERR_CLOSED
        );
        assert!(url.is_null());
        assert_eq!(zc_close(gone), ZC_ERR_CLOSED, "a second close");
        let mut buf = [0 as c_char; 64];
        let n = zc_last_error(gone, buf.as_mut_ptr(), buf.len());
        assert_eq!(read(buf.as_ptr()), "zc_close: the handle is closed");
        assert_eq!(n, "zc_close: the handle is closed".len());
        assert_eq!(zc_close(std::ptr::null_mut()), ZC_OK);
    }

    #[test]
    fn wait_lost_without_a_handle_is_refused_and_writes_nothing() {
        let mut out: *mut c_char = std::ptr::NonNull::dangling().as_ptr();
        let before = out;
        assert_eq!(
            zc_wait_lost(std::ptr::null(), 0, &mut out),
            ZC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(out, before);
    }
}

//! `zc_zeroconf`: the service object (SPEC 3, 4, 6) and the one-shot
//! lookups.

use std::ffi::{c_char, c_int};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use super::boundary::{
    copy_thread_detail, required, required_out, run, run_value, Detail, Failure, Outcome, Sink,
};
use super::options::{config_of, zc_options};
use super::props::zc_props;
use super::status::zc_status;
use super::strings::{in_str, out_string};
use crate::config::Config;
use crate::endpoint::Properties;
use crate::zeroconf::Zeroconf;

/// An mDNS client and server, like `ironic_lib.mdns.Zeroconf`: it owns the
/// sockets and, from the first call that needs one, a background thread.
/// Create with `zc_new`, end with
/// `zc_close`. Thread-safe: several threads may call `zc_register_service`,
/// `zc_get_endpoint`, `zc_browse`, `zc_wait_lost` and `zc_last_error` on
/// one handle at once; only `zc_close` must not race other calls on the
/// same handle.
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

/// Run a call on a handle: a NULL handle is an invalid argument recorded
/// for the thread only.
pub(crate) fn on_handle(
    func: &str,
    zc: *const zc_zeroconf,
    body: impl FnOnce(&zc_zeroconf) -> Outcome,
) -> zc_status {
    match required(zc, "zc") {
        Ok(h) => run(func, h.sink(), || body(h)),
        Err(f) => run(func, Sink::none(), || Err(f)),
    }
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
/// returns `ZC_ERR_IO` when no socket can be opened. On failure the detail is in
/// `zc_options_last_error(opts, ...)` (and `zc_last_error(NULL, ...)` on
/// this thread).
#[no_mangle]
pub extern "C" fn zc_new(opts: *const zc_options, out: *mut *mut zc_zeroconf) -> zc_status {
    // SAFETY: NULL or a live options object.
    let sink = unsafe { opts.as_ref() }.map_or(Sink::none(), zc_options::sink);
    run("zc_new", sink, || {
        let out = required_out(out, "out")?;
        let inner = Zeroconf::new(config_of(opts))?;
        let h = Box::new(zc_zeroconf {
            inner,
            detail: Detail::default(),
            poisoned: AtomicBool::new(false),
        });
        // SAFETY: out was checked non-NULL.
        unsafe { *out = Box::into_raw(h) };
        Ok(())
    })
}

/// Register the OpenStack service `service_type` (e.g. "baremetal") at
/// `endpoint_url` (e.g. "https://198.18.0.2/baremetal"), publishing
/// `params` (NULL: none; copied) as TXT properties after the `params`
/// option and before the derived `path` and `protocol` (SPEC 3). Probes
/// first and retries a name conflict `registration_attempts` times; blocks
/// for about a second per attempt. `ZC_ERR_NAME_CONFLICT` when another
/// host keeps the name; `ZC_ERR_REGISTRATION` for an unresolvable host;
/// `ZC_ERR_INVALID_ARGUMENT` for a bad URL or service type.
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
/// `ZC_ERR_NO_VALID_ADDRESS`, `ZC_ERR_DECODE` for a key that is not UTF-8.
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
fn lost_text(lost: &[String]) -> Outcome<*mut c_char> {
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
/// waiting thread let its timeout pass (`zc_close` must not race this
/// call). On `ZC_OK`, `*lost_out` is NULL when nothing was lost, else a new
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
        let lost_out = required_out(lost_out, "lost_out")?;
        let ms = u64::try_from(timeout_ms)
            .map_err(|_| Failure::invalid(format!("timeout_ms {timeout_ms} is negative")))?;
        // 0 ms still goes through the wait: it returns at once, and it also
        // counts a loss no earlier call saw announced.
        let lost = h
            .inner
            .wait_registrations_lost(Some(Duration::from_millis(ms)));
        if let Some(e) = h.inner.engine_failure() {
            return Err(e.into());
        }
        let text = lost_text(&lost)?;
        // SAFETY: lost_out was checked non-NULL.
        unsafe { *lost_out = text };
        Ok(())
    })
}

/// Copy the detail text of the last failed call on `zc` into `buf` of `len`
/// bytes, snprintf-style: at most `len - 1` bytes and a NUL; returns the
/// full length (without NUL), so a result `>= len` means it was cut (call
/// again with a bigger buffer). `buf` may be NULL when `len` is 0. Returns
/// 0 and writes "" when nothing failed yet. `zc` NULL: the last failure of
/// any call made by this thread (the only detail of `zc_lookup`, the
/// `zc_props_*` calls and a `zc_new` without options; unreliable from
/// languages that move a caller between threads, like Go).
#[no_mangle]
pub extern "C" fn zc_last_error(zc: *const zc_zeroconf, buf: *mut c_char, len: usize) -> usize {
    run_value("zc_last_error", 0, || {
        // SAFETY: NULL or a live handle.
        match unsafe { zc.as_ref() } {
            Some(h) => h.detail.copy_to(buf, len),
            None => copy_thread_detail(buf, len),
        }
    })
}

/// Withdraw every service this handle registered (goodbye packets, so
/// peers forget them at once), stop its thread, close its sockets and free
/// it. NULL is accepted (returns `ZC_OK`). The handle is freed whatever the
/// result; a withdrawal that failed is reported (detail:
/// `zc_last_error(NULL, ...)`). No other call may use the handle during or
/// after `zc_close`.
#[no_mangle]
pub extern "C" fn zc_close(zc: *mut zc_zeroconf) -> zc_status {
    if zc.is_null() {
        return super::status::ZC_OK;
    }
    run("zc_close", Sink::none(), || {
        // SAFETY: zc came from Box::into_raw in zc_new and is closed once.
        let h = unsafe { Box::from_raw(zc) };
        let result = h.inner.close();
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

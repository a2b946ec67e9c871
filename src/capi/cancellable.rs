//! The cancellable (`_ex`) variants of the blocking calls: each takes a
//! `const zc_cancel *` (NULL: not cancellable) and otherwise behaves as
//! the call it extends.

use std::ffi::{c_char, c_int};

use super::boundary::{required_out, run, Outcome, Sink};
use super::browse::{self, zc_services};
use super::cancel::zc_cancel;
use super::options::{config_of, zc_options};
use super::props::zc_props;
use super::status::zc_status;
use super::strings::in_str;
use super::zeroconf::{on_handle, wait_lost, write_found, zc_zeroconf};
use crate::cancel::Cancel;
use crate::error::Result;
use crate::zeroconf::{lookup_once_with, Found};

/// `zc_register_service`, cancellable by `cancel` (NULL: not
/// cancellable). A triggered token ends the call with `ZC_ERR_CANCELLED`
/// within 50 ms, and the handle stays usable. What the cancelled call
/// leaves on the wire: over mDNS, nothing but the probes if it was still
/// probing (no record of the service was announced, so none needs a
/// goodbye); if it had announced just before the cancel was seen, the
/// goodbyes (TTL 0) follow right after the call returns (`zc_close` waits
/// for them). Over unicast DNS (option `domain`), once its UPDATE was sent
/// (so it may have been applied) a removal of exactly the records it
/// added follows in the background (`zc_close` waits for it). A
/// registration that completed before the trigger was seen returns
/// `ZC_OK` and stays published. Not interruptible: the system resolver's
/// lookup of a host name in `endpoint_url` (an IP literal needs none); a
/// cancel during it takes effect when it returns.
#[no_mangle]
pub extern "C" fn zc_register_service_ex(
    zc: *const zc_zeroconf,
    service_type: *const c_char,
    endpoint_url: *const c_char,
    params: *const zc_props,
    cancel: *const zc_cancel,
) -> zc_status {
    on_handle("zc_register_service_ex", zc, |h| {
        let service_type = in_str(service_type, "service_type")?;
        let endpoint_url = in_str(endpoint_url, "endpoint_url")?;
        // SAFETY: NULL or a live property set.
        let params = unsafe { params.as_ref() }.map(zc_props::to_properties);
        let cancel = zc_cancel::token_of(cancel);
        h.inner.register_service_with(
            service_type,
            endpoint_url,
            params.as_ref(),
            cancel.as_ref(),
        )?;
        Ok(())
    })
}

/// `zc_get_endpoint`, cancellable by `cancel` (NULL: not cancellable;
/// triggered: `ZC_ERR_CANCELLED` within 50 ms, nothing written, the handle
/// stays usable). On `ZC_OK`, when `flags_out` is not NULL, `*flags_out`
/// gets `ZC_ENDPOINT_VALIDATED` if every record the endpoint came from
/// was validated by DNSSEC against the configured trust anchors, else 0.
#[no_mangle]
pub extern "C" fn zc_get_endpoint_ex(
    zc: *const zc_zeroconf,
    service_type: *const c_char,
    skip_loopback: c_int,
    skip_link_local: c_int,
    cancel: *const zc_cancel,
    url_out: *mut *mut c_char,
    props_out: *mut *mut zc_props,
    flags_out: *mut u32,
) -> zc_status {
    on_handle("zc_get_endpoint_ex", zc, |h| {
        find_ex(
            service_type,
            (skip_loopback, skip_link_local),
            cancel,
            (url_out, props_out, flags_out),
            |st, lo, ll, c| h.inner.get_endpoint_with(st, lo, ll, c),
        )
    })
}

/// `zc_browse`, cancellable by `cancel` (NULL: not cancellable;
/// triggered: `ZC_ERR_CANCELLED` within 50 ms and no list).
#[no_mangle]
pub extern "C" fn zc_browse_ex(
    zc: *const zc_zeroconf,
    duration_ms: u32,
    cancel: *const zc_cancel,
    out: *mut *mut zc_services,
) -> zc_status {
    on_handle("zc_browse_ex", zc, |h| {
        let cancel = zc_cancel::token_of(cancel);
        browse::browse(h, duration_ms, cancel.as_ref(), out)
    })
}

/// `zc_wait_lost`, cancellable by `cancel` (NULL: not cancellable;
/// triggered: `ZC_ERR_CANCELLED` within 50 ms unless a loss was seen, in
/// which case the call returns `ZC_OK` with the names).
#[no_mangle]
pub extern "C" fn zc_wait_lost_ex(
    zc: *const zc_zeroconf,
    timeout_ms: i32,
    cancel: *const zc_cancel,
    lost_out: *mut *mut c_char,
) -> zc_status {
    on_handle("zc_wait_lost_ex", zc, |h| {
        let cancel = zc_cancel::token_of(cancel);
        wait_lost(h, timeout_ms, cancel.as_ref(), lost_out)
    })
}

/// `zc_lookup_with_options` (`opts` NULL: defaults), cancellable by
/// `cancel` (NULL: not cancellable; triggered: `ZC_ERR_CANCELLED` within
/// 50 ms), with `skip_loopback` / `skip_link_local` as in
/// `zc_get_endpoint` and `*flags_out` (optional) as in
/// `zc_get_endpoint_ex`. Detail of a failure: `zc_options_last_error(opts,
/// ...)`, or `zc_last_error(NULL, ...)` on this thread.
#[no_mangle]
pub extern "C" fn zc_lookup_ex(
    opts: *const zc_options,
    service_type: *const c_char,
    skip_loopback: c_int,
    skip_link_local: c_int,
    cancel: *const zc_cancel,
    url_out: *mut *mut c_char,
    props_out: *mut *mut zc_props,
    flags_out: *mut u32,
) -> zc_status {
    // SAFETY: NULL or a live options object.
    let sink = unsafe { opts.as_ref() }.map_or(Sink::none(), zc_options::sink);
    run("zc_lookup_ex", sink, || {
        find_ex(
            service_type,
            (skip_loopback, skip_link_local),
            cancel,
            (url_out, props_out, flags_out),
            |st, lo, ll, c| lookup_once_with(config_of(opts), st, lo, ll, c),
        )
    })
}

/// What `zc_get_endpoint_ex` and `zc_lookup_ex` share: the service type
/// and `url_out` checked, the token taken, then `find` with the flags as
/// booleans (skip loopback, skip link-local), and what it found written
/// to the outputs (only on success).
fn find_ex(
    service_type: *const c_char,
    (skip_loopback, skip_link_local): (c_int, c_int),
    cancel: *const zc_cancel,
    (url_out, props_out, flags_out): (*mut *mut c_char, *mut *mut zc_props, *mut u32),
    find: impl FnOnce(&str, bool, bool, Option<&Cancel>) -> Result<Found>,
) -> Outcome {
    let service_type = in_str(service_type, "service_type")?;
    let url_out = required_out(url_out, "url_out")?;
    let cancel = zc_cancel::token_of(cancel);
    let found = find(
        service_type,
        skip_loopback != 0,
        skip_link_local != 0,
        cancel.as_ref(),
    )?;
    write_found(found, url_out, props_out, flags_out)
}

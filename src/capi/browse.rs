//! `zc_services`: what `zc_browse` heard, every `_openstack._tcp` instance
//! on the link (SPEC 5: browsing lists every OpenStack service).

use std::ffi::{c_char, CString};
use std::time::Duration;

use super::boundary::{required, required_out, Failure, Outcome};
use super::props::zc_props;
use super::status::{zc_status, ZC_ERR_DECODE};
use super::zeroconf::{on_handle, zc_zeroconf};
use crate::cancel::Cancel;
use crate::zeroconf::BrowsedService;

/// The longest browse: a minute.
const MAX_BROWSE_MS: u32 = 60_000;

struct Service {
    service_type: CString,
    /// The URL, or why it could not be built.
    url: Result<CString, CString>,
    props: zc_props,
}

/// The services `zc_browse` found, in the order they were heard. Free with
/// `zc_services_free`. Read-only: any thread may read it.
pub struct zc_services {
    list: Vec<Service>,
}

fn c_text(s: &str, what: &str) -> Outcome<CString> {
    CString::new(s)
        .map_err(|_| Failure::new(ZC_ERR_DECODE, format!("{what} {s:?} holds a NUL byte")))
}

impl zc_services {
    pub(crate) fn from_browsed(found: &[BrowsedService]) -> Outcome<zc_services> {
        let mut list = Vec::with_capacity(found.len());
        for s in found {
            list.push(Service {
                service_type: c_text(&s.service_type, "service type")?,
                url: match &s.url {
                    Ok(u) => Ok(c_text(u, "URL")?),
                    Err(e) => Err(c_text(e, "error text")?),
                },
                props: zc_props::from_properties(&s.params)?,
            });
        }
        Ok(zc_services { list })
    }
}

/// Listen for `duration_ms` milliseconds (at most 60000) and write every
/// OpenStack service heard (`_openstack._tcp`, any service type) to
/// `*out` (only on `ZC_OK`; an empty list when none answered). Blocks for
/// `duration_ms`, or until `zc_close` from another thread ends it with
/// `ZC_ERR_CLOSED`. Each service type is reported as it was registered
/// (the literal label: "a.b" comes back as "a.b").
#[no_mangle]
pub extern "C" fn zc_browse(
    zc: *const zc_zeroconf,
    duration_ms: u32,
    out: *mut *mut zc_services,
) -> zc_status {
    on_handle("zc_browse", zc, |h| browse(h, duration_ms, None, out))
}

/// The body of `zc_browse` and `zc_browse_ex`.
pub(crate) fn browse(
    h: &zc_zeroconf,
    duration_ms: u32,
    cancel: Option<&Cancel>,
    out: *mut *mut zc_services,
) -> Outcome {
    let out = required_out(out, "out")?;
    if duration_ms > MAX_BROWSE_MS {
        return Err(Failure::invalid(format!(
            "duration_ms {duration_ms} is more than {MAX_BROWSE_MS}"
        )));
    }
    let found = h
        .inner
        .browse_with(Duration::from_millis(duration_ms.into()), cancel)?;
    let list = Box::new(zc_services::from_browsed(&found)?);
    // SAFETY: out was checked non-NULL.
    unsafe { *out = Box::into_raw(list) };
    Ok(())
}

/// The number of services in the list; 0 for NULL.
#[no_mangle]
pub extern "C" fn zc_services_count(services: *const zc_services) -> usize {
    super::boundary::run_value("zc_services_count", 0, || {
        // SAFETY: NULL or a live list.
        unsafe { services.as_ref() }.map_or(0, |s| s.list.len())
    })
}

/// Read service `index` (0 .. count-1). Each output is optional (NULL: not
/// wanted) and written only on `ZC_OK`: `*service_type` e.g. "baremetal";
/// `*url` its endpoint URL as `zc_get_endpoint` builds it, or NULL when it
/// could not be built, and then `*error` says why (else `*error` is NULL);
/// `*props` its remaining TXT properties. Everything stays owned by the
/// list (valid until `zc_services_free`; do not free it). An index out of
/// range is `ZC_ERR_INVALID_ARGUMENT`.
#[no_mangle]
pub extern "C" fn zc_services_get_at(
    services: *const zc_services,
    index: usize,
    service_type: *mut *const c_char,
    url: *mut *const c_char,
    error: *mut *const c_char,
    props: *mut *const zc_props,
) -> zc_status {
    super::boundary::run("zc_services_get_at", super::boundary::Sink::none(), || {
        let s = required(services, "services")?;
        let e = s.list.get(index).ok_or_else(|| {
            Failure::invalid(format!(
                "index {index} is out of range ({} services)",
                s.list.len()
            ))
        })?;
        let (u, err) = match &e.url {
            Ok(u) => (u.as_ptr(), std::ptr::null()),
            Err(why) => (std::ptr::null(), why.as_ptr()),
        };
        // SAFETY: each is NULL (not wanted) or points to writable storage.
        unsafe {
            if !service_type.is_null() {
                *service_type = e.service_type.as_ptr();
            }
            if !url.is_null() {
                *url = u;
            }
            if !error.is_null() {
                *error = err;
            }
            if !props.is_null() {
                *props = &e.props;
            }
        }
        Ok(())
    })
}

/// Free a list from `zc_browse`. NULL is accepted and does nothing.
#[no_mangle]
pub extern "C" fn zc_services_free(services: *mut zc_services) {
    if services.is_null() {
        return;
    }
    super::boundary::run("zc_services_free", super::boundary::Sink::none(), || {
        // SAFETY: services came from Box::into_raw in zc_browse, freed once.
        drop(unsafe { Box::from_raw(services) });
        Ok(())
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capi::props::zc_props_count;
    use crate::capi::status::{ZC_ERR_INVALID_ARGUMENT, ZC_OK};
    use crate::capi::strings::read;
    use crate::props::Properties;

    #[test]
    fn a_browsed_list_reads_back() {
        let mut p = Properties::new();
        p.set_str("ipa_debug", "1");
        let found = [
            BrowsedService {
                service_type: "baremetal".into(),
                url: Ok("http://198.18.0.2:6385".into()),
                params: p,
            },
            BrowsedService {
                service_type: "identity".into(),
                url: Err("none of the addresses [] are valid".into()),
                params: Properties::new(),
            },
        ];
        let list = Box::into_raw(Box::new(zc_services::from_browsed(&found).unwrap()));
        assert_eq!(zc_services_count(list), 2);
        let (mut t, mut u, mut e, mut pr) = (
            std::ptr::null(),
            std::ptr::null(),
            std::ptr::null(),
            std::ptr::null(),
        );
        assert_eq!(
            zc_services_get_at(list, 0, &mut t, &mut u, &mut e, &mut pr),
            ZC_OK
        );
        assert_eq!(
            (read(t), read(u), e.is_null(), zc_props_count(pr)),
            ("baremetal".into(), "http://198.18.0.2:6385".into(), true, 1)
        );
        assert_eq!(
            zc_services_get_at(list, 1, &mut t, &mut u, &mut e, &mut pr),
            ZC_OK
        );
        assert_eq!(
            (read(t), u.is_null(), read(e)),
            (
                "identity".into(),
                true,
                "none of the addresses [] are valid".into()
            )
        );
        let before = t;
        assert_eq!(
            zc_services_get_at(list, 2, &mut t, &mut u, &mut e, &mut pr),
            ZC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(t, before, "untouched on failure");
        assert_eq!(
            zc_services_get_at(std::ptr::null(), 0, &mut t, &mut u, &mut e, &mut pr),
            ZC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(zc_services_count(std::ptr::null()), 0);
        zc_services_free(list);
        zc_services_free(std::ptr::null_mut());
    }

    #[test]
    fn browse_checks_its_arguments_before_listening() {
        let mut out = std::ptr::null_mut();
        assert_eq!(
            zc_browse(std::ptr::null(), 100, &mut out),
            ZC_ERR_INVALID_ARGUMENT
        );
        assert!(out.is_null());
    }
}

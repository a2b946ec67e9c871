//! Status codes, their static text, and the library version.
//!
//! The codes are only ever appended to: never renumber one, retire it by
//! comment (docs/DESIGN.md, after libcurl / libgit2).

use std::ffi::{c_char, CStr};

use crate::error::Error;

/// The result of every call that can fail: `ZC_OK` (0) or a negative
/// `ZC_ERR_*` code. `zc_strerror` gives its static text; the detail of a
/// failure is kept per handle (`zc_last_error`), per options object
/// (`zc_options_last_error`) and per thread (`zc_last_error(NULL, ...)`).
pub type zc_status = i32;

/// Success.
pub const ZC_OK: zc_status = 0;
/// A caller gave something unusable: a NULL pointer where one is required,
/// a string that is not UTF-8 or is longer than `ZC_MAX_INPUT` bytes, a bad
/// URL, service type, option name or option value, an index out of range.
pub const ZC_ERR_INVALID_ARGUMENT: zc_status = -1;
/// The service could not be registered (resolver failure, no address,
/// engine error).
pub const ZC_ERR_REGISTRATION: zc_status = -2;
/// Registration failed because another host owns the name (after every
/// attempt).
pub const ZC_ERR_NAME_CONFLICT: zc_status = -3;
/// The service (or the property key asked for) was not found.
pub const ZC_ERR_NOT_FOUND: zc_status = -4;
/// The service was found but none of its addresses is usable.
pub const ZC_ERR_NO_VALID_ADDRESS: zc_status = -5;
/// A received property could not be decoded (a key that is not UTF-8, or
/// that holds a NUL byte and so cannot be a C string).
pub const ZC_ERR_DECODE: zc_status = -6;
/// No usable network interface or socket.
pub const ZC_ERR_IO: zc_status = -7;
/// The handle is closed.
pub const ZC_ERR_CLOSED: zc_status = -8;
/// An earlier call on this handle failed with an internal error (a panic
/// inside the library); the handle refuses further work. Close it.
pub const ZC_ERR_POISONED: zc_status = -9;
/// A bug in the library (a panic caught at the boundary, or an impossible
/// state). The detail text says where.
pub const ZC_ERR_INTERNAL: zc_status = -10;
/// A unicast DNS answer was refused as unauthenticated (options `domain`
/// and `tsig_key_file` / `tsig_key`): unsigned or wrongly signed while a
/// TSIG key is set, signed outside the fudge window, or not matching the
/// request (message ID, question); or the DNS server refused our TSIG key
/// (BADKEY, BADSIG, BADTIME). Also: with the option `trust_anchor`, no
/// answer heard carried valid DNSSEC signatures by an anchored key (the
/// detail says why: no signature, another key, expired, a clock outside
/// the window by how much). Such an answer never becomes an endpoint.
pub const ZC_ERR_AUTH: zc_status = -11;
/// The call's cancel token (`zc_cancel`) was triggered; the handle stays
/// usable. What a cancelled registration leaves behind is described at
/// `zc_register_service_ex`.
pub const ZC_ERR_CANCELLED: zc_status = -12;

/// A bit of `*flags_out` (`zc_get_endpoint_ex`, `zc_lookup_ex`): every
/// record set the endpoint came from (SRV, TXT, addresses) was validated
/// by DNSSEC against the configured trust anchors. Never set while no
/// trust anchor is configured.
pub const ZC_ENDPOINT_VALIDATED: u32 = 1;

/// Major version of the header; compare with `zc_version()` at run time.
pub const ZC_VERSION_MAJOR: u32 = 0;
/// Minor version of the header.
pub const ZC_VERSION_MINOR: u32 = 1;
/// Patch version of the header.
pub const ZC_VERSION_PATCH: u32 = 0;

/// The status code of each error kind of the Rust API.
pub(crate) fn of_error(e: &Error) -> zc_status {
    match e {
        Error::InvalidArgument(_) => ZC_ERR_INVALID_ARGUMENT,
        Error::Registration(_) => ZC_ERR_REGISTRATION,
        Error::Conflict(_) => ZC_ERR_NAME_CONFLICT,
        Error::NotFound(_) => ZC_ERR_NOT_FOUND,
        Error::NoValidAddress(_) => ZC_ERR_NO_VALID_ADDRESS,
        Error::Decode(_) => ZC_ERR_DECODE,
        Error::Io(_) => ZC_ERR_IO,
        Error::Closed(_) => ZC_ERR_CLOSED,
        Error::Poisoned(_) => ZC_ERR_POISONED,
        Error::Internal(_) => ZC_ERR_INTERNAL,
        Error::Auth(_) => ZC_ERR_AUTH,
        Error::Cancelled(_) => ZC_ERR_CANCELLED,
    }
}

fn text(status: zc_status) -> &'static CStr {
    match status {
        ZC_OK => c"success",
        ZC_ERR_INVALID_ARGUMENT => c"invalid argument",
        ZC_ERR_REGISTRATION => c"registration failed",
        ZC_ERR_NAME_CONFLICT => c"registration failed: name conflict",
        ZC_ERR_NOT_FOUND => c"not found",
        ZC_ERR_NO_VALID_ADDRESS => c"lookup failed: no valid address",
        ZC_ERR_DECODE => c"lookup failed: cannot decode property",
        ZC_ERR_IO => c"I/O error: no usable interface or socket",
        ZC_ERR_CLOSED => c"handle is closed",
        ZC_ERR_POISONED => c"handle is unusable after an internal error",
        ZC_ERR_INTERNAL => c"internal error",
        ZC_ERR_AUTH => c"answer not authenticated (TSIG or DNSSEC) or not matching the request",
        ZC_ERR_CANCELLED => c"cancelled",
        _ => c"unknown status code",
    }
}

/// Static English text for a status code; "unknown status code" for a
/// value that is not one. Never NULL; never free it.
#[no_mangle]
pub extern "C" fn zc_strerror(status: zc_status) -> *const c_char {
    super::boundary::run_value("zc_strerror", c"internal error".as_ptr(), || {
        text(status).as_ptr()
    })
}

/// The library's version at run time, e.g. "0.1.0" (static, never NULL,
/// never free it). Compare its major number with `ZC_VERSION_MAJOR`.
#[no_mangle]
pub extern "C" fn zc_version() -> *const c_char {
    const V: &CStr =
        match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
            Ok(v) => v,
            Err(_) => c"unknown",
        };
    super::boundary::run_value("zc_version", c"unknown".as_ptr(), || V.as_ptr())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_macros_match_the_package() {
        assert_eq!(
            ZC_VERSION_MAJOR.to_string(),
            env!("CARGO_PKG_VERSION_MAJOR")
        );
        assert_eq!(
            ZC_VERSION_MINOR.to_string(),
            env!("CARGO_PKG_VERSION_MINOR")
        );
        assert_eq!(
            ZC_VERSION_PATCH.to_string(),
            env!("CARGO_PKG_VERSION_PATCH")
        );
        let v = unsafe { CStr::from_ptr(zc_version()) }.to_str().unwrap();
        assert_eq!(v, env!("CARGO_PKG_VERSION"));
    }

    #[test]
    fn every_error_kind_has_its_own_code_and_text() {
        let kinds = [
            (
                Error::InvalidArgument(String::new()),
                ZC_ERR_INVALID_ARGUMENT,
            ),
            (Error::Registration(String::new()), ZC_ERR_REGISTRATION),
            (Error::Conflict(String::new()), ZC_ERR_NAME_CONFLICT),
            (Error::NotFound(String::new()), ZC_ERR_NOT_FOUND),
            (
                Error::NoValidAddress(String::new()),
                ZC_ERR_NO_VALID_ADDRESS,
            ),
            (Error::Decode(String::new()), ZC_ERR_DECODE),
            (Error::Io(String::new()), ZC_ERR_IO),
            (Error::Closed(String::new()), ZC_ERR_CLOSED),
            (Error::Poisoned(String::new()), ZC_ERR_POISONED),
            (Error::Internal(String::new()), ZC_ERR_INTERNAL),
            (Error::Auth(String::new()), ZC_ERR_AUTH),
            (Error::Cancelled(String::new()), ZC_ERR_CANCELLED),
        ];
        for (e, code) in &kinds {
            assert_eq!(of_error(e), *code, "{e:?}");
        }
        let mut texts: Vec<&CStr> = (ZC_ERR_CANCELLED..=ZC_OK).map(text).collect();
        assert!(texts.iter().all(|t| *t != c"unknown status code"));
        texts.sort();
        texts.dedup();
        assert_eq!(
            texts.len(),
            (ZC_OK - ZC_ERR_CANCELLED + 1) as usize,
            "texts must differ"
        );
    }

    #[test]
    fn strerror_of_unknown_codes_is_static_text() {
        for code in [1, -13, i32::MIN, i32::MAX] {
            let t = unsafe { CStr::from_ptr(zc_strerror(code)) };
            assert_eq!(t, c"unknown status code");
        }
    }
}

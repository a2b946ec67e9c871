//! Strings across the boundary: inputs are NUL-terminated UTF-8 borrowed for
//! the call and bounded by `ZC_MAX_INPUT`; strings the library returns are
//! freed with `zc_string_free`; detail texts are copied snprintf-style.

use std::ffi::{c_char, CString};

use super::boundary::{run, Failure, Outcome, Sink};

/// The longest input string accepted, in bytes without the final NUL.
/// Longer ones are rejected with `ZC_ERR_INVALID_ARGUMENT` (the library
/// reads at most this many bytes + 1 of any input string).
pub const ZC_MAX_INPUT: usize = 4096;

/// Borrow a required input string: not NULL, at most `ZC_MAX_INPUT` bytes,
/// UTF-8. `name` names the argument in the error text.
pub(crate) fn in_str<'a>(p: *const c_char, name: &str) -> Outcome<&'a str> {
    if p.is_null() {
        return Err(Failure::invalid(format!("{name} is NULL")));
    }
    // SAFETY: p is a NUL-terminated string (the header's contract); strnlen
    // reads no further than its NUL or ZC_MAX_INPUT + 1 bytes.
    let len = unsafe { libc::strnlen(p, ZC_MAX_INPUT + 1) };
    if len > ZC_MAX_INPUT {
        return Err(Failure::invalid(format!(
            "{name} is longer than {ZC_MAX_INPUT} bytes"
        )));
    }
    // SAFETY: the len bytes before the NUL were just measured.
    let bytes = unsafe { std::slice::from_raw_parts(p.cast::<u8>(), len) };
    std::str::from_utf8(bytes).map_err(|e| {
        Failure::invalid(format!(
            "{name} is not valid UTF-8 (at byte {})",
            e.valid_up_to()
        ))
    })
}

/// A string for C to own: freed with `zc_string_free`.
pub(crate) fn out_string(s: &str, what: &str) -> Outcome<*mut c_char> {
    CString::new(s).map(CString::into_raw).map_err(|_| {
        Failure::new(
            super::status::ZC_ERR_INTERNAL,
            format!("{what} holds a NUL byte"),
        )
    })
}

/// snprintf-style copy of `text` into `buf` of `len` bytes: writes at most
/// `len - 1` bytes and a NUL (nothing when `len` is 0 or `buf` NULL), never
/// splitting a UTF-8 character, and returns `text`'s full length in bytes
/// (without NUL). The copy is complete when the result is `< len`.
pub(crate) fn copy_to_buffer(text: &str, buf: *mut c_char, len: usize) -> usize {
    if !buf.is_null() && len > 0 {
        let mut n = text.len().min(len - 1);
        while !text.is_char_boundary(n) {
            n -= 1;
        }
        // SAFETY: buf has room for len >= n + 1 bytes (the header's contract).
        unsafe {
            std::ptr::copy_nonoverlapping(text.as_ptr(), buf.cast::<u8>(), n);
            *buf.add(n) = 0;
        }
    }
    text.len()
}

/// Free a string the library returned (`zc_get_endpoint`'s URL,
/// `zc_sample_config`'s text...). NULL is accepted and does nothing. Never
/// pass a string that did not come from this library, nor one twice.
#[no_mangle]
pub extern "C" fn zc_string_free(s: *mut c_char) {
    if s.is_null() {
        return;
    }
    run("zc_string_free", Sink::none(), || {
        // SAFETY: s came from CString::into_raw in out_string.
        drop(unsafe { CString::from_raw(s) });
        Ok(())
    });
}

/// Read a string the library handed out (for tests).
#[cfg(test)]
pub(crate) fn read(p: *const c_char) -> String {
    unsafe { std::ffi::CStr::from_ptr(p) }
        .to_str()
        .unwrap()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_strings_table() {
        let long_ok = "a".repeat(ZC_MAX_INPUT);
        let too_long = "a".repeat(ZC_MAX_INPUT + 1);
        let cases: &[(&[u8], Result<&str, &str>)] = &[
            (b"baremetal\0", Ok("baremetal")),
            (b"\0", Ok("")),
            ("caf\u{e9}\0".as_bytes(), Ok("caf\u{e9}")),
            (
                b"bad\xc3\x28\0",
                Err("service_type is not valid UTF-8 (at byte 3)"),
            ),
            (
                b"\xff\0",
                Err("service_type is not valid UTF-8 (at byte 0)"),
            ),
        ];
        for (bytes, want) in cases {
            let got = in_str(bytes.as_ptr().cast(), "service_type").map_err(|f| f.message);
            assert_eq!(got.as_deref().map_err(|m| m.as_str()), *want, "{bytes:?}");
        }
        let c = CString::new(long_ok.clone()).unwrap();
        assert_eq!(in_str(c.as_ptr(), "x").unwrap(), long_ok);
        let c = CString::new(too_long).unwrap();
        assert_eq!(
            in_str(c.as_ptr(), "x").unwrap_err().message,
            "x is longer than 4096 bytes"
        );
        assert_eq!(
            in_str(std::ptr::null(), "url").unwrap_err().message,
            "url is NULL"
        );
    }

    #[test]
    fn buffer_copy_is_snprintf_style() {
        // (text, buffer length, what the buffer holds, returned length)
        let cases: &[(&str, usize, &str, usize)] = &[
            ("hello", 16, "hello", 5),
            ("hello", 6, "hello", 5),
            ("hello", 5, "hell", 5),
            ("hello", 1, "", 5),
            ("h\u{e9}llo", 3, "h", 6), // never split the 2-byte é
            ("", 4, "", 0),
        ];
        for &(text, len, holds, ret) in cases {
            let mut buf = vec![b'X' as c_char; len + 1];
            assert_eq!(
                copy_to_buffer(text, buf.as_mut_ptr(), len),
                ret,
                "{text} {len}"
            );
            assert_eq!(read(buf.as_ptr()), holds, "{text} {len}");
            assert_eq!(buf[len], b'X' as c_char, "wrote past len");
        }
        assert_eq!(copy_to_buffer("hello", std::ptr::null_mut(), 0), 5);
        assert_eq!(copy_to_buffer("hello", std::ptr::null_mut(), 10), 5);
    }

    #[test]
    fn returned_strings_round_trip_and_free() {
        let p = out_string("http://[fd00:99::2]:80", "url").unwrap();
        assert_eq!(read(p), "http://[fd00:99::2]:80");
        zc_string_free(p);
        zc_string_free(std::ptr::null_mut());
        assert!(out_string("a\0b", "url").is_err());
    }
}

//! The `capi` target: the C ABI's string, props and options entry points.

use std::ffi::{c_char, c_int, CStr, CString};

use crate::capi::options::{zc_option_count, zc_option_info, zc_options_new, zc_options_set};
use crate::capi::options::{zc_options, zc_options_free, zc_options_last_error};
use crate::capi::props::{zc_props, zc_props_count, zc_props_free, zc_props_get};
use crate::capi::props::{zc_props_get_at, zc_props_new, zc_props_set};
use crate::capi::status::{zc_strerror, ZC_OK};
use crate::capi::strings::ZC_MAX_INPUT;
use crate::capi::zeroconf::zc_last_error;
use crate::props::check_pair;

use super::Input;

/// A NUL-terminated copy of `b`, cut at its first NUL as C would read it.
fn c_string(b: &[u8]) -> CString {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    CString::new(&b[..end]).expect("no NUL")
}

/// snprintf-style copy out of the library: at most `len - 1` bytes and a
/// NUL, nothing past `len`, the full length returned.
fn check_copy(f: impl Fn(*mut c_char, usize) -> usize, len: usize) {
    const CANARY: c_char = 0x5a;
    let mut buf = vec![CANARY; len + 16];
    let full = f(buf.as_mut_ptr(), len);
    assert!(buf[len..].iter().all(|&c| c == CANARY), "wrote past len");
    if len > 0 {
        let n = buf[..len].iter().position(|&c| c == 0).expect("NUL in buf");
        assert!(n <= full && n < len);
        assert!(n == full || full >= len, "cut although it fit");
        let bytes: Vec<u8> = buf[..n].iter().map(|&c| c as u8).collect();
        assert!(
            std::str::from_utf8(&bytes).is_ok(),
            "cut inside a character"
        );
    }
    assert_eq!(f(std::ptr::null_mut(), 0), full);
}

/// The C ABI's string, props and options entry points, called as a C
/// program would, with a mirror of what the property set must hold.
pub fn capi(data: &[u8]) {
    let mut inp = Input::new(data);
    let mut opts: *mut zc_options = std::ptr::null_mut();
    assert_eq!(zc_options_new(&mut opts), ZC_OK);
    let mut props: *mut zc_props = std::ptr::null_mut();
    assert_eq!(zc_props_new(&mut props), ZC_OK);
    let mut mirror: Vec<(Vec<u8>, Option<Vec<u8>>)> = Vec::new();
    while !inp.is_empty() {
        match inp.u8() % 6 {
            0 => {
                let name = c_string(inp.chunk());
                let value = c_string(inp.chunk());
                zc_options_set(opts, name.as_ptr(), value.as_ptr());
            }
            1 => {
                let len = inp.u8() as usize;
                check_copy(|b, l| zc_options_last_error(opts, b, l), len);
                check_copy(|b, l| zc_last_error(std::ptr::null(), b, l), len);
            }
            2 => {
                let key = c_string(inp.chunk());
                let with_value = inp.u8();
                let value = inp.chunk();
                let vptr = if with_value & 1 == 1 {
                    value.as_ptr().cast::<c_char>()
                } else {
                    std::ptr::null()
                };
                // An over-long value_len is refused before anything is read.
                let vlen = if with_value & 2 == 2 {
                    256 + inp.u8() as usize
                } else {
                    value.len()
                };
                let st = zc_props_set(props, key.as_ptr(), vptr, vlen);
                let k = key.to_bytes().to_vec();
                let v = (!vptr.is_null()).then(|| value.to_vec());
                let valid = std::str::from_utf8(&k).is_ok_and(|ks| {
                    (vptr.is_null() || vlen <= 255) && check_pair(ks, v.as_deref()).is_ok()
                });
                assert_eq!(
                    st == ZC_OK,
                    valid,
                    "zc_props_set({k:?}, {v:?}, {vlen}) = {st}"
                );
                if st == ZC_OK {
                    // Keys are case-insensitive: the new spelling replaces.
                    match mirror
                        .iter_mut()
                        .find(|(mk, _)| mk.eq_ignore_ascii_case(&k))
                    {
                        Some(e) => *e = (k, v),
                        None => mirror.push((k, v)),
                    }
                }
            }
            3 => {
                let key = c_string(inp.chunk());
                let mut v: *const c_char = std::ptr::null();
                let mut vl = 0usize;
                let mut has: c_int = -1;
                let st = zc_props_get(props, key.as_ptr(), &mut v, &mut vl, &mut has);
                let want = mirror
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(key.to_bytes()));
                assert_eq!(st == ZC_OK, want.is_some());
                if let Some((_, want)) = want {
                    check_value(v, vl, has, want);
                }
            }
            4 => {
                let i = inp.u8() as usize;
                let mut k: *const c_char = std::ptr::null();
                let mut v: *const c_char = std::ptr::null();
                let mut vl = 0usize;
                let mut has: c_int = -1;
                let st = zc_props_get_at(props, i, &mut k, &mut v, &mut vl, &mut has);
                assert_eq!(zc_props_count(props), mirror.len());
                assert_eq!(st == ZC_OK, i < mirror.len());
                if st == ZC_OK {
                    // SAFETY: ZC_OK wrote a NUL-terminated key.
                    let key = unsafe { CStr::from_ptr(k) };
                    assert_eq!(key.to_bytes(), &mirror[i].0[..]);
                    check_value(v, vl, has, &mirror[i].1);
                }
            }
            _ => {
                let code = inp.u32() as i32;
                assert!(!zc_strerror(code).is_null());
                let i = inp.u8() as usize;
                let mut name: *const c_char = std::ptr::null();
                let st = zc_option_info(
                    i,
                    std::ptr::null_mut(),
                    &mut name,
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                );
                assert_eq!(st == ZC_OK, i < zc_option_count());
                // An over-long input string is refused, not read past.
                let long = CString::new(vec![b'a'; ZC_MAX_INPUT + 1]).expect("no NUL");
                assert_ne!(zc_options_set(opts, long.as_ptr(), long.as_ptr()), ZC_OK);
            }
        }
    }
    zc_props_free(props);
    zc_options_free(opts);
}

fn check_value(v: *const c_char, vl: usize, has: c_int, want: &Option<Vec<u8>>) {
    match want {
        Some(w) => {
            assert_eq!(has, 1);
            assert!(!v.is_null());
            // SAFETY: ZC_OK wrote a value of vl bytes plus a NUL.
            let got = unsafe { std::slice::from_raw_parts(v.cast::<u8>(), vl + 1) };
            assert_eq!(&got[..vl], &w[..]);
            assert_eq!(got[vl], 0);
        }
        None => {
            assert_eq!(has, 0);
            assert!(v.is_null());
        }
    }
}

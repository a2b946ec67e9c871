//! `zc_props`: a set of TXT properties (DNS-SD key/value pairs).
//!
//! Keys are unique without regard to ASCII case (RFC 6763 s6.4) and keep
//! their insertion order; setting an existing key replaces it in place. A value is binary (it may hold NUL bytes);
//! a key may also have no value at all (`key` without `=`), which differs
//! from an empty value (`key=`).

use std::ffi::{c_char, c_int, CString};

use super::boundary::{required, required_out, run, Failure, Outcome, Sink};
use super::status::{zc_status, ZC_ERR_DECODE, ZC_ERR_NOT_FOUND};
use super::strings::in_str;
use crate::props::Properties;

use crate::props::MAX_PAIR;

struct Entry {
    key: CString,
    /// The value followed by one NUL byte (so C may read it as a string).
    value: Option<Box<[u8]>>,
}

/// A set of TXT properties. Create with `zc_props_new` (or receive one from
/// `zc_get_endpoint` / `zc_lookup`), free with `zc_props_free`.
/// Not synchronised: several threads may read one set at a time, but
/// `zc_props_set` needs it to itself.
pub struct zc_props {
    entries: Vec<Entry>,
}

fn with_nul(bytes: &[u8]) -> Box<[u8]> {
    let mut v = Vec::with_capacity(bytes.len() + 1);
    v.extend_from_slice(bytes);
    v.push(0);
    v.into_boxed_slice()
}

impl zc_props {
    fn set(&mut self, key: &str, value: Option<&[u8]>) -> Outcome {
        // RFC 6763 s6.4 key rules and the s6.1 length, as for every
        // property we publish.
        crate::props::check_pair(key, value).map_err(|e| Failure::invalid(e.0))?;
        self.put(key, value)
    }

    /// Store without the TXT checks (for what came off the wire). A key
    /// equal to a stored one but for ASCII case replaces that entry in
    /// place, spelling included (RFC 6763 s6.4: keys are case-insensitive).
    fn put(&mut self, key: &str, value: Option<&[u8]>) -> Outcome {
        let value = value.map(with_nul);
        let key = CString::new(key)
            .map_err(|_| Failure::new(ZC_ERR_DECODE, format!("key {key:?} holds a NUL byte")))?;
        match self.find(key.to_bytes()) {
            Some(e) => *e = Entry { key, value },
            None => self.entries.push(Entry { key, value }),
        }
        Ok(())
    }

    fn find(&mut self, key: &[u8]) -> Option<&mut Entry> {
        self.entries
            .iter_mut()
            .find(|e| e.key.to_bytes().eq_ignore_ascii_case(key))
    }

    /// The Rust API's view.
    pub(crate) fn to_properties(&self) -> Properties {
        let mut p = Properties::new();
        for e in &self.entries {
            // Keys entered through zc_props_set / put are UTF-8 by construction.
            let key = String::from_utf8_lossy(e.key.to_bytes());
            p.set(&key, e.value.as_ref().map(|v| v[..v.len() - 1].to_vec()));
        }
        p
    }

    /// From the Rust API's view; a key with a NUL byte is a decode failure.
    pub(crate) fn from_properties(p: &Properties) -> Outcome<zc_props> {
        let mut out = zc_props {
            entries: Vec::with_capacity(p.len()),
        };
        for (k, v) in p.iter() {
            out.put(k, v.as_deref())?;
        }
        Ok(out)
    }
}

/// Write one entry to the optional out-parameters.
fn write_entry(
    e: &Entry,
    key_out: *mut *const c_char,
    value_out: *mut *const c_char,
    value_len_out: *mut usize,
    has_value_out: *mut c_int,
) {
    let (value, len) = match &e.value {
        Some(v) => (v.as_ptr().cast::<c_char>(), v.len() - 1),
        None => (std::ptr::null(), 0),
    };
    // SAFETY: each is NULL (not wanted) or points to writable storage.
    unsafe {
        if !key_out.is_null() {
            *key_out = e.key.as_ptr();
        }
        if !value_out.is_null() {
            *value_out = value;
        }
        if !value_len_out.is_null() {
            *value_len_out = len;
        }
        if !has_value_out.is_null() {
            *has_value_out = c_int::from(e.value.is_some());
        }
    }
}

/// Create an empty property set in `*out` (written only on `ZC_OK`).
/// Free it with `zc_props_free`.
#[no_mangle]
pub extern "C" fn zc_props_new(out: *mut *mut zc_props) -> zc_status {
    run("zc_props_new", Sink::none(), || {
        let out = required_out(out, "out")?;
        // SAFETY: out was checked non-NULL.
        unsafe {
            *out = Box::into_raw(Box::new(zc_props {
                entries: Vec::new(),
            }))
        };
        Ok(())
    })
}

/// Set `key` to the `value_len` bytes at `value` (binary allowed: NUL
/// bytes are kept), replacing an existing value in place. `value` NULL
/// means a key without value (`key`, unlike `key=` for an empty value);
/// `value_len` is then ignored. `key`: at least one printable US-ASCII
/// character (0x20-0x7E) and no '=' (RFC 6763 s6.4), else
/// `ZC_ERR_INVALID_ARGUMENT`; key, '=' and value together at most 255
/// bytes (RFC 6763 s6.1). Keys are case-insensitive: setting "Dup" after
/// "dup" replaces that entry in place (the key is then spelled "Dup").
/// Both are copied. On failure the set is unchanged.
#[no_mangle]
pub extern "C" fn zc_props_set(
    props: *mut zc_props,
    key: *const c_char,
    value: *const c_char,
    value_len: usize,
) -> zc_status {
    run("zc_props_set", Sink::none(), || {
        // SAFETY: NULL or a set from zc_props_new, used by this thread alone.
        let props = unsafe { props.as_mut() }.ok_or_else(|| Failure::invalid("props is NULL"))?;
        let key = in_str(key, "key")?;
        let value = if value.is_null() {
            None
        } else {
            if value_len > MAX_PAIR {
                return Err(Failure::invalid(format!(
                    "value_len {value_len} is more than {MAX_PAIR}"
                )));
            }
            // SAFETY: value points to value_len readable bytes (header contract).
            Some(unsafe { std::slice::from_raw_parts(value.cast::<u8>(), value_len) })
        };
        props.set(key, value)
    })
}

/// The number of properties in the set; 0 for NULL.
#[no_mangle]
pub extern "C" fn zc_props_count(props: *const zc_props) -> usize {
    super::boundary::run_value("zc_props_count", 0, || {
        // SAFETY: NULL or a live set.
        unsafe { props.as_ref() }.map_or(0, |p| p.entries.len())
    })
}

/// Read property `index` (0 .. count-1, in insertion order). Each output is
/// optional (NULL: not wanted) and written only on `ZC_OK`:
/// `*key` the NUL-terminated key; `*value` its bytes followed by a NUL that
/// `*value_len` does not count (NULL when the key has no value);
/// `*has_value` 1 or 0. The pointers stay valid until the set is changed
/// or freed; do not free them. An index out of range is
/// `ZC_ERR_INVALID_ARGUMENT`.
#[no_mangle]
pub extern "C" fn zc_props_get_at(
    props: *const zc_props,
    index: usize,
    key: *mut *const c_char,
    value: *mut *const c_char,
    value_len: *mut usize,
    has_value: *mut c_int,
) -> zc_status {
    run("zc_props_get_at", Sink::none(), || {
        let props = required(props, "props")?;
        let e = props.entries.get(index).ok_or_else(|| {
            Failure::invalid(format!(
                "index {index} is out of range ({} properties)",
                props.entries.len()
            ))
        })?;
        write_entry(e, key, value, value_len, has_value);
        Ok(())
    })
}

/// Read the property named `key`: like `zc_props_get_at` (each output
/// optional, valid until the set changes), or `ZC_ERR_NOT_FOUND` when the
/// set has no such key. Keys compare without regard to ASCII case
/// (RFC 6763 s6.4).
#[no_mangle]
pub extern "C" fn zc_props_get(
    props: *const zc_props,
    key: *const c_char,
    value: *mut *const c_char,
    value_len: *mut usize,
    has_value: *mut c_int,
) -> zc_status {
    run("zc_props_get", Sink::none(), || {
        let props = required(props, "props")?;
        let key = in_str(key, "key")?;
        let e = props
            .entries
            .iter()
            .find(|e| e.key.to_bytes().eq_ignore_ascii_case(key.as_bytes()))
            .ok_or_else(|| Failure::new(ZC_ERR_NOT_FOUND, format!("no property {key:?}")))?;
        write_entry(e, std::ptr::null_mut(), value, value_len, has_value);
        Ok(())
    })
}

/// Free a property set. NULL is accepted and does nothing.
#[no_mangle]
pub extern "C" fn zc_props_free(props: *mut zc_props) {
    if props.is_null() {
        return;
    }
    run("zc_props_free", Sink::none(), || {
        // SAFETY: props came from Box::into_raw and is freed once (contract).
        drop(unsafe { Box::from_raw(props) });
        Ok(())
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capi::status::{ZC_ERR_INVALID_ARGUMENT, ZC_OK};

    fn new() -> *mut zc_props {
        let mut p = std::ptr::null_mut();
        assert_eq!(zc_props_new(&mut p), ZC_OK);
        p
    }

    fn get_at(p: *const zc_props, i: usize) -> (String, Option<Vec<u8>>) {
        let (mut k, mut v, mut n, mut has) = (std::ptr::null(), std::ptr::null(), 99usize, 7);
        assert_eq!(
            zc_props_get_at(p, i, &mut k, &mut v, &mut n, &mut has),
            ZC_OK
        );
        let key = crate::capi::strings::read(k);
        if has == 1 {
            let bytes = unsafe { std::slice::from_raw_parts(v.cast::<u8>(), n + 1) };
            assert_eq!(bytes[n], 0, "value is NUL-terminated");
            (key, Some(bytes[..n].to_vec()))
        } else {
            assert_eq!((has, v, n), (0, std::ptr::null(), 0));
            (key, None)
        }
    }

    #[test]
    fn set_table() {
        // (key, value, expected status)
        let long = vec![b'v'; 251];
        type Row<'a> = (&'a [u8], Option<&'a [u8]>, zc_status);
        let cases: &[Row] = &[
            (b"path\0", Some(b"/baremetal"), ZC_OK),
            (b"flag\0", None, ZC_OK),
            (b"empty\0", Some(b""), ZC_OK),
            (b"bin\0", Some(b"\xe2\x28\xa1\0z"), ZC_OK),
            (b"path\0", Some(b"/v2"), ZC_OK), // replaces in place
            (b"abc\0", Some(&long), ZC_OK),   // 3 + 1 + 251 = 255
            (b"abcd\0", Some(&long), ZC_ERR_INVALID_ARGUMENT),
            (b"\0", Some(b"x"), ZC_ERR_INVALID_ARGUMENT),
            (b"a=b\0", Some(b"x"), ZC_ERR_INVALID_ARGUMENT),
            (b"\xc3\x28\0", Some(b"x"), ZC_ERR_INVALID_ARGUMENT),
            // RFC 6763 s6.4: case-insensitive, printable US-ASCII keys
            (b"PATH\0", Some(b"/v3"), ZC_OK), // the same key as "path"
            (b"caf\xc3\xa9\0", Some(b"x"), ZC_ERR_INVALID_ARGUMENT),
            (b"t\tab\0", Some(b"x"), ZC_ERR_INVALID_ARGUMENT),
            (b"del\x7f\0", None, ZC_ERR_INVALID_ARGUMENT),
        ];
        let p = new();
        for (k, v, want) in cases {
            let (vp, vl) = v.map_or((std::ptr::null(), 12345), |v| (v.as_ptr(), v.len()));
            assert_eq!(
                zc_props_set(p, k.as_ptr().cast(), vp.cast(), vl),
                *want,
                "{k:?}"
            );
        }
        assert_eq!(zc_props_count(p), 5);
        let all: Vec<_> = (0..5).map(|i| get_at(p, i)).collect();
        assert_eq!(
            all,
            vec![
                ("PATH".into(), Some(b"/v3".to_vec())),
                ("flag".into(), None),
                ("empty".into(), Some(vec![])),
                ("bin".into(), Some(b"\xe2\x28\xa1\0z".to_vec())),
                ("abc".into(), Some(long.clone())),
            ]
        );
        let props = unsafe { &*p }.to_properties();
        assert_eq!(props.get("flag"), Some(&None));
        assert_eq!(props.get("bin"), Some(&Some(b"\xe2\x28\xa1\0z".to_vec())));
        zc_props_free(p);
    }

    #[test]
    fn get_by_key_and_missing() {
        let p = new();
        assert_eq!(
            zc_props_set(p, c"ipa_debug".as_ptr(), c"1".as_ptr(), 1),
            ZC_OK
        );
        let (mut v, mut n, mut has) = (std::ptr::null(), 0usize, 0);
        assert_eq!(
            zc_props_get(p, c"ipa_debug".as_ptr(), &mut v, &mut n, &mut has),
            ZC_OK
        );
        assert_eq!(
            (crate::capi::strings::read(v), n, has),
            ("1".to_owned(), 1, 1)
        );
        let (mut v2, mut n2) = (std::ptr::null(), 77usize);
        assert_eq!(
            zc_props_get(p, c"path".as_ptr(), &mut v2, &mut n2, std::ptr::null_mut()),
            ZC_ERR_NOT_FOUND
        );
        assert_eq!(
            (v2, n2),
            (std::ptr::null(), 77),
            "outputs untouched on failure"
        );
        assert_eq!(
            zc_props_get(
                p,
                c"ipa_debug".as_ptr(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                std::ptr::null_mut()
            ),
            ZC_OK
        );
        assert_eq!(
            zc_props_get_at(
                p,
                1,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                std::ptr::null_mut()
            ),
            ZC_ERR_INVALID_ARGUMENT
        );
        zc_props_free(p);
    }

    #[test]
    fn from_properties_keeps_order_and_rejects_nul_keys() {
        let mut props = Properties::new();
        props.set_str("b", "2");
        props.set("a", None);
        let p = zc_props::from_properties(&props).unwrap();
        assert_eq!(get_at(&p, 0), ("b".into(), Some(b"2".to_vec())));
        assert_eq!(get_at(&p, 1), ("a".into(), None));
        assert_eq!(p.to_properties(), props);
        props.set_str("x\0y", "1");
        assert_eq!(
            zc_props::from_properties(&props).err().map(|f| f.status),
            Some(ZC_ERR_DECODE)
        );
    }

    #[test]
    fn null_arguments() {
        assert_eq!(zc_props_new(std::ptr::null_mut()), ZC_ERR_INVALID_ARGUMENT);
        assert_eq!(
            zc_props_set(std::ptr::null_mut(), c"k".as_ptr(), std::ptr::null(), 0),
            ZC_ERR_INVALID_ARGUMENT
        );
        let p = new();
        assert_eq!(
            zc_props_set(p, std::ptr::null(), std::ptr::null(), 0),
            ZC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            zc_props_get(
                p,
                std::ptr::null(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                std::ptr::null_mut()
            ),
            ZC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            zc_props_get(
                std::ptr::null(),
                c"k".as_ptr(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                std::ptr::null_mut()
            ),
            ZC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(zc_props_count(std::ptr::null()), 0);
        zc_props_free(p);
        zc_props_free(std::ptr::null_mut());
    }
}

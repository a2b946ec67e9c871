//! The `txt` target: TXT RDATA to properties, to the C ABI's set and back.

use std::collections::HashSet;

use crate::capi::props::zc_props;
use crate::endpoint;
use crate::props::check_pair;

use super::{Input, SERVICE_TYPE};

/// TXT RDATA (length-prefixed strings, RFC 6763 s6) to properties, and
/// on to the C ABI's property set; then back to strings and again.
pub fn txt(data: &[u8]) {
    let mut inp = Input::new(data);
    let mut strings = Vec::new();
    while !inp.is_empty() {
        strings.push(inp.chunk().to_vec());
    }
    let Ok(props) = endpoint::decode_txt(SERVICE_TYPE, &strings) else {
        // Only a key that is not UTF-8 fails.
        assert!(strings.iter().any(|s| {
            let key = s.split(|&b| b == b'=').next().unwrap_or(&[]);
            !key.is_empty() && std::str::from_utf8(key).is_err()
        }));
        return;
    };
    let mut seen = HashSet::new();
    for s in &strings {
        let (key, value) = match s.iter().position(|&b| b == b'=') {
            Some(i) => (&s[..i], Some(s[i + 1..].to_vec())),
            None => (&s[..], None),
        };
        if key.is_empty() {
            continue;
        }
        let key = std::str::from_utf8(key).expect("decoded, so UTF-8");
        // RFC 6763 s6.4: keys are case-insensitive; the first occurrence
        // counts.
        if seen.insert(key.to_ascii_lowercase()) {
            assert_eq!(props.get(key), Some(&value), "key {key:?}");
        }
    }
    assert_eq!(props.len(), seen.len());
    // What we would publish again: keys of printable US-ASCII only (every
    // string came from one 255-byte chunk, so each pair fits).
    let publishable = props
        .iter()
        .all(|(k, v)| check_pair(k, v.as_deref()).is_ok());
    match endpoint::encode_txt(&props) {
        Ok(encoded) => {
            assert!(publishable);
            let back = endpoint::decode_txt(SERVICE_TYPE, &encoded).expect("decode again");
            assert_eq!(back, props);
        }
        Err(_) => assert!(!publishable, "publishable properties refused"),
    }
    // The C ABI's set: a key holding NUL is refused, the rest kept.
    match zc_props::from_properties(&props) {
        Ok(c) => assert_eq!(c.to_properties(), props),
        Err(_) => assert!(props.iter().any(|(k, _)| k.contains('\0'))),
    }
}

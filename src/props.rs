//! The shared value types: TXT properties and their values (SPEC 3.5, 4.3),
//! and the DNS-SD rules for their keys (RFC 6763 s6.4). Used by the
//! endpoint rules, the options, the service object and the C ABI.

use crate::error::Refused;

/// A property value: `None` for a key without `=` (distinct from an empty
/// value); bytes otherwise (text when they are UTF-8).
pub type Value = Option<Vec<u8>>;

/// The longest TXT string, `key=value` included (RFC 6763 s6.1: one
/// length byte).
pub const MAX_PAIR: usize = 255;

/// TXT properties: keys unique without regard to ASCII case (RFC 6763
/// s6.4), insertion-ordered; setting an existing key, in any case, replaces
/// that entry in place, key spelling included (like a Python dict whose
/// keys are case-folded).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Properties {
    entries: Vec<(String, Value)>,
}

impl Properties {
    pub fn new() -> Properties {
        Properties::default()
    }
    fn position(&self, key: &str) -> Option<usize> {
        self.entries
            .iter()
            .position(|(k, _)| k.eq_ignore_ascii_case(key))
    }
    /// Set `key` (replacing in place an entry whose key differs at most in
    /// ASCII case, RFC 6763 s6.4). No key rules are checked here: received
    /// properties may hold any key; see [`check_key`] for what we send.
    pub fn set(&mut self, key: &str, value: Value) {
        match self.position(key) {
            Some(i) => self.entries[i] = (key.to_owned(), value),
            None => self.entries.push((key.to_owned(), value)),
        }
    }
    /// Convenience: set a text value.
    pub fn set_str(&mut self, key: &str, value: &str) {
        self.set(key, Some(value.as_bytes().to_vec()));
    }
    /// `None`: no such key; `Some(None)`: key without value. Keys compare
    /// without regard to ASCII case.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.position(key).map(|i| &self.entries[i].1)
    }
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let i = self.position(key)?;
        Some(self.entries.remove(i).1)
    }
    pub fn len(&self) -> usize {
        self.entries.len()
    }
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }
    /// Merge `other` into self, later wins, keys compared without regard to
    /// case (SPEC 3.5).
    pub fn merge(&mut self, other: &Properties) {
        for (k, v) in other.iter() {
            self.set(k, v.clone());
        }
    }
}

/// A key we publish: at least one character, printable US-ASCII
/// (0x20-0x7E), no `=` (RFC 6763 s6.4).
pub fn check_key(key: &str) -> Result<(), Refused> {
    if key.is_empty() {
        return Err("a property key is empty".into());
    }
    if let Some(c) = key.chars().find(|c| !(' '..='~').contains(c)) {
        return Err(Refused::from(format!(
            "property key {key:?} holds {c:?}: keys are printable US-ASCII (RFC 6763 s6.4)"
        )));
    }
    if key.contains('=') {
        return Err(Refused::from(format!(
            "property key {key:?} contains '=' (RFC 6763 s6.4)"
        )));
    }
    Ok(())
}

/// A property we publish: a valid key, and `key=value` fits one TXT
/// string (RFC 6763 s6.1).
pub fn check_pair(key: &str, value: Option<&[u8]>) -> Result<(), Refused> {
    check_key(key)?;
    let pair = key.len() + value.map_or(0, |v| 1 + v.len());
    if pair > MAX_PAIR {
        return Err(Refused::from(format!(
            "property {key:?} is {pair} bytes as key=value, more than the {MAX_PAIR} a TXT string holds (RFC 6763 s6.1)"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_case_insensitive_and_the_later_spelling_wins() {
        let mut p = Properties::new();
        p.set_str("dup", "1");
        p.set_str("other", "x");
        p.set_str("Dup", "2");
        assert_eq!(p.len(), 2);
        let got: Vec<(&str, &Value)> = p.iter().collect();
        assert_eq!(got[0], ("Dup", &Some(b"2".to_vec())), "replaced in place");
        assert_eq!(p.get("DUP"), Some(&Some(b"2".to_vec())));
        assert_eq!(p.remove("dUp"), Some(Some(b"2".to_vec())));
        assert_eq!(p.len(), 1);
    }

    #[test]
    fn key_rules_table() {
        // (key, accepted)
        let rows: &[(&str, bool)] = &[
            ("path", true),
            ("ipa debug", true),
            ("~!#", true),
            ("", false),
            ("a=b", false),
            ("=", false),
            ("tab\t", false),
            ("nl\n", false),
            ("del\u{7f}", false),
            ("caf\u{e9}", false),
            ("\u{1f600}", false),
        ];
        for (key, ok) in rows {
            assert_eq!(check_key(key).is_ok(), *ok, "{key:?}");
        }
    }

    #[test]
    fn a_pair_fits_one_txt_string() {
        let v = vec![b'x'; 253];
        assert!(check_pair("k", Some(&v)).is_ok(), "1 + 1 + 253 = 255");
        let v = vec![b'x'; 254];
        assert!(check_pair("k", Some(&v)).is_err());
        assert!(check_pair(&"k".repeat(255), None).is_ok());
        assert!(check_pair(&"k".repeat(256), None).is_err());
    }
}

//! The shared value types: TXT properties and their values (SPEC 3.5, 4.3).
//! Used by the endpoint rules, the options, the service object and the C ABI.

/// A property value: `None` for a key without `=` (distinct from an empty
/// value); bytes otherwise (text when they are UTF-8).
pub type Value = Option<Vec<u8>>;

/// TXT properties: keys unique, insertion-ordered; setting an existing key
/// replaces its value in place (like a Python dict).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Properties {
    entries: Vec<(String, Value)>,
}

impl Properties {
    pub fn new() -> Properties {
        Properties::default()
    }
    /// Set `key` (replacing in place when present).
    pub fn set(&mut self, key: &str, value: Value) {
        match self.entries.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => self.entries.push((key.to_owned(), value)),
        }
    }
    /// Convenience: set a text value.
    pub fn set_str(&mut self, key: &str, value: &str) {
        self.set(key, Some(value.as_bytes().to_vec()));
    }
    /// `None`: no such key; `Some(None)`: key without value.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let i = self.entries.iter().position(|(k, _)| k == key)?;
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
    /// Merge `other` into self, later wins (SPEC 3.5).
    pub fn merge(&mut self, other: &Properties) {
        for (k, v) in other.iter() {
            self.set(k, v.clone());
        }
    }
}

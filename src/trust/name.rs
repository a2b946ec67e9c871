//! A domain name as uncompressed wire labels, compared without regard to
//! ASCII case (RFC 4343), with the canonical (lowercased) wire form that
//! DNSSEC signs (RFC 4034 s6.2).

use std::fmt;
use std::hash::{Hash, Hasher};

use super::TrustError;

/// RFC 1035 s2.3.4: a name is at most 255 octets on the wire.
const MAX_NAME: usize = 255;
/// RFC 1035 s2.3.4: a label is at most 63 octets.
const MAX_LABEL: usize = 63;

/// A fully qualified domain name, held as its uncompressed wire form
/// (length-prefixed labels ending with the root's zero octet).
///
/// Equality and hashing ignore ASCII case; the original case is kept for
/// display.
#[derive(Clone)]
pub struct Name {
    wire: Vec<u8>,
}

impl Name {
    /// The root name `.`.
    pub fn root() -> Name {
        Name { wire: vec![0] }
    }

    /// Builds a name from its labels (without the root label).
    pub fn from_labels<'a, I>(labels: I) -> Result<Name, TrustError>
    where
        I: IntoIterator<Item = &'a [u8]>,
    {
        let mut wire = Vec::new();
        for label in labels {
            if label.is_empty() {
                return Err(TrustError::Name("empty label".into()));
            }
            if label.len() > MAX_LABEL {
                return Err(TrustError::Name(format!(
                    "label of {} octets (at most {MAX_LABEL})",
                    label.len()
                )));
            }
            wire.push(label.len() as u8);
            wire.extend_from_slice(label);
        }
        wire.push(0);
        if wire.len() > MAX_NAME {
            return Err(TrustError::Name(format!(
                "name of {} octets (at most {MAX_NAME})",
                wire.len()
            )));
        }
        Ok(Name { wire })
    }

    /// Reads an uncompressed name at `pos` in `buf`; returns it and the
    /// position after it. A compression pointer is an error: record data
    /// handed to this module must already be uncompressed.
    pub fn read_wire(buf: &[u8], pos: usize) -> Result<(Name, usize), TrustError> {
        let mut at = pos;
        loop {
            let len = *buf
                .get(at)
                .ok_or_else(|| TrustError::Wire("name runs past the end of the data".into()))?
                as usize;
            if len == 0 {
                at += 1;
                break;
            }
            if len & 0xC0 == 0xC0 {
                return Err(TrustError::Wire(
                    "compressed name (record data must be uncompressed)".into(),
                ));
            }
            if len > MAX_LABEL {
                return Err(TrustError::Wire(format!("label length octet {len:#04x}")));
            }
            if at + 1 + len > buf.len() {
                return Err(TrustError::Wire(
                    "name runs past the end of the data".into(),
                ));
            }
            at += 1 + len;
            if at - pos > MAX_NAME {
                return Err(TrustError::Wire("name longer than 255 octets".into()));
            }
        }
        if at - pos > MAX_NAME {
            return Err(TrustError::Wire("name longer than 255 octets".into()));
        }
        Ok((
            Name {
                wire: buf[pos..at].to_vec(),
            },
            at,
        ))
    }

    /// Parses presentation text (`baremetal._openstack._tcp.local.`).
    /// `\.`, `\\` and `\DDD` escapes are understood. A name without the
    /// final dot is taken as fully qualified all the same (there is no
    /// origin to append).
    pub fn parse(text: &str) -> Result<Name, TrustError> {
        let bad = |why: &str| TrustError::Name(format!("{text:?}: {why}"));
        if text.is_empty() {
            return Err(bad("empty name"));
        }
        if text == "." {
            return Ok(Name::root());
        }
        let bytes = text.as_bytes();
        let mut labels: Vec<Vec<u8>> = vec![Vec::new()];
        let mut i = 0;
        while i < bytes.len() {
            let c = bytes[i];
            match c {
                b'.' => {
                    if labels.last().is_some_and(|l| l.is_empty()) {
                        return Err(bad("empty label"));
                    }
                    labels.push(Vec::new());
                    i += 1;
                }
                b'\\' => {
                    let rest = &bytes[i + 1..];
                    if rest.len() >= 3 && rest[..3].iter().all(u8::is_ascii_digit) {
                        let v = (rest[0] - b'0') as u32 * 100
                            + (rest[1] - b'0') as u32 * 10
                            + (rest[2] - b'0') as u32;
                        let v = u8::try_from(v).map_err(|_| bad("escape \\DDD above 255"))?;
                        labels.last_mut().expect("one label").push(v);
                        i += 4;
                    } else if let Some(&e) = rest.first() {
                        labels.last_mut().expect("one label").push(e);
                        i += 2;
                    } else {
                        return Err(bad("dangling backslash"));
                    }
                }
                _ => {
                    labels.last_mut().expect("one label").push(c);
                    i += 1;
                }
            }
        }
        if labels.last().is_some_and(|l| l.is_empty()) {
            labels.pop();
        }
        Name::from_labels(labels.iter().map(Vec::as_slice)).map_err(|e| match e {
            TrustError::Name(why) => bad(&why),
            other => other,
        })
    }

    /// The uncompressed wire form, in the case it was given.
    pub fn as_wire(&self) -> &[u8] {
        &self.wire
    }

    /// The canonical wire form: uncompressed, ASCII letters lowercased
    /// (RFC 4034 s6.2).
    pub fn canonical_wire(&self) -> Vec<u8> {
        self.wire.to_ascii_lowercase()
    }

    /// The labels, leftmost first, without the root label.
    pub fn labels(&self) -> Labels<'_> {
        Labels {
            wire: &self.wire,
            at: 0,
        }
    }

    /// True if the leftmost label is `*`.
    pub fn is_wildcard(&self) -> bool {
        self.labels().next() == Some(b"*")
    }

    /// The count RRSIG's Labels field holds for this owner (RFC 4034
    /// s3.1.3): the labels without the root and without a leading `*`.
    pub fn rrsig_labels(&self) -> u8 {
        let n = self.labels().count();
        (if self.is_wildcard() { n - 1 } else { n }) as u8
    }

    /// True if `self` is `zone` or a name below it.
    pub fn is_within(&self, zone: &Name) -> bool {
        let mine: Vec<&[u8]> = self.labels().collect();
        let theirs: Vec<&[u8]> = zone.labels().collect();
        theirs.len() <= mine.len()
            && mine
                .iter()
                .rev()
                .zip(theirs.iter().rev())
                .all(|(a, b)| a.eq_ignore_ascii_case(b))
    }
}

/// The labels of a [`Name`], leftmost first.
pub struct Labels<'a> {
    wire: &'a [u8],
    at: usize,
}

impl<'a> Iterator for Labels<'a> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        let len = *self.wire.get(self.at)? as usize;
        if len == 0 {
            return None;
        }
        let label = &self.wire[self.at + 1..self.at + 1 + len];
        self.at += 1 + len;
        Some(label)
    }
}

impl PartialEq for Name {
    fn eq(&self, other: &Name) -> bool {
        self.wire.eq_ignore_ascii_case(&other.wire)
    }
}

impl Eq for Name {}

impl Hash for Name {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.canonical_wire().hash(state);
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.wire == [0] {
            return f.write_str(".");
        }
        for label in self.labels() {
            for &c in label {
                match c {
                    b'.' | b'\\' | b'"' | b'(' | b')' | b';' | b'@' | b'$' => {
                        write!(f, "\\{}", c as char)?
                    }
                    0x21..=0x7e => write!(f, "{}", c as char)?,
                    _ => write!(f, "\\{c:03}")?,
                }
            }
            f.write_str(".")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Name({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_display_and_case_insensitive_equality() {
        let a = Name::parse("Baremetal._OpenStack._tcp.LOCAL.").unwrap();
        let b = Name::parse("baremetal._openstack._tcp.local").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.to_string(), "Baremetal._OpenStack._tcp.LOCAL.");
        assert_eq!(a.canonical_wire(), b.as_wire());
        assert_eq!(a.rrsig_labels(), 4);
        assert!(a.is_within(&Name::parse("local.").unwrap()));
        assert!(a.is_within(&Name::root()));
        assert!(!a.is_within(&Name::parse("other.local.").unwrap()));
        assert!(!Name::parse("local.").unwrap().is_within(&a));
    }

    #[test]
    fn escapes_wildcards_and_limits() {
        let n = Name::parse(r"my\.host\032x.local.").unwrap();
        assert_eq!(n.labels().next().unwrap(), b"my.host x");
        assert_eq!(n.to_string(), r"my\.host\032x.local.");
        let w = Name::parse("*.example.").unwrap();
        assert!(w.is_wildcard());
        assert_eq!(w.rrsig_labels(), 1);
        assert_eq!(Name::root().rrsig_labels(), 0);
        for bad in [
            "",
            "a..b.",
            r"x\",
            r"\256.",
            &format!("{}.", "a".repeat(64)),
        ] {
            assert!(Name::parse(bad).is_err(), "{bad:?}");
        }
        let long = format!("{}.", vec!["a".repeat(63); 4].join("."));
        assert!(Name::parse(&long).is_err());
    }

    #[test]
    fn read_wire_refuses_pointers_and_truncation() {
        let (n, end) = Name::read_wire(b"\x05local\x00rest", 0).unwrap();
        assert_eq!(n.to_string(), "local.");
        assert_eq!(end, 7);
        assert!(Name::read_wire(b"\x05loc", 0).is_err());
        assert!(Name::read_wire(b"\xc0\x0c", 0).is_err());
        assert!(Name::read_wire(b"\x41", 0).is_err());
        assert!(Name::read_wire(b"", 0).is_err());
        assert!(Name::read_wire(&[1u8; 300], 0).is_err());
    }
}

//! Trust anchors: the DNSKEYs and DSs a validation may start from.
//!
//! Accepted forms (an anchor value holds one or several):
//! - zone-file text with DNSKEY and/or DS records, as `dnssec-keygen`
//!   writes into the `.key` file and `dnssec-dsfromkey` and `keymgr`
//!   print: `local. [TTL] [IN] DNSKEY 257 3 15 <base64...>` or
//!   `local. [TTL] [IN] DS 12345 15 2 <hex...>`; `;` comments; base64 and
//!   hex may be split into parts and over lines within parentheses;
//! - the compact form for kernel command lines, a DS without an owner:
//!   `KEYTAG:ALG:DIGESTTYPE:HEXDIGEST`, several separated by `,`;
//! - `@/path/file`: a file (at most 64 KiB) holding lines of either form.

use std::path::Path;

use super::crypto::check_public_key;
use super::name::Name;
use super::record::{Algorithm, DigestType, Dnskey, Ds, FLAG_REVOKE};
use super::text::{base64, entries, hex, read_bounded, Entry};
use super::TrustError;

/// One trust anchor. `owner` is the zone it was given for. `None` (the
/// compact form) lets a DS be matched against whatever signer name the
/// RRSIG carries: its digest covers that name, so it still binds the key
/// to one zone. A DNSKEY anchor built with `owner: None` (only through
/// [`AnchorSet::from_anchors`]; parsed text always names the zone) vouches
/// for its key in any zone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Anchor {
    Dnskey { owner: Option<Name>, key: Dnskey },
    Ds { owner: Option<Name>, ds: Ds },
}

impl Anchor {
    /// The zone the anchor was given for, if it names one.
    pub fn owner(&self) -> Option<&Name> {
        match self {
            Anchor::Dnskey { owner, .. } | Anchor::Ds { owner, .. } => owner.as_ref(),
        }
    }

    /// True if this anchor may vouch for keys of zone `signer`.
    pub(crate) fn applies_to(&self, signer: &Name) -> bool {
        self.owner().is_none_or(|o| o == signer)
    }
}

/// A set of trust anchors (never empty once parsed).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AnchorSet {
    anchors: Vec<Anchor>,
}

impl AnchorSet {
    /// Parses an anchor value: `@/path/file`, compact DS forms, or
    /// zone-file text. An empty value is an error: leaving the setting
    /// unset is how trust is turned off.
    pub fn parse(value: &str) -> Result<AnchorSet, TrustError> {
        let value = value.trim();
        if value.is_empty() {
            return Err(TrustError::Anchor(
                "empty trust anchor (leave the setting unset to turn trust off)".into(),
            ));
        }
        if let Some(path) = value.strip_prefix('@') {
            return AnchorSet::from_file(Path::new(path.trim()));
        }
        AnchorSet::from_text(value)
    }

    /// Reads anchors from a file (at most 64 KiB).
    pub fn from_file(path: &Path) -> Result<AnchorSet, TrustError> {
        let text = read_bounded(path)?;
        AnchorSet::from_text(&text).map_err(|e| TrustError::File {
            path: path.to_path_buf(),
            why: e.to_string(),
        })
    }

    /// Parses text holding zone-file DNSKEY/DS records and/or compact DS
    /// forms.
    pub fn from_text(text: &str) -> Result<AnchorSet, TrustError> {
        let mut anchors = Vec::new();
        for entry in entries(text)? {
            if entry.tokens.iter().all(|t| t.contains(':')) {
                let parts = entry.tokens.iter().flat_map(|t| t.split(','));
                for part in parts.filter(|p| !p.is_empty()) {
                    anchors.push(parse_compact(part).map_err(|why| TrustError::Syntax {
                        line: entry.line,
                        why,
                    })?);
                }
                continue;
            }
            let (owner, anchor) = parse_record(&entry)?;
            anchors.push(match anchor {
                Anchor::Dnskey { key, .. } => Anchor::Dnskey {
                    owner: Some(owner),
                    key,
                },
                Anchor::Ds { ds, .. } => Anchor::Ds {
                    owner: Some(owner),
                    ds,
                },
            });
        }
        if anchors.is_empty() {
            return Err(TrustError::Anchor(
                "no DNSKEY or DS record in the trust anchor".into(),
            ));
        }
        Ok(AnchorSet { anchors })
    }

    /// An anchor set of the given anchors (each is checked as the parser
    /// checks it).
    pub fn from_anchors(anchors: Vec<Anchor>) -> Result<AnchorSet, TrustError> {
        if anchors.is_empty() {
            return Err(TrustError::Anchor("empty trust anchor set".into()));
        }
        for a in &anchors {
            match a {
                Anchor::Dnskey { key, .. } => check_dnskey(key).map_err(TrustError::Anchor)?,
                Anchor::Ds { ds, .. } => check_ds(ds).map_err(TrustError::Anchor)?,
            }
        }
        Ok(AnchorSet { anchors })
    }

    /// The anchors.
    pub fn anchors(&self) -> &[Anchor] {
        &self.anchors
    }
}

fn check_algorithm(n: u8) -> Result<Algorithm, String> {
    Algorithm::from_number(n).ok_or_else(|| {
        format!("DNSSEC algorithm {n} is not supported (8 RSASHA256, 13 ECDSAP256SHA256, 15 ED25519 are)")
    })
}

pub(crate) fn check_dnskey(key: &Dnskey) -> Result<(), String> {
    let alg = check_algorithm(key.algorithm)?;
    if key.protocol != 3 {
        return Err(format!("DNSKEY protocol {} (must be 3)", key.protocol));
    }
    if !key.is_zone_key() {
        return Err(format!(
            "DNSKEY flags {} lack the Zone Key bit (256): such a key signs no records",
            key.flags
        ));
    }
    if key.flags & FLAG_REVOKE != 0 {
        return Err(format!(
            "DNSKEY flags {} carry the REVOKE bit (128): a revoked key is no anchor",
            key.flags
        ));
    }
    check_public_key(alg, &key.public_key)
}

fn check_ds(ds: &Ds) -> Result<(), String> {
    check_algorithm(ds.algorithm)?;
    let dt = DigestType::from_number(ds.digest_type).ok_or_else(|| {
        format!(
            "DS digest type {} is not supported (2 SHA-256 and 4 SHA-384 are)",
            ds.digest_type
        )
    })?;
    if ds.digest.len() != dt.digest_len() {
        return Err(format!(
            "DS digest of {} octets, digest type {} has {}",
            ds.digest.len(),
            ds.digest_type,
            dt.digest_len()
        ));
    }
    Ok(())
}

fn number<T: std::str::FromStr>(token: &str, what: &str) -> Result<T, String> {
    token
        .parse()
        .map_err(|_| format!("{what} {token:?} is not a number in range"))
}

/// `KEYTAG:ALG:DIGESTTYPE:HEXDIGEST`.
fn parse_compact(text: &str) -> Result<Anchor, String> {
    let parts: Vec<&str> = text.split(':').collect();
    let [tag, alg, dt, digest] = parts[..] else {
        return Err(format!("{text:?} is not KEYTAG:ALG:DIGESTTYPE:HEXDIGEST"));
    };
    let ds = Ds {
        key_tag: number(tag, "key tag")?,
        algorithm: number(alg, "algorithm")?,
        digest_type: number(dt, "digest type")?,
        digest: hex(digest)?,
    };
    check_ds(&ds)?;
    Ok(Anchor::Ds { owner: None, ds })
}

/// True for a TTL token: digits, or BIND's unit form (`1h30m`).
fn is_ttl(token: &str) -> bool {
    token.starts_with(|c: char| c.is_ascii_digit())
        && token
            .chars()
            .all(|c| c.is_ascii_digit() || "sSmMhHdDwW".contains(c))
}

/// Parses one DNSKEY or DS record in zone-file text: owner, optional TTL
/// and class (IN) in either order, the type, the RDATA.
pub(crate) fn parse_record(entry: &Entry) -> Result<(Name, Anchor), TrustError> {
    let err = |why: String| TrustError::Syntax {
        line: entry.line,
        why,
    };
    let t = &entry.tokens;
    if t[0].starts_with('$') {
        return Err(err(format!(
            "directive {} is not supported in a key or anchor",
            t[0]
        )));
    }
    let owner = Name::parse(&t[0]).map_err(|e| err(e.to_string()))?;
    let mut i = 1;
    for _ in 0..2 {
        match t.get(i) {
            Some(tok) if is_ttl(tok) => i += 1,
            Some(tok) if tok.eq_ignore_ascii_case("IN") => i += 1,
            Some(tok)
                if ["CH", "HS", "CS", "ANY"]
                    .iter()
                    .any(|c| tok.eq_ignore_ascii_case(c)) =>
            {
                return Err(err(format!("class {tok} (must be IN)")))
            }
            _ => {}
        }
    }
    let rtype = t
        .get(i)
        .ok_or_else(|| err("record without a type".into()))?;
    let rdata = &t[i + 1..];
    if rtype.eq_ignore_ascii_case("DNSKEY") {
        if rdata.len() < 4 {
            return Err(err(
                "DNSKEY needs flags, protocol, algorithm and a key".into()
            ));
        }
        let key = Dnskey {
            flags: number(&rdata[0], "DNSKEY flags").map_err(err)?,
            protocol: number(&rdata[1], "DNSKEY protocol").map_err(err)?,
            algorithm: number(&rdata[2], "DNSKEY algorithm").map_err(err)?,
            public_key: base64(&rdata[3..].concat())
                .map_err(|why| err(format!("DNSKEY public key: {why}")))?,
        };
        check_dnskey(&key).map_err(err)?;
        Ok((owner, Anchor::Dnskey { owner: None, key }))
    } else if rtype.eq_ignore_ascii_case("DS") {
        if rdata.len() < 4 {
            return Err(err(
                "DS needs key tag, algorithm, digest type and a digest".into()
            ));
        }
        let ds = Ds {
            key_tag: number(&rdata[0], "DS key tag").map_err(err)?,
            algorithm: number(&rdata[1], "DS algorithm").map_err(err)?,
            digest_type: number(&rdata[2], "DS digest type").map_err(err)?,
            digest: hex(&rdata[3..].concat()).map_err(err)?,
        };
        check_ds(&ds).map_err(err)?;
        Ok((owner, Anchor::Ds { owner: None, ds }))
    } else {
        Err(err(format!(
            "record type {rtype} (a trust anchor is a DNSKEY or DS record)"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ED_KEY: &str = "l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4=";
    const ED_DS: &str = "3aa5ab37efce57f737fc1627013fee07bdf241bd10f3b1964ab55c78e79a304b";

    #[test]
    fn forms_accepted() {
        let rows: &[(&str, usize)] = &[
            (&format!("example.com. IN DNSKEY 257 3 15 {ED_KEY}"), 1),
            (&format!("example.com. 3600 IN DNSKEY 257 3 15 {ED_KEY}"), 1),
            (&format!("example.com. IN 3600 DNSKEY 257 3 15 {ED_KEY}"), 1),
            (
                &format!(
                    "example.com. DNSKEY 257 3 15 ( {} \n {} )",
                    &ED_KEY[..20],
                    &ED_KEY[20..]
                ),
                1,
            ),
            (
                &format!(
                    "; comment\nexample.com. IN DS 3613 15 2 {} {}\n",
                    &ED_DS[..30],
                    &ED_DS[30..]
                ),
                1,
            ),
            (
                &format!("example.com. 1h IN DS 3613 15 2 {}", ED_DS.to_uppercase()),
                1,
            ),
            (&format!("3613:15:2:{ED_DS}"), 1),
            (&format!("3613:15:2:{ED_DS},3613:15:2:{ED_DS}"), 2),
            (
                &format!("3613:15:2:{ED_DS}, 3613:15:2:{ED_DS} 3613:15:2:{ED_DS}"),
                3,
            ),
            (
                &format!("3613:15:2:{ED_DS}\nexample.com. DNSKEY 257 3 15 {ED_KEY}"),
                2,
            ),
        ];
        for (text, n) in rows {
            let set = AnchorSet::parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
            assert_eq!(set.anchors().len(), *n, "{text:?}");
        }
        let set = AnchorSet::parse(&format!("3613:15:2:{ED_DS}")).unwrap();
        assert_eq!(set.anchors()[0].owner(), None);
        let set = AnchorSet::parse(&format!("Example.COM. DS 3613 15 2 {ED_DS}")).unwrap();
        assert_eq!(
            set.anchors()[0].owner(),
            Some(&Name::parse("example.com.").unwrap())
        );
    }

    #[test]
    fn forms_refused_with_reasons() {
        let rows: &[(&str, &str)] = &[
            ("", "empty"),
            ("   ", "empty"),
            ("; only a comment", "no DNSKEY or DS"),
            (&format!("3613:15:1:{}", &ED_DS[..40]), "digest type 1"),
            (&format!("3613:16:2:{ED_DS}"), "algorithm 16"),
            (&format!("3613:15:2:{}", &ED_DS[..62]), "digest of 31"),
            ("3613:15:2", "KEYTAG:ALG"),
            ("70000:15:2:00", "key tag"),
            (
                &format!("example.com. IN DNSKEY 257 3 16 {ED_KEY}"),
                "algorithm 16",
            ),
            (
                &format!("example.com. IN DNSKEY 257 3 15 {}", &ED_KEY[..41]),
                "base64",
            ),
            (
                &format!("example.com. IN DNSKEY 257 2 15 {ED_KEY}"),
                "protocol 2",
            ),
            (
                &format!("example.com. IN DNSKEY 1 3 15 {ED_KEY}"),
                "Zone Key",
            ),
            (
                &format!("example.com. IN DNSKEY 385 3 15 {ED_KEY}"),
                "REVOKE",
            ),
            ("example.com. IN DNSKEY 257 3 15 AAAA", "32 octets"),
            ("example.com. IN A 192.0.2.1", "record type A"),
            (&format!("example.com. CH DS 3613 15 2 {ED_DS}"), "class CH"),
            (&format!("example.com. IN DS 3613 15 2 {ED_DS}zz"), "hex"),
            ("$ORIGIN example.com.", "directive"),
            ("@/nonexistent/anchor", "/nonexistent/anchor"),
            ("@/dev/zero", "larger than"),
        ];
        for (text, want) in rows {
            let err = AnchorSet::parse(text).expect_err(text).to_string();
            assert!(err.contains(want), "{text:?}: {err:?} lacks {want:?}");
        }
    }
}

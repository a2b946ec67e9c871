//! TSIG (RFC 8945): keys, signing of our requests, checking of responses.
//!
//! TSIG works on the message bytes as sent, so it is a byte-level envelope
//! here: `sign` appends a TSIG record to a message that simple-dns built,
//! `verify` checks and cuts the TSIG record of a response before any parser
//! reads the rest. The MAC is RustCrypto's `hmac` over `sha2`, compared in
//! constant time (`Mac::verify_slice`); nothing here is hand-made crypto.
//!
//! Keys come from a BIND key file (`key "name" { algorithm hmac-sha256;
//! secret "base64"; };`, what `tsig-keygen` prints) or the one-line
//! `algorithm:name:base64secret` form (`dig -y`, `knsupdate -y`). The
//! secret never appears in `Debug` output nor in an error text.

use crate::error::Refused;
use std::fmt;

use crate::wire::{read_name, record_offsets};
use base64::Engine as _;
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha2::{Sha224, Sha256, Sha384, Sha512};

/// TSIG record type (RFC 8945 s4.2).
pub const T_TSIG: u16 = 250;
/// CLASS ANY, the class of a TSIG record (RFC 8945 s4.2).
const C_ANY: u16 = 255;
/// Fudge we send: RFC 8945 s10 recommends 300 s.
pub const FUDGE: u16 = 300;

/// TSIG error codes (RFC 8945 s3, IANA DNS RCODEs).
pub const BADSIG: u16 = 16;
pub const BADKEY: u16 = 17;
pub const BADTIME: u16 = 18;
pub const BADTRUNC: u16 = 22;

/// The HMAC algorithms we sign with (RFC 8945 s6; HMAC-MD5 and HMAC-SHA1
/// are left out on purpose: both are deprecated for new keys).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    HmacSha224,
    HmacSha256,
    HmacSha384,
    HmacSha512,
}

impl Algorithm {
    /// From the name of a key file or the `-y` form (`hmac-sha256`), with
    /// or without the trailing dot, any case.
    pub fn from_name(name: &str) -> Option<Algorithm> {
        match name.trim_end_matches('.').to_ascii_lowercase().as_str() {
            "hmac-sha224" => Some(Algorithm::HmacSha224),
            "hmac-sha256" => Some(Algorithm::HmacSha256),
            "hmac-sha384" => Some(Algorithm::HmacSha384),
            "hmac-sha512" => Some(Algorithm::HmacSha512),
            _ => None,
        }
    }

    /// The algorithm's domain name as TSIG carries it (RFC 8945 s6).
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::HmacSha224 => "hmac-sha224.",
            Algorithm::HmacSha256 => "hmac-sha256.",
            Algorithm::HmacSha384 => "hmac-sha384.",
            Algorithm::HmacSha512 => "hmac-sha512.",
        }
    }

    fn mac_len(self) -> usize {
        match self {
            Algorithm::HmacSha224 => 28,
            Algorithm::HmacSha256 => 32,
            Algorithm::HmacSha384 => 48,
            Algorithm::HmacSha512 => 64,
        }
    }

    fn compute(self, secret: &[u8], parts: &[&[u8]]) -> Vec<u8> {
        match self {
            Algorithm::HmacSha224 => mac_of::<Hmac<Sha224>>(secret, parts),
            Algorithm::HmacSha256 => mac_of::<Hmac<Sha256>>(secret, parts),
            Algorithm::HmacSha384 => mac_of::<Hmac<Sha384>>(secret, parts),
            Algorithm::HmacSha512 => mac_of::<Hmac<Sha512>>(secret, parts),
        }
    }

    fn check(self, secret: &[u8], parts: &[&[u8]], mac: &[u8]) -> bool {
        match self {
            Algorithm::HmacSha224 => check_of::<Hmac<Sha224>>(secret, parts, mac),
            Algorithm::HmacSha256 => check_of::<Hmac<Sha256>>(secret, parts, mac),
            Algorithm::HmacSha384 => check_of::<Hmac<Sha384>>(secret, parts, mac),
            Algorithm::HmacSha512 => check_of::<Hmac<Sha512>>(secret, parts, mac),
        }
    }
}

fn keyed<M: Mac + KeyInit>(secret: &[u8], parts: &[&[u8]]) -> M {
    // HMAC takes a key of any length (RFC 2104 s3), so this cannot fail.
    let mut m = <M as KeyInit>::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
    for p in parts {
        m.update(p);
    }
    m
}

fn mac_of<M: Mac + KeyInit>(secret: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    keyed::<M>(secret, parts).finalize().into_bytes().to_vec()
}

/// Constant-time comparison (the `subtle` crate inside `hmac`).
fn check_of<M: Mac + KeyInit>(secret: &[u8], parts: &[&[u8]], mac: &[u8]) -> bool {
    keyed::<M>(secret, parts).verify_slice(mac).is_ok()
}

/// A TSIG key. `Debug` shows the name and algorithm, never the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Key {
    /// Lowercase, with the trailing dot.
    name: String,
    algorithm: Algorithm,
    secret: Vec<u8>,
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Key {{ name: {:?}, algorithm: {}, secret: <{} bytes> }}",
            self.name,
            self.algorithm.name(),
            self.secret.len()
        )
    }
}

impl Key {
    /// A key from its parts; the name must be a valid DNS name.
    pub fn new(name: &str, algorithm: Algorithm, secret: Vec<u8>) -> Result<Key, Refused> {
        let name = canonical_name_text(name)?;
        if secret.is_empty() {
            return Err("the secret is empty".into());
        }
        Ok(Key {
            name,
            algorithm,
            secret,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// `algorithm:name:base64secret` (what `dig -y` and `knsupdate -y`
    /// take); `name:secret` alone means hmac-sha256 (their default). The
    /// error text holds no part of the line: with the parts in the wrong
    /// order any of them may be the secret.
    pub fn from_line(line: &str) -> Result<Key, Refused> {
        let line = line.trim();
        let parts: Vec<&str> = line.splitn(3, ':').collect();
        let (alg, name, secret) = match parts.as_slice() {
            [alg, name, secret] => (*alg, *name, *secret),
            [name, secret] => ("hmac-sha256", *name, *secret),
            _ => return Err("expected algorithm:name:base64secret".into()),
        };
        let algorithm = algorithm_of(alg)?;
        let name = canonical_name_text(name)?;
        Key::new(&name, algorithm, decode_secret(secret)?)
    }

    /// The first `key "name" { algorithm ...; secret "..."; };` block of a
    /// BIND key file (`tsig-keygen`, `ddns-confgen`, `rndc-confgen`
    /// output). Comments (`#`, `//`, `/* */`) are skipped. The error text
    /// never holds the secret.
    pub fn from_bind_file(text: &str) -> Result<Key, Refused> {
        let tokens = bind_tokens(text)?;
        let mut it = tokens.iter().map(String::as_str).peekable();
        while let Some(t) = it.next() {
            if t != "key" {
                continue;
            }
            let name = it.next().ok_or("key without a name")?.to_owned();
            if it.next() != Some("{") {
                return Err("key: expected '{' after the key name".into());
            }
            let (mut algorithm, mut secret) = (None, None);
            loop {
                match it.next() {
                    Some("}") => break,
                    Some("algorithm") => {
                        let a = it.next().ok_or("algorithm without a value")?;
                        algorithm = Some(algorithm_of(a)?);
                    }
                    Some("secret") => {
                        secret = Some(decode_secret(it.next().ok_or("secret without a value")?)?)
                    }
                    Some(";") => {}
                    Some(other) => {
                        // Skip an unknown clause up to its ';'.
                        let _ = other;
                        for t in it.by_ref() {
                            if t == ";" {
                                break;
                            }
                        }
                    }
                    None => return Err("key: missing '}'".into()),
                }
            }
            let algorithm = algorithm.ok_or("key: no algorithm")?;
            let secret = secret.ok_or("key: no secret")?;
            return Key::new(&name, algorithm, secret);
        }
        Err("no `key \"name\" { ... };` block found".into())
    }
}

/// TSIG algorithm names of the IANA registry (RFC 8945 s6) that we do not
/// sign with: named in an error, as they cannot be a secret.
const KNOWN_UNSUPPORTED: [&str; 7] = [
    "hmac-md5.sig-alg.reg.int",
    "hmac-md5",
    "gss-tsig",
    "hmac-sha1",
    "hmac-sha256-128",
    "hmac-sha384-192",
    "hmac-sha512-256",
];

/// The algorithm named `text`. The text is repeated in the error only
/// when it is a registered algorithm name: anything else may be a
/// secret written in the wrong place.
fn algorithm_of(text: &str) -> Result<Algorithm, Refused> {
    Algorithm::from_name(text).ok_or_else(|| {
        let t = text.trim_end_matches('.').to_ascii_lowercase();
        match KNOWN_UNSUPPORTED.contains(&t.as_str()) {
            true => Refused(format!(
                "unsupported TSIG algorithm {t} (hmac-sha224/256/384/512 are)"
            )),
            false => "unsupported TSIG algorithm (hmac-sha224/256/384/512 are)".into(),
        }
    })
}

fn decode_secret(b64: &str) -> Result<Vec<u8>, Refused> {
    base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map_err(|_| "the secret is not valid base64".into())
}

/// Tokens of BIND's configuration syntax: words, quoted strings (quotes
/// removed), `{`, `}`, `;`; comments dropped.
fn bind_tokens(text: &str) -> Result<Vec<String>, Refused> {
    let mut out = Vec::new();
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c == b'#' || (c == b'/' && b.get(i + 1) == Some(&b'/')) {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
            let end = text[i + 2..].find("*/").ok_or("unterminated /* comment")?;
            i += 2 + end + 2;
        } else if c == b'"' {
            let end = text[i + 1..].find('"').ok_or("unterminated string")?;
            out.push(text[i + 1..i + 1 + end].to_owned());
            i += end + 2;
        } else if matches!(c, b'{' | b'}' | b';') {
            out.push((c as char).to_string());
            i += 1;
        } else {
            let start = i;
            while i < b.len()
                && !b[i].is_ascii_whitespace()
                && !matches!(b[i], b'{' | b'}' | b';' | b'"')
            {
                i += 1;
            }
            out.push(text[start..i].to_owned());
        }
    }
    Ok(out)
}

/// `name` lowercased with its trailing dot, checked as a key name: a DNS
/// name of letters, digits, `-` and `_`. The error never repeats the name:
/// with the parts swapped it is the secret. A name that looks like a
/// base64 secret (one label of 16 or more characters, mixed case and
/// digits, valid base64) is refused for the same reason, before it could
/// reach a log line or a `Debug` output as the key's name.
fn canonical_name_text(name: &str) -> Result<String, Refused> {
    let raw = name.trim().trim_end_matches('.');
    let n = raw.to_ascii_lowercase();
    if n.is_empty()
        || n.len() > 253
        || n.split('.').any(|l| l.is_empty() || l.len() > 63)
        || !n
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(
            "the key name is not a valid key name (letters, digits, '-', '_' in dotted labels; \
             is it written as algorithm:name:secret?)"
                .into(),
        );
    }
    if looks_like_a_secret(raw) {
        return Err(
            "the key name is not a valid key name: it looks like a base64 secret \
                    (is it written as algorithm:name:secret?)"
                .into(),
        );
    }
    Ok(format!("{n}."))
}

/// One label of 16 or more characters holding upper and lower case
/// letters and digits that decodes as base64: what a key's secret looks
/// like, not what a key's name does.
fn looks_like_a_secret(raw: &str) -> bool {
    let b = raw.as_bytes();
    b.len() >= 16
        && !raw.contains('.')
        && b.iter().any(u8::is_ascii_uppercase)
        && b.iter().any(u8::is_ascii_lowercase)
        && b.iter().any(u8::is_ascii_digit)
        && base64::engine::general_purpose::STANDARD
            .decode(raw)
            .is_ok()
}

/// Uncompressed wire form of a canonical (lowercase, dotted) name.
fn name_wire(name: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(name.len() + 1);
    for label in name.trim_end_matches('.').split('.') {
        if label.is_empty() {
            continue;
        }
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    out
}

/// Why a response's TSIG was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VerifyError {
    /// No TSIG record although we signed the request (RFC 8945 s5.3.1).
    Unsigned,
    /// The TSIG is not the last record, or there are several, or it does
    /// not parse.
    Malformed(&'static str),
    /// Signed with another key name or algorithm than ours.
    WrongKey(String),
    /// The server refused our signature: BADSIG, BADKEY, BADTIME, BADTRUNC.
    ServerRefused(u16),
    /// The MAC does not match.
    BadMac,
    /// Signed outside the fudge window (RFC 8945 s5.2.3).
    Stale { signed: u64, now: u64, fudge: u16 },
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyError::Unsigned => write!(f, "the response carries no TSIG signature"),
            VerifyError::Malformed(why) => {
                write!(f, "the response's TSIG record is malformed ({why})")
            }
            VerifyError::WrongKey(k) => write!(f, "the response is signed with another key ({k})"),
            VerifyError::ServerRefused(code) => write!(
                f,
                "the server refused our TSIG signature ({})",
                tsig_error_name(*code)
            ),
            VerifyError::BadMac => {
                write!(f, "the response's TSIG MAC is wrong (forged or corrupted)")
            }
            VerifyError::Stale { signed, now, fudge } => write!(
                f,
                "the response was signed at {signed}, {} s away from our clock ({now}), \
                 beyond the fudge of {fudge} s",
                signed.abs_diff(*now)
            ),
        }
    }
}

/// RFC 8945 s3 names of TSIG errors.
pub fn tsig_error_name(code: u16) -> String {
    match code {
        BADSIG => "BADSIG".into(),
        BADKEY => "BADKEY".into(),
        BADTIME => "BADTIME".into(),
        BADTRUNC => "BADTRUNC".into(),
        c => format!("TSIG error {c}"),
    }
}

/// A signed request: the bytes to send and the MAC a response must chain.
#[derive(Clone, Debug)]
pub struct Signed {
    pub bytes: Vec<u8>,
    pub mac: Vec<u8>,
}

/// The TSIG variables (RFC 8945 s4.3.3) in wire form.
fn variables(key: &Key, time: u64, fudge: u16, error: u16, other: &[u8]) -> Vec<u8> {
    let mut v = name_wire(&key.name);
    v.extend_from_slice(&C_ANY.to_be_bytes());
    v.extend_from_slice(&0u32.to_be_bytes()); // TTL
    v.extend_from_slice(&name_wire(key.algorithm.name()));
    v.extend_from_slice(&time.to_be_bytes()[2..]); // 48 bits
    v.extend_from_slice(&fudge.to_be_bytes());
    v.extend_from_slice(&error.to_be_bytes());
    v.extend_from_slice(&(other.len() as u16).to_be_bytes());
    v.extend_from_slice(other);
    v
}

/// Sign `msg` (a complete message without TSIG) at `now` (seconds since
/// the epoch): RFC 8945 s4.3.1 MAC over the message and the variables,
/// then the TSIG record appended and ARCOUNT raised by one.
pub fn sign(msg: &[u8], key: &Key, now: u64) -> Result<Signed, Refused> {
    sign_with(msg, key, now, None, 0)
}

/// `sign`, for a response when `request_mac` is given (its MAC then covers
/// the request's MAC first, RFC 8945 s4.3.1), with a TSIG error code.
/// What a server does; the tests play servers with it.
pub fn sign_with(
    msg: &[u8],
    key: &Key,
    now: u64,
    request_mac: Option<&[u8]>,
    error: u16,
) -> Result<Signed, Refused> {
    if msg.len() < 12 {
        return Err("message shorter than a DNS header".into());
    }
    let arcount = u16::from_be_bytes([msg[10], msg[11]]);
    let arcount = arcount
        .checked_add(1)
        .ok_or("no room for a TSIG record (ARCOUNT full)")?;
    let vars = variables(key, now, FUDGE, error, &[]);
    let mac = match request_mac {
        Some(rm) => {
            let len = (rm.len() as u16).to_be_bytes();
            key.algorithm.compute(&key.secret, &[&len, rm, msg, &vars])
        }
        None => key.algorithm.compute(&key.secret, &[msg, &vars]),
    };
    let mut out = msg.to_vec();
    out[10..12].copy_from_slice(&arcount.to_be_bytes());
    out.extend_from_slice(&name_wire(&key.name));
    out.extend_from_slice(&T_TSIG.to_be_bytes());
    out.extend_from_slice(&C_ANY.to_be_bytes());
    out.extend_from_slice(&0u32.to_be_bytes());
    let mut rdata = name_wire(key.algorithm.name());
    rdata.extend_from_slice(&now.to_be_bytes()[2..]);
    rdata.extend_from_slice(&FUDGE.to_be_bytes());
    rdata.extend_from_slice(&(mac.len() as u16).to_be_bytes());
    rdata.extend_from_slice(&mac);
    rdata.extend_from_slice(&msg[0..2]); // original ID
    rdata.extend_from_slice(&error.to_be_bytes());
    rdata.extend_from_slice(&0u16.to_be_bytes()); // other len
    out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
    out.extend_from_slice(&rdata);
    Ok(Signed { bytes: out, mac })
}

fn be16(d: &[u8], at: usize) -> Option<u16> {
    d.get(at..at + 2).map(|b| u16::from_be_bytes([b[0], b[1]]))
}

/// Check the TSIG of a response to a request we signed with `key` whose MAC
/// was `request_mac`, at `now` (RFC 8945 s5.3). On success: the response
/// without its TSIG record (ARCOUNT lowered), for the parser.
pub fn verify(
    resp: &[u8],
    key: &Key,
    request_mac: &[u8],
    now: u64,
) -> Result<Vec<u8>, VerifyError> {
    use VerifyError::Malformed;
    let records = record_offsets(resp).ok_or(Malformed("the message does not parse"))?;
    let tsigs = records.iter().filter(|r| r.1 == T_TSIG).count();
    let Some(&(start, rtype, end)) = records.last() else {
        return Err(VerifyError::Unsigned);
    };
    if tsigs == 0 {
        return Err(VerifyError::Unsigned);
    }
    // RFC 8945 s5.1: exactly one TSIG, the last record of the additional
    // section.
    let arcount = be16(resp, 10).unwrap_or(0);
    if tsigs > 1 || rtype != T_TSIG || arcount == 0 {
        return Err(Malformed("TSIG is not the one last additional record"));
    }
    if end != resp.len() {
        return Err(Malformed("bytes after the TSIG record"));
    }
    let (owner, after) = read_name(resp, start).ok_or(Malformed("owner name"))?;
    let class = be16(resp, after + 2).ok_or(Malformed("class"))?;
    if class != C_ANY {
        return Err(Malformed("class is not ANY"));
    }
    // RFC 8945 s4.2: TTL 0 (the MAC covers it as 0).
    if resp.get(after + 4..after + 8) != Some(&[0, 0, 0, 0][..]) {
        return Err(Malformed("TTL is not 0"));
    }
    let rd = after + 10;
    let (alg, mut p) = read_name(resp, rd).ok_or(Malformed("algorithm name"))?;
    let field = |p: usize, n: usize| resp.get(p..p + n).filter(|_| p + n <= end);
    let time_b = field(p, 6).ok_or(Malformed("time signed"))?;
    let signed = time_b.iter().fold(0u64, |t, &b| (t << 8) | b as u64);
    p += 6;
    let fudge = be16(resp, p).ok_or(Malformed("fudge"))?;
    let mac_len = be16(resp, p + 2).ok_or(Malformed("MAC size"))? as usize;
    p += 4;
    let mac = field(p, mac_len).ok_or(Malformed("MAC"))?;
    p += mac_len;
    let orig_id = field(p, 2).ok_or(Malformed("original ID"))?;
    let error = be16(resp, p + 2).ok_or(Malformed("error"))?;
    let other_len = be16(resp, p + 4).ok_or(Malformed("other length"))? as usize;
    let other = field(p + 6, other_len).ok_or(Malformed("other data"))?;
    if p + 6 + other_len != end {
        return Err(Malformed("RDATA length"));
    }
    if owner != key.name || alg != key.algorithm.name() {
        return Err(VerifyError::WrongKey(format!("{owner} {alg}")));
    }
    // RFC 8945 s5.3.2: a BADKEY/BADSIG answer is unsigned; the server
    // tells us it refused our request.
    if error != 0 && mac_len == 0 {
        return Err(VerifyError::ServerRefused(error));
    }
    // RFC 8945 s5.2.2.1: we accept only the full MAC (truncation is a
    // MAY; BIND and Knot send it whole).
    if mac_len != key.algorithm.mac_len() {
        return Err(VerifyError::BadMac);
    }
    // The message as the server signed it: original ID, ARCOUNT - 1,
    // without the TSIG record (RFC 8945 s4.3.2).
    let mut stripped = resp[..start].to_vec();
    stripped[0..2].copy_from_slice(orig_id);
    stripped[10..12].copy_from_slice(&(arcount - 1).to_be_bytes());
    let vars = variables(key, signed, fudge, error, other);
    let req_len = (request_mac.len() as u16).to_be_bytes();
    // RFC 8945 s4.3.1: a response's MAC covers the request's MAC first.
    if !key
        .algorithm
        .check(&key.secret, &[&req_len, request_mac, &stripped, &vars], mac)
    {
        return Err(VerifyError::BadMac);
    }
    if error != 0 {
        return Err(VerifyError::ServerRefused(error));
    }
    // RFC 8945 s5.2.3: the time check comes after the MAC check.
    if signed.abs_diff(now) > fudge as u64 {
        return Err(VerifyError::Stale { signed, now, fudge });
    }
    // Hand the parser the response's own ID back.
    stripped[0..2].copy_from_slice(&resp[0..2]);
    Ok(stripped)
}

#[cfg(test)]
mod tests;

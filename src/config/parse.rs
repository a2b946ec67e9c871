//! The rules of option values, as oslo.config reads them (IntOpt, Dict of
//! quoted String, ListOpt, FloatOpt), with our bounds.

use crate::error::Refused;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::{MAX_ATTEMPTS, MAX_LOOKUP_TIMEOUT, MIN_LOOKUP_TIMEOUT};
use crate::props::{self, Properties};
use crate::trust::{load_bind_key, AnchorSet, SigningKeyRef};

/// At least 1 (oslo IntOpt min=1), at most [`MAX_ATTEMPTS`].
pub(super) fn check_attempts(n: u32) -> Result<u32, Refused> {
    if n < 1 {
        return Err("should be greater than or equal to 1".into());
    }
    if n > MAX_ATTEMPTS {
        return Err(Refused::from(format!(
            "should be less than or equal to {MAX_ATTEMPTS}"
        )));
    }
    Ok(n)
}

/// An integer as Python's `int()` reads it (sign, digits, `_` between
/// digits, surrounding blanks), from 1 to [`MAX_ATTEMPTS`].
pub(super) fn parse_attempts(value: &str) -> Result<u32, Refused> {
    let s = value.trim();
    if s.is_empty() {
        return Err("a value is required".into());
    }
    let (neg, digits) = match s.as_bytes()[0] {
        b'+' => (false, &s[1..]),
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    let well_formed = !digits.is_empty()
        && !digits.starts_with('_')
        && !digits.ends_with('_')
        && !digits.contains("__")
        && digits.chars().all(|c| c.is_ascii_digit() || c == '_');
    if !well_formed {
        return Err("not an integer".into());
    }
    let clean: String = digits.chars().filter(|&c| c != '_').collect();
    let zero = clean.bytes().all(|b| b == b'0');
    if neg || zero {
        return Err("should be greater than or equal to 1".into());
    }
    // Too many digits for u32 is above the bound as well.
    check_attempts(clean.parse::<u32>().unwrap_or(u32::MAX))
}

/// oslo.config `String(quotes=True)`: a value starting with a quote must
/// end with the same quote, which is stripped.
pub(super) fn unquote(value: &str) -> Result<&str, Refused> {
    match value.chars().next() {
        Some(q @ ('"' | '\'')) => {
            if value.len() == 1 || !value.ends_with(q) {
                Err(Refused::from(format!("Non-closed quote: {value}")))
            } else {
                Ok(&value[1..value.len() - 1])
            }
        }
        _ => Ok(value),
    }
}

/// oslo.config `Dict(String(quotes=True))`: `k1:v1,k2:'v,2'`. Pairs are
/// split on commas; a pair that does not parse (no `:`, or an unclosed
/// quote) takes the next piece with its comma, until it parses. Keys are
/// not empty and not repeated, also not in another case (RFC 6763 s6.4),
/// and each pair must fit a TXT string (see [`props::check_pair`]).
pub(super) fn parse_dict(value: &str) -> Result<Properties, Refused> {
    let mut props = Properties::new();
    let s = value.trim();
    if s.is_empty() {
        return Ok(props);
    }
    let mut pieces: std::collections::VecDeque<&str> = s.split(',').collect();
    while let Some(first) = pieces.pop_front() {
        let mut pair = first.to_owned();
        let (key, val) = loop {
            let attempt = match pair.split_once(':') {
                None => Err(Refused::from(
                    "Value should be NAME:VALUE pairs separated by \",\"",
                )),
                Some((k, v)) => unquote(v.trim()).map(|v| (k.trim().to_owned(), v.to_owned())),
            };
            match attempt {
                Ok(kv) => break kv,
                Err(e) => match pieces.pop_front() {
                    None => return Err(e),
                    Some(next) => {
                        pair.push(',');
                        pair.push_str(next);
                    }
                },
            }
        };
        if key.is_empty() {
            return Err("Key name should not be empty".into());
        }
        if props.get(&key).is_some() {
            return Err(Refused::from(format!("Duplicate key {key}")));
        }
        props::check_pair(&key, Some(val.as_bytes()))?;
        props.set_str(&key, &val);
    }
    Ok(props)
}

/// An address mDNS can run on: one an interface can hold, so not the
/// unspecified address, a multicast address or the IPv4 broadcast.
pub(super) fn check_interface_address(a: &IpAddr) -> Result<(), Refused> {
    let why = match a.to_canonical() {
        ip if ip.is_unspecified() => "the unspecified address",
        ip if ip.is_multicast() => "a multicast address",
        IpAddr::V4(v4) if v4.is_broadcast() => "the broadcast address",
        _ => return Ok(()),
    };
    Err(Refused::from(format!(
        "{a} is {why}, not an interface address"
    )))
}

/// oslo.config `ListOpt` of IP addresses: comma-separated, blanks and a
/// trailing comma ignored. Empty: all interfaces. Each one must be an
/// address an interface can hold.
pub(super) fn parse_ip_list(value: &str) -> Result<Option<Vec<IpAddr>>, Refused> {
    let s = value.trim().trim_end_matches(',');
    if s.is_empty() {
        return Ok(None);
    }
    s.split(',')
        .map(|item| {
            let item = item.trim();
            let a = item
                .parse::<IpAddr>()
                .map_err(|_| format!("{item:?} is not an IP address"))?;
            check_interface_address(&a)?;
            Ok(a)
        })
        .collect::<std::result::Result<Vec<_>, _>>()
        .map(Some)
}

/// From [`MIN_LOOKUP_TIMEOUT`] to [`MAX_LOOKUP_TIMEOUT`].
pub(super) fn check_timeout(d: Duration) -> Result<Duration, Refused> {
    if d < MIN_LOOKUP_TIMEOUT {
        return Err(Refused::from(format!(
            "should be at least {} s",
            MIN_LOOKUP_TIMEOUT.as_secs_f64()
        )));
    }
    if d > MAX_LOOKUP_TIMEOUT {
        return Err(Refused::from(format!(
            "should be at most {} s",
            MAX_LOOKUP_TIMEOUT.as_secs_f64()
        )));
    }
    Ok(d)
}

/// Seconds as a float, from [`MIN_LOOKUP_TIMEOUT`] to [`MAX_LOOKUP_TIMEOUT`].
pub(super) fn parse_timeout(value: &str) -> Result<Duration, Refused> {
    let secs: f64 = value
        .trim()
        .parse()
        .map_err(|_| "not a number".to_owned())?;
    if !secs.is_finite() {
        return Err("not a finite number".into());
    }
    if secs <= 0.0 {
        return Err("should be greater than 0".into());
    }
    // Finite and above 0: compare as seconds before converting, so that a
    // huge value cannot overflow.
    if secs > MAX_LOOKUP_TIMEOUT.as_secs_f64() {
        return check_timeout(Duration::MAX);
    }
    check_timeout(Duration::from_secs_f64(secs))
}

/// Longest `trust_clock_skew`: 30 days. A clock further off than that is
/// not "before NTP" but wrong, and a wider window would take back the
/// expiry of old signatures.
pub(super) const MAX_CLOCK_SKEW: Duration = Duration::from_secs(30 * 24 * 3600);

pub(super) fn parse_clock_skew(value: &str) -> Result<Duration, Refused> {
    let secs: u64 = value
        .trim()
        .parse()
        .map_err(|_| "not a whole number of seconds".to_owned())?;
    check_clock_skew(Duration::from_secs(secs.min(MAX_CLOCK_SKEW.as_secs() + 1)))
}

pub(super) fn check_clock_skew(skew: Duration) -> Result<Duration, Refused> {
    if skew > MAX_CLOCK_SKEW {
        return Err(format!("should be at most {} (30 days)", MAX_CLOCK_SKEW.as_secs()).into());
    }
    Ok(skew)
}

/// One `trust_anchor` value: never empty (unset means off).
pub(super) fn parse_anchors(value: &str) -> Result<AnchorSet, Refused> {
    if value.trim().is_empty() {
        return Err("empty: leave the option unset for no validation".into());
    }
    AnchorSet::parse(value).map_err(|e| Refused(e.to_string()))
}

/// The anchors of earlier values and of one more.
pub(super) fn join_anchors(old: &AnchorSet, more: AnchorSet) -> Result<AnchorSet, Refused> {
    let mut all = old.anchors().to_vec();
    all.extend_from_slice(more.anchors());
    AnchorSet::from_anchors(all).map_err(|e| Refused(e.to_string()))
}

/// `signing_key_file`: the key pair loaded and checked now; a
/// world-readable private key is logged as a warning.
pub(super) fn load_signing_key(value: &str) -> Result<SigningKeyRef, Refused> {
    let path = value.trim();
    if path.is_empty() {
        return Err("empty: leave the option unset for no signing".into());
    }
    let loaded = load_bind_key(Path::new(path)).map_err(|e| Refused(e.to_string()))?;
    for w in &loaded.warnings {
        crate::log::log(crate::log::LogLevel::Warning, &w.to_string());
    }
    Ok(SigningKeyRef(Arc::new(loaded.key)))
}

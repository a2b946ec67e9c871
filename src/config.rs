//! Options (SPEC 2): names and defaults of the reference, settable by name
//! with config-file values, and their listing. OWNER: endpoint helper.

use std::net::IpAddr;
use std::time::Duration;

use crate::dns::settings::{self as dns_settings, Discovery, DnsSettings};
use crate::dns::tsig::Key;
use crate::error::{Error, Result};
use crate::props::{self, Properties};

/// The `[mdns]` options plus our per-attempt lookup timeout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// min 1, default 5
    pub registration_attempts: u32,
    /// min 1, default 3
    pub lookup_attempts: u32,
    /// extra TXT properties for every registration
    pub params: Properties,
    /// None: all interfaces, IPv4 and IPv6
    pub interfaces: Option<Vec<IpAddr>>,
    /// per-attempt lookup timeout, default 3 s
    pub lookup_timeout: Duration,
    /// unicast DNS-SD: `domain`, `dns_servers`, `tsig_key_file`,
    /// `tsig_key`, `discovery` (docs/DNS.md); default: none, mDNS only
    pub dns: DnsSettings,
}

/// One row of the options table: the listing (for a sample-config
/// generator) and how `Config::set` reads and checks the option's text.
/// A new option is one row.
#[derive(Clone, Copy, Debug)]
pub struct OptionInfo {
    pub group: &'static str,
    pub name: &'static str,
    /// oslo.config type name: "integer", "dict", "list", "floating point"
    pub type_name: &'static str,
    /// default as a config file would hold it ("" for none)
    pub default: &'static str,
    pub help: &'static str,
    /// Parse and check the config-file text, then store it; on error the
    /// config is unchanged and the text says why.
    pub apply: fn(&mut Config, &str) -> std::result::Result<(), String>,
}

impl Default for Config {
    /// The reference's defaults (SPEC 2) and a 3 s lookup timeout.
    fn default() -> Config {
        Config {
            registration_attempts: 5,
            lookup_attempts: 3,
            params: Properties::new(),
            interfaces: None,
            lookup_timeout: Duration::from_secs(3),
            dns: DnsSettings::default(),
        }
    }
}

/// The `[mdns]` group name.
pub const GROUP: &str = "mdns";

/// Most attempts of either kind: the doubling waits between 10 attempts
/// add up to 51.1 s, so no call blocks for long (the header's promise).
pub const MAX_ATTEMPTS: u32 = 10;
/// Shortest per-attempt lookup timeout: 1 ms.
pub const MIN_LOOKUP_TIMEOUT: Duration = Duration::from_millis(1);
/// Longest per-attempt lookup timeout: 60 s.
pub const MAX_LOOKUP_TIMEOUT: Duration = Duration::from_secs(60);

static OPTIONS: [OptionInfo; 10] = [
    OptionInfo {
        group: GROUP,
        name: "registration_attempts",
        type_name: "integer",
        default: "5",
        help: "Number of attempts to register a service. Currently has to be larger than 1 \
               because of race conditions in the zeroconf library.",
        apply: |c, v| {
            c.registration_attempts = parse_attempts(v)?;
            Ok(())
        },
    },
    OptionInfo {
        group: GROUP,
        name: "lookup_attempts",
        type_name: "integer",
        default: "3",
        help: "Number of attempts to lookup a service.",
        apply: |c, v| {
            c.lookup_attempts = parse_attempts(v)?;
            Ok(())
        },
    },
    OptionInfo {
        group: GROUP,
        name: "params",
        type_name: "dict",
        default: "",
        help: "Additional parameters to pass for the registered service.",
        apply: |c, v| {
            c.params = parse_dict(v)?;
            Ok(())
        },
    },
    OptionInfo {
        group: GROUP,
        name: "interfaces",
        type_name: "list",
        default: "",
        help: "List of IP addresses of interfaces to use for mDNS. Defaults to all interfaces \
               on the system.",
        apply: |c, v| {
            c.interfaces = parse_ip_list(v)?;
            Ok(())
        },
    },
    OptionInfo {
        group: GROUP,
        name: "lookup_timeout",
        type_name: "floating point",
        default: "3.0",
        help: "Time in seconds each attempt to lookup a service waits for an answer.",
        apply: |c, v| {
            c.lookup_timeout = parse_timeout(v)?;
            Ok(())
        },
    },
    // Unicast DNS-SD (src/dns, docs/DNS.md).
    OptionInfo {
        group: GROUP,
        name: "domain",
        type_name: "string",
        default: "",
        help: "DNS-SD domain for unicast DNS service discovery (e.g. mystack.example.com): \
               services are then looked up and registered as \
               <type>._openstack._tcp.<domain> through the DNS servers. Empty: mDNS only.",
        apply: |c, v| {
            c.dns.domain = dns_settings::parse_domain(v)?;
            Ok(())
        },
    },
    OptionInfo {
        group: GROUP,
        name: "dns_servers",
        type_name: "list",
        default: "",
        help: "DNS servers for unicast DNS-SD, as IP or IP:port ([IPv6]:port). Defaults to \
               the nameservers of /etc/resolv.conf.",
        apply: |c, v| {
            c.dns.dns_servers = dns_settings::parse_servers(v)?;
            Ok(())
        },
    },
    OptionInfo {
        group: GROUP,
        name: "tsig_key_file",
        type_name: "string",
        default: "",
        help: "File holding a TSIG key in BIND's format (key \"name\" { algorithm \
               hmac-sha256; secret \"...\"; };, as tsig-keygen prints): DNS queries and \
               updates are signed with it and answers must be signed with it.",
        apply: |c, v| {
            let path = v.trim();
            c.dns.tsig = if path.is_empty() {
                None
            } else {
                let mut warn = |m: &str| crate::log::log(crate::log::LogLevel::Warning, m);
                Some(dns_settings::read_key_file(path, &mut warn)?)
            };
            c.dns.tsig_key_file = path.to_owned();
            Ok(())
        },
    },
    OptionInfo {
        group: GROUP,
        name: "tsig_key",
        type_name: "string",
        default: "",
        help: "TSIG key as algorithm:name:base64secret (as dig -y takes), instead of \
               tsig_key_file.",
        apply: |c, v| {
            c.dns.tsig = if v.trim().is_empty() {
                None
            } else {
                Some(Key::from_line(v)?)
            };
            c.dns.tsig_key_file.clear();
            Ok(())
        },
    },
    OptionInfo {
        group: GROUP,
        name: "discovery",
        type_name: "string",
        default: "auto",
        help: "Where to discover and register services: mdns, dns, both, or auto (dns when \
               a domain is set, else mdns). With both, a lookup returns the DNS answer \
               and asks mDNS only when DNS finds nothing; an unauthenticated DNS answer is \
               an error, never replaced by an mDNS one.",
        apply: |c, v| {
            c.dns.discovery = Discovery::parse(v)?;
            Ok(())
        },
    },
];

/// Options whose value is a secret: never echoed in an error text.
const SECRET_OPTIONS: [&str; 1] = ["tsig_key"];

impl Config {
    /// Set an option by name from its config-file text, e.g.
    /// `set("params", "k1:v1,k2:'v,2'")`, `set("interfaces", "10.0.0.1,fd00::1")`.
    /// Parsing follows oslo.config's types (IntOpt, Dict of quoted String,
    /// ListOpt, FloatOpt), and the value is checked fully here, so that a
    /// value `set` accepts never fails a later call. On error nothing
    /// changes. The one validating entry point for options from text (C
    /// ABI, CLI flags, config files).
    pub fn set(&mut self, name: &str, value: &str) -> Result<()> {
        let opt = OPTIONS
            .iter()
            .find(|o| o.name == name)
            .ok_or_else(|| Error::InvalidArgument(format!("unknown option [{GROUP}] {name}")))?;
        let mut next = self.clone();
        (opt.apply)(&mut next, value).map_err(|why| {
            let shown = match SECRET_OPTIONS.contains(&name) {
                true => "(secret, not shown)".to_owned(),
                false => format!("{value:?}"),
            };
            Error::InvalidArgument(format!(
                "invalid value {shown} for option [{GROUP}] {name}: {why}"
            ))
        })?;
        *self = next;
        Ok(())
    }

    /// The options listing.
    pub fn options() -> &'static [OptionInfo] {
        &OPTIONS
    }

    /// Check a config built in Rust (its fields are public) against the
    /// same rules `set` applies to text.
    pub fn validate(&self) -> Result<()> {
        let bad = |name: &str, why: String| {
            Err(Error::InvalidArgument(format!(
                "invalid option [{GROUP}] {name}: {why}"
            )))
        };
        for (name, n) in [
            ("registration_attempts", self.registration_attempts),
            ("lookup_attempts", self.lookup_attempts),
        ] {
            if let Err(why) = check_attempts(n) {
                return bad(name, why);
            }
        }
        if let Err(why) = check_timeout(self.lookup_timeout) {
            return bad("lookup_timeout", why);
        }
        for (key, value) in self.params.iter() {
            if let Err(why) = props::check_pair(key, value.as_deref()) {
                return bad("params", why);
            }
        }
        if let Some(list) = &self.interfaces {
            if list.is_empty() {
                return bad("interfaces", "the list is empty".into());
            }
            for a in list {
                if let Err(why) = check_interface_address(a) {
                    return bad("interfaces", why);
                }
            }
        }
        if let Err((name, why)) = dns_settings::check(&self.dns) {
            return bad(name, why);
        }
        Ok(())
    }
}

/// At least 1 (oslo IntOpt min=1), at most [`MAX_ATTEMPTS`].
fn check_attempts(n: u32) -> std::result::Result<u32, String> {
    if n < 1 {
        return Err("should be greater than or equal to 1".into());
    }
    if n > MAX_ATTEMPTS {
        return Err(format!("should be less than or equal to {MAX_ATTEMPTS}"));
    }
    Ok(n)
}

/// An integer as Python's `int()` reads it (sign, digits, `_` between
/// digits, surrounding blanks), from 1 to [`MAX_ATTEMPTS`].
fn parse_attempts(value: &str) -> std::result::Result<u32, String> {
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
fn unquote(value: &str) -> std::result::Result<&str, String> {
    match value.chars().next() {
        Some(q @ ('"' | '\'')) => {
            if value.len() == 1 || !value.ends_with(q) {
                Err(format!("Non-closed quote: {value}"))
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
fn parse_dict(value: &str) -> std::result::Result<Properties, String> {
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
                None => Err("Value should be NAME:VALUE pairs separated by \",\"".to_owned()),
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
            return Err(format!("Duplicate key {key}"));
        }
        props::check_pair(&key, Some(val.as_bytes()))?;
        props.set_str(&key, &val);
    }
    Ok(props)
}

/// An address mDNS can run on: one an interface can hold, so not the
/// unspecified address, a multicast address or the IPv4 broadcast.
fn check_interface_address(a: &IpAddr) -> std::result::Result<(), String> {
    let why = match a.to_canonical() {
        ip if ip.is_unspecified() => "the unspecified address",
        ip if ip.is_multicast() => "a multicast address",
        IpAddr::V4(v4) if v4.is_broadcast() => "the broadcast address",
        _ => return Ok(()),
    };
    Err(format!("{a} is {why}, not an interface address"))
}

/// oslo.config `ListOpt` of IP addresses: comma-separated, blanks and a
/// trailing comma ignored. Empty: all interfaces. Each one must be an
/// address an interface can hold.
fn parse_ip_list(value: &str) -> std::result::Result<Option<Vec<IpAddr>>, String> {
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
fn check_timeout(d: Duration) -> std::result::Result<Duration, String> {
    if d < MIN_LOOKUP_TIMEOUT {
        return Err(format!(
            "should be at least {} s",
            MIN_LOOKUP_TIMEOUT.as_secs_f64()
        ));
    }
    if d > MAX_LOOKUP_TIMEOUT {
        return Err(format!(
            "should be at most {} s",
            MAX_LOOKUP_TIMEOUT.as_secs_f64()
        ));
    }
    Ok(d)
}

/// Seconds as a float, from [`MIN_LOOKUP_TIMEOUT`] to [`MAX_LOOKUP_TIMEOUT`].
fn parse_timeout(value: &str) -> std::result::Result<Duration, String> {
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

/// Wrap help text the way oslo-config-generator does (textwrap at 70
/// columns, `# ` prefix, long words kept whole).
fn wrap_comment(text: &str, out: &mut String) {
    const WIDTH: usize = 70;
    let mut line = String::from("#");
    for word in text.split_whitespace() {
        if line.len() > 1 && line.len() + 1 + word.len() > WIDTH {
            out.push_str(&line);
            out.push('\n');
            line = String::from("#");
        }
        line.push(' ');
        line.push_str(word);
    }
    out.push_str(&line);
    out.push('\n');
}

/// A sample `[mdns]` section with help text, as oslo-config-generator prints.
pub fn sample_config() -> String {
    let mut out = format!("[{GROUP}]\n\n#\n# From ironicmdns\n#\n");
    for opt in Config::options() {
        out.push('\n');
        wrap_comment(&format!("{} ({} value)", opt.help, opt.type_name), &mut out);
        if opt.type_name == "integer" {
            out.push_str("# Minimum value: 1\n");
        }
        // A list without default shows as <None>, an empty dict as nothing.
        let default = match (opt.default, opt.type_name) {
            ("", "list") => " <None>".to_owned(),
            ("", _) => String::new(),
            (d, _) => format!(" {d}"),
        };
        out.push_str(&format!("#{} ={default}\n", opt.name));
    }
    out
}

#[cfg(test)]
#[allow(clippy::type_complexity)] // tables of rows
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Properties {
        let mut p = Properties::new();
        for (k, v) in pairs {
            p.set_str(k, v);
        }
        p
    }

    #[test]
    fn defaults_are_the_references() {
        let c = Config::default();
        assert_eq!(c.registration_attempts, 5);
        assert_eq!(c.lookup_attempts, 3);
        assert!(c.params.is_empty());
        assert_eq!(c.interfaces, None);
        assert_eq!(c.lookup_timeout, Duration::from_secs(3));
    }

    #[test]
    fn integer_options() {
        // (text, expected) for registration_attempts and lookup_attempts
        let rows: &[(&str, Option<u32>)] = &[
            ("1", Some(1)),
            ("7", Some(7)),
            (" 10 ", Some(10)),
            ("+4", Some(4)),
            ("1_0", Some(10)),
            ("0", None),
            // issue 8: an upper bound, so that no call blocks for days
            ("11", None),
            ("1_000", None),
            ("4294967296", None),
            ("-3", None),
            ("", None),
            ("two", None),
            ("1.5", None),
            ("_1", None),
            ("99999999999", None),
        ];
        for name in ["registration_attempts", "lookup_attempts"] {
            for (text, want) in rows {
                let mut c = Config::default();
                let got = c.set(name, text);
                match want {
                    Some(n) => {
                        assert_eq!(got, Ok(()), "{name}={text:?}");
                        let v = if name == "lookup_attempts" {
                            c.lookup_attempts
                        } else {
                            c.registration_attempts
                        };
                        assert_eq!(v, *n, "{name}={text:?}");
                    }
                    None => {
                        let e = got.expect_err(text);
                        assert!(
                            matches!(&e, Error::InvalidArgument(m) if m.contains(name)),
                            "{e}"
                        );
                        assert_eq!(c, Config::default(), "unchanged after {text:?}");
                    }
                }
            }
        }
    }

    /// "k:" and 300 bytes of value: 302 bytes as a TXT string.
    const LONG_VALUE: &str = concat!(
        "k:",
        "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv",
        "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv",
        "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv"
    );

    #[test]
    fn params_option_like_oslo_dict() {
        let rows: &[(&str, Result<Properties, ()>)] = &[
            ("", Ok(params(&[]))),
            ("  ", Ok(params(&[]))),
            (
                "answer:none,foo:bar",
                Ok(params(&[("answer", "none"), ("foo", "bar")])),
            ),
            (
                " k1 : v1 , k2:v2 ",
                Ok(params(&[("k1", "v1"), ("k2", "v2")])),
            ),
            ("k1:v1,k2:'v,2'", Ok(params(&[("k1", "v1"), ("k2", "v,2")]))),
            ("k:\"a,b,c\"", Ok(params(&[("k", "a,b,c")]))),
            ("k:", Ok(params(&[("k", "")]))),
            ("k:''", Ok(params(&[("k", "")]))),
            ("url:http://x:80/", Ok(params(&[("url", "http://x:80/")]))),
            // a piece without ':' is joined to the next one
            ("a,b:c", Ok(params(&[("a,b", "c")]))),
            ("k:'open", Err(())),
            ("k:'", Err(())),
            ("novalue", Err(())),
            (":v", Err(())),
            ("k:1,k:2", Err(())),
            // issue 8 / RFC 6763 s6.4: refused when set, not at registration
            ("a=b:1", Err(())),
            ("K:1,k:2", Err(())),
            ("caf\u{e9}:1", Err(())),
            ("tab\there:1", Err(())),
            // RFC 6763 s6.1: key=value in one TXT string of 255 bytes
            (LONG_VALUE, Err(())),
        ];
        for (text, want) in rows {
            let mut c = Config::default();
            match (c.set("params", text), want) {
                (Ok(()), Ok(p)) => assert_eq!(&c.params, p, "{text:?}"),
                (Err(Error::InvalidArgument(m)), Err(())) => assert!(m.contains("params"), "{m}"),
                (got, _) => panic!("{text:?}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn interfaces_option_is_a_list_of_ip_addresses() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let rows: &[(&str, Result<Option<Vec<IpAddr>>, ()>)] = &[
            ("", Ok(None)),
            (
                "10.0.0.1,192.168.1.1",
                Ok(Some(vec![ip("10.0.0.1"), ip("192.168.1.1")])),
            ),
            (
                " 198.18.0.1 , fd00:99::1 ,",
                Ok(Some(vec![ip("198.18.0.1"), ip("fd00:99::1")])),
            ),
            ("eth0", Err(())),
            ("10.0.0.1,,10.0.0.2", Err(())),
            ("10.0.0.256", Err(())),
            // issue 8: addresses no interface can hold
            ("0.0.0.0", Err(())),
            ("::", Err(())),
            ("224.0.0.251", Err(())),
            ("198.18.0.1,ff02::fb", Err(())),
            ("255.255.255.255", Err(())),
            ("::ffff:0.0.0.0", Err(())),
        ];
        for (text, want) in rows {
            let mut c = Config::default();
            match (c.set("interfaces", text), want) {
                (Ok(()), Ok(v)) => assert_eq!(&c.interfaces, v, "{text:?}"),
                (Err(Error::InvalidArgument(m)), Err(())) => {
                    assert!(m.contains("interfaces"), "{m}")
                }
                (got, _) => panic!("{text:?}: got {got:?}"),
            }
        }
    }

    #[test]
    fn lookup_timeout_option() {
        let rows: &[(&str, Option<Duration>)] = &[
            ("3", Some(Duration::from_secs(3))),
            ("0.5", Some(Duration::from_millis(500))),
            (" 10.25 ", Some(Duration::from_millis(10250))),
            ("0", None),
            ("-1", None),
            ("nan", None),
            ("inf", None),
            ("1e30", None),
            ("soon", None),
            // issue 8: checked fully when set, not first by Zeroconf::new
            ("1e-10", None),
            ("0.0009", None),
            ("0.001", Some(Duration::from_millis(1))),
            ("60", Some(Duration::from_secs(60))),
            ("60.001", None),
            ("86400", None),
        ];
        for (text, want) in rows {
            let mut c = Config::default();
            match (c.set("lookup_timeout", text), want) {
                (Ok(()), Some(d)) => assert_eq!(c.lookup_timeout, *d, "{text:?}"),
                (Err(Error::InvalidArgument(m)), None) => {
                    assert!(m.contains("lookup_timeout"), "{m}")
                }
                (got, _) => panic!("{text:?}: got {got:?}"),
            }
        }
    }

    #[test]
    fn validate_applies_the_rules_of_set_to_fields() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let mut bad_key = Properties::new();
        bad_key.set_str("a=b", "1");
        let rows: Vec<(Config, Option<&str>)> = vec![
            (Config::default(), None),
            (
                Config {
                    registration_attempts: 0,
                    ..Config::default()
                },
                Some("registration_attempts"),
            ),
            (
                Config {
                    lookup_attempts: MAX_ATTEMPTS + 1,
                    ..Config::default()
                },
                Some("lookup_attempts"),
            ),
            (
                Config {
                    lookup_timeout: Duration::from_nanos(100),
                    ..Config::default()
                },
                Some("lookup_timeout"),
            ),
            (
                Config {
                    params: bad_key,
                    ..Config::default()
                },
                Some("params"),
            ),
            (
                Config {
                    interfaces: Some(vec![ip("198.18.0.1"), ip("::")]),
                    ..Config::default()
                },
                Some("interfaces"),
            ),
            (
                Config {
                    interfaces: Some(vec![]),
                    ..Config::default()
                },
                Some("interfaces"),
            ),
        ];
        for (c, want) in rows {
            match (c.validate(), want) {
                (Ok(()), None) => {}
                (Err(Error::InvalidArgument(m)), Some(name)) => assert!(m.contains(name), "{m}"),
                (got, _) => panic!("{c:?}: {got:?}"),
            }
        }
    }

    #[test]
    fn unicast_dns_options() {
        use crate::dns::Discovery;
        let mut c = Config::default();
        c.set("domain", "mystack.example.test.").unwrap();
        c.set("dns_servers", "198.18.0.1,[fd00:99::1]:5353")
            .unwrap();
        c.set("discovery", "both").unwrap();
        assert_eq!(c.dns.domain, "mystack.example.test");
        assert_eq!(c.dns.dns_servers.len(), 2);
        assert_eq!(c.dns.discovery, Discovery::Both);
        // (option, bad value)
        for (name, bad) in [
            ("domain", "a..b"),
            ("dns_servers", "ns1.example.test"),
            ("discovery", "anycast"),
            ("tsig_key_file", "/nonexistent/key"),
        ] {
            let before = c.clone();
            let e = c.set(name, bad).unwrap_err();
            assert!(
                matches!(&e, Error::InvalidArgument(m) if m.contains(name)),
                "{e}"
            );
            assert_eq!(c, before, "{name} unchanged after {bad:?}");
        }
        // the secret never in an error text, nor in Debug output
        let secret = "c2VjcmV0c2VjcmV0c2VjcmV0";
        c.set(
            "tsig_key",
            &format!("hmac-sha256:upd.example.test:{secret}"),
        )
        .unwrap();
        assert!(c.dns.tsig.is_some());
        assert!(!format!("{c:?}").contains(secret));
        for bad in [
            format!("hmac-md5:k:{secret}"),
            format!("hmac-sha256:k:{secret}!"),
        ] {
            let e = c.set("tsig_key", &bad).unwrap_err().to_string();
            assert!(e.contains("tsig_key") && !e.contains(secret), "{e}");
        }
        c.set("tsig_key", "").unwrap();
        assert!(c.dns.tsig.is_none());
    }

    #[test]
    fn unknown_option_is_named() {
        let mut c = Config::default();
        let e = c.set("registration_attempt", "5").unwrap_err();
        assert!(
            matches!(&e, Error::InvalidArgument(m) if m.contains("registration_attempt")),
            "{e}"
        );
    }

    #[test]
    fn listing_describes_the_reference_options() {
        let opts = Config::options();
        let names: Vec<&str> = opts.iter().map(|o| o.name).collect();
        assert_eq!(
            names,
            [
                "registration_attempts",
                "lookup_attempts",
                "params",
                "interfaces",
                "lookup_timeout",
                "domain",
                "dns_servers",
                "tsig_key_file",
                "tsig_key",
                "discovery"
            ]
        );
        assert!(opts.iter().all(|o| o.group == "mdns" && !o.help.is_empty()));
        let types: Vec<(&str, &str)> = opts.iter().map(|o| (o.type_name, o.default)).collect();
        assert_eq!(
            types,
            [
                ("integer", "5"),
                ("integer", "3"),
                ("dict", ""),
                ("list", ""),
                ("floating point", "3.0"),
                ("string", ""),
                ("list", ""),
                ("string", ""),
                ("string", ""),
                ("string", "auto")
            ]
        );
        assert_eq!(opts[1].help, "Number of attempts to lookup a service.");
        // Every listed default is accepted by `set` and gives Config::default().
        let mut c = Config::default();
        for o in opts {
            c.set(o.name, o.default).unwrap();
        }
        assert_eq!(c, Config::default());
    }

    /// What `oslo-config-generator --namespace ironic_lib.mdns` prints for
    /// the reference (ironic-lib 7.0.0), namespace line aside.
    const REFERENCE_SAMPLE: &str = "\
[mdns]

#
# From ironicmdns
#

# Number of attempts to register a service. Currently has to be larger
# than 1 because of race conditions in the zeroconf library. (integer
# value)
# Minimum value: 1
#registration_attempts = 5

# Number of attempts to lookup a service. (integer value)
# Minimum value: 1
#lookup_attempts = 3

# Additional parameters to pass for the registered service. (dict
# value)
#params =

# List of IP addresses of interfaces to use for mDNS. Defaults to all
# interfaces on the system. (list value)
#interfaces = <None>
";

    #[test]
    fn sample_config_matches_oslo_config_generator() {
        let sample = sample_config();
        assert!(sample.starts_with(REFERENCE_SAMPLE), "{sample}");
        let extra = &sample[REFERENCE_SAMPLE.len()..];
        assert!(extra.contains("\n#lookup_timeout = 3.0\n"), "{extra}");
        assert!(sample.lines().all(|l| l.len() <= 70), "{sample}");
    }
}

//! Options (SPEC 2): names and defaults of the reference, settable by name
//! with config-file values, and their listing. OWNER: endpoint helper.

use std::net::IpAddr;
use std::time::Duration;

use crate::dns::settings::{self as dns_settings, Discovery, DnsSettings};
use crate::dns::tsig::Key;
use crate::endpoint::Properties;
use crate::error::{Error, Result};

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

/// One entry of the options listing (for a sample-config generator).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OptionInfo {
    pub group: &'static str,
    pub name: &'static str,
    /// oslo.config type name: "integer", "dict", "list", "floating point"
    pub type_name: &'static str,
    /// default as a config file would hold it ("" for none)
    pub default: &'static str,
    pub help: &'static str,
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

static OPTIONS: [OptionInfo; 10] = [
    OptionInfo {
        group: GROUP,
        name: "registration_attempts",
        type_name: "integer",
        default: "5",
        help: "Number of attempts to register a service. Currently has to be larger than 1 \
               because of race conditions in the zeroconf library.",
    },
    OptionInfo {
        group: GROUP,
        name: "lookup_attempts",
        type_name: "integer",
        default: "3",
        help: "Number of attempts to lookup a service.",
    },
    OptionInfo {
        group: GROUP,
        name: "params",
        type_name: "dict",
        default: "",
        help: "Additional parameters to pass for the registered service.",
    },
    OptionInfo {
        group: GROUP,
        name: "interfaces",
        type_name: "list",
        default: "",
        help: "List of IP addresses of interfaces to use for mDNS. Defaults to all interfaces \
               on the system.",
    },
    OptionInfo {
        group: GROUP,
        name: "lookup_timeout",
        type_name: "floating point",
        default: "3.0",
        help: "Time in seconds each attempt to lookup a service waits for an answer.",
    },
    OptionInfo {
        group: GROUP,
        name: "domain",
        type_name: "string",
        default: "",
        help: "DNS-SD domain for unicast DNS service discovery (e.g. mystack.example.com): \
               services are then looked up and registered as \
               <type>._openstack._tcp.<domain> through the DNS servers. Empty: mDNS only.",
    },
    OptionInfo {
        group: GROUP,
        name: "dns_servers",
        type_name: "list",
        default: "",
        help: "DNS servers for unicast DNS-SD, as IP or IP:port ([IPv6]:port). Defaults to \
               the nameservers of /etc/resolv.conf.",
    },
    OptionInfo {
        group: GROUP,
        name: "tsig_key_file",
        type_name: "string",
        default: "",
        help: "File holding a TSIG key in BIND's format (key \"name\" { algorithm \
               hmac-sha256; secret \"...\"; };, as tsig-keygen prints): DNS queries and \
               updates are signed with it and answers must be signed with it.",
    },
    OptionInfo {
        group: GROUP,
        name: "tsig_key",
        type_name: "string",
        default: "",
        help: "TSIG key as algorithm:name:base64secret (as dig -y takes), instead of \
               tsig_key_file.",
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
    },
];

impl Config {
    /// Set an option by name from its config-file text, e.g.
    /// `set("params", "k1:v1,k2:'v,2'")`, `set("interfaces", "10.0.0.1,fd00::1")`.
    /// Parsing follows oslo.config's types (IntOpt, Dict of quoted String,
    /// ListOpt, FloatOpt). On error nothing changes.
    pub fn set(&mut self, name: &str, value: &str) -> Result<()> {
        let bad = |why: String| {
            Error::InvalidArgument(format!(
                "invalid value {value:?} for option [{GROUP}] {name}: {why}"
            ))
        };
        match name {
            "registration_attempts" => {
                self.registration_attempts = parse_attempts(value).map_err(bad)?
            }
            "lookup_attempts" => self.lookup_attempts = parse_attempts(value).map_err(bad)?,
            "params" => self.params = parse_dict(value).map_err(bad)?,
            "interfaces" => self.interfaces = parse_ip_list(value).map_err(bad)?,
            "lookup_timeout" => self.lookup_timeout = parse_timeout(value).map_err(bad)?,
            "domain" => self.dns.domain = dns_settings::parse_domain(value).map_err(bad)?,
            "dns_servers" => {
                self.dns.dns_servers = dns_settings::parse_servers(value).map_err(bad)?
            }
            "discovery" => self.dns.discovery = Discovery::parse(value).map_err(bad)?,
            "tsig_key_file" => {
                let path = value.trim();
                self.dns.tsig = if path.is_empty() {
                    None
                } else {
                    let mut warn =
                        |m: &str| crate::zeroconf::log(crate::zeroconf::LogLevel::Warning, m);
                    Some(dns_settings::read_key_file(path, &mut warn).map_err(bad)?)
                };
                self.dns.tsig_key_file = path.to_owned();
            }
            // The value is a secret: never in the error text.
            "tsig_key" => {
                self.dns.tsig = if value.trim().is_empty() {
                    None
                } else {
                    Some(Key::from_line(value).map_err(|why| {
                        Error::InvalidArgument(format!(
                            "invalid value for option [{GROUP}] tsig_key: {why}"
                        ))
                    })?)
                };
                self.dns.tsig_key_file.clear();
            }
            _ => {
                return Err(Error::InvalidArgument(format!(
                    "unknown option [{GROUP}] {name}"
                )))
            }
        }
        Ok(())
    }
    /// The options listing.
    pub fn options() -> &'static [OptionInfo] {
        &OPTIONS
    }
}

/// An integer as Python's `int()` reads it (sign, digits, `_` between
/// digits, surrounding blanks), at least 1 (oslo IntOpt min=1).
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
    clean
        .parse::<u32>()
        .map_err(|_| format!("should be less than or equal to {}", u32::MAX))
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
/// not empty and not repeated.
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
        props.set_str(&key, &val);
    }
    Ok(props)
}

/// oslo.config `ListOpt` of IP addresses: comma-separated, blanks and a
/// trailing comma ignored. Empty: all interfaces.
fn parse_ip_list(value: &str) -> std::result::Result<Option<Vec<IpAddr>>, String> {
    let s = value.trim().trim_end_matches(',');
    if s.is_empty() {
        return Ok(None);
    }
    s.split(',')
        .map(|item| {
            let item = item.trim();
            item.parse::<IpAddr>()
                .map_err(|_| format!("{item:?} is not an IP address"))
        })
        .collect::<std::result::Result<Vec<_>, _>>()
        .map(Some)
}

/// Seconds as a float, finite and above 0.
fn parse_timeout(value: &str) -> std::result::Result<Duration, String> {
    let secs: f64 = value
        .trim()
        .parse()
        .map_err(|_| "not a number".to_owned())?;
    if secs.is_nan() || secs <= 0.0 {
        return Err("should be greater than 0".into());
    }
    Duration::try_from_secs_f64(secs).map_err(|_| "too large".into())
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
            ("1_000", Some(1000)),
            ("0", None),
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

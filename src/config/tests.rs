//! The options table, its value rules and the sample, row by row.

#![allow(clippy::type_complexity)] // tables of rows

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
        // an upper bound, so that no call blocks for days
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
        // RFC 6763 s6.4: refused when set, not at registration
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
        // addresses no interface can hold
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
        // checked fully when set, not first by Zeroconf::new
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
    // An empty value never drops a configured key (an uncommented sample
    // line beside the other option): refused, the key kept; with no key
    // configured it is the default, no key.
    let with_key = c.clone();
    for name in ["tsig_key", "tsig_key_file"] {
        let e = c.set(name, "").unwrap_err().to_string();
        assert!(e.contains(name) && e.contains("empty"), "{e}");
        assert_eq!(c, with_key, "{name} = \"\" kept the key");
    }
    let mut plain = Config::default();
    plain.set("tsig_key", "").unwrap();
    plain.set("tsig_key_file", " ").unwrap();
    assert!(plain.dns.tsig.is_none());
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
            "discovery",
            "trust_anchor",
            "trust_clock_skew",
            "signing_key_file"
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
            ("string", "auto"),
            ("multi valued", ""),
            ("integer", "3600"),
            ("string", "")
        ]
    );
    assert_eq!(opts[1].help, "Number of attempts to lookup a service.");
    // Every listed default is accepted by `set` and gives Config::default(),
    // but for the options whose unset state is "off" and which refuse an
    // empty value rather than take it for "off".
    let unset_only = ["trust_anchor", "signing_key_file"];
    let mut c = Config::default();
    for o in opts {
        match unset_only.contains(&o.name) {
            true => assert!(c.set(o.name, o.default).is_err(), "{}", o.name),
            false => c.set(o.name, o.default).unwrap(),
        }
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

// ---- DNSSEC options (docs/TRUST.md)

/// RFC 8080 s6.1's Ed25519 key (example.com.), as dnssec-keygen writes it.
const ED_PRIVATE: &str = "Private-key-format: v1.2\nAlgorithm: 15 (ED25519)\n\
                          PrivateKey: ODIyNjAzODQ2MjgwODAxMjI2NDUxOTAyMDQxNDIyNjI=\n";
const ED_KEY: &str = "example.com. 3600 IN DNSKEY 257 3 15 \
                      l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4=\n";
/// The DS of that key (RFC 8080 s6.1), compact form.
const ED_DS: &str = "3613:15:2:3aa5ab37efce57f737fc1627013fee07bdf241bd10f3b1964ab55c78e79a304b";

#[test]
fn trust_anchor_adds_and_refuses_empty() {
    let mut c = Config::default();
    assert!(c.trust.is_none(), "validation is off by default");
    for bad in ["", "  ", "3613:15:2:zz", "not a record"] {
        let e = c.set("trust_anchor", bad).unwrap_err().to_string();
        assert!(e.contains("trust_anchor"), "{bad:?}: {e}");
        assert!(c.trust.is_none(), "{bad:?} changed the config");
    }
    c.set("trust_anchor", ED_DS).unwrap();
    assert_eq!(c.trust.as_ref().unwrap().anchors.anchors().len(), 1);
    c.set("trust_anchor", ED_KEY).unwrap();
    assert_eq!(
        c.trust.as_ref().unwrap().anchors.anchors().len(),
        2,
        "a second value adds"
    );
    assert_eq!(
        c.trust.as_ref().unwrap().clock_skew,
        Duration::from_secs(3600)
    );
    c.validate().unwrap();
}

#[test]
fn trust_clock_skew_reaches_the_policy_in_either_order() {
    let mut before = Config::default();
    before.set("trust_clock_skew", "120").unwrap();
    before.set("trust_anchor", ED_DS).unwrap();
    let mut after = Config::default();
    after.set("trust_anchor", ED_DS).unwrap();
    after.set("trust_clock_skew", "120").unwrap();
    for c in [before, after] {
        assert_eq!(c.trust.unwrap().clock_skew, Duration::from_secs(120));
    }
    let mut c = Config::default();
    c.set("trust_clock_skew", "0").unwrap();
    for bad in ["-1", "1.5", "2592001", "x", ""] {
        assert!(c.set("trust_clock_skew", bad).is_err(), "{bad:?}");
    }
    assert_eq!(c.trust_clock_skew, Duration::ZERO);
}

#[test]
fn signing_key_file_loads_the_pair_or_says_why() {
    let dir = std::env::temp_dir().join(format!("ironicmdns-cfg-key-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let stem = dir.join("Kexample.com.+015+03613");
    std::fs::write(stem.with_extension("private"), ED_PRIVATE).unwrap();
    std::fs::write(stem.with_extension("key"), ED_KEY).unwrap();
    let mut c = Config::default();
    for bad in ["", "/nonexistent/Klocal.+015+00001.private"] {
        let e = c.set("signing_key_file", bad).unwrap_err().to_string();
        assert!(e.contains("signing_key_file"), "{e}");
    }
    assert!(c.signing_key.is_none());
    let private = stem.with_extension("private");
    c.set("signing_key_file", private.to_str().unwrap())
        .unwrap();
    let key = c.signing_key.as_ref().unwrap();
    assert_eq!(key.key_tag(), 3613);
    assert!(
        !format!("{c:?}").contains("ODIyNjAz"),
        "the private key is never printed"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

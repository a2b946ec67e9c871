//! The unicast DNS options and their parsing (the rows live in
//! `config.rs`'s table; the rules live here).

use crate::error::Refused;
use std::net::{IpAddr, SocketAddr};
use std::os::unix::fs::PermissionsExt;

use super::tsig::Key;

/// Which protocols lookups and registrations use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Discovery {
    /// `auto` (default): unicast DNS when `domain` is set, else mDNS.
    #[default]
    Auto,
    /// mDNS only (a `domain` is then ignored).
    Mdns,
    /// Unicast DNS only: no multicast socket is opened.
    Dns,
    /// Both. Registration publishes over both (either failing fails the
    /// call). Lookup asks DNS first and returns its answer; only when DNS
    /// finds nothing (NXDOMAIN, NODATA, no answer, a server error) is mDNS
    /// asked. A DNS answer refused as forged or badly signed
    /// (`Error::Auth`) is returned at once, never papered over by an
    /// unauthenticated multicast answer. Browse lists both, DNS first, a
    /// service type found over both shown once (the DNS one).
    Both,
}

impl Discovery {
    pub fn parse(s: &str) -> Result<Discovery, Refused> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "auto" => Ok(Discovery::Auto),
            "mdns" => Ok(Discovery::Mdns),
            "dns" => Ok(Discovery::Dns),
            "both" => Ok(Discovery::Both),
            _ => Err("expected auto, mdns, dns or both".into()),
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Discovery::Auto => "auto",
            Discovery::Mdns => "mdns",
            Discovery::Dns => "dns",
            Discovery::Both => "both",
        }
    }
    /// Whether DNS is used with these settings.
    pub fn uses_dns(self, s: &DnsSettings) -> bool {
        match self {
            Discovery::Auto => !s.domain.is_empty(),
            Discovery::Mdns => false,
            Discovery::Dns | Discovery::Both => true,
        }
    }
    /// Whether mDNS is used with these settings.
    pub fn uses_mdns(self, s: &DnsSettings) -> bool {
        match self {
            Discovery::Auto => s.domain.is_empty(),
            Discovery::Mdns | Discovery::Both => true,
            Discovery::Dns => false,
        }
    }
}

/// The unicast DNS options of a `Config`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DnsSettings {
    /// The DNS-SD domain as given (no trailing dot needed); empty: none.
    pub domain: String,
    /// Empty: the nameservers of /etc/resolv.conf.
    pub dns_servers: Vec<SocketAddr>,
    /// The key file named by `tsig_key_file`, as given (for listings).
    pub tsig_key_file: String,
    /// The key, from `tsig_key_file` or `tsig_key` (the last one set).
    pub tsig: Option<Key>,
    pub discovery: Discovery,
}

/// `name.` lowercase.
pub fn absolute(domain: &str) -> String {
    format!(
        "{}.",
        domain.trim().trim_end_matches('.').to_ascii_lowercase()
    )
}

/// A DNS-SD domain: empty, or dotted labels of 1-63 bytes, at most 253
/// bytes in all, printable ASCII without blanks.
pub fn parse_domain(value: &str) -> Result<String, Refused> {
    let d = value.trim().trim_end_matches('.');
    if d.is_empty() {
        return Ok(String::new());
    }
    if d.len() > 253 {
        return Err("longer than 253 bytes".into());
    }
    for label in d.split('.') {
        if label.is_empty() || label.len() > 63 {
            return Err(Refused::from(format!(
                "label {label:?} must be 1 to 63 bytes"
            )));
        }
        if !label.bytes().all(|b| b.is_ascii_graphic() && b != b'\\') {
            return Err(Refused::from(format!(
                "label {label:?} holds a character DNS names here cannot"
            )));
        }
    }
    Ok(d.to_owned())
}

/// One server: `IP`, `IP:port`, `[IPv6]:port`; port 53 when none.
pub fn parse_server(item: &str) -> Result<SocketAddr, Refused> {
    let item = item.trim();
    let sa = match item.parse::<IpAddr>() {
        Ok(ip) => SocketAddr::new(ip, 53),
        Err(_) => item
            .parse::<SocketAddr>()
            .map_err(|_| format!("{item:?} is not an IP address with an optional port"))?,
    };
    check_server(&sa)?;
    Ok(sa)
}

/// A server we can send to: a port, a unicast address.
fn check_server(sa: &SocketAddr) -> Result<(), Refused> {
    if sa.port() == 0 {
        return Err(Refused::from(format!("{sa}: port 0")));
    }
    let ip = sa.ip();
    if ip.is_unspecified() || ip.is_multicast() || ip == IpAddr::from([255, 255, 255, 255]) {
        return Err(Refused::from(format!("{ip} is not a unicast address")));
    }
    Ok(())
}

/// The settings of a `Config` built in Rust (public fields), checked by
/// the same rules as the text: (option name, why) on the first problem.
pub fn check(s: &DnsSettings) -> Result<(), (&'static str, String)> {
    match parse_domain(&s.domain) {
        Ok(d) if d == s.domain.trim().trim_end_matches('.') => {}
        Ok(_) => return Err(("domain", "surrounding blanks".into())),
        Err(why) => return Err(("domain", why.to_string())),
    }
    for sa in &s.dns_servers {
        check_server(sa).map_err(|why| ("dns_servers", why.to_string()))?;
    }
    Ok(())
}

/// A comma-separated list of servers (blanks and a trailing comma ignored).
pub fn parse_servers(value: &str) -> Result<Vec<SocketAddr>, Refused> {
    let s = value.trim().trim_end_matches(',');
    if s.is_empty() {
        return Ok(Vec::new());
    }
    s.split(',').map(parse_server).collect()
}

/// The `nameserver` lines of a resolv.conf, port 53 (resolv.conf(5)); a
/// link-local IPv6 server with a zone is skipped (no scope to bind).
pub fn resolv_conf_servers(text: &str) -> Vec<SocketAddr> {
    text.lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            (w.next() == Some("nameserver")).then(|| w.next()).flatten()
        })
        .filter_map(|a| a.parse::<IpAddr>().ok())
        .map(|ip| SocketAddr::new(ip, 53))
        .collect()
}

/// Read and parse a BIND key file. A file that others than its owner may
/// read gets a warning through `warn` (the secret is then not secret).
/// Error texts name the file, never the secret.
pub fn read_key_file(path: &str, warn: &mut dyn FnMut(&str)) -> Result<Key, Refused> {
    let meta = std::fs::metadata(path).map_err(|e| Refused(format!("cannot read {path}: {e}")))?;
    let mode = meta.permissions().mode();
    if mode & 0o077 != 0 {
        warn(&format!(
            "TSIG key file {path} is readable or writable by others than its owner \
             (mode {:04o}); chmod 600 it",
            mode & 0o7777
        ));
    }
    let text =
        std::fs::read_to_string(path).map_err(|e| Refused(format!("cannot read {path}: {e}")))?;
    Key::from_bind_file(&text).map_err(|e| Refused(format!("{path}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_values_and_their_meaning() {
        let with = |d: &str| DnsSettings {
            domain: d.into(),
            ..DnsSettings::default()
        };
        // (value, domain, uses dns, uses mdns)
        let rows = [
            ("auto", "", false, true),
            ("", "example.test", true, false),
            ("mdns", "example.test", false, true),
            ("DNS", "example.test", true, false),
            ("both", "example.test", true, true),
            ("both", "", true, true),
        ];
        for (v, dom, dns, mdns) in rows {
            let d = Discovery::parse(v).unwrap();
            assert_eq!(d.uses_dns(&with(dom)), dns, "{v} {dom}");
            assert_eq!(d.uses_mdns(&with(dom)), mdns, "{v} {dom}");
        }
        assert!(Discovery::parse("multicast").is_err());
    }

    #[test]
    fn domains() {
        assert_eq!(parse_domain("").unwrap(), "");
        assert_eq!(
            parse_domain(" mystack.example.test. ").unwrap(),
            "mystack.example.test"
        );
        for bad in ["a..b", "a b", &"x".repeat(64), &"a.".repeat(130), "a\\b"] {
            assert!(parse_domain(bad).is_err(), "{bad:?}");
        }
        assert_eq!(absolute("Example.Test"), "example.test.");
    }

    #[test]
    fn servers() {
        let sa = |s: &str| s.parse::<SocketAddr>().unwrap();
        assert_eq!(
            parse_servers("198.18.0.1, [fd00:99::1]:5353,fd00:99::2,").unwrap(),
            vec![
                sa("198.18.0.1:53"),
                sa("[fd00:99::1]:5353"),
                sa("[fd00:99::2]:53")
            ]
        );
        assert_eq!(parse_servers("").unwrap(), vec![]);
        for bad in [
            "ns1.example",
            "198.18.0.1:99999",
            "1.2.3.4,,5.6.7.8",
            "198.18.0.1:0",
            "0.0.0.0",
            "224.0.0.251",
            "[ff02::fb]:53",
        ] {
            assert!(parse_servers(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn settings_built_in_rust_are_checked() {
        let mut s = DnsSettings::default();
        assert_eq!(check(&s), Ok(()));
        s.domain = "a..b".into();
        assert_eq!(check(&s).unwrap_err().0, "domain");
        s.domain = "example.test".into();
        s.dns_servers = vec!["198.18.0.1:0".parse().unwrap()];
        assert_eq!(check(&s).unwrap_err().0, "dns_servers");
        s.dns_servers = vec!["198.18.0.1:53".parse().unwrap()];
        assert_eq!(check(&s), Ok(()));
    }

    #[test]
    fn resolv_conf() {
        let text = "# comment\nsearch example.test\nnameserver 198.18.0.1\n\
                    nameserver fd00:99::1\nnameserver fe80::1%eth0\noptions ndots:1\n";
        assert_eq!(
            resolv_conf_servers(text),
            vec![
                "198.18.0.1:53".parse::<SocketAddr>().unwrap(),
                "[fd00:99::1]:53".parse().unwrap()
            ]
        );
    }

    #[test]
    fn key_file_permissions_warned_and_secret_kept_out_of_errors() {
        let dir = std::env::temp_dir().join(format!("ironicmdns-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("k.key");
        let p = path.to_str().unwrap();
        std::fs::write(
            &path,
            "key \"upd\" {\n\talgorithm hmac-sha256;\n\tsecret \"c2VjcmV0c2VjcmV0c2VjcmV0\";\n};\n",
        )
        .unwrap();
        let mut warnings = Vec::new();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let k = read_key_file(p, &mut |m| warnings.push(m.to_owned())).unwrap();
        assert_eq!(k.name(), "upd.");
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("0644") && warnings[0].contains(p));
        warnings.clear();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        read_key_file(p, &mut |m| warnings.push(m.to_owned())).unwrap();
        assert!(warnings.is_empty());
        // a bad secret: the error names the file, not the text
        std::fs::write(
            &path,
            "key upd { algorithm hmac-sha256; secret \"s3cr3t!!\"; };",
        )
        .unwrap();
        let e = read_key_file(p, &mut |_| {}).unwrap_err();
        assert!(e.contains(p) && !e.contains("s3cr3t"), "{e}");
        let e = read_key_file("/nonexistent/k.key", &mut |_| {}).unwrap_err();
        assert!(e.contains("/nonexistent/k.key"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

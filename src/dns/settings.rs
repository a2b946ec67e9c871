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

/// The largest key file we read: a BIND key block is about 100 bytes; a
/// file with several keys and comments stays far below this.
pub const KEY_FILE_MAX: u64 = 64 * 1024;

/// Why an empty value of `tsig_key` or `tsig_key_file` is refused while a
/// key is configured: it would turn signing off without a word (an
/// uncommented sample line `tsig_key =` beside a `tsig_key_file`).
const EMPTY_DROPS_KEY: &str = "the value is empty while a TSIG key is configured (by tsig_key or \
                               tsig_key_file); an empty value would drop that key and run DNS \
                               unsigned: leave the option out instead";

/// `tsig_key_file`: read the key from `path`. An empty value means "no
/// key" only while none is configured; otherwise it is refused.
pub fn apply_tsig_key_file(s: &mut DnsSettings, value: &str) -> Result<(), Refused> {
    let path = value.trim();
    if path.is_empty() {
        return match s.tsig {
            Some(_) => Err(EMPTY_DROPS_KEY.into()),
            None => Ok(()),
        };
    }
    let mut warn = |m: &str| crate::log::log(crate::log::LogLevel::Warning, m);
    s.tsig = Some(read_key_file(path, &mut warn)?);
    s.tsig_key_file = path.to_owned();
    Ok(())
}

/// `tsig_key`: the key as `algorithm:name:base64secret`. An empty value
/// means "no key" only while none is configured; otherwise it is refused.
pub fn apply_tsig_key(s: &mut DnsSettings, value: &str) -> Result<(), Refused> {
    if value.trim().is_empty() {
        return match s.tsig {
            Some(_) => Err(EMPTY_DROPS_KEY.into()),
            None => Ok(()),
        };
    }
    s.tsig = Some(Key::from_line(value)?);
    s.tsig_key_file.clear();
    Ok(())
}

/// Read and parse a BIND key file. A file that others than its owner may
/// read gets a warning through `warn` (the secret is then not secret).
/// Only a regular file of at most `KEY_FILE_MAX` bytes is read; it is
/// opened non-blocking, so a FIFO or a device never hangs the caller.
/// Error texts name the file, never the secret.
pub fn read_key_file(path: &str, warn: &mut dyn FnMut(&str)) -> Result<Key, Refused> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let cannot = |e: std::io::Error| Refused(format!("cannot read {path}: {e}"));
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(cannot)?;
    let meta = file.metadata().map_err(cannot)?;
    if !meta.file_type().is_file() {
        return Err(Refused(format!(
            "cannot read {path}: not a regular file (a key file must be one)"
        )));
    }
    if meta.len() > KEY_FILE_MAX {
        return Err(Refused(format!(
            "{path} holds {} bytes, more than a key file's {KEY_FILE_MAX}",
            meta.len()
        )));
    }
    let mode = meta.permissions().mode();
    if mode & 0o077 != 0 {
        warn(&format!(
            "TSIG key file {path} is readable or writable by others than its owner \
             (mode {:04o}); chmod 600 it",
            mode & 0o7777
        ));
    }
    // The size may change after the check: never read more than the limit.
    let mut bytes = Vec::new();
    file.take(KEY_FILE_MAX + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() as u64 > KEY_FILE_MAX {
        return Err(Refused(format!(
            "{path} holds more than a key file's {KEY_FILE_MAX} bytes"
        )));
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| Refused(format!("cannot read {path}: not UTF-8 text")))?;
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

    fn scratch(tag: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("ironicmdns-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    const KEY_TEXT: &str =
        "key \"upd\" {\n\talgorithm hmac-sha256;\n\tsecret \"c2VjcmV0c2VjcmV0c2VjcmV0\";\n};\n";

    /// An empty `tsig_key` or `tsig_key_file` (an uncommented sample line)
    /// never drops the key the other one configured, in a config file as
    /// through `set`; it is refused, naming the option.
    #[test]
    fn an_empty_key_option_never_drops_a_configured_key() {
        let dir = scratch("emptykey");
        let key = dir.join("k.key");
        std::fs::write(&key, KEY_TEXT).unwrap();
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
        let line = "hmac-sha256:upd:c2VjcmV0c2VjcmV0c2VjcmV0";
        // (config file text, the option named in the error)
        let rows = [
            (
                format!("[mdns]\ntsig_key_file = {}\ntsig_key =\n", key.display()),
                "tsig_key",
            ),
            (
                format!("[mdns]\ntsig_key = {line}\ntsig_key_file =\n"),
                "tsig_key_file",
            ),
        ];
        for (text, name) in rows {
            let conf = dir.join("x.conf");
            std::fs::write(&conf, &text).unwrap();
            let mut c = crate::Config::default();
            let e = crate::config_file::load_path(&mut c, &conf).unwrap_err();
            let m = e.to_string();
            assert!(
                m.contains(&format!("] {name}:")) && m.contains("empty") && m.contains("line 3"),
                "{text}: {m}"
            );
            assert!(!m.contains("c2VjcmV0"), "{m}");
            assert!(c.dns.tsig.is_none(), "on error nothing changes");
        }
        // An empty line before the key: no key was configured yet, so it
        // is the default; the key that follows is kept.
        let conf = dir.join("x.conf");
        std::fs::write(
            &conf,
            format!("[mdns]\ntsig_key =\ntsig_key_file = {}\n", key.display()),
        )
        .unwrap();
        let mut c = crate::Config::default();
        crate::config_file::load_path(&mut c, &conf).unwrap();
        assert_eq!(c.dns.tsig.as_ref().map(Key::name), Some("upd."));
        // the option form
        let mut s = DnsSettings::default();
        apply_tsig_key(&mut s, line).unwrap();
        assert!(apply_tsig_key_file(&mut s, "").is_err());
        assert!(apply_tsig_key(&mut s, "  ").is_err());
        assert!(s.tsig.is_some());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// The key file is read only when it is a regular file of at most
    /// 64 KiB: /dev/zero and an oversized file are refused at once, and a
    /// FIFO with no writer does not hang the reader.
    #[test]
    fn key_file_reads_are_bounded_and_never_block() {
        let dir = scratch("keyfile-bounds");
        let big = dir.join("big.key");
        let mut text = KEY_TEXT.to_string();
        text.push_str(&"#".repeat(KEY_FILE_MAX as usize));
        std::fs::write(&big, &text).unwrap();
        let fifo = dir.join("fifo.key");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let (tx, rx) = std::sync::mpsc::channel();
        let paths = [
            ("/dev/zero".to_string(), "not a regular file"),
            (fifo.display().to_string(), "not a regular file"),
            (big.display().to_string(), "more than a key file's 65536"),
            (dir.display().to_string(), "not a regular file"),
        ];
        let rows = paths.clone();
        std::thread::spawn(move || {
            for (p, _) in rows {
                tx.send(read_key_file(&p, &mut |_| {}).map(|_| ())).unwrap();
            }
        });
        for (p, want) in paths {
            let got = rx
                .recv_timeout(std::time::Duration::from_secs(5))
                .unwrap_or_else(|_| panic!("reading {p} hung"));
            let e = got.unwrap_err();
            assert!(e.contains(want) && e.contains(&p), "{p}: {e}");
        }
        // exactly the limit is still read
        let mut at = KEY_TEXT.to_string();
        at.push_str(&"#".repeat(KEY_FILE_MAX as usize - KEY_TEXT.len()));
        std::fs::write(&big, &at).unwrap();
        std::fs::set_permissions(&big, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(
            read_key_file(big.to_str().unwrap(), &mut |_| {})
                .unwrap()
                .name(),
            "upd."
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

//! OpenStack config files (`ironic.conf`, `ironic-python-agent.conf`) read
//! the way oslo.config reads them, for their `[mdns]` section (SPEC 2).
//!
//! The file syntax is oslo.config's own INI dialect (`oslo_config.iniparser`):
//! - `[section]` starts a section; section names other than `DEFAULT` are
//!   compared in lower case, so `[MDNS]` is `[mdns]`;
//! - `key = value` or `key: value` (the first of `=` and `:` splits); the
//!   key and value are stripped of blanks, and a value wholly inside one
//!   kind of quotes loses them;
//! - a line starting with a blank continues the previous value (joined
//!   with a newline); a blank line ends it;
//! - `#` or `;` in the first column is a comment; there are no inline
//!   comments (`lookup_attempts = 3 # x` is the value `3 # x`, an error);
//! - a key given again, in the same file or a later one, replaces the
//!   earlier value: later files win; but each value of a multi-valued
//!   option (`trust_anchor`, oslo.config's MultiStrOpt) adds.
//!
//! Syntax errors anywhere in a file make the whole file an error, as in
//! oslo.config. Only the `[mdns]` section is used; every value is checked
//! by the one validating entry point, [`Config::set`], and a bad one is an
//! error that names the file, the line and the option. A key of `[mdns]`
//! that this library does not know is a warning, except the agent's own
//! `use_mdns` and `allowed_overrides` (read by ironic-python-agent, not by
//! the discovery itself), which are skipped quietly.

use std::path::{Path, PathBuf};

use crate::config::{Config, GROUP};
use crate::error::{Error, Result};
use crate::log::{log, LogLevel};

/// `[mdns]` keys of ironic-python-agent that concern the agent, not the
/// lookup: accepted and left to the agent.
const AGENT_ONLY: &[&str] = &["use_mdns", "allowed_overrides"];

/// Where configuration comes from, in command-line order (`--config-file`,
/// `--config-dir`): later sources win.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// One file; it must exist.
    File(PathBuf),
    /// Every `*.conf` file in a directory, in name order (oslo.config's
    /// `--config-dir`); the directory must exist, it may be empty.
    Dir(PathBuf),
}

/// One `key = value` of an `[mdns]` section and where it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Assignment {
    key: String,
    value: String,
    path: PathBuf,
    line: usize,
}

/// Options whose empty value means "no key": never the silent end of one.
const KEY_OPTIONS: [&str; 2] = ["tsig_key", "tsig_key_file"];

/// Read `sources` in order and set `config` from the last value of each
/// `[mdns]` option, or from every value of a multi-valued one
/// (`trust_anchor`: each line adds); returns the warnings (unknown keys),
/// which are also logged. On error `config` is unchanged.
pub fn load(config: &mut Config, sources: &[Source]) -> Result<Vec<String>> {
    let mut found: Vec<Assignment> = Vec::new();
    for path in files(sources)? {
        let text = std::fs::read(&path)
            .map_err(|e| Error::Io(format!("cannot read config file {}: {e}", path.display())))?;
        for a in parse(&path, &text)? {
            // Later wins: drop an earlier value of the same key, but for
            // a multi-valued option, whose values add up.
            let multi = Config::options()
                .iter()
                .any(|o| o.name == a.key && o.type_name == "multi valued");
            if !multi {
                // An empty TSIG key option (an uncommented sample line)
                // never silently replaces a key an earlier line gave.
                if KEY_OPTIONS.contains(&a.key.as_str()) && a.value.trim().is_empty() {
                    if let Some(old) = found
                        .iter()
                        .find(|old| old.key == a.key && !old.value.trim().is_empty())
                    {
                        return Err(Error::InvalidArgument(format!(
                            "{}, line {}: an empty [{GROUP}] {} would drop the key set at {}, \
                             line {}; remove one of the lines",
                            a.path.display(),
                            a.line,
                            a.key,
                            old.path.display(),
                            old.line
                        )));
                    }
                }
                found.retain(|old| old.key != a.key);
            }
            found.push(a);
        }
    }
    let mut next = config.clone();
    let mut warnings = Vec::new();
    let known: Vec<&str> = Config::options().iter().map(|o| o.name).collect();
    for a in &found {
        let here = format!("{}, line {}", a.path.display(), a.line);
        if AGENT_ONLY.contains(&a.key.as_str()) {
            log(
                LogLevel::Debug,
                &format!("{here}: [{GROUP}] {} is for ironic-python-agent", a.key),
            );
            continue;
        }
        if !known.contains(&a.key.as_str()) {
            let w = format!("{here}: unknown option [{GROUP}] {} ignored", a.key);
            log(LogLevel::Warning, &w);
            warnings.push(w);
            continue;
        }
        next.set(&a.key, &a.value).map_err(|e| match e {
            Error::InvalidArgument(m) => Error::InvalidArgument(format!("{here}: {m}")),
            other => other,
        })?;
    }
    *config = next;
    Ok(warnings)
}

/// Read one file, or every `*.conf` file of a directory (see [`Source`]).
pub fn load_path(config: &mut Config, path: &Path) -> Result<Vec<String>> {
    let source = if path.is_dir() {
        Source::Dir(path.to_owned())
    } else {
        Source::File(path.to_owned())
    };
    load(config, &[source])
}

/// The files of `sources`, in reading order.
fn files(sources: &[Source]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for s in sources {
        match s {
            Source::File(p) => out.push(p.clone()),
            Source::Dir(d) => {
                let entries = std::fs::read_dir(d).map_err(|e| {
                    Error::Io(format!("cannot read config directory {}: {e}", d.display()))
                })?;
                let mut confs: Vec<PathBuf> = entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "conf") && !p.is_dir())
                    .collect();
                confs.sort();
                out.extend(confs);
            }
        }
    }
    Ok(out)
}

/// The `[mdns]` assignments of one file, in order; a syntax error anywhere
/// fails the file.
fn parse(path: &Path, text: &[u8]) -> Result<Vec<Assignment>> {
    let err = |line: usize, why: &str| {
        Error::InvalidArgument(format!("{}, line {line}: {why}", path.display()))
    };
    let text = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(text);
    let mut out = Vec::new();
    let mut section: Option<String> = None;
    // The assignment being read: (key, value lines, first line number).
    let mut pending: Option<(String, Vec<String>, usize)> = None;
    let mut flush = |section: &Option<String>,
                     pending: &mut Option<(String, Vec<String>, usize)>|
     -> Result<()> {
        if let Some((key, lines, line)) = pending.take() {
            match section {
                None => return Err(err(line, "an option must come after a [section] line")),
                Some(s) if s == GROUP => out.push(Assignment {
                    key,
                    value: lines.join("\n"),
                    path: path.to_owned(),
                    line,
                }),
                Some(_) => {}
            }
        }
        Ok(())
    };
    for (i, raw) in text.split(|&b| b == b'\n').enumerate() {
        let n = i + 1;
        let line = std::str::from_utf8(raw).map_err(|_| err(n, "not valid UTF-8"))?;
        let line = line.trim_end();
        if line.is_empty() {
            // A blank line ends a value that runs over several lines.
            flush(&section, &mut pending)?;
            continue;
        }
        if line.starts_with([' ', '\t']) {
            match pending.as_mut() {
                Some((_, lines, _)) => lines.push(line.trim_start().to_owned()),
                None => return Err(err(n, "a continuation line without an option before it")),
            }
            continue;
        }
        flush(&section, &mut pending)?;
        if let Some(rest) = line.strip_prefix('[') {
            let Some(name) = rest.strip_suffix(']') else {
                return Err(err(n, "a section line without its closing ']'"));
            };
            if name.is_empty() {
                return Err(err(n, "an empty section name"));
            }
            // oslo.config looks groups up in lower case; DEFAULT stays.
            section = Some(if name == "DEFAULT" {
                name.to_owned()
            } else {
                name.to_lowercase()
            });
        } else if line.starts_with(['#', ';']) {
            // a comment
        } else {
            let (key, value) = split_assignment(line)
                .ok_or_else(|| err(n, &format!("{line:?} is not `name = value`")))?;
            if key.is_empty() {
                return Err(err(n, "an option without a name"));
            }
            pending = Some((key.to_owned(), vec![value.to_owned()], n));
        }
    }
    flush(&section, &mut pending)?;
    Ok(out)
}

/// `key = value` or `key: value`, whichever separator comes first; the
/// value stripped, and unquoted when one kind of quote wraps all of it.
fn split_assignment(line: &str) -> Option<(&str, &str)> {
    let at = line.find(['=', ':'])?;
    let (key, value) = (line[..at].trim(), line[at + 1..].trim());
    let b = value.as_bytes();
    let value = if b.len() >= 2 && (b[0] == b'"' || b[0] == b'\'') && b[0] == b[b.len() - 1] {
        &value[1..value.len() - 1]
    } else {
        value
    };
    Some((key, value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;
    use std::time::Duration;

    /// A scratch directory removed on drop.
    struct Scratch(PathBuf);
    impl Scratch {
        fn new(tag: &str) -> Scratch {
            let d = std::env::temp_dir().join(format!(
                "ironicmdns-cf-{tag}-{}-{:?}",
                std::process::id(),
                std::thread::current().id()
            ));
            let _ = std::fs::remove_dir_all(&d);
            std::fs::create_dir_all(&d).unwrap();
            Scratch(d)
        }
        fn file(&self, name: &str, text: &str) -> PathBuf {
            let p = self.0.join(name);
            std::fs::write(&p, text).unwrap();
            p
        }
    }
    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn load_text(text: &str) -> Result<(Config, Vec<String>)> {
        let s = Scratch::new("one");
        let p = s.file("x.conf", text);
        let mut c = Config::default();
        let w = load(&mut c, &[Source::File(p)])?;
        Ok((c, w))
    }

    #[test]
    fn syntax_like_oslo_iniparser() {
        // (file text, lookup_attempts after reading, or None: an error)
        let rows: &[(&str, Option<u32>)] = &[
            ("[mdns]\nlookup_attempts = 7\n", Some(7)),
            ("[mdns]\nlookup_attempts=7", Some(7)),
            ("[mdns]\nlookup_attempts: 7\n", Some(7)),
            ("[MDNS]\nlookup_attempts = 7\n", Some(7)),
            ("[mdns]\nlookup_attempts = \"7\"\n", Some(7)),
            ("[mdns]\nlookup_attempts = '7'\n", Some(7)),
            (
                "[mdns]\n# lookup_attempts = 9\n;lookup_attempts = 9\n",
                Some(3),
            ),
            (
                "[mdns]\nlookup_attempts = 7\nlookup_attempts = 8\n",
                Some(8),
            ),
            (
                "[mdns]\nlookup_attempts = 7\n[mdns]\nlookup_attempts = 6\n",
                Some(6),
            ),
            (
                "[DEFAULT]\nlookup_attempts = 9\n[api]\nlookup_attempts = 9\n",
                Some(3),
            ),
            ("[mdns]\nlookup_attempts =\n  7\n", Some(7)),
            ("[mdns]\r\nlookup_attempts = 7\r\n", Some(7)),
            ("\u{feff}[mdns]\nlookup_attempts = 7\n", Some(7)),
            ("", Some(3)),
            // errors: in any section, as oslo.config fails the whole file
            ("[mdns]\nlookup_attempts = 3 # three\n", None),
            ("[mdns]\nlookup_attempts = 0\n", None),
            ("lookup_attempts = 7\n", None),
            ("[api\nport = 1\n", None),
            ("[]\n", None),
            ("[api]\njust words\n", None),
            ("[api]\n = 1\n", None),
            ("  indented = 1\n[mdns]\n", None),
            ("[api]\nport = \u{0}\u{ff}\n", Some(3)),
        ];
        for (text, want) in rows {
            match (load_text(text), want) {
                (Ok((c, _)), Some(n)) => assert_eq!(c.lookup_attempts, *n, "{text:?}"),
                (Err(Error::InvalidArgument(m)), None) => {
                    assert!(m.contains("x.conf, line "), "{text:?}: {m}")
                }
                (got, _) => panic!("{text:?}: got {got:?}, want {want:?}"),
            }
        }
        let mut bad = b"[mdns]\nparams = a:".to_vec();
        bad.extend([0xff, b'\n']);
        let s = Scratch::new("utf8");
        std::fs::write(s.0.join("b.conf"), &bad).unwrap();
        let e = load(&mut Config::default(), &[Source::File(s.0.join("b.conf"))]).unwrap_err();
        assert!(
            e.to_string().contains("b.conf, line 2: not valid UTF-8"),
            "{e}"
        );
    }

    #[test]
    fn a_bad_value_names_file_line_and_option() {
        let text = "[DEFAULT]\ndebug = true\n\n[mdns]\nparams = a:1\ninterfaces = eth0\n";
        let e = load_text(text).unwrap_err();
        let m = e.to_string();
        assert!(matches!(e, Error::InvalidArgument(_)), "{m}");
        assert!(m.contains("x.conf, line 6:"), "{m}");
        assert!(m.contains("[mdns] interfaces"), "{m}");
        assert!(m.contains("eth0"), "{m}");
    }

    #[test]
    fn unknown_keys_warn_agent_keys_are_quiet() {
        let text = "[mdns]\nuse_mdns = true\nallowed_overrides = ntp_server\n\
                    lookup_attempt = 2\nlookup_attempts = 4\n";
        let (c, w) = load_text(text).unwrap();
        assert_eq!(c.lookup_attempts, 4);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].contains("x.conf, line 4: unknown option [mdns] lookup_attempt"),
            "{w:?}"
        );
    }

    #[test]
    fn continuation_lines_join_list_and_dict_values() {
        let text = "[mdns]\nparams = ipa_debug:1,\n    ipa_ntp_server:'a,b'\n\n\
                    interfaces = 198.18.0.1,\n\tfd00:99::1\nregistration_attempts = 2\n";
        let (c, _) = load_text(text).unwrap();
        assert_eq!(c.params.get("ipa_debug"), Some(&Some(b"1".to_vec())));
        assert_eq!(c.params.get("ipa_ntp_server"), Some(&Some(b"a,b".to_vec())));
        let ips: Vec<IpAddr> = vec!["198.18.0.1".parse().unwrap(), "fd00:99::1".parse().unwrap()];
        assert_eq!(c.interfaces, Some(ips));
        assert_eq!(c.registration_attempts, 2);
    }

    #[test]
    fn an_empty_key_line_never_drops_an_earlier_key() {
        let s = Scratch::new("keys");
        let secret = "hmac-sha256:k1:a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U=";
        let a = s.file("a.conf", &format!("[mdns]\ntsig_key = {secret}\n"));
        let b = s.file("b.conf", "[mdns]\ntsig_key =\n");
        let mut c = Config::default();
        let e = load(&mut c, &[Source::File(a.clone()), Source::File(b)])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("b.conf, line 2") && e.contains("a.conf, line 2"),
            "{e}"
        );
        assert!(!e.contains("a2V5"), "the secret is never shown: {e}");
        let mut c = Config::default();
        load(&mut c, &[Source::File(a)]).unwrap();
        assert!(c.dns.tsig.is_some());
    }

    #[test]
    fn each_trust_anchor_line_adds() {
        let s = Scratch::new("anchors");
        let ds = "3613:15:2:3aa5ab37efce57f737fc1627013fee07bdf241bd10f3b1964ab55c78e79a304b";
        let key = "example.com. IN DNSKEY 257 3 15 l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4=";
        let a = s.file("a.conf", &format!("[mdns]\ntrust_anchor = {ds}\n"));
        let b = s.file(
            "b.conf",
            &format!("[mdns]\ntrust_anchor = {key}\ntrust_anchor = {ds}\n"),
        );
        let mut c = Config::default();
        load(&mut c, &[Source::File(a), Source::File(b)]).unwrap();
        assert_eq!(c.trust.unwrap().anchors.anchors().len(), 3);
        let empty = s.file("e.conf", "[mdns]\ntrust_anchor =\n");
        let mut c = Config::default();
        let e = load(&mut c, &[Source::File(empty)])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("e.conf, line 2") && e.contains("trust_anchor"),
            "{e}"
        );
        assert!(c.trust.is_none());
    }

    #[test]
    fn later_files_and_dirs_win_in_order() {
        let s = Scratch::new("order");
        let a = s.file(
            "a.conf",
            "[mdns]\nlookup_attempts = 0\nlookup_timeout = 0.5\n",
        );
        let b = s.file("b.conf", "[mdns]\nlookup_attempts = 5\n");
        std::fs::create_dir_all(s.0.join("d")).unwrap();
        s.file("d/20-x.conf", "[mdns]\nregistration_attempts = 9\n");
        s.file(
            "d/10-x.conf",
            "[mdns]\nregistration_attempts = 8\nlookup_attempts = 6\n",
        );
        s.file("d/30-x.conf.orig", "[mdns]\nregistration_attempts = 0\n");
        let d = s.0.join("d");
        // the bad value in a.conf is replaced by b.conf before it is read
        let mut c = Config::default();
        load(&mut c, &[Source::File(a.clone()), Source::File(b.clone())]).unwrap();
        assert_eq!(c.lookup_attempts, 5);
        assert_eq!(c.lookup_timeout, Duration::from_millis(500));
        let mut c = Config::default();
        load(&mut c, &[Source::File(b.clone()), Source::Dir(d.clone())]).unwrap();
        assert_eq!((c.lookup_attempts, c.registration_attempts), (6, 9));
        let mut c = Config::default();
        load(&mut c, &[Source::Dir(d.clone()), Source::File(b.clone())]).unwrap();
        assert_eq!((c.lookup_attempts, c.registration_attempts), (5, 9));
        let mut c = Config::default();
        load_path(&mut c, &d).unwrap();
        assert_eq!(c.registration_attempts, 9);
        // a missing file or directory is an I/O error naming it; c unchanged
        let before = c.clone();
        for (src, name) in [
            (Source::File(s.0.join("none.conf")), "none.conf"),
            (Source::Dir(s.0.join("nodir")), "nodir"),
        ] {
            let e = load(&mut c, &[src]).unwrap_err();
            assert!(matches!(&e, Error::Io(m) if m.contains(name)), "{e}");
        }
        assert_eq!(c, before);
        // an error leaves the config as it was
        let e = load(&mut c, &[Source::File(a)]).unwrap_err();
        assert!(e.to_string().contains("a.conf, line 2:"), "{e}");
        assert_eq!(c, before);
    }

    #[test]
    fn the_generated_samples_and_a_full_ironic_conf() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/config");
        // Samples as oslo-config-generator writes them: every option is
        // commented out, so the defaults stay.
        for sample in ["ironic.conf.sample", "ironic-python-agent.conf.sample"] {
            let mut c = Config::default();
            let w = load(&mut c, &[Source::File(dir.join(sample))]).unwrap();
            assert_eq!(c, Config::default(), "{sample}");
            assert!(w.is_empty(), "{sample}: {w:?}");
        }
        // The same samples with the [mdns] lines uncommented.
        for sample in ["ironic.conf.sample", "ironic-python-agent.conf.sample"] {
            let text = std::fs::read_to_string(dir.join(sample)).unwrap();
            let (mut in_mdns, mut edited) = (false, String::new());
            for l in text.lines() {
                if l.starts_with('[') {
                    in_mdns = l == "[mdns]";
                }
                let l = match l.strip_prefix('#') {
                    Some(rest) if in_mdns && rest.contains(" =") && !rest.starts_with(' ') => {
                        rest.replace("<None>", "")
                    }
                    _ => l.to_owned(),
                };
                edited.push_str(&l);
                edited.push('\n');
            }
            let (c, w) = load_text(&edited).unwrap();
            assert_eq!(c, Config::default(), "{sample}");
            assert!(w.is_empty(), "{sample}: {w:?}");
        }
        let mut c = Config::default();
        let w = load(&mut c, &[Source::File(dir.join("ironic.conf"))]).unwrap();
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(c.registration_attempts, 7);
        assert_eq!(c.lookup_attempts, 2);
        assert_eq!(c.params.get("ipa_debug"), Some(&Some(b"1".to_vec())));
        assert_eq!(
            c.params.get("ipa_inspection_callback_url"),
            Some(&Some(b"http://198.18.0.1:5050/v1/continue".to_vec()))
        );
        assert_eq!(
            c.params.get("ipa_ntp_server"),
            Some(&Some(b"198.18.0.9,198.18.0.10".to_vec()))
        );
        assert_eq!(c.interfaces, Some(vec!["198.18.0.1".parse().unwrap()]));
    }
}

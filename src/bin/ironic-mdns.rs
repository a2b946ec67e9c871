//! `ironic-mdns`: register, look up and browse OpenStack services over mDNS
//! (the command-line face of libironicmdns).
//!
//! Hand-rolled argument parsing: a dozen flags do not justify a crate.
//! Exit codes: 0 done, 1 lookup/browse failure, 2 registration failure,
//! 3 registration lost later to a name conflict, 64 usage error (EX_USAGE
//! from sysexits.h).

use std::io::Write;
use std::process::ExitCode;
use std::sync::OnceLock;
use std::time::Duration;

use ironicmdns::config_file::{self, Source};
use ironicmdns::log::{self as zclog, LogLevel};
use ironicmdns::{Config, Error, Properties, Value, Zeroconf};

const USAGE: &str = "\
usage: ironic-mdns [OPTIONS] COMMAND [ARGS]

Commands:
  register TYPE URL [KEY=VALUE | KEY]...
                     register TYPE (e.g. baremetal) at URL with extra TXT
                     properties (KEY alone: a key without value); prints
                     `registered TYPE at URL`, stays until SIGINT/SIGTERM,
                     then withdraws the service and exits; if another host
                     takes the name later (RFC 6762 s9), prints
                     `ironic-mdns: registration of TYPE lost: name
                     conflict` on stderr as soon as it is known and
                     exits 3
  lookup TYPE        look TYPE up; prints the URL, then one `key=value` line
                     per property (`key` alone: no value)
  browse             list every _openstack._tcp service heard
  options            print a sample [mdns] configuration section

Options (the [mdns] options, see `ironic-mdns options`):
  --config-file FILE           read the [mdns] section of an OpenStack config
                               file, e.g. /etc/ironic/ironic.conf
                               (repeatable; later files win)
  --config-dir DIR             read DIR/*.conf in name order (repeatable;
                               in command-line order with --config-file)
                               flags below win over the files
  --interface IP               use this interface address (repeatable, or a
                               comma list); default: all interfaces
  --interfaces LIST            the same, as a comma list
  --registration-attempts N    attempts to register (default 5)
  --lookup-attempts N          attempts to look up (default 3)
  --lookup-timeout SECS        wait per lookup attempt (default 3.0)
  --params K:V,...             extra TXT properties for registrations
Unicast DNS-SD (see docs/DNS.md):
  --domain DOMAIN              DNS-SD domain, e.g. mystack.example.com: look
                               up / register <TYPE>._openstack._tcp.DOMAIN
                               through DNS (registration: RFC 2136 UPDATE)
  --dns-server IP[:PORT]       DNS server to ask (repeatable, or a comma
                               list; [IPv6]:PORT); default: /etc/resolv.conf
  --tsig-key-file FILE         TSIG key in BIND's format (tsig-keygen):
                               sign queries and updates, require signed
                               answers
  --tsig-key ALG:NAME:SECRET   the same key in one line, base64 secret
                               (other users see it in ps: prefer a file)
  --discovery MODE             mdns, dns, both, or auto (default: dns when
                               a domain is set, else mdns)
Trusted discovery, DNSSEC (see docs/TRUST.md):
  --trust-anchor ANCHOR        lookup, browse: use only answers signed by
                               this key: a DNSKEY or DS record as
                               dnssec-keygen / dnssec-dsfromkey print it,
                               KEYTAG:ALG:DIGESTTYPE:HEXDIGEST, or @FILE
                               (repeatable: each adds anchors)
  --trust-clock-skew SECS      widen signature windows by SECS either way
                               (default 3600)
  --signing-key-file FILE      register: sign the mDNS records with this
                               private key (dnssec-keygen's .private file)
Command options:
  --json                       lookup, browse: print JSON; a value that is
                               not UTF-8 is {\"b64\": \"<base64>\"}, a key
                               without value is null
  --no-skip-loopback           lookup: accept a loopback address
  --skip-link-local            lookup: a link-local IPv6 route is no route
  --duration SECS              browse: listen this long (default 3)
  -h, --help                   print this help
  -V, --version                print the version

Exit status: 0 success, 1 not found / lookup failure, 2 registration
failure, 3 registration lost later to a name conflict, 64 usage error.
";

const EX_USAGE: u8 = 64;

enum Command {
    Register {
        service_type: String,
        url: String,
        params: Properties,
    },
    Lookup {
        service_type: String,
    },
    Browse,
    Options,
}

struct Args {
    command: Command,
    config: Config,
    json: bool,
    skip_loopback: bool,
    skip_link_local: bool,
    duration: Duration,
}

enum Parsed {
    Run(Box<Args>),
    Help,
    Version,
}

/// Parse the command line (without argv[0]); Err is a usage message.
fn parse(argv: Vec<String>) -> Result<Parsed, String> {
    let mut config = Config::default();
    // Config files first, then the flags over them (oslo.config's order).
    let mut sources: Vec<Source> = Vec::new();
    let mut flags: Vec<(&'static str, String)> = Vec::new();
    let mut positional = Vec::new();
    let mut interfaces: Vec<String> = Vec::new();
    let mut dns_servers: Vec<String> = Vec::new();
    let (mut json, mut skip_loopback, mut skip_link_local) = (false, true, false);
    let mut duration = None;
    let mut used: Vec<&'static str> = Vec::new(); // command-specific flags seen
    let mut it = argv.into_iter();
    let mut only_positional = false;
    while let Some(arg) = it.next() {
        if only_positional || !arg.starts_with('-') || arg == "-" {
            positional.push(arg);
            continue;
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let value = |it: &mut std::vec::IntoIter<String>| -> Result<String, String> {
            match inline.clone() {
                Some(v) => Ok(v),
                None => it
                    .next()
                    .ok_or_else(|| format!("option {flag} needs a value")),
            }
        };
        let option = match flag.as_str() {
            "--" => {
                only_positional = true;
                continue;
            }
            "-h" | "--help" => return Ok(Parsed::Help),
            "-V" | "--version" => return Ok(Parsed::Version),
            "--config-file" => {
                sources.push(Source::File(value(&mut it)?.into()));
                continue;
            }
            "--config-dir" => {
                sources.push(Source::Dir(value(&mut it)?.into()));
                continue;
            }
            "--interface" | "--interfaces" => {
                interfaces.push(value(&mut it)?);
                continue;
            }
            "--dns-server" | "--dns-servers" => {
                dns_servers.push(value(&mut it)?);
                continue;
            }
            "--domain" => "domain",
            "--tsig-key-file" => "tsig_key_file",
            "--tsig-key" => "tsig_key",
            "--discovery" => "discovery",
            "--trust-anchor" => "trust_anchor",
            "--trust-clock-skew" => "trust_clock_skew",
            "--signing-key-file" => "signing_key_file",
            "--registration-attempts" => "registration_attempts",
            "--lookup-attempts" => "lookup_attempts",
            "--lookup-timeout" => "lookup_timeout",
            "--params" => "params",
            "--json" | "--no-skip-loopback" | "--skip-link-local" if inline.is_some() => {
                return Err(format!("option {flag} takes no value"))
            }
            "--json" => {
                json = true;
                used.push("--json");
                continue;
            }
            "--no-skip-loopback" => {
                skip_loopback = false;
                used.push("--no-skip-loopback");
                continue;
            }
            "--skip-link-local" => {
                skip_link_local = true;
                used.push("--skip-link-local");
                continue;
            }
            "--duration" => {
                let v = value(&mut it)?;
                let secs: f64 = v
                    .trim()
                    .parse()
                    .map_err(|_| format!("--duration: {v:?} is not a number"))?;
                duration = Some(
                    Duration::try_from_secs_f64(secs)
                        .map_err(|_| format!("--duration: {v:?} is out of range"))?,
                );
                used.push("--duration");
                continue;
            }
            _ => return Err(format!("unknown option {arg}")),
        };
        flags.push((option, value(&mut it)?));
    }
    // Warnings (unknown keys) reach stderr through cli_log.
    config_file::load(&mut config, &sources).map_err(|e| e.to_string())?;
    for (option, v) in &flags {
        config.set(option, v).map_err(|e| e.to_string())?;
    }
    if !dns_servers.is_empty() {
        config
            .set("dns_servers", &dns_servers.join(","))
            .map_err(|e| e.to_string())?;
    }
    if !interfaces.is_empty() {
        config
            .set("interfaces", &interfaces.join(","))
            .map_err(|e| e.to_string())?;
    }
    let mut pos = positional.into_iter();
    let name = pos.next().ok_or("a command is required")?;
    let rest: Vec<String> = pos.collect();
    let (command, allowed): (Command, &[&str]) = match name.as_str() {
        "register" => {
            let [service_type, url, props @ ..] = rest.as_slice() else {
                return Err("register needs TYPE and URL".into());
            };
            let mut params = Properties::new();
            for p in props {
                if p.is_empty() || p.starts_with('=') {
                    return Err(format!("register: property {p:?} has no key"));
                }
                match p.split_once('=') {
                    Some((k, v)) => params.set_str(k, v),
                    None => params.set(p, None),
                }
            }
            (
                Command::Register {
                    service_type: service_type.clone(),
                    url: url.clone(),
                    params,
                },
                &[],
            )
        }
        "lookup" => match rest.as_slice() {
            [t] => (
                Command::Lookup {
                    service_type: t.clone(),
                },
                &["--json", "--no-skip-loopback", "--skip-link-local"],
            ),
            _ => return Err("lookup needs exactly one TYPE".into()),
        },
        "browse" if rest.is_empty() => (Command::Browse, &["--json", "--duration"]),
        "options" if rest.is_empty() => (Command::Options, &[]),
        "browse" | "options" => return Err(format!("{name} takes no argument")),
        _ => return Err(format!("unknown command {name:?}")),
    };
    if let Some(flag) = used.iter().find(|f| !allowed.contains(f)) {
        return Err(format!("option {flag} does not apply to {name}"));
    }
    let duration = duration.unwrap_or(Duration::from_secs(3));
    Ok(Parsed::Run(Box::new(Args {
        command,
        config,
        json,
        skip_loopback,
        skip_link_local,
        duration,
    })))
}

/// The tool prints the library's warnings and errors on stderr (the
/// library itself is quiet by default); `IRONICMDNS_LOG=debug` adds the
/// debug messages, `IRONICMDNS_LOG=error` keeps only errors.
fn cli_log(level: LogLevel, msg: &str) {
    let min = zclog::stderr_log_level().unwrap_or(LogLevel::Warning);
    if level >= min {
        eprintln!("{}", zclog::log_line(level, msg));
    }
}

fn main() -> ExitCode {
    zclog::set_log_hook(Some(cli_log));
    let args = match parse(std::env::args().skip(1).collect()) {
        Ok(Parsed::Run(args)) => args,
        Ok(Parsed::Help) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Ok(Parsed::Version) => {
            println!("ironic-mdns {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            eprint!("ironic-mdns: {msg}\n{USAGE}");
            return ExitCode::from(EX_USAGE);
        }
    };
    let Args {
        command,
        config,
        json,
        skip_loopback,
        skip_link_local,
        duration,
    } = *args;
    match command {
        Command::Options => {
            print!("{}", ironicmdns::config::sample_config());
            ExitCode::SUCCESS
        }
        Command::Register {
            service_type,
            url,
            params,
        } => register(config, &service_type, &url, &params),
        Command::Lookup { service_type } => {
            let found = ironicmdns::zeroconf::lookup_once_with(
                config,
                &service_type,
                skip_loopback,
                skip_link_local,
                None,
            );
            match found {
                Ok(ironicmdns::zeroconf::Found {
                    url,
                    params,
                    validated,
                }) => {
                    let mut out = Vec::new();
                    if json {
                        out.extend(
                            format!(
                                "{{\"url\": {}, \"params\": {}, \"validated\": {}}}\n",
                                json_str(&url),
                                json_props(&params),
                                validated
                            )
                            .bytes(),
                        );
                    } else {
                        out.extend(format!("{url}\n").bytes());
                        out.extend(plain_props(&params, ""));
                    }
                    emit(&out)
                }
                Err(e) => fail(&e, 1),
            }
        }
        Command::Browse => {
            let found = Zeroconf::new(config).and_then(|zc| {
                let r = zc.browse(duration);
                let _ = zc.close();
                r
            });
            match found {
                Ok(services) => {
                    let mut out = Vec::new();
                    if json {
                        let items: Vec<String> = services
                            .iter()
                            .map(|s| {
                                let (url, err) = match &s.url {
                                    Ok(u) => (json_str(u), "null".to_owned()),
                                    Err(e) => ("null".to_owned(), json_str(e)),
                                };
                                let t = json_str(&s.service_type);
                                format!("{{\"service_type\": {t}, \"url\": {url}, \"error\": {err}, \"params\": {}}}", json_props(&s.params))
                            })
                            .collect();
                        out.extend(format!("[{}]\n", items.join(",\n ")).bytes());
                    } else {
                        for s in &services {
                            match &s.url {
                                Ok(u) => out.extend(format!("{} {u}\n", s.service_type).bytes()),
                                Err(e) => out.extend(
                                    format!("{} (unusable: {e})\n", s.service_type).bytes(),
                                ),
                            }
                            out.extend(plain_props(&s.params, "  "));
                        }
                    }
                    emit(&out)
                }
                Err(e) => fail(&e, 1),
            }
        }
    }
}

/// Exit status of a registration lost to a name conflict.
const EXIT_LOST: u8 = 3;

/// Register, say so, wait for SIGINT/SIGTERM, withdraw. A registration
/// lost meanwhile to another host (RFC 6762 s9) ends the wait: exit 3.
/// Idle, nothing here wakes: a watcher thread sleeps in
/// `wait_registrations_lost` and raises SIGUSR1 when a loss happens; the
/// main thread sleeps in sigwait().
fn register(config: Config, service_type: &str, url: &str, params: &Properties) -> ExitCode {
    // Block the signals before the library starts its threads, so that they
    // inherit the mask and only sigwait() below receives them.
    // SAFETY: plain libc calls on a local, initialised sigset_t.
    let set = unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::sigaddset(&mut set, libc::SIGUSR1);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        set
    };
    let zc = match Zeroconf::new(config) {
        Ok(zc) => zc,
        Err(e) => return fail(&e, 2),
    };
    let params = if params.is_empty() {
        None
    } else {
        Some(params)
    };
    if let Err(e) = zc.register_service(service_type, url, params) {
        let _ = zc.close();
        return fail(&e, 2);
    }
    let mut stdout = std::io::stdout().lock();
    // A closed stdout must not keep a registration alive unseen: stop then.
    if writeln!(stdout, "registered {service_type} at {url}")
        .and_then(|_| stdout.flush())
        .is_err()
    {
        return close_with(&zc, ExitCode::SUCCESS);
    }
    drop(stdout);
    let lost: OnceLock<Vec<String>> = OnceLock::new();
    std::thread::scope(|s| {
        // Inherits the blocked mask. Returns empty only once `zc` closes.
        s.spawn(|| {
            let names = zc.wait_registrations_lost(None);
            if !names.is_empty() && lost.set(names).is_ok() {
                // SAFETY: a plain signal to this process; the main thread
                // takes it in sigwait().
                unsafe { libc::kill(libc::getpid(), libc::SIGUSR1) };
            }
        });
        loop {
            let mut sig: libc::c_int = 0;
            // SAFETY: `set` and `sig` are initialised; returns 0 or an errno.
            if unsafe { libc::sigwait(&set, &mut sig) } != 0 {
                continue;
            }
            if sig != libc::SIGUSR1 {
                return close_with(&zc, ExitCode::SUCCESS);
            }
            // A SIGUSR1 from elsewhere, with nothing lost, is not ours.
            if lost.get().is_some() {
                // One registration per run: its TYPE names the loss.
                eprintln!("ironic-mdns: registration of {service_type} lost: name conflict");
                let _ = zc.close();
                return ExitCode::from(EXIT_LOST);
            }
        }
    })
}

fn close_with(zc: &Zeroconf, ok: ExitCode) -> ExitCode {
    match zc.close() {
        Ok(()) => ok,
        Err(e) => fail(&e, 2),
    }
}

fn fail(e: &Error, code: u8) -> ExitCode {
    eprintln!("ironic-mdns: {e}");
    ExitCode::from(code)
}

fn emit(bytes: &[u8]) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|_| stdout.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ironic-mdns: cannot write output: {e}");
            ExitCode::from(1)
        }
    }
}

/// `key=value` lines (raw value bytes), `key` alone for no value.
fn plain_props(props: &Properties, indent: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for (k, v) in props.iter() {
        out.extend(format!("{indent}{k}").bytes());
        if let Some(bytes) = v {
            out.push(b'=');
            out.extend_from_slice(bytes);
        }
        out.push(b'\n');
    }
    out
}

fn json_props(props: &Properties) -> String {
    let items: Vec<String> = props
        .iter()
        .map(|(k, v)| format!("{}: {}", json_str(k), json_value(v)))
        .collect();
    format!("{{{}}}", items.join(", "))
}

/// Text as a JSON string, bytes that are not UTF-8 as {"b64": ...}, no value
/// as null (the encoding of tests/peers/peer_common.py).
fn json_value(v: &Value) -> String {
    match v {
        None => "null".to_owned(),
        Some(bytes) => match std::str::from_utf8(bytes) {
            Ok(s) => json_str(s),
            Err(_) => format!("{{\"b64\": \"{}\"}}", base64(bytes)),
        },
    }
}

fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Standard base64 (RFC 4648 s4) with padding.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | (b as u32) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (input, want) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), want, "{input:?}");
        }
        assert_eq!(base64(&[0xE2, 0x28, 0xA1]), "4iih");
    }

    #[test]
    fn json_values() {
        assert_eq!(json_value(&None), "null");
        assert_eq!(
            json_value(&Some(b"a\"b\\\n\x01".to_vec())),
            "\"a\\\"b\\\\\\n\\u0001\""
        );
        assert_eq!(
            json_value(&Some(vec![0xE2, 0x28, 0xA1])),
            "{\"b64\": \"4iih\"}"
        );
    }
}

//! Publishers and lookers-up: ours (library and CLI), the reference
//! (ironic_lib), Avahi and mdns-sd, each started on a lab host.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::mpsc::{channel, Sender};
use std::thread::JoinHandle;
use std::time::Duration;

use ironicmdns::{Config, Properties, Zeroconf};

use crate::common::lab::Lab;
use crate::json::quote;
use crate::support::{
    self, found_from_line, parse_avahi_browse, spec4_url, Found, Outcome, PVal, Proc, Scratch,
};
use crate::table::{instance, Fam, Row, HOSTNAME};

/// Our options: the reference's defaults.
pub fn config() -> Config {
    Config::default()
}

pub fn props_of(params: &[(String, PVal)]) -> Properties {
    let mut p = Properties::new();
    for (k, v) in params {
        match v {
            PVal::Text(s) => p.set_str(k, s),
            PVal::Bytes(b) => p.set(k, Some(b.clone())),
            PVal::NoValue => p.set(k, None),
        }
    }
    p
}

pub fn found_of(url: String, props: &Properties) -> Found {
    let params = props
        .iter()
        .map(|(k, v)| (k.to_string(), PVal::from_bytes(v.as_deref())))
        .collect();
    Found { url, params }
}

fn panic_text(p: Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".into())
}

/// Run `f`, turning a panic into an error (one bad cell must not hide the
/// rest of the matrix).
pub fn guarded<T>(f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(f))
        .unwrap_or_else(|p| Err(format!("panicked: {}", panic_text(p))))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Publisher {
    /// Zeroconf in-process (the host-name row through the CLI, whose
    /// resolver sees the private hosts file)
    Ours,
    Ironic,
    Avahi,
    MdnsSd,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Looker {
    OursLib,
    OursCli,
    Ironic,
    AvahiBrowse,
}

impl Looker {
    pub const ALL: [Looker; 4] = [
        Looker::OursLib,
        Looker::OursCli,
        Looker::Ironic,
        Looker::AvahiBrowse,
    ];
}

/// An Avahi daemon (and its D-Bus) on a lab host, stopped on drop.
pub struct AvahiHost {
    proc: Proc,
    pub dir: PathBuf,
}

impl AvahiHost {
    pub fn start(
        lab: &Lab,
        h: usize,
        scratch: &Scratch,
        name: &str,
        fam: Fam,
    ) -> Result<AvahiHost, String> {
        let dir = scratch.path(&format!("avahi-{name}"));
        let mut cmd = lab.command(h, support::script("avahi_host.sh"));
        cmd.arg("run")
            .arg(&dir)
            .arg(&lab.host(h).ifname)
            .arg(name)
            .arg(fam.name());
        let proc = Proc::spawn(&format!("avahi-daemon on {name}"), lab, &mut cmd);
        proc.expect_ready(Duration::from_secs(20), "READY")?;
        Ok(AvahiHost { proc, dir })
    }
    pub fn bus(&self) -> OsString {
        let mut s = OsString::from("unix:path=");
        s.push(self.dir.join("system_bus_socket"));
        s
    }
    /// A client command (avahi-browse, avahi-publish-service) for this daemon.
    pub fn client(&self, lab: &Lab, h: usize, prog: &str) -> std::process::Command {
        let mut cmd = lab.command(h, prog);
        cmd.env("DBUS_SYSTEM_BUS_ADDRESS", self.bus());
        cmd
    }
}

impl Drop for AvahiHost {
    fn drop(&mut self) {
        self.proc.stop(Duration::from_secs(5));
        // belt and braces: the daemons by their pid files
        let _ = std::process::Command::new(support::script("avahi_host.sh"))
            .arg("stop")
            .arg(&self.dir)
            .output();
    }
}

/// An in-process publisher thread and the sender that stops it.
type PublisherThread = (Sender<()>, JoinHandle<Result<(), String>>);

/// A running publication; everything stops on drop (or `close`).
pub struct Publication {
    procs: Vec<Proc>,
    avahi: Option<AvahiHost>,
    thread: Option<PublisherThread>,
}

impl Publication {
    /// Withdraw: in-process services close (goodbyes), processes get SIGTERM.
    pub fn close(&mut self) -> Result<(), String> {
        let mut res = Ok(());
        if let Some((stop, t)) = self.thread.take() {
            let _ = stop.send(());
            res = t
                .join()
                .unwrap_or_else(|p| Err(format!("publisher panicked: {}", panic_text(p))));
        }
        for p in &mut self.procs {
            p.stop(Duration::from_secs(5));
        }
        self.avahi = None;
        res
    }
}

impl Drop for Publication {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

fn spec_json(rows: &[&Row]) -> String {
    let items: Vec<String> = rows
        .iter()
        .map(|r| {
            let params: Vec<String> = r
                .params
                .iter()
                .map(|(k, v)| {
                    let v = match v {
                        PVal::Text(s) => quote(s),
                        PVal::NoValue => "null".into(),
                        PVal::Bytes(b) => format!("{{\"hex\": \"{}\"}}", hex(b)),
                    };
                    format!("{}: {v}", quote(k))
                })
                .collect();
            format!(
                "{{\"type\": {}, \"url\": {}, \"params\": {{{}}}}}",
                quote(r.ty),
                quote(&r.url),
                params.join(", ")
            )
        })
        .collect();
    format!("[{}]", items.join(",\n "))
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Start `who` publishing `rows` on host `h` and wait until it says it is
/// registered.
pub fn publish(
    lab: &Lab,
    h: usize,
    who: Publisher,
    fam: Fam,
    rows: &[&Row],
    scratch: &Scratch,
) -> Result<Publication, String> {
    let hosts = scratch.path(&format!("hosts-{h}"));
    std::fs::write(&hosts, fam.hosts_file(lab, h)).map_err(|e| e.to_string())?;
    let mut publ = Publication {
        procs: Vec::new(),
        avahi: None,
        thread: None,
    };
    let ready = Duration::from_secs(60);
    match who {
        Publisher::Ironic => {
            let spec = scratch.path(&format!("ironic-spec-{h}.json"));
            std::fs::write(&spec, spec_json(rows)).map_err(|e| e.to_string())?;
            let script = support::script("ironic_publish.py");
            let args: Vec<&OsStr> =
                vec![script.as_os_str(), OsStr::new("--spec"), spec.as_os_str()];
            let mut cmd = support::with_hosts_file(lab, h, &hosts, &support::python(), &args);
            let p = Proc::spawn("ironic_publish.py", lab, &mut cmd);
            p.expect_ready(ready, "READY")?;
            publ.procs.push(p);
        }
        Publisher::Ours => {
            let (lib_rows, cli_rows): (Vec<&Row>, Vec<&Row>) =
                rows.iter().partition(|r| r.target.is_none());
            for r in cli_rows {
                let mut args: Vec<OsString> =
                    vec!["register".into(), r.ty.into(), r.url.clone().into()];
                for (k, v) in &r.params {
                    args.push(match v {
                        PVal::Text(s) => format!("{k}={s}").into(),
                        PVal::NoValue => k.into(),
                        PVal::Bytes(b) => {
                            let mut a = format!("{k}=").into_bytes();
                            a.extend_from_slice(b);
                            OsStr::from_bytes(&a).to_owned()
                        }
                    });
                }
                let refs: Vec<&OsStr> = args.iter().map(|a| a.as_os_str()).collect();
                let mut cmd = support::with_hosts_file(
                    lab,
                    h,
                    &hosts,
                    std::path::Path::new(support::cli()),
                    &refs,
                );
                let p = Proc::spawn(&format!("ironic-mdns register {}", r.ty), lab, &mut cmd);
                p.expect_ready(ready, "registered")?;
                publ.procs.push(p);
            }
            let regs: Vec<(String, String, Properties)> = lib_rows
                .iter()
                .map(|r| (r.ty.to_string(), r.url.clone(), props_of(&r.params)))
                .collect();
            let (ready_tx, ready_rx) = channel::<Result<(), String>>();
            let (stop_tx, stop_rx) = channel::<()>();
            let t = lab.spawn_on(h, move || {
                let zc = match guarded(|| Zeroconf::new(config()).map_err(|e| e.to_string())) {
                    Ok(zc) => zc,
                    Err(e) => {
                        let _ = ready_tx.send(Err(format!("Zeroconf::new: {e}")));
                        return Err(e);
                    }
                };
                for (ty, url, props) in &regs {
                    let r = guarded(|| {
                        zc.register_service(ty, url, Some(props))
                            .map_err(|e| e.to_string())
                    });
                    if let Err(e) = r {
                        let _ = ready_tx.send(Err(format!("register_service({ty}, {url}): {e}")));
                        let _ = guarded(|| zc.close().map_err(|e| e.to_string()));
                        return Err(e);
                    }
                }
                let _ = ready_tx.send(Ok(()));
                let _ = stop_rx.recv();
                guarded(|| zc.close().map_err(|e| e.to_string()))
            });
            publ.thread = Some((stop_tx, t));
            ready_rx
                .recv_timeout(ready)
                .map_err(|_| "ours: registration did not finish".to_string())??;
        }
        Publisher::Avahi => {
            let avahi = AvahiHost::start(lab, h, scratch, &format!("avahi-h{h}"), fam)?;
            for r in rows {
                let mut cmd = avahi.client(lab, h, "avahi-publish-service");
                cmd.arg("-s");
                if r.target.is_some() {
                    cmd.arg("-H").arg(HOSTNAME);
                }
                cmd.arg(r.ty).arg("_openstack._tcp").arg(r.port.to_string());
                for t in &r.txt {
                    cmd.arg(OsStr::from_bytes(t));
                }
                let p = Proc::spawn(&format!("avahi-publish-service {}", r.ty), lab, &mut cmd);
                p.expect_ready(ready, "Established")?;
                publ.procs.push(p);
                if r.target.is_some() {
                    let mut cmd = avahi.client(lab, h, "avahi-publish");
                    cmd.args(["-a", "-R", HOSTNAME])
                        .arg(fam.addr(lab, h).to_string());
                    let p = Proc::spawn("avahi-publish -a", lab, &mut cmd);
                    p.expect_ready(ready, "Established")?;
                    publ.procs.push(p);
                }
            }
            publ.avahi = Some(avahi);
        }
        Publisher::MdnsSd => {
            let addr = fam.addr(lab, h);
            let infos: Vec<_> = rows
                .iter()
                .map(|r| {
                    let props: Vec<mdns_sd::TxtProperty> = r
                        .txt
                        .iter()
                        .map(|t| match t.iter().position(|&b| b == b'=') {
                            Some(i) => (
                                String::from_utf8_lossy(&t[..i]).into_owned(),
                                t[i + 1..].to_vec(),
                            )
                                .into(),
                            None => String::from_utf8_lossy(t).as_ref().into(),
                        })
                        .collect();
                    let host = match &r.target {
                        Some(t) => t.clone(),
                        None => format!("mdnssd-h{h}.local."),
                    };
                    mdns_sd::ServiceInfo::new(
                        "_openstack._tcp.local.",
                        r.ty,
                        &host,
                        addr,
                        r.port,
                        props,
                    )
                    .map_err(|e| format!("mdns-sd ServiceInfo {}: {e}", r.ty))
                })
                .collect::<Result<_, _>>()?;
            let (ready_tx, ready_rx) = channel::<Result<(), String>>();
            let (stop_tx, stop_rx) = channel::<()>();
            let t = lab.spawn_on(h, move || {
                let d = mdns_sd::ServiceDaemon::new().map_err(|e| e.to_string())?;
                for info in infos {
                    if let Err(e) = d.register(info) {
                        let _ = ready_tx.send(Err(e.to_string()));
                        return Err(e.to_string());
                    }
                }
                let _ = ready_tx.send(Ok(()));
                let _ = stop_rx.recv();
                let _ = d.shutdown();
                Ok(())
            });
            publ.thread = Some((stop_tx, t));
            ready_rx
                .recv_timeout(ready)
                .map_err(|_| "mdns-sd: registration did not finish".to_string())??;
            // mdns-sd announces without probing first; let it announce
            std::thread::sleep(Duration::from_millis(1500));
        }
    }
    Ok(publ)
}

/// Look every type in `types` up with `who` on host `h`.
pub fn look_up(
    lab: &Lab,
    h: usize,
    who: Looker,
    fam: Fam,
    types: &[&str],
    scratch: &Scratch,
) -> BTreeMap<String, Outcome> {
    let mut out = BTreeMap::new();
    match who {
        Looker::OursLib => {
            let types: Vec<String> = types.iter().map(|t| t.to_string()).collect();
            let res = lab.run_on(h, move || {
                let zc = match guarded(|| Zeroconf::new(config()).map_err(|e| e.to_string())) {
                    Ok(zc) => zc,
                    Err(e) => {
                        return types
                            .iter()
                            .map(|t| (t.clone(), Err(format!("Zeroconf::new: {e}"))))
                            .collect()
                    }
                };
                let r: Vec<(String, Outcome)> = types
                    .iter()
                    .map(|t| {
                        let o = guarded(|| {
                            zc.get_endpoint(t, true, false)
                                .map(|(u, p)| found_of(u, &p))
                                .map_err(|e| e.to_string())
                        });
                        (t.clone(), o)
                    })
                    .collect();
                let _ = guarded(|| zc.close().map_err(|e| e.to_string()));
                r
            });
            out.extend(res);
        }
        Looker::OursCli => {
            for t in types {
                let (code, stdout, stderr) = support::run(
                    lab,
                    h,
                    support::cli(),
                    &[OsStr::new("lookup"), OsStr::new(t), OsStr::new("--json")],
                    Duration::from_secs(30),
                );
                let o = match code {
                    Some(0) => found_from_line(stdout.trim()),
                    other => Err(format!("exit {other:?}: {}", stderr.trim())),
                };
                out.insert(t.to_string(), o);
            }
        }
        Looker::Ironic => {
            let script = support::script("ironic_lookup.py");
            let mut args: Vec<&OsStr> = vec![script.as_os_str()];
            args.extend(types.iter().map(OsStr::new));
            if types.len() == 1 {
                // single mode: module-level get_endpoint, exit 1 when not found
                let (code, stdout, stderr) =
                    support::run(lab, h, support::python(), &args, Duration::from_secs(60));
                let o = match code {
                    Some(0) => found_from_line(stdout.trim()),
                    other => Err(format!("exit {other:?}: {}", stderr.trim())),
                };
                out.insert(types[0].to_string(), o);
            } else {
                let (code, stdout, stderr) =
                    support::run(lab, h, support::python(), &args, Duration::from_secs(120));
                for line in stdout.lines().filter(|l| l.starts_with('{')) {
                    if let Ok(j) = crate::json::parse(line) {
                        if let Some(t) = j.get("type").and_then(crate::json::Json::str) {
                            out.insert(t.to_string(), support::found_from_json(&j));
                        }
                    }
                }
                for t in types {
                    out.entry(t.to_string()).or_insert_with(|| {
                        Err(format!("ironic_lookup.py exit {code:?}: {}", stderr.trim()))
                    });
                }
            }
        }
        Looker::AvahiBrowse => {
            let avahi = match AvahiHost::start(lab, h, scratch, &format!("avahi-h{h}"), fam) {
                Ok(a) => a,
                Err(e) => {
                    for t in types {
                        out.insert(t.to_string(), Err(e.clone()));
                    }
                    return out;
                }
            };
            // `avahi-browse -t` ends at Avahi's first "all for now". A
            // responder multicasts a record at most once a second (RFC 6762
            // s6.2), so records multicast for the previous looker less than
            // a second before the new daemon's first query come only with
            // its next one: browse again (the daemon keeps what it heard)
            // while an instance is missing, three times at most.
            let mut resolved = Vec::new();
            let mut why = String::new();
            for attempt in 0..3 {
                if attempt > 0 {
                    std::thread::sleep(Duration::from_millis(1100));
                }
                let mut cmd = avahi.client(lab, h, "avahi-browse");
                cmd.args(["-rtp", "_openstack._tcp"]);
                let mut p = Proc::spawn("avahi-browse", lab, &mut cmd);
                let code = p.wait(Duration::from_secs(30));
                std::thread::sleep(Duration::from_millis(30));
                let text = p.output_lines().join("\n");
                resolved = parse_avahi_browse(&text);
                why = format!(
                    "not listed by avahi-browse (exit {code:?}, attempt {}): {text} {}",
                    attempt + 1,
                    p.stderr_text()
                );
                if types.iter().all(|t| resolved.iter().any(|r| r.name == *t)) {
                    break;
                }
            }
            for t in types {
                let o = match resolved.iter().find(|r| r.name == *t) {
                    Some(r) => spec4_url(&r.target, &r.address, r.port, &r.txt),
                    None => Err(why.clone()),
                };
                out.insert(t.to_string(), o);
            }
        }
    }
    out
}

/// The byte-level view of one instance through python-zeroconf
/// (zc_records.py): (SRV target, port, TXT strings in wire order).
pub fn records(lab: &Lab, h: usize, ty: &str) -> Result<(String, u16, Vec<Vec<u8>>), String> {
    let script = support::script("zc_records.py");
    let (code, stdout, stderr) = support::run(
        lab,
        h,
        support::python(),
        &[script.as_os_str(), OsStr::new(ty)],
        Duration::from_secs(30),
    );
    if code != Some(0) {
        return Err(format!(
            "zc_records.py {ty}: exit {code:?}: {}",
            stderr.trim()
        ));
    }
    let j = crate::json::parse(stdout.trim())?;
    let server = j
        .get("server")
        .and_then(crate::json::Json::str)
        .unwrap_or("")
        .to_string();
    let port = j
        .get("port")
        .and_then(crate::json::Json::num)
        .unwrap_or(0.0) as u16;
    let txt = j
        .get("txt")
        .map(|t| t.arr().iter().filter_map(|x| x.str()).map(unhex).collect())
        .unwrap_or_default();
    Ok((server, port, txt))
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .filter_map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok())
        .collect()
}

/// The SRV target a row should have on the wire.
pub fn want_target(r: &Row) -> String {
    r.target.clone().unwrap_or_else(|| instance(r.ty))
}

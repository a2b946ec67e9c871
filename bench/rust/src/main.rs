//! In-process timings for bench/run.sh (run only inside the harness's
//! private network namespaces). One JSON object per line on stdout.
//!
//!   mdns-bench lookup ours|sd TYPE [--runs N] [--warm M] [--release FIFO]
//!                 [--timeout SECS] [--interface IP] [--option NAME=VALUE]
//!       N fresh lookups (new instance each: create, look up, close), then
//!       one instance looked up once untimed and M more times ("warm").
//!       --release: print {"armed": t}, then block until a writer opens and
//!       closes FIFO (a swarm's common start). --option: Config::set (ours).
//!       --timeout: how long mdns-sd browses before "not found".
//!   mdns-bench register ours TYPE URL [--interface IP]
//!   mdns-bench register sd TYPE IP PORT [KEY=VALUE...]
//!       prints {"start": t} just before the registration call, then
//!       {"ready": t} after it, holds until SIGINT/SIGTERM, withdraws.
//!   mdns-bench spawn [--runs N] [--gap-ms G] -- PROGRAM [ARGS...]
//!       N+1 runs of PROGRAM (the first a warm-up, reported too), G ms
//!       apart, each timed from spawn to exit (posix_spawn, output to
//!       /dev/null): {"ms": t, "ok": exit status 0}. A launcher this thin
//!       keeps the harness floor (`/bin/true`) near the kernel's own exec
//!       cost, where a Python subprocess adds about a millisecond.
//!   mdns-bench rawquery TYPE [--runs N]
//!       the floor of a fresh one-shot lookup: a new IPv4 UDP socket, one
//!       query (SRV, TXT, A of the instance) to 224.0.0.251, the first
//!       answer with its ID back; no parsing, no interface scan, no IPv6.
//!       N+1 runs (the first a warm-up), OURS_GAP apart: {"ms": t, "ok": b}.
//!   lookup and register ours also take --trust-anchor ANCHOR (validate:
//!       `Config.trust`) and --signing-key FILE.private (sign:
//!       `Config.signing_key`).
//!   lookup ours TYPE --paired-anchor ANCHOR [--runs N]
//!       N pairs of fresh lookups, OURS_GAP apart: one without a trust
//!       anchor ({"kind": "plain"}) and one validating against ANCHOR
//!       ({"kind": "validated"}), the first of each pair alternating, so
//!       that both see the same machine (the two series drift together).
//!   mdns-bench signcost --signing-key FILE.private [--runs N]
//!       the responder's work at each re-sign: one registration's RRsets
//!       and the DNSKEY signed afresh: {"kind": "sign", "ms": t, ...}.
//!   mdns-bench watch TYPE [--timeout SECS]
//!       an mdns-sd browser accepting unsolicited answers: prints
//!       {"watching": t}, then {"found": t} when TYPE resolves.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ironicmdns::trust;
use mdns_sd::{ServiceDaemon, ServiceEvent, ServiceInfo};

const SERVICE: &str = "_openstack._tcp.local.";

/// Between two fresh mdns-sd lookups. mdns-sd asks by multicast (QM), and
/// a responder multicasts a record at most once a second per link (RFC
/// 6762 s6.2): a lookup within a second of the previous answer is not
/// answered until its retry one second later (this made every mdns-sd row
/// read about 1.1 s). Ours asks from an ephemeral port and is answered by
/// unicast, which has no such limit.
const SD_GAP: Duration = Duration::from_millis(1100);
/// Between two fresh lookups of ours.
const OURS_GAP: Duration = Duration::from_millis(200);

fn now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs_f64()
}

fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c)
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out + "\""
}

fn report(kind: &str, secs: f64, result: Result<String, String>) {
    let (ok, text) = match result {
        Ok(url) => (true, json_str(&url)),
        Err(e) => (false, json_str(&e)),
    };
    println!("{{\"kind\": \"{kind}\", \"ms\": {:.4}, \"ok\": {ok}, \"detail\": {text}, \"end\": {:.6}}}", secs * 1e3, now());
}

fn block_signals() -> libc::sigset_t {
    // SAFETY: plain libc calls on a local sigset_t.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        set
    }
}

fn wait_signal(set: &libc::sigset_t) {
    let mut sig = 0;
    // SAFETY: `set` is initialised.
    while unsafe { libc::sigwait(set, &mut sig) } != 0 {}
}

struct Opts {
    runs: usize,
    warm: usize,
    release: Option<String>,
    options: Vec<String>,
    timeout: Duration,
    interface: Option<String>,
    /// ours: validate against this anchor (`trust::AnchorSet::parse`).
    trust_anchor: Option<String>,
    /// ours: sign with this BIND key (`K<zone>+<alg>+<tag>.private`).
    signing_key: Option<String>,
    /// ours: pairs of lookups, plain and validating against this anchor.
    paired_anchor: Option<String>,
    rest: Vec<String>,
}

fn opts(args: &[String]) -> Opts {
    let mut o = Opts {
        runs: 1,
        warm: 0,
        release: None,
        options: vec![],
        timeout: Duration::from_secs(10),
        interface: None,
        trust_anchor: None,
        signing_key: None,
        paired_anchor: None,
        rest: vec![],
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val = || it.next().unwrap_or_else(|| die(&format!("{a} needs a value"))).clone();
        match a.as_str() {
            "--runs" => o.runs = val().parse().unwrap_or_else(|_| die("--runs")),
            "--warm" => o.warm = val().parse().unwrap_or_else(|_| die("--warm")),
            "--release" => o.release = Some(val()),
            "--option" => o.options.push(val()),
            "--timeout" => o.timeout = Duration::from_secs_f64(val().parse().unwrap_or_else(|_| die("--timeout"))),
            "--interface" => o.interface = Some(val()),
            "--trust-anchor" => o.trust_anchor = Some(val()),
            "--signing-key" => o.signing_key = Some(val()),
            "--paired-anchor" => o.paired_anchor = Some(val()),
            _ => o.rest.push(a.clone()),
        }
    }
    o
}

fn die(msg: &str) -> ! {
    eprintln!("mdns-bench: {msg}");
    std::process::exit(64)
}

fn ours_config(o: &Opts) -> ironicmdns::Config {
    config_with(o, o.trust_anchor.as_deref())
}

/// The configuration of `o`, validating against `anchor` if given.
fn config_with(o: &Opts, anchor: Option<&str>) -> ironicmdns::Config {
    let mut c = ironicmdns::Config::default();
    if let Some(i) = &o.interface {
        c.set("interfaces", i).unwrap_or_else(|e| die(&e.to_string()));
    }
    for opt in &o.options {
        let (name, value) = opt.split_once('=').unwrap_or_else(|| die("--option NAME=VALUE"));
        c.set(name, value).unwrap_or_else(|e| die(&e.to_string()));
    }
    if let Some(a) = anchor {
        let anchors = trust::AnchorSet::parse(a).unwrap_or_else(|e| die(&e.to_string()));
        c.trust = Some(trust::TrustPolicy::new(anchors, trust::DEFAULT_CLOCK_SKEW));
    }
    if let Some(k) = &o.signing_key {
        c.signing_key = Some(signing_key(k));
    }
    c
}

fn signing_key(path: &str) -> trust::SigningKeyRef {
    let loaded = trust::load_bind_key(std::path::Path::new(path)).unwrap_or_else(|e| die(&e.to_string()));
    trust::SigningKeyRef(std::sync::Arc::new(loaded.key))
}

/// The responder's signing work for one registration, as at each re-sign:
/// the RRsets of `baremetal` (two PTRs, SRV, TXT, A, NSEC) and the DNSKEY
/// signed afresh, `--runs` times; one report per run.
fn signcost(o: Opts) {
    let k = signing_key(o.signing_key.as_deref().unwrap_or_else(|| die("signcost needs --signing-key")));
    let n = |s: &str| trust::Name::parse(s).unwrap();
    let inst = n("baremetal._openstack._tcp.local.");
    let wire = |s: &str| n(s).as_wire().to_vec();
    let rr = |owner: &trust::Name, rtype: u16, ttl: u32, rdata: Vec<u8>| trust::Rr { owner: owner.clone(), rtype, class: 1, ttl, rdata };
    let mut srv = vec![0, 0, 0, 0, 0x18, 0xf1];
    srv.extend(wire("baremetal._openstack._tcp.local."));
    let mut txt = vec![15];
    txt.extend_from_slice(b"path=/baremetal");
    let mut nsec = wire("baremetal._openstack._tcp.local.");
    nsec.extend_from_slice(&[0, 1, 0x40]);
    let sets = vec![
        rr(&n("_openstack._tcp.local."), 12, 4500, wire("baremetal._openstack._tcp.local.")),
        rr(&n("_services._dns-sd._udp.local."), 12, 4500, wire("_openstack._tcp.local.")),
        rr(&inst, 33, 120, srv),
        rr(&inst, 16, 4500, txt),
        rr(&inst, 1, 120, vec![198, 18, 0, 2]),
        rr(&inst, 47, 120, nsec),
        k.dnskey_rr(4500),
    ];
    let zone = k.owner().clone();
    let t = now() as u32;
    for _ in 0..o.runs {
        let t0 = Instant::now();
        let mut bytes = 0;
        for s in &sets {
            let sig = k.sign_rrset(std::slice::from_ref(s), &zone, t - 3600, t + 4 * 3600).unwrap_or_else(|e| die(&e.to_string()));
            bytes += sig.to_rdata().len();
        }
        report("sign", t0.elapsed().as_secs_f64(), Ok(format!("{} RRSIGs, {bytes} bytes of RDATA", sets.len())));
    }
}

/// mdns-sd: browse until TYPE resolves with an address. `stop`: end the
/// browse afterwards. mdns-sd's stop_browse also empties its cache of the
/// type, so a warm lookup must leave the browse running: a new browse on
/// the same daemon then answers from the cache at once.
fn sd_resolve(d: &ServiceDaemon, ty: &str, timeout: Duration, stop: bool) -> Result<String, String> {
    let want = format!("{ty}.{SERVICE}");
    let rx = d.browse(SERVICE).map_err(|e| e.to_string())?;
    let t0 = Instant::now();
    let deadline = t0 + timeout;
    let trace = std::env::var_os("BENCH_TRACE").is_some();
    let result = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let ev = rx.recv_timeout(left);
        if trace {
            eprintln!("{:9.3} ms {ev:?}", t0.elapsed().as_secs_f64() * 1e3);
        }
        match ev {
            Ok(ServiceEvent::ServiceResolved(s)) if s.get_fullname() == want && s.is_valid() => {
                let addr = s.get_addresses().iter().next().map(|a| a.to_string()).unwrap_or_default();
                break Ok(format!("{addr}:{}", s.get_port()));
            }
            Ok(_) => continue,
            Err(_) => break Err(format!("{ty} not found")),
        }
    };
    if stop {
        let _ = d.stop_browse(SERVICE);
    }
    result
}

/// `lookup ours TYPE --paired-anchor A`: plain and validated fresh
/// lookups in pairs (see the usage at the top).
fn paired(o: Opts, ty: &str, anchor: &str) {
    for i in 0..o.runs {
        let order = if i % 2 == 0 { [None, Some(anchor)] } else { [Some(anchor), None] };
        for a in order {
            let t = Instant::now();
            let r = ironicmdns::lookup_once(config_with(&o, a), ty, true, false).map(|(u, _)| u).map_err(|e| e.to_string());
            report(if a.is_some() { "validated" } else { "plain" }, t.elapsed().as_secs_f64(), r);
            std::thread::sleep(OURS_GAP);
        }
    }
}

fn lookup(stack: &str, o: Opts) {
    let ty = o.rest.first().cloned().unwrap_or_else(|| die("lookup needs TYPE"));
    if let Some(anchor) = o.paired_anchor.clone() {
        if stack != "ours" {
            die("--paired-anchor is for ours");
        }
        return paired(o, &ty, &anchor);
    }
    if let Some(fifo) = &o.release {
        println!("{{\"armed\": {:.6}}}", now());
        let mut sink = Vec::new();
        std::io::Read::read_to_end(&mut std::fs::File::open(fifo).unwrap_or_else(|e| die(&e.to_string())), &mut sink)
            .unwrap_or_else(|e| die(&e.to_string()));
    }
    for _ in 0..o.runs {
        let t = Instant::now();
        let r = match stack {
            // The module-level one-shot lookup (the reference's
            // get_endpoint), with the options given.
            "ours" => ironicmdns::lookup_once(ours_config(&o), &ty, true, false).map(|(u, _)| u).map_err(|e| e.to_string()),
            _ => ServiceDaemon::new().map_err(|e| e.to_string()).and_then(|d| {
                let r = sd_resolve(&d, &ty, o.timeout, true);
                let _ = d.shutdown();
                r
            }),
        };
        report("fresh", t.elapsed().as_secs_f64(), r);
        if o.runs > 1 {
            std::thread::sleep(if stack == "sd" { SD_GAP } else { OURS_GAP });
        }
    }
    if o.warm == 0 {
        return;
    }
    match stack {
        "ours" => {
            let zc = ironicmdns::Zeroconf::new(ours_config(&o)).unwrap_or_else(|e| die(&e.to_string()));
            let mut first = true;
            for _ in 0..=o.warm {
                let t = Instant::now();
                let r = zc.get_endpoint(&ty, true, false).map(|(u, _)| u).map_err(|e| e.to_string());
                report(if first { "first" } else { "warm" }, t.elapsed().as_secs_f64(), r);
                first = false;
            }
            let _ = zc.close();
        }
        _ => {
            let d = ServiceDaemon::new().unwrap_or_else(|e| die(&e.to_string()));
            let mut first = true;
            for _ in 0..=o.warm {
                let t = Instant::now();
                let r = sd_resolve(&d, &ty, o.timeout, false);
                report(if first { "first" } else { "warm" }, t.elapsed().as_secs_f64(), r);
                first = false;
            }
            let _ = d.shutdown();
        }
    }
}

fn register(stack: &str, o: Opts) {
    let set = block_signals();
    match stack {
        "ours" => {
            let [ty, url] = o.rest.as_slice() else { die("register ours TYPE URL") };
            let zc = ironicmdns::Zeroconf::new(ours_config(&o)).unwrap_or_else(|e| die(&e.to_string()));
            println!("{{\"start\": {:.6}}}", now());
            if let Err(e) = zc.register_service(ty, url, None) {
                println!("{{\"failed\": {}}}", json_str(&e.to_string()));
                std::process::exit(2);
            }
            println!("{{\"ready\": {:.6}}}", now());
            wait_signal(&set);
            let _ = zc.close();
        }
        _ => {
            let [ty, ip, port, props @ ..] = o.rest.as_slice() else { die("register sd TYPE IP PORT [K=V...]") };
            let port: u16 = port.parse().unwrap_or_else(|_| die("PORT"));
            let props: Vec<(String, String)> =
                props.iter().map(|p| p.split_once('=').map(|(k, v)| (k.into(), v.into())).unwrap_or((p.clone(), String::new()))).collect();
            let d = ServiceDaemon::new().unwrap_or_else(|e| die(&e.to_string()));
            // Host name as python-zeroconf uses for an IP-literal endpoint.
            let host = format!("{ty}.{SERVICE}");
            let info = ServiceInfo::new(SERVICE, ty, &host, ip.as_str(), port, &props[..]).unwrap_or_else(|e| die(&e.to_string()));
            println!("{{\"start\": {:.6}}}", now());
            if let Err(e) = d.register(info) {
                println!("{{\"failed\": {}}}", json_str(&e.to_string()));
                std::process::exit(2);
            }
            println!("{{\"ready\": {:.6}}}", now());
            wait_signal(&set);
            if let Ok(rx) = d.unregister(&format!("{ty}.{SERVICE}")) {
                let _ = rx.recv_timeout(Duration::from_secs(2));
            }
            let _ = d.shutdown();
        }
    }
}

fn watch(o: Opts) {
    let ty = o.rest.first().cloned().unwrap_or_else(|| die("watch needs TYPE"));
    let d = ServiceDaemon::new().unwrap_or_else(|e| die(&e.to_string()));
    let _ = d.accept_unsolicited(true);
    println!("{{\"watching\": {:.6}}}", now());
    let r = sd_resolve(&d, &ty, o.timeout, true);
    match r {
        Ok(_) => println!("{{\"found\": {:.6}}}", now()),
        Err(e) => println!("{{\"failed\": {}}}", json_str(&e)),
    }
    let _ = d.shutdown();
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (cmd, stack) = (args.first().map(String::as_str), args.get(1).map(String::as_str));
    match (cmd, stack) {
        (Some("lookup"), Some(s @ ("ours" | "sd"))) => lookup(s, opts(&args[2..])),
        (Some("register"), Some(s @ ("ours" | "sd"))) => register(s, opts(&args[2..])),
        (Some("watch"), _) => watch(opts(&args[1..])),
        (Some("spawn"), _) => spawn(&args[1..]),
        (Some("rawquery"), _) => rawquery(opts(&args[1..])),
        (Some("signcost"), _) => signcost(opts(&args[1..])),
        _ => die("usage: mdns-bench lookup|register ours|sd ... | watch TYPE"),
    }
}

/// `spawn`: time whole processes (see the usage at the top).
fn spawn(args: &[String]) {
    let Some(dash) = args.iter().position(|a| a == "--") else {
        die("spawn: -- PROGRAM [ARGS...] missing")
    };
    let (mut runs, mut gap) = (7usize, 200u64);
    let mut it = args[..dash].iter();
    while let Some(a) = it.next() {
        let mut val = || it.next().cloned().unwrap_or_else(|| die(a));
        match a.as_str() {
            "--runs" => runs = val().parse().unwrap_or_else(|_| die("--runs")),
            "--gap-ms" => gap = val().parse().unwrap_or_else(|_| die("--gap-ms")),
            _ => die(a),
        }
    }
    let prog = args.get(dash + 1).unwrap_or_else(|| die("spawn: PROGRAM missing"));
    for _ in 0..=runs {
        std::thread::sleep(Duration::from_millis(gap));
        let t = Instant::now();
        let st = std::process::Command::new(prog)
            .args(&args[dash + 2..])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        let ok = st.is_ok_and(|s| s.success());
        println!("{{\"ms\": {ms:.4}, \"ok\": {ok}}}");
    }
}

/// `rawquery`: the floor of a one-shot lookup (see the usage at the top).
fn rawquery(o: Opts) {
    let ty = o.rest.first().cloned().unwrap_or_else(|| die("rawquery: TYPE missing"));
    let mut name = Vec::new();
    for label in [ty.as_str(), "_openstack", "_tcp", "local"] {
        name.push(label.len() as u8);
        name.extend_from_slice(label.as_bytes());
    }
    name.push(0);
    for i in 0..=o.runs {
        std::thread::sleep(OURS_GAP);
        let id = (now().fract() * 65535.0) as u16 ^ i as u16;
        let mut q = Vec::with_capacity(64);
        q.extend_from_slice(&id.to_be_bytes());
        q.extend_from_slice(&[0, 0, 0, 3, 0, 0, 0, 0, 0, 0]);
        for qtype in [33u16, 16, 1] {
            q.extend_from_slice(&name);
            q.extend_from_slice(&qtype.to_be_bytes());
            q.extend_from_slice(&1u16.to_be_bytes());
        }
        let t = Instant::now();
        let ok = (|| -> std::io::Result<bool> {
            let s = std::net::UdpSocket::bind("0.0.0.0:0")?;
            s.set_multicast_ttl_v4(255)?;
            s.set_read_timeout(Some(o.timeout))?;
            s.send_to(&q, "224.0.0.251:5353")?;
            let mut buf = [0u8; 9000];
            loop {
                let (n, _) = s.recv_from(&mut buf)?;
                if n >= 12 && buf[..2] == id.to_be_bytes() && buf[2] & 0x80 != 0 {
                    return Ok(true);
                }
            }
        })()
        .unwrap_or(false);
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        println!("{{\"kind\": \"raw\", \"ms\": {ms:.4}, \"ok\": {ok}}}");
    }
}

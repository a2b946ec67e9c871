//! DNSSEC on mDNS between private hosts (tests/common/lab.rs): a signing
//! publisher (keys made by BIND's dnssec-keygen, loaded with
//! `trust::load_bind_key`), a validating lookup, a hostile host that
//! answers the lookup with forgeries, and the peers (dnspython's
//! `dns.dnssec`, ironic_lib, Avahi) reading our signed answers.
//!
//! Hosts: 0 publisher, 1 agent (validating lookup), 2 forger or peer.
//! A missing tool skips its part with a message, or fails with
//! IRONICMDNS_REQUIRE_PEERS=1.

#[macro_use]
mod common;

use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ironicmdns::trust::{
    self, load_bind_key, Anchor, AnchorSet, DigestType, Rr, SigningKeyRef, TrustPolicy,
};
use ironicmdns::{Config, Error, Zeroconf};
use simple_dns::rdata::{RData, A, DNSKEY, RRSIG, SRV, TXT};
use simple_dns::{CharacterString, Name, Packet, PacketFlag, ResourceRecord, CLASS};
use socket2::{Domain, Protocol, Socket, Type};

use common::lab::Lab;
use common::support::{require_peers, unix_now};

const INSTANCE: &str = "baremetal._openstack._tcp.local";

fn skip_or_fail(what: &str) {
    assert!(!require_peers(), "{what} and IRONICMDNS_REQUIRE_PEERS=1");
    println!("skipped: {what}");
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn scratch(tag: &str) -> PathBuf {
    common::support::scratch(&format!("tmdns-{tag}"))
}

/// A key pair for `local.` made by dnssec-keygen (`alg`: ED25519 or
/// ECDSAP256SHA256), loaded as the engine takes it.
fn keygen(dir: &Path, alg: &str) -> Option<SigningKeyRef> {
    let out = Command::new("dnssec-keygen")
        .args(["-q", "-K"])
        .arg(dir)
        .args(["-a", alg, "-n", "ZONE", "-f", "KSK", "local."])
        .output();
    let out = match out {
        Ok(o) if o.status.success() => o,
        _ => {
            skip_or_fail("dnssec-keygen missing (apt-get install bind9-utils)");
            return None;
        }
    };
    let stem = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let loaded = load_bind_key(&dir.join(format!("{stem}.private"))).expect("load_bind_key");
    Some(SigningKeyRef(Arc::new(loaded.key)))
}

fn local() -> trust::Name {
    trust::Name::parse("local.").unwrap()
}

fn dnskey_policy(k: &SigningKeyRef) -> TrustPolicy {
    let a = Anchor::Dnskey {
        owner: Some(local()),
        key: k.dnskey().clone(),
    };
    TrustPolicy::new(
        AnchorSet::from_anchors(vec![a]).unwrap(),
        trust::DEFAULT_CLOCK_SKEW,
    )
}

fn ds_policy(k: &SigningKeyRef) -> TrustPolicy {
    // The compact form an operator puts on a kernel command line.
    let ds = k.dnskey().ds(&local(), DigestType::Sha256);
    let text = format!(
        "{}:{}:2:{}",
        ds.key_tag,
        ds.algorithm,
        ds.digest
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<String>()
    );
    TrustPolicy::new(AnchorSet::parse(&text).unwrap(), trust::DEFAULT_CLOCK_SKEW)
}

fn config_on(addr: IpAddr) -> Config {
    Config {
        interfaces: Some(vec![addr]),
        lookup_timeout: Duration::from_millis(1500),
        ..Config::default()
    }
}

/// The publisher: host 0 registers `baremetal` signed with `k`.
fn publish(lab: &Lab, k: &SigningKeyRef) -> Zeroconf {
    let a = lab.v4(0);
    let k = k.clone();
    lab.run_on(0, move || {
        let zc = Zeroconf::new(Config {
            signing_key: Some(k),
            ..config_on(a)
        })
        .expect("publisher");
        zc.register_service("baremetal", &format!("http://{a}:6385/baremetal"), None)
            .expect("signed registration");
        zc
    })
}

/// The agent's lookup on host 1 with `policy` and `options` (name, value)
/// set over the lab's defaults.
fn agent_lookup(
    lab: &Lab,
    policy: TrustPolicy,
    attempts: u32,
    options: &'static [(&'static str, &'static str)],
) -> ironicmdns::Result<String> {
    let b = lab.v4(1);
    lab.run_on(1, move || {
        let mut c = Config {
            trust: Some(policy),
            lookup_attempts: attempts,
            ..config_on(b)
        };
        for (name, value) in options {
            c.set(name, value).unwrap();
        }
        let zc = Zeroconf::new(c).expect("agent");
        let got = zc
            .get_endpoint("baremetal", false, false)
            .map(|(url, _)| url);
        zc.close().expect("close agent");
        got
    })
}

#[test]
fn signed_registration_validates_with_dnskey_and_ds_anchors() {
    let Some(lab) = lab!(2) else { return };
    let dir = scratch("anchors");
    for alg in ["ED25519", "ECDSAP256SHA256"] {
        let Some(k) = keygen(&dir, alg) else { return };
        let publisher = publish(&lab, &k);
        for (what, policy) in [("DNSKEY", dnskey_policy(&k)), ("DS", ds_policy(&k))] {
            let t = Instant::now();
            let url =
                agent_lookup(&lab, policy, 1, &[]).unwrap_or_else(|e| panic!("{alg} {what}: {e}"));
            println!("{alg} {what} anchor: {url} in {:?}", t.elapsed());
            assert!(url.contains(&lab.v4(0).to_string()), "{url}");
        }
        // The engine's own report: every RRset validated.
        let b = lab.v4(1);
        let policy = dnskey_policy(&k);
        let s = lab.run_on(1, move || {
            let m = ironicmdns::engine::Mdns::start(ironicmdns::engine::MdnsOptions {
                interfaces: Some(vec![b]),
                trust: Some(policy),
                ..Default::default()
            })
            .unwrap();
            let s = m.resolve(&format!("{INSTANCE}."), Duration::from_secs(2));
            m.close().unwrap();
            s
        });
        let s = s.expect("resolve").expect("found");
        assert!(s.validated, "{alg}");
        publisher.close().expect("close publisher");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------- forger

/// A forger's answer: SRV, TXT and A for the instance pointing at host 2,
/// and whatever `extra` it adds (signatures, keys).
struct Forgery {
    records: Vec<ResourceRecord<'static>>,
}

fn name(s: &str) -> Name<'static> {
    Name::new_unchecked(s).into_owned()
}

fn forged_srv() -> ResourceRecord<'static> {
    let srv = SRV {
        priority: 0,
        weight: 0,
        port: 6385,
        target: name(INSTANCE),
    };
    ResourceRecord::new(name(INSTANCE), CLASS::IN, 120, RData::SRV(srv)).with_cache_flush(true)
}

fn txt(value: &str) -> ResourceRecord<'static> {
    let mut t = TXT::new();
    t.add_char_string(CharacterString::new(value.as_bytes()).unwrap().into_owned());
    ResourceRecord::new(name(INSTANCE), CLASS::IN, 4500, RData::TXT(t.into_owned()))
        .with_cache_flush(true)
}

fn addr(ip: Ipv4Addr) -> ResourceRecord<'static> {
    ResourceRecord::new(name(INSTANCE), CLASS::IN, 120, RData::A(A::from(ip)))
        .with_cache_flush(true)
}

/// Uncompressed RDATA of one record.
fn rdata(r: &ResourceRecord<'_>) -> Vec<u8> {
    let mut p = Packet::new_reply(0);
    let mut r = r.clone();
    r.name = Name::new_unchecked("");
    p.answers.push(r);
    let b = p.build_bytes_vec().unwrap();
    b[23..].to_vec()
}

fn to_rr(r: &ResourceRecord<'_>) -> Rr {
    let labels: Vec<Vec<u8>> = r
        .name
        .get_labels()
        .iter()
        .map(|l| l.as_ref().to_vec())
        .collect();
    Rr {
        owner: trust::Name::from_labels(labels.iter().map(Vec::as_slice)).unwrap(),
        rtype: u16::from(r.rdata.type_code()),
        class: 1,
        ttl: r.ttl,
        rdata: rdata(r),
    }
}

fn rrsig_record(owner: &Name<'static>, s: &trust::Rrsig, ttl: u32) -> ResourceRecord<'static> {
    let rd = RRSIG {
        type_covered: s.type_covered,
        algorithm: s.algorithm,
        labels: s.labels,
        original_ttl: s.original_ttl,
        signature_expiration: s.expiration,
        signature_inception: s.inception,
        key_tag: s.key_tag,
        signer_name: name("local"),
        signature: s.signature.clone().into(),
    };
    ResourceRecord::new(owner.clone(), CLASS::IN, ttl, RData::RRSIG(rd)).with_cache_flush(true)
}

fn dnskey_record(k: &SigningKeyRef) -> ResourceRecord<'static> {
    let d = k.dnskey();
    let rd = DNSKEY {
        flags: d.flags,
        protocol: d.protocol,
        algorithm: d.algorithm,
        public_key: d.public_key.clone().into(),
    };
    ResourceRecord::new(name("local"), CLASS::IN, 4500, RData::DNSKEY(rd))
}

/// Each record signed alone by `k` over `[inception, expiration]`.
fn sign_each(
    k: &SigningKeyRef,
    rs: &[ResourceRecord<'static>],
    inc: u32,
    exp: u32,
) -> Vec<ResourceRecord<'static>> {
    let mut out = rs.to_vec();
    for r in rs {
        let s = k.sign_rrset(&[to_rr(r)], &local(), inc, exp).unwrap();
        out.push(rrsig_record(&r.name, &s, r.ttl));
    }
    out.push(dnskey_record(k));
    out
}

/// A UDP socket on port 5353 of the host with address `me`, in the mDNS
/// group there, multicast leaving from `me`, reads timing out after
/// `read_timeout`.
fn mdns_socket(me: Ipv4Addr, read_timeout: Duration) -> std::net::UdpSocket {
    let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP)).unwrap();
    s.set_reuse_address(true).unwrap();
    s.set_reuse_port(true).unwrap();
    s.bind(&SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 5353)).into())
        .unwrap();
    s.join_multicast_v4(&Ipv4Addr::new(224, 0, 0, 251), &me)
        .unwrap();
    s.set_multicast_if_v4(&me).unwrap();
    s.set_read_timeout(Some(read_timeout)).unwrap();
    s.into()
}

/// Answers every non-probe query heard on host 2 by unicast to the
/// asker (with the query's ID, for a one-shot query's ephemeral port),
/// until `stop`. Returns how many answers it sent.
fn run_forger(local_ip: Ipv4Addr, forgery: Forgery, stop: Arc<AtomicBool>) -> usize {
    let sock = mdns_socket(local_ip, Duration::from_millis(50));
    let mut buf = [0u8; 9000];
    let mut sent = 0;
    while !stop.load(Ordering::Relaxed) {
        let Ok((n, from)) = sock.recv_from(&mut buf) else {
            continue;
        };
        let Ok(q) = Packet::parse(&buf[..n]) else {
            continue;
        };
        let asks_us = q
            .questions
            .iter()
            .any(|x| x.qname.to_string().eq_ignore_ascii_case(INSTANCE));
        if q.has_flags(PacketFlag::RESPONSE) || !q.name_servers.is_empty() || !asks_us {
            continue;
        }
        let mut p = Packet::new_reply(q.id());
        p.set_flags(PacketFlag::AUTHORITATIVE_ANSWER);
        p.answers = forgery.records.clone();
        let bytes = p.build_bytes_vec_compressed().unwrap();
        if sock.send_to(&bytes, from).is_ok() {
            sent += 1;
        }
    }
    sent
}

/// `discovery = both` with a DNS server that never answers (no host at
/// that address): DNS finds nothing, and the mDNS answers it falls back
/// to must validate as well.
const BOTH_SILENT_DNS: &[(&str, &str)] = &[
    ("domain", "example.test"),
    ("dns_servers", "198.18.0.250"),
    ("discovery", "both"),
    ("lookup_timeout", "0.7"),
];

#[test]
fn forged_answers_never_win_with_or_without_the_publisher() {
    let Some(lab) = lab!(3) else { return };
    let dir = scratch("forger");
    let Some(k) = keygen(&dir, "ED25519") else {
        return;
    };
    let Some(other) = keygen(&dir, "ED25519") else {
        return;
    };
    let IpAddr::V4(evil) = lab.v4(2) else {
        unreachable!()
    };
    let w = unix_now() as u32;
    let skew = trust::DEFAULT_CLOCK_SKEW.as_secs() as u32;
    let genuine_txt = txt("path=/baremetal");
    // SRV, TXT and A of the instance, pointing at host 2.
    let forged = || vec![forged_srv(), txt("path=/evil"), addr(evil)];
    let rows: Vec<(&str, Vec<ResourceRecord<'static>>, &str)> = vec![
        ("unsigned", forged(), "no signature"),
        (
            "replayed past its window plus the skew",
            sign_each(&k, &forged(), w - 20 * 3600, w - skew - 600),
            "signature expired",
        ),
        (
            "signed by another key",
            sign_each(&other, &forged(), w - 3600, w + 3600),
            "not in the trust anchor",
        ),
        (
            "a valid RRSIG over a different RRset",
            {
                let s = k
                    .sign_rrset(&[to_rr(&genuine_txt)], &local(), w - 3600, w + 3600)
                    .unwrap();
                let mut on_srv = s.clone();
                on_srv.type_covered = 33;
                vec![
                    forged_srv(),
                    genuine_txt.clone(),
                    addr(evil),
                    rrsig_record(&name(INSTANCE), &s, 4500),
                    rrsig_record(&name(INSTANCE), &on_srv, 120),
                    dnskey_record(&k),
                ]
            },
            "bad signature",
        ),
        (
            "signed SRV and TXT with an unsigned A",
            {
                let mut v = sign_each(&k, &[forged_srv(), genuine_txt.clone()], w - 3600, w + 3600);
                v.push(addr(evil));
                v
            },
            "no signature (RRSIG) for baremetal._openstack._tcp.local. A",
        ),
        (
            "stripped RRSIGs",
            sign_each(&k, &forged(), w - 3600, w + 3600)
                .into_iter()
                .filter(|r| u16::from(r.rdata.type_code()) != 46)
                .collect(),
            "no signature",
        ),
    ];
    // The agent's lookup while host 2 answers it with `records`.
    let attacked = |what: &str, records: &Vec<ResourceRecord<'static>>| {
        let stop = Arc::new(AtomicBool::new(false));
        let s2 = stop.clone();
        let records = records.clone();
        let t = lab.spawn_on(2, move || run_forger(evil, Forgery { records }, s2));
        std::thread::sleep(Duration::from_millis(100));
        let got = agent_lookup(&lab, dnskey_policy(&k), 2, &[]);
        let both = agent_lookup(&lab, dnskey_policy(&k), 2, BOTH_SILENT_DNS);
        stop.store(true, Ordering::Relaxed);
        let answered = t.join().unwrap();
        assert!(
            answered > 0,
            "{what}: the forger answered nothing: proves nothing"
        );
        // discovery = both reaches the same verdict as mDNS alone.
        match (&got, &both) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{what}: discovery=both"),
            (Err(Error::Auth(_)), Err(Error::Auth(_))) => {}
            _ => panic!("{what}: mdns {got:?}, discovery=both {both:?}"),
        }
        got
    };
    // Without the publisher: Error::Auth saying why.
    for (what, records, says) in &rows {
        match attacked(what, records) {
            Err(Error::Auth(m)) => {
                println!("{what}: refused: {m}");
                assert!(m.contains(says), "{what}: {m}");
            }
            other => panic!("{what}: {other:?}"),
        }
    }
    // With the publisher: the genuine answer, never the forged one.
    let publisher = publish(&lab, &k);
    for (what, records, _) in &rows {
        let url = attacked(what, records).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(url.contains(&lab.v4(0).to_string()), "{what}: {url}");
        assert!(
            !url.contains(&evil.to_string()),
            "{what}: forged answer won: {url}"
        );
    }
    publisher.close().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------- peers

/// Host 2 asks for the PTR of the service type from port 5353 and
/// collects the multicast responses for `wait`.
fn capture_answers(lab: &Lab, wait: Duration) -> Vec<Vec<u8>> {
    let IpAddr::V4(me) = lab.v4(2) else {
        unreachable!()
    };
    lab.run_on(2, move || {
        let sock = mdns_socket(me, Duration::from_millis(100));
        let mut q = Packet::new_query(0);
        for (n, t) in [
            ("_openstack._tcp.local", simple_dns::TYPE::PTR),
            (INSTANCE, simple_dns::TYPE::SRV),
            (INSTANCE, simple_dns::TYPE::TXT),
            (INSTANCE, simple_dns::TYPE::A),
        ] {
            q.questions.push(simple_dns::Question::new(
                name(n),
                t.into(),
                simple_dns::QCLASS::CLASS(CLASS::IN),
                false,
            ));
        }
        sock.send_to(&q.build_bytes_vec().unwrap(), "224.0.0.251:5353")
            .unwrap();
        let end = Instant::now() + wait;
        let mut got = Vec::new();
        let mut buf = [0u8; 9000];
        while Instant::now() < end {
            if let Ok((n, _)) = sock.recv_from(&mut buf) {
                if Packet::parse(&buf[..n]).is_ok_and(|p| p.has_flags(PacketFlag::RESPONSE)) {
                    got.push(buf[..n].to_vec());
                }
            }
        }
        got
    })
}

/// RFC 3597 generic text of every record of `packet`.
fn generic_lines(packet: &[u8]) -> String {
    let p = Packet::parse(packet).unwrap();
    let mut out = String::new();
    for r in p.answers.iter().chain(p.additional_records.iter()) {
        let d = rdata(r);
        let hex: String = d.iter().map(|b| format!("{b:02x}")).collect();
        let owner = if r.name.get_labels().is_empty() {
            ".".to_string()
        } else {
            format!("{}.", r.name)
        };
        out.push_str(&format!(
            "{owner} {} IN TYPE{} \\# {} {}\n",
            r.ttl,
            u16::from(r.rdata.type_code()),
            d.len(),
            if hex.is_empty() { "" } else { &hex }
        ));
    }
    out
}

fn dnspython() -> Option<PathBuf> {
    let py = common::support::dnspython();
    if py.is_none() {
        skip_or_fail("no .venv with dnspython and cryptography (scripts/setup-peers.sh)");
    }
    py
}

/// dnspython's verdicts on the records in `text`, one line per RRset.
fn dnssec_peer(py: &Path, text: &str) -> String {
    let out = common::support::dnssec_peer_validate(py, unix_now(), text);
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[test]
fn our_signed_answers_validate_with_dnspython() {
    let Some(py) = dnspython() else { return };
    let Some(lab) = lab!(3) else { return };
    let dir = scratch("dnspython");
    for alg in ["ED25519", "ECDSAP256SHA256"] {
        let Some(k) = keygen(&dir, alg) else { return };
        let publisher = publish(&lab, &k);
        // Past the announcements' one-second rate limit (RFC 6762 s6.2),
        // so that the question is answered at once.
        std::thread::sleep(Duration::from_millis(2500));
        let packets = capture_answers(&lab, Duration::from_millis(700));
        assert!(!packets.is_empty(), "{alg}: no answer captured");
        let mut types_ok = std::collections::BTreeSet::new();
        for bytes in &packets {
            let text = generic_lines(bytes);
            let out = dnssec_peer(&py, &text);
            for line in out.lines() {
                assert!(line.starts_with("ok "), "{alg}: dnspython: {line}\n{text}");
                types_ok.insert(line.rsplit(' ').next().unwrap().to_string());
            }
        }
        println!(
            "{alg}: dnspython validated {types_ok:?} in {} packets",
            packets.len()
        );
        // One flipped byte in the SRV's RDATA (the port): dnspython refuses it.
        let text = generic_lines(&packets[0]);
        let flipped: String = text
            .lines()
            .map(|l| {
                if l.contains(" TYPE33 ") {
                    let (head, hex) = l.rsplit_once(' ').unwrap();
                    let mut hex = hex.to_string();
                    let c = if &hex[9..10] == "0" { "1" } else { "0" };
                    hex.replace_range(9..10, c);
                    format!("{head} {hex}\n")
                } else {
                    format!("{l}\n")
                }
            })
            .collect();
        assert_ne!(flipped, text);
        let out = dnssec_peer(&py, &flipped);
        assert!(
            out.lines()
                .any(|l| l.starts_with("fail ") && l.contains(" SRV")),
            "{alg}: a flipped byte passed dnspython: {out}"
        );
        for t in ["PTR", "SRV", "TXT", "A", "DNSKEY"] {
            assert!(
                types_ok.contains(t),
                "{alg}: no validated {t}: {types_ok:?}"
            );
        }
        publisher.close().unwrap();
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_reference_and_avahi_still_find_a_signed_registration() {
    let Some(lab) = lab!(3) else { return };
    let dir = scratch("peers");
    let Some(k) = keygen(&dir, "ED25519") else {
        return;
    };
    let publisher = publish(&lab, &k);
    let a = lab.v4(0).to_string();
    // ironic_lib's get_endpoint (python-zeroconf underneath).
    let py = root().join(".venv/bin/python");
    let ironic_ok = py.exists()
        && Command::new(&py)
            .args(["-c", "import ironic_lib.mdns"])
            .status()
            .is_ok_and(|s| s.success());
    if ironic_ok {
        let out = lab
            .command(2, &py)
            .arg(root().join("tests/peers/ironic_lookup.py"))
            .arg("baremetal")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains(&a),
            "ironic_lib: {stdout} {}",
            String::from_utf8_lossy(&out.stderr)
        );
        println!("ironic_lib: {}", stdout.trim());
    } else {
        skip_or_fail("ironic_lib missing from .venv (scripts/setup-peers.sh)");
    }
    // Avahi's browse and resolve.
    let have_avahi = Command::new("sh")
        .args([
            "-c",
            "command -v avahi-browse && test -x /usr/sbin/avahi-daemon",
        ])
        .output()
        .is_ok_and(|o| o.status.success());
    if have_avahi {
        let adir = dir.join("avahi");
        let script = root().join("tests/peers/avahi_host.sh");
        let ifname = lab.host(2).ifname.clone();
        let sh = format!(
            "{s} start {d} {i} avahi-h2 v4 >/dev/null; \
             DBUS_SYSTEM_BUS_ADDRESS=unix:path={d}/system_bus_socket \
             timeout 10 avahi-browse -rtp _openstack._tcp || true; \
             {s} stop {d} >/dev/null",
            s = script.display(),
            d = adir.display(),
            i = ifname
        );
        let out = lab.sh(2, &sh).expect("avahi");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let resolved = stdout.lines().any(|l| {
            l.starts_with('=') && l.contains("baremetal") && l.contains(&a) && l.contains("6385")
        });
        assert!(
            resolved,
            "avahi-browse did not resolve our signed registration:\n{stdout}"
        );
        println!("avahi: resolved baremetal at {a}:6385");
    } else {
        skip_or_fail("avahi-daemon or avahi-utils missing");
    }
    publisher.close().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

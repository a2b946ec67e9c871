//! Unicast DNS-SD into a zone the server signs with DNSSEC (BIND 9.18
//! `dnssec-policy`, Knot 3.2 `dnssec-signing`), started on private lab
//! hosts (tests/common/lab.rs) and stopped by PID. Host 0 runs the server,
//! host 1 our CLI and the peer clients. These tests prove the servers sign
//! what we publish, that an independent validator (BIND's delv, dnspython)
//! accepts it under the DS the harness returns, that the unsigned lookup
//! is unchanged, that the impostor servers serve what they should, and
//! that our validating lookup (`Config.trust` holding the pinned DS)
//! accepts the genuine zone and refuses the impostor and the unsigned one
//! with Error::Auth.

#[macro_use]
mod common;
#[path = "dns/servers.rs"]
mod servers;
#[path = "dns/signed.rs"]
mod signed;

use std::process::Output;
use std::time::{Duration, Instant};

use common::lab::Lab;
use common::support::register_cli;
use ironicmdns::trust::{AnchorSet, TrustPolicy, DEFAULT_CLOCK_SKEW};
use ironicmdns::{Config, Error, Zeroconf};
use servers::{config, key_line, Algorithm, Kind, Roles, Server, Signing, DOMAIN, SRV_NAME, ZONE};
use signed::{
    owned_rrsets, signed_programs, start_impostor, start_signed_with, start_unsigned_with,
    zone_signing_tag, Ds, SERVICE_NAMES, SERVICE_RECORDS,
};

const HOST_NAME: &str = "baremetal.mystack.example.test.";
const PTR_NAME: &str = "_openstack._tcp.mystack.example.test.";
const URL: &str = "http://198.18.0.2:6385/baremetal";

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

/// delv's verdict: it exits 0 either way and prints a failure on stderr.
fn delv_refused(o: &Output, why: &str) -> bool {
    let err = String::from_utf8_lossy(&o.stderr);
    !text(o).contains("fully validated") && err.contains("resolution failed") && err.contains(why)
}

/// The DS with its digest changed in the last digit: a wrong pin.
fn wrong(ds: &Ds) -> Ds {
    let mut w = ds.clone();
    let last = w.digest.pop().unwrap();
    w.digest.push(if last == '0' { '1' } else { '0' });
    w
}

/// `ironic-mdns lookup baremetal` from host `h` through `server`, without
/// a trust anchor.
fn cli_lookup(lab: &Lab, h: usize, server: &Server) -> Output {
    lab.command(h, env!("CARGO_BIN_EXE_ironic-mdns"))
        .args(["lookup", "baremetal", "--domain", DOMAIN, "--dns-server"])
        .arg(server.v4.to_string())
        .args(["--lookup-timeout", "1"])
        .output()
        .unwrap()
}

/// Lines of the zone owned by our names (records, RRSIGs, NSECs).
fn ours(zone: &[String]) -> Vec<String> {
    zone.iter()
        .filter(|l| {
            SERVICE_NAMES
                .iter()
                .any(|n| l.starts_with(&format!("{n} ")))
        })
        .cloned()
        .collect()
}

/// The zone's data without the lines that change with every signing.
fn data(zone: &[String]) -> Vec<String> {
    let mut v: Vec<String> = zone
        .iter()
        .filter(|l| {
            !matches!(
                l.split(' ').nth(1),
                Some("RRSIG" | "NSEC" | "SOA" | "NSEC3" | "NSEC3PARAM")
            )
        })
        .cloned()
        .collect();
    v.sort();
    v.dedup();
    v
}

/// Our CLI registers into the signed zone; the server signs our SRV, TXT,
/// A and PTR with the zone's key; delv and dnspython validate them under
/// the DS the harness returns (and refuse a wrong DS); the unsigned lookup
/// finds the URL; SIGTERM withdraws our records and their signatures.
fn cli_into_signed_zone(lab: &Lab, kind: Kind, signing: Signing) {
    if !signed_programs(kind) {
        return;
    }
    let t0 = Instant::now();
    let srv = Server::start_signed(lab, 0, kind, signing);
    let alg = signing.algorithm.number();
    let keys = srv.dnskeys(lab, 1);
    let want_keys = if signing.roles == Roles::Csk { 1 } else { 2 };
    assert_eq!(keys.len(), want_keys, "{kind:?} {signing:?}: {keys:?}");
    assert!(keys.iter().all(|k| k.algorithm == alg), "{keys:?}");
    let sep = srv.sep_dnskey(lab, 1);
    let zsk = zone_signing_tag(&keys, signing);
    let ds = srv.ds(lab, 1);
    assert_eq!(
        (ds.key_tag, ds.algorithm, ds.digest_type),
        (sep.key_tag, alg, 2)
    );
    assert_eq!(ds, srv.ds_from_key_store(lab, 0), "served key = stored key");
    println!("{kind:?} {signing:?}: {}  /  {}", ds.text(), sep.text);
    let before = srv.axfr(lab, 1);
    assert!(ours(&before).is_empty(), "{before:?}");

    let mut reg = register_cli(
        lab,
        1,
        URL,
        [
            "--domain".to_string(),
            DOMAIN.to_string(),
            "--dns-server".to_string(),
            srv.v4.to_string(),
            "--tsig-key".to_string(),
            key_line(),
        ],
    );

    // the records, as published
    let expect = [
        (SRV_NAME, "SRV", "0 0 6385 baremetal.mystack.example.test."),
        (
            SRV_NAME,
            "TXT",
            "\"txtvers=1\" \"path=/baremetal\" \"protocol=http\"",
        ),
        (HOST_NAME, "A", "198.18.0.2"),
        (PTR_NAME, "PTR", SRV_NAME),
    ];
    for (name, rtype, rdata) in expect {
        // With inline signing the served (signed) copy of the zone follows
        // the UPDATE a moment later: wait for it, then compare.
        let until = Instant::now() + Duration::from_secs(5);
        let mut got = text(&srv.dig(lab, 1, &["+short", rtype, name]));
        while got.is_empty() && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(50));
            got = text(&srv.dig(lab, 1, &["+short", rtype, name]));
        }
        assert_eq!(got, rdata);
        // re-signed by the server, with the zone's signing key
        let sigs = srv.wait_rrsigs(lab, 1, name, rtype, Duration::from_secs(5));
        for s in &sigs {
            assert_eq!(
                (s.key_tag, s.algorithm, s.signer.as_str()),
                (zsk, alg, "example.test."),
                "{kind:?} {name} {rtype}: {sigs:?}"
            );
        }
        // delv: validated with only our DS as trust anchor
        let v = srv.delv(lab, 1, &ds, name, rtype);
        let out = String::from_utf8_lossy(&v.stdout);
        assert!(
            out.contains("; fully validated") && out.contains(rdata),
            "delv {name} {rtype}: {v:?}"
        );
        // dnspython: DS -> DNSKEY -> RRSIG -> RRset
        if let Some(r) = srv.dnspython_validate(lab, 1, &ds, name, rtype) {
            assert_eq!(r, Ok(vec![zsk]), "dnspython {name} {rtype}");
        }
    }
    // a wrong DS is refused by both validators (they are not vacuous)
    let bad = wrong(&ds);
    let v = srv.delv(lab, 1, &bad, SRV_NAME, "SRV");
    assert!(delv_refused(&v, "broken trust chain"), "{v:?}");
    if let Some(r) = srv.dnspython_validate(lab, 1, &bad, SRV_NAME, "SRV") {
        assert!(
            matches!(&r, Err(e) if e.contains("no served DNSKEY matches")),
            "{r:?}"
        );
    }

    // our lookup without a trust anchor: unchanged
    let look = cli_lookup(lab, 0, &srv);
    assert!(look.status.success(), "{look:?}");
    assert_eq!(
        String::from_utf8_lossy(&look.stdout),
        format!("{URL}\ntxtvers=1\n")
    );

    // SIGTERM: close withdraws ours; their RRSIGs and NSECs go too
    let status = reg.stop(Duration::from_secs(10)).unwrap();
    assert!(status.success(), "{status:?}");
    let until = Instant::now() + Duration::from_secs(5);
    let after = loop {
        let z = srv.axfr(lab, 1);
        if ours(&z).is_empty() || Instant::now() > until {
            break z;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(ours(&after), Vec::<String>::new(), "{kind:?}");
    assert_eq!(data(&after), data(&before), "nothing else changed");
    for (name, rtype, _) in expect {
        assert!(srv.rrsigs(lab, 1, name, rtype).is_empty(), "{name} {rtype}");
    }
    assert!(
        srv.signed_rrset(lab, 1, ZONE, "SOA"),
        "the zone stays signed"
    );
    srv.stop();
    println!("{kind:?} {signing:?}: {:?}", t0.elapsed());
}

#[test]
fn bind_signed_csk_alg13_inline_cli_register_validate_close() {
    let Some(lab) = lab!() else { return };
    cli_into_signed_zone(&lab, Kind::Bind, Signing::default());
}

#[test]
fn bind_signed_ksk_zsk_alg15_not_inline_cli_register_validate_close() {
    let Some(lab) = lab!() else { return };
    let mut s = Signing::ksk_zsk(Algorithm::Ed25519);
    s.inline = false;
    cli_into_signed_zone(&lab, Kind::Bind, s);
}

#[test]
fn knot_signed_ksk_zsk_alg13_cli_register_validate_close() {
    let Some(lab) = lab!() else { return };
    cli_into_signed_zone(
        &lab,
        Kind::Knot,
        Signing::ksk_zsk(Algorithm::EcdsaP256Sha256),
    );
}

#[test]
fn knot_signed_csk_alg15_cli_register_validate_close() {
    let Some(lab) = lab!() else { return };
    cli_into_signed_zone(&lab, Kind::Knot, Signing::csk(Algorithm::Ed25519));
}

/// The servers a validating lookup will have to tell apart, all serving
/// the same service records: the genuine signed zone (host 0, its DS
/// pinned), an impostor signed with its own key (host 2), an unsigned one
/// (host 3). Same RDATA everywhere; the impostor's RRSIGs carry its own
/// key tag and fail under the pinned DS; the unsigned one has no RRSIG and
/// no DNSKEY; today's unsigned lookup finds the same URL on all three.
fn impostors(lab: &Lab, kind: Kind) {
    if !signed_programs(kind) {
        return;
    }
    let genuine = start_signed_with(lab, 0, kind, Signing::default(), SERVICE_RECORDS);
    let pinned = genuine.ds(lab, 1);
    let impostor = start_impostor(lab, 2, kind, Signing::default(), SERVICE_RECORDS, &pinned);
    let plain = start_unsigned_with(lab, 3, kind, SERVICE_RECORDS);
    let genuine_tag = genuine.sep_dnskey(lab, 1).key_tag;
    let impostor_tag = impostor.sep_dnskey(lab, 1).key_tag;
    assert_eq!(genuine_tag, pinned.key_tag);
    assert!(plain.dnskeys(lab, 1).is_empty(), "unsigned: no DNSKEY");
    let rrsets = owned_rrsets(SERVICE_RECORDS);
    assert_eq!(rrsets.len(), 4, "{rrsets:?}");
    for (name, rtype) in &rrsets {
        let (name, rtype) = (name.as_str(), rtype.as_str());
        let want = text(&genuine.dig(lab, 1, &["+short", rtype, name]));
        assert!(!want.is_empty(), "{name} {rtype}");
        assert_eq!(text(&impostor.dig(lab, 1, &["+short", rtype, name])), want);
        assert_eq!(text(&plain.dig(lab, 1, &["+short", rtype, name])), want);
        let tags = |s: &Server| -> Vec<u16> {
            s.rrsigs(lab, 1, name, rtype)
                .iter()
                .map(|r| r.key_tag)
                .collect()
        };
        assert_eq!(tags(&genuine), vec![genuine_tag], "{name} {rtype}");
        assert_eq!(tags(&impostor), vec![impostor_tag], "{name} {rtype}");
        assert_eq!(tags(&plain), Vec::<u16>::new(), "{name} {rtype}");
    }
    // under the pinned DS: the genuine validates, the impostor does not
    let ok = genuine.delv(lab, 1, &pinned, SRV_NAME, "SRV");
    assert!(text(&ok).contains("; fully validated"), "{ok:?}");
    let no = impostor.delv(lab, 1, &pinned, SRV_NAME, "SRV");
    assert!(delv_refused(&no, "broken trust chain"), "{no:?}");
    let no = plain.delv(lab, 1, &pinned, SRV_NAME, "SRV");
    assert!(delv_refused(&no, "broken trust chain"), "{no:?}");
    if let Some(r) = genuine.dnspython_validate(lab, 1, &pinned, SRV_NAME, "SRV") {
        assert_eq!(r, Ok(vec![genuine_tag]));
        let r = impostor.dnspython_validate(lab, 1, &pinned, SRV_NAME, "SRV");
        assert!(
            matches!(&r, Some(Err(e)) if e.contains("no served DNSKEY matches")),
            "{r:?}"
        );
        let r = plain.dnspython_validate(lab, 1, &pinned, SRV_NAME, "SRV");
        assert!(
            matches!(&r, Some(Err(e)) if e.contains("no signed DNSKEY")),
            "{r:?}"
        );
    }
    // without a trust anchor, today's lookup cannot tell them apart
    for s in [&genuine, &impostor, &plain] {
        let look = cli_lookup(lab, 1, s);
        assert!(look.status.success(), "{look:?}");
        assert_eq!(
            String::from_utf8_lossy(&look.stdout),
            format!("{URL}\ntxtvers=1\n")
        );
    }
    plain.stop();
    impostor.stop();
    genuine.stop();
}

#[test]
fn bind_impostor_and_unsigned_servers_serve_the_same_records() {
    let Some(lab) = lab!(4) else { return };
    impostors(&lab, Kind::Bind);
}

#[test]
fn knot_impostor_and_unsigned_servers_serve_the_same_records() {
    let Some(lab) = lab!(4) else { return };
    impostors(&lab, Kind::Knot);
}

/// A lookup configuration through `server` validating under `ds`.
fn validating(server: std::net::IpAddr, ds: &Ds) -> Config {
    let mut c = config(server, false);
    c.trust = Some(TrustPolicy::new(
        AnchorSet::parse(&ds.text()).expect("the DS parses as an anchor"),
        DEFAULT_CLOCK_SKEW,
    ));
    c
}

/// `get_endpoint("baremetal")` on host `h` with `c`, and how long it took.
fn timed_lookup(lab: &Lab, h: usize, c: Config) -> (ironicmdns::Result<String>, Duration) {
    lab.run_on(h, move || {
        let zc = Zeroconf::new(c).unwrap();
        let t0 = Instant::now();
        let r = zc.get_endpoint("baremetal", true, false).map(|(u, _)| u);
        let took = t0.elapsed();
        zc.close().unwrap();
        (r, took)
    })
}

/// Our library registers by TSIG UPDATE into the zone the server signs;
/// our lookup with the zone's DS as the only anchor finds the URL; an
/// impostor signing the same records with its own key and an unsigned
/// server give Error::Auth saying why. Prints what validation costs (the
/// DO bit, the DNSKEY query, the verifications) against the same lookup
/// without validation.
fn validating_lookup(lab: &Lab, kind: Kind, signing: Signing) {
    if !signed_programs(kind) {
        return;
    }
    let genuine = Server::start_signed(lab, 0, kind, signing);
    let pinned = genuine.ds(lab, 1);
    let v4 = genuine.v4;
    let reg = lab.run_on(1, move || {
        let zc = Zeroconf::new(config(v4, true)).unwrap();
        zc.register_service("baremetal", URL, None).unwrap();
        zc
    });
    for (name, rtype) in [(SRV_NAME, "SRV"), (SRV_NAME, "TXT"), (HOST_NAME, "A")] {
        genuine.wait_rrsigs(lab, 1, name, rtype, Duration::from_secs(5));
    }
    // the genuine zone validates
    let (ok, _) = timed_lookup(lab, 2, validating(v4, &pinned));
    assert_eq!(ok.expect("validated lookup"), URL, "{kind:?} {signing:?}");
    // cost: the same lookup with and without validation, best of 5
    let best = |c: &dyn Fn() -> Config| {
        (0..5)
            .map(|_| {
                let (r, t) = timed_lookup(lab, 2, c());
                assert_eq!(r.unwrap(), URL);
                t
            })
            .min()
            .unwrap()
    };
    let plain_t = best(&|| config(v4, false));
    let valid_t = best(&|| validating(v4, &pinned));
    println!(
        "{kind:?} {signing:?}: lookup {:.2} ms unvalidated, {:.2} ms validated",
        plain_t.as_secs_f64() * 1e3,
        valid_t.as_secs_f64() * 1e3
    );
    // a wrong pin: the genuine zone is refused
    let (no, _) = timed_lookup(lab, 2, validating(v4, &wrong(&pinned)));
    assert!(
        matches!(&no, Err(Error::Auth(m)) if m.contains("SRV") && m.contains("does not validate")),
        "{no:?}"
    );
    // an impostor with its own key and an unsigned server, same records
    let impostor = start_impostor(lab, 3, kind, signing, SERVICE_RECORDS, &pinned);
    let (r, _) = timed_lookup(lab, 2, validating(impostor.v4, &pinned));
    let own = zone_signing_tag(&impostor.dnskeys(lab, 2), signing);
    match &r {
        Err(Error::Auth(m)) => assert!(
            m.contains("not in the trust anchor") && m.contains(&format!("key tag {own} ")),
            "{m}"
        ),
        other => panic!("impostor accepted: {other:?}"),
    }
    println!("impostor: {}", r.unwrap_err());
    impostor.stop();
    let plain = start_unsigned_with(lab, 3, kind, SERVICE_RECORDS);
    let (r, _) = timed_lookup(lab, 2, validating(plain.v4, &pinned));
    match &r {
        Err(Error::Auth(m)) => assert!(
            m.contains("no DNSSEC signature (RRSIG) over baremetal._openstack._tcp"),
            "{m}"
        ),
        other => panic!("unsigned answer accepted: {other:?}"),
    }
    println!("unsigned: {}", r.unwrap_err());
    // without an anchor, the same unsigned server is used as before
    let (r, _) = timed_lookup(lab, 2, config(plain.v4, false));
    assert_eq!(r.unwrap(), URL);
    plain.stop();
    lab.run_on(1, move || reg.close()).unwrap();
    genuine.stop();
}

#[test]
fn bind_csk_alg13_validating_lookup_refuses_impostor_and_unsigned() {
    let Some(lab) = lab!(4) else { return };
    validating_lookup(&lab, Kind::Bind, Signing::default());
}

#[test]
fn knot_ksk_zsk_alg15_validating_lookup_refuses_impostor_and_unsigned() {
    let Some(lab) = lab!(4) else { return };
    validating_lookup(&lab, Kind::Knot, Signing::ksk_zsk(Algorithm::Ed25519));
}

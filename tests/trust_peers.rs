//! src/trust against independent DNSSEC implementations: BIND's
//! `dnssec-keygen`, `dnssec-dsfromkey` and `dnssec-signzone`, and
//! dnspython's `dns.dnssec`, both ways. These are file tools: they open
//! no sockets. A missing tool skips its part with a message, or fails the
//! test with IRONICMDNS_REQUIRE_PEERS=1.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

use base64::Engine as _;
use common::support::{dnssec_peer_script as peer_script, require_peers, unix_now as now};
use ironicmdns::trust::{
    load_bind_key, parse_time, rrsig_rr, Algorithm, Anchor, AnchorSet, DigestType, Dnskey, Name,
    Rr, Rrsig, SigningKey, TrustPath, ValidationError, Validator,
};

// ---------------------------------------------------------------- set-up

/// True if `tool` is on PATH; else skips (or fails when peers are required).
fn have(tool: &str) -> bool {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
        .unwrap_or(false);
    if !found {
        assert!(
            !require_peers(),
            "{tool} missing and IRONICMDNS_REQUIRE_PEERS=1 (scripts/setup-peers.sh installs bind9-utils)"
        );
        println!("skipped: {tool} is not installed (apt-get install bind9-utils)");
    }
    found
}

/// The .venv's python with dnspython's dns.dnssec and `cryptography`.
fn python() -> Option<PathBuf> {
    let py = common::support::dnspython();
    if py.is_none() {
        assert!(
            !require_peers(),
            "dnspython with cryptography missing from .venv and IRONICMDNS_REQUIRE_PEERS=1 (scripts/setup-peers.sh)"
        );
        println!("skipped: no .venv with dnspython and cryptography (scripts/setup-peers.sh)");
    }
    py
}

fn scratch(tag: &str) -> PathBuf {
    common::support::scratch(&format!("trust-{tag}"))
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `stem` with `.ext` appended (BIND's key names hold dots of their own).
fn ext(stem: &Path, ext: &str) -> PathBuf {
    PathBuf::from(format!("{}.{ext}", stem.display()))
}

fn name(s: &str) -> Name {
    Name::parse(s).unwrap()
}

/// `dnssec-keygen` in `dir`; returns the key's path stem.
fn keygen(dir: &Path, args: &[&str]) -> PathBuf {
    let stem = run(Command::new("dnssec-keygen")
        .arg("-K")
        .arg(dir)
        .args(args)
        .args(["-n", "ZONE", "local."]));
    dir.join(stem.trim())
}

// ------------------------------------------------- record text for tests

fn rtype_number(t: &str) -> u16 {
    match t {
        "A" => 1,
        "NS" => 2,
        "SOA" => 6,
        "PTR" => 12,
        "TXT" => 16,
        "AAAA" => 28,
        "SRV" => 33,
        "DS" => 43,
        "RRSIG" => 46,
        "NSEC" => 47,
        "DNSKEY" => 48,
        _ => t
            .strip_prefix("TYPE")
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("type {t}")),
    }
}

fn b64(parts: &[&str]) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(parts.concat())
        .unwrap()
}

/// One record of `dnssec-signzone -O full` output (one record a line,
/// names fully qualified), for the types the test zone holds.
fn parse_full(line: &str) -> Option<Rr> {
    let line = line.trim();
    if line.is_empty() || line.starts_with(';') {
        return None;
    }
    let t: Vec<&str> = line.split_whitespace().collect();
    let (owner, ttl, class, rtype, rd) = (name(t[0]), t[1].parse().unwrap(), t[2], t[3], &t[4..]);
    assert_eq!(class, "IN", "{line}");
    let n = |s: &str| name(s).as_wire().to_vec();
    let mut rdata = Vec::new();
    match rtype {
        "A" => rdata.extend(rd[0].parse::<Ipv4Addr>().unwrap().octets()),
        "AAAA" => rdata.extend(rd[0].parse::<Ipv6Addr>().unwrap().octets()),
        "NS" | "PTR" => rdata.extend(n(rd[0])),
        "SOA" => {
            rdata.extend(n(rd[0]));
            rdata.extend(n(rd[1]));
            for v in &rd[2..7] {
                rdata.extend(v.parse::<u32>().unwrap().to_be_bytes());
            }
        }
        "SRV" => {
            for v in &rd[..3] {
                rdata.extend(v.parse::<u16>().unwrap().to_be_bytes());
            }
            rdata.extend(n(rd[3]));
        }
        "TXT" => {
            let quoted = line.split_once("TXT").unwrap().1;
            for s in quoted.split('"').skip(1).step_by(2) {
                rdata.push(s.len() as u8);
                rdata.extend(s.as_bytes());
            }
        }
        "NSEC" => {
            rdata.extend(n(rd[0]));
            let types: Vec<u16> = rd[1..].iter().map(|t| rtype_number(t)).collect();
            let max = *types.iter().max().unwrap();
            assert!(max < 256, "one window");
            let mut bitmap = vec![0u8; max as usize / 8 + 1];
            for t in types {
                bitmap[t as usize / 8] |= 0x80 >> (t % 8);
            }
            rdata.extend([0, bitmap.len() as u8]);
            rdata.extend(bitmap);
        }
        "DNSKEY" => {
            let key = Dnskey {
                flags: rd[0].parse().unwrap(),
                protocol: rd[1].parse().unwrap(),
                algorithm: rd[2].parse().unwrap(),
                public_key: b64(&rd[3..]),
            };
            rdata = key.to_rdata();
        }
        "RRSIG" => {
            let sig = Rrsig {
                type_covered: rtype_number(rd[0]),
                algorithm: rd[1].parse().unwrap(),
                labels: rd[2].parse().unwrap(),
                original_ttl: rd[3].parse().unwrap(),
                expiration: parse_time(rd[4]).unwrap(),
                inception: parse_time(rd[5]).unwrap(),
                key_tag: rd[6].parse().unwrap(),
                signer: name(rd[7]),
                signature: b64(&rd[8..]),
            };
            rdata = sig.to_rdata();
        }
        other => panic!("type {other} in {line}"),
    }
    Some(Rr {
        owner,
        rtype: rtype_number(rtype),
        class: 1,
        ttl,
        rdata,
    })
}

/// One record in RFC 3597 generic form: `OWNER TTL IN TYPEnn \# LEN HEX`.
fn parse_generic(line: &str) -> Rr {
    let t: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(t[4], "\\#", "{line}");
    let hex: String = t[6..].concat();
    let rdata: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    assert_eq!(rdata.len(), t[5].parse::<usize>().unwrap(), "{line}");
    Rr {
        owner: name(t[0]),
        rtype: rtype_number(t[3]),
        class: 1,
        ttl: t[1].parse().unwrap(),
        rdata,
    }
}

fn to_generic(rr: &Rr) -> String {
    let hex: String = rr.rdata.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{} {} IN TYPE{} \\# {} {hex}\n",
        rr.owner,
        rr.ttl,
        rr.rtype,
        rr.rdata.len()
    )
}

/// The RRsets (RRSIGs aside), keyed by lowercased owner and type.
fn rrsets(rrs: &[Rr]) -> BTreeMap<(String, u16), Vec<Rr>> {
    let mut out: BTreeMap<(String, u16), Vec<Rr>> = BTreeMap::new();
    for rr in rrs.iter().filter(|rr| rr.rtype != 46) {
        out.entry((rr.owner.to_string().to_lowercase(), rr.rtype))
            .or_default()
            .push(rr.clone());
    }
    out
}

/// Validates every RRset of `rrs`; then checks that a flipped RDATA octet,
/// a flipped signature octet, an upper-cased owner and a clock a day past
/// expiration each do what they must.
fn validate_all(anchors: &AnchorSet, rrs: &[Rr], signer_tag: u16, what: &str) -> usize {
    let t = now();
    let v = Validator::new(anchors, t, 0);
    let sets = rrsets(rrs);
    for ((owner, rtype), set) in &sets {
        let ok = v
            .validate(set, rrs)
            .unwrap_or_else(|e| panic!("{what}: {owner} type {rtype}: {e}"));
        assert_eq!(ok.key_tag, signer_tag, "{what}: {owner} type {rtype}");

        // flip the last letter or digit (inside a label for names), else
        // the last octet
        let mut flipped = set.clone();
        let rd = &mut flipped[0].rdata;
        let at = rd
            .iter()
            .rposition(u8::is_ascii_alphanumeric)
            .unwrap_or(rd.len() - 1);
        rd[at] ^= 0x01;
        if *rtype == 48 {
            // the DNSKEY RRset: flip the key, which the RRset's own
            // signature covers; the flipped key is not the anchor either
            let mut others: Vec<Rr> = rrs.iter().filter(|r| r.rtype != 48).cloned().collect();
            others.extend(flipped.clone());
            assert!(
                v.validate(&flipped, &others).is_err(),
                "{what}: flipped {owner} DNSKEY"
            );
        } else {
            let err = v.validate(&flipped, rrs).unwrap_err();
            assert!(
                matches!(err, ValidationError::BadSignature { .. }),
                "{what}: flipped {owner} type {rtype}: {err}"
            );
        }

        let mut upper = set.clone();
        for rr in &mut upper {
            rr.owner = name(&rr.owner.to_string().to_uppercase());
        }
        let mut sigs_upper: Vec<Rr> = rrs.to_vec();
        for rr in &mut sigs_upper {
            if rr.rtype == 46 && rr.owner == upper[0].owner {
                rr.owner = upper[0].owner.clone();
            }
        }
        v.validate(&upper, &sigs_upper)
            .unwrap_or_else(|e| panic!("{what}: upper-case {owner}: {e}"));

        let bad_sig: Vec<Rr> = rrs
            .iter()
            .map(|rr| {
                let mut rr = rr.clone();
                if rr.rtype == 46 && rr.owner == set[0].owner {
                    let last = rr.rdata.len() - 1;
                    rr.rdata[last] ^= 0x80;
                }
                rr
            })
            .collect();
        assert!(
            v.validate(set, &bad_sig).is_err(),
            "{what}: bad signature {owner}"
        );

        let late = Validator::new(anchors, t + 2 * 86400, 0);
        let err = late.validate(set, rrs).unwrap_err();
        assert!(
            matches!(err, ValidationError::Expired { .. }),
            "{what}: {owner} a day late: {err}"
        );
    }
    sets.len()
}

// ------------------------------------------------------------ BIND tests

#[test]
fn bind_keys_load_and_our_ds_equals_dsfromkey() {
    if !have("dnssec-keygen") || !have("dnssec-dsfromkey") {
        return;
    }
    let dir = scratch("keys");
    let local = name("local.");
    for alg in ["ED25519", "ECDSAP256SHA256"] {
        let stem = keygen(&dir, &["-a", alg]);
        let private = ext(&stem, "private");
        let loaded = load_bind_key(&private).unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert!(loaded.warnings.is_empty(), "{alg}: {:?}", loaded.warnings);
        assert_eq!(loaded.key.owner(), &local);
        std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o644)).unwrap();
        let warned = load_bind_key(&private).unwrap();
        assert_eq!(warned.warnings.len(), 1, "{alg}: world-readable");
        assert!(!format!("{:?}", warned.key).contains(&{
            let text = std::fs::read_to_string(&private).unwrap();
            text.lines()
                .find_map(|l| l.strip_prefix("PrivateKey: ").map(str::to_string))
                .unwrap()
        }));

        for (opt, dt) in [
            (["-2", ""], DigestType::Sha256),
            (["-a", "SHA-384"], DigestType::Sha384),
        ] {
            let args: Vec<&str> = opt.iter().copied().filter(|a| !a.is_empty()).collect();
            let printed = run(Command::new("dnssec-dsfromkey")
                .args(&args)
                .arg(ext(&stem, "key")));
            let ours = loaded.key.dnskey().ds(&local, dt);
            let set = AnchorSet::parse(&printed).unwrap_or_else(|e| panic!("{printed}: {e}"));
            let [Anchor::Ds { owner, ds }] = set.anchors() else {
                panic!("{printed}");
            };
            assert_eq!(owner.as_ref(), Some(&local));
            assert_eq!(*ds, ours, "{alg} {printed}");
            // the compact form of the same DS
            let compact = printed.split_whitespace().skip(3).collect::<Vec<_>>();
            let compact = format!(
                "{}:{}:{}:{}",
                compact[0],
                compact[1],
                compact[2],
                compact[3..].concat()
            );
            let set = AnchorSet::parse(&compact).unwrap();
            assert!(matches!(&set.anchors()[0], Anchor::Ds { ds, owner: None } if *ds == ours));
        }
        // the .key file itself is an anchor
        let set = AnchorSet::parse(&format!("@{}", ext(&stem, "key").display())).unwrap();
        assert!(
            matches!(&set.anchors()[0], Anchor::Dnskey { key, .. } if key == loaded.key.dnskey())
        );
    }
    // a private key beside another key's .key file: refused as a mismatch
    let a = keygen(&dir, &["-a", "ED25519"]);
    let b = keygen(&dir, &["-a", "ED25519"]);
    let mixed = dir.join("mixed");
    std::fs::copy(ext(&a, "private"), ext(&mixed, "private")).unwrap();
    std::fs::copy(ext(&b, "key"), ext(&mixed, "key")).unwrap();
    let err = load_bind_key(&mixed).unwrap_err().to_string();
    assert!(err.contains("does not match"), "{err}");
    // RSA keys are anchors, not signing keys
    let rsa = keygen(&dir, &["-a", "RSASHA256", "-b", "2048"]);
    let err = load_bind_key(&rsa).unwrap_err().to_string();
    assert!(err.contains("cannot sign"), "{err}");
    AnchorSet::parse(&format!("@{}", ext(&rsa, "key").display())).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

const ZONE: &str = "$TTL 120
local. IN SOA ns.local. admin.local. 1 3600 600 86400 120
local. IN NS ns.local.
ns.local. IN A 192.0.2.53
_openstack._tcp.local. IN PTR Baremetal._openstack._tcp.local.
Baremetal._openstack._tcp.local. IN SRV 0 0 6385 Conductor-1.Local.
Baremetal._openstack._tcp.local. IN TXT \"protocol=http\" \"path=/v1\"
conductor-1.local. IN A 192.0.2.10
conductor-1.local. IN A 192.0.2.11
conductor-1.local. IN AAAA 2001:db8::10
";

/// Signs the test zone with `keys` (path stems); returns its records.
fn signzone(dir: &Path, keys: &[&Path]) -> Vec<Rr> {
    let zone = dir.join("zone");
    let mut text = ZONE.to_string();
    for k in keys {
        text.push_str(&format!("$INCLUDE {}\n", ext(k, "key").display()));
    }
    std::fs::write(&zone, text).unwrap();
    let signed = dir.join("zone.signed");
    // -d and the working directory: the dsset file goes to the scratch
    // directory, not the source tree
    run(Command::new("dnssec-signzone")
        .current_dir(dir)
        .arg("-d")
        .arg(dir)
        .args([
            "-P",
            "-O",
            "full",
            "-o",
            "local.",
            "-s",
            "now-3600",
            "-e",
            "now+86400",
            "-K",
        ])
        .arg(dir)
        .arg("-f")
        .arg(&signed)
        .arg(&zone)
        .args(keys));
    std::fs::read_to_string(&signed)
        .unwrap()
        .lines()
        .filter_map(parse_full)
        .collect()
}

#[test]
fn bind_signed_zones_validate_with_ours() {
    if !have("dnssec-keygen") || !have("dnssec-signzone") || !have("dnssec-dsfromkey") {
        return;
    }
    for args in [
        &["-a", "ED25519"][..],
        &["-a", "ECDSAP256SHA256"][..],
        &["-a", "RSASHA256", "-b", "2048"][..],
    ] {
        let dir = scratch(&format!("signzone-{}", args[1]));
        let stem = keygen(&dir, args);
        let rrs = signzone(&dir, &[&stem]);
        assert!(rrs.iter().any(|r| r.rtype == 46), "{args:?}: no RRSIG");
        let key_text = std::fs::read_to_string(ext(&stem, "key")).unwrap();
        let by_key = AnchorSet::parse(&key_text).unwrap();
        let tag = match &by_key.anchors()[0] {
            Anchor::Dnskey { key, .. } => key.key_tag(),
            _ => unreachable!(),
        };
        // SOA, NS, DNSKEY, PTR, SRV, TXT, 2 A, AAAA, 5 NSEC
        let n = validate_all(&by_key, &rrs, tag, args[1]);
        assert_eq!(n, 14, "{args:?}");
        let ds = run(Command::new("dnssec-dsfromkey")
            .arg("-2")
            .arg(ext(&stem, "key")));
        let by_ds = AnchorSet::parse(&ds).unwrap();
        assert_eq!(validate_all(&by_ds, &rrs, tag, args[1]), 14);
        // another key of the same algorithm is the wrong key
        let other = keygen(&dir, args);
        let other = AnchorSet::parse(&format!("@{}", ext(&other, "key").display())).unwrap();
        let srv = rrsets(&rrs)[&(String::from("baremetal._openstack._tcp.local."), 33)].clone();
        let err = Validator::new(&other, now(), 0)
            .validate(&srv, &rrs)
            .unwrap_err();
        assert!(
            matches!(err, ValidationError::WrongKey { key_tag, .. } if key_tag == tag),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn bind_ksk_and_zsk_validate_from_the_ksk_ds() {
    if !have("dnssec-keygen") || !have("dnssec-signzone") || !have("dnssec-dsfromkey") {
        return;
    }
    let dir = scratch("ksk");
    let ksk = keygen(&dir, &["-a", "ECDSAP256SHA256", "-f", "KSK"]);
    let zsk = keygen(&dir, &["-a", "ECDSAP256SHA256"]);
    let rrs = signzone(&dir, &[&ksk, &zsk]);
    let tag = |stem: &Path| load_bind_key(stem).unwrap().key.key_tag();
    let (ksk_tag, zsk_tag) = (tag(&ksk), tag(&zsk));
    let ds = run(Command::new("dnssec-dsfromkey")
        .arg("-2")
        .arg(ext(&ksk, "key")));
    let t: Vec<&str> = ds.split_whitespace().collect();
    let compact = format!("{}:{}:{}:{}", t[3], t[4], t[5], t[6..].concat());
    let anchors = AnchorSet::parse(&compact).unwrap();
    let sets = rrsets(&rrs);
    let v = Validator::new(&anchors, now(), 0);
    let srv = &sets[&(String::from("baremetal._openstack._tcp.local."), 33)];
    let ok = v.validate(srv, &rrs).unwrap();
    assert_eq!(ok.key_tag, zsk_tag);
    assert_eq!(
        ok.path,
        TrustPath::SignedByAnchoredKey {
            key_tag: ksk_tag,
            algorithm: 13
        }
    );
    // without the KSK's RRSIG over the DNSKEY RRset the ZSK is not trusted
    let stripped: Vec<Rr> = rrs
        .iter()
        .filter(|r| !(r.rtype == 46 && Rrsig::from_rdata(&r.rdata).unwrap().type_covered == 48))
        .cloned()
        .collect();
    let err = v.validate(srv, &stripped).unwrap_err();
    assert!(
        matches!(err, ValidationError::WrongKey { key_tag, .. } if key_tag == zsk_tag),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Knot's `keymgr ds` and `keymgr dnskey` print anchors without a class
/// and with lowercase hex; they parse, and our DS of Knot's DNSKEY equals
/// Knot's DS for both digest types.
#[test]
fn knot_keymgr_output_parses_as_anchors() {
    if !have("keymgr") {
        return;
    }
    let dir = scratch("keymgr");
    let db = dir.join("db");
    let local = name("local.");
    for alg in ["13", "15"] {
        let keymgr = |args: &[&str]| {
            run(Command::new("keymgr")
                .arg("-D")
                .arg(&db)
                .arg("local.")
                .args(args))
        };
        let id = keymgr(&["generate", &format!("algorithm={alg}"), "ksk=yes"]);
        let id = id.trim();
        let ds_text = keymgr(&["ds", id]);
        let key_text = keymgr(&["dnskey", id]);
        let key = match AnchorSet::parse(&key_text).unwrap().anchors() {
            [Anchor::Dnskey { owner, key }] => {
                assert_eq!(owner.as_ref(), Some(&local));
                key.clone()
            }
            other => panic!("{key_text}: {other:?}"),
        };
        let set = AnchorSet::parse(&ds_text).unwrap_or_else(|e| panic!("{ds_text}: {e}"));
        assert_eq!(set.anchors().len(), 2, "{ds_text}");
        for anchor in set.anchors() {
            let Anchor::Ds { ds, .. } = anchor else {
                panic!("{ds_text}");
            };
            let dt = DigestType::from_number(ds.digest_type).unwrap();
            assert_eq!(*ds, key.ds(&local, dt), "{alg}: {ds_text}");
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

// ------------------------------------------------------- dnspython tests

/// The RRsets of a DNS-SD service as the conductor would publish them.
fn service_rrsets() -> Vec<Vec<Rr>> {
    let rr = |owner: &str, rtype: u16, rdata: Vec<u8>| Rr {
        owner: name(owner),
        rtype,
        class: 1,
        ttl: 120,
        rdata,
    };
    let mut srv = vec![0, 0, 0, 0, 0x18, 0xf1];
    srv.extend(name("Conductor-1.Local.").as_wire());
    vec![
        vec![rr(
            "_openstack._tcp.local.",
            12,
            name("Baremetal._openstack._tcp.local.").as_wire().to_vec(),
        )],
        vec![rr("Baremetal._openstack._tcp.local.", 33, srv)],
        vec![
            rr(
                "baremetal._openstack._tcp.local.",
                16,
                b"\x0dprotocol=http".to_vec(),
            ),
            rr(
                "baremetal._openstack._tcp.local.",
                16,
                b"\x08path=/v1".to_vec(),
            ),
        ],
        vec![
            rr("Conductor-1.local.", 1, vec![192, 0, 2, 10]),
            rr("Conductor-1.local.", 1, vec![192, 0, 2, 11]),
        ],
        vec![rr(
            "conductor-1.local.",
            28,
            "2001:db8::10"
                .parse::<Ipv6Addr>()
                .unwrap()
                .octets()
                .to_vec(),
        )],
    ]
}

/// Runs the dnspython peer's `validate` over `rrs`; returns its lines.
fn dnspython_validate(py: &Path, rrs: &[Rr], at: u64) -> Vec<String> {
    let text: String = rrs.iter().map(to_generic).collect();
    let out = common::support::dnssec_peer_validate(py, at, &text);
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn sign_service(key: &SigningKey, at: u64) -> Vec<Rr> {
    let mut rrs = vec![key.dnskey_rr(120)];
    let mut sets = service_rrsets();
    sets.push(vec![key.dnskey_rr(120)]);
    for set in &sets {
        let sig = key
            .sign_rrset(set, &name("local."), (at - 3600) as u32, (at + 3600) as u32)
            .unwrap();
        if set[0].rtype != 48 {
            rrs.extend(set.iter().cloned());
        }
        rrs.push(rrsig_rr(&set[0].owner, &sig));
    }
    rrs
}

#[test]
fn our_signatures_validate_with_dnspython() {
    let Some(py) = python() else { return };
    let at = now();
    let mut keys: Vec<(String, SigningKey)> = [Algorithm::Ed25519, Algorithm::EcdsaP256Sha256]
        .into_iter()
        .map(|a| {
            (
                format!("{a:?}"),
                SigningKey::generate(name("local."), a, 257).unwrap(),
            )
        })
        .collect();
    // the conductor's case: a key from dnssec-keygen's files
    if have("dnssec-keygen") {
        let dir = scratch("py-bind");
        for alg in ["ED25519", "ECDSAP256SHA256"] {
            let stem = keygen(&dir, &["-a", alg]);
            keys.push((format!("bind {alg}"), load_bind_key(&stem).unwrap().key));
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
    for (what, key) in &keys {
        let rrs = sign_service(key, at);
        let lines = dnspython_validate(&py, &rrs, at);
        assert_eq!(lines.len(), 6, "{what}: {lines:?}");
        assert!(
            lines.iter().all(|l| l.starts_with("ok ")),
            "{what}: {lines:?}"
        );
        // one flipped octet in the SRV record: dnspython refuses that one
        let mut flipped = rrs.clone();
        let srv = flipped.iter_mut().find(|r| r.rtype == 33).unwrap();
        srv.rdata[5] ^= 0x01;
        let lines = dnspython_validate(&py, &flipped, at);
        let fails: Vec<&String> = lines.iter().filter(|l| l.starts_with("fail ")).collect();
        assert_eq!(fails.len(), 1, "{what}: {lines:?}");
        assert!(fails[0].contains(" SRV"), "{what}: {lines:?}");
        // and a clock two hours on: all expired
        let lines = dnspython_validate(&py, &rrs, at + 7200);
        assert!(
            lines.iter().all(|l| l.starts_with("fail ")),
            "{what}: {lines:?}"
        );
    }
}

#[test]
fn dnspython_signatures_validate_with_ours() {
    let Some(py) = python() else { return };
    let at = now();
    for alg in ["ED25519", "ECDSAP256SHA256"] {
        let out = run(Command::new(&py)
            .arg(peer_script())
            .args(["sign", alg, &at.to_string()]));
        let rrs: Vec<Rr> = out.lines().map(parse_generic).collect();
        let dnskey = rrs.iter().find(|r| r.rtype == 48).unwrap();
        let key = Dnskey::from_rdata(&dnskey.rdata).unwrap();
        let anchors = AnchorSet::from_anchors(vec![Anchor::Dnskey {
            owner: Some(name("local.")),
            key: key.clone(),
        }])
        .unwrap();
        // DNSKEY, PTR, SRV, TXT, A, AAAA
        assert_eq!(validate_all(&anchors, &rrs, key.key_tag(), alg), 6);
        let ds_anchor = AnchorSet::from_anchors(vec![Anchor::Ds {
            owner: None,
            ds: key.ds(&name("local."), DigestType::Sha384),
        }])
        .unwrap();
        assert_eq!(validate_all(&ds_anchor, &rrs, key.key_tag(), alg), 6);
    }
}

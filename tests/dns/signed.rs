//! Signed zones on the test servers (tests/dns/servers.rs started with
//! `Signing`): the zone's DNSKEYs and DS as served and as held in the
//! server's key store, the RRSIGs over an RRset, the whole signed zone,
//! independent validation (BIND's `delv` and dnspython), and the servers a
//! validating lookup must refuse: the same records signed with another key,
//! or not signed at all. Every query runs on a lab host (`lab.command`).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::lab::Lab;
use crate::servers::{have, Kind, Roles, Server, Signing, ZONE};

/// The records `ironic-mdns register baremetal
/// http://198.18.0.2:6385/baremetal --domain mystack.example.test` puts in
/// the zone, as nsupdate lines: what an impostor serves in its place.
pub const SERVICE_RECORDS: &str = "\
update add _openstack._tcp.mystack.example.test. 60 IN PTR baremetal._openstack._tcp.mystack.example.test.
update add baremetal._openstack._tcp.mystack.example.test. 60 IN SRV 0 0 6385 baremetal.mystack.example.test.
update add baremetal._openstack._tcp.mystack.example.test. 60 IN TXT \"txtvers=1\" \"path=/baremetal\" \"protocol=http\"
update add baremetal.mystack.example.test. 60 IN A 198.18.0.2";

/// The owner names of those records.
pub const SERVICE_NAMES: [&str; 3] = [
    "_openstack._tcp.mystack.example.test.",
    "baremetal._openstack._tcp.mystack.example.test.",
    "baremetal.mystack.example.test.",
];

/// One DNSKEY of the zone as served.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dnskey {
    pub flags: u16,
    pub algorithm: u8,
    pub key_tag: u16,
    /// `example.test. IN DNSKEY <flags> 3 <alg> <base64>`, TTL left out.
    pub text: String,
}

impl Dnskey {
    /// Flags 257 (SEP): the key a DS points to (a KSK or a CSK).
    pub fn is_sep(&self) -> bool {
        self.flags & 1 == 1
    }
}

/// A DS record (RFC 4034 s5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ds {
    pub key_tag: u16,
    pub algorithm: u8,
    pub digest_type: u8,
    /// Upper-case hex.
    pub digest: String,
}

impl Ds {
    /// `example.test. IN DS <tag> <alg> <type> <HEX>`.
    pub fn text(&self) -> String {
        format!(
            "{ZONE}. IN DS {} {} {} {}",
            self.key_tag, self.algorithm, self.digest_type, self.digest
        )
    }

    /// Parse `[owner] [TTL] [IN] DS tag alg type hex...` (the digest may be
    /// split in groups, as keymgr and dig print it).
    pub fn parse(line: &str) -> Option<Ds> {
        let w: Vec<&str> = line.split_whitespace().collect();
        let i = w.iter().position(|x| *x == "DS")?;
        let digest: String = w.get(i + 4..)?.concat().to_ascii_uppercase();
        if digest.is_empty() || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        Some(Ds {
            key_tag: w.get(i + 1)?.parse().ok()?,
            algorithm: w.get(i + 2)?.parse().ok()?,
            digest_type: w.get(i + 3)?.parse().ok()?,
            digest,
        })
    }

    /// A BIND/delv trust anchor file pinning this DS for the zone.
    pub fn anchor_file_text(&self) -> String {
        format!(
            "trust-anchors {{\n\t{ZONE}. static-ds {} {} {} \"{}\";\n}};\n",
            self.key_tag, self.algorithm, self.digest_type, self.digest
        )
    }
}

/// One RRSIG (RFC 4034 s3) as served.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rrsig {
    pub owner: String,
    pub covered: String,
    pub algorithm: u8,
    pub key_tag: u16,
    pub signer: String,
}

/// The programs the signed-zone tests run besides the server's own.
pub fn signed_programs(kind: Kind) -> bool {
    crate::servers::server_programs(kind)
        && have("dnssec-dsfromkey")
        && have("delv")
        && (kind == Kind::Bind || have("keymgr"))
}

impl Server {
    /// Start `kind` on host `h`, signed as `signing` says, and wait until
    /// the zone is signed (at most 10 s).
    pub fn start_signed(lab: &Lab, h: usize, kind: Kind, signing: Signing) -> Server {
        Server::start_with(lab, h, kind, Some(signing))
    }

    /// `dig @server +dnssec +noall +answer ARGS` from host `h`: the lines.
    fn answer(&self, lab: &Lab, h: usize, args: &[&str]) -> Vec<String> {
        let mut all = vec!["+dnssec", "+noall", "+answer", "+rrcomments"];
        all.extend_from_slice(args);
        let out = self.dig(lab, h, &all);
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with(';'))
            .map(str::to_string)
            .collect()
    }

    /// The zone's DNSKEYs as the server serves them, queried from host `h`.
    pub fn dnskeys(&self, lab: &Lab, h: usize) -> Vec<Dnskey> {
        self.answer(lab, h, &["DNSKEY", ZONE])
            .iter()
            .filter_map(|l| {
                let (rr, comment) = l.split_once(';').unwrap_or((l, ""));
                let w: Vec<&str> = rr.split_whitespace().collect();
                if w.len() < 8 || w[3] != "DNSKEY" {
                    return None;
                }
                let key_tag = comment
                    .split("key id = ")
                    .nth(1)?
                    .trim()
                    .trim_end_matches(';')
                    .trim()
                    .parse()
                    .ok()?;
                Some(Dnskey {
                    flags: w[4].parse().ok()?,
                    algorithm: w[6].parse().ok()?,
                    key_tag,
                    text: format!(
                        "{} IN DNSKEY {} {}",
                        w[0],
                        w[4..7].join(" "),
                        w[7..].concat()
                    ),
                })
            })
            .collect()
    }

    /// The SEP key (KSK or CSK) as served: what a DNSKEY trust anchor pins.
    pub fn sep_dnskey(&self, lab: &Lab, h: usize) -> Dnskey {
        let keys = self.dnskeys(lab, h);
        let sep: Vec<&Dnskey> = keys.iter().filter(|k| k.is_sep()).collect();
        assert_eq!(sep.len(), 1, "one SEP key served: {keys:?}");
        sep[0].clone()
    }

    /// The zone's DS (SHA-256), made by `dnssec-dsfromkey` from the
    /// DNSKEY RRset the server serves (SEP keys only), queried from `h`.
    pub fn ds(&self, lab: &Lab, h: usize) -> Ds {
        let keys = self.answer(lab, h, &["DNSKEY", ZONE]);
        let keys: String = keys
            .iter()
            .filter(|l| l.split_whitespace().nth(3) == Some("DNSKEY"))
            .map(|l| format!("{}\n", l.split(';').next().unwrap_or(l)))
            .collect();
        let out = pipe(
            lab.command(h, "dnssec-dsfromkey")
                .args(["-2", "-f", "-", ZONE]),
            &keys,
        );
        let text = String::from_utf8_lossy(&out.stdout);
        let ds: Vec<Ds> = text.lines().filter_map(Ds::parse).collect();
        assert_eq!(ds.len(), 1, "one DS from {keys}: {out:?}");
        ds[0].clone()
    }

    /// The zone's DS (SHA-256) from the server's own key store: BIND's key
    /// directory (`dnssec-dsfromkey` on the KSK/CSK file), Knot's KASP
    /// database (`keymgr <zone> ds`).
    pub fn ds_from_key_store(&self, lab: &Lab, h: usize) -> Ds {
        let text = match self.kind {
            Kind::Bind => {
                let mut ds = String::new();
                for e in std::fs::read_dir(self.dir.join("keys")).unwrap() {
                    let p = e.unwrap().path();
                    if p.extension().is_none_or(|x| x != "key") {
                        continue;
                    }
                    // K<zone>+<alg>+<tag>.key: comments, then the DNSKEY
                    let key = std::fs::read_to_string(&p).unwrap();
                    let sep = key.lines().any(|l| {
                        let w: Vec<&str> = l.split_whitespace().collect();
                        !l.starts_with(';')
                            && w.iter()
                                .position(|x| *x == "DNSKEY")
                                .and_then(|i| w.get(i + 1))
                                == Some(&"257")
                    });
                    if sep {
                        let out = lab
                            .command(h, "dnssec-dsfromkey")
                            .arg("-2")
                            .arg(&p)
                            .output()
                            .unwrap();
                        assert!(out.status.success(), "dnssec-dsfromkey: {out:?}");
                        ds.push_str(&String::from_utf8_lossy(&out.stdout));
                    }
                }
                ds
            }
            Kind::Knot => {
                let out = lab
                    .command(h, "keymgr")
                    .arg("-c")
                    .arg(self.dir.join("knot.conf"))
                    .args([ZONE, "ds"])
                    .output()
                    .unwrap();
                assert!(out.status.success(), "keymgr ds: {out:?}");
                String::from_utf8_lossy(&out.stdout).into_owned()
            }
        };
        let ds: Vec<Ds> = text
            .lines()
            .filter_map(Ds::parse)
            .filter(|d| d.digest_type == 2)
            .collect();
        assert_eq!(ds.len(), 1, "one SHA-256 DS in the key store: {text}");
        ds[0].clone()
    }

    /// The RRSIGs served with `name`'s `rtype` RRset (`dig +dnssec`).
    pub fn rrsigs(&self, lab: &Lab, h: usize, name: &str, rtype: &str) -> Vec<Rrsig> {
        self.answer(lab, h, &[rtype, name])
            .iter()
            .filter_map(|l| {
                let w: Vec<&str> = l.split_whitespace().collect();
                if w.len() < 13 || w[3] != "RRSIG" || w[4] != rtype {
                    return None;
                }
                Some(Rrsig {
                    owner: w[0].to_string(),
                    covered: w[4].to_string(),
                    algorithm: w[5].parse().ok()?,
                    key_tag: w[10].parse().ok()?,
                    signer: w[11].to_string(),
                })
            })
            .collect()
    }

    /// `rrsigs`, waiting (at most `limit`) until there is at least one:
    /// a server signs an UPDATE's records shortly after applying it.
    pub fn wait_rrsigs(
        &self,
        lab: &Lab,
        h: usize,
        name: &str,
        rtype: &str,
        limit: Duration,
    ) -> Vec<Rrsig> {
        let until = Instant::now() + limit;
        loop {
            let sigs = self.rrsigs(lab, h, name, rtype);
            if !sigs.is_empty() {
                return sigs;
            }
            assert!(
                Instant::now() < until,
                "{:?}: no RRSIG over {name} {rtype} within {limit:?}",
                self.kind
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The whole zone as served by AXFR (with its DNSKEYs, RRSIGs and
    /// NSECs when signed): `owner TYPE RDATA` lines, TTL and class left out.
    pub fn axfr(&self, lab: &Lab, h: usize) -> Vec<String> {
        let out = lab
            .command(h, "dig")
            .arg(format!("@{}", self.v4))
            .args(["+noall", "+answer", "+time=2", "+tries=1", "-y"])
            .arg(crate::servers::key_line())
            .args(["AXFR", ZONE])
            .output()
            .expect("dig AXFR");
        let text = String::from_utf8_lossy(&out.stdout);
        let lines: Vec<String> = text
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with(';'))
            .map(|l| {
                let w: Vec<&str> = l.split_whitespace().collect();
                let mut v = vec![w[0]];
                v.extend_from_slice(w.get(3..).unwrap_or(&[]));
                v.join(" ")
            })
            .collect();
        assert!(
            lines.iter().any(|l| l.split(' ').nth(1) == Some("SOA")),
            "AXFR of {ZONE} failed ({:?}): {text}",
            self.kind
        );
        lines
    }

    /// BIND's `delv` from host `h`, validating `name`'s `rtype` with `ds`
    /// as the only trust anchor (`+root=<zone>`); no recursion needed, the
    /// server is authoritative. Success prints "; fully validated".
    pub fn delv(&self, lab: &Lab, h: usize, ds: &Ds, name: &str, rtype: &str) -> Output {
        let anchor = anchor_path(&self.dir, ds);
        std::fs::write(&anchor, ds.anchor_file_text()).unwrap();
        let out = lab
            .command(h, "delv")
            .arg(format!("@{}", self.v4))
            .arg("-a")
            .arg(&anchor)
            .arg(format!("+root={ZONE}"))
            .args(["+nomtrace", "+novtrace", rtype, name])
            .output()
            .expect("delv");
        let _ = std::fs::remove_file(&anchor);
        out
    }

    /// dnspython (tests/dns/dnssec_check.py) from host `h`: the DNSKEY
    /// that `ds` names is served, signs the DNSKEY RRset, and the zone's
    /// keys sign `name`'s `rtype` RRset. `Ok(key tags that signed it)`,
    /// `Err(why)`; `None` without the venv.
    pub fn dnspython_validate(
        &self,
        lab: &Lab,
        h: usize,
        ds: &Ds,
        name: &str,
        rtype: &str,
    ) -> Option<Result<Vec<u16>, String>> {
        let py = crate::servers::venv_python()?;
        let out = lab
            .command(h, py)
            .arg(crate::servers::scripts().join("dnssec_check.py"))
            .arg(self.v4.to_string())
            .arg(ZONE)
            .arg(format!(
                "{} {} {} {}",
                ds.key_tag, ds.algorithm, ds.digest_type, ds.digest
            ))
            .args([name, rtype])
            .output()
            .expect("dnssec_check.py");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        Some(match out.status.success() {
            true => Ok(stdout
                .split_whitespace()
                .skip_while(|w| *w != "valid")
                .skip(1)
                .filter_map(|t| t.parse().ok())
                .collect()),
            false => Err(format!(
                "{}{}",
                stdout,
                String::from_utf8_lossy(&out.stderr)
            )),
        })
    }
}

fn anchor_path(dir: &Path, ds: &Ds) -> PathBuf {
    dir.join(format!("anchor-{}-{}", ds.key_tag, std::process::id()))
}

/// Run `cmd` with `input` on its stdin.
fn pipe(cmd: &mut Command, input: &str) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().expect("wait")
}

/// `kind` on host `h` serving `records` (nsupdate lines, e.g.
/// `SERVICE_RECORDS`) in the zone signed with fresh keys of its own.
/// Returns once every RRset of `records` carries its RRSIG.
pub fn start_signed_with(
    lab: &Lab,
    h: usize,
    kind: Kind,
    signing: Signing,
    records: &str,
) -> Server {
    let srv = Server::start_signed(lab, h, kind, signing);
    publish(lab, h, &srv, records);
    for (name, rtype) in owned_rrsets(records) {
        srv.wait_rrsigs(lab, h, &name, &rtype, Duration::from_secs(5));
    }
    srv
}

/// An impostor: `start_signed_with`, checked to be signed with keys that
/// `pinned` (the genuine zone's DS) does not match: neither its digest nor
/// its key tag (a 16-bit tag can collide, once in 65536 starts).
pub fn start_impostor(
    lab: &Lab,
    h: usize,
    kind: Kind,
    signing: Signing,
    records: &str,
    pinned: &Ds,
) -> Server {
    let srv = start_signed_with(lab, h, kind, signing, records);
    let own = srv.ds(lab, h);
    assert_ne!(own.digest, pinned.digest, "impostor has the pinned key");
    assert_ne!(own.key_tag, pinned.key_tag, "impostor's key tag collides");
    srv
}

/// `kind` on host `h` serving `records` in the zone unsigned.
pub fn start_unsigned_with(lab: &Lab, h: usize, kind: Kind, records: &str) -> Server {
    let srv = Server::start(lab, h, kind);
    publish(lab, h, &srv, records);
    srv
}

fn publish(lab: &Lab, h: usize, srv: &Server, records: &str) {
    let out = srv.nsupdate(lab, h, records);
    assert!(out.status.success(), "publish on {:?}: {out:?}", srv.kind);
}

/// The (owner, type) pairs that `update add` lines add.
pub fn owned_rrsets(records: &str) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = records
        .lines()
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            match w.as_slice() {
                ["update", "add", name, _ttl, "IN", rtype, ..] => {
                    Some((name.to_string(), rtype.to_string()))
                }
                _ => None,
            }
        })
        .collect();
    v.dedup();
    v
}

/// The key tag that signs RRsets other than DNSKEY: the ZSK's, or the
/// CSK's.
pub fn zone_signing_tag(keys: &[Dnskey], signing: Signing) -> u16 {
    let want_sep = signing.roles == Roles::Csk;
    let k: Vec<&Dnskey> = keys.iter().filter(|k| k.is_sep() == want_sep).collect();
    assert_eq!(k.len(), 1, "one zone-signing key: {keys:?}");
    k[0].key_tag
}

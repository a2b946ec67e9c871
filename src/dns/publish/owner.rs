//! Who owns a registration in the zone: the owner marker.
//!
//! A DNS zone keeps our records after a crash (there is no lease), and a
//! publisher restarted on the same host, often with a new address, must
//! replace its own stale records at once without ever taking anybody
//! else's. Beside each instance we publish one TXT record, the marker, at
//! `_zc-owner.<instance>`:
//!
//! ```text
//! "v=1 owner=<32 hex> srv=<16 hex> txt=<16 hex> a=<16 hex> aaaa=<16 hex>"
//! ```
//!
//! `owner` is the publishing host's identity: HMAC-SHA256 keyed with the
//! host's machine id (/etc/machine-id, as systemd's application-specific
//! ids do: the machine id itself never leaves the host) over a fixed
//! label; the environment variable `IRONICMDNS_HOST_ID`, read once,
//! replaces the machine id (containers sharing one, tests). The other
//! fields are hashes of the SRV, TXT, A and AAAA RRsets the marker vouches
//! for (`-`: none).
//!
//! An RRset in the zone is ours when it is exactly what we publish now,
//! or when the marker is ours (same owner) and the RRset's hash is the
//! marker's: what our previous run published. Anything else is another
//! publisher's. The UPDATE that replaces our old records carries the
//! RRsets it saw as value-dependent prerequisites (RFC 2136 s2.4.2) and an
//! absent RRset as "RRset does not exist" (s2.4.3), so nothing that
//! changed in between is touched: the server refuses the whole UPDATE.

use std::sync::OnceLock;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use simple_dns::rdata::RData;
use simple_dns::{Label, Name, ResourceRecord, CLASS, TYPE};

use super::super::message::{self, Update};
use crate::wire;

/// The label of the marker's owner name, before the instance's labels.
pub(super) const MARKER_LABEL: &[u8] = b"_zc-owner";
/// The environment variable that replaces the machine id (read once).
pub const HOST_ID_ENV: &str = "IRONICMDNS_HOST_ID";

/// The kinds of RRsets a marker vouches for, in marker order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Srv,
    Txt,
    A,
    Aaaa,
}

pub(super) const KINDS: [Kind; 4] = [Kind::Srv, Kind::Txt, Kind::A, Kind::Aaaa];

impl Kind {
    pub(super) fn key(self) -> &'static str {
        match self {
            Kind::Srv => "srv",
            Kind::Txt => "txt",
            Kind::A => "a",
            Kind::Aaaa => "aaaa",
        }
    }
    pub(super) fn rtype(self) -> u16 {
        match self {
            Kind::Srv => 33,
            Kind::Txt => 16,
            Kind::A => 1,
            Kind::Aaaa => 28,
        }
    }
    pub(super) fn of(r: &ResourceRecord<'_>) -> Option<Kind> {
        match r.rdata {
            RData::SRV(_) => Some(Kind::Srv),
            RData::TXT(_) => Some(Kind::Txt),
            RData::Empty(TYPE::TXT) => Some(Kind::Txt),
            RData::A(_) => Some(Kind::A),
            RData::AAAA(_) => Some(Kind::Aaaa),
            _ => None,
        }
    }
}

/// This host's owner id: 32 hex digits (see the module docs).
pub fn owner_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| {
        let source = std::env::var(HOST_ID_ENV)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .or_else(|| read_first(&["/etc/machine-id", "/var/lib/dbus/machine-id"]))
            .or_else(|| read_first(&["/proc/sys/kernel/hostname", "/etc/hostname"]))
            .unwrap_or_default();
        owner_id_of(source.trim())
    })
}

fn read_first(paths: &[&str]) -> Option<String> {
    paths.iter().find_map(|p| {
        std::fs::read_to_string(p)
            .ok()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
    })
}

/// The owner id derived from a machine id (or its replacement).
pub(super) fn owner_id_of(machine: &str) -> String {
    let mut m = <Hmac<Sha256> as hmac::digest::KeyInit>::new_from_slice(machine.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    m.update(b"ironicmdns unicast DNS-SD publisher");
    hex(&m.finalize().into_bytes()[..16])
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// RDATA in the form compared and hashed: lowercase ASCII, so that a
/// server that changes the case of a name inside RDATA still matches.
pub(super) fn rdata_key(r: &ResourceRecord<'_>) -> Vec<u8> {
    wire::rdata_bytes(r).to_ascii_lowercase()
}

/// The hash of an RRset (`-` for none): SHA-256 of its sorted RDATA.
pub(super) fn rrset_hash(rrs: &[ResourceRecord<'_>]) -> String {
    if rrs.is_empty() {
        return "-".into();
    }
    let mut keys: Vec<Vec<u8>> = rrs.iter().map(rdata_key).collect();
    keys.sort();
    keys.dedup();
    let mut h = Sha256::new();
    for k in &keys {
        h.update((k.len() as u16).to_be_bytes());
        h.update(k);
    }
    hex(&h.finalize()[..8])
}

/// Same RRset (as sets of RDATA)?
pub(super) fn same_set(a: &[ResourceRecord<'_>], b: &[ResourceRecord<'_>]) -> bool {
    let keys = |x: &[ResourceRecord<'_>]| {
        let mut k: Vec<Vec<u8>> = x.iter().map(rdata_key).collect();
        k.sort();
        k.dedup();
        k
    };
    keys(a) == keys(b)
}

/// The marker's owner name: `_zc-owner.<instance>`.
pub(super) fn marker_name(instance: &Name<'static>) -> Option<Name<'static>> {
    let mut labels = vec![Label::new_unchecked(MARKER_LABEL.to_vec())];
    labels.extend(instance.get_labels().iter().cloned());
    let wire_len: usize = 1 + labels.iter().map(|l| l.len() + 1).sum::<usize>();
    (wire_len <= 255).then(|| Name::new_with_labels(&labels).into_owned())
}

/// The marker text for `owner` vouching for `sets` (in `KINDS` order).
pub(super) fn marker_text(owner: &str, sets: [&[ResourceRecord<'static>]; 4]) -> String {
    let mut t = format!("v=1 owner={owner}");
    for (k, s) in KINDS.iter().zip(sets) {
        t.push_str(&format!(" {}={}", k.key(), rrset_hash(s)));
    }
    t
}

/// A marker read back: the owner and the hashes, or None when the text is
/// not a marker of ours (another version, garbage).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Marker {
    pub owner: String,
    pub hashes: [String; 4],
}

pub(super) fn parse_marker(text: &str) -> Option<Marker> {
    let mut it = text.split(' ');
    if it.next() != Some("v=1") {
        return None;
    }
    let owner = it.next()?.strip_prefix("owner=")?.to_owned();
    let mut hashes: [String; 4] = Default::default();
    for (k, slot) in KINDS.iter().zip(hashes.iter_mut()) {
        let (key, value) = it.next()?.split_once('=')?;
        if key != k.key() {
            return None;
        }
        *slot = value.to_owned();
    }
    it.next().is_none().then_some(Marker { owner, hashes })
}

/// The text of a TXT record's strings, joined by nothing (a marker is one
/// string).
pub(super) fn txt_text(r: &ResourceRecord<'_>) -> Option<String> {
    let b = wire::rdata_bytes(r);
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let n = b[i] as usize;
        out.extend_from_slice(b.get(i + 1..i + 1 + n)?);
        i += 1 + n;
    }
    String::from_utf8(out).ok()
}

/// "RRset does not exist" (RFC 2136 s2.4.3): CLASS NONE, the type, no
/// RDATA.
pub(super) fn rrset_absent(name: &Name<'static>, kind_type: u16) -> ResourceRecord<'static> {
    let t = match kind_type {
        16 => TYPE::TXT,
        33 => TYPE::SRV,
        1 => TYPE::A,
        _ => TYPE::AAAA,
    };
    ResourceRecord::new(name.clone(), CLASS::NONE, 0, RData::Empty(t))
}

/// What the zone holds at our names, as the reconciling queries saw it.
#[derive(Clone, Debug, Default)]
pub(super) struct Seen {
    /// The marker RRset (TXT at the marker name).
    pub marker: Vec<ResourceRecord<'static>>,
    /// SRV, TXT, A, AAAA (`KINDS` order).
    pub sets: [Vec<ResourceRecord<'static>>; 4],
}

/// The outcome of comparing what is there with what we publish.
pub(super) enum Plan {
    /// This UPDATE makes the zone hold exactly ours (re-adding what is
    /// missing, replacing what our previous run left).
    Take(Update),
    /// Another publisher holds the name: the kind that is theirs.
    Foreign(&'static str),
}

/// Our side of a registration, for `reconcile`.
pub(super) struct Ours<'a> {
    pub owner: &'a str,
    pub marker_name: &'a Name<'static>,
    pub marker: &'a ResourceRecord<'static>,
    /// The owner names of the kinds (`KINDS` order).
    pub names: [&'a Name<'static>; 4],
    /// Our RRsets now (`KINDS` order).
    pub sets: [Vec<ResourceRecord<'static>>; 4],
    /// Everything we add (PTR, SRV, TXT, A/AAAA; the marker comes last).
    pub records: &'a [ResourceRecord<'static>],
}

/// Decide from `seen` whether the names are ours and, if they are, the
/// UPDATE that makes them hold exactly `ours`.
pub(super) fn reconcile(ours: &Ours<'_>, seen: &Seen) -> Plan {
    let markers: Vec<Option<Marker>> = seen
        .marker
        .iter()
        .map(|r| txt_text(r).and_then(|t| parse_marker(&t)))
        .collect();
    // Our previous run's marker: exactly one marker, ours.
    let previous = match markers.as_slice() {
        [Some(m)] if m.owner == ours.owner => Some(m.clone()),
        _ => None,
    };
    if !seen.marker.is_empty() && previous.is_none() {
        return Plan::Foreign("owner marker");
    }
    let mut prerequisites = Vec::new();
    let mut updates = Vec::new();
    for (i, kind) in KINDS.iter().enumerate() {
        let there = &seen.sets[i];
        let mine = &ours.sets[i];
        // What our previous run published of this kind ("-": nothing).
        let before = previous.as_ref().map_or("-", |m| m.hashes[i].as_str());
        let never_ours = mine.is_empty() && before == "-";
        if there.is_empty() {
            if !never_ours {
                prerequisites.push(rrset_absent(ours.names[i], kind.rtype()));
            }
        } else if same_set(there, mine) || (before != "-" && before == rrset_hash(there)) {
            prerequisites.extend(there.iter().map(message::rrset_equals));
            for old in there {
                if !mine.iter().any(|m| rdata_key(m) == rdata_key(old)) {
                    updates.push(message::delete_rr(old));
                }
            }
        } else if never_ours {
            // Not ours to check: we publish none of this kind here and
            // never did (a hostname endpoint has no address host).
            continue;
        } else {
            return Plan::Foreign(kind.key());
        }
    }
    match seen.marker.is_empty() {
        true => prerequisites.push(rrset_absent(ours.marker_name, 16)),
        false => {
            prerequisites.extend(seen.marker.iter().map(message::rrset_equals));
            for old in &seen.marker {
                if rdata_key(old) != rdata_key(ours.marker) {
                    updates.push(message::delete_rr(old));
                }
            }
        }
    }
    updates.extend(ours.records.iter().cloned());
    Plan::Take(Update {
        prerequisites,
        updates,
    })
}

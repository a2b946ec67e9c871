//! The DNS wire format both transports share (the mDNS engine, the unicast
//! DNS messages and TSIG): simple-dns glue, validated parsing of untrusted packets, building of our
//! own packets within the size limits, names and record builders.
//!
//! simple-dns already refuses forward and looping compression pointers,
//! labels over 63 bytes (which covers the reserved label bits 0x40/0x80),
//! names over 255 bytes and records running past the data. `prescan` checks
//! the same structure again on the raw bytes before simple-dns sees them, so
//! that our guarantees do not rest on a dependency's internals, and adds what
//! simple-dns lacks (packet size, section counts against the data length).
//!
//! simple-dns also refuses a whole packet for one question of a QTYPE or
//! QCLASS it does not know, or one record of a CLASS it does not know. The
//! pre-scan notes those items; `parse` patches them in a copy to values
//! simple-dns reads, then drops them from the result, so the rest of the
//! packet is still answered or cached. Patching in place, rather than cutting
//! the bytes out, keeps every compression pointer valid.

use simple_dns::rdata::{RData, A, AAAA, NSEC, PTR, SRV, TXT};
use simple_dns::{
    CharacterString, Label, Name, Packet, PacketFlag, ResourceRecord, CLASS, QCLASS, QTYPE, TYPE,
};
use std::borrow::Cow;
use std::net::IpAddr;

/// Largest packet we send or accept (RFC 6762 s17: 9000 bytes; the
/// unicast DNS messages keep the same bound).
pub const MAX_PACKET: usize = 9000;

/// A name or record we were asked to build but cannot.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum RecordError {
    #[error("invalid name {0:?}: {1}")]
    InvalidName(String, &'static str),
    #[error("invalid record: {0}")]
    InvalidRecord(&'static str),
}

/// Largest label (RFC 1035 s2.3.4).
pub const MAX_LABEL: usize = 63;
/// Largest name in wire form (RFC 1035 s2.3.4).
pub const MAX_NAME: usize = 255;
/// Largest TXT character-string (RFC 1035 s3.3).
pub const MAX_TXT_STRING: usize = 255;

pub const T_A: u16 = 1;
pub const T_PTR: u16 = 12;
pub const T_TXT: u16 = 16;
pub const T_AAAA: u16 = 28;
pub const T_SRV: u16 = 33;
pub const T_NSEC: u16 = 47;
const T_OPT: u16 = 41;

/// Why a packet was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireError {
    TooLarge,
    Truncated,
    CountsExceedData,
    ReservedLabelBits,
    ForwardPointer,
    NameTooLong,
    Unparsable,
    /// Every question and record was of a type or class we skip.
    NothingUnderstood,
}

fn be16(d: &[u8], at: usize) -> Result<u16, WireError> {
    match d.get(at..at + 2) {
        Some(b) => Ok(u16::from_be_bytes([b[0], b[1]])),
        None => Err(WireError::Truncated),
    }
}

/// The one raw name walker (the mDNS parser's pre-scan, the unicast DNS
/// messages and TSIG all read names through it): walk the name at `at`,
/// following compression pointers (each strictly backward, so the walk
/// ends), hand each label to `label`, and return the offset just after the
/// name in the stream.
pub(crate) fn walk_name(
    d: &[u8],
    at: usize,
    mut label: impl FnMut(&[u8]),
) -> Result<usize, WireError> {
    let mut pos = at;
    let mut end = None;
    let mut wire_len = 1usize; // the root label
    loop {
        let len = *d.get(pos).ok_or(WireError::Truncated)? as usize;
        match len & 0xC0 {
            0x00 if len == 0 => {
                return Ok(end.unwrap_or(pos + 1));
            }
            0x00 => {
                // len <= 63 here: longer needs the reserved bits below.
                wire_len += len + 1;
                if wire_len > MAX_NAME {
                    return Err(WireError::NameTooLong);
                }
                if pos + 1 + len > d.len() {
                    return Err(WireError::Truncated);
                }
                label(&d[pos + 1..pos + 1 + len]);
                pos += 1 + len;
            }
            0xC0 => {
                let target = (be16(d, pos)? & 0x3FFF) as usize;
                // RFC 1035 s4.1.4: a pointer refers to a prior occurrence.
                if target >= pos {
                    return Err(WireError::ForwardPointer);
                }
                if end.is_none() {
                    end = Some(pos + 2);
                }
                pos = target;
            }
            // 0x40 and 0x80: reserved label types (RFC 6891 s5, RFC 1035).
            _ => return Err(WireError::ReservedLabelBits),
        }
    }
}

/// The offset just after the name at `at`.
fn scan_name(d: &[u8], at: usize) -> Result<usize, WireError> {
    walk_name(d, at, |_| {})
}

/// The name at `at` as lowercase dotted text (`.` for the root), and the
/// offset after it in the stream.
pub(crate) fn read_name(d: &[u8], at: usize) -> Option<(String, usize)> {
    let mut text = String::new();
    let after = walk_name(d, at, |label| {
        for &c in label {
            text.push(c.to_ascii_lowercase() as char);
        }
        text.push('.');
    })
    .ok()?;
    if text.is_empty() {
        text.push('.');
    }
    Some((text, after))
}

/// Offsets of the records of a message: (start of the record, its TYPE,
/// its end), for every record of the three record sections.
pub(crate) fn record_offsets(d: &[u8]) -> Option<Vec<(usize, u16, usize)>> {
    let field = |at| be16(d, at).ok();
    let qd = field(4)? as usize;
    let rr = field(6)? as usize + field(8)? as usize + field(10)? as usize;
    let mut pos = 12;
    for _ in 0..qd {
        pos = scan_name(d, pos).ok()? + 4;
    }
    // Room for what the bytes can hold (a record is 11 bytes at least),
    // not for what a hostile header claims.
    let mut out = Vec::with_capacity(rr.min(d.len() / 11));
    for _ in 0..rr {
        let start = pos;
        let after = scan_name(d, pos).ok()?;
        let rtype = field(after)?;
        let rdlen = field(after + 8)? as usize;
        let end = after + 10 + rdlen;
        if end > d.len() {
            return None;
        }
        out.push((start, rtype, end));
        pos = end;
    }
    if pos > d.len() {
        return None;
    }
    Some(out)
}

/// Structural check of an untrusted packet before parsing.
pub fn prescan(d: &[u8]) -> Result<(), WireError> {
    scan(d).map(|_| ())
}

/// The items of a packet simple-dns would refuse the whole packet for.
#[derive(Debug, Default)]
struct Skipped {
    /// (offset, value): 16-bit fields to overwrite in the copy handed to
    /// simple-dns, so that it reads the items dropped afterwards.
    patches: Vec<(usize, u16)>,
    /// Indices of the questions to drop, ascending.
    questions: Vec<usize>,
    /// Indices of the records to drop in answer, authority and additional
    /// sections, ascending, as on the wire.
    records: [Vec<usize>; 3],
    /// Wire index of the first OPT record in the additional section:
    /// simple-dns takes it out of the list (it becomes header data).
    first_opt: Option<usize>,
}

impl Skipped {
    fn any(&self) -> bool {
        !self.questions.is_empty() || self.records.iter().any(|r| !r.is_empty())
    }
}

/// `prescan`, also noting the items to skip.
fn scan(d: &[u8]) -> Result<Skipped, WireError> {
    let mut skipped = Skipped::default();
    if d.len() > MAX_PACKET {
        return Err(WireError::TooLarge);
    }
    if d.len() < 12 {
        return Err(WireError::Truncated);
    }
    let qd = be16(d, 4)? as usize;
    let (an, ns) = (be16(d, 6)? as usize, be16(d, 8)? as usize);
    let rr = an + ns + be16(d, 10)? as usize;
    // Smallest question is 5 bytes, smallest record 11.
    if qd * 5 + rr * 11 > d.len() - 12 {
        return Err(WireError::CountsExceedData);
    }
    let mut pos = 12;
    for i in 0..qd {
        let at = scan_name(d, pos)?;
        pos = at + 4;
        if pos > d.len() {
            return Err(WireError::Truncated);
        }
        // RFC 1035 s4.1.2, RFC 6762 s6: a question of a type or class we
        // cannot name is not ours to answer; the others in the packet are.
        // The top bit of QCLASS is the unicast-response bit (RFC 6762 s5.4).
        let (qtype, qclass) = (be16(d, at)?, be16(d, at + 2)?);
        if QTYPE::try_from(qtype).is_err() || QCLASS::try_from(qclass & 0x7FFF).is_err() {
            skipped.patches.push((at, T_A));
            skipped.patches.push((at + 2, u16::from(CLASS::IN)));
            skipped.questions.push(i);
        }
    }
    for i in 0..rr {
        pos = scan_name(d, pos)?;
        let rtype = be16(d, pos)?;
        let rclass = be16(d, pos + 2)?;
        let rdlen = be16(d, pos + 8)? as usize;
        let (section, index) = match i {
            i if i < an => (0, i),
            i if i < an + ns => (1, i - an),
            i => (2, i - an - ns),
        };
        // RFC 1035 s4.1.3: a record of a class we cannot name is skipped
        // alone. The top bit is the cache-flush bit (RFC 6762 s10.2); OPT
        // carries a payload size there (RFC 6891 s6.1.2). Records of
        // unknown TYPE are kept by simple-dns as opaque data.
        if rtype == T_OPT {
            if section == 2 && skipped.first_opt.is_none() {
                skipped.first_opt = Some(index);
            } else {
                // RFC 6891 s6.1.1: one OPT pseudo-record, in the additional
                // section; any other is dropped, never cached nor sent on
                // (its TTL field would read as an extended RCODE).
                skipped.records[section].push(index);
            }
        } else if CLASS::try_from(rclass & 0x7FFF).is_err() {
            skipped.patches.push((pos + 2, u16::from(CLASS::IN)));
            skipped.records[section].push(index);
        }
        let start = pos + 10;
        let end = start + rdlen;
        if end > d.len() {
            return Err(WireError::Truncated);
        }
        let rdata = &d[..end];
        match rtype {
            T_PTR | 2 | 5 => expect_end(scan_name(rdata, start)?, end)?,
            T_SRV if rdlen >= 7 => expect_end(scan_name(rdata, start + 6)?, end)?,
            T_SRV => return Err(WireError::Truncated),
            T_NSEC => {
                scan_name(rdata, start)?;
            }
            T_TXT => {
                let mut p = start;
                while p < end {
                    p += 1 + d[p] as usize;
                }
                expect_end(p, end)?;
            }
            _ => {}
        }
        pos = end;
    }
    Ok(skipped)
}

fn expect_end(got: usize, end: usize) -> Result<(), WireError> {
    if got == end {
        Ok(())
    } else {
        Err(WireError::Truncated)
    }
}

/// Parse an untrusted datagram: prescan, then simple-dns, without the
/// questions and records simple-dns cannot read (see the module doc). The
/// header's Z bit is ignored on reception (RFC 6762 s18.4), simple-dns would
/// refuse it. The bytes are copied only when something must change.
pub fn parse(data: &[u8]) -> Result<Packet<'static>, WireError> {
    let skipped = scan(data)?;
    // scan refused anything shorter than the 12-byte header.
    let z_bit = data[3] & 0x40 != 0;
    let bytes: Cow<'_, [u8]> = if z_bit || !skipped.patches.is_empty() {
        let mut copy = data.to_vec();
        copy[3] &= !0x40;
        for &(at, value) in &skipped.patches {
            if let Some(field) = copy.get_mut(at..at + 2) {
                field.copy_from_slice(&value.to_be_bytes());
            }
        }
        // A pointer may lead into a patched field: check the copy again.
        prescan(&copy)?;
        Cow::Owned(copy)
    } else {
        Cow::Borrowed(data)
    };
    let p = Packet::parse(&bytes).map_err(|_| WireError::Unparsable)?;
    let mut o = Packet::new_query(p.id());
    for f in PacketFlag::all().iter() {
        if p.has_flags(f) {
            o.set_flags(f);
        }
    }
    *o.opcode_mut() = p.opcode();
    *o.rcode_mut() = p.rcode();
    // Wire indices of the additional section past the OPT record simple-dns
    // took out are one lower in its list.
    let additional: Vec<usize> = match skipped.first_opt {
        Some(opt) => skipped.records[2]
            .iter()
            .map(|&i| if i > opt { i - 1 } else { i })
            .collect(),
        None => skipped.records[2].clone(),
    };
    o.questions = kept(p.questions, &skipped.questions)
        .map(|q| q.into_owned())
        .collect();
    o.answers = kept(p.answers, &skipped.records[0])
        .map(|r| r.into_owned())
        .collect();
    o.name_servers = kept(p.name_servers, &skipped.records[1])
        .map(|r| r.into_owned())
        .collect();
    o.additional_records = kept(p.additional_records, &additional)
        .map(|r| r.into_owned())
        .collect();
    let empty = o.questions.is_empty()
        && o.answers.is_empty()
        && o.name_servers.is_empty()
        && o.additional_records.is_empty();
    if skipped.any() && empty {
        return Err(WireError::NothingUnderstood);
    }
    Ok(o)
}

/// The items whose index is not in `drop` (ascending).
fn kept<'a, T: 'a>(items: Vec<T>, drop: &'a [usize]) -> impl Iterator<Item = T> + 'a {
    items
        .into_iter()
        .enumerate()
        .filter(|(i, _)| drop.binary_search(i).is_err())
        .map(|(_, x)| x)
}

/// Build a packet; when it passes MAX_PACKET, split its answers (the rest
/// of its sections stay with the first part; additionals are dropped from a
/// split response). Each returned payload is <= MAX_PACKET unless a single
/// record alone is larger, which registration validation prevents.
pub fn build(p: &Packet<'_>) -> Vec<Vec<u8>> {
    match p.build_bytes_vec_compressed() {
        Ok(bytes) if bytes.len() <= MAX_PACKET => return vec![bytes],
        Ok(_) => {}
        Err(_) => return Vec::new(),
    }
    let mut head = p.clone();
    head.additional_records.clear();
    if head.answers.len() <= 1 {
        return match head.build_bytes_vec_compressed() {
            Ok(b) if b.len() <= MAX_PACKET => vec![b],
            _ => Vec::new(),
        };
    }
    let tail_answers = head.answers.split_off(head.answers.len() / 2);
    let mut tail = head.clone();
    tail.questions.clear();
    tail.name_servers.clear();
    tail.answers = tail_answers;
    let mut out = build(&head);
    out.extend(build(&tail));
    out
}

/// A host or service name from text with plain dots (no escapes), with or
/// without the trailing dot.
pub fn name_from_str(s: &str) -> Result<Name<'static>, RecordError> {
    let bad = |why| RecordError::InvalidName(s.to_string(), why);
    let trimmed = s.strip_suffix('.').unwrap_or(s);
    if trimmed.is_empty() {
        return Err(bad("empty"));
    }
    let mut labels = Vec::new();
    for part in trimmed.split('.') {
        labels.push(label(part.as_bytes()).map_err(bad)?);
    }
    checked_name(labels).map_err(bad)
}

/// An instance name: its first label is everything before `service_type`
/// (any UTF-8, dots included, RFC 6763 s4.3).
pub fn instance_name(instance: &str, service_type: &str) -> Result<Name<'static>, RecordError> {
    let bad = |why| RecordError::InvalidName(instance.to_string(), why);
    let st = name_from_str(service_type)?;
    let st_text = service_type.strip_suffix('.').unwrap_or(service_type);
    let inst = instance.strip_suffix('.').unwrap_or(instance);
    let (n, k) = (inst.len(), st_text.len());
    // Bytes only: the dot before the service type is ASCII, so the split
    // lands on a character boundary.
    if n <= k + 1
        || inst.as_bytes()[n - k - 1] != b'.'
        || !inst.as_bytes()[n - k..].eq_ignore_ascii_case(st_text.as_bytes())
    {
        return Err(bad("not <instance>.<service type>"));
    }
    let first = &inst[..n - k - 1];
    let mut labels = vec![label(first.as_bytes()).map_err(bad)?];
    labels.extend(st.get_labels().iter().cloned());
    checked_name(labels).map_err(bad)
}

/// A name whose first label is `first`, taken literally (any bytes, dots
/// included: RFC 6763 s4.3), under `parent` (plain dotted text): built
/// from its labels, never split from a joined text.
pub fn name_under(first: &[u8], parent: &str) -> Result<Name<'static>, RecordError> {
    let text = || format!("{}.{parent}", String::from_utf8_lossy(first));
    let p = name_from_str(parent)?;
    let mut labels = vec![label(first).map_err(|why| RecordError::InvalidName(text(), why))?];
    labels.extend(p.get_labels().iter().cloned());
    checked_name(labels).map_err(|why| RecordError::InvalidName(text(), why))
}

fn label(b: &[u8]) -> Result<Label<'static>, &'static str> {
    if b.is_empty() {
        return Err("empty label");
    }
    if b.len() > MAX_LABEL {
        return Err("label longer than 63 bytes");
    }
    Ok(Label::new_unchecked(b.to_vec()))
}

fn checked_name(labels: Vec<Label<'static>>) -> Result<Name<'static>, &'static str> {
    let wire: usize = 1 + labels.iter().map(|l| l.len() + 1).sum::<usize>();
    if wire > MAX_NAME {
        return Err("name longer than 255 bytes");
    }
    Ok(Name::new_with_labels(&labels))
}

pub fn rr_type(rr: &ResourceRecord<'_>) -> u16 {
    u16::from(rr.rdata.type_code())
}

fn rr(
    name: &Name<'static>,
    ttl: u32,
    unique: bool,
    rdata: RData<'static>,
) -> ResourceRecord<'static> {
    ResourceRecord::new(name.clone(), CLASS::IN, ttl, rdata).with_cache_flush(unique)
}

pub fn ptr(name: &Name<'static>, to: &Name<'static>, ttl: u32) -> ResourceRecord<'static> {
    rr(name, ttl, false, RData::PTR(PTR(to.clone())))
}

pub fn srv(
    name: &Name<'static>,
    target: &Name<'static>,
    port: u16,
    ttl: u32,
) -> ResourceRecord<'static> {
    let s = SRV {
        priority: 0,
        weight: 0,
        port,
        target: target.clone(),
    };
    rr(name, ttl, true, RData::SRV(s))
}

/// TXT, byte-exact; no strings at all is a zero-length RDATA, as the
/// reference sends it (simple-dns would write one empty string for an empty
/// `TXT`, hence `RData::Empty`).
pub fn txt(
    name: &Name<'static>,
    strings: &[Vec<u8>],
    ttl: u32,
) -> Result<ResourceRecord<'static>, RecordError> {
    if strings.is_empty() {
        return Ok(rr(name, ttl, true, RData::Empty(TYPE::TXT)));
    }
    let mut t = TXT::new();
    for s in strings {
        if s.len() > MAX_TXT_STRING {
            return Err(RecordError::InvalidRecord(
                "TXT string longer than 255 bytes",
            ));
        }
        let cs = CharacterString::new(s).map_err(|_| RecordError::InvalidRecord("TXT string"))?;
        t.add_char_string(cs.into_owned());
    }
    Ok(rr(name, ttl, true, RData::TXT(t.into_owned())))
}

pub fn addr(name: &Name<'static>, a: IpAddr, ttl: u32, unique: bool) -> ResourceRecord<'static> {
    let rdata = match a {
        IpAddr::V4(v4) => RData::A(A::from(v4)),
        IpAddr::V6(v6) => RData::AAAA(AAAA::from(v6)),
    };
    rr(name, ttl, unique, rdata)
}

/// NSEC asserting the types `name` has (RFC 6762 s6.1: next name = owner,
/// types below 256 only).
pub fn nsec(name: &Name<'static>, types: &[u16], ttl: u32) -> ResourceRecord<'static> {
    let types: Vec<TYPE> = types.iter().map(|t| TYPE::from(*t)).collect();
    rr(
        name,
        ttl,
        true,
        RData::NSEC(NSEC::from_types(name.clone(), &types).into_owned()),
    )
}

/// The uncompressed RDATA bytes of a record (for the s8.2 comparison).
pub fn rdata_bytes(r: &ResourceRecord<'_>) -> Vec<u8> {
    let mut single = Packet::new_reply(0);
    let mut r = r.clone();
    r.name = Name::new_with_labels(&[]);
    single.answers.push(r);
    match single.build_bytes_vec() {
        // header 12, root name 1, type/class/ttl/len 10
        Ok(b) if b.len() >= 23 => b[23..].to_vec(),
        _ => Vec::new(),
    }
}

/// A simple-dns name as a name of the trust core (None: not a valid DNS
/// name).
pub(crate) fn trust_name(n: &Name<'_>) -> Option<crate::trust::Name> {
    crate::trust::Name::from_labels(n.get_labels().iter().map(|l| l.as_ref())).ok()
}

/// A name of the trust core as a simple-dns name.
pub(crate) fn dns_name(n: &crate::trust::Name) -> Name<'static> {
    let labels: Vec<Label<'static>> = n
        .labels()
        .map(|l| Label::new_unchecked(l.to_vec()))
        .collect();
    Name::new_with_labels(&labels)
}

/// A record as the trust core takes it, from either transport: owner,
/// type, class with the mDNS cache-flush bit as received (the core masks
/// it), TTL, RDATA written out uncompressed (`rdata_bytes`). None for an
/// owner the core cannot hold.
pub(crate) fn trust_rr(r: &ResourceRecord<'_>) -> Option<crate::trust::Rr> {
    let class = u16::from(r.class)
        | if r.cache_flush {
            crate::trust::CACHE_FLUSH
        } else {
            0
        };
    Some(crate::trust::Rr {
        owner: trust_name(&r.name)?,
        rtype: rr_type(r),
        class,
        ttl: r.ttl,
        rdata: rdata_bytes(r),
    })
}

/// Same record data? TXT with no strings and TXT with one empty string are
/// the same (RFC 6763 s6.1); names compare case-insensitively.
pub fn same_rdata(a: &ResourceRecord<'_>, b: &ResourceRecord<'_>) -> bool {
    if rr_type(a) != rr_type(b) {
        return false;
    }
    if rr_type(a) == T_TXT {
        let norm = |r: &ResourceRecord<'_>| {
            let b = rdata_bytes(r);
            if b == [0] {
                Vec::new()
            } else {
                b
            }
        };
        return norm(a) == norm(b);
    }
    a.rdata == b.rdata
}

#[cfg(test)]
mod tests;

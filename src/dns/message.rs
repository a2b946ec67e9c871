//! Unicast DNS messages through simple-dns (the engine's wire library):
//! queries with EDNS0, RFC 2136 UPDATE messages, and reading responses.

use crate::error::Refused;
use simple_dns::rdata::{RData, OPT};
use simple_dns::{
    Name, Packet, PacketFlag, Question, ResourceRecord, CLASS, OPCODE, QCLASS, QTYPE, TYPE,
};

use crate::service::ServiceType;
use crate::wire;

/// The UDP payload size we offer (RFC 6891 s6.2.5; 1232 avoids IP
/// fragmentation on any path, the DNS flag day 2020 value).
pub const EDNS_UDP_SIZE: u16 = 1232;

/// RCODEs (RFC 1035 s4.1.1, RFC 2136 s2.2).
pub const NOERROR: u16 = 0;
pub const FORMERR: u16 = 1;
pub const SERVFAIL: u16 = 2;
pub const NXDOMAIN: u16 = 3;
pub const NOTIMP: u16 = 4;
pub const REFUSED: u16 = 5;
pub const YXDOMAIN: u16 = 6;
pub const YXRRSET: u16 = 7;
pub const NXRRSET: u16 = 8;
pub const NOTAUTH: u16 = 9;
pub const NOTZONE: u16 = 10;

/// The mnemonic of an RCODE, for error texts.
pub fn rcode_name(rcode: u16) -> String {
    match rcode {
        NOERROR => "NOERROR".into(),
        FORMERR => "FORMERR".into(),
        SERVFAIL => "SERVFAIL".into(),
        NXDOMAIN => "NXDOMAIN".into(),
        NOTIMP => "NOTIMP".into(),
        REFUSED => "REFUSED".into(),
        YXDOMAIN => "YXDOMAIN".into(),
        YXRRSET => "YXRRSET".into(),
        NXRRSET => "NXRRSET".into(),
        NOTAUTH => "NOTAUTH".into(),
        NOTZONE => "NOTZONE".into(),
        r => format!("RCODE {r}"),
    }
}

/// A name from dotted text (no escapes), through the engine's checks. An
/// instance name keeps everything before `._openstack._tcp.` as its first
/// label (RFC 6763 s4.3: it may hold dots).
pub fn name(text: &str) -> Result<Name<'static>, Refused> {
    let bad =
        |e: crate::wire::RecordError| Refused(format!("{text:?} is not a usable DNS name: {e}"));
    match text.to_ascii_lowercase().find("._openstack._tcp.") {
        Some(i) if i > 0 => wire::instance_name(text, &text[i + 1..]).map_err(bad),
        _ => wire::name_from_str(text).map_err(bad),
    }
}

/// `<service type>.<parent>`: the service type as one label, literally
/// (it may hold dots), then the labels of `parent`. Built from the typed
/// service type: no split of a joined text.
pub fn name_under(service_type: &ServiceType, parent: &str) -> Result<Name<'static>, Refused> {
    wire::name_under(service_type.as_str().as_bytes(), parent).map_err(|e| {
        Refused(format!(
            "{:?} is not a usable DNS name: {e}",
            format!("{service_type}.{parent}")
        ))
    })
}

/// A query for `qname`/`qtype` (dotted text) with EDNS0 (RFC 6891) and RD
/// set (so that a recursive resolver from resolv.conf answers too).
pub fn query(id: u16, qname: &str, qtype: u16) -> Result<Vec<u8>, Refused> {
    query_name(id, &name(qname)?, qtype)
}

/// `query` for a name already built.
pub fn query_name(id: u16, n: &Name<'static>, qtype: u16) -> Result<Vec<u8>, Refused> {
    let qname = name_text(n);
    let n = n.clone();
    let qt = QTYPE::try_from(qtype).map_err(|_| format!("unsupported query type {qtype}"))?;
    let mut p = Packet::new_query(id);
    p.set_flags(PacketFlag::RECURSION_DESIRED);
    p.questions
        .push(Question::new(n, qt, QCLASS::CLASS(CLASS::IN), false));
    *p.opt_mut() = Some(OPT {
        opt_codes: Vec::new(),
        udp_packet_size: EDNS_UDP_SIZE,
        version: 0,
    });
    p.build_bytes_vec_compressed()
        .map_err(|e| Refused(format!("cannot build the query for {qname}: {e}")))
}

/// Sets the DO bit (RFC 3225 s3: "DNSSEC OK", the top bit of the OPT
/// record's flags) in a query built by `query_name`: the server then adds
/// the RRSIGs of what it answers. False when the message has no OPT.
pub fn set_dnssec_ok(msg: &mut [u8]) -> bool {
    let Some(recs) = crate::wire::record_offsets(msg) else {
        return false;
    };
    for (start, rtype, _) in recs {
        if rtype == 41 {
            // OPT: root name, TYPE, CLASS (payload size), then TTL =
            // extended RCODE, version, flags (DO is the first flag bit).
            let Some((_, after)) = crate::wire::read_name(msg, start) else {
                return false;
            };
            if let Some(b) = msg.get_mut(after + 6) {
                *b |= 0x80;
                return true;
            }
        }
    }
    false
}

/// Whether a message asks for DNSSEC records (the DO bit of its OPT).
#[cfg(test)]
pub fn dnssec_ok(msg: &[u8]) -> bool {
    crate::wire::record_offsets(msg).is_some_and(|recs| {
        recs.iter().any(|&(start, rtype, _)| {
            rtype == 41
                && crate::wire::read_name(msg, start)
                    .and_then(|(_, after)| msg.get(after + 6))
                    .is_some_and(|b| b & 0x80 != 0)
        })
    })
}

/// Parts of an RFC 2136 UPDATE (s2: zone, prerequisite, update sections).
#[derive(Default)]
pub struct Update {
    pub prerequisites: Vec<ResourceRecord<'static>>,
    pub updates: Vec<ResourceRecord<'static>>,
}

/// Prerequisite "name is not in use" (RFC 2136 s2.4.5: CLASS NONE, TYPE
/// ANY, TTL 0, no RDATA).
pub fn name_not_in_use(n: &Name<'static>) -> ResourceRecord<'static> {
    ResourceRecord::new(n.clone(), CLASS::NONE, 0, RData::Empty(TYPE::Unknown(255)))
}

/// Prerequisite "RRset exists (value dependent)" for one record (RFC 2136
/// s2.4.2: the record as it is, TTL 0).
pub fn rrset_equals(rr: &ResourceRecord<'static>) -> ResourceRecord<'static> {
    let mut r = rr.clone();
    r.ttl = 0;
    r.cache_flush = false;
    r
}

/// Update "delete an RR from an RRset" (RFC 2136 s2.5.4: CLASS NONE, TTL
/// 0, the RDATA): removes exactly this record, nobody else's.
pub fn delete_rr(rr: &ResourceRecord<'static>) -> ResourceRecord<'static> {
    let mut r = rr.clone();
    r.class = CLASS::NONE;
    r.ttl = 0;
    r.cache_flush = false;
    r
}

/// An UPDATE message for `zone` (RFC 2136 s2: the zone section is one
/// question of type SOA).
pub fn update(id: u16, zone: &str, u: &Update) -> Result<Vec<u8>, Refused> {
    let mut p = Packet::new_query(id);
    *p.opcode_mut() = OPCODE::Update;
    p.questions.push(Question::new(
        name(zone)?,
        QTYPE::TYPE(TYPE::SOA),
        QCLASS::CLASS(CLASS::IN),
        false,
    ));
    p.answers = u.prerequisites.clone();
    p.name_servers = u.updates.clone();
    p.build_bytes_vec_compressed()
        .map_err(|e| Refused(format!("cannot build the update for zone {zone}: {e}")))
}

/// What we read from a response.
#[derive(Clone, Debug)]
pub struct Response {
    /// The message ID (the exchange matches it on the raw bytes; the
    /// parse keeps it for the tests that check it).
    #[cfg_attr(not(test), allow(dead_code))]
    pub id: u16,
    /// The RCODE (4 header bits, widened by the OPT record's upper bits).
    pub rcode: u16,
    pub truncated: bool,
    pub answers: Vec<ResourceRecord<'static>>,
    pub authority: Vec<ResourceRecord<'static>>,
    pub additional: Vec<ResourceRecord<'static>>,
    /// Whether a TSIG key checked it.
    pub authenticated: bool,
}

/// Parse a response (already stripped of its TSIG record).
pub fn parse_response(bytes: &[u8]) -> Result<Response, Refused> {
    if bytes.len() < 12 {
        return Err("shorter than a DNS header".into());
    }
    let header_rcode = (bytes[3] & 0x0F) as u16;
    if bytes.len() > crate::wire::MAX_PACKET {
        // A large TCP answer: simple-dns (the engine's limits are for
        // multicast datagrams), after the same pre-check: simple-dns
        // reserves room for as many records as the header counts.
        precheck(bytes)?;
        let p = Packet::parse(bytes).map_err(|e| format!("unparsable ({e})"))?;
        let own = |v: Vec<ResourceRecord<'_>>| v.into_iter().map(|r| r.into_owned()).collect();
        return Ok(Response {
            id: p.id(),
            rcode: header_rcode | (ext_rcode_bits(bytes).unwrap_or(0) << 4),
            truncated: p.has_flags(PacketFlag::TRUNCATION),
            answers: own(p.answers),
            authority: own(p.name_servers),
            additional: own(p.additional_records),
            authenticated: false,
        });
    }
    let p = wire::parse(bytes).map_err(|e| format!("unparsable ({e:?})"))?;
    // RFC 6891 s6.1.3: the OPT TTL carries the upper 8 bits of the RCODE.
    let ext = match p.opt() {
        Some(_) => ext_rcode_bits(bytes).unwrap_or(0),
        None => 0,
    };
    Ok(Response {
        id: p.id(),
        rcode: header_rcode | (ext << 4),
        truncated: p.has_flags(PacketFlag::TRUNCATION),
        answers: p.answers,
        authority: p.name_servers,
        additional: p.additional_records,
        authenticated: false,
    })
}

/// The header's counts against the bytes (the smallest question is 5
/// bytes, the smallest record 11), then every record walked: nothing is
/// reserved from counts the message cannot hold.
fn precheck(bytes: &[u8]) -> Result<(), Refused> {
    let count = |at: usize| u16::from_be_bytes([bytes[at], bytes[at + 1]]) as usize;
    let (qd, rr) = (count(4), count(6) + count(8) + count(10));
    if qd * 5 + rr * 11 > bytes.len() - 12 {
        return Err(format!(
            "its header counts {qd} question(s) and {rr} record(s), more than {} bytes hold",
            bytes.len()
        )
        .into());
    }
    crate::wire::record_offsets(bytes)
        .map(|_| ())
        .ok_or_else(|| "its records run past the end".into())
}

/// The extended RCODE byte of the OPT record, from the raw bytes.
fn ext_rcode_bits(bytes: &[u8]) -> Option<u16> {
    let recs = crate::wire::record_offsets(bytes)?;
    for (start, rtype, _) in recs {
        if rtype == 41 {
            let after = crate::wire::read_name(bytes, start)?.1;
            return bytes.get(after + 4).map(|&b| b as u16);
        }
    }
    None
}

/// The question of a message as (lowercase name, type, class), raw.
pub fn question_of(bytes: &[u8]) -> Option<(String, u16, u16)> {
    if bytes.len() < 12 || u16::from_be_bytes([bytes[4], bytes[5]]) != 1 {
        return None;
    }
    let (n, after) = crate::wire::read_name(bytes, 12)?;
    let t = bytes.get(after..after + 2)?;
    let c = bytes.get(after + 2..after + 4)?;
    Some((
        n,
        u16::from_be_bytes([t[0], t[1]]),
        u16::from_be_bytes([c[0], c[1]]),
    ))
}

/// Records of `name` (case-insensitive) and `rtype` among `rrs`.
pub fn records_of<'a>(
    rrs: &'a [ResourceRecord<'static>],
    owner: &'a str,
    rtype: u16,
) -> impl Iterator<Item = &'a ResourceRecord<'static>> + 'a {
    rrs.iter().filter(move |r| {
        wire::rr_type(r) == rtype && name_text(&r.name) == owner.to_ascii_lowercase()
    })
}

/// `text` safe to show in an error or a log line: printable ASCII stays,
/// a backslash and every other byte (control bytes, newlines, bytes of
/// non-ASCII characters) are written as `\DDD` (RFC 1035 s5.1's form), so
/// a name from a server can neither fake a log line nor hide itself.
pub fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for &b in text.as_bytes() {
        if b.is_ascii_graphic() && b != b'\\' || b == b' ' {
            out.push(b as char);
        } else {
            out.push_str(&format!("\\{b:03}"));
        }
    }
    out
}

/// Lowercase dotted text of a name, with the trailing dot.
pub fn name_text(n: &Name<'_>) -> String {
    let mut s = String::new();
    for l in n.get_labels() {
        s.push_str(&String::from_utf8_lossy(l.as_ref()).to_ascii_lowercase());
        s.push('.');
    }
    if s.is_empty() {
        s.push('.');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_has_edns0_and_one_question() {
        let q = query(0x1234, "baremetal._openstack._tcp.example.test.", 33).unwrap();
        assert_eq!(&q[0..2], &[0x12, 0x34]);
        assert_eq!(q[2] & 0x01, 1, "RD set");
        assert_eq!(u16::from_be_bytes([q[10], q[11]]), 1, "one OPT record");
        assert_eq!(
            question_of(&q),
            Some(("baremetal._openstack._tcp.example.test.".into(), 33, 1))
        );
        let p = Packet::parse(&q).unwrap();
        assert_eq!(p.opt().unwrap().udp_packet_size, EDNS_UDP_SIZE);
    }

    #[test]
    fn dnssec_ok_bit_only_when_set() {
        let mut q = query(7, "baremetal._openstack._tcp.example.test.", 33).unwrap();
        assert!(!dnssec_ok(&q), "a plain query does not ask for RRSIGs");
        assert!(set_dnssec_ok(&mut q));
        assert!(dnssec_ok(&q));
        let p = Packet::parse(&q).unwrap();
        assert_eq!(p.opt().unwrap().udp_packet_size, EDNS_UDP_SIZE);
        assert_eq!(question_of(&q).unwrap().1, 33, "the question is intact");
        // a message without OPT is left alone
        let mut bare = q[..q.len() - 11].to_vec();
        bare[11] = 0;
        assert!(!set_dnssec_ok(&mut bare));
    }

    #[test]
    fn update_sections_and_classes() {
        let inst = name("x._openstack._tcp.example.test").unwrap();
        let mut u = Update::default();
        u.prerequisites.push(name_not_in_use(&inst));
        let ptr = wire::ptr(&name("_openstack._tcp.example.test").unwrap(), &inst, 4500);
        u.updates.push(ptr.clone());
        u.updates.push(delete_rr(&ptr));
        let b = update(7, "example.test.", &u).unwrap();
        assert_eq!((b[2] >> 3) & 0x0F, 5, "opcode UPDATE");
        assert_eq!(question_of(&b), Some(("example.test.".into(), 6, 1)));
        let counts: Vec<u16> = (0..4)
            .map(|i| u16::from_be_bytes([b[4 + 2 * i], b[5 + 2 * i]]))
            .collect();
        assert_eq!(counts, [1, 1, 2, 0]);
        let recs = crate::wire::record_offsets(&b).unwrap();
        // prerequisite: NONE / ANY / TTL 0 / no RDATA
        let (s, t, e) = recs[0];
        let after = crate::wire::read_name(&b, s).unwrap().1;
        assert_eq!(t, 255);
        assert_eq!(&b[after + 2..after + 4], &254u16.to_be_bytes());
        assert_eq!(e, after + 10);
        // the delete: class NONE, TTL 0, same RDATA as the add
        let (s2, _, e2) = recs[2];
        let a2 = crate::wire::read_name(&b, s2).unwrap().1;
        assert_eq!(&b[a2 + 2..a2 + 8], &[0, 254, 0, 0, 0, 0]);
        assert!(e2 > a2 + 10);
    }

    #[test]
    fn printable_escapes_what_could_fake_a_line() {
        assert_eq!(printable("a.example.test."), "a.example.test.");
        assert_eq!(printable("x\nWARN fake"), "x\\010WARN fake");
        assert_eq!(printable("a\\b\u{7f}"), "a\\092b\\127");
        assert_eq!(printable("é"), "\\195\\169");
    }

    #[test]
    fn large_answers_are_prechecked_before_any_reservation() {
        // 9001 bytes whose header claims 65535 records in each section
        let mut big = vec![0u8; crate::wire::MAX_PACKET + 1];
        big[2] = 0x80;
        big[6..12].copy_from_slice(&[0xFF; 6]);
        let e = parse_response(&big).unwrap_err();
        assert!(
            e.0.contains("header counts 0 question(s) and 196605 record(s)"),
            "{e}"
        );
        // counts that fit the size but records that run past the end
        let mut runs = vec![0u8; crate::wire::MAX_PACKET + 1];
        runs[2] = 0x80;
        runs[7] = 1;
        runs[12..23].copy_from_slice(&[0, 0, 1, 0, 1, 0, 0, 0, 60, 0xFF, 0xFF]);
        let e = parse_response(&runs).unwrap_err();
        assert!(e.0.contains("run past the end"), "{e}");
    }

    #[test]
    fn rcode_names() {
        assert_eq!(rcode_name(3), "NXDOMAIN");
        assert_eq!(rcode_name(9), "NOTAUTH");
        assert_eq!(rcode_name(99), "RCODE 99");
    }
}

//! Our query packets: questions plus known answers (RFC 6762 s5, s7.1).

use std::time::Instant;

use simple_dns::{Name, Packet, PacketFlag, Question, ResourceRecord, CLASS, QCLASS, QTYPE, TYPE};

use crate::engine::cache::Cache;
use crate::wire::MAX_PACKET;

/// One question to ask.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Ask {
    pub name: Name<'static>,
    pub rtype: u16,
    /// RFC 6762 s5.4: ask for a unicast response (QU bit).
    pub qu: bool,
}

impl Ask {
    pub fn qm(name: &Name<'_>, rtype: u16) -> Ask {
        Ask {
            name: name.clone().into_owned(),
            rtype,
            qu: false,
        }
    }
}

/// Query packets (ID 0, RFC 6762 s18.1) asking `asks`, with the cached
/// answers to them that are at least half their TTL from expiry as known
/// answers (RFC 6762 s7.1). One packet, unless the known answers do not fit
/// in 9000 bytes (RFC 6762 s17): then the first packet carries the
/// questions and as many known answers as fit, further packets carry the
/// rest, and every packet but the last has the TC bit (RFC 6762 s7.2).
/// Empty when there is nothing to ask.
pub(crate) fn build(cache: &Cache, now: Instant, asks: &[Ask]) -> Vec<Vec<u8>> {
    let unique = dedup(asks);
    if unique.is_empty() {
        return Vec::new();
    }
    let mut packets = Vec::new();
    let mut remaining: &[&Ask] = &unique;
    while !remaining.is_empty() {
        // As many questions as fit in one packet; their known answers
        // follow them.
        let n = longest_fit(remaining.len(), |n| encode(&remaining[..n], &[], false));
        if n == 0 {
            break;
        }
        pack_group(cache, now, &remaining[..n], &mut packets);
        remaining = &remaining[n..];
    }
    packets
}

/// The largest `n <= max` for which `fits(n)` gives a packet (binary
/// search; `fits` is monotone), or 0.
fn longest_fit(max: usize, mut fits: impl FnMut(usize) -> Option<Vec<u8>>) -> usize {
    let (mut lo, mut hi, mut best) = (1usize, max, 0usize);
    while lo <= hi {
        let mid = lo + (hi - lo) / 2;
        if fits(mid).is_some() {
            best = mid;
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    best
}

/// The one packet of a one-shot query (RFC 6762 s5.1) with ID `id`: the
/// questions only. No known answers: a legacy resolver sends none, and
/// Avahi drops a legacy query (source port not 5353) that carries any.
/// None when there is nothing to ask or the questions do not fit.
pub(crate) fn build_one_shot(asks: &[Ask], id: u16) -> Option<Vec<u8>> {
    let unique = dedup(asks);
    if unique.is_empty() {
        return None;
    }
    encode_with_id(id, &unique, &[], false)
}

/// The questions of `asks`, each name and type once (QU wins).
fn dedup(asks: &[Ask]) -> Vec<&Ask> {
    let mut unique: Vec<&Ask> = Vec::with_capacity(asks.len());
    for a in asks {
        match unique
            .iter_mut()
            .find(|u| u.name == a.name && u.rtype == a.rtype)
        {
            Some(u) if a.qu && !u.qu => *u = a,
            Some(_) => {}
            None => unique.push(a),
        }
    }
    unique
}

/// RFC 6762 s7.1: the cached answers to `group` with more than half their
/// TTL left, with the TTL left and no cache-flush bit.
fn known_answers(cache: &Cache, now: Instant, group: &[&Ask]) -> Vec<ResourceRecord<'static>> {
    let mut known: Vec<ResourceRecord<'static>> = Vec::new();
    for a in group {
        for (_, rec) in cache.live(now, &a.name, a.rtype) {
            let left = rec.remaining_ttl(now);
            if left as u64 * 2 > rec.rr.ttl as u64 {
                let mut rr = rec.rr.clone();
                rr.ttl = left;
                rr.cache_flush = false;
                known.push(rr);
            }
        }
    }
    known
}

/// One group of questions with its known answers, continued in TC packets
/// when they do not fit.
fn pack_group(cache: &Cache, now: Instant, group: &[&Ask], packets: &mut Vec<Vec<u8>>) {
    let known = known_answers(cache, now, group);
    let mut questions: &[&Ask] = group;
    let mut rest: &[ResourceRecord<'static>] = &known;
    loop {
        let taken = longest_fit(rest.len(), |n| {
            encode(questions, &rest[..n], n < rest.len())
        });
        if taken == 0 && questions.is_empty() {
            break; // a known answer alone exceeds a packet: drop the rest
        }
        match encode(questions, &rest[..taken], taken < rest.len()) {
            Some(bytes) => packets.push(bytes),
            None => break,
        }
        rest = &rest[taken..];
        questions = &[];
        if rest.is_empty() {
            break;
        }
    }
}

/// One query packet, or None when it exceeds 9000 bytes.
fn encode(
    questions: &[&Ask],
    known: &[ResourceRecord<'static>],
    truncated: bool,
) -> Option<Vec<u8>> {
    encode_with_id(0, questions, known, truncated)
}

/// One query packet with ID `id`, or None when it exceeds 9000 bytes.
fn encode_with_id(
    id: u16,
    questions: &[&Ask],
    known: &[ResourceRecord<'static>],
    truncated: bool,
) -> Option<Vec<u8>> {
    let mut packet = Packet::new_query(id);
    if truncated {
        packet.set_flags(PacketFlag::TRUNCATION);
    }
    for a in questions {
        packet.questions.push(Question::new(
            a.name.clone(),
            QTYPE::TYPE(TYPE::from(a.rtype)),
            QCLASS::CLASS(CLASS::IN),
            a.qu,
        ));
    }
    packet.answers.extend(known.iter().cloned());
    let bytes = packet.build_bytes_vec_compressed().ok()?;
    (bytes.len() <= MAX_PACKET).then_some(bytes)
}

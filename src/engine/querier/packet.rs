//! Our query packets: questions plus known answers (RFC 6762 s5, s7.1).

use std::time::Instant;

use simple_dns::{Name, Packet, Question, ResourceRecord, CLASS, QCLASS, QTYPE, TYPE};

use crate::engine::cache::Cache;
use crate::engine::MAX_PACKET;

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
        Ask { name: name.clone().into_owned(), rtype, qu: false }
    }
}

/// A query packet (ID 0, RFC 6762 s18.1) asking `asks`, with the cached
/// answers to them that are at least half their TTL from expiry as known
/// answers (RFC 6762 s7.1). None when there is nothing to ask or the
/// questions alone exceed 9000 bytes (RFC 6762 s17).
pub(crate) fn build(cache: &Cache, now: Instant, asks: &[Ask]) -> Option<Vec<u8>> {
    let mut unique: Vec<&Ask> = Vec::with_capacity(asks.len());
    for a in asks {
        match unique.iter_mut().find(|u| u.name == a.name && u.rtype == a.rtype) {
            Some(u) if a.qu && !u.qu => *u = a,
            Some(_) => {}
            None => unique.push(a),
        }
    }
    if unique.is_empty() {
        return None;
    }
    let mut known: Vec<ResourceRecord<'static>> = Vec::new();
    for a in &unique {
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
    let mut keep = known.len();
    loop {
        let mut packet = Packet::new_query(0);
        for a in &unique {
            packet.questions.push(Question::new(
                a.name.clone(),
                QTYPE::TYPE(TYPE::from(a.rtype)),
                QCLASS::CLASS(CLASS::IN),
                a.qu,
            ));
        }
        packet.answers.extend(known[..keep].iter().cloned());
        let bytes = packet.build_bytes_vec_compressed().ok()?;
        if bytes.len() <= MAX_PACKET {
            return Some(bytes);
        }
        if keep == 0 {
            return None;
        }
        // Too many known answers for one packet: send the first ones only
        // (RFC 6762 s7.2 would continue them in a TC packet; the responder
        // then merely answers a few records we already hold).
        keep /= 2;
    }
}

//! Probing (RFC 6762 s8.1) and the simultaneous-probe tie-break (s8.2).

use std::cmp::Ordering;
use std::time::Instant;

use simple_dns::{Packet, Question, ResourceRecord, CLASS, QCLASS, QTYPE};

use super::{Link, Phase, Reg, Responder};
use crate::engine::timers::{CONFLICT_BACKOFF, TIE_BREAK_WAIT};
use crate::wire;

/// A probe: a QU question of type ANY for each name we want, with the
/// records we propose for it in the authority section (RFC 6762 s8.1, s8.2).
pub(super) fn probe_packet(reg: &Reg) -> Packet<'static> {
    let mut p = Packet::new_query(0);
    for name in &reg.owned {
        p.questions.push(Question::new(
            name.clone(),
            QTYPE::ANY,
            QCLASS::CLASS(CLASS::IN),
            true,
        ));
        for r in reg.unique_of(name) {
            p.name_servers.push(r.clone().with_cache_flush(false));
        }
    }
    p
}

/// Sort key of a record for the tie-break: class, type, raw rdata.
fn key(r: &ResourceRecord<'_>) -> (u16, u16, Vec<u8>) {
    (r.class as u16, wire::rr_type(r), wire::rdata_bytes(r))
}

/// RFC 6762 s8.2: compare both sorted sets record by record; the first
/// difference decides, and a set that runs out first is the earlier one.
/// Greater = ours wins.
pub(crate) fn compare(ours: &[&ResourceRecord<'_>], theirs: &[&ResourceRecord<'_>]) -> Ordering {
    let mut a: Vec<_> = ours.iter().map(|r| key(r)).collect();
    let mut b: Vec<_> = theirs.iter().map(|r| key(r)).collect();
    a.sort();
    b.sort();
    a.cmp(&b)
}

impl Responder {
    /// Another host's probe (a query with authority records) for a name we
    /// are probing on this link: lose the tie-break -> wait and probe
    /// again (RFC 6762 s8.2). Identical records are our own probe looped
    /// back, or the same data: no conflict.
    pub(super) fn tie_break(&mut self, now: Instant, link: Link, packet: &Packet<'_>) {
        let backoff = self.backed_off(now);
        let mut losses = 0;
        for reg in self.regs.values_mut() {
            if !reg
                .links
                .get(&link)
                .is_some_and(|s| matches!(s.phase, Phase::Probing(_)))
            {
                continue;
            }
            let lost = reg.owned.iter().any(|name| {
                let theirs: Vec<&ResourceRecord<'_>> = packet
                    .name_servers
                    .iter()
                    .filter(|r| &r.name == name)
                    .collect();
                let ours: Vec<&ResourceRecord<'_>> = reg.unique_of(name).collect();
                !theirs.is_empty() && compare(&ours, &theirs) == Ordering::Less
            });
            if let (true, Some(st)) = (lost, reg.links.get_mut(&link)) {
                st.phase = Phase::Probing(0);
                st.next = Some(
                    now + if backoff {
                        CONFLICT_BACKOFF
                    } else {
                        TIE_BREAK_WAIT
                    },
                );
                losses += 1;
            }
        }
        for _ in 0..losses {
            self.note_conflict(now);
        }
    }
}

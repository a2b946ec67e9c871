//! Conflicts with other hosts' records (RFC 6762 s8.1, s9) and the
//! conflict rate limit (s8.1).

use std::time::Instant;

use simple_dns::{Name, Packet};

use super::{answer, Link, Phase, RegId, Responder};
use crate::engine::timers::{CONFLICT_BACKOFF, CONFLICT_BURST, CONFLICT_WINDOW};
use crate::engine::{Event, Family, Received};
use crate::wire::{self, T_NSEC};

/// What one response means for one registration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    /// Seen while probing for it (first or again): the name is another
    /// host's.
    Lost,
    /// Contested once registered: probe again.
    Reprobe,
}

impl super::Reg {
    /// Do we publish a unique record of this name and type? Only such a
    /// record of another host, with other data, is a conflict (RFC 6762 s9:
    /// same name, rrtype and rrclass, different rdata).
    fn claims(&self, name: &Name<'_>, rtype: u16) -> bool {
        self.owns(name) && self.unique_of(name).any(|o| wire::rr_type(o) == rtype)
    }
}

impl Responder {
    /// A response from the link. A record of another host that conflicts
    /// with one of our unique records (`Reg::claims`, other rdata) ends a
    /// registration not yet made (RFC 6762 s8.1) or already probing again
    /// after a conflict, and sends a registered one back to probing (s9);
    /// NSEC says nothing about conflicts (the reference publishes an NSEC
    /// listing only its address type).
    pub fn handle_response(&mut self, now: Instant, from: Received, packet: &Packet<'_>) {
        // RFC 6762 s7.4: another responder just multicast an answer we held
        // back, with at least half our TTL: ours is not needed.
        let link: Link = (from.iface, Family::of(&from.src.ip()));
        for d in self.delayed.iter_mut().filter(|d| d.link == link) {
            d.answers.retain(|r| !answer::known_in(&packet.answers, r));
        }
        self.delayed.retain(|d| !d.answers.is_empty());
        let mut verdicts: Vec<(RegId, Verdict)> = Vec::new();
        for r in packet
            .answers
            .iter()
            .chain(packet.additional_records.iter())
        {
            let rtype = wire::rr_type(r);
            if r.ttl == 0 || rtype == T_NSEC || self.is_ours(r) {
                continue;
            }
            for (id, reg) in &self.regs {
                if reg.links.is_empty()
                    || !reg.claims(&r.name, rtype)
                    || verdicts.iter().any(|(v, _)| v == id)
                {
                    continue;
                }
                // Never registered yet, or already probing again: lost. A
                // registration made is never lost to one packet.
                let lost = !reg.registered || reg.contested;
                verdicts.push((
                    *id,
                    if lost {
                        Verdict::Lost
                    } else {
                        Verdict::Reprobe
                    },
                ));
            }
        }
        for (id, v) in verdicts {
            match v {
                Verdict::Lost => self.conflict(now, id),
                Verdict::Reprobe => self.reprobe(now, id),
            }
        }
    }

    /// A registration lost its name (RFC 6762 s8.1, s9): report, forget, no
    /// goodbyes (the records are the other host's now).
    fn conflict(&mut self, now: Instant, id: RegId) {
        if self.regs.remove(&id).is_some() {
            self.note_conflict(now);
            self.events.push_back(Event::Conflict(id));
        }
    }

    /// RFC 6762 s9: on a conflicting record for an announced name, reset to
    /// probing at once on every link (later under the s8.1 back-off), no answers for the records meanwhile. An
    /// answer to those probes is a conflict; silence announces them again.
    /// The registration stays registered for the driver: no event.
    fn reprobe(&mut self, now: Instant, id: RegId) {
        self.note_conflict(now);
        let at = if self.backed_off(now) {
            now + CONFLICT_BACKOFF
        } else {
            now
        };
        let Some(reg) = self.regs.get_mut(&id) else {
            return;
        };
        reg.contested = true;
        for st in reg.links.values_mut() {
            st.phase = Phase::Probing(0);
            st.next = Some(at);
        }
    }

    pub(crate) fn note_conflict(&mut self, now: Instant) {
        while self
            .conflicts
            .front()
            .is_some_and(|t| now.duration_since(*t) >= CONFLICT_WINDOW)
        {
            self.conflicts.pop_front();
        }
        if self.conflicts.len() < CONFLICT_BURST {
            self.conflicts.push_back(now);
        }
    }

    /// RFC 6762 s8.1: a burst of conflicts -> back off before probing.
    pub(crate) fn backed_off(&self, now: Instant) -> bool {
        self.conflicts
            .iter()
            .filter(|t| now.duration_since(**t) < CONFLICT_WINDOW)
            .count()
            >= CONFLICT_BURST
    }
}

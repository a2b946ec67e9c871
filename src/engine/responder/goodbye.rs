//! Goodbyes (RFC 6762 s10.1): a withdrawal's TTL-0 records, three times
//! 125 ms apart, on each link where the registration was announced and
//! the kernel can still carry them.

use super::*;

impl Responder {
    /// Goodbyes (TTL 0, RFC 6762 s10.1) on every link we announced on, sent
    /// `GOODBYES` times `GOODBYE_INTERVAL` apart; `Event::Withdrawn` once
    /// the last is handed out.
    pub fn unregister(&mut self, now: Instant, id: RegId) -> Result<(), EngineError> {
        let reg = self
            .regs
            .remove(&id)
            .ok_or(EngineError::UnknownRegistration)?;
        let mut byes: Vec<ResourceRecord<'static>> = Vec::new();
        for r in &reg.records {
            // A shared record another registration still publishes stays.
            if !self.is_ours(r) {
                byes.push(r.clone());
            }
        }
        let links: Vec<Link> = reg
            .links
            .iter()
            .filter(|(_, st)| st.announced() || st.claimed)
            .map(|(l, _)| *l)
            .collect();
        if links.is_empty() || byes.is_empty() {
            self.events.push_back(Event::Withdrawn(id));
            return Ok(());
        }
        self.farewells.push(Farewell {
            why: Bye::Withdrawn(id),
            at: now,
            left: GOODBYES,
            links,
            byes,
        });
        self.send_farewells(now);
        Ok(())
    }

    /// Send the goodbye rounds due at `now`.
    pub(super) fn send_farewells(&mut self, now: Instant) {
        let due: Vec<usize> = (0..self.farewells.len())
            .filter(|&i| self.farewells[i].at <= now)
            .collect();
        for i in due.into_iter().rev() {
            // What a registration made since publishes again is not ours to
            // bye any more (on a link we left, nothing is published).
            let f = &self.farewells[i];
            let byes: Vec<ResourceRecord<'static>> = f
                .byes
                .iter()
                .filter(|r| f.why == Bye::Left || !self.is_ours(r))
                .cloned()
                .collect();
            let mut p = Packet::new_reply(0);
            p.set_flags(PacketFlag::AUTHORITATIVE_ANSWER);
            p.answers = byes;
            // Signed over the records' real TTLs, then all TTLs 0.
            self.sign_packet(now, None, &mut p);
            sign::lower_ttls(&mut p, 0);
            let mut queued = 0;
            if !p.answers.is_empty() {
                for link in self.farewells[i].links.clone() {
                    queued += self.send_multicast(now, link, &p, false);
                }
            }
            let f = &mut self.farewells[i];
            f.left -= 1;
            f.at = now + GOODBYE_INTERVAL;
            if f.left == 0 || queued == 0 {
                let why = self.farewells.swap_remove(i).why;
                match (why, self.out.back_mut()) {
                    (Bye::Withdrawn(id), Some(last)) if queued > 0 => last.last_of = Some(id),
                    _ => self.finish_farewell(why),
                }
            }
        }
    }

    pub(super) fn finish_farewell(&mut self, why: Bye) {
        if let Bye::Withdrawn(id) = why {
            self.events.push_back(Event::Withdrawn(id));
        }
    }
}

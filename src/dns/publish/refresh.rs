//! Keeping a registration: the refresh at 80 % of the TTL, which puts
//! back what is ours and missing, and the clean-up after a loss.

use super::*;

impl Publisher {
    /// 80 % of the TTL (RFC 6762 s5.2 refreshes at 80 % too).
    pub(super) fn refresh_interval(&self) -> Duration {
        Duration::from_millis(self.inner.ttl as u64 * 800)
    }

    pub(super) fn refresh_loop(&self) {
        let mut st = self.state();
        loop {
            if st.closed {
                return;
            }
            let now = Instant::now();
            let due: Vec<Reg> = st
                .regs
                .iter()
                .filter(|r| r.next_refresh <= now)
                .cloned()
                .collect();
            if due.is_empty() {
                let next = st.regs.iter().map(|r| r.next_refresh).min();
                st = match next {
                    Some(t) => {
                        self.inner
                            .cond
                            .wait_timeout(st, t.saturating_duration_since(now))
                            .unwrap_or_else(|e| e.into_inner())
                            .0
                    }
                    None => self.inner.cond.wait(st).unwrap_or_else(|e| e.into_inner()),
                };
                continue;
            }
            drop(st);
            for reg in due {
                let outcome = self.refresh(&reg);
                let mut s = self.state();
                let Some(slot) = s.regs.iter_mut().find(|r| r.instance == reg.instance) else {
                    continue;
                };
                match outcome {
                    Ok(Taken::Done) => slot.next_refresh = Instant::now() + self.refresh_interval(),
                    Ok(Taken::Foreign(kind, seen)) => {
                        log(
                            LogLevel::Warning,
                            &format!(
                                "registration {} lost: another publisher holds it in zone {} \
                                 (its {kind} is not ours)",
                                reg.instance, reg.zone
                            ),
                        );
                        s.regs.retain(|r| r.instance != reg.instance);
                        drop(s);
                        self.remove_leftovers(&reg, &seen);
                        s = self.state();
                        s.lost.push(reg.instance.clone());
                        self.inner.cond.notify_all();
                    }
                    Err(e) => {
                        log(LogLevel::Warning, &format!("{e}; retrying"));
                        slot.next_refresh = Instant::now() + REFRESH_RETRY;
                    }
                }
            }
            st = self.state();
        }
    }

    /// Re-assert `reg` while the zone holds exactly it; else put back what
    /// is ours and missing, or find that another publisher holds it.
    fn refresh(&self, reg: &Reg) -> Result<Taken> {
        match self.send(reg, &reassert(reg), "refreshing")? {
            NOERROR => Ok(Taken::Done),
            NXRRSET | NXDOMAIN | YXRRSET | YXDOMAIN => {
                self.take(reg, "refreshing", &std::cell::Cell::new(false))
            }
            r => Err(self.rcode_error("refreshing", reg, r)),
        }
    }

    /// After a loss: remove our marker and those of our RRsets that are
    /// still exactly ours, guarded by both, so nothing of the new
    /// holder's goes. The PTR stays: its value names the instance they
    /// hold now.
    fn remove_leftovers(&self, reg: &Reg, seen: &owner::Seen) {
        let marker_ours = seen.marker.len() == 1
            && owner::rdata_key(&seen.marker[0]) == owner::rdata_key(&reg.marker);
        if !marker_ours {
            return;
        }
        let mut u = Update {
            prerequisites: vec![message::rrset_equals(&reg.marker)],
            updates: vec![message::delete_rr(&reg.marker)],
        };
        for (there, mine) in seen.sets.iter().zip(reg.sets()) {
            if !there.is_empty() && owner::same_set(there, &mine) {
                u.prerequisites
                    .extend(there.iter().map(message::rrset_equals));
                u.updates.extend(mine.iter().map(message::delete_rr));
            }
        }
        match self.send(reg, &u, "withdrawing") {
            Ok(NOERROR) => {}
            Ok(r) => log(
                LogLevel::Debug,
                &format!(
                    "{}: our leftovers not removed ({})",
                    reg.instance,
                    message::rcode_name(r)
                ),
            ),
            Err(e) => log(LogLevel::Warning, &e.to_string()),
        }
    }
}

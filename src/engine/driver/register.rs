//! Registrations through the blocking API: register (probe and
//! announce), their state, losses, withdrawal.

use super::*;
use crate::log::{log, LogLevel};

/// What `Mdns::register` says when no interface is up.
pub(crate) const NO_INTERFACE: &str = "no interface is up to probe and announce it on";

impl Mdns {
    /// Register and block until probing ends: Ok(id) once announced,
    /// Err(Error::Conflict) on a conflict, Err(Error::Registration) on an
    /// engine error. `timeout` bounds the wait.
    ///
    /// With no interface up (or the name lost right after announcing),
    /// Err(Error::Registration) with [`NO_INTERFACE`]'s text, and nothing
    /// stays registered: nobody could have answered a probe.
    pub fn register(&self, info: ServiceInfo, timeout: Duration) -> Result<RegId> {
        let instance = info.instance.clone();
        let id = self.register_pending(info, timeout)?;
        if self.is_registered(id) {
            return Ok(id);
        }
        if let Err(e) = self.unregister(id) {
            log(
                LogLevel::Debug,
                &format!("withdrawing the unannounced {instance}: {e}"),
            );
        }
        self.lock().check()?;
        Err(Error::Registration(NO_INTERFACE.into()))
    }

    /// `register`, but with no interface up at all it returns Ok(id) at
    /// once: the service is pending, and is probed and announced when an
    /// interface comes up (`is_registered` turns true then; a conflict
    /// found then makes it false for good).
    pub fn register_pending(&self, info: ServiceInfo, timeout: Duration) -> Result<RegId> {
        let now = Instant::now();
        let deadline = after(now, timeout);
        let instance = info.instance.clone();
        let mut st = self.lock();
        st.check()?;
        // The responder must hear the link before its first probe.
        st.net.listen_all()?;
        let mut st = self.ensure_thread(st)?;
        let id = st.guarded(|e| e.register(now, info))?.map_err(arg_err)?;
        st.regs.insert(id, Reg::Probing);
        self.shared.wake();
        loop {
            match st.regs.get(&id).copied() {
                Some(Reg::Probing) if st.net.ifaces.is_empty() => return Ok(id),
                Some(Reg::Probing) => {}
                // Lost right after announcing counts as registered: the
                // caller learns it from is_registered.
                Some(Reg::Registered | Reg::Lost) => return Ok(id),
                Some(Reg::Conflicted) => {
                    st.regs.remove(&id);
                    return Err(Error::Conflict(format!(
                        "{instance} is owned by another host"
                    )));
                }
                _ => {
                    return Err(Error::Registration(format!(
                        "{instance} was withdrawn while probing"
                    )))
                }
            }
            st.check()?;
            // Still probing: nothing was announced, so a cancel leaves
            // nothing on the wire (the engine sends no goodbye for names
            // it never announced).
            if crate::cancel::triggered() {
                self.abandon(&mut st, id)?;
                return Err(crate::cancel::cancelled());
            }
            if Instant::now() >= deadline {
                self.abandon(&mut st, id)?;
                return Err(Error::Registration(format!(
                    "probing {instance} did not finish within {timeout:?}"
                )));
            }
            st = self.wait_until(st, deadline);
        }
    }

    /// Give a registration up without waiting: the engine withdraws it
    /// (goodbyes only for what it announced, RFC 6762 s10.1) and the
    /// driver forgets it once withdrawn; `close` waits for that.
    fn abandon(&self, st: &mut State, id: RegId) -> Result<()> {
        let now = Instant::now();
        match st.guarded(|e| e.unregister(now, id))? {
            Ok(()) => {
                st.regs.insert(id, Reg::Abandoned);
                self.shared.wake();
            }
            Err(_) => {
                st.regs.remove(&id);
            }
        }
        Ok(())
    }

    /// Withdraw a registration in the background: its goodbyes go out
    /// after this returns (a cancelled call that had announced; `close`
    /// waits for them). Unknown or already withdrawn ids are ignored.
    pub fn withdraw_later(&self, id: RegId) -> Result<()> {
        let mut st = self.lock();
        st.check()?;
        match st.regs.get(&id).copied() {
            Some(Reg::Probing | Reg::Registered) => self.abandon(&mut st, id),
            Some(Reg::Lost | Reg::Conflicted) => {
                st.regs.remove(&id);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Whether a registration is announced and still ours: false once a
    /// conflict after announcing (RFC 6762 s9) took it away, after
    /// `unregister`, and for unknown ids. (Additive to the contract.)
    pub fn is_registered(&self, id: RegId) -> bool {
        self.lock().regs.get(&id) == Some(&Reg::Registered)
    }

    /// Block until a registration announced earlier is lost to a conflict
    /// (RFC 6762 s9; the ones `is_registered` turned false for, not
    /// `unregister`), the engine closes or fails, or `timeout` (None: no
    /// limit) passes. Returns the lost ids still held, sorted; empty on a
    /// timeout or once closed with none lost. Waits on the condvar the
    /// thread notifies after each round of events: no polling. (Additive to
    /// the contract.)
    pub fn wait_lost(&self, timeout: Option<Duration>) -> Vec<RegId> {
        let deadline = timeout.map(|t| after(Instant::now(), t));
        let mut st = self.lock();
        loop {
            let mut lost: Vec<RegId> = st
                .regs
                .iter()
                .filter(|(_, r)| **r == Reg::Lost)
                .map(|(id, _)| *id)
                .collect();
            if !lost.is_empty() || !matches!(st.life, Life::Running) || crate::cancel::triggered() {
                lost.sort_by_key(|id| id.0);
                return lost;
            }
            st = match deadline {
                Some(d) if Instant::now() >= d => return lost,
                Some(d) => self.wait_until(st, d),
                None => self.wait_for(st, None),
            };
        }
    }

    /// Withdraw one registration; blocks until its goodbyes are sent.
    pub fn unregister(&self, id: RegId) -> Result<()> {
        let mut st = self.lock();
        st.check()?;
        match st.regs.get(&id).copied() {
            None => return Err(Error::InvalidArgument(format!("no registration {}", id.0))),
            Some(Reg::Lost | Reg::Conflicted) => {
                // The engine already forgot it: nothing of ours to bye.
                st.regs.remove(&id);
                return Ok(());
            }
            Some(Reg::Withdrawing | Reg::Abandoned) => {}
            Some(Reg::Probing | Reg::Registered) => {
                let now = Instant::now();
                if let Err(e) = st.guarded(|e| e.unregister(now, id))? {
                    st.regs.remove(&id);
                    return Err(arg_err(e));
                }
                st.regs.insert(id, Reg::Withdrawing);
                self.shared.wake();
            }
        }
        let deadline = Instant::now() + WITHDRAW_LIMIT;
        while st.regs.contains_key(&id) {
            st.check()?;
            if Instant::now() >= deadline {
                return Err(Error::Internal(format!(
                    "goodbyes of registration {} not sent within {WITHDRAW_LIMIT:?}",
                    id.0
                )));
            }
            st = self.wait_until(st, deadline);
        }
        Ok(())
    }
}

//! Registrations lost later to another host, over either transport.

use super::*;

impl Zeroconf {
    /// Instance names of registrations this object made that were announced
    /// and later lost to another host (RFC 6762 s9: a conflicting record,
    /// then an answer to our re-probe); the engine has withdrawn them. A
    /// registration still waiting for an interface is not lost. Cheap: no
    /// network traffic. (Additive to the contract.)
    pub fn registrations_lost(&self) -> Vec<String> {
        let mut st = self.state();
        let State {
            registered,
            announced,
            ..
        } = &mut *st;
        let mut lost = self.dns.as_ref().map(|d| d.lost()).unwrap_or_default();
        let Some(mdns) = &self.mdns else {
            return lost;
        };
        for (id, instance) in registered.iter() {
            if mdns.is_registered(*id) {
                if !announced.contains(id) {
                    announced.push(*id);
                }
            } else if announced.contains(id) {
                lost.push(instance.clone());
            }
        }
        lost
    }

    /// Block until `registrations_lost` has something to say, the object
    /// or its engine is closed, or `timeout` (None: no limit) passes; then
    /// return what `registrations_lost` returns (empty on a timeout or a
    /// close). Event-driven: sleeps on the engine's condvar, no polling.
    /// (Additive to the contract.)
    pub fn wait_registrations_lost(&self, timeout: Option<Duration>) -> Vec<String> {
        self.wait_lost_now(timeout)
    }

    /// `wait_registrations_lost`, cancellable by `cancel`: Error::Cancelled
    /// within milliseconds of the trigger unless a loss was seen.
    pub fn wait_registrations_lost_with(
        &self,
        timeout: Option<Duration>,
        cancel: Option<&Cancel>,
    ) -> Result<Vec<String>> {
        self.cancellable(cancel, || {
            let lost = self.wait_lost_now(timeout);
            if lost.is_empty() {
                crate::cancel::check()?;
            }
            Ok(lost)
        })
    }

    fn wait_lost_now(&self, timeout: Option<Duration>) -> Vec<String> {
        if self.state().closed {
            return Vec::new();
        }
        // Not under our lock: close() must get through while we wait.
        let ids = match (&self.mdns, &self.dns) {
            (None, Some(dns)) => {
                dns.wait_lost(timeout);
                Vec::new()
            }
            (Some(mdns), None) => mdns.wait_lost(timeout),
            // discovery = both: wake for either, in short slices.
            (Some(mdns), Some(dns)) => {
                let until = timeout.map(|t| std::time::Instant::now() + t);
                loop {
                    let left =
                        until.map(|u| u.saturating_duration_since(std::time::Instant::now()));
                    let slice = left.map_or(Duration::from_millis(200), |l| {
                        l.min(Duration::from_millis(200))
                    });
                    let ids = mdns.wait_lost(Some(slice));
                    if !ids.is_empty()
                        || !dns.lost().is_empty()
                        || self.state().closed
                        || crate::cancel::triggered()
                        || left.is_some_and(|l| l <= slice)
                    {
                        break ids;
                    }
                }
            }
            (None, None) => Vec::new(),
        };
        if self.engine_failure().is_some() {
            return Vec::new();
        }
        {
            // A lost id was announced first (the engine only loses
            // registered names), even if no earlier call saw it announced.
            let mut st = self.state();
            let State {
                registered,
                announced,
                ..
            } = &mut *st;
            for id in ids {
                if registered.iter().any(|(r, _)| *r == id) && !announced.contains(&id) {
                    announced.push(id);
                }
            }
        }
        self.registrations_lost()
    }
}

//! Registration over the transports: the mDNS engine's probe and
//! announce, the DNS publisher's UPDATE, both under the one retry policy,
//! and what a cancelled registration withdraws.

use super::*;

impl Zeroconf {
    /// SPEC 3: publish `endpoint` as `<service_type>._openstack._tcp.local.`.
    pub fn register_service(
        &self,
        service_type: &str,
        endpoint: &str,
        params: Option<&Properties>,
    ) -> Result<()> {
        self.register_service_with(service_type, endpoint, params, None)
    }

    /// `register_service`, cancellable by `cancel`: a triggered token ends
    /// the call with Error::Cancelled within milliseconds, and whatever the
    /// call put out is withdrawn: over mDNS nothing was sent but probes
    /// while probing, and an announced registration gets its goodbyes
    /// (RFC 6762 s10.1, sent after the call returns; `close` waits for
    /// them); over unicast DNS, once the UPDATE was sent (so it may have
    /// been applied) a removal of exactly our records follows in the
    /// background (`close` waits for it). A registration that completed
    /// before the trigger was seen stays, and the call returns Ok.
    pub fn register_service_with(
        &self,
        service_type: &str,
        endpoint: &str,
        params: Option<&Properties>,
        cancel: Option<&Cancel>,
    ) -> Result<()> {
        self.cancellable(cancel, || {
            self.register(service_type, endpoint, params, cancel)
        })
    }

    fn register(
        &self,
        service_type: &str,
        endpoint: &str,
        params: Option<&Properties>,
        cancel: Option<&Cancel>,
    ) -> Result<()> {
        let cancelled = || cancel.is_some_and(Cancel::is_triggered);
        self.check_open()?;
        let st = ServiceType::new(service_type)?;
        let ep = endpoint::parse_endpoint(endpoint)?;
        let addresses = resolve_host(&st, &ep)?;
        let info = endpoint::service_info_of(&st, &ep, addresses, &self.config.params, params)?;
        let mut published = None;
        if let Some(dns) = &self.dns {
            log(LogLevel::Debug, &format!("registering {info:?} via DNS"));
            let planned = dns.plan(&st, &info)?;
            let mut sent = false;
            let added = retry::register(
                service_type,
                self.config.registration_attempts,
                &planned.held(),
                || {
                    sent = true;
                    dns.publish(&planned)
                },
                || {},
                |d| self.pause(d),
            );
            match added {
                Ok(()) => published = Some(planned),
                Err(e) => {
                    if sent && cancelled() {
                        // The UPDATE may have been applied before the cancel.
                        self.retract_later(dns, planned);
                    }
                    return Err(e);
                }
            }
        }
        let Some(mdns) = &self.mdns else {
            if cancelled() {
                if let (Some(dns), Some(p)) = (&self.dns, published) {
                    self.retract_later(dns, p);
                }
                return Err(crate::cancel::cancelled());
            }
            return Ok(());
        };
        log(LogLevel::Debug, &format!("registering {info:?} via mDNS"));
        let instance = info.instance.clone();
        // Success means probed and announced (the engine refuses while no
        // interface is up).
        let id = register_with_attempts(
            service_type,
            self.config.registration_attempts,
            || mdns.register(info.clone(), REGISTER_TIMEOUT),
            || mdns.flush_cache(),
            |d| self.pause(d),
        );
        let id = match id {
            Ok(id) if !cancelled() => id,
            other => {
                // Cancelled (or failed): withdraw what this call put out.
                if let Ok(id) = other {
                    // Announced just before the cancel was seen: goodbyes.
                    mdns.withdraw_later(id)?;
                }
                if let (Some(dns), Some(p)) = (&self.dns, published) {
                    if cancelled() {
                        self.retract_later(dns, p);
                    }
                }
                return Err(other.err().unwrap_or_else(crate::cancel::cancelled));
            }
        };
        let mut st = self.state();
        if st.closed {
            // close() began meanwhile; the engine's close withdraws it.
            return Err(closed_error());
        }
        st.registered.push((id, instance));
        st.announced.push(id);
        Ok(())
    }

    /// Remove the DNS records of `planned` on a thread of its own (a
    /// cancelled registration); `close` waits for it.
    fn retract_later(&self, dns: &crate::dns::Publisher, planned: crate::dns::Planned) {
        let dns = dns.clone();
        let spawned = std::thread::Builder::new()
            .name("ironicmdns-dns-retract".into())
            .spawn(move || dns.retract(&planned));
        match spawned {
            Ok(t) => {
                let mut st = self.state();
                st.retracting.retain(|t| !t.is_finished());
                st.retracting.push(t);
            }
            Err(e) => log(
                LogLevel::Error,
                &format!("cannot start removing the DNS records of a cancelled registration: {e}"),
            ),
        }
    }
}

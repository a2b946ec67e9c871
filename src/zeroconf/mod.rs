//! The reference's object (SPEC 3, 4, 6).
//!
//! A thin orchestration: the rules live in [`crate::endpoint`] and
//! [`crate::route`] (pure, table-tested). This module picks the
//! transport(s) (the mDNS engine, unicast DNS, or both), and adds the
//! resolver, the engine calls and the log; `retry` is the one retry
//! policy of both transports, `url` builds the URL once for both,
//! `register` publishes over the transports, `lost` reports registrations
//! lost later, and `oneshot` holds the module-level lookups.

use std::net::{IpAddr, ToSocketAddrs};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use crate::cancel::Cancel;
use crate::config::Config;
use crate::endpoint::{self, Endpoint, Host};
use crate::engine::driver::{Mdns, MdnsOptions};
use crate::engine::RegId;
use crate::error::{Error, Result};
use crate::log::{log, LogLevel};
use crate::props::Properties;
use crate::route::KernelRoutes;

mod lost;
mod oneshot;
mod register;
mod retry;
mod url;

pub use self::oneshot::{get_endpoint, lookup_once, lookup_once_with};
use self::retry::{lookup_with_attempts, register_with_attempts};
use self::url::{browsed_service, found_of, Transport};
use crate::service::{Lookup, ServiceType, SERVICE_TYPE};

/// One browsed instance (for `ironic-mdns browse`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrowsedService {
    /// OpenStack service type (the instance's first label).
    pub service_type: String,
    /// The URL per SPEC 4, or the error text when it could not be built.
    pub url: std::result::Result<String, String>,
    pub params: Properties,
}

/// Bound of one registration attempt (probing takes about 1 s).
const REGISTER_TIMEOUT: Duration = Duration::from_secs(10);

/// mDNS client and server, like `ironic_lib.mdns.Zeroconf`.
///
/// Thread-safe: one object may serve several threads at once, `close`
/// included: it wakes every call in progress (a lookup, a browse, a
/// registration, a wait for losses, a wait between attempts), which then
/// returns `Error::Closed` at once; a registration finishing during
/// `close` is withdrawn by the engine's own close. Dropping the object
/// closes it.
pub struct Zeroconf {
    config: Config,
    /// None with `discovery = dns` (no multicast socket at all).
    mdns: Option<Mdns>,
    /// Unicast DNS-SD when a domain is configured (src/dns, docs/DNS.md).
    dns: Option<crate::dns::Publisher>,
    gate: Arc<Gate>,
}

/// The object's own state and the condition variable of the waits
/// between attempts, shared with the cancel hooks of calls in progress.
struct Gate {
    state: Mutex<State>,
    /// Signalled by `close` and by a cancel: ends the waits between
    /// attempts.
    closing: Condvar,
}

/// What a lookup found: the URL and properties (SPEC 4) and whether every
/// record set it used validated against the trust anchors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    pub url: String,
    pub params: Properties,
    /// True only when `Config.trust` is set and the SRV, TXT and address
    /// records all validated.
    pub validated: bool,
}

#[derive(Default)]
struct State {
    closed: bool,
    /// SPEC 3.7: what `close` withdraws.
    registered: Vec<(RegId, String)>,
    /// Registrations seen announced (`registrations_lost`).
    announced: Vec<RegId>,
    /// Callers blocked in `pause` (close wakes them; with none it makes
    /// no futex call).
    pausing: u32,
    /// Removals of DNS records a cancelled registration may have added,
    /// sent in the background; `close` waits for them.
    retracting: Vec<std::thread::JoinHandle<()>>,
}

impl Zeroconf {
    /// Set up the engine on the configured interfaces (all when none).
    /// Cheap: sockets and the engine's thread start with the first call
    /// that needs them. Error::Io when an address of the `interfaces`
    /// option is held by no interface that is up and multicast-capable
    /// now: a registration on it could not be probed, so nothing would be
    /// published.
    pub fn new(config: Config) -> Result<Zeroconf> {
        Zeroconf::start(config, false)
    }

    fn start(config: Config, one_shot: bool) -> Result<Zeroconf> {
        check_config(&config)?;
        let dns = crate::dns::Client::from_config(&config)?.map(crate::dns::Publisher::new);
        let mdns = if config.dns.discovery.uses_mdns(&config.dns) {
            if let Some(list) = &config.interfaces {
                check_interfaces_present(list)?;
            }
            let opts = MdnsOptions {
                interfaces: config.interfaces.clone(),
                cache_capacity: None,
                signing_key: config.signing_key.clone(),
                trust: config.trust.clone(),
            };
            Some(if one_shot {
                Mdns::start_one_shot(opts)?
            } else {
                Mdns::start(opts)?
            })
        } else {
            None
        };
        Ok(Zeroconf {
            config,
            mdns,
            dns,
            gate: Arc::new(Gate {
                state: Mutex::new(State::default()),
                closing: Condvar::new(),
            }),
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.gate.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Run `call` as cancellable by `cancel` (None: not cancellable): the
    /// token is entered for this thread, and a hook wakes this object's
    /// waits (between attempts, in the engine) when it is triggered. A
    /// call that ends in an error after the trigger ends with
    /// Error::Cancelled; one that completed keeps its result.
    fn cancellable<T>(
        &self,
        cancel: Option<&Cancel>,
        call: impl FnOnce() -> Result<T>,
    ) -> Result<T> {
        let Some(cancel) = cancel else {
            return call();
        };
        let _scope = cancel.enter();
        let gate = Arc::downgrade(&self.gate);
        let engine = self.mdns.as_ref().map(Mdns::interrupter);
        let publisher = self.dns.as_ref().map(crate::dns::Publisher::interrupter);
        let _hook = cancel.on_trigger(Arc::new(move || {
            if let Some(wake) = &publisher {
                wake();
            }
            if let Some(g) = gate.upgrade() {
                let st = g.state.lock().unwrap_or_else(|e| e.into_inner());
                if st.pausing > 0 {
                    g.closing.notify_all();
                }
            }
            if let Some(wake) = &engine {
                wake();
            }
        }));
        crate::cancel::check()?;
        match call() {
            Err(e) if cancel.is_triggered() && !matches!(e, Error::Cancelled(_)) => {
                log(LogLevel::Debug, &format!("cancelled ({e})"));
                Err(crate::cancel::cancelled())
            }
            other => other,
        }
    }

    fn check_open(&self) -> Result<()> {
        if self.state().closed {
            return Err(closed_error());
        }
        Ok(())
    }

    /// Whether `close` has begun.
    pub fn is_closed(&self) -> bool {
        self.state().closed
    }

    /// The wait between two attempts: ends early, with Error::Closed, when
    /// `close` begins, and with Error::Cancelled when the call's cancel
    /// token is triggered.
    fn pause(&self, wait: Duration) -> Result<()> {
        let mut st = self.state();
        st.pausing += 1;
        let (mut st, _) = self
            .gate
            .closing
            .wait_timeout_while(st, wait, |s| !s.closed && !crate::cancel::triggered())
            .unwrap_or_else(|e| e.into_inner());
        st.pausing -= 1;
        if st.closed {
            return Err(closed_error());
        }
        crate::cancel::check()
    }

    /// SPEC 4: the URL and properties of `<service_type>._openstack._tcp.local.`.
    pub fn get_endpoint(
        &self,
        service_type: &str,
        skip_loopback: bool,
        skip_link_local: bool,
    ) -> Result<(String, Properties)> {
        self.get_endpoint_with(service_type, skip_loopback, skip_link_local, None)
            .map(|f| (f.url, f.params))
    }

    /// `get_endpoint`, cancellable by `cancel` (Error::Cancelled within
    /// milliseconds of the trigger), telling whether the answer validated.
    pub fn get_endpoint_with(
        &self,
        service_type: &str,
        skip_loopback: bool,
        skip_link_local: bool,
        cancel: Option<&Cancel>,
    ) -> Result<Found> {
        self.cancellable(cancel, || {
            self.check_open()?;
            let st = ServiceType::new(service_type)?;
            self.lookup(&st, skip_loopback, skip_link_local)
        })
    }

    /// `get_endpoint` of a checked service type.
    fn lookup(
        &self,
        st: &ServiceType,
        skip_loopback: bool,
        skip_link_local: bool,
    ) -> Result<Found> {
        let service_type = st.as_str();
        // SPEC 1: the service type is one literal label, escaped for the querier.
        let instance = st.mdns_query_name();
        let skips = (skip_loopback, skip_link_local);
        if let Some(dns) = &self.dns {
            let client = dns.client();
            let found = retry::lookup(
                self.config.lookup_attempts,
                || client.resolve(st),
                |d| {
                    // A close ends the next exchange with Error::Closed.
                    let _ = self.pause(d);
                    Ok(())
                },
            );
            let found = match found {
                Ok(Lookup::Found(s)) => {
                    return found_of(Transport::Dns, service_type, &s, skips);
                }
                Ok(Lookup::Missing(why)) => Err(Error::NotFound(format!(
                    "cannot find {service_type} service in DNS domain {}: {why}",
                    client.domain
                ))),
                Err(e) => Err(e),
            };
            // discovery = both: mDNS only when DNS found nothing; a
            // refused (unauthenticated) DNS answer is returned as is.
            match (found, &self.mdns) {
                (Err(Error::NotFound(m)), Some(_)) => {
                    log(LogLevel::Debug, &format!("{m}; asking mDNS"))
                }
                (found, _) => return found,
            }
        }
        let Some(mdns) = &self.mdns else {
            return Err(Error::Internal("neither DNS nor mDNS configured".into()));
        };
        let timeout = self.config.lookup_timeout;
        // With a trust policy, an attempt that heard only answers that did
        // not validate is retried like one that heard nothing; if no
        // attempt finds a valid answer, the last refusal is the error.
        let mut refused = None;
        let found = lookup_with_attempts(
            service_type,
            self.config.lookup_attempts,
            || match mdns.resolve(&instance, timeout) {
                Err(Error::Auth(why)) => {
                    refused = Some(Error::Auth(format!("{service_type} over multicast: {why}")));
                    Ok(None)
                }
                other => other,
            },
            |d| self.pause(d),
        );
        let service = match (found, refused) {
            (Err(Error::NotFound(_)), Some(auth)) => return Err(auth),
            (found, _) => found?,
        };
        found_of(Transport::Mdns, service_type, &service, skips)
    }

    /// Every `_openstack._tcp` instance heard within `duration`.
    pub fn browse(&self, duration: Duration) -> Result<Vec<BrowsedService>> {
        self.browse_with(duration, None)
    }

    /// `browse`, cancellable by `cancel` (Error::Cancelled within
    /// milliseconds of the trigger; nothing is returned then).
    pub fn browse_with(
        &self,
        duration: Duration,
        cancel: Option<&Cancel>,
    ) -> Result<Vec<BrowsedService>> {
        self.cancellable(cancel, || self.browse_now(duration))
    }

    fn browse_now(&self, duration: Duration) -> Result<Vec<BrowsedService>> {
        self.check_open()?;
        let mut out: Vec<BrowsedService> = Vec::new();
        if let Some(dns) = &self.dns {
            for s in dns.client().browse()? {
                let b = browsed_service(Transport::Dns, &s, &KernelRoutes, &endpoint::if_name);
                out.push(b);
            }
        }
        if let Some(mdns) = &self.mdns {
            for s in mdns.browse(SERVICE_TYPE, duration)? {
                let b = browsed_service(Transport::Mdns, &s, &KernelRoutes, &endpoint::if_name);
                // discovery = both: a type found over DNS is shown once.
                if !out.iter().any(|o| o.service_type == b.service_type) {
                    out.push(b);
                }
            }
        }
        Ok(out)
    }

    /// The error the engine failed with, if it failed (`Error::Poisoned`):
    /// every later call but `close` fails with it too.
    pub fn engine_failure(&self) -> Option<Error> {
        self.mdns.as_ref().and_then(Mdns::failure)
    }

    /// Make the engine fail as a panic inside it would.
    #[cfg(test)]
    pub(crate) fn inject_engine_failure(&self) {
        if let Some(m) = &self.mdns {
            m.inject_failure()
        }
    }

    /// Withdraw every registration (goodbyes sent before return), stop.
    /// Safe from any thread while others are inside calls on this object:
    /// those are woken and return Error::Closed at once (the engine's close
    /// wakes its waiters before it sends the goodbyes). Idempotent; later
    /// calls on the object fail with Error::Closed.
    pub fn close(&self) -> Result<()> {
        let registered = {
            let mut st = self.state();
            if st.closed {
                return Ok(());
            }
            st.closed = true;
            if st.pausing > 0 {
                self.gate.closing.notify_all();
            }
            std::mem::take(&mut st.registered)
        };
        let retracting = std::mem::take(&mut self.state().retracting);
        for t in retracting {
            let _ = t.join();
        }
        if let Some(dns) = &self.dns {
            // Wake DNS calls in progress, then send the signed UPDATEs
            // removing exactly ours; errors are logged.
            dns.client().cancel();
            dns.close();
        }
        let Some(mdns) = &self.mdns else {
            return Ok(());
        };
        // The engine withdraws every registration it holds (goodbyes, TTL
        // 0) and wakes every call waiting on it.
        let result = mdns.close();
        // SPEC 6: a withdrawal error is logged, not returned.
        if let Err(e) = &result {
            let names: Vec<&str> = registered.iter().map(|(_, n)| n.as_str()).collect();
            log(
                LogLevel::Error,
                &format!("could not unregister mDNS services {names:?}: {e}"),
            );
        }
        Ok(())
    }
}

impl Drop for Zeroconf {
    fn drop(&mut self) {
        if let Err(e) = self.close() {
            log(LogLevel::Error, &format!("closing mDNS: {e}"));
        }
    }
}

fn closed_error() -> Error {
    Error::Closed("the Zeroconf object is closed".into())
}

/// Every address of the `interfaces` option is held by an interface that
/// is up, running and multicast-capable (else Error::Io naming it).
fn check_interfaces_present(list: &[IpAddr]) -> Result<()> {
    use crate::engine::iface;
    let table = iface::list_raw().map_err(|e| Error::Io(format!("reading the interfaces: {e}")))?;
    for a in list {
        let holder = table.iter().find(|r| {
            r.addrs
                .iter()
                .any(|x| x.addr.to_canonical() == a.to_canonical())
        });
        match holder {
            None => {
                return Err(Error::Io(format!(
                    "no interface has the address {a} (option [mdns] interfaces)"
                )))
            }
            Some(r) if !iface::usable_flags(r.flags) => {
                return Err(Error::Io(format!(
                    "interface {} with the address {a} is not up, running and multicast-capable",
                    r.name
                )))
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Options built in Rust are checked by the rules `Config::set` applies.
fn check_config(config: &Config) -> Result<()> {
    config.validate()
}

/// SPEC 3.2-3.3: the system resolver's addresses of the URL host, in its
/// order, without duplicates; a failure names the host.
fn resolve_host(service_type: &ServiceType, ep: &Endpoint) -> Result<Vec<IpAddr>> {
    let addrs: Vec<IpAddr> = match &ep.host {
        Host::Ip(ip) => vec![*ip],
        Host::Name(name) => (name.as_str(), ep.port)
            .to_socket_addrs()
            .map_err(|e| {
                Error::Registration(format!(
                    "cannot register {service_type} service: could not resolve hostname {name}: {e}"
                ))
            })?
            .map(|sa| sa.ip())
            .collect(),
    };
    Ok(endpoint::dedupe_addresses(addrs))
}

#[cfg(test)]
mod cancel_tests;
#[cfg(test)]
mod tests;

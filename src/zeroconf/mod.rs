//! The reference's object (SPEC 3, 4, 6). OWNER: endpoint helper.
//!
//! A thin orchestration: the rules live in [`crate::endpoint`] and
//! [`crate::route`] (pure, table-tested); this file adds the resolver, the
//! attempts with their doubling waits, the engine calls and the log.

use std::net::{IpAddr, ToSocketAddrs};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

use crate::config::Config;
use crate::endpoint::{self, Endpoint, Host, SERVICE_TYPE};
use crate::engine::driver::{Mdns, MdnsOptions};
use crate::engine::RegId;
use crate::error::{Error, Result};
use crate::log::{log, LogLevel};
use crate::props::Properties;
use crate::route::{KernelRoutes, RouteLookup};

mod retry;
use crate::service::{Lookup, ResolvedService};

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
    state: Mutex<State>,
    /// Signalled by `close`: ends the waits between attempts.
    closing: Condvar,
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
            state: Mutex::new(State::default()),
            closing: Condvar::new(),
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
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
    /// `close` begins.
    fn pause(&self, wait: Duration) -> Result<()> {
        let mut st = self.state();
        st.pausing += 1;
        let (mut st, _) = self
            .closing
            .wait_timeout_while(st, wait, |s| !s.closed)
            .unwrap_or_else(|e| e.into_inner());
        st.pausing -= 1;
        if st.closed {
            return Err(closed_error());
        }
        Ok(())
    }

    /// SPEC 3: publish `endpoint` as `<service_type>._openstack._tcp.local.`.
    pub fn register_service(
        &self,
        service_type: &str,
        endpoint: &str,
        params: Option<&Properties>,
    ) -> Result<()> {
        self.check_open()?;
        endpoint::instance_name(service_type)?;
        let ep = endpoint::parse_endpoint(endpoint)?;
        let addresses = resolve_host(service_type, &ep)?;
        let info =
            endpoint::service_info(service_type, &ep, addresses, &self.config.params, params)?;
        if let Some(dns) = &self.dns {
            log(LogLevel::Debug, &format!("registering {info:?} via DNS"));
            let planned = dns.plan(service_type, &info)?;
            retry::register(
                service_type,
                self.config.registration_attempts,
                &planned.held(),
                || dns.publish(&planned),
                || {},
                |d| self.pause(d),
            )?;
        }
        let Some(mdns) = &self.mdns else {
            return Ok(());
        };
        log(LogLevel::Debug, &format!("registering {info:?} via mDNS"));
        let instance = info.instance.clone();
        let id = register_with_attempts(
            service_type,
            self.config.registration_attempts,
            || mdns.register(info.clone(), REGISTER_TIMEOUT),
            || mdns.flush_cache(),
            |d| self.pause(d),
        )?;
        // Success means probed and announced. The engine accepts a
        // registration while no interface is up as pending; that is not
        // success: nobody could have answered a probe (issue 8).
        if !mdns.is_registered(id) {
            if let Err(e) = mdns.unregister(id) {
                log(
                    LogLevel::Debug,
                    &format!("withdrawing the unannounced {instance}: {e}"),
                );
            }
            self.check_open()?;
            return Err(Error::Registration(format!(
                "cannot register {service_type} service: no interface is up to probe and announce it on"
            )));
        }
        let mut st = self.state();
        if st.closed {
            // close() began meanwhile; the engine's close withdraws it.
            return Err(closed_error());
        }
        st.registered.push((id, instance));
        st.announced.push(id);
        Ok(())
    }

    /// SPEC 4: the URL and properties of `<service_type>._openstack._tcp.local.`.
    pub fn get_endpoint(
        &self,
        service_type: &str,
        skip_loopback: bool,
        skip_link_local: bool,
    ) -> Result<(String, Properties)> {
        self.check_open()?;
        // SPEC 1: the service type is one literal label, escaped for the querier.
        let instance = endpoint::instance_query_name(service_type)?;
        let mut warn = |m: &str| log(LogLevel::Warning, m);
        if let Some(dns) = &self.dns {
            let client = dns.client();
            let found = retry::lookup(
                self.config.lookup_attempts,
                || client.resolve(service_type),
                |d| {
                    // A close ends the next exchange with Error::Closed.
                    let _ = self.pause(d);
                    Ok(())
                },
            );
            let found = match found {
                Ok(Lookup::Found(s)) => {
                    return url_of(
                        Transport::Dns,
                        service_type,
                        &s,
                        (skip_loopback, skip_link_local),
                        &KernelRoutes,
                        &endpoint::if_name,
                        &mut warn,
                    )
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
        let service = lookup_with_attempts(
            service_type,
            self.config.lookup_attempts,
            || mdns.resolve(&instance, timeout),
            |d| self.pause(d),
        )?;
        url_of(
            Transport::Mdns,
            service_type,
            &service,
            (skip_loopback, skip_link_local),
            &KernelRoutes,
            &endpoint::if_name,
            &mut warn,
        )
    }

    /// Every `_openstack._tcp` instance heard within `duration`.
    pub fn browse(&self, duration: Duration) -> Result<Vec<BrowsedService>> {
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
                self.closing.notify_all();
            }
            std::mem::take(&mut st.registered)
        };
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

/// One-shot module-level lookup with default options (SPEC 6).
pub fn get_endpoint(service_type: &str) -> Result<(String, Properties)> {
    lookup_once(Config::default(), service_type, true, false)
}

/// One-shot lookup with `config`: `Zeroconf::new(config)`,
/// `get_endpoint`, `close`, but the mDNS part runs on the caller's thread
/// with no background thread and only the sockets the lookup uses (an
/// ephemeral one per address family; 5353 only when the first query goes
/// unanswered).
pub fn lookup_once(
    config: Config,
    service_type: &str,
    skip_loopback: bool,
    skip_link_local: bool,
) -> Result<(String, Properties)> {
    // A refused service type costs no engine start.
    endpoint::check_service_type(service_type)?;
    let zc = Zeroconf::start(config, true)?;
    let result = zc.get_endpoint(service_type, skip_loopback, skip_link_local);
    let closed = zc.close();
    let result = result?;
    closed?;
    Ok(result)
}

fn closed_error() -> Error {
    Error::Closed("the Zeroconf object is closed".into())
}

/// Every address of the `interfaces` option is held by an interface that
/// is up, running and multicast-capable (else Error::Io naming it).
fn check_interfaces_present(list: &[IpAddr]) -> Result<()> {
    use crate::engine::socket::iface;
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
fn resolve_host(service_type: &str, ep: &Endpoint) -> Result<Vec<IpAddr>> {
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

/// SPEC 3.6 over mDNS: the retry policy around the engine's registration;
/// after a conflict the cache is forgotten. An engine error other than a
/// conflict, a close, a poisoned engine or the host's is a registration
/// failure naming the service type.
fn register_with_attempts(
    service_type: &str,
    attempts: u32,
    mut register: impl FnMut() -> Result<RegId>,
    flush_cache: impl FnMut(),
    sleep: impl FnMut(Duration) -> Result<()>,
) -> Result<RegId> {
    let once = || match register() {
        Ok(id) => Ok(id),
        // Not the registration's fault: the handle or the host.
        Err(e @ (Error::Conflict(_) | Error::Closed(_) | Error::Poisoned(_) | Error::Io(_))) => {
            Err(e)
        }
        Err(e) => Err(Error::Registration(format!(
            "cannot register {service_type} service: {e}"
        ))),
    };
    retry::register(
        service_type,
        attempts,
        "the name is in use",
        once,
        flush_cache,
        sleep,
    )
}

/// SPEC 4.1 over mDNS: the retry policy around the engine's lookup;
/// nothing found is Error::NotFound naming the service type.
fn lookup_with_attempts(
    service_type: &str,
    attempts: u32,
    mut resolve: impl FnMut() -> Result<Option<ResolvedService>>,
    sleep: impl FnMut(Duration) -> Result<()>,
) -> Result<ResolvedService> {
    let once = || {
        Ok(match resolve()? {
            Some(s) => Lookup::Found(s),
            None => Lookup::Missing(String::new()),
        })
    };
    match retry::lookup(attempts, once, sleep)? {
        Lookup::Found(s) => Ok(s),
        Lookup::Missing(_) => Err(Error::NotFound(format!(
            "cannot find {service_type} service through multicast"
        ))),
    }
}

/// Which transport found a service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Transport {
    Mdns,
    Dns,
}

/// SPEC 4.2-4.7, for both transports: the URL and properties of `found`,
/// through `crate::endpoint`, with the flags (skip loopback, skip
/// link-local). A `.local.` SRV target over mDNS, and over DNS a target
/// that holds the instance's addresses
/// (`dns::lookup::target_holds_addresses`), give the chosen address in the
/// URL; any other target name is kept (SPEC 4.5).
fn url_of(
    via: Transport,
    service_type: &str,
    found: &ResolvedService,
    (skip_loopback, skip_link_local): (bool, bool),
    routes: &dyn RouteLookup,
    ifname: &dyn Fn(u32) -> Option<String>,
    warn: &mut dyn FnMut(&str),
) -> Result<(String, Properties)> {
    let mut s = std::borrow::Cow::Borrowed(found);
    if via == Transport::Dns && crate::dns::lookup::target_holds_addresses(found) {
        // endpoint::url_host takes the address for a `.local.` target.
        s.to_mut().target = "address.local.".into();
    }
    endpoint::lookup_result(
        service_type,
        &s,
        skip_loopback,
        skip_link_local,
        routes,
        ifname,
        warn,
    )
}

/// A browsed instance as SPEC 4 turns it into a URL (default flags: skip
/// loopback, keep link-local).
fn browsed_service(
    via: Transport,
    s: &ResolvedService,
    routes: &dyn RouteLookup,
    ifname: &dyn Fn(u32) -> Option<String>,
) -> BrowsedService {
    let service_type = match via {
        Transport::Mdns => endpoint::service_type_of(&s.instance),
        Transport::Dns => crate::dns::lookup::service_type_of(&s.instance),
    };
    let mut warn = |m: &str| log(LogLevel::Warning, m);
    let (url, params) = match url_of(
        via,
        &service_type,
        s,
        (true, false),
        routes,
        ifname,
        &mut warn,
    ) {
        Ok((url, params)) => (Ok(url), params),
        Err(e) => (Err(e.to_string()), Properties::new()),
    };
    BrowsedService {
        service_type,
        url,
        params,
    }
}

#[cfg(test)]
#[allow(clippy::type_complexity)] // tables of rows
mod tests {
    use super::*;
    use crate::service::ScopedAddr;

    fn ms(v: &[u64]) -> Vec<Duration> {
        v.iter().map(|&m| Duration::from_millis(m)).collect()
    }

    #[test]
    fn registration_attempts_table() {
        // (attempts, outcomes of the engine's register calls, calls made,
        //  waits, cache flushes, result)
        struct Row {
            attempts: u32,
            outcomes: Vec<Result<RegId>>,
            calls: usize,
            waits: Vec<Duration>,
            ok: bool,
        }
        let conflict = || Err(Error::Conflict("probe lost".into()));
        let rows = vec![
            Row {
                attempts: 5,
                outcomes: vec![Ok(RegId(1))],
                calls: 1,
                waits: ms(&[]),
                ok: true,
            },
            // the reference's test_with_race
            Row {
                attempts: 5,
                outcomes: vec![conflict(), conflict(), conflict(), Ok(RegId(7))],
                calls: 4,
                waits: ms(&[100, 200, 400]),
                ok: true,
            },
            // the reference's test_failure: attempts calls, attempts-1 waits
            Row {
                attempts: 5,
                outcomes: (0..5).map(|_| conflict()).collect(),
                calls: 5,
                waits: ms(&[100, 200, 400, 800]),
                ok: false,
            },
            Row {
                attempts: 1,
                outcomes: vec![conflict()],
                calls: 1,
                waits: ms(&[]),
                ok: false,
            },
            Row {
                attempts: 5,
                outcomes: vec![Err(Error::Registration("engine".into()))],
                calls: 1,
                waits: ms(&[]),
                ok: false,
            },
        ];
        for (i, row) in rows.into_iter().enumerate() {
            let mut outcomes = row.outcomes.clone().into_iter();
            let (mut calls, mut flushes, mut waits) = (0, 0, Vec::new());
            let got = register_with_attempts(
                "baremetal",
                row.attempts,
                || {
                    calls += 1;
                    outcomes.next().expect("no more calls expected")
                },
                || flushes += 1,
                |d| {
                    waits.push(d);
                    Ok(())
                },
            );
            assert_eq!(calls, row.calls, "row {i}");
            assert_eq!(waits, row.waits, "row {i}");
            assert_eq!(
                flushes,
                row.waits.len(),
                "row {i}: one cache flush before each retry"
            );
            match (&got, row.ok, row.outcomes.last()) {
                (Ok(id), true, Some(Ok(want))) => assert_eq!(id, want),
                (Err(Error::Conflict(m)), false, Some(Err(Error::Conflict(_)))) => {
                    assert!(m.contains("conflict") && m.contains("baremetal"), "{m}")
                }
                (Err(Error::Registration(m)), false, Some(Err(Error::Registration(_)))) => {
                    assert!(m.contains("baremetal"), "{m}")
                }
                _ => panic!("row {i}: {got:?}"),
            }
        }
    }

    fn found() -> ResolvedService {
        ResolvedService {
            instance: "baremetal._openstack._tcp.local.".into(),
            target: "x.local.".into(),
            port: 80,
            txt: vec![],
            addresses: vec![ScopedAddr {
                addr: "192.168.1.1".parse().unwrap(),
                iface: 2,
            }],
        }
    }

    #[test]
    fn lookup_attempts_table() {
        // (attempts, answers, calls, waits, found)
        let rows: Vec<(
            u32,
            Vec<Option<ResolvedService>>,
            usize,
            Vec<Duration>,
            bool,
        )> = vec![
            (3, vec![Some(found())], 1, ms(&[]), true),
            (3, vec![None, Some(found())], 2, ms(&[100]), true),
            // the reference's test_not_found: attempts-1 waits
            (3, vec![None, None, None], 3, ms(&[100, 200]), false),
            (1, vec![None], 1, ms(&[]), false),
        ];
        for (i, (attempts, answers, want_calls, want_waits, ok)) in rows.into_iter().enumerate() {
            let mut answers = answers.into_iter();
            let (mut calls, mut waits) = (0, Vec::new());
            let got = lookup_with_attempts(
                "baremetal",
                attempts,
                || {
                    calls += 1;
                    Ok(answers.next().expect("no more calls expected"))
                },
                |d| {
                    waits.push(d);
                    Ok(())
                },
            );
            assert_eq!((calls, &waits), (want_calls, &want_waits), "row {i}");
            match got {
                Ok(s) => assert!(ok && s == found(), "row {i}"),
                Err(Error::NotFound(m)) => {
                    assert!(!ok && m.contains("baremetal service"), "row {i}: {m}")
                }
                Err(e) => panic!("row {i}: {e}"),
            }
        }
    }

    #[test]
    fn lookup_stops_at_an_engine_error() {
        let mut calls = 0;
        let got = lookup_with_attempts(
            "baremetal",
            3,
            || {
                calls += 1;
                Err(Error::Closed("engine stopped".into()))
            },
            |_| panic!("no wait after an error"),
        );
        assert_eq!(calls, 1);
        assert!(matches!(got, Err(Error::Closed(_))));
    }

    struct AllRoutes;
    impl RouteLookup for AllRoutes {
        fn source_for(&self, _: &ScopedAddr) -> Option<IpAddr> {
            Some("192.168.1.2".parse().unwrap())
        }
    }

    #[test]
    fn browsed_instances_become_urls() {
        let mut ok = found();
        ok.instance = "baremetal-introspection._openstack._tcp.local.".into();
        ok.txt = vec![b"path=/v1".to_vec(), b"ipa_debug=1".to_vec()];
        let mut bad = found();
        bad.instance = "identity._openstack._tcp.local.".into();
        bad.addresses = vec![];
        let names = |_: u32| None;
        let got: Vec<BrowsedService> = [ok, bad]
            .iter()
            .map(|s| browsed_service(Transport::Mdns, s, &AllRoutes, &names))
            .collect();
        let mut params = Properties::new();
        params.set_str("ipa_debug", "1");
        assert_eq!(
            got[0],
            BrowsedService {
                service_type: "baremetal-introspection".into(),
                url: Ok("http://192.168.1.1:80/v1".into()),
                params,
            }
        );
        assert_eq!(got[1].service_type, "identity");
        assert!(
            matches!(&got[1].url, Err(m) if m.contains("none of the addresses")),
            "{:?}",
            got[1].url
        );
    }

    #[test]
    fn resolver_keeps_literals() {
        let ep = endpoint::parse_endpoint("http://[fd00:99::1]:8080").unwrap();
        assert_eq!(
            resolve_host("baremetal", &ep).unwrap(),
            vec!["fd00:99::1".parse::<IpAddr>().unwrap()]
        );
        // (A failing name is not tried here: glibc would ask a DNS server.)
    }

    #[test]
    fn zeroconf_is_shareable_between_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<Zeroconf>();
    }

    #[test]
    fn a_wait_between_attempts_ends_with_the_close() {
        let mut calls = 0;
        let got = lookup_with_attempts(
            "baremetal",
            5,
            || {
                calls += 1;
                Ok(None)
            },
            |_| Err(Error::Closed("closing".into())),
        );
        assert_eq!(calls, 1, "no attempt after the close");
        assert!(matches!(got, Err(Error::Closed(_))), "{got:?}");
        let mut calls = 0;
        let got = register_with_attempts(
            "baremetal",
            5,
            || {
                calls += 1;
                Err(Error::Conflict("probe lost".into()))
            },
            || {},
            |_| Err(Error::Closed("closing".into())),
        );
        assert_eq!(calls, 1, "no attempt after the close");
        assert!(matches!(got, Err(Error::Closed(_))), "{got:?}");
    }

    #[test]
    fn config_checked_before_start() {
        let c = Config {
            registration_attempts: 0,
            ..Config::default()
        };
        assert!(matches!(check_config(&c), Err(Error::InvalidArgument(_))));
        let c = Config {
            lookup_attempts: 0,
            ..Config::default()
        };
        assert!(matches!(check_config(&c), Err(Error::InvalidArgument(_))));
        let c = Config {
            lookup_timeout: Duration::ZERO,
            ..Config::default()
        };
        assert!(matches!(check_config(&c), Err(Error::InvalidArgument(_))));
        assert_eq!(check_config(&Config::default()), Ok(()));
    }
}

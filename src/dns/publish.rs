//! Publishing over unicast DNS: RFC 2136 UPDATEs (TSIG-signed when a key
//! is configured) that add, refresh and remove exactly our records.
//!
//! - Register (one attempt; the retry policy with its waits is
//!   `Zeroconf`'s, the same as over mDNS): prerequisite "the instance name
//!   is not in use" (RFC 2136 s2.4.5), then add PTR, SRV, TXT (the same
//!   RDATA as mDNS publishes but for the SRV target), for an IP-literal
//!   endpoint A/AAAA of the host name `<type>.<domain>.` (its own "not in
//!   use" prerequisite too), which is then the SRV target (see
//!   `lookup::address_host`), and the owner marker beside the instance
//!   (`owner`: who published these records, and what).
//! - When a name is in use, the records there are read back and compared
//!   with ours (`owner::reconcile`): exactly ours, or what our previous run
//!   on this host published (the marker says so), is replaced by one
//!   UPDATE whose prerequisites are the RRsets as read (RFC 2136 s2.4.2,
//!   s2.4.3), so a publisher restarted after a crash, with a new address,
//!   is back at once; anything else is another publisher's: a name
//!   conflict, as over mDNS, and nothing of theirs is touched.
//! - Refresh: before the TTL runs out (at 80 %), an UPDATE re-asserts the
//!   records while they are exactly ours; when someone removed some of
//!   them, the same reconciling puts back what is ours and missing. Only
//!   when another publisher holds the name is the registration lost; our
//!   marker and the RRsets still exactly ours are then removed.
//! - Close: prerequisite "our marker is there" (we are still the owner),
//!   then delete each of our records by value (CLASS NONE, RFC 2136
//!   s2.5.4): nothing of anyone else's goes, not even the shared PTR
//!   RRset's other members. A registration that completes while close
//!   runs, or an UPDATE whose answer never came (cancelled, timed out,
//!   forged), is withdrawn the same way.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use simple_dns::rdata::{RData, SOA};
use simple_dns::{Name, ResourceRecord};

use super::exchange::ExchangeError;
use super::message::{self, Update, NOERROR, NOTAUTH, NOTZONE, NXDOMAIN, NXRRSET, REFUSED};
use super::message::{SERVFAIL, YXDOMAIN, YXRRSET};
use super::Client;
use crate::error::{Error, Refused, Result};
use crate::log::{log, LogLevel};
use crate::service::{ServiceInfo, ServiceType};

/// TTL of the records we publish: short, so that a withdrawal reaches
/// caches soon (RFC 6762 s10 uses 120 s for records with a host name).
pub const TTL: u32 = 120;
/// Retry delay of a refresh that got no answer.
const REFRESH_RETRY: Duration = Duration::from_secs(10);
/// First wait after a SERVFAIL, doubled each time (capped by the timeout).
const SERVFAIL_WAIT: Duration = Duration::from_millis(250);

/// A registration planned by `Publisher::plan`, for `Publisher::publish`.
#[derive(Clone, Debug)]
pub(crate) struct Planned(Reg);

impl Planned {
    /// Who holds the name when `publish` meets a conflict: for the
    /// error after the last attempt.
    pub(crate) fn held(&self) -> String {
        format!(
            "{} in zone {} is held by another publisher",
            self.0.instance, self.0.zone
        )
    }
}

/// What reconciling found.
enum Taken {
    /// The zone now holds exactly our records.
    Done,
    /// Another publisher holds the name (the kind of RRset that is
    /// theirs), and what was seen.
    Foreign(&'static str, owner::Seen),
}

#[derive(Default)]
struct State {
    regs: Vec<Reg>,
    lost: Vec<String>,
    closed: bool,
    refresher: Option<JoinHandle<()>>,
}

struct Inner {
    client: Client,
    ttl: u32,
    state: Mutex<State>,
    cond: Condvar,
}

/// The DNS publisher of one `Zeroconf` object.
#[derive(Clone)]
pub struct Publisher {
    inner: Arc<Inner>,
}

impl Publisher {
    pub fn new(client: Client) -> Publisher {
        Publisher::with_ttl(client, TTL)
    }

    /// With another TTL (tests; the refresh comes at 80 % of it).
    pub fn with_ttl(client: Client, ttl: u32) -> Publisher {
        Publisher {
            inner: Arc::new(Inner {
                client,
                ttl: ttl.max(1),
                state: Mutex::new(State::default()),
                cond: Condvar::new(),
            }),
        }
    }

    pub fn client(&self) -> &Client {
        &self.inner.client
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Publish `info` (built by `endpoint::service_info`, as for mDNS)
    /// under the DNS domain, in one attempt: `plan`, then `publish`.
    pub fn register(&self, service_type: &str, info: &ServiceInfo) -> Result<()> {
        let planned = self.plan(&ServiceType::new(service_type)?, info)?;
        self.publish(&planned)
    }

    /// Our records for `info` in the zone that holds the DNS domain (one
    /// SOA query finds it); nothing is changed yet.
    pub(crate) fn plan(&self, service_type: &ServiceType, info: &ServiceInfo) -> Result<Planned> {
        self.check_open()?;
        let c = &self.inner.client;
        let zone = self.zone_of(&c.domain)?;
        Ok(Planned(plan(
            &c.domain,
            &zone,
            self.inner.ttl,
            service_type,
            info,
            owner::owner_id(),
        )?))
    }

    /// One attempt to add the planned records. A name held by another
    /// publisher is Error::Conflict; the retry policy is the caller's.
    pub(crate) fn publish(&self, planned: &Planned) -> Result<()> {
        self.check_open()?;
        let unsure = std::cell::Cell::new(false);
        match self.add(&planned.0, &unsure) {
            Ok(()) => self.keep(planned.0.clone()),
            Err(e) => {
                if unsure.get() {
                    // An UPDATE got no trustworthy answer (cancelled,
                    // timed out, refused by an unsigned datagram): the
                    // server may have applied it. Ours are withdrawn,
                    // guarded by our marker, so nothing else goes.
                    self.withdraw(&planned.0);
                }
                Err(e)
            }
        }
    }

    fn check_open(&self) -> Result<()> {
        if self.state().closed {
            return Err(Error::Closed("the DNS publisher is closed".into()));
        }
        Ok(())
    }

    /// The zone holding `domain`: the owner of the SOA that a query for
    /// the domain's SOA returns, in the answer or the authority section
    /// (RFC 2136 s4.1 leaves finding the zone to the requestor).
    fn zone_of(&self, domain: &str) -> Result<String> {
        let resp = self
            .exchange_retrying(
                || message::query(crate::random::message_id(), domain, 6),
                false,
            )
            .map_err(|e| update_exchange_error(&format!("finding the zone of {domain}"), e))?;
        resp.answers
            .iter()
            .chain(resp.authority.iter())
            .find(|r| matches!(r.rdata, RData::SOA(SOA { .. })))
            .map(|r| message::name_text(&r.name))
            .ok_or_else(|| {
                Error::Registration(format!(
                    "cannot find the zone of {domain}: the server answered {} without an SOA",
                    message::rcode_name(resp.rcode)
                ))
            })
    }

    /// The first UPDATE, then reconciling when a name is in use. `unsure`
    /// is set when an UPDATE ended without a trustworthy answer.
    fn add(&self, reg: &Reg, unsure: &std::cell::Cell<bool>) -> Result<()> {
        let tracked = |r: Result<u16>| {
            if r.is_err() {
                unsure.set(true);
            }
            r
        };
        match tracked(self.send(reg, &fresh(reg), "registering"))? {
            NOERROR => Ok(()),
            YXDOMAIN => match self.take(reg, "registering", unsure)? {
                Taken::Done => Ok(()),
                Taken::Foreign(kind, _) => Err(Error::Conflict(format!(
                    "{} in zone {} is held by another publisher (its {kind} is not ours; \
                     RFC 2136 prerequisite failed)",
                    reg.instance, reg.zone
                ))),
            },
            r => Err(self.rcode_error("registering", reg, r)),
        }
    }

    /// Read what the zone holds at our names and, when it is ours (now or
    /// from our previous run), make it exactly ours with one UPDATE whose
    /// prerequisites are what was read. Read again when the zone changed
    /// in between (the prerequisites failed), twice at most.
    fn take(&self, reg: &Reg, what: &str, unsure: &std::cell::Cell<bool>) -> Result<Taken> {
        let sets = reg.sets();
        let ours = owner::Ours {
            owner: owner::owner_id(),
            marker_name: &reg.marker_name,
            marker: &reg.marker,
            names: reg.names(),
            sets,
            records: &reg.records,
        };
        let mut seen = owner::Seen::default();
        for _ in 0..3 {
            seen = self.observe(reg)?;
            let update = match owner::reconcile(&ours, &seen) {
                owner::Plan::Foreign(kind) => return Ok(Taken::Foreign(kind, seen)),
                owner::Plan::Take(u) => u,
            };
            let r = self.send(reg, &update, what);
            if r.is_err() {
                unsure.set(true);
            }
            match r? {
                NOERROR => return Ok(Taken::Done),
                NXRRSET | NXDOMAIN | YXRRSET | YXDOMAIN => continue,
                r => return Err(self.rcode_error(what, reg, r)),
            }
        }
        Ok(Taken::Foreign("records, changing while we read them", seen))
    }

    /// The marker, SRV, TXT, A and AAAA RRsets at our names, as the
    /// server holds them now.
    fn observe(&self, reg: &Reg) -> Result<owner::Seen> {
        let mut seen = owner::Seen {
            marker: self.rrset(reg, &reg.marker_name, 16)?,
            ..owner::Seen::default()
        };
        for (i, k) in owner::KINDS.iter().enumerate() {
            seen.sets[i] = self.rrset(reg, reg.names()[i], k.rtype())?;
        }
        Ok(seen)
    }

    /// One RRset (`rtype` at `name`): empty for NXDOMAIN and NODATA.
    fn rrset(
        &self,
        reg: &Reg,
        name: &Name<'static>,
        rtype: u16,
    ) -> Result<Vec<ResourceRecord<'static>>> {
        let what = format!("reading {} type {rtype}", message::name_text(name));
        let resp = self
            .exchange_retrying(
                || message::query_name(crate::random::message_id(), name, rtype),
                false,
            )
            .map_err(|e| update_exchange_error(&what, e))?;
        match resp.rcode {
            NOERROR | NXDOMAIN => {}
            r => return Err(self.rcode_error(&what, reg, r)),
        }
        let want = message::name_text(name);
        Ok(resp
            .answers
            .into_iter()
            .filter(|r| {
                message::name_text(&r.name) == want
                    && owner::Kind::of(r).map_or(rtype == 16, |k| k.rtype() == rtype)
                    && (rtype != 16 || matches!(r.rdata, RData::TXT(_) | RData::Empty(_)))
            })
            .collect())
    }

    /// Send one UPDATE; the RCODE, or the exchange failure as an error.
    fn send(&self, reg: &Reg, u: &Update, what: &str) -> Result<u16> {
        // The withdrawal at close runs to its end: cancel is for calls.
        let to_end = what == "withdrawing";
        self.exchange_retrying(
            || message::update(crate::random::message_id(), &reg.zone, u),
            to_end,
        )
        .map(|r| r.rcode)
        .map_err(|e| update_exchange_error(&format!("{what} {}", reg.instance), e))
    }

    /// One exchange of the message `build` makes (a fresh ID each time),
    /// within the lookup attempts: a SERVFAIL answer takes one attempt and
    /// is asked again after a short wait, like a timeout. A server answers
    /// SERVFAIL while it cannot answer yet (BIND, in its first moments,
    /// to signed requests), and an UPDATE it failed changed nothing
    /// (RFC 2136 s3.1.2, s3.4.2.6), so asking again is safe; the
    /// prerequisites of each UPDATE keep a repeated one harmless too.
    /// `to_end`: not ended by `cancel` (the withdrawal at close).
    fn exchange_retrying(
        &self,
        build: impl Fn() -> std::result::Result<Vec<u8>, Refused>,
        to_end: bool,
    ) -> std::result::Result<message::Response, ExchangeError> {
        let c = &self.inner.client;
        let attempts = c.lookup_attempts.max(1);
        let mut used = 0;
        let mut wait = SERVFAIL_WAIT;
        loop {
            let req = build().map_err(|e| ExchangeError::Request(e.0))?;
            let left = attempts - used;
            let resp = match to_end {
                true => c.exchange_to_end(req, left)?,
                false => c.exchange(req, left)?,
            };
            used += 1;
            if resp.rcode != SERVFAIL || used >= attempts {
                return Ok(resp);
            }
            log(
                LogLevel::Debug,
                &format!("the DNS server answered SERVFAIL; asking again in {wait:?}"),
            );
            if !self.pause(wait.min(c.timeout), to_end) {
                return Err(ExchangeError::Cancelled);
            }
            wait *= 2;
        }
    }

    /// Sleep `d`; false when `cancel` came first (unless `to_end`).
    fn pause(&self, d: Duration, to_end: bool) -> bool {
        let until = Instant::now() + d;
        loop {
            if !to_end
                && self
                    .inner
                    .client
                    .cancelled
                    .load(std::sync::atomic::Ordering::SeqCst)
            {
                return false;
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return true;
            }
            std::thread::sleep(left.min(Duration::from_millis(20)));
        }
    }

    fn rcode_error(&self, what: &str, reg: &Reg, rcode: u16) -> Error {
        let c = &self.inner.client;
        let key = match &c.key {
            Some(k) => format!("with TSIG key {}", k.name()),
            None => "without a TSIG key (option tsig_key_file or tsig_key)".into(),
        };
        let why = match rcode {
            REFUSED => format!("the server refused the update {key} (REFUSED)"),
            NOTAUTH => format!(
                "the server is not authoritative for zone {} or does not accept updates {key} \
                 (NOTAUTH)",
                reg.zone
            ),
            NOTZONE => format!("{} is not in zone {} (NOTZONE)", reg.instance, reg.zone),
            SERVFAIL => "the server failed (SERVFAIL)".into(),
            r => format!("the server answered {}", message::rcode_name(r)),
        };
        Error::Registration(format!("{what} {}: {why}", reg.instance))
    }

    /// Remember `reg` and make sure the refresher runs. When close came
    /// while the registration was on its way, it is withdrawn here.
    fn keep(&self, mut reg: Reg) -> Result<()> {
        reg.next_refresh = Instant::now() + self.refresh_interval();
        let mut st = self.state();
        if st.closed {
            drop(st);
            self.withdraw(&reg);
            return Err(Error::Closed(
                "the DNS publisher closed while registering".into(),
            ));
        }
        st.regs.retain(|r| r.instance != reg.instance);
        st.regs.push(reg);
        if st.refresher.is_none() {
            let me = self.clone();
            st.refresher = std::thread::Builder::new()
                .name("ironicmdns-dns-refresh".into())
                .spawn(move || me.refresh_loop())
                .ok();
        }
        self.inner.cond.notify_all();
        Ok(())
    }

    /// Instance names of registrations lost to another publisher.
    pub fn lost(&self) -> Vec<String> {
        self.state().lost.clone()
    }

    /// Wait until a registration is lost, the publisher closes, or
    /// `timeout` (None: no limit) passes; then `lost()`.
    pub fn wait_lost(&self, timeout: Option<Duration>) -> Vec<String> {
        let until = timeout.map(|t| Instant::now() + t);
        let mut st = self.state();
        while st.lost.is_empty() && !st.closed && !crate::cancel::triggered() {
            st = match until {
                Some(u) => {
                    let left = u.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break;
                    }
                    self.inner
                        .cond
                        .wait_timeout(st, left)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
                None => self.inner.cond.wait(st).unwrap_or_else(|e| e.into_inner()),
            };
        }
        st.lost.clone()
    }

    /// What a cancel token runs to end `wait_lost` (`crate::cancel`).
    pub(crate) fn interrupter(&self) -> Arc<dyn Fn() + Send + Sync> {
        let inner = Arc::downgrade(&self.inner);
        Arc::new(move || {
            if let Some(i) = inner.upgrade() {
                let _st = i.state.lock().unwrap_or_else(|e| e.into_inner());
                i.cond.notify_all();
            }
        })
    }

    /// Remove the records of `planned` if they are ours (a cancelled
    /// registration whose UPDATE may have been applied): forget it, then
    /// one withdrawal run to its end; errors are logged.
    pub(crate) fn retract(&self, planned: &Planned) {
        let reg = &planned.0;
        self.state().regs.retain(|r| r.instance != reg.instance);
        match self.send(reg, &withdraw(reg), "withdrawing") {
            Ok(NOERROR) => {}
            Ok(NXRRSET | NXDOMAIN) => log(
                LogLevel::Debug,
                &format!("{} was not added: nothing removed", reg.instance),
            ),
            Ok(r) => log(
                LogLevel::Error,
                &self.rcode_error("withdrawing", reg, r).to_string(),
            ),
            Err(e) => log(LogLevel::Error, &e.to_string()),
        }
    }

    /// Stop refreshing and remove every record of ours (SPEC 6: errors are
    /// logged, not returned). Idempotent.
    pub fn close(&self) {
        let (regs, refresher) = {
            let mut st = self.state();
            if st.closed {
                return;
            }
            st.closed = true;
            self.inner.cond.notify_all();
            (std::mem::take(&mut st.regs), st.refresher.take())
        };
        if let Some(t) = refresher {
            let _ = t.join();
        }
        for reg in regs {
            self.withdraw(&reg);
        }
    }

    /// Remove `reg`'s records while our marker is there (SPEC 6: errors
    /// are logged). A refused or unreadable answer (an unsigned BADKEY
    /// datagram, garbage) is not taken as the end: the withdrawal is sent
    /// again within the lookup attempts.
    fn withdraw(&self, reg: &Reg) {
        let attempts = self.inner.client.lookup_attempts.max(1);
        for attempt in 1..=attempts {
            match self.send(reg, &withdraw(reg), "withdrawing") {
                Ok(NOERROR) => return,
                Ok(NXRRSET | NXDOMAIN | YXRRSET) => {
                    log(
                        LogLevel::Debug,
                        &format!("{} was not ours (any more): nothing removed", reg.instance),
                    );
                    return;
                }
                Ok(r) => {
                    log(
                        LogLevel::Error,
                        &self.rcode_error("withdrawing", reg, r).to_string(),
                    );
                    return;
                }
                Err(e @ (Error::Auth(_) | Error::Io(_))) if attempt < attempts => log(
                    LogLevel::Warning,
                    &format!("{e}; sending the withdrawal again"),
                ),
                Err(e) => {
                    log(LogLevel::Error, &e.to_string());
                    return;
                }
            }
        }
    }
}

/// An exchange failure while publishing as the crate's error.
fn update_exchange_error(what: &str, e: ExchangeError) -> Error {
    match e {
        ExchangeError::Refused { .. } | ExchangeError::KeyRejected { .. } => {
            Error::Auth(format!("{what}: {e}"))
        }
        ExchangeError::Io { .. } => Error::Io(format!("{what}: {e}")),
        ExchangeError::Request(m) => Error::InvalidArgument(m),
        ExchangeError::Cancelled => Error::Closed(format!("{what}: {e}")),
        ExchangeError::Timeout { .. } | ExchangeError::Malformed { .. } => {
            Error::Registration(format!("{what}: {e}"))
        }
    }
}

mod owner;
mod records;
mod refresh;

use self::records::{fresh, plan, reassert, withdraw, Reg};

#[cfg(test)]
mod tests;

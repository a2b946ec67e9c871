//! The driver: one thread owning sockets and clock, feeding the core.
//! OWNER: driver helper.
//!
//! Shape: the sans-IO [`Engine`] sits in an `Arc<Mutex<State>>` shared by
//! the API callers and one driver thread. A caller locks, issues its
//! command, wakes the thread (an eventfd) and waits on a `Condvar` for the
//! event it needs. The thread `ppoll`s the mDNS sockets (port 5353, and
//! the ephemeral-port ones one-shot queries leave from), a netlink socket
//! (interface changes) and the eventfd with the engine's own deadline as
//! timeout: no periodic wake-up. After every step it sends what the engine
//! queued and records the engine's events in `State`, then wakes waiters.
//! A panic of the engine is caught: the handle then refuses further work.

use std::collections::HashMap;
use std::net::IpAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::socket::iface::{IfaceFilter, Watcher};
use super::socket::{MdnsSocket, Waker};
use super::*;
use crate::error::{panic_text, Error, Result};

mod thread;
use self::thread::{thread_main, DriverIo};

/// Longest wait for goodbyes to go out (unregister, close).
const WITHDRAW_LIMIT: Duration = Duration::from_secs(5);
/// Longest wait accepted for any call (larger timeouts are clamped).
const MAX_WAIT: Duration = Duration::from_secs(86_400);
/// Extra wait past a query's deadline for the engine's timeout event.
const QUERY_GRACE: Duration = Duration::from_millis(200);
/// Without a netlink socket, re-read the interface table this often.
const IFACE_POLL_FALLBACK: Duration = Duration::from_secs(5);
/// Own multicast packets are recognised for this long after sending.
const ECHO_WINDOW: Duration = Duration::from_secs(2);
/// Legacy unicast answers (RFC 6762 s6.7) to a one-shot query sent from the
/// ephemeral port are taken for this long after sending it.
const LEGACY_ANSWER_WINDOW: Duration = Duration::from_secs(5);

/// Options of a running engine.
#[derive(Clone, Debug, Default)]
pub struct MdnsOptions {
    /// Only the interfaces holding one of these addresses, and only those
    /// addresses' families. None: every multicast interface, IPv4 and IPv6.
    pub interfaces: Option<Vec<IpAddr>>,
    /// Cache bound (None: DEFAULT_CACHE_CAPACITY).
    pub cache_capacity: Option<usize>,
}

/// A running mDNS engine. Thread-safe; cheap calls (a lock) except where a
/// method says it blocks.
pub struct Mdns {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

struct Shared {
    state: Mutex<State>,
    cond: Condvar,
    waker: Waker,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reg {
    /// Probing; `register` waits.
    Probing,
    /// Announced and defended.
    Registered,
    /// Conflict while probing; `register` reports it and forgets the id.
    Conflicted,
    /// Conflict after announcing (RFC 6762 s9): withdrawn by the engine.
    Lost,
    /// `unregister`/`close` waits for its goodbyes.
    Withdrawing,
    /// Given up by a timed-out `register`; forgotten once withdrawn.
    Abandoned,
}

#[derive(Clone, Debug)]
enum Life {
    Running,
    Closing,
    Closed,
    Failed(Error),
}

struct State {
    engine: Engine,
    life: Life,
    /// Tells the thread to exit after its next send round.
    stop: bool,
    regs: HashMap<RegId, Reg>,
    /// None while pending; Some(None) timed out; Some(Some) resolved.
    queries: HashMap<QueryId, Option<Option<ResolvedService>>>,
    browses: HashMap<BrowseId, Vec<ResolvedService>>,
    /// Interfaces mDNS runs on now (kept by the thread).
    ifaces_up: usize,
}

impl State {
    fn check(&self) -> Result<()> {
        match &self.life {
            Life::Running => Ok(()),
            Life::Closing | Life::Closed => Err(Error::Closed("the mDNS engine is closed".into())),
            Life::Failed(e) => Err(e.clone()),
        }
    }

    /// Run an engine call; a panic marks the handle failed.
    fn guarded<T>(&mut self, f: impl FnOnce(&mut Engine) -> T) -> Result<T> {
        match catch_unwind(AssertUnwindSafe(|| f(&mut self.engine))) {
            Ok(v) => Ok(v),
            Err(p) => {
                let e = Error::Internal(format!("mDNS engine panicked: {}", panic_text(&*p)));
                self.life = Life::Failed(e.clone());
                Err(e)
            }
        }
    }

    /// Record one engine event.
    fn apply(&mut self, ev: Event) {
        match ev {
            Event::Registered(id) => {
                if let Some(r @ Reg::Probing) = self.regs.get_mut(&id) {
                    *r = Reg::Registered;
                }
            }
            Event::Conflict(id) => match self.regs.get(&id) {
                Some(Reg::Probing) => {
                    self.regs.insert(id, Reg::Conflicted);
                }
                Some(Reg::Registered) => {
                    self.regs.insert(id, Reg::Lost);
                }
                Some(Reg::Withdrawing | Reg::Abandoned) => {
                    self.regs.remove(&id);
                }
                _ => {}
            },
            Event::Withdrawn(id) => {
                self.regs.remove(&id);
            }
            Event::Resolved { query, service } => {
                if let Some(slot @ None) = self.queries.get_mut(&query) {
                    *slot = Some(Some(service));
                }
            }
            Event::QueryTimedOut(query) => {
                if let Some(slot @ None) = self.queries.get_mut(&query) {
                    *slot = Some(None);
                }
            }
            Event::BrowseAdded { browse, service } => {
                if let Some(seen) = self.browses.get_mut(&browse) {
                    match seen.iter_mut().find(|s| s.instance == service.instance) {
                        Some(s) => *s = service,
                        None => seen.push(service),
                    }
                }
            }
            Event::BrowseRemoved { browse, instance } => {
                if let Some(seen) = self.browses.get_mut(&browse) {
                    seen.retain(|s| s.instance != instance);
                }
            }
        }
    }
}

fn io_err(what: &str, e: std::io::Error) -> Error {
    Error::Io(format!("{what}: {e}"))
}

fn arg_err(e: EngineError) -> Error {
    match e {
        EngineError::InvalidName(..) | EngineError::InvalidRecord(_) => {
            Error::InvalidArgument(e.to_string())
        }
        _ => Error::Registration(e.to_string()),
    }
}

/// A deadline `d` from `now`, clamped so it cannot overflow.
fn after(now: Instant, d: Duration) -> Instant {
    now + d.min(MAX_WAIT)
}

/// A seed for the engine's random delays: getrandom(2), else time and pid.
fn random_seed() -> u64 {
    let mut b = [0u8; 8];
    // SAFETY: writing 8 bytes into a local buffer.
    let n = unsafe { libc::getrandom(b.as_mut_ptr().cast(), b.len(), libc::GRND_NONBLOCK) };
    if n == 8 {
        return u64::from_ne_bytes(b);
    }
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    t ^ ((std::process::id() as u64) << 32)
}

impl Mdns {
    /// Open sockets and start the driver thread. Io error when no socket can
    /// be opened.
    pub fn start(opts: MdnsOptions) -> Result<Mdns> {
        if let Some(list) = &opts.interfaces {
            if list.is_empty() {
                return Err(Error::InvalidArgument(
                    "the interfaces list is empty".into(),
                ));
            }
        }
        let filter = IfaceFilter {
            addresses: opts.interfaces.clone(),
        };
        let mut socks = Vec::new();
        let mut eph = Vec::new();
        let mut errors = Vec::new();
        for fam in filter.families() {
            match MdnsSocket::open(fam) {
                Ok(s) => socks.push(s),
                Err(e) => errors.push(format!("{fam:?}: {e}")),
            }
            // RFC 6762 s5.1: one-shot queries go out from here. Without it
            // they leave from 5353 (and may lose their unicast answers to
            // another stack sharing the port).
            if let Ok(s) = MdnsSocket::open_ephemeral(fam) {
                eph.push(s);
            }
        }
        if socks.is_empty() {
            return Err(Error::Io(format!(
                "no mDNS socket could be opened: {}",
                errors.join("; ")
            )));
        }
        let waker = Waker::new().map_err(|e| io_err("eventfd", e))?;
        // Without netlink, interface changes are found by a slow re-read.
        let watcher = Watcher::open().ok();
        let io = DriverIo::new(socks, eph, watcher, filter)?;
        let ifaces = io.interfaces().to_vec();
        let ifaces_up = ifaces.len();

        let config = EngineConfig {
            cache_capacity: opts.cache_capacity.unwrap_or(DEFAULT_CACHE_CAPACITY),
        };
        let seed = random_seed();
        let engine = catch_unwind(|| {
            let mut e = Engine::new(config, seed);
            e.set_interfaces(Instant::now(), ifaces);
            e
        })
        .map_err(|p| Error::Internal(format!("mDNS engine panicked: {}", panic_text(&*p))))?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                engine,
                life: Life::Running,
                stop: false,
                regs: HashMap::new(),
                queries: HashMap::new(),
                browses: HashMap::new(),
                ifaces_up,
            }),
            cond: Condvar::new(),
            waker,
        });
        let s2 = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("ironicmdns".into())
            .spawn(move || thread_main(s2, io))
            .map_err(|e| io_err("starting the mDNS thread", e))?;
        Ok(Mdns {
            shared,
            thread: Mutex::new(Some(thread)),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Wait on the condvar until `deadline` (at most); returns the guard.
    fn wait_until<'a>(
        &self,
        st: MutexGuard<'a, State>,
        deadline: Instant,
    ) -> MutexGuard<'a, State> {
        let d = deadline.saturating_duration_since(Instant::now());
        self.shared
            .cond
            .wait_timeout(st, d)
            .unwrap_or_else(PoisonError::into_inner)
            .0
    }

    /// Register and block until probing ends: Ok(id) once announced,
    /// Err(Error::Conflict) on a conflict, Err(Error::Registration) on an
    /// engine error. `timeout` bounds the wait.
    ///
    /// With no interface up at all, returns Ok(id) at once: the service is
    /// pending, and is probed and announced when an interface comes up
    /// (`is_registered` turns true then; a conflict found then makes it
    /// false for good).
    pub fn register(&self, info: ServiceInfo, timeout: Duration) -> Result<RegId> {
        let now = Instant::now();
        let deadline = after(now, timeout);
        let instance = info.instance.clone();
        let mut st = self.lock();
        st.check()?;
        let id = st.guarded(|e| e.register(now, info))?.map_err(arg_err)?;
        st.regs.insert(id, Reg::Probing);
        self.shared.waker.wake();
        loop {
            match st.regs.get(&id).copied() {
                Some(Reg::Probing) if st.ifaces_up == 0 => return Ok(id),
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
            if Instant::now() >= deadline {
                let now = Instant::now();
                match st.guarded(|e| e.unregister(now, id))? {
                    Ok(()) => {
                        st.regs.insert(id, Reg::Abandoned);
                        self.shared.waker.wake();
                    }
                    Err(_) => {
                        st.regs.remove(&id);
                    }
                }
                return Err(Error::Registration(format!(
                    "probing {instance} did not finish within {timeout:?}"
                )));
            }
            st = self.wait_until(st, deadline);
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
            if !lost.is_empty() || !matches!(st.life, Life::Running) {
                lost.sort_by_key(|id| id.0);
                return lost;
            }
            st = match deadline {
                Some(d) if Instant::now() >= d => return lost,
                Some(d) => self.wait_until(st, d),
                None => self
                    .shared
                    .cond
                    .wait(st)
                    .unwrap_or_else(PoisonError::into_inner),
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
                self.shared.waker.wake();
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

    /// Resolve an instance (full name): from the cache at once when complete
    /// there, else query the network for at most `timeout`. Ok(None) when
    /// nothing complete arrived in time.
    pub fn resolve(&self, instance: &str, timeout: Duration) -> Result<Option<ResolvedService>> {
        let now = Instant::now();
        let mut st = self.lock();
        st.check()?;
        // The warm path: a lock and a cache lookup, no thread round trip.
        if let Some(s) = st.guarded(|e| e.resolve_cached(now, instance))? {
            return Ok(Some(s));
        }
        let deadline = after(now, timeout);
        let q = st
            .guarded(|e| e.query(now, instance, deadline))?
            .map_err(arg_err)?;
        st.queries.insert(q, None);
        self.shared.waker.wake();
        let give_up = deadline + QUERY_GRACE;
        loop {
            if let Some(Some(outcome)) = st.queries.get(&q) {
                let outcome = outcome.clone();
                st.queries.remove(&q);
                return Ok(outcome);
            }
            if let Err(e) = st.check() {
                st.queries.remove(&q);
                return Err(e);
            }
            if Instant::now() >= give_up {
                st.queries.remove(&q);
                st.guarded(|e| e.cancel_query(q))?;
                return Ok(None);
            }
            st = self.wait_until(st, give_up);
        }
    }

    /// Browse a service type for `duration`, returning the instances seen
    /// (resolved as far as they could be).
    pub fn browse(&self, service_type: &str, duration: Duration) -> Result<Vec<ResolvedService>> {
        let now = Instant::now();
        let deadline = after(now, duration);
        let mut st = self.lock();
        st.check()?;
        let b = st
            .guarded(|e| e.browse(now, service_type))?
            .map_err(arg_err)?;
        st.browses.insert(b, Vec::new());
        self.shared.waker.wake();
        while Instant::now() < deadline {
            if let Err(e) = st.check() {
                st.browses.remove(&b);
                return Err(e);
            }
            st = self.wait_until(st, deadline);
        }
        let seen = st.browses.remove(&b).unwrap_or_default();
        st.guarded(|e| e.stop_browse(b))?;
        Ok(seen)
    }

    /// Forget all cached records.
    pub fn flush_cache(&self) {
        let mut st = self.lock();
        if st.check().is_ok() {
            let _ = st.guarded(|e| e.flush_cache());
        }
    }

    /// Records in the cache now (0 once closed): shows the bound holds.
    pub fn cache_len(&self) -> usize {
        let mut st = self.lock();
        if st.check().is_err() {
            return 0;
        }
        st.guarded(|e| e.cache_len()).unwrap_or(0)
    }

    /// Withdraw every registration (goodbyes sent before return), stop the
    /// thread, close sockets. Idempotent.
    pub fn close(&self) -> Result<()> {
        let mut st = self.lock();
        if let Life::Closing = st.life {
            // Another caller is closing: wait for it to finish.
            let deadline = Instant::now() + WITHDRAW_LIMIT + Duration::from_secs(1);
            while matches!(st.life, Life::Closing) && Instant::now() < deadline {
                st = self.wait_until(st, deadline);
            }
            return Ok(());
        }
        if let Life::Running = st.life {
            st.life = Life::Closing;
            let now = Instant::now();
            let ids: Vec<(RegId, Reg)> = st.regs.iter().map(|(k, v)| (*k, *v)).collect();
            for (id, r) in ids {
                match r {
                    Reg::Probing | Reg::Registered => match st.guarded(|e| e.unregister(now, id)) {
                        Ok(Ok(())) => {
                            st.regs.insert(id, Reg::Withdrawing);
                        }
                        _ => {
                            st.regs.remove(&id);
                        }
                    },
                    Reg::Withdrawing | Reg::Abandoned => {}
                    Reg::Lost | Reg::Conflicted => {
                        st.regs.remove(&id);
                    }
                }
            }
            self.shared.waker.wake();
            self.shared.cond.notify_all();
            let deadline = Instant::now() + WITHDRAW_LIMIT;
            while !st.regs.is_empty()
                && Instant::now() < deadline
                && !matches!(st.life, Life::Failed(_))
            {
                st = self.wait_until(st, deadline);
            }
        }
        st.stop = true;
        drop(st);
        self.shared.waker.wake();
        let handle = self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(h) = handle {
            let _ = h.join();
        }
        let mut st = self.lock();
        if !matches!(st.life, Life::Failed(_)) {
            st.life = Life::Closed;
        }
        st.regs.clear();
        self.shared.cond.notify_all();
        Ok(())
    }
}

impl Drop for Mdns {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

impl std::fmt::Debug for Mdns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mdns").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_never_overflow() {
        let now = Instant::now();
        assert_eq!(after(now, Duration::MAX), now + MAX_WAIT);
        assert_eq!(
            after(now, Duration::from_millis(5)),
            now + Duration::from_millis(5)
        );
    }

    #[test]
    fn engine_errors_map_to_crate_errors() {
        let rows = [
            (
                EngineError::InvalidName("x".into(), "empty label"),
                "invalid argument",
            ),
            (EngineError::InvalidRecord("bad"), "invalid argument"),
            (EngineError::Duplicate("x".into()), "registration failed"),
            (EngineError::UnknownRegistration, "registration failed"),
        ];
        for (e, prefix) in rows {
            let got = arg_err(e.clone()).to_string();
            assert!(got.starts_with(prefix), "{e:?} -> {got}");
        }
    }

    #[test]
    fn seeds_differ() {
        assert_ne!(random_seed(), random_seed());
    }
}

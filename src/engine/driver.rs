//! The driver: sockets and clock around the sans-IO core.
//!
//! Shape: the sans-IO [`Engine`] sits in an `Arc<Mutex<State>>` shared by
//! the API callers and, once one is needed, one driver thread. Starting
//! costs an interface listing and nothing else: sockets open when a call
//! first needs them (`net.rs`), and the thread starts with the first call
//! that must hear the link (register, browse, and a lookup whose answers
//! the cache keeps: the cache is only honest while it hears goodbyes, RFC
//! 6762 s10.1). A one-shot engine (`Mdns::start_one_shot`, the module-level
//! lookup) keeps nothing and never starts a thread: its lookups run on the
//! caller's own thread and pay one ephemeral socket per family in use, and
//! a 5353 socket only if the first query goes unanswered for a second.
//!
//! With a thread: a caller locks, issues its command, wakes the thread (an
//! eventfd) and waits on a `Condvar` for the event it needs. The thread
//! `ppoll`s the open sockets, a netlink socket (interface changes) and the
//! eventfd with the engine's own deadline as timeout: no periodic wake-up.
//! After every step it sends what the engine queued and records the
//! engine's events in `State`, then wakes waiters. A panic of the engine
//! or the death of the thread is caught: the handle then refuses further
//! work with `Error::Poisoned`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::socket::iface::{IfaceFilter, Watcher};
use super::socket::Waker;
use super::*;
use crate::error::{panic_text, Error, Result};

mod net;
mod thread;
use self::net::{Net, NetNs};
use self::thread::{round, thread_main, DriverIo};

/// Longest wait for goodbyes to go out (unregister, close).
const WITHDRAW_LIMIT: Duration = Duration::from_secs(5);
/// Longest wait accepted for any call (larger timeouts are clamped).
const MAX_WAIT: Duration = Duration::from_secs(86_400);
/// Extra wait past a query's deadline for the engine's timeout event.
const QUERY_GRACE: Duration = Duration::from_millis(200);
/// An interface list older than this is read again when the thread starts.
const IFACE_STALE: Duration = Duration::from_secs(1);
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
    /// Set when the thread starts.
    waker: OnceLock<Waker>,
}

impl Shared {
    /// Wake the thread, if one runs.
    fn wake(&self) {
        if let Some(w) = self.waker.get() {
            w.wake();
        }
    }

    /// Wake the callers blocked in `wait_for`; `st` is the held state.
    fn notify(&self, st: &State) {
        if st.waiters > 0 {
            self.cond.notify_all();
        }
    }
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
    /// Interfaces, sockets and group memberships.
    net: Net,
    /// The driver's own state, here while nobody runs rounds: taken by the
    /// thread for good, or by a caller's thread for one lookup.
    io: Option<DriverIo>,
    thread_started: bool,
    /// A caller waits for the I/O to start the thread: the caller's thread
    /// that holds it hands it back at its next round.
    want_thread: bool,
    /// Lookups run on the caller's thread while no thread runs.
    one_shot: bool,
    /// Callers blocked in `wait_for`: with none, a state change wakes
    /// nobody and costs no futex call (Condvar::notify_all always makes one).
    waiters: u32,
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
                let e = poisoned(&format!("the mDNS engine panicked: {}", panic_text(&*p)));
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

/// The engine failed (a panic, or the driver could not go on): the handle
/// refuses further work with this error.
fn poisoned(why: &str) -> Error {
    Error::Poisoned(why.to_string())
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

impl Mdns {
    /// Read the interface table and set up the engine. No socket and no
    /// thread yet: each opens when a call first needs it (an Io error
    /// then, from that call, when no socket can be opened).
    pub fn start(opts: MdnsOptions) -> Result<Mdns> {
        Mdns::start_as(opts, false)
    }

    /// An engine for lookups only, driven on the caller's thread: no
    /// thread, and no socket until a lookup; `register` and `browse`
    /// still work (they start the thread).
    pub fn start_one_shot(opts: MdnsOptions) -> Result<Mdns> {
        Mdns::start_as(opts, true)
    }

    fn start_as(opts: MdnsOptions, one_shot: bool) -> Result<Mdns> {
        if let Some(list) = &opts.interfaces {
            if list.is_empty() {
                return Err(Error::InvalidArgument(
                    "the interfaces list is empty".into(),
                ));
            }
        }
        let net = Net::new(
            IfaceFilter {
                addresses: opts.interfaces.clone(),
            },
            if one_shot {
                NetNs::this_call()
            } else {
                NetNs::here()
            },
        )?;
        let config = EngineConfig {
            cache_capacity: opts.cache_capacity.unwrap_or(DEFAULT_CACHE_CAPACITY),
        };
        let seed = crate::random::seed();
        let ifaces = net.ifaces.clone();
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
                net,
                io: Some(DriverIo::new()),
                thread_started: false,
                want_thread: false,
                one_shot,
                waiters: 0,
            }),
            cond: Condvar::new(),
            waker: OnceLock::new(),
        });
        Ok(Mdns {
            shared,
            thread: Mutex::new(None),
        })
    }

    /// Start the driver thread unless it runs. A caller's thread driving a
    /// lookup holds the I/O: it is asked to hand it over, and this waits.
    fn ensure_thread<'a>(&'a self, mut st: MutexGuard<'a, State>) -> Result<MutexGuard<'a, State>> {
        loop {
            if st.thread_started {
                return Ok(st);
            }
            st.check()?;
            if let Some(mut io) = st.io.take() {
                if let Err(e) = self.spawn(&mut st, &mut io) {
                    st.io = Some(io);
                    return Err(e);
                }
                return Ok(st);
            }
            st.want_thread = true;
            st = self.wait_until(st, Instant::now() + Duration::from_millis(50));
        }
    }

    fn spawn(&self, st: &mut State, io: &mut DriverIo) -> Result<()> {
        if self.shared.waker.get().is_none() {
            let w = Waker::new().map_err(|e| io_err("eventfd", e))?;
            let _ = self.shared.waker.set(w);
        }
        // Without netlink, interface changes are found by a slow re-read.
        if io.watcher.is_none() {
            io.watcher = st.net.ns.run(Watcher::open).ok();
        }
        let now = Instant::now();
        if now.saturating_duration_since(st.net.scanned) > IFACE_STALE {
            if let Some(list) = st.net.rescan(now) {
                st.guarded(|e| e.set_interfaces(now, list))?;
            }
        }
        let s2 = Arc::clone(&self.shared);
        let moved = std::mem::replace(io, DriverIo::new());
        let handle = std::thread::Builder::new()
            .name("ironicmdns".into())
            .spawn(move || thread_main(s2, moved))
            .map_err(|e| io_err("starting the mDNS thread", e))?;
        *self.thread.lock().unwrap_or_else(PoisonError::into_inner) = Some(handle);
        st.thread_started = true;
        st.want_thread = false;
        Ok(())
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
        self.wait_for(st, Some(deadline))
    }

    /// Block until woken (`Shared::notify`) or `deadline` (None: no
    /// deadline). Every wait on the condvar goes through here, counted in
    /// `waiters`.
    fn wait_for<'a>(
        &self,
        mut st: MutexGuard<'a, State>,
        deadline: Option<Instant>,
    ) -> MutexGuard<'a, State> {
        st.waiters += 1;
        let cond = &self.shared.cond;
        let mut st = match deadline {
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                cond.wait_timeout(st, left)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0
            }
            None => cond.wait(st).unwrap_or_else(PoisonError::into_inner),
        };
        st.waiters -= 1;
        st
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
            if Instant::now() >= deadline {
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
                None => self.wait_for(st, None),
            };
        }
    }

    /// The error the engine failed with, if it failed (`Error::Poisoned`):
    /// every call but `close` then returns it.
    pub fn failure(&self) -> Option<Error> {
        match &self.lock().life {
            Life::Failed(e) => Some(e.clone()),
            _ => None,
        }
    }

    /// Make the engine fail as a panic inside it would (tests of the
    /// poisoned path).
    #[cfg(test)]
    pub(crate) fn inject_failure(&self) {
        let _ = self
            .lock()
            .guarded(|_| std::panic::panic_any("injected engine failure"));
        self.shared.cond.notify_all();
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
        st.net.prepare_one_shot()?;
        if !st.one_shot {
            // What the cache keeps must hear goodbyes and cache flushes.
            st.net.listen_all()?;
            st = self.ensure_thread(st)?;
        }
        let q = st
            .guarded(|e| e.query(now, instance, deadline))?
            .map_err(arg_err)?;
        st.queries.insert(q, None);
        let give_up = deadline + QUERY_GRACE;
        if st.thread_started {
            self.shared.wake();
        } else if let Some(io) = st.io.take() {
            // No thread: drive the engine on this thread until the answer.
            drop(st);
            self.drive_here(io, q, give_up);
            st = self.lock();
        } else {
            // Another caller's thread drives a lookup: the thread takes over.
            st = self.ensure_thread(st)?;
            self.shared.wake();
        }
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

    /// Run driver rounds on this thread until query `q` has its outcome,
    /// `give_up` passes, the engine stops, or another caller wants the
    /// thread; then put the I/O back.
    fn drive_here(&self, mut io: DriverIo, q: QueryId, give_up: Instant) {
        let done = |st: &State| {
            st.want_thread
                || st.stop
                || !matches!(st.life, Life::Running)
                || st.queries.get(&q).is_some_and(Option::is_some)
        };
        let mut notify = false;
        let failed = loop {
            match round(&self.shared, &mut io, Some(give_up), &mut notify, done) {
                Ok(true) => break None,
                Ok(false) if Instant::now() >= give_up => break None,
                Ok(false) => {}
                Err(e) => break Some(e),
            }
        };
        let mut st = self.lock();
        st.io = Some(io);
        if let Some(e) = failed {
            if matches!(st.life, Life::Running) {
                st.life = Life::Failed(poisoned(&e.to_string()));
            }
        }
        self.shared.notify(&st);
    }

    /// Browse a service type for `duration`, returning the instances seen
    /// (resolved as far as they could be).
    pub fn browse(&self, service_type: &str, duration: Duration) -> Result<Vec<ResolvedService>> {
        let now = Instant::now();
        let deadline = after(now, duration);
        let mut st = self.lock();
        st.check()?;
        st.net.listen_all()?;
        let mut st = self.ensure_thread(st)?;
        let b = st
            .guarded(|e| e.browse(now, service_type))?
            .map_err(arg_err)?;
        st.browses.insert(b, Vec::new());
        self.shared.wake();
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
            self.shared.wake();
            self.shared.notify(&st);
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
        self.shared.wake();
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
        self.shared.notify(&st);
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

    /// A caller blocked with no deadline (`wait_lost(None)`, what
    /// `ironic-mdns register` does) is woken when the driver notifies: it
    /// counts as a waiter. Opens no socket.
    #[test]
    fn an_untimed_waiter_is_woken() {
        let m = Arc::new(Mdns::start(MdnsOptions::default()).expect("engine"));
        let (tx, rx) = std::sync::mpsc::channel();
        let m2 = Arc::clone(&m);
        std::thread::spawn(move || {
            let _ = tx.send(m2.wait_lost(None));
        });
        let t0 = Instant::now();
        while m.lock().waiters == 0 {
            assert!(
                t0.elapsed() < Duration::from_secs(5),
                "the waiter never blocked"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        {
            let mut st = m.lock();
            st.regs.insert(RegId(7), Reg::Lost);
            m.shared.notify(&st);
        }
        let lost = rx
            .recv_timeout(Duration::from_secs(5))
            .expect("the untimed waiter was not woken");
        assert_eq!(lost, vec![RegId(7)]);
    }
}

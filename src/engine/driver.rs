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

use super::iface::{IfaceFilter, Watcher};
use super::socket::Waker;
use super::*;
use crate::error::{panic_text, Error, Result};

mod net;
mod query;
mod register;

pub(crate) use self::register::NO_INTERFACE;
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
    /// Sign every response with this key (`Config.signing_key`).
    pub signing_key: Option<crate::trust::SigningKeyRef>,
    /// Validate every answer (`Config.trust`); a lookup that heard only
    /// answers that did not validate fails with `Error::Auth`.
    pub trust: Option<crate::trust::TrustPolicy>,
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
    /// Why a query timed out with nothing validated (trust policy set).
    refused: HashMap<QueryId, String>,
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
            Event::QueryRefused { query, why } => {
                if let Some(slot @ None) = self.queries.get_mut(&query) {
                    *slot = Some(None);
                    self.refused.insert(query, why);
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
        EngineError::InvalidName(..) | EngineError::InvalidRecord(_) | EngineError::Signing(_) => {
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
            signing_key: opts.signing_key.clone(),
            trust: opts.trust.clone(),
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
                refused: HashMap::new(),
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
            crate::cancel::check()?;
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

    /// What a cancel token runs to end this engine's waits
    /// (`crate::cancel`): it wakes the callers blocked on the condition
    /// variable and the thread (or a caller's thread driving a lookup) in
    /// its `ppoll`; each then sees the token and returns. Holds the engine
    /// weakly: a late run after the engine is gone does nothing.
    pub(crate) fn interrupter(&self) -> Arc<dyn Fn() + Send + Sync> {
        let shared = Arc::downgrade(&self.shared);
        Arc::new(move || {
            if let Some(sh) = shared.upgrade() {
                // Under the lock: a waiter between its check and its
                // sleep holds it, so this cannot slip in between.
                let st = sh.state.lock().unwrap_or_else(PoisonError::into_inner);
                sh.notify(&st);
                drop(st);
                sh.wake();
            }
        })
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
mod tests;

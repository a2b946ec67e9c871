//! Cancelling one blocking call without closing its handle.
//!
//! A [`Cancel`] is a token a caller hands to a blocking call
//! (`Zeroconf::register_service_with` and its siblings). Any thread may
//! [`Cancel::trigger`] it; every call that holds it then ends with
//! `Error::Cancelled` within a few milliseconds, and the handle stays
//! usable. A token serves any number of calls, at once or one after
//! another; once triggered it stays triggered (a call started with a
//! triggered token ends at once), so a caller makes a fresh token for
//! work it starts after a cancel.
//!
//! How the waits learn of it: the call enters the token for its own
//! thread ([`Cancel::enter`]), and every wait a call can block in (the
//! engine driver's condition variable, the caller's own driver rounds,
//! the waits between attempts, the unicast DNS driver) asks
//! [`triggered`] before it sleeps and again when it wakes. The call also
//! registers a hook ([`Cancel::on_trigger`]) that wakes those waits; the
//! hook takes the lock the wait sleeps under before it signals, so a
//! trigger that lands between the check and the sleep is not lost.
//!
//! `trigger` takes a lock (the hook list, then each hook's own), so it is
//! not async-signal-safe.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::error::{Error, Result};

type Hook = Arc<dyn Fn() + Send + Sync>;

/// A cancellation token (cheap to clone: clones share one state).
#[derive(Clone, Default)]
pub struct Cancel {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    fired: AtomicBool,
    next: AtomicU64,
    hooks: Mutex<Vec<(u64, Hook)>>,
}

impl std::fmt::Debug for Cancel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cancel")
            .field("triggered", &self.is_triggered())
            .finish()
    }
}

impl Cancel {
    /// A token not yet triggered.
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Cancel every call that holds this token, now and later. Idempotent;
    /// safe from any thread (not from a signal handler).
    pub fn trigger(&self) {
        if self.inner.fired.swap(true, Ordering::SeqCst) {
            return;
        }
        // Run the hooks outside the list's lock: a hook takes the lock of
        // the wait it ends, and a call registers its hook holding no lock.
        let hooks: Vec<Hook> = self
            .inner
            .hooks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(_, h)| Arc::clone(h))
            .collect();
        for h in hooks {
            h();
        }
    }

    /// Whether `trigger` was called.
    pub fn is_triggered(&self) -> bool {
        self.inner.fired.load(Ordering::SeqCst)
    }

    /// Run `hook` when the token is triggered, for as long as the returned
    /// guard lives (a hook may still run once just after the guard went:
    /// it must only wake, through weak references). A token triggered
    /// already does not run it: the caller's first check sees the flag.
    pub(crate) fn on_trigger(&self, hook: Hook) -> HookGuard {
        let id = self.inner.next.fetch_add(1, Ordering::Relaxed);
        self.inner
            .hooks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((id, hook));
        HookGuard {
            cancel: self.clone(),
            id,
        }
    }

    /// Make this the token of the calling thread's current call until the
    /// guard is dropped (the previous one comes back then).
    pub(crate) fn enter(&self) -> Scope {
        let previous = CURRENT.with(|c| c.replace(Some(self.clone())));
        Scope { previous }
    }
}

/// Unregisters a hook when dropped.
pub(crate) struct HookGuard {
    cancel: Cancel,
    id: u64,
}

impl Drop for HookGuard {
    fn drop(&mut self) {
        let mut hooks = self
            .cancel
            .inner
            .hooks
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        hooks.retain(|(id, _)| *id != self.id);
        if hooks.is_empty() {
            hooks.shrink_to_fit();
        }
    }
}

thread_local! {
    static CURRENT: RefCell<Option<Cancel>> = const { RefCell::new(None) };
}

/// Restores the thread's previous token when dropped.
pub(crate) struct Scope {
    previous: Option<Cancel>,
}

impl Drop for Scope {
    fn drop(&mut self) {
        let previous = self.previous.take();
        CURRENT.with(|c| *c.borrow_mut() = previous);
    }
}

/// Whether the calling thread's current call was cancelled.
pub(crate) fn triggered() -> bool {
    CURRENT.with(|c| c.borrow().as_ref().is_some_and(Cancel::is_triggered))
}

/// Whether the calling thread's current call holds a token at all.
pub(crate) fn in_scope() -> bool {
    CURRENT.with(|c| c.borrow().is_some())
}

/// Error::Cancelled when the calling thread's current call was cancelled.
pub(crate) fn check() -> Result<()> {
    if triggered() {
        return Err(cancelled());
    }
    Ok(())
}

/// The error of a cancelled call.
pub(crate) fn cancelled() -> Error {
    Error::Cancelled("the call was cancelled".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn a_scope_sees_its_token_and_gives_the_previous_one_back() {
        assert!(!in_scope() && !triggered());
        let outer = Cancel::new();
        let inner = Cancel::new();
        {
            let _a = outer.enter();
            inner.trigger();
            assert!(in_scope() && !triggered());
            {
                let _b = inner.enter();
                assert!(triggered());
                assert!(matches!(check(), Err(Error::Cancelled(_))));
            }
            assert!(!triggered(), "the outer token again");
        }
        assert!(!in_scope());
    }

    #[test]
    fn hooks_run_once_while_registered() {
        let c = Cancel::new();
        let runs = Arc::new(AtomicUsize::new(0));
        let r = Arc::clone(&runs);
        let kept = c.on_trigger(Arc::new(move || {
            r.fetch_add(1, Ordering::SeqCst);
        }));
        let r = Arc::clone(&runs);
        drop(c.on_trigger(Arc::new(move || {
            r.fetch_add(100, Ordering::SeqCst);
        })));
        c.trigger();
        c.trigger();
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert!(c.is_triggered() && c.clone().is_triggered());
        drop(kept);
        assert!(c.inner.hooks.lock().unwrap().is_empty());
    }

    #[test]
    fn a_token_is_seen_on_other_threads() {
        let c = Cancel::new();
        let c2 = c.clone();
        let t = std::thread::spawn(move || {
            let _s = c2.enter();
            while !triggered() {
                std::thread::yield_now();
            }
        });
        c.trigger();
        t.join().unwrap();
    }
}

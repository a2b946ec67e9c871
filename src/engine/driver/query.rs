//! The lookups of the blocking API: one-shot resolution (driven on the
//! caller's thread for a one-shot handle), browse, the cache.

use super::*;

impl Mdns {
    /// Resolve an instance (full name): from the cache at once when complete
    /// there, else query the network for at most `timeout`. Ok(None) when
    /// nothing complete arrived in time; with a trust policy,
    /// Error::Auth when answers came but none validated (the message says
    /// why).
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
        if crate::cancel::in_scope() && self.shared.waker.get().is_none() {
            // A cancel must reach this caller's own `ppoll` too.
            let w = Waker::new().map_err(|e| io_err("eventfd", e))?;
            let _ = self.shared.waker.set(w);
        }
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
                if let (None, Some(why)) = (&outcome, st.refused.remove(&q)) {
                    return Err(Error::Auth(why));
                }
                return Ok(outcome);
            }
            if let Err(e) = st.check().and_then(|()| crate::cancel::check()) {
                st.queries.remove(&q);
                st.refused.remove(&q);
                if matches!(e, Error::Cancelled(_)) {
                    st.guarded(|e| e.cancel_query(q))?;
                }
                return Err(e);
            }
            if Instant::now() >= give_up {
                st.queries.remove(&q);
                st.refused.remove(&q);
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
                || crate::cancel::triggered()
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
            if let Err(e) = st.check().and_then(|()| crate::cancel::check()) {
                st.browses.remove(&b);
                if matches!(e, Error::Cancelled(_)) {
                    st.guarded(|e| e.stop_browse(b))?;
                }
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
}

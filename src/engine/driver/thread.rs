//! The driver thread: poll, receive, feed the engine, send, record events.
//! OWNER: driver helper.

use std::collections::{HashSet, VecDeque};
use std::hash::{Hash, Hasher};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant};

use super::super::socket::iface::{self, IfaceFilter, Watcher};
use super::super::socket::{MdnsSocket, Waker};
use super::super::*;
use super::{
    io_err, Life, Shared, State, ECHO_WINDOW, IFACE_POLL_FALLBACK, LEGACY_ANSWER_WINDOW, MAX_WAIT,
};
use crate::error::{panic_text, Error, Result};

/// What the driver thread owns.
pub(super) struct DriverIo {
    socks: Vec<MdnsSocket>,
    /// Ephemeral-port sockets (one per family that could open one): the
    /// source of one-shot queries, RFC 6762 s5.1.
    eph: Vec<MdnsSocket>,
    /// IDs of the queries sent from `eph`, to take only their answers.
    eph_ids: VecDeque<(u16, Instant)>,
    watcher: Option<Watcher>,
    filter: IfaceFilter,
    ifaces: Vec<Interface>,
    joined: HashSet<(Family, IfIndex)>,
    /// Groups whose join failed (warned about once).
    join_failed: HashSet<(Family, IfIndex)>,
    /// Hashes of multicast payloads we sent, to drop their loopback copies.
    sent: VecDeque<(u64, Instant)>,
    last_scan: Instant,
}

fn payload_hash(p: &[u8]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    p.hash(&mut h);
    h.finish()
}

impl DriverIo {
    /// The thread's state, groups joined on the interfaces up now.
    pub(super) fn new(
        socks: Vec<MdnsSocket>,
        eph: Vec<MdnsSocket>,
        watcher: Option<Watcher>,
        filter: IfaceFilter,
    ) -> Result<DriverIo> {
        let mut io = DriverIo {
            socks,
            eph,
            eph_ids: VecDeque::new(),
            watcher,
            filter,
            ifaces: Vec::new(),
            joined: HashSet::new(),
            join_failed: HashSet::new(),
            sent: VecDeque::new(),
            last_scan: Instant::now(),
        };
        let ifaces = iface::list(&io.filter).map_err(|e| io_err("listing interfaces", e))?;
        io.join_groups(&ifaces);
        io.ifaces = ifaces;
        Ok(io)
    }

    pub(super) fn interfaces(&self) -> &[Interface] {
        &self.ifaces
    }

    /// Join the groups on interfaces new to `list`, leave the gone ones.
    fn join_groups(&mut self, list: &[Interface]) {
        let want: HashSet<(Family, IfIndex)> = list
            .iter()
            .flat_map(|i| {
                self.socks
                    .iter()
                    .filter(|s| i.has_family(s.family()))
                    .map(move |s| (s.family(), i.index))
            })
            .collect();
        for s in &self.socks {
            for &(f, idx) in self
                .joined
                .iter()
                .filter(|k| k.0 == s.family() && !want.contains(k))
            {
                debug_assert_eq!(f, s.family());
                s.leave(idx);
            }
        }
        self.joined.retain(|k| want.contains(k));
        for &(f, idx) in &want {
            if self.joined.contains(&(f, idx)) {
                continue;
            }
            if let Some(s) = self.socks.iter().find(|s| s.family() == f) {
                match s.join(idx) {
                    Ok(()) => {
                        self.joined.insert((f, idx));
                        self.join_failed.remove(&(f, idx));
                    }
                    // Retried at every rescan; said once per interface.
                    Err(e) if self.join_failed.insert((f, idx)) => {
                        let name = list
                            .iter()
                            .find(|i| i.index == idx)
                            .map_or("?", |i| i.name.as_str());
                        crate::zeroconf::log(
                            crate::zeroconf::LogLevel::Warning,
                            &format!(
                                "cannot join {} on interface {name} (index {idx}): {e}; \
                                 queries there go unheard (the kernel's multicast \
                                 membership limit, net.ipv4.igmp_max_memberships, \
                                 when ENOBUFS)",
                                f.group().ip()
                            ),
                        );
                    }
                    Err(_) => {}
                }
            }
        }
        self.join_failed.retain(|k| want.contains(k));
    }

    /// Re-read the interface table; tell the engine when it changed.
    /// Returns whether it did (waiters look at `ifaces_up`).
    fn rescan(&mut self, st: &mut State, now: Instant) -> bool {
        self.last_scan = now;
        let Ok(list) = iface::list(&self.filter) else {
            return false;
        };
        // A retry of failed joins costs nothing when all are in place.
        self.join_groups(&list);
        if list == self.ifaces {
            return false;
        }
        st.ifaces_up = list.len();
        self.ifaces = list.clone();
        let _ = st.guarded(|e| e.set_interfaces(now, list));
        true
    }

    /// Send what the engine queued and record its events. Returns whether
    /// an event was recorded (then waiters must be woken).
    fn pump(&mut self, st: &mut State) -> bool {
        let mut events = false;
        loop {
            let mut busy = false;
            while let Ok(Some(t)) = st.guarded(|e| e.poll_transmit()) {
                busy = true;
                self.send(&t);
            }
            while let Ok(Some(ev)) = st.guarded(|e| e.poll_event()) {
                busy = true;
                events = true;
                st.apply(ev);
            }
            if !busy {
                return events;
            }
        }
    }

    fn send(&mut self, t: &Transmit) {
        if t.payload.len() > MAX_PACKET {
            return; // RFC 6762 s17
        }
        if t.dst.ip().is_multicast() {
            self.remember_sent(&t.payload, Instant::now());
        }
        let fam = Family::of(&t.dst.ip());
        // RFC 6762 s5.1: a one-shot query leaves from the ephemeral port;
        // without that socket, from 5353 (answered then like any query).
        let eph = self
            .eph
            .iter()
            .find(|s| t.from_ephemeral && s.family() == fam);
        let sock = eph.or_else(|| self.socks.iter().find(|s| s.family() == fam));
        if let Some(sock) = sock {
            // An interface that just went away: the send fails, nothing to do.
            let _ = sock.send(t);
        }
        if eph.is_some() && t.payload.len() >= 2 {
            self.remember_eph_id(
                u16::from_be_bytes([t.payload[0], t.payload[1]]),
                Instant::now(),
            );
        }
    }

    fn remember_eph_id(&mut self, id: u16, now: Instant) {
        while self
            .eph_ids
            .front()
            .is_some_and(|(_, at)| now.duration_since(*at) > LEGACY_ANSWER_WINDOW)
        {
            self.eph_ids.pop_front();
        }
        if self.eph_ids.len() >= 1024 {
            self.eph_ids.pop_front();
        }
        if self.eph_ids.back().map(|b| b.0) != Some(id) {
            self.eph_ids.push_back((id, now));
        }
    }

    /// Whether a datagram that came in on an ephemeral socket is an answer
    /// to one of the queries sent from there (RFC 6762 s6.7: a response
    /// echoing the query's ID). Anything else there is dropped: that port
    /// is ours alone and nobody else's business.
    fn takes_on_ephemeral(&self, data: &[u8]) -> bool {
        if data.len() < 12 || data[2] & 0x80 == 0 {
            return false; // not a whole header, or not a response
        }
        let id = u16::from_be_bytes([data[0], data[1]]);
        self.eph_ids.iter().any(|(sent, _)| *sent == id)
    }

    fn remember_sent(&mut self, payload: &[u8], now: Instant) {
        while self
            .sent
            .front()
            .is_some_and(|(_, at)| now.duration_since(*at) > ECHO_WINDOW)
        {
            self.sent.pop_front();
        }
        if self.sent.len() >= 1024 {
            self.sent.pop_front();
        }
        self.sent.push_back((payload_hash(payload), now));
    }

    /// Whether a received packet is the loopback copy of our own.
    fn is_own_echo(&self, from: &Received, data: &[u8]) -> bool {
        if from.src.port() != MDNS_PORT || self.sent.is_empty() {
            return false;
        }
        let src = from.src.ip();
        let ours = self
            .ifaces
            .iter()
            .any(|i| i.addrs.iter().any(|a| a.addr == src));
        ours && {
            let h = payload_hash(data);
            self.sent.iter().any(|(s, _)| *s == h)
        }
    }

    /// Whether a packet arrived on an interface (and family) we serve.
    fn serves(&self, from: &Received) -> bool {
        let fam = Family::of(&from.src.ip());
        self.ifaces
            .iter()
            .any(|i| i.index == from.iface && i.has_family(fam))
    }
}

pub(super) fn thread_main(shared: Arc<Shared>, io: DriverIo) {
    let outcome = catch_unwind(AssertUnwindSafe(|| run(&shared, io)));
    let mut st = shared.state.lock().unwrap_or_else(PoisonError::into_inner);
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(e)) => st.life = Life::Failed(e),
        Err(p) => {
            st.life = Life::Failed(Error::Internal(format!(
                "mDNS thread panicked: {}",
                panic_text(&*p)
            )))
        }
    }
    shared.cond.notify_all();
}

fn run(shared: &Shared, mut io: DriverIo) -> Result<()> {
    let mut buf = vec![0u8; MAX_PACKET];
    let mut spins = 0u32;
    // Whether waiters have something new to see. Waking them only then
    // matters under CPU starvation: a woken waiter (`ironic-mdns register`
    // keeps one in wait_lost) that is preempted while it re-takes the lock
    // stalls this thread until the scheduler runs it again, once per loop
    // round, i.e. per received batch in a query storm.
    let mut notify = false;
    loop {
        let deadline = {
            let mut st = shared.state.lock().unwrap_or_else(PoisonError::into_inner);
            notify |= io.pump(&mut st);
            if std::mem::take(&mut notify) {
                shared.cond.notify_all();
            }
            if st.stop || matches!(st.life, Life::Failed(_)) {
                return Ok(());
            }
            st.guarded(|e| e.poll_timeout())?
        };
        let deadline = match (deadline, &io.watcher) {
            (d, Some(_)) => d,
            (d, None) => {
                let scan = io.last_scan + IFACE_POLL_FALLBACK;
                Some(d.map_or(scan, |d| d.min(scan)))
            }
        };
        let now = Instant::now();
        let mut wait = deadline.map(|d| d.saturating_duration_since(now));
        // A deadline the engine keeps in the past must not spin a core.
        spins = if wait == Some(Duration::ZERO) {
            spins + 1
        } else {
            0
        };
        if spins > 100 {
            wait = Some(Duration::from_millis(1));
        }
        let ready = poll(&io, &shared.waker, wait)?;

        // Read without the lock; feed under it.
        let mut packets = Vec::new();
        for (i, s) in io.socks.iter().chain(io.eph.iter()).enumerate() {
            if !ready.socks[i] {
                continue;
            }
            let ephemeral = i >= io.socks.len();
            while packets.len() < 256 {
                match s.recv(&mut buf) {
                    Ok(Some((n, _))) if ephemeral && !io.takes_on_ephemeral(&buf[..n]) => {}
                    Ok(Some((n, from))) => packets.push((from, buf[..n].to_vec())),
                    Ok(None) | Err(_) => break,
                }
            }
        }
        if ready.waker {
            shared.waker.drain();
        }
        let changed = ready.watcher && io.watcher.as_ref().is_some_and(|w| w.drain());
        let now = Instant::now();
        let mut st = shared.state.lock().unwrap_or_else(PoisonError::into_inner);
        if changed || (io.watcher.is_none() && now >= io.last_scan + IFACE_POLL_FALLBACK) {
            notify |= io.rescan(&mut st, now);
        }
        for (from, data) in packets {
            if !io.serves(&from) || io.is_own_echo(&from, &data) {
                continue;
            }
            st.guarded(|e| e.handle_packet(now, from, &data))?;
            // Each answer leaves at once, not after the rest of the batch.
            notify |= io.pump(&mut st);
        }
        if st.guarded(|e| e.poll_timeout())?.is_some_and(|d| d <= now) {
            st.guarded(|e| e.handle_timeout(now))?;
        }
    }
}

struct Ready {
    waker: bool,
    watcher: bool,
    socks: Vec<bool>,
}

fn poll(io: &DriverIo, waker: &Waker, wait: Option<Duration>) -> Result<Ready> {
    use std::os::fd::AsRawFd;
    let mut fds = vec![libc::pollfd {
        fd: waker.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    }];
    let wfd = io.watcher.as_ref().map_or(-1, |w| w.as_raw_fd());
    fds.push(libc::pollfd {
        fd: wfd,
        events: libc::POLLIN,
        revents: 0,
    });
    for s in io.socks.iter().chain(io.eph.iter()) {
        fds.push(libc::pollfd {
            fd: s.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        });
    }
    let ts = wait.map(|d| {
        let d = d.min(MAX_WAIT);
        libc::timespec {
            tv_sec: d.as_secs() as libc::time_t,
            tv_nsec: d.subsec_nanos() as libc::c_long,
        }
    });
    let tsp = ts
        .as_ref()
        .map_or(std::ptr::null(), |t| t as *const libc::timespec);
    // SAFETY: fds is a live array of pollfd; tsp is null or a local.
    let rc = unsafe {
        libc::ppoll(
            fds.as_mut_ptr(),
            fds.len() as libc::nfds_t,
            tsp,
            std::ptr::null(),
        )
    };
    if rc < 0 {
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(io_err("poll", e));
        }
        for f in &mut fds {
            f.revents = 0;
        }
    }
    let hit = |f: &libc::pollfd| f.revents & (libc::POLLIN | libc::POLLERR | libc::POLLHUP) != 0;
    Ok(Ready {
        waker: hit(&fds[0]),
        watcher: hit(&fds[1]),
        socks: fds[2..].iter().map(hit).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn io_with(addrs: &[&str]) -> DriverIo {
        DriverIo {
            socks: Vec::new(),
            eph: Vec::new(),
            eph_ids: VecDeque::new(),
            watcher: None,
            filter: IfaceFilter::default(),
            ifaces: vec![Interface {
                index: 2,
                name: "eth0".into(),
                addrs: addrs
                    .iter()
                    .map(|a| IfAddr {
                        addr: a.parse().unwrap(),
                        prefix_len: 24,
                    })
                    .collect(),
            }],
            joined: HashSet::new(),
            join_failed: HashSet::new(),
            sent: VecDeque::new(),
            last_scan: Instant::now(),
        }
    }

    fn from(src: &str, iface: IfIndex) -> Received {
        Received {
            iface,
            src: src.parse().unwrap(),
            multicast: true,
        }
    }

    /// Multicast loopback is on (another stack on this host must hear us);
    /// our own looped-back packets are recognised and dropped.
    #[test]
    fn own_echo_table() {
        let mut io = io_with(&["198.18.0.1", "fe80::1"]);
        io.send(&Transmit {
            iface: 2,
            dst: Family::V4.group(),
            payload: b"ours".to_vec(),
            from_ephemeral: false,
        });
        let unicast = b"unicast".to_vec();
        io.send(&Transmit {
            iface: 2,
            dst: "198.18.0.2:5353".parse().unwrap(),
            payload: unicast,
            from_ephemeral: false,
        });
        let rows = [
            // (source, payload, own echo?)
            ("198.18.0.1:5353", &b"ours"[..], true),
            ("[fe80::1]:5353", &b"ours"[..], true),
            ("198.18.0.1:5353", &b"another stack on this host"[..], false),
            ("198.18.0.2:5353", &b"ours"[..], false),
            ("198.18.0.1:40000", &b"ours"[..], false),
            ("198.18.0.1:5353", &b"unicast"[..], false),
        ];
        for (src, data, want) in rows {
            assert_eq!(io.is_own_echo(&from(src, 2), data), want, "{src} {data:?}");
        }
    }

    #[test]
    fn own_echo_is_forgotten() {
        let mut io = io_with(&["198.18.0.1"]);
        let t0 = Instant::now();
        io.remember_sent(b"old", t0);
        io.remember_sent(b"new", t0 + ECHO_WINDOW + Duration::from_millis(1));
        assert!(!io.is_own_echo(&from("198.18.0.1:5353", 2), b"old"));
        assert!(io.is_own_echo(&from("198.18.0.1:5353", 2), b"new"));
    }

    /// A response header (QR set) with `id`, padded to 12 bytes.
    fn response(id: u16) -> Vec<u8> {
        let mut h = vec![0u8; 12];
        h[..2].copy_from_slice(&id.to_be_bytes());
        h[2] = 0x84; // QR, AA
        h
    }

    /// RFC 6762 s6.7: the ephemeral socket takes only responses echoing
    /// the ID of a query it sent, within the window.
    #[test]
    fn ephemeral_socket_takes_only_answers_to_its_queries() {
        let mut io = io_with(&["198.18.0.1"]);
        let t0 = Instant::now();
        io.remember_eph_id(0x1234, t0);
        let mut query = response(0x1234);
        query[2] = 0;
        let rows: [(&str, Vec<u8>, bool); 5] = [
            ("answer echoing our ID", response(0x1234), true),
            ("another ID", response(0x4321), false),
            ("ID 0 (a multicast-style response)", response(0), false),
            ("a query, not a response", query, false),
            (
                "shorter than a header",
                response(0x1234)[..11].to_vec(),
                false,
            ),
        ];
        for (what, data, want) in rows {
            assert_eq!(io.takes_on_ephemeral(&data), want, "{what}");
        }
        // Past the window the ID is forgotten (at the next send).
        io.remember_eph_id(0x5678, t0 + LEGACY_ANSWER_WINDOW + Duration::from_millis(1));
        assert!(!io.takes_on_ephemeral(&response(0x1234)));
        assert!(io.takes_on_ephemeral(&response(0x5678)));
    }

    #[test]
    fn packets_from_other_interfaces_are_not_ours_to_serve() {
        let io = io_with(&["198.18.0.1"]);
        assert!(io.serves(&from("198.18.0.2:5353", 2)));
        assert!(!io.serves(&from("198.18.0.2:5353", 3)), "unknown interface");
        assert!(
            !io.serves(&from("[fe80::2]:5353", 2)),
            "family not in use there"
        );
    }
}

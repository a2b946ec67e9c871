//! The driver's rounds: send what the engine queued, poll the sockets with
//! the engine's deadline as timeout, receive, feed the engine, record its
//! events. The driver thread runs rounds until the engine closes; a
//! one-shot lookup with no thread runs them on the caller's thread until
//! its answer is in (`Mdns::resolve`).

use std::collections::VecDeque;
use std::hash::{Hash, Hasher};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::super::iface::Watcher;
use super::super::socket::{MdnsSocket, Waker};
use super::super::*;
use super::net::Net;
use super::{
    io_err, poisoned, Life, Shared, State, ECHO_WINDOW, IFACE_POLL_FALLBACK, LEGACY_ANSWER_WINDOW,
    MAX_WAIT,
};
use crate::error::{panic_text, Result};
use crate::wire::MAX_PACKET;

/// What the driver keeps between rounds (whoever runs them).
pub(super) struct DriverIo {
    /// IDs of the queries sent from an ephemeral socket, to take only
    /// their answers there.
    eph_ids: VecDeque<(u16, Instant)>,
    /// Interface changes (netlink); opened with the thread.
    pub(super) watcher: Option<Watcher>,
    /// Hashes of multicast payloads we sent, to drop their loopback copies.
    sent: VecDeque<(u64, Instant)>,
    buf: Vec<u8>,
    /// Rounds in a row with a deadline already past (see `round`).
    spins: u32,
}

fn payload_hash(p: &[u8]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    p.hash(&mut h);
    h.finish()
}

/// Datagrams read from one socket per round.
const PER_SOCKET: usize = 256;

/// Packets fed to the engine per hold of the state lock.
const FEED_SLICE: usize = 32;

fn lock(shared: &Shared) -> MutexGuard<'_, State> {
    shared.state.lock().unwrap_or_else(PoisonError::into_inner)
}

impl DriverIo {
    pub(super) fn new() -> DriverIo {
        DriverIo {
            eph_ids: VecDeque::new(),
            watcher: None,
            sent: VecDeque::new(),
            buf: Vec::new(),
            spins: 0,
        }
    }

    /// Send what the engine queued and record its events. Returns whether
    /// an event was recorded (then waiters must be woken).
    fn pump(&mut self, st: &mut State) -> bool {
        let mut events = false;
        loop {
            let mut busy = false;
            while let Ok(Some(t)) = st.guarded(|e| e.poll_transmit()) {
                busy = true;
                self.send(&mut st.net, &t);
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

    fn send(&mut self, net: &mut Net, t: &Transmit) {
        if t.payload.len() > MAX_PACKET {
            return; // RFC 6762 s17
        }
        let fam = Family::of(&t.dst.ip());
        // RFC 6762 s5.1: a one-shot query leaves from the ephemeral port;
        // without that socket, from 5353 (answered then like any query).
        let eph = t.from_ephemeral && net.ensure_eph(fam).is_ok();
        if !eph {
            // An unopenable socket: the packet is lost like on a dead link.
            let _ = net.ensure_listen(fam);
        }
        let sockets = Arc::clone(&net.sockets);
        let sock = if eph {
            sockets.eph(fam)
        } else {
            sockets.listen(fam)
        };
        if let Some(sock) = sock {
            // An interface that just went away: the send fails, nothing to do.
            let _ = sock.send_from(t, net.v4_source(t.iface));
        }
        self.record(t, eph, Instant::now());
    }

    /// Remember what a sent packet needs remembered: a multicast payload
    /// (its loopback copy is ours), the ID of a one-shot query.
    fn record(&mut self, t: &Transmit, from_eph: bool, now: Instant) {
        if t.dst.ip().is_multicast() {
            self.remember_sent(&t.payload, now);
        }
        if from_eph && t.payload.len() >= 2 {
            self.remember_eph_id(u16::from_be_bytes([t.payload[0], t.payload[1]]), now);
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
    fn is_own_echo(&self, net: &Net, from: &Received, data: &[u8]) -> bool {
        if from.src.port() != MDNS_PORT || self.sent.is_empty() {
            return false;
        }
        net.is_our_address(&from.src.ip()) && {
            let h = payload_hash(data);
            self.sent.iter().any(|(s, _)| *s == h)
        }
    }
}

pub(super) fn thread_main(shared: Arc<Shared>, mut io: DriverIo) {
    // The engine's namespace, whichever thread started the driver.
    lock(&shared).net.ns.enter();
    let mut notify = false;
    let outcome = catch_unwind(AssertUnwindSafe(|| loop {
        match round(&shared, &mut io, None, &mut notify, |st| {
            st.stop || matches!(st.life, Life::Failed(_))
        }) {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            Err(e) => return Err(e),
        }
    }));
    let mut st = lock(&shared);
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(e)) => st.life = Life::Failed(poisoned(&e.to_string())),
        Err(p) => {
            st.life = Life::Failed(poisoned(&format!(
                "the mDNS thread panicked: {}",
                panic_text(&*p)
            )))
        }
    }
    shared.notify(&st);
}

/// One round. `inline`: run on a caller's thread (no watcher; a waker
/// only when a cancel token may end the wait), waiting at most until the
/// given instant. Ok(true) when `done` held at
/// the start of the round (after sending and recording events).
///
/// `notify`: whether waiters have something new to see, carried across
/// rounds. Waking them only then matters under CPU starvation: a woken
/// waiter (`ironic-mdns register` keeps one in wait_lost) that is
/// preempted while it re-takes the lock stalls the driver until the
/// scheduler runs it again, once per round, i.e. per received batch in a
/// query storm.
pub(super) fn round(
    shared: &Shared,
    io: &mut DriverIo,
    inline: Option<Instant>,
    notify: &mut bool,
    done: impl Fn(&State) -> bool,
) -> Result<bool> {
    let (deadline, sockets, scanned) = {
        let mut st = lock(shared);
        *notify |= io.pump(&mut st);
        // A caller's thread driving its own lookup has nobody to wake.
        if std::mem::take(notify) && inline.is_none() {
            shared.notify(&st);
        }
        if done(&st) {
            return Ok(true);
        }
        let d = st.guarded(|e| e.poll_timeout())?;
        (d, Arc::clone(&st.net.sockets), st.net.scanned)
    };
    // Without netlink, interface changes are found by a slow re-read.
    let rescan_due =
        (inline.is_none() && io.watcher.is_none()).then_some(scanned + IFACE_POLL_FALLBACK);
    let deadline = [deadline, rescan_due, inline].into_iter().flatten().min();
    let now = Instant::now();
    let mut wait = deadline.map(|d| d.saturating_duration_since(now));
    // A deadline the engine keeps in the past must not spin a core.
    io.spins = if wait == Some(Duration::ZERO) {
        io.spins + 1
    } else {
        0
    };
    if io.spins > 100 {
        wait = Some(Duration::from_millis(1));
    }
    let open = sockets.open_now();
    // Inline, the waker exists only when a cancel token may need to end
    // this caller's wait (`Mdns::resolve`).
    let waker = shared.waker.get();
    let ready = poll(&open, waker, io.watcher.as_ref(), wait)?;

    // Read without the lock; feed under it.
    if io.buf.len() < MAX_PACKET {
        io.buf = vec![0u8; MAX_PACKET];
    }
    // Each ready socket is read up to PER_SOCKET datagrams (a flood on one
    // cannot starve the others), IPv6 before IPv4, and handled in that
    // order. A dual-stack asker is served by its first answer, so under
    // load one family's backlog served whole before the other's serves
    // every asker sooner than alternating, which spends half the work on
    // second answers to askers already served. IPv6 goes first as in
    // Avahi: its answer's neighbour solicitation goes to a group only the
    // asker joined, where the IPv4 answer's ARP request is a broadcast
    // every host on the link handles (docs/DESIGN.md, "A backlog of
    // queries"; BENCHMARKS.md, boot storm).
    let kinds: Vec<(Family, bool)> = open.iter().map(|(s, e)| (s.family(), *e)).collect();
    let mut packets = Vec::new();
    for i in read_order(&kinds, &ready.socks) {
        let (s, ephemeral) = &open[i];
        for _ in 0..PER_SOCKET {
            match s.recv(&mut io.buf) {
                Ok(Some((n, _))) if *ephemeral && !io.takes_on_ephemeral(&io.buf[..n]) => {}
                Ok(Some((n, from))) => packets.push((from, io.buf[..n].to_vec())),
                Ok(None) | Err(_) => break,
            }
        }
    }
    if let (true, Some(w)) = (ready.waker, waker) {
        w.drain();
    }
    let changed = ready.watcher && io.watcher.as_ref().is_some_and(|w| w.drain());
    let now = Instant::now();
    let mut st = lock(shared);
    // Signature windows follow the wall clock, which may be set (NTP)
    // while we run.
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let _ = st.guarded(|e| e.set_wall_clock(now, wall));
    if changed || rescan_due.is_some_and(|d| now >= d) {
        if let Some(list) = st.net.rescan(now) {
            let _ = st.guarded(|e| e.set_interfaces(now, list));
            *notify = true; // waiters look at the interfaces
        }
    }
    for (i, (from, data)) in packets.into_iter().enumerate() {
        // A backlog (a flood) must not keep callers off the state for a
        // whole batch: they get the lock between slices.
        if i % FEED_SLICE == FEED_SLICE - 1 {
            drop(st);
            st = lock(shared);
        }
        if !st.net.serves(&from) {
            continue;
        }
        if io.is_own_echo(&st.net, &from, &data) {
            st.guarded(|e| e.handle_own_echo(now, from, &data))?;
        } else {
            st.guarded(|e| e.handle_packet(now, from, &data))?;
        }
        // Each answer leaves at once, not after the rest of the batch.
        *notify |= io.pump(&mut st);
        // A caller driving its own lookup (a one-shot engine, which has
        // that caller alone) stops at the answer: the rest of the batch,
        // the same answer by the other family and its multicast copies,
        // would only be parsed (and, under a trust policy, checked) for a
        // cache that is dropped with the engine.
        if inline.is_some() && done(&st) {
            return Ok(true);
        }
    }
    if st.guarded(|e| e.poll_timeout())?.is_some_and(|d| d <= now) {
        st.guarded(|e| e.handle_timeout(now))?;
    }
    Ok(false)
}

/// The ready sockets (by their `(family, ephemeral)`), in the order they
/// are read and their packets handled: ephemeral ones (answers to our own
/// one-shot queries) first, then IPv6 before IPv4 (see `round`).
fn read_order(kinds: &[(Family, bool)], ready: &[bool]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..kinds.len()).filter(|&i| ready[i]).collect();
    order.sort_by_key(|&i| (!kinds[i].1, kinds[i].0 == Family::V4));
    order
}

struct Ready {
    waker: bool,
    watcher: bool,
    socks: Vec<bool>,
}

fn poll(
    socks: &[(&MdnsSocket, bool)],
    waker: Option<&Waker>,
    watcher: Option<&Watcher>,
    wait: Option<Duration>,
) -> Result<Ready> {
    use std::os::fd::AsRawFd;
    // A negative fd is ignored by poll(2): absent waker / watcher.
    let fd_of = |fd: Option<i32>| libc::pollfd {
        fd: fd.unwrap_or(-1),
        events: libc::POLLIN,
        revents: 0,
    };
    let mut fds = vec![
        fd_of(waker.map(|w| w.as_raw_fd())),
        fd_of(watcher.map(|w| w.as_raw_fd())),
    ];
    fds.extend(socks.iter().map(|(s, _)| fd_of(Some(s.as_raw_fd()))));
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

    /// A driver and the interface table it serves (no socket: these tests
    /// never send).
    fn io_with(addrs: &[&str]) -> (DriverIo, Net) {
        let mut net = Net::new(Default::default(), super::super::net::NetNs::here())
            .expect("interface table");
        net.ifaces = vec![Interface {
            index: 2,
            name: "eth0".into(),
            addrs: addrs
                .iter()
                .map(|a| IfAddr {
                    addr: a.parse().unwrap(),
                    prefix_len: 24,
                })
                .collect(),
        }];
        (DriverIo::new(), net)
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
        let (mut io, net) = io_with(&["198.18.0.1", "fe80::1"]);
        let now = Instant::now();
        let multicast = Transmit {
            iface: 2,
            dst: Family::V4.group(),
            payload: b"ours".to_vec(),
            from_ephemeral: false,
        };
        io.record(&multicast, false, now);
        let unicast = Transmit {
            dst: "198.18.0.2:5353".parse().unwrap(),
            payload: b"unicast".to_vec(),
            ..multicast
        };
        io.record(&unicast, false, now);
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
            let got = io.is_own_echo(&net, &from(src, 2), data);
            assert_eq!(got, want, "{src} {data:?}");
        }
    }

    #[test]
    fn own_echo_is_forgotten() {
        let (mut io, net) = io_with(&["198.18.0.1"]);
        let t0 = Instant::now();
        io.remember_sent(b"old", t0);
        io.remember_sent(b"new", t0 + ECHO_WINDOW + Duration::from_millis(1));
        assert!(!io.is_own_echo(&net, &from("198.18.0.1:5353", 2), b"old"));
        assert!(io.is_own_echo(&net, &from("198.18.0.1:5353", 2), b"new"));
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
        let (mut io, _) = io_with(&["198.18.0.1"]);
        let t0 = Instant::now();
        io.record(
            &Transmit {
                iface: 2,
                dst: Family::V4.group(),
                payload: response(0x1234),
                from_ephemeral: true,
            },
            true,
            t0,
        );
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

    /// A backlog is read ephemeral sockets first, then IPv6, then IPv4;
    /// sockets with nothing to read are skipped.
    #[test]
    fn backlog_read_order_is_ephemeral_then_ipv6_then_ipv4() {
        use Family::{V4, V6};
        // As open_now lists them: ephemeral v4, v6, then 5353 v4, v6.
        let kinds = [(V4, true), (V6, true), (V4, false), (V6, false)];
        assert_eq!(read_order(&kinds, &[true; 4]), vec![1, 0, 3, 2]);
        assert_eq!(read_order(&kinds, &[false, false, true, true]), vec![3, 2]);
        assert_eq!(read_order(&kinds, &[true, false, true, false]), vec![0, 2]);
        assert!(read_order(&kinds, &[false; 4]).is_empty());
    }

    #[test]
    fn packets_from_other_interfaces_are_not_ours_to_serve() {
        let (_, net) = io_with(&["198.18.0.1"]);
        assert!(net.serves(&from("198.18.0.2:5353", 2)));
        assert!(
            !net.serves(&from("198.18.0.2:5353", 3)),
            "unknown interface"
        );
        assert!(
            !net.serves(&from("[fe80::2]:5353", 2)),
            "family not in use there"
        );
    }
}

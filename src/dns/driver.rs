//! The thin blocking driver of an [`Exchange`]: a connected UDP socket per
//! attempt (a fresh ephemeral port each time, RFC 5452 s9.2), and TCP with
//! the two-byte length prefix (RFC 1035 s4.2.2) when the exchange asks.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::exchange::{Exchange, ExchangeError, Transport};
use super::message::Response;
use super::tsig::Key;

/// Seconds since the epoch (TSIG time).
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// What a caller checks in an answer before taking it (e.g. that it
/// carries DNSSEC signatures): an Err discards it like a forged datagram
/// and the exchange keeps waiting ([`Exchange::refuse_answer`]).
pub type Accept<'a> = &'a dyn Fn(&Response) -> Result<(), String>;

/// Run one exchange to its end. With `accept`, the exchange is strict
/// ([`Exchange::strict`]) and only answers it accepts end it.
pub fn run(
    request: Vec<u8>,
    servers: &[SocketAddr],
    attempts: u32,
    per_attempt: Duration,
    key: Option<&Key>,
    cancel: Option<&AtomicBool>,
    accept: Option<Accept<'_>>,
) -> Result<Response, ExchangeError> {
    // The handle closing, or the caller's cancel token (crate::cancel).
    let cancelled =
        || cancel.is_some_and(|c| c.load(Ordering::SeqCst)) || crate::cancel::triggered();
    let mut x = Exchange::new(
        request,
        servers,
        attempts,
        per_attempt,
        key,
        Instant::now(),
        unix_now(),
    );
    if accept.is_some() {
        x.strict();
    }
    let mut udp: Option<(SocketAddr, UdpSocket)> = None;
    let mut buf = vec![0u8; 65535];
    loop {
        match (x.take_result(), accept) {
            (Some(Ok(resp)), Some(check)) => match check(&resp) {
                Ok(()) => return Ok(resp),
                Err(why) => {
                    x.refuse_answer(Instant::now(), why);
                    continue;
                }
            },
            (Some(r), _) => return r,
            (None, _) => {}
        }
        if cancelled() {
            return Err(ExchangeError::Cancelled);
        }
        if let Some(t) = x.poll_transmit() {
            match t.transport {
                Transport::Udp => match udp_socket(t.server).and_then(|s| {
                    s.send(&t.bytes)?;
                    Ok(s)
                }) {
                    Ok(s) => udp = Some((t.server, s)),
                    Err(e) => x.handle_io_error(Instant::now(), e.to_string()),
                },
                Transport::Tcp => {
                    udp = None;
                    let deadline = x.poll_timeout().unwrap_or_else(Instant::now);
                    match tcp_exchange(t.server, &t.bytes, deadline, &cancelled) {
                        Ok(bytes) => x.handle_response(
                            Instant::now(),
                            unix_now(),
                            t.server,
                            Transport::Tcp,
                            &bytes,
                        ),
                        Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                            x.handle_timeout(deadline.max(Instant::now()))
                        }
                        Err(e) => x.handle_io_error(Instant::now(), format!("over TCP: {e}")),
                    }
                }
            }
            continue;
        }
        let Some(deadline) = x.poll_timeout() else {
            continue;
        };
        let now = Instant::now();
        if now >= deadline {
            x.handle_timeout(now);
            continue;
        }
        let Some((server, sock)) = &udp else {
            // Nothing in flight (TCP finished above): wait out the attempt.
            std::thread::sleep((deadline - now).min(SLICE));
            x.handle_timeout(Instant::now());
            continue;
        };
        // In slices, so that a cancel is seen soon.
        let _ = sock.set_read_timeout(Some((deadline - now).min(SLICE)));
        match sock.recv(&mut buf) {
            Ok(n) => {
                let server = *server;
                x.handle_response(
                    Instant::now(),
                    unix_now(),
                    server,
                    Transport::Udp,
                    &buf[..n],
                )
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                x.handle_timeout(Instant::now())
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            // ICMP port unreachable: nothing listens there.
            Err(e) => x.handle_io_error(Instant::now(), e.to_string()),
        }
    }
}

/// Longest sleep between two looks at the cancel flag.
const SLICE: Duration = Duration::from_millis(20);

/// A UDP socket on an ephemeral port, connected to `server` (the kernel
/// then drops datagrams from any other address, RFC 5452 s9.1).
fn udp_socket(server: SocketAddr) -> std::io::Result<UdpSocket> {
    let local: SocketAddr = match server {
        SocketAddr::V4(_) => SocketAddr::from(([0, 0, 0, 0], 0)),
        SocketAddr::V6(_) => SocketAddr::from(([0u16; 8], 0)),
    };
    let s = UdpSocket::bind(local)?;
    s.connect(server)?;
    Ok(s)
}

/// One message over TCP, all within `deadline`.
fn tcp_exchange(
    server: SocketAddr,
    msg: &[u8],
    deadline: Instant,
    cancelled: &dyn Fn() -> bool,
) -> std::io::Result<Vec<u8>> {
    let left = || {
        deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::TimedOut))
    };
    let mut s = TcpStream::connect_timeout(&server, left()?)?;
    s.set_nodelay(true)?;
    let len = u16::try_from(msg.len())
        .map_err(|_| std::io::Error::other("message longer than 65535 bytes"))?;
    let mut out = Vec::with_capacity(msg.len() + 2);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(msg);
    s.set_write_timeout(Some(left()?))?;
    s.write_all(&out)?;
    let mut read_exact = |buf: &mut [u8]| -> std::io::Result<()> {
        let mut got = 0;
        while got < buf.len() {
            if cancelled() {
                return Err(std::io::ErrorKind::Interrupted.into());
            }
            s.set_read_timeout(Some(left()?.min(SLICE)))?;
            match s.read(&mut buf[got..]) {
                Ok(0) => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "the server closed the TCP connection",
                    ))
                }
                Ok(n) => got += n,
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock
                            | std::io::ErrorKind::TimedOut
                            | std::io::ErrorKind::Interrupted
                    ) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    };
    let mut len = [0u8; 2];
    read_exact(&mut len)?;
    let mut resp = vec![0u8; u16::from_be_bytes(len) as usize];
    read_exact(&mut resp)?;
    Ok(resp)
}

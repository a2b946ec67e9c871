//! The `dns_exchange` target: the sans-IO exchange (`dns::exchange`) on a
//! fake clock, fed the requests and answers recorded from BIND and Knot
//! (`src/dns/exchange/*.recorded`), changed, re-signed or replaced by the
//! fuzzer, with timeouts and socket errors between them. Read-only use of
//! the exchange's API.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::dns::exchange::{Exchange, Transport};
use crate::dns::tsig::{self, Key};
use crate::wire;

use super::Input;

const RECORDED: [&str; 2] = [
    include_str!("../dns/exchange/bind.recorded"),
    include_str!("../dns/exchange/knot.recorded"),
];

/// The recorded (request, answer) pairs, both servers.
pub(super) fn recorded_pairs() -> Vec<(Vec<u8>, Vec<u8>)> {
    let unhex = |s: &str| -> Vec<u8> {
        (0..s.len() / 2)
            .filter_map(|i| u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok())
            .collect()
    };
    let mut out = Vec::new();
    for text in RECORDED {
        let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        for p in lines.chunks(2) {
            if let [q, a] = p {
                if let (Some(q), Some(a)) = (q.strip_prefix("> "), a.strip_prefix("< ")) {
                    out.push((unhex(q), unhex(a)));
                }
            }
        }
    }
    out
}

/// The key the recordings were made with (tests/dns/servers.rs).
fn recorded_key() -> Key {
    Key::from_line("hmac-sha256:upd.example.test:JBxtZjUj9elM77XPItQmCv/XMXwLT6a45tRAkXj8noc=")
        .unwrap_or_else(|e| panic!("the recorded key: {e}"))
}

/// A signed message without its TSIG record, its MAC and its time.
fn unsigned(bytes: &[u8]) -> Option<(Vec<u8>, Vec<u8>, u64)> {
    let &(start, t, end) = wire::record_offsets(bytes)?.last()?;
    if t != tsig::T_TSIG {
        return None;
    }
    let rd = wire::read_name(bytes, start)?.1 + 10;
    let p = wire::read_name(bytes, rd)?.1;
    let time = bytes
        .get(p..p + 6)?
        .iter()
        .fold(0u64, |t, &b| (t << 8) | b as u64);
    let mac_len = u16::from_be_bytes([*bytes.get(p + 8)?, *bytes.get(p + 9)?]) as usize;
    let mac = bytes.get(p + 10..p + 10 + mac_len)?.to_vec();
    if p + 10 + mac_len > end {
        return None;
    }
    let mut u = bytes[..start].to_vec();
    let ar = u16::from_be_bytes([u[10], u[11]]).checked_sub(1)?;
    u[10..12].copy_from_slice(&ar.to_be_bytes());
    Some((u, mac, time))
}

/// Input: which recorded request (byte), whether signed (bit), attempts
/// (1-4), then steps until the input ends: 0 an answer (source, transport,
/// what: the recorded answer, changed at one byte, or the fuzzer's bytes
/// signed with the key, or raw), 1 time passes (ms, u16) and the timeout
/// runs, 2 a socket error.
pub fn dns_exchange(data: &[u8]) {
    let mut inp = Input::new(data);
    let pairs = recorded_pairs();
    assert!(!pairs.is_empty(), "recorded exchanges");
    let (req_signed, answer) = &pairs[inp.u8() as usize % pairs.len()];
    let Some((request, req_mac, signed_at)) = unsigned(req_signed) else {
        panic!("a recorded request is not signed");
    };
    let key = recorded_key();
    let with_key = inp.u8() & 1 == 1;
    let attempts = 1 + (inp.u8() % 4) as u32;
    let servers: [SocketAddr; 2] = [
        SocketAddr::from(([198, 18, 0, 1], 53)),
        "[fd00:99::1]:53".parse().unwrap_or_else(|_| unreachable!()),
    ];
    let stranger = SocketAddr::from(([198, 18, 0, 66], 53));
    let per = Duration::from_millis(500);
    let t0 = Instant::now();
    let mut now = t0;
    let unix = signed_at;
    let k = with_key.then_some(&key);
    let mut x = Exchange::new(request.clone(), &servers, attempts, per, k, now, unix);
    let mut udp_sent = 0u32;
    // Where the current attempt waits for its answer.
    let mut current: Option<(SocketAddr, Transport)> = None;
    let mut finished = false;
    let mut steps = 0;
    loop {
        while let Some(tx) = x.poll_transmit() {
            assert!(!finished, "a transmit after the result");
            assert!(servers.contains(&tx.server), "sent to {}", tx.server);
            if with_key {
                // Signed by us, the same request each time (the MAC chain).
                let (plain, mac, _) =
                    unsigned(&tx.bytes).unwrap_or_else(|| panic!("an unsigned transmit"));
                assert_eq!(plain, request);
                assert_eq!(mac, req_mac, "signed as recorded");
            } else {
                assert_eq!(tx.bytes, request);
            }
            if tx.transport == Transport::Udp {
                udp_sent += 1;
                assert!(udp_sent <= attempts, "{udp_sent} attempts of {attempts}");
            }
            current = Some((tx.server, tx.transport));
        }
        match x.poll_timeout() {
            None => finished = true,
            Some(t) => assert!(!finished && t > now, "a deadline not in the future"),
        }
        if finished || inp.is_empty() || steps >= 64 {
            break;
        }
        steps += 1;
        match inp.u8() % 3 {
            0 => {
                let (from, transport) = match (inp.u8() % 4, current) {
                    (0, _) | (_, None) => (stranger, Transport::Udp),
                    (1, Some((s, _))) => (s, Transport::Tcp),
                    (_, Some(c)) => c,
                };
                let bytes = match inp.u8() % 4 {
                    0 => answer.clone(),
                    1 => {
                        let mut a = answer.clone();
                        let at = inp.u16() as usize % a.len().max(1);
                        if let Some(b) = a.get_mut(at) {
                            *b ^= inp.u8().max(1);
                        }
                        a
                    }
                    2 => {
                        let body = inp.chunk();
                        match tsig::sign_with(body, &key, unix, Some(&req_mac), 0) {
                            Ok(s) => s.bytes,
                            Err(_) => body.to_vec(),
                        }
                    }
                    _ => inp.chunk().to_vec(),
                };
                x.handle_response(now, unix, from, transport, &bytes);
                if x.poll_timeout().is_none() {
                    // Only an answer from the server and transport asked
                    // ends the exchange.
                    assert_eq!(Some((from, transport)), current, "answered by another");
                    assert!(x.poll_transmit().is_none(), "a transmit after the result");
                    if let Some(Ok(r)) = x.take_result() {
                        assert_eq!(r.authenticated, with_key, "authenticated");
                        assert_eq!(r.id, u16::from_be_bytes([request[0], request[1]]));
                    }
                    return;
                }
            }
            1 => {
                now += Duration::from_millis(inp.u16() as u64);
                x.handle_timeout(now);
            }
            _ => x.handle_io_error(now, "fuzzed socket error".into()),
        }
    }
    if finished {
        assert!(x.poll_transmit().is_none() && x.poll_timeout().is_none());
    }
}

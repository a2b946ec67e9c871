//! One request/response exchange with unicast DNS servers, sans-IO (the
//! engine's pattern, after quinn-proto): fed the time and the bytes that
//! arrive, it says what to send, where, over which transport, and when to
//! be woken; no socket, no clock, no thread inside.
//!
//! - Attempts: `attempts` tries in all, each waiting at most `per_attempt`;
//!   the servers are taken in turn (attempt i goes to server i mod n).
//! - UDP first with EDNS0; a response with TC set moves the same attempt
//!   to TCP on the same server (RFC 7766 s5, RFC 1035 s4.2.1).
//! - A response must come from the server asked, carry our ID, be a
//!   response (QR) with our opcode, and echo our question (RFC 5452 s4.1
//!   and s9.1); with a TSIG key it must also carry a valid MAC chained to
//!   our request's MAC, within the fudge window (RFC 8945 s5.3). Anything
//!   else is discarded and kept in mind: the attempt goes on waiting for
//!   the genuine answer until its deadline (RFC 8945 s5.4: a forged
//!   datagram must not end the wait), and only when every attempt ended
//!   without one does the result say why (the last discarded datagram).
//! - A TSIG error answer (BADKEY, BADSIG, BADTIME) is treated the same
//!   way: an unsigned one can come from anybody, so it is the reason
//!   reported only if nothing genuine arrives.
//! - Strict (a TSIG key, or `strict()` for DNSSEC validation): when the
//!   attempts end with discarded datagrams and no genuine answer, the
//!   result is `Refused` (an authentication failure), also for datagrams
//!   that did not parse: a forged datagram must never read as "no answer".
//! - Each attempt signs the request afresh (TSIG time signed = the
//!   attempt's start), so a late attempt is not refused as stale.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::message::{self, Response};
use super::tsig::{self, Key, VerifyError};

/// How a message travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Udp,
    Tcp,
}

/// A message to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transmit {
    pub server: SocketAddr,
    pub transport: Transport,
    pub bytes: Vec<u8>,
}

/// Why an exchange failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExchangeError {
    /// No answer at all within every attempt.
    Timeout {
        servers: Vec<SocketAddr>,
        attempts: u32,
        per_attempt: Duration,
    },
    /// Answers came, none acceptable: forged, mismatched or badly signed.
    Refused { server: SocketAddr, why: String },
    /// The server refused our TSIG signature (RFC 8945 s5.2).
    KeyRejected { server: SocketAddr, why: String },
    /// Answers came, none parsable.
    Malformed { server: SocketAddr, why: String },
    /// A socket error (no route, connection refused, ...).
    Io { server: SocketAddr, why: String },
    /// The request itself could not be made.
    Request(String),
    /// Ended by `Client::cancel` (the handle is closing).
    Cancelled,
}

impl std::fmt::Display for ExchangeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExchangeError::Timeout {
                servers,
                attempts,
                per_attempt,
            } => {
                let list: Vec<String> = servers.iter().map(|s| s.to_string()).collect();
                write!(
                    f,
                    "timed out: no answer from {} in {attempts} attempt(s) of {:.1} s",
                    list.join(", "),
                    per_attempt.as_secs_f64()
                )
            }
            ExchangeError::Refused { server, why } => {
                write!(f, "response from {server} refused: {why}")
            }
            ExchangeError::KeyRejected { server, why } => write!(f, "{server}: {why}"),
            ExchangeError::Malformed { server, why } => {
                write!(f, "unusable response from {server}: {why}")
            }
            ExchangeError::Io { server, why } => write!(f, "cannot talk to {server}: {why}"),
            ExchangeError::Request(why) => write!(f, "{why}"),
            ExchangeError::Cancelled => write!(f, "cancelled: the handle is closing"),
        }
    }
}

/// The exchange's state machine.
#[derive(Debug)]
pub struct Exchange {
    servers: Vec<SocketAddr>,
    attempts: u32,
    per_attempt: Duration,
    key: Option<Key>,
    /// The request unsigned (signed afresh at each attempt).
    request: Vec<u8>,
    /// The signed (or plain) request as sent in the current attempt.
    wire: Vec<u8>,
    /// The monotonic time and wall clock (seconds) at the start, for the
    /// TSIG time of later attempts.
    clock: (Instant, u64),
    /// A discarded answer is an authentication failure at the end.
    strict: bool,
    /// The last datagram discarded, kept in mind as the reason to report
    /// if no genuine answer arrives.
    discarded: Option<ExchangeError>,
    id: u16,
    opcode: u8,
    question: Option<(String, u16, u16)>,
    request_mac: Vec<u8>,
    /// Attempts started so far.
    started: u32,
    server: SocketAddr,
    transport: Transport,
    deadline: Instant,
    pending: Option<Transmit>,
    /// The reason the last attempt ended early, if it did.
    last_failure: Option<ExchangeError>,
    result: Option<Result<Response, ExchangeError>>,
}

impl Exchange {
    /// Start: `request` is the unsigned message (ID inside); `now` is the
    /// monotonic time, `unix_now` the wall clock in seconds (for TSIG).
    pub fn new(
        request: Vec<u8>,
        servers: &[SocketAddr],
        attempts: u32,
        per_attempt: Duration,
        key: Option<&Key>,
        now: Instant,
        unix_now: u64,
    ) -> Exchange {
        let mut x = Exchange {
            servers: servers.to_vec(),
            attempts: attempts.max(1),
            per_attempt,
            key: key.cloned(),
            request: Vec::new(),
            wire: Vec::new(),
            clock: (now, unix_now),
            strict: key.is_some(),
            discarded: None,
            id: 0,
            opcode: 0,
            question: message::question_of(&request),
            request_mac: Vec::new(),
            started: 0,
            server: SocketAddr::from(([0, 0, 0, 0], 0)),
            transport: Transport::Udp,
            deadline: now,
            pending: None,
            last_failure: None,
            result: None,
        };
        if request.len() < 12 || servers.is_empty() {
            x.result = Some(Err(ExchangeError::Request(if servers.is_empty() {
                "no DNS server to ask (set dns_servers, or give /etc/resolv.conf a nameserver)"
                    .into()
            } else {
                "request shorter than a DNS header".into()
            })));
            return x;
        }
        x.id = u16::from_be_bytes([request[0], request[1]]);
        x.opcode = (request[2] >> 3) & 0x0F;
        x.request = request;
        x.start_attempt(now);
        x
    }

    /// Strict: discarded answers end as an authentication failure (set
    /// when the answers must validate by DNSSEC).
    pub fn strict(&mut self) {
        self.strict = true;
    }

    /// The wall clock at `now`, from the one given at the start.
    fn unix_at(&self, now: Instant) -> u64 {
        self.clock.1 + now.saturating_duration_since(self.clock.0).as_secs()
    }

    fn start_attempt(&mut self, now: Instant) {
        if self.started >= self.attempts {
            let err = match self.discarded.take() {
                // A datagram that did not parse, under a key: not a
                // missing answer but a forged or broken one.
                Some(ExchangeError::Malformed { server, why }) if self.strict => {
                    ExchangeError::Refused {
                        server,
                        why: format!("unusable response: {why}"),
                    }
                }
                Some(e) => e,
                None => self.last_failure.take().unwrap_or(ExchangeError::Timeout {
                    servers: self.servers.clone(),
                    attempts: self.attempts,
                    per_attempt: self.per_attempt,
                }),
            };
            self.result = Some(Err(err));
            self.pending = None;
            return;
        }
        // RFC 8945 s5.2.3: signed now, not when the exchange began.
        match &self.key {
            Some(k) => match tsig::sign(&self.request, k, self.unix_at(now)) {
                Ok(s) => {
                    self.wire = s.bytes;
                    self.request_mac = s.mac;
                }
                Err(e) => {
                    self.result = Some(Err(ExchangeError::Request(e.to_string())));
                    self.pending = None;
                    return;
                }
            },
            None => self.wire = self.request.clone(),
        }
        self.server = self.servers[self.started as usize % self.servers.len()];
        self.started += 1;
        // A request too large for a UDP datagram goes over TCP at once.
        self.transport = if self.wire.len() > 512 {
            Transport::Tcp
        } else {
            Transport::Udp
        };
        self.deadline = now + self.per_attempt;
        self.pending = Some(Transmit {
            server: self.server,
            transport: self.transport,
            bytes: self.wire.clone(),
        });
    }

    /// The next message to send, if any.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.pending.take()
    }

    /// When to call `handle_timeout` (None once finished).
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.result {
            Some(_) => None,
            None => Some(self.deadline),
        }
    }

    /// Time passed: end the attempt when its deadline is reached.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.result.is_none() && now >= self.deadline {
            self.start_attempt(now);
        }
    }

    /// A socket error for the current attempt: try the next one.
    pub fn handle_io_error(&mut self, now: Instant, why: String) {
        if self.result.is_some() {
            return;
        }
        self.last_failure = Some(ExchangeError::Io {
            server: self.server,
            why,
        });
        self.start_attempt(now);
    }

    /// Bytes arrived from `from` over `transport`.
    pub fn handle_response(
        &mut self,
        now: Instant,
        unix_now: u64,
        from: SocketAddr,
        transport: Transport,
        bytes: &[u8],
    ) {
        if self.result.is_some() {
            return;
        }
        // RFC 5452 s9.1: only the address and port we asked; a datagram
        // from elsewhere is not even a failure of this attempt.
        if from != self.server || transport != self.transport {
            return;
        }
        match self.check(unix_now, bytes) {
            Ok(resp) if resp.truncated && transport == Transport::Udp => {
                // RFC 7766 s5: retry the same server over TCP.
                self.transport = Transport::Tcp;
                self.deadline = now + self.per_attempt;
                self.pending = Some(Transmit {
                    server: self.server,
                    transport: Transport::Tcp,
                    bytes: self.wire.clone(),
                });
            }
            Ok(resp) => self.result = Some(Ok(resp)),
            // Discarded, kept in mind; the attempt keeps waiting.
            Err(e) => self.discard(now, e),
        }
    }

    fn discard(&mut self, now: Instant, e: ExchangeError) {
        self.discarded = Some(e);
        if now >= self.deadline {
            self.start_attempt(now);
        }
    }

    /// The caller refused the answer the exchange gave (e.g. it carries no
    /// DNSSEC signature): it is discarded like a forged datagram and the
    /// exchange goes on waiting in the same attempt.
    pub fn refuse_answer(&mut self, now: Instant, why: String) {
        if !matches!(self.result, Some(Ok(_)) | None) {
            return;
        }
        self.result = None;
        let server = self.server;
        self.discard(now, ExchangeError::Refused { server, why });
    }

    fn check(&self, unix_now: u64, bytes: &[u8]) -> Result<Response, ExchangeError> {
        let server = self.server;
        // Texts taken from the response (names) are escaped.
        let refused = |why: String| ExchangeError::Refused {
            server,
            why: message::printable(&why),
        };
        if bytes.len() < 12 {
            return Err(ExchangeError::Malformed {
                server,
                why: format!("{} bytes, shorter than a DNS header", bytes.len()),
            });
        }
        let id = u16::from_be_bytes([bytes[0], bytes[1]]);
        if id != self.id {
            return Err(refused(format!(
                "wrong message ID {id:#06x}, we sent {:#06x}",
                self.id
            )));
        }
        if bytes[2] & 0x80 == 0 || (bytes[2] >> 3) & 0x0F != self.opcode {
            return Err(refused("not a response to our request (QR/opcode)".into()));
        }
        // RFC 5452 s4.1: the question must be ours. A server may leave the
        // question out of an error response (FORMERR, NOTIMP).
        let q = message::question_of(bytes);
        let rcode = bytes[3] & 0x0F;
        let qd = u16::from_be_bytes([bytes[4], bytes[5]]);
        if qd != 0 && q.is_none() {
            return Err(ExchangeError::Malformed {
                server,
                why: "its question section does not parse".into(),
            });
        }
        if !(qd == 0 && rcode != 0) && q != self.question {
            return Err(refused(match q {
                Some((n, t, _)) => format!("it answers another question ({n} type {t})"),
                None => "its question section is not ours".into(),
            }));
        }
        let (plain, authenticated) = match &self.key {
            None => (bytes.to_vec(), false),
            Some(k) => match tsig::verify(bytes, k, &self.request_mac, unix_now) {
                Ok(stripped) => (stripped, true),
                Err(VerifyError::ServerRefused(code)) => {
                    return Err(ExchangeError::KeyRejected {
                        server,
                        why: format!(
                            "the server rejected our TSIG key {} ({}, RCODE {})",
                            k.name(),
                            tsig::tsig_error_name(code),
                            message::rcode_name(rcode as u16)
                        ),
                    })
                }
                Err(e) => return Err(refused(e.to_string())),
            },
        };
        let mut resp = message::parse_response(&plain).map_err(|why| ExchangeError::Malformed {
            server,
            why: why.to_string(),
        })?;
        resp.authenticated = authenticated;
        Ok(resp)
    }

    /// The result, once there is one.
    #[cfg(test)]
    pub fn result(&self) -> Option<&Result<Response, ExchangeError>> {
        self.result.as_ref()
    }

    /// Take the result out.
    pub fn take_result(&mut self) -> Option<Result<Response, ExchangeError>> {
        self.result.take()
    }
}

#[cfg(test)]
mod tests;

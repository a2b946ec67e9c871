//! Unicast DNS-SD (RFC 6763 over ordinary DNS) and TSIG-signed RFC 2136
//! UPDATE publishing, for sites where multicast does not reach (routed
//! provisioning networks) and where answers must be authenticated.
//! See docs/DNS.md.
//!
//! - `tsig`: keys, RFC 8945 signing and checking (RustCrypto HMAC).
//! - `message`: queries and UPDATEs through simple-dns; responses.
//! - `exchange`: one request/response exchange, sans-IO.
//! - `driver`: the blocking UDP/TCP driver of an exchange.
//! - `lookup`: SRV/TXT/A/AAAA lookup, PTR browse, browse domains.
//! - `secure`: DNSSEC validation of the answers a lookup uses, when
//!   `Config.trust` is set.
//! - `publish`: registration, refresh and removal by UPDATE.
//! - `settings`: the options (`domain`, `dns_servers`, `tsig_key*`,
//!   `discovery`) and resolv.conf.

pub(crate) mod driver;
pub(crate) mod exchange;
pub(crate) mod lookup;
pub(crate) mod message;
pub(crate) mod publish;
pub(crate) mod secure;
pub(crate) mod settings;
pub(crate) mod tsig;

pub(crate) use self::publish::Planned;
pub use self::publish::Publisher;
pub use self::settings::{Discovery, DnsSettings};

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::config::Config;
use crate::error::{Error, Result};

/// What the DNS side of a `Zeroconf` needs: the settings resolved (domain
/// as an absolute name, servers, key) and the attempts.
#[derive(Clone, Debug)]
pub struct Client {
    /// Absolute, lowercase, with the trailing dot.
    pub domain: String,
    pub servers: Vec<SocketAddr>,
    pub key: Option<tsig::Key>,
    pub lookup_attempts: u32,
    pub registration_attempts: u32,
    pub timeout: Duration,
    /// DNSSEC validation of lookups (None: off; no DO bit, no DNSKEY
    /// query).
    pub trust: Option<crate::trust::TrustPolicy>,
    /// Set by `cancel`: exchanges in progress end with Error::Closed.
    cancelled: Arc<AtomicBool>,
}

impl Client {
    /// The DNS client of `config`, or None when it uses mDNS only.
    pub fn from_config(config: &Config) -> Result<Option<Client>> {
        let s = &config.dns;
        if !s.discovery.uses_dns(s) {
            return Ok(None);
        }
        if s.domain.is_empty() {
            return Err(Error::InvalidArgument(format!(
                "discovery {} needs a domain (option [mdns] domain)",
                s.discovery.as_str()
            )));
        }
        let servers = if s.dns_servers.is_empty() {
            settings::resolv_conf_servers(
                &std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default(),
            )
        } else {
            s.dns_servers.clone()
        };
        if servers.is_empty() {
            return Err(Error::InvalidArgument(
                "no DNS server: set dns_servers, /etc/resolv.conf lists no nameserver".into(),
            ));
        }
        Ok(Some(Client {
            domain: settings::absolute(&s.domain),
            servers,
            key: s.tsig.clone(),
            lookup_attempts: config.lookup_attempts,
            registration_attempts: config.registration_attempts,
            timeout: config.lookup_timeout,
            trust: config.trust.clone(),
            cancelled: Arc::new(AtomicBool::new(false)),
        }))
    }

    /// End every exchange in progress (and later ones but withdrawals)
    /// with Error::Closed within about 50 ms: `zc_close` from another
    /// thread wakes a lookup at once.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
    }

    /// One exchange with the configured servers (ended by `cancel`).
    pub(crate) fn exchange(
        &self,
        request: Vec<u8>,
        attempts: u32,
    ) -> std::result::Result<message::Response, exchange::ExchangeError> {
        self.run(request, attempts, Some(&self.cancelled), None)
    }

    /// `exchange`, taking only an answer `accept` accepts (others are
    /// discarded and the wait goes on; strict, see `Exchange::strict`).
    pub(crate) fn exchange_accepting(
        &self,
        request: Vec<u8>,
        attempts: u32,
        accept: driver::Accept<'_>,
    ) -> std::result::Result<message::Response, exchange::ExchangeError> {
        self.run(request, attempts, Some(&self.cancelled), Some(accept))
    }

    /// One exchange that `cancel` does not end: the withdrawal at close.
    pub(crate) fn exchange_to_end(
        &self,
        request: Vec<u8>,
        attempts: u32,
    ) -> std::result::Result<message::Response, exchange::ExchangeError> {
        self.run(request, attempts, None, None)
    }

    fn run(
        &self,
        request: Vec<u8>,
        attempts: u32,
        cancel: Option<&AtomicBool>,
        accept: Option<driver::Accept<'_>>,
    ) -> std::result::Result<message::Response, exchange::ExchangeError> {
        let key = self.key.as_ref();
        driver::run(
            request,
            &self.servers,
            attempts,
            self.timeout,
            key,
            cancel,
            accept,
        )
    }
}

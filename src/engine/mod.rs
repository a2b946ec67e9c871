//! The multicast-DNS engine (RFC 6762 / RFC 6763).
//!
//! Two halves:
//! * a sans-IO core ([`core::Engine`]): fed `(now, interface, source, bytes)`,
//!   it returns packets to send ([`Transmit`]), events ([`Event`]) and its
//!   next deadline. No sockets, no clock, no threads: every RFC timer is
//!   testable with a fake clock.
//! * a driver ([`driver::Mdns`]): one thread owning the sockets
//!   ([`socket`]) and the clock, feeding the core; the blocking API the
//!   `Zeroconf` object stands on.
//!
//! This file holds the types shared by both halves: the contract between
//! the core, the driver and the layers above.

// The internals are the crate's own: simple-dns types stay out of the
// public API. Exported: the driver API and the plain data types below.
pub(crate) mod cache;
pub(crate) mod core;
pub(crate) mod driver;
pub(crate) mod iface;
pub(crate) mod querier;
pub(crate) mod responder;
mod rng;
pub(crate) mod signed;
pub(crate) mod socket;
mod timers;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

pub(crate) use self::core::Engine;
pub use self::driver::{Mdns, MdnsOptions};
/// The mDNS socket, for the two-host socket tests; not a supported API.
#[doc(hidden)]
pub use self::socket::MdnsSocket;
pub(crate) use crate::service::{is_link_local_v6, IfIndex, ResolvedService, ServiceInfo};
/// For the engine's unit tests, which build services and answers.
#[cfg(test)]
pub(crate) use crate::service::{ScopedAddr, Ttls};

/// The mDNS port (RFC 6762 s3).
pub const MDNS_PORT: u16 = 5353;
/// IPv4 mDNS group (RFC 6762 s3).
pub const MDNS_V4: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 251);
/// IPv6 mDNS group (RFC 6762 s3).
pub const MDNS_V6: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0xfb);
/// Default bound of the record cache.
pub const DEFAULT_CACHE_CAPACITY: usize = 4096;

/// Address family of an interface's mDNS traffic; every packet goes out once
/// per family (224.0.0.251 and ff02::fb).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    pub fn of(addr: &IpAddr) -> Family {
        match addr {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }
    /// The multicast group and port of this family.
    pub fn group(self) -> SocketAddr {
        match self {
            Family::V4 => SocketAddr::new(IpAddr::V4(MDNS_V4), MDNS_PORT),
            Family::V6 => SocketAddr::new(IpAddr::V6(MDNS_V6), MDNS_PORT),
        }
    }
}

/// One address of an interface, with its prefix (to tell on-link sources,
/// RFC 6762 s11).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IfAddr {
    pub addr: IpAddr,
    pub prefix_len: u8,
}

impl IfAddr {
    /// Whether `other` lies in this address's subnet.
    pub fn contains(&self, other: &IpAddr) -> bool {
        match (self.addr, other) {
            (IpAddr::V4(a), IpAddr::V4(b)) => {
                let bits = self.prefix_len.min(32) as u32;
                if bits == 0 {
                    return true;
                }
                let mask = u32::MAX << (32 - bits);
                (u32::from(a) & mask) == (u32::from(*b) & mask)
            }
            (IpAddr::V6(a), IpAddr::V6(b)) => {
                let bits = self.prefix_len.min(128) as u32;
                if bits == 0 {
                    return true;
                }
                let mask = u128::MAX << (128 - bits);
                (u128::from(a) & mask) == (u128::from(*b) & mask)
            }
            _ => false,
        }
    }
}

/// A multicast-capable interface as the driver sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interface {
    pub index: IfIndex,
    pub name: String,
    /// The addresses in use for mDNS on this interface (already filtered by
    /// the caller's `interfaces` option). An interface with no IPv4 address
    /// gets no IPv4 traffic, likewise IPv6.
    pub addrs: Vec<IfAddr>,
}

impl Interface {
    pub fn has_family(&self, f: Family) -> bool {
        self.addrs.iter().any(|a| Family::of(&a.addr) == f)
    }

    /// RFC 6762 s11: `src` lies in a subnet of this interface, or is IPv6
    /// link-local (on-link by definition).
    pub(crate) fn on_link(&self, src: &IpAddr) -> bool {
        match src {
            IpAddr::V6(v6) if is_link_local_v6(v6) => true,
            _ => self.addrs.iter().any(|a| a.contains(src)),
        }
    }
}

/// Handle of a registration inside one engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RegId(pub u64);
/// Handle of a one-shot query inside one engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct QueryId(pub u64);
/// Handle of a browse inside one engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BrowseId(pub u64);

/// What the core tells its driver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// Probing finished without conflict; the records are announced and
    /// answered from now on (RFC 6762 s8.3).
    Registered(RegId),
    /// Another host owns one of the registration's unique records, found
    /// while probing (s8.1/s8.2) or, once registered, when the re-probe that
    /// follows a conflicting record is answered (s9). The registration is
    /// withdrawn (no goodbye for records that are not ours to bye) and
    /// forgotten; never renamed.
    Conflict(RegId),
    /// A one-shot query completed: SRV, TXT and at least one address of the
    /// target are known.
    Resolved {
        query: QueryId,
        service: ResolvedService,
    },
    /// A one-shot query reached its deadline without a complete answer.
    QueryTimedOut(QueryId),
    /// With a trust policy: a one-shot query reached its deadline without
    /// a complete validated answer, and records for it were heard that did
    /// not validate; `why` says what the furthest-going one lacked.
    QueryRefused { query: QueryId, why: String },
    /// A browse saw a new instance (or one whose records changed).
    BrowseAdded {
        browse: BrowseId,
        service: ResolvedService,
    },
    /// A browse saw an instance go (goodbye or TTL expiry).
    BrowseRemoved { browse: BrowseId, instance: String },
    /// All goodbye packets of a registration have been handed out through
    /// `poll_transmit` (after `unregister`).
    Withdrawn(RegId),
}

/// A packet for the driver to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transmit {
    /// Interface to send on.
    pub iface: IfIndex,
    /// Multicast group (`Family::group()`) or a unicast destination.
    pub dst: SocketAddr,
    pub payload: Vec<u8>,
    /// Send from the driver's ephemeral-port socket of the family instead
    /// of the port-5353 one: the first packet of a one-shot query (RFC 6762
    /// s5.1, s6.7). Responders answer it by unicast straight to that
    /// socket, where no other mDNS stack of this host (sharing 5353 with
    /// SO_REUSEPORT) can take the answer. False for everything else.
    pub from_ephemeral: bool,
}

/// Where a received packet came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Received {
    pub iface: IfIndex,
    pub src: SocketAddr,
    /// Whether the destination address was the multicast group (false for a
    /// unicast-addressed packet, RFC 6762 s11 applies).
    pub multicast: bool,
}

/// Limits and knobs of the core.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineConfig {
    /// Records kept at most in the cache; the oldest-expiring go first.
    pub cache_capacity: usize,
    /// Sign every response with this key (`responder/sign.rs`). None: the
    /// responder does not sign.
    pub signing_key: Option<crate::trust::SigningKeyRef>,
    /// Validate every answer against these anchors; only what validates
    /// is cached and returned (`querier/validate.rs`). None: no
    /// validation.
    pub trust: Option<crate::trust::TrustPolicy>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            cache_capacity: DEFAULT_CACHE_CAPACITY,
            signing_key: None,
            trust: None,
        }
    }
}

/// Errors of engine commands.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum EngineError {
    #[error("invalid name {0:?}: {1}")]
    InvalidName(String, &'static str),
    #[error("invalid record: {0}")]
    InvalidRecord(&'static str),
    #[error("a service named {0:?} is already registered here")]
    Duplicate(String),
    #[error("no such registration")]
    UnknownRegistration,
    /// The signing key cannot sign this registration's records.
    #[error("{0}")]
    Signing(String),
}

impl From<crate::wire::RecordError> for EngineError {
    fn from(e: crate::wire::RecordError) -> Self {
        match e {
            crate::wire::RecordError::InvalidName(n, why) => EngineError::InvalidName(n, why),
            crate::wire::RecordError::InvalidRecord(why) => EngineError::InvalidRecord(why),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_link_table() {
        let i = Interface {
            index: 2,
            name: "eth0".into(),
            addrs: vec![IfAddr {
                addr: "198.18.0.1".parse().unwrap(),
                prefix_len: 24,
            }],
        };
        // (source, on-link?): RFC 6762 s11
        let rows = [
            ("198.18.0.2", true),
            ("198.18.1.2", false),
            ("fe80::9", true),
            ("fd00:99::2", false),
        ];
        for (a, want) in rows {
            assert_eq!(i.on_link(&a.parse().unwrap()), want, "{a}");
        }
    }
}

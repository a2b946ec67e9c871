//! The service model both transports share as peers: what is published
//! (an instance with its SRV target, port, TXT strings, addresses and
//! TTLs) and what a lookup resolves (the same, with each address's
//! interface). The mDNS engine and the unicast DNS publisher and lookups
//! all speak these types; the URL rules in [`crate::endpoint`] build and
//! read them.

use std::net::{IpAddr, Ipv6Addr};

/// Kernel interface index.
pub type IfIndex = u32;

/// RFC 4291 s2.5.6: fe80::/10 is IPv6 link-local unicast. The one home of
/// this rule: an address of this range means a different host on each
/// link, so it needs its interface (RFC 4007 zones) wherever it is used.
pub fn is_link_local_v6(a: &Ipv6Addr) -> bool {
    (a.segments()[0] & 0xffc0) == 0xfe80
}

/// Record TTLs used when publishing (the reference's: python-zeroconf).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ttls {
    pub ptr: u32,
    pub srv: u32,
    pub txt: u32,
    pub addr: u32,
}

impl Default for Ttls {
    fn default() -> Self {
        // RFC 6762 s10: 120 s for records with a host name, 75 min otherwise.
        Ttls {
            ptr: 4500,
            srv: 120,
            txt: 4500,
            addr: 120,
        }
    }
}

/// A service instance to publish.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceInfo {
    /// Full instance name, e.g. `baremetal._openstack._tcp.local.`
    /// (trailing dot). The first label may hold any UTF-8 (RFC 6763 s4.3).
    pub instance: String,
    /// Service type, e.g. `_openstack._tcp.local.`
    pub service_type: String,
    /// SRV target with trailing dot: the instance name itself,
    /// `<host>.local.`, or an ordinary DNS host name.
    pub target: String,
    pub port: u16,
    /// TXT strings, byte-exact, in order. Empty = zero-length RDATA (as the
    /// reference sends it).
    pub txt: Vec<Vec<u8>>,
    /// A/AAAA records published for `target`, whatever its name.
    pub addresses: Vec<IpAddr>,
    pub ttls: Ttls,
}

/// An address learnt from the network, with the interface it came in on
/// (needed for IPv6 link-local scope).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ScopedAddr {
    pub addr: IpAddr,
    pub iface: IfIndex,
}

/// A service instance as resolved by the querier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedService {
    pub instance: String,
    /// SRV target, with trailing dot.
    pub target: String,
    pub port: u16,
    /// TXT strings as received, byte-exact (empty when the TXT RDATA was
    /// zero-length or a single empty string).
    pub txt: Vec<Vec<u8>>,
    /// A/AAAA of the target, in the order first received.
    pub addresses: Vec<ScopedAddr>,
}

/// What one lookup attempt (over mDNS or unicast DNS) got.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Lookup {
    Found(ResolvedService),
    /// Not there; why (e.g. "SRV x: NXDOMAIN (no such name)"), or empty
    /// when the network just did not answer.
    Missing(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_local_v6_is_fe80_slash_10() {
        // (address, link-local?)
        let rows = [
            ("fe80::1", true),
            ("febf:ffff::1", true),
            ("fec0::1", false),
            ("fe7f::1", false),
            ("fd00:99::1", false),
            ("::ffff:169.254.0.1", false),
        ];
        for (a, want) in rows {
            assert_eq!(is_link_local_v6(&a.parse().unwrap()), want, "{a}");
        }
    }
}

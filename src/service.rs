//! The service model both transports share as peers: what is published
//! (an instance with its SRV target, port, TXT strings, addresses and
//! TTLs) and what a lookup resolves (the same, with each address's
//! interface). The mDNS engine and the unicast DNS publisher and lookups
//! all speak these types; the URL rules in [`crate::endpoint`] build and
//! read them.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};

use crate::error::{Error, Result};

/// The DNS-SD service type of every OpenStack service (SPEC 1).
pub const SERVICE_TYPE: &str = "_openstack._tcp.local.";

/// Longest DNS label (RFC 1035 s2.3.4).
const MAX_LABEL: usize = 63;

/// An OpenStack service type (SPEC 1): the instance's first DNS label,
/// taken literally (RFC 6763 s4.3: any UTF-8, dots and backslashes
/// included), the same for registering, looking up and browsing. Checked
/// once, where it enters (`ServiceType::new`), then carried as it is to
/// the mDNS engine and to the unicast DNS publisher and lookups.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ServiceType(String);

impl ServiceType {
    /// Refused, as the reference refuses them: empty, longer than 63
    /// bytes (RFC 1035 s2.3.4), or holding an ASCII control character
    /// (0x00-0x1F, 0x7F).
    pub fn new(service_type: &str) -> Result<ServiceType> {
        let bad = |why: &str| {
            Err(Error::InvalidArgument(format!(
                "invalid service type {service_type:?}: {why}"
            )))
        };
        if service_type.is_empty() {
            return bad("it is empty");
        }
        if service_type.len() > MAX_LABEL {
            return bad(&format!("longer than {MAX_LABEL} bytes"));
        }
        if service_type.chars().any(|c| c.is_ascii_control()) {
            return bad("it holds an ASCII control character");
        }
        Ok(ServiceType(service_type.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `<service_type>._openstack._tcp.local.` (SPEC 1) as the publisher's
    /// instance text: the service type literally, then [`SERVICE_TYPE`]
    /// (the engine takes everything before it as one label).
    pub fn mdns_instance(&self) -> String {
        format!("{}.{SERVICE_TYPE}", self.0)
    }

    /// The same instance as DNS presentation text (RFC 1035 s5.1), which
    /// the querier parses: `.` and `\` in the service type escaped, so it
    /// stays one label.
    pub fn mdns_query_name(&self) -> String {
        let mut s = String::with_capacity(self.0.len() + SERVICE_TYPE.len() + 4);
        for c in self.0.chars() {
            if c == '.' || c == '\\' {
                s.push('\\');
            }
            s.push(c);
        }
        s.push('.');
        s.push_str(SERVICE_TYPE);
        s
    }
}

impl fmt::Display for ServiceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

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
    /// Every RRset used (SRV, TXT, the addresses) validated against the
    /// trust policy (`Config::trust`); false when validation is off.
    pub validated: bool,
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

//! In-process route-source lookup and address choice (SPEC 4.2).

use std::net::{IpAddr, SocketAddr, SocketAddrV6};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::error::{Error, Result};
use crate::service::{is_link_local_v6, ScopedAddr};

/// Which source address this host would use to reach an address.
pub trait RouteLookup {
    /// The route's source address, or None when there is no route.
    fn source_for(&self, addr: &ScopedAddr) -> Option<IpAddr>;
}

/// The kernel's answer, in-process: connect a UDP socket (no packet is
/// sent by a UDP connect) and read the local address it was given.
#[derive(Clone, Copy, Debug, Default)]
pub struct KernelRoutes;

/// Destination port for the route lookup (discard; nothing is sent).
const PROBE_PORT: u16 = 9;

impl RouteLookup for KernelRoutes {
    fn source_for(&self, addr: &ScopedAddr) -> Option<IpAddr> {
        let (domain, dst): (Domain, SocketAddr) = match addr.addr {
            IpAddr::V4(a) => (Domain::IPV4, SocketAddr::new(IpAddr::V4(a), PROBE_PORT)),
            IpAddr::V6(a) => {
                // A link-local destination needs its interface (RFC 4007 s6).
                let scope = if is_link_local_v6(&a) { addr.iface } else { 0 };
                (
                    Domain::IPV6,
                    SocketAddr::V6(SocketAddrV6::new(a, PROBE_PORT, 0, scope)),
                )
            }
        };
        // connect(2) binds the socket itself: no bind call.
        let sock = Socket::new(domain, Type::DGRAM.cloexec(), Some(Protocol::UDP)).ok()?;
        sock.connect(&SockAddr::from(dst)).ok()?;
        let local = sock.local_addr().ok()?.as_socket()?.ip();
        if local.is_unspecified() {
            return None;
        }
        Some(local)
    }
}

/// Whether an address is link-local: 169.254/16 or fe80::/10, as the
/// reference's `ipaddress.is_link_local`.
pub fn is_link_local(addr: &IpAddr) -> bool {
    match addr {
        IpAddr::V4(a) => a.is_link_local(),
        IpAddr::V6(a) => is_link_local_v6(a),
    }
}

/// Python-like list rendering of addresses, for messages:
/// `['::2', '192.168.1.1']`.
pub fn addresses_text(addrs: &[ScopedAddr]) -> String {
    let items: Vec<String> = addrs.iter().map(|a| format!("'{}'", a.addr)).collect();
    format!("[{}]", items.join(", "))
}

/// Choose the address to use (SPEC 4.2): in order, skip loopback ones when
/// `skip_loopback`, take the first with a route (a link-local route source
/// counts as none when `skip_link_local`), else the first non-skipped one
/// with a warning through `warn`. Addresses learnt from A/AAAA records are
/// always valid IP addresses, so the reference's "skip an invalid address"
/// has nothing to skip here.
pub fn choose_address(
    service_type: &str,
    addrs: &[ScopedAddr],
    skip_loopback: bool,
    skip_link_local: bool,
    routes: &dyn RouteLookup,
    warn: &mut dyn FnMut(&str),
) -> Result<ScopedAddr> {
    let mut fallback = None;
    for a in addrs {
        if skip_loopback && a.addr.is_loopback() {
            continue;
        }
        let routed = match routes.source_for(a) {
            Some(src) => !(skip_link_local && is_link_local(&src)),
            None => false,
        };
        if routed {
            return Ok(*a);
        }
        fallback.get_or_insert(*a);
    }
    match fallback {
        Some(a) => {
            warn(&format!(
                "none of addresses {} seem routable, using {}",
                addresses_text(addrs),
                a.addr
            ));
            Ok(a)
        }
        None => Err(Error::NoValidAddress(format!(
            "none of the addresses {} for service {service_type} are valid",
            addresses_text(addrs)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    const IN_NETNS: &str = "IRONICMDNS_TEST_IN_NETNS";
    const ME: &str = "route::tests::kernel_routes_in_a_private_namespace";

    fn at(addr: &str) -> ScopedAddr {
        ScopedAddr {
            addr: addr.parse().unwrap(),
            iface: 0,
        }
    }

    /// The real lookup, run in a fresh network namespace (the test re-runs
    /// itself under `unshare -rn`): nothing there but `lo`.
    #[test]
    fn kernel_routes_in_a_private_namespace() {
        if std::env::var_os(IN_NETNS).is_none() {
            let can = Command::new("unshare")
                .args(["-rn", "true"])
                .status()
                .is_ok_and(|s| s.success());
            if !can {
                assert!(
                    std::env::var_os("IRONICMDNS_REQUIRE_NETNS").is_none(),
                    "no private network namespace"
                );
                eprintln!(
                    "SKIPPED: no private network namespace (unshare -rn); route lookup not tested"
                );
                return;
            }
            let exe = std::env::current_exe().unwrap();
            let status = Command::new("unshare")
                .args(["-rn", "--"])
                .arg(exe)
                .args(["--exact", ME, "--test-threads=1", "--nocapture"])
                .env(IN_NETNS, "1")
                .status()
                .unwrap();
            assert!(
                status.success(),
                "route lookup in a private namespace: {status}"
            );
            return;
        }
        let routes = KernelRoutes;
        // lo down: no route anywhere
        assert_eq!(routes.source_for(&at("127.0.0.1")), None);
        assert_eq!(routes.source_for(&at("198.18.0.5")), None);
        let up = Command::new("ip")
            .args(["link", "set", "lo", "up"])
            .status()
            .unwrap();
        assert!(up.success());
        // rows: destination -> route source
        let rows: &[(&str, Option<&str>)] = &[
            ("127.0.0.1", Some("127.0.0.1")),
            ("127.0.0.9", Some("127.0.0.1")),
            ("::1", Some("::1")),
            ("198.18.0.5", None),
            ("fd00:99::2", None),
            ("fe80::1", None),
        ];
        for (dst, src) in rows {
            let want = src.map(|s| s.parse::<IpAddr>().unwrap());
            assert_eq!(routes.source_for(&at(dst)), want, "{dst}");
        }
    }
}

//! Heavy days on the link, in the lab (tests/common/lab.rs): goodbyes that
//! survive a lost packet (RFC 6762 s10.1) and interfaces that come and go
//! by the dozen. The boot storm and the query flood run from
//! `bench/storm.py` (scripts/tests.d/50-storm.sh runs them at CI size).

#[macro_use]
mod common;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use ironicmdns::engine::{Mdns, MdnsOptions};
use ironicmdns::service::{ServiceInfo, Ttls};

#[path = "heavy_net/churn.rs"]
mod churn;
#[path = "heavy_net/goodbye.rs"]
mod goodbye;

const TY: &str = "_openstack._tcp.local.";
const INSTANCE: &str = "baremetal._openstack._tcp.local.";
const PROBE_LIMIT: Duration = Duration::from_secs(5);

/// `baremetal` as ironic registers an IP-literal endpoint.
fn baremetal(addresses: Vec<IpAddr>) -> ServiceInfo {
    ServiceInfo {
        instance: INSTANCE.into(),
        service_type: TY.into(),
        target: INSTANCE.into(),
        port: 6385,
        txt: vec![b"path=/baremetal".to_vec()],
        addresses,
        ttls: Ttls::default(),
    }
}

fn start(only: Option<Vec<IpAddr>>) -> Mdns {
    Mdns::start(MdnsOptions {
        interfaces: only,
        cache_capacity: None,
        ..Default::default()
    })
    .expect("Mdns::start")
}

/// A listener on the current host's port 5353 (shared), joined to both mDNS
/// groups on `ifindex`; reads time out after 50 ms.
fn listener(ifindex: u32, v6: bool) -> socket2::Socket {
    use socket2::{Domain, Socket, Type};
    let (dom, any): (Domain, SocketAddr) = if v6 {
        (Domain::IPV6, (Ipv6Addr::UNSPECIFIED, 5353).into())
    } else {
        (Domain::IPV4, (Ipv4Addr::UNSPECIFIED, 5353).into())
    };
    let s = Socket::new(dom, Type::DGRAM, None).unwrap();
    s.set_reuse_address(true).unwrap();
    s.set_reuse_port(true).unwrap();
    if v6 {
        s.set_only_v6(true).unwrap();
    }
    s.bind(&any.into()).unwrap();
    if v6 {
        s.join_multicast_v6(&"ff02::fb".parse().unwrap(), ifindex)
            .unwrap();
    } else {
        s.join_multicast_v4_n(
            &Ipv4Addr::new(224, 0, 0, 251),
            &socket2::InterfaceIndexOrAddress::Index(ifindex),
        )
        .unwrap();
    }
    s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    s
}

/// The index of `name` on the current host.
fn ifindex(name: &str) -> u32 {
    let c = std::ffi::CString::new(name).unwrap();
    // SAFETY: a NUL-terminated name.
    let i = unsafe { libc::if_nametoindex(c.as_ptr()) };
    assert!(i != 0, "no interface {name}");
    i
}

/// One datagram, or None after the read timeout.
fn recv_one(s: &socket2::Socket) -> Option<Vec<u8>> {
    let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); 9000];
    match s.recv(&mut buf) {
        // SAFETY: recv initialised the first n bytes.
        Ok(n) => Some(
            buf[..n]
                .iter()
                .map(|b| unsafe { b.assume_init() })
                .collect(),
        ),
        Err(_) => None,
    }
}

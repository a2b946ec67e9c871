//! The mDNS sockets.
//!
//! One UDP socket per address family, bound to port 5353 with SO_REUSEADDR
//! and SO_REUSEPORT (other mDNS stacks on the host share the port), IPv6
//! with IPV6_V6ONLY. Beside it, one ephemeral-port socket per family
//! (`open_ephemeral`), the source of one-shot queries (RFC 6762 s5.1): the
//! kernel hands a unicast answer to port 5353 to a random one of the
//! sockets sharing it, but an answer to our own ephemeral port only to us. Each joins the group on every chosen interface. The
//! receiving interface and the destination address come from IP_PKTINFO /
//! IPV6_PKTINFO (recvmsg); a multicast packet leaves through the interface
//! its `Transmit` names (IP_PKTINFO / IPV6_PKTINFO in sendmsg).
//!
//! Multicast loopback stays ON: another mDNS stack on the same host (a
//! second process, Avahi) must hear us and we it, for answers and for
//! conflict detection. Our own looped-back packets are recognised by the
//! driver (source = one of our addresses, port 5353, payload we just sent)
//! and not fed to the engine.

use std::io;
use std::mem::{size_of, zeroed};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsRawFd, RawFd};

use socket2::{Domain, InterfaceIndexOrAddress, Protocol, SockAddr, Socket, Type};

use super::*;

/// RFC 6762 s11: multicast TTL / hop limit 255.
const MCAST_TTL: u32 = 255;
/// Receive buffer asked for. A rack booting together sends hundreds of
/// queries within milliseconds, which wait here while the driver thread is
/// off CPU; the kernel default (net.core.rmem_default, 208 KiB) holds about
/// 150 small datagrams on a veth (each is charged its whole buffer). The
/// kernel caps the request at net.core.rmem_max and doubles it: on a stock
/// kernel (rmem_max 208 KiB) that is 416 KiB, else up to 2 MiB.
const RCVBUF: usize = 1 << 20;

/// Buffer room for one cmsg of `T`.
const fn cmsg_space<T>() -> usize {
    // CMSG_SPACE is not const in libc; this mirrors it (aligned header + data).
    let align = size_of::<usize>();
    let hdr = (size_of::<libc::cmsghdr>() + align - 1) & !(align - 1);
    let data = (size_of::<T>() + align - 1) & !(align - 1);
    hdr + data
}
const CMSG_BUF: usize = 64;
const _: () = assert!(cmsg_space::<libc::in6_pktinfo>() <= CMSG_BUF);

/// Aligned control-message buffer.
#[repr(C, align(8))]
struct CmsgBuf([u8; CMSG_BUF]);

/// The mDNS socket of one family.
#[derive(Debug)]
pub struct MdnsSocket {
    family: Family,
    sock: Socket,
}

fn io_ctx(what: &str, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{what}: {e}"))
}

impl MdnsSocket {
    /// Open, configure and bind the family's socket (no group joined yet).
    pub fn open(family: Family) -> io::Result<MdnsSocket> {
        MdnsSocket::open_on(family, MDNS_PORT)
    }

    /// The family's ephemeral-port socket for one-shot queries (RFC 6762
    /// s5.1): multicast TTL / hop limit 255, multicast loop (the kernel's
    /// default, left as is), sends per interface, bound to a port of the
    /// kernel's choosing, not shared, and joined to no group: it hears only
    /// the unicast answers to its own queries (s6.7). It sends only to the
    /// group and receives a few answers, so it keeps the kernel's unicast
    /// TTL and receive buffer: each option is a syscall a one-shot lookup
    /// pays.
    pub fn open_ephemeral(family: Family) -> io::Result<MdnsSocket> {
        MdnsSocket::open_on(family, 0)
    }

    fn open_on(family: Family, port: u16) -> io::Result<MdnsSocket> {
        let (domain, any) = match family {
            Family::V4 => (
                Domain::IPV4,
                SocketAddr::from((Ipv4Addr::UNSPECIFIED, port)),
            ),
            Family::V6 => (
                Domain::IPV6,
                SocketAddr::from((Ipv6Addr::UNSPECIFIED, port)),
            ),
        };
        let sock = Socket::new(
            domain,
            Type::DGRAM.nonblocking().cloexec(),
            Some(Protocol::UDP),
        )
        .map_err(|e| io_ctx("socket", e))?;
        if port == MDNS_PORT {
            sock.set_reuse_address(true)
                .map_err(|e| io_ctx("SO_REUSEADDR", e))?;
            sock.set_reuse_port(true)
                .map_err(|e| io_ctx("SO_REUSEPORT", e))?;
        }
        let listener = port == MDNS_PORT;
        if listener {
            // A smaller buffer only costs drops in a burst: not an error.
            let _ = sock.set_recv_buffer_size(RCVBUF);
        }
        let fd = sock.as_raw_fd();
        match family {
            Family::V4 => {
                sock.set_multicast_ttl_v4(MCAST_TTL)
                    .map_err(|e| io_ctx("IP_MULTICAST_TTL", e))?;
                if listener {
                    sock.set_multicast_loop_v4(true)
                        .map_err(|e| io_ctx("IP_MULTICAST_LOOP", e))?;
                }
                setsockopt_int(fd, libc::IPPROTO_IP, libc::IP_PKTINFO, 1)
                    .map_err(|e| io_ctx("IP_PKTINFO", e))?;
            }
            Family::V6 => {
                sock.set_only_v6(true)
                    .map_err(|e| io_ctx("IPV6_V6ONLY", e))?;
                sock.set_multicast_hops_v6(MCAST_TTL)
                    .map_err(|e| io_ctx("IPV6_MULTICAST_HOPS", e))?;
                if listener {
                    sock.set_multicast_loop_v6(true)
                        .map_err(|e| io_ctx("IPV6_MULTICAST_LOOP", e))?;
                }
                setsockopt_int(fd, libc::IPPROTO_IPV6, libc::IPV6_RECVPKTINFO, 1)
                    .map_err(|e| io_ctx("IPV6_RECVPKTINFO", e))?;
            }
        }
        // Unicast TTL too (the listener answers by unicast): s11 asks
        // receivers to accept only link-local traffic, and some check the
        // IP TTL / hop limit.
        if listener {
            match family {
                Family::V4 => sock.set_ttl_v4(MCAST_TTL),
                Family::V6 => sock.set_unicast_hops_v6(MCAST_TTL),
            }
            .map_err(|e| io_ctx("unicast TTL", e))?;
        }
        sock.bind(&SockAddr::from(any))
            .map_err(|e| io_ctx(&format!("bind port {port}"), e))?;
        Ok(MdnsSocket { family, sock })
    }

    pub fn family(&self) -> Family {
        self.family
    }

    /// The port bound (5353, or the ephemeral port the kernel chose).
    pub fn local_port(&self) -> io::Result<u16> {
        let a = self.sock.local_addr()?;
        a.as_socket()
            .map(|a| a.port())
            .ok_or_else(|| io::Error::other("not an IP socket"))
    }

    /// Join the group on `iface`. Already joined counts as success.
    pub fn join(&self, iface: IfIndex) -> io::Result<()> {
        let r = match self.family {
            Family::V4 => self
                .sock
                .join_multicast_v4_n(&MDNS_V4, &InterfaceIndexOrAddress::Index(iface)),
            Family::V6 => self.sock.join_multicast_v6(&MDNS_V6, iface),
        };
        match r {
            Err(e) if e.raw_os_error() == Some(libc::EADDRINUSE) => Ok(()),
            r => r,
        }
    }

    /// Leave the group on `iface` (errors ignored: the interface may be gone).
    pub fn leave(&self, iface: IfIndex) {
        let _ = match self.family {
            Family::V4 => self
                .sock
                .leave_multicast_v4_n(&MDNS_V4, &InterfaceIndexOrAddress::Index(iface)),
            Family::V6 => self.sock.leave_multicast_v6(&MDNS_V6, iface),
        };
    }

    /// Receive one datagram into `buf` (nonblocking). Ok(None): nothing
    /// pending. A datagram larger than `buf` is dropped (Ok(Some) with
    /// length 0 is never returned; truncated ones are skipped).
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<Option<(usize, Received)>> {
        loop {
            // SAFETY: zeroed sockaddr_storage / msghdr are valid values; the
            // pointers below point to locals living across the call.
            let mut from: libc::sockaddr_storage = unsafe { zeroed() };
            let mut cbuf = CmsgBuf([0; CMSG_BUF]);
            let mut iov = libc::iovec {
                iov_base: buf.as_mut_ptr().cast(),
                iov_len: buf.len(),
            };
            let mut msg: libc::msghdr = unsafe { zeroed() };
            msg.msg_name = (&mut from as *mut libc::sockaddr_storage).cast();
            msg.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            msg.msg_iov = &mut iov;
            msg.msg_iovlen = 1;
            msg.msg_control = cbuf.0.as_mut_ptr().cast();
            msg.msg_controllen = CMSG_BUF as _;
            // SAFETY: msg describes valid buffers.
            let n = unsafe { libc::recvmsg(self.sock.as_raw_fd(), &mut msg, 0) };
            if n < 0 {
                let e = io::Error::last_os_error();
                return match e.kind() {
                    io::ErrorKind::WouldBlock => Ok(None),
                    io::ErrorKind::Interrupted => continue,
                    _ => Err(e),
                };
            }
            if msg.msg_flags & libc::MSG_TRUNC != 0 {
                continue; // RFC 6762 s17: larger than we accept
            }
            let Some(src) = sockaddr_to_std(&from) else {
                continue;
            };
            // SAFETY: msg was filled by recvmsg; the cmsg macros walk its
            // control buffer within msg_controllen.
            let (iface, dst) = unsafe { pktinfo(&msg) };
            let Some(iface) = iface else { continue };
            let multicast = match dst {
                Some(IpAddr::V4(a)) => a == MDNS_V4,
                Some(IpAddr::V6(a)) => a == MDNS_V6,
                None => false,
            };
            return Ok(Some((
                n as usize,
                Received {
                    iface,
                    src,
                    multicast,
                },
            )));
        }
    }

    /// Send one packet out of `t.iface` (the interface picks the route for a
    /// multicast; a link-local unicast gets the interface as its scope).
    pub fn send(&self, t: &Transmit) -> io::Result<()> {
        self.send_from(t, None)
    }

    /// `send`, from IPv4 source address `src_v4` when given: the kernel
    /// would otherwise choose 0.0.0.0 for a multicast out of an interface
    /// whose only address has a narrower scope than the route (`lo` with
    /// 127.0.0.1), and a responder cannot answer 0.0.0.0 (RFC 6762 s6.7,
    /// s11).
    pub fn send_from(&self, t: &Transmit, src_v4: Option<Ipv4Addr>) -> io::Result<()> {
        let dst = match t.dst {
            SocketAddr::V6(d) if d.scope_id() == 0 && is_link_local_v6(d.ip()) => {
                SocketAddr::V6(SocketAddrV6::new(*d.ip(), d.port(), d.flowinfo(), t.iface))
            }
            d => d,
        };
        if Family::of(&dst.ip()) != self.family {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "transmit of the other family",
            ));
        }
        let dst = SockAddr::from(dst);
        let mut cbuf = CmsgBuf([0; CMSG_BUF]);
        let mut iov = libc::iovec {
            iov_base: t.payload.as_ptr() as *mut _,
            iov_len: t.payload.len(),
        };
        // SAFETY: zeroed msghdr is valid; all pointers point to locals that
        // outlive the sendmsg call; the cmsg is written inside cbuf.
        unsafe {
            let mut msg: libc::msghdr = zeroed();
            msg.msg_name = dst.as_ptr() as *mut _;
            msg.msg_namelen = dst.len();
            msg.msg_iov = &mut iov;
            msg.msg_iovlen = 1;
            msg.msg_control = cbuf.0.as_mut_ptr().cast();
            match self.family {
                Family::V4 => {
                    msg.msg_controllen =
                        libc::CMSG_SPACE(size_of::<libc::in_pktinfo>() as u32) as _;
                    let c = libc::CMSG_FIRSTHDR(&msg);
                    (*c).cmsg_level = libc::IPPROTO_IP;
                    (*c).cmsg_type = libc::IP_PKTINFO;
                    (*c).cmsg_len = libc::CMSG_LEN(size_of::<libc::in_pktinfo>() as u32) as _;
                    let mut info: libc::in_pktinfo = zeroed();
                    info.ipi_ifindex = t.iface as _;
                    if let Some(src) = src_v4 {
                        info.ipi_spec_dst.s_addr = u32::from(src).to_be();
                    }
                    std::ptr::write_unaligned(libc::CMSG_DATA(c) as *mut libc::in_pktinfo, info);
                }
                Family::V6 => {
                    msg.msg_controllen =
                        libc::CMSG_SPACE(size_of::<libc::in6_pktinfo>() as u32) as _;
                    let c = libc::CMSG_FIRSTHDR(&msg);
                    (*c).cmsg_level = libc::IPPROTO_IPV6;
                    (*c).cmsg_type = libc::IPV6_PKTINFO;
                    (*c).cmsg_len = libc::CMSG_LEN(size_of::<libc::in6_pktinfo>() as u32) as _;
                    let mut info: libc::in6_pktinfo = zeroed();
                    info.ipi6_ifindex = t.iface as _;
                    std::ptr::write_unaligned(libc::CMSG_DATA(c) as *mut libc::in6_pktinfo, info);
                }
            }
            loop {
                let n = libc::sendmsg(self.sock.as_raw_fd(), &msg, libc::MSG_NOSIGNAL);
                if n >= 0 {
                    return Ok(());
                }
                let e = io::Error::last_os_error();
                if e.kind() != io::ErrorKind::Interrupted {
                    return Err(e);
                }
            }
        }
    }
}

impl AsRawFd for MdnsSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }
}

fn setsockopt_int(fd: RawFd, level: i32, name: i32, val: libc::c_int) -> io::Result<()> {
    // SAFETY: an int option on our own socket.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&val as *const libc::c_int).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn sockaddr_to_std(ss: &libc::sockaddr_storage) -> Option<SocketAddr> {
    match ss.ss_family as i32 {
        libc::AF_INET => {
            // SAFETY: the family says this storage holds a sockaddr_in.
            let sin =
                unsafe { &*(ss as *const libc::sockaddr_storage as *const libc::sockaddr_in) };
            let ip = Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr));
            Some(SocketAddr::V4(SocketAddrV4::new(
                ip,
                u16::from_be(sin.sin_port),
            )))
        }
        libc::AF_INET6 => {
            // SAFETY: the family says this storage holds a sockaddr_in6.
            let sin6 =
                unsafe { &*(ss as *const libc::sockaddr_storage as *const libc::sockaddr_in6) };
            let ip = Ipv6Addr::from(sin6.sin6_addr.s6_addr);
            Some(SocketAddr::V6(SocketAddrV6::new(
                ip,
                u16::from_be(sin6.sin6_port),
                sin6.sin6_flowinfo,
                sin6.sin6_scope_id,
            )))
        }
        _ => None,
    }
}

/// The receiving interface and header destination from a received msghdr.
///
/// # Safety
/// `msg` must have been filled by a successful recvmsg.
unsafe fn pktinfo(msg: &libc::msghdr) -> (Option<IfIndex>, Option<IpAddr>) {
    let mut c = libc::CMSG_FIRSTHDR(msg);
    while !c.is_null() {
        let h = &*c;
        if h.cmsg_level == libc::IPPROTO_IP && h.cmsg_type == libc::IP_PKTINFO {
            let info: libc::in_pktinfo =
                std::ptr::read_unaligned(libc::CMSG_DATA(c) as *const libc::in_pktinfo);
            let dst = Ipv4Addr::from(u32::from_be(info.ipi_addr.s_addr));
            return (Some(info.ipi_ifindex as IfIndex), Some(IpAddr::V4(dst)));
        }
        if h.cmsg_level == libc::IPPROTO_IPV6 && h.cmsg_type == libc::IPV6_PKTINFO {
            let info: libc::in6_pktinfo =
                std::ptr::read_unaligned(libc::CMSG_DATA(c) as *const libc::in6_pktinfo);
            let dst = Ipv6Addr::from(info.ipi6_addr.s6_addr);
            return (Some(info.ipi6_ifindex as IfIndex), Some(IpAddr::V6(dst)));
        }
        c = libc::CMSG_NXTHDR(msg, c);
    }
    (None, None)
}

/// An eventfd used to wake the driver thread out of poll.
#[derive(Debug)]
pub struct Waker {
    fd: std::os::fd::OwnedFd,
}

impl Waker {
    pub fn new() -> io::Result<Waker> {
        use std::os::fd::FromRawFd;
        // SAFETY: plain eventfd(2); the descriptor is owned below.
        let raw = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a fresh descriptor we own.
        Ok(Waker {
            fd: unsafe { std::os::fd::OwnedFd::from_raw_fd(raw) },
        })
    }
    pub fn wake(&self) {
        let one: u64 = 1;
        // SAFETY: writing 8 bytes from a local.
        unsafe { libc::write(self.fd.as_raw_fd(), (&one as *const u64).cast(), 8) };
    }
    pub fn drain(&self) {
        let mut v: u64 = 0;
        // SAFETY: reading 8 bytes into a local.
        unsafe { libc::read(self.fd.as_raw_fd(), (&mut v as *mut u64).cast(), 8) };
    }
}

impl AsRawFd for Waker {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cmsg_space_matches_libc() {
        // SAFETY: pure arithmetic macros.
        unsafe {
            assert_eq!(
                cmsg_space::<libc::in_pktinfo>(),
                libc::CMSG_SPACE(size_of::<libc::in_pktinfo>() as u32) as usize
            );
            assert_eq!(
                cmsg_space::<libc::in6_pktinfo>(),
                libc::CMSG_SPACE(size_of::<libc::in6_pktinfo>() as u32) as usize
            );
        }
    }

    #[test]
    fn sockaddr_round_trip() {
        for a in ["198.18.0.1:5353", "[fe80::1%3]:5353", "[fd00:99::2]:1234"] {
            let a: SocketAddr = a.parse().unwrap();
            let sa = SockAddr::from(a);
            // SAFETY: SockAddr holds a sockaddr_storage.
            let ss = unsafe { *(sa.as_ptr() as *const libc::sockaddr_storage) };
            assert_eq!(sockaddr_to_std(&ss), Some(a));
        }
    }
}

//! A host that claims a name without probing (RFC 6762 s9), for tests of
//! what a registration does when someone else takes its name.

use std::time::Duration;

use super::lab::Lab;

/// A multicast response claiming `instance`'s SRV with other data, as a
/// host that did not probe would send it (cache-flush bit set).
pub fn conflicting_announcement(instance: &str, port: u16) -> Vec<u8> {
    use simple_dns::{rdata::RData, rdata::SRV, Name, Packet, PacketFlag, ResourceRecord, CLASS};
    let mut p = Packet::new_reply(0);
    p.set_flags(PacketFlag::AUTHORITATIVE_ANSWER);
    let mut rr = ResourceRecord::new(
        Name::new_unchecked(instance),
        CLASS::IN,
        120,
        RData::SRV(SRV {
            priority: 0,
            weight: 0,
            port,
            target: Name::new_unchecked("intruder.local"),
        }),
    );
    rr.cache_flush = true;
    p.answers.push(rr);
    p.build_bytes_vec().unwrap()
}

/// Send `pkt` to the IPv4 group `times` times, 150 ms apart, from host
/// `h`'s port 5353.
pub fn send_from(lab: &Lab, h: usize, pkt: &[u8], times: usize) {
    lab.run_on(h, || {
        let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None).unwrap();
        s.set_reuse_address(true).unwrap();
        s.set_reuse_port(true).unwrap();
        s.bind(
            &"0.0.0.0:5353"
                .parse::<std::net::SocketAddr>()
                .unwrap()
                .into(),
        )
        .unwrap();
        s.set_multicast_ttl_v4(255).unwrap();
        for i in 0..times {
            if i > 0 {
                std::thread::sleep(Duration::from_millis(150));
            }
            s.send_to(
                pkt,
                &"224.0.0.251:5353"
                    .parse::<std::net::SocketAddr>()
                    .unwrap()
                    .into(),
            )
            .unwrap();
        }
    });
}

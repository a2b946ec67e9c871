//! The `packet` target: the wire format's parser and builder.

use simple_dns::{Packet, RCODE};

use crate::wire;
use crate::wire::MAX_PACKET;

/// Parse, build, parse again: what we accept we can write, and writing
/// keeps every question and record (RFC 1035 s4.1 wire format).
pub fn packet(data: &[u8]) {
    let Ok(p) = wire::parse(data) else {
        return;
    };
    let built = wire::build(&p);
    let mut again: Vec<Packet<'static>> = Vec::new();
    for b in &built {
        assert!(b.len() <= MAX_PACKET, "built {} bytes", b.len());
        let q = wire::parse(b).unwrap_or_else(|e| panic!("cannot parse what we built: {e:?}"));
        assert_eq!(q.id(), p.id());
        assert_eq!(q.opcode(), p.opcode());
        // A non-zero RCODE may be extended by the OPT record (RFC 6891
        // s6.1.3), which we do not keep, or unknown to simple-dns
        // (`Reserved`); the engine drops every packet whose RCODE is not 0
        // (RFC 6762 s18.11). NoError must stay NoError.
        if p.rcode() == RCODE::NoError {
            assert_eq!(q.rcode(), p.rcode());
        }
        again.push(q);
    }
    if built.len() == 1 {
        let q = &again[0];
        let show = |p: &Packet<'_>| format!("{:?}", p.questions);
        assert_eq!(show(q), show(&p), "questions changed");
        for (a, b) in [
            (&q.answers, &p.answers),
            (&q.name_servers, &p.name_servers),
            (&q.additional_records, &p.additional_records),
        ] {
            assert_eq!(a, b, "records changed");
            for (x, y) in a.iter().zip(b) {
                assert_eq!((x.ttl, x.cache_flush), (y.ttl, y.cache_flush));
            }
        }
    } else {
        // A split packet (over MAX_PACKET): its answers are all kept.
        let n: usize = again.iter().map(|q| q.answers.len()).sum();
        assert_eq!(n, p.answers.len(), "answers lost in the split");
    }
}

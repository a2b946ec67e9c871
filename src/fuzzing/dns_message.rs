//! The `dns_message` target: the unicast DNS response parser, and the
//! raw readers the exchange uses before it (question, record offsets).

use crate::dns::message;
use crate::wire;

/// Any bytes as a response (`message::parse_response`, what the exchange
/// hands on after the TSIG check), and through `question_of` and
/// `record_offsets`: no panic; what parses says what the header says.
pub fn dns_message(data: &[u8]) {
    let question = message::question_of(data);
    if let Some((name, _, _)) = &question {
        assert!(name.ends_with('.'), "question name {name:?}");
        assert!(data.len() >= 12);
    }
    if let Some(recs) = wire::record_offsets(data) {
        let mut last = 12;
        for &(start, _, end) in &recs {
            assert!(
                last <= start && start < end && end <= data.len(),
                "record offsets {recs:?} of {} bytes",
                data.len()
            );
            last = end;
        }
    }
    let Ok(r) = message::parse_response(data) else {
        return;
    };
    assert_eq!(r.id, u16::from_be_bytes([data[0], data[1]]), "ID");
    // RFC 6891 s6.1.3: the low 4 bits are the header's; the OPT record
    // may only add upper bits.
    assert_eq!(r.rcode & 0x0F, (data[3] & 0x0F) as u16, "RCODE");
    assert!(r.rcode <= 0x0FFF, "RCODE {}", r.rcode);
    assert_eq!(r.truncated, data[2] & 0x02 != 0, "TC");
    assert!(!r.authenticated, "nothing checked a TSIG here");
    let counted = |at: usize| u16::from_be_bytes([data[at], data[at + 1]]) as usize;
    assert!(r.answers.len() <= counted(6), "more answers than ANCOUNT");
    assert!(
        r.authority.len() <= counted(8),
        "more authority than NSCOUNT"
    );
    assert!(
        r.additional.len() <= counted(10),
        "more additional than ARCOUNT"
    );
}

//! The `dns_tsig` target: TSIG verification (RFC 8945 s5.3) with a fixed
//! key. To reach the code after the MAC check, the target signs the
//! fuzzer's message itself with that key as a server would, then changes
//! one byte or none and verifies; it also verifies the raw bytes.

use crate::dns::tsig::{self, Algorithm, Key, FUDGE};
use crate::wire;

use super::Input;

/// The fixed key (the tests' `upd.example.test`).
fn key() -> Key {
    Key::new(
        "upd.example.test",
        Algorithm::HmacSha256,
        b"fixed fuzzing key, not a secret".to_vec(),
    )
    .unwrap_or_else(|e| panic!("the fixed key: {e}"))
}

/// The MAC of the request the responses answer.
const REQUEST_MAC: [u8; 32] = [0x5A; 32];
/// The time the responses are signed at.
const SIGNED: u64 = 1_764_460_800;

/// Input: flags (bit 0: sign the message, bit 1: change a byte), the
/// byte's position (u16) and XOR mask, the verifier's clock offset from
/// the signing time (i16 seconds), a TSIG error code (u16), then the
/// message.
pub fn dns_tsig(data: &[u8]) {
    let mut inp = Input::new(data);
    let flags = inp.u8();
    let at = inp.u16() as usize;
    let xor = inp.u8();
    let offset = inp.u16() as i16 as i64;
    let error = match inp.u8() % 4 {
        0 | 1 => 0,
        2 => tsig::BADTIME,
        _ => inp.u16(),
    };
    let msg = inp.rest();
    let k = key();
    let now = SIGNED.saturating_add_signed(offset);
    // The raw bytes: never a panic; a success strips exactly one record.
    if let Ok(plain) = tsig::verify(msg, &k, &REQUEST_MAC, now) {
        assert!(plain.len() < msg.len());
    }
    if flags & 1 == 0 {
        return;
    }
    let Ok(signed) = tsig::sign_with(msg, &k, SIGNED, Some(&REQUEST_MAC), error) else {
        assert!(
            msg.len() < 12 || msg[10..12] == [0xFF, 0xFF],
            "sign refused"
        );
        return;
    };
    let mut bytes = signed.bytes.clone();
    let changed = flags & 2 != 0 && xor != 0 && !bytes.is_empty();
    let at = at % bytes.len().max(1);
    if changed {
        bytes[at] ^= xor;
    }
    let tsig_start = wire::record_offsets(&signed.bytes)
        .and_then(|r| r.last().map(|l| l.0))
        .unwrap_or(msg.len());
    let result = tsig::verify(&bytes, &k, &REQUEST_MAC, now);
    let Ok(plain) = result else {
        return;
    };
    // Accepted: the time was within the fudge, no error was signed, and
    // the MAC covered every byte that changed: only the ID (restored
    // from the TSIG's original ID) or the case of a letter in the TSIG's
    // names (canonical, lowercase, in the MAC: RFC 8945 s4.3.3) may differ.
    assert!(offset.unsigned_abs() <= FUDGE as u64, "outside the fudge");
    assert_eq!(error, 0, "a signed TSIG error was accepted");
    if changed {
        let case_only = at >= tsig_start
            && signed.bytes[at].is_ascii_alphabetic()
            && bytes[at].eq_ignore_ascii_case(&signed.bytes[at]);
        assert!(at < 2 || case_only, "byte {at} ^ {xor:#x} passed");
    }
    // What comes out is the message we signed, with the ID as received.
    let mut want = msg.to_vec();
    want[0..2].copy_from_slice(&bytes[0..2]);
    assert_eq!(plain, want, "the stripped message");
}

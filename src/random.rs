//! The one source of randomness: the kernel's generator, getrandom(2),
//! with a clock-based fallback for the rare kernel that refuses. Used for
//! the seed of the engine's delay generator and the unicast DNS message
//! IDs. Not for keys: TSIG keys come from the configuration.

use std::time::{SystemTime, UNIX_EPOCH};

/// Fill `buf` from getrandom(2); false when the kernel gave less.
/// `wait`: block until the kernel's pool is ready (else GRND_NONBLOCK).
fn kernel_bytes(buf: &mut [u8], wait: bool) -> bool {
    let flags = if wait { 0 } else { libc::GRND_NONBLOCK };
    // SAFETY: the kernel writes at most buf.len() bytes into buf.
    let n = unsafe { libc::getrandom(buf.as_mut_ptr().cast(), buf.len(), flags) };
    n == buf.len() as isize
}

fn clock() -> std::time::Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// A seed for the engine's random delays, never blocking: getrandom(2),
/// else the time and the pid.
pub(crate) fn seed() -> u64 {
    let mut b = [0u8; 8];
    if kernel_bytes(&mut b, false) {
        return u64::from_ne_bytes(b);
    }
    (clock().as_nanos() as u64) ^ ((std::process::id() as u64) << 32)
}

/// A random DNS message ID (RFC 5452 s9.2).
pub(crate) fn message_id() -> u16 {
    let mut b = [0u8; 2];
    if kernel_bytes(&mut b, true) {
        return u16::from_be_bytes(b);
    }
    // The clock's nanoseconds: still unpredictable enough off-path, and a
    // TSIG key is what authenticates anyway.
    let t = clock().subsec_nanos();
    (t ^ (t >> 16)) as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_differ() {
        assert_ne!(seed(), seed());
    }

    #[test]
    fn message_ids_vary() {
        let ids: std::collections::HashSet<u16> = (0..64).map(|_| message_id()).collect();
        assert!(ids.len() > 32, "{} distinct ids of 64", ids.len());
    }
}

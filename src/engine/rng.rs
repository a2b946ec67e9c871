//! The one PRNG of the core (splitmix64): deterministic from a seed, so the
//! RFC's random delays are reproducible in tests; seeded from getrandom(2)
//! by the driver. Not for anything secret.

use std::ops::RangeInclusive;
use std::time::Duration;

pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `range` (inclusive; an empty range gives its start).
    pub(crate) fn in_range(&mut self, range: RangeInclusive<u64>) -> u64 {
        let (lo, hi) = (*range.start(), *range.end());
        if hi <= lo {
            return lo;
        }
        lo + self.next_u64() % (hi - lo + 1)
    }

    /// Uniform in `range` milliseconds.
    pub(crate) fn millis(&mut self, range: RangeInclusive<u64>) -> Duration {
        Duration::from_millis(self.in_range(range))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_in_range_and_is_reproducible() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        for _ in 0..1000 {
            let x = a.in_range(20..=120);
            assert!((20..=120).contains(&x));
            assert_eq!(x, b.in_range(20..=120));
        }
        assert_eq!(Rng::new(1).in_range(5..=5), 5);
        let d = Rng::new(3).millis(400..=500);
        assert!(d >= Duration::from_millis(400) && d <= Duration::from_millis(500));
    }
}

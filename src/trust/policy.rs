//! What the transports are handed: the looking-up side's trust policy
//! (anchors and allowed clock skew) and the publishing side's signing key,
//! both shared cheaply between a `Config` and the engines it starts.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{AnchorSet, SigningKey, Validator};

/// Default allowed clock difference: a ramdisk's clock before NTP is
/// often hours off, and an hour either way still refuses signatures
/// replayed long after they expired.
pub const DEFAULT_CLOCK_SKEW: Duration = Duration::from_secs(3600);

/// Validation on: every answer used must validate against `anchors`,
/// with signature windows widened by `clock_skew` on both sides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustPolicy {
    pub anchors: Arc<AnchorSet>,
    pub clock_skew: Duration,
}

impl TrustPolicy {
    pub fn new(anchors: AnchorSet, clock_skew: Duration) -> TrustPolicy {
        TrustPolicy {
            anchors: Arc::new(anchors),
            clock_skew,
        }
    }

    /// A validator at the current wall-clock time.
    pub fn validator(&self) -> Validator<'_> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let skew = u32::try_from(self.clock_skew.as_secs()).unwrap_or(u32::MAX);
        Validator::new(&self.anchors, now, skew)
    }
}

/// The responder's signing key, shared by every registration of a
/// handle. Two are equal when they hold the same public key.
#[derive(Clone)]
pub struct SigningKeyRef(pub Arc<SigningKey>);

impl PartialEq for SigningKeyRef {
    fn eq(&self, other: &SigningKeyRef) -> bool {
        self.0.owner() == other.0.owner() && self.0.dnskey() == other.0.dnskey()
    }
}

impl Eq for SigningKeyRef {}

impl fmt::Debug for SigningKeyRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl std::ops::Deref for SigningKeyRef {
    type Target = SigningKey;
    fn deref(&self) -> &SigningKey {
        &self.0
    }
}

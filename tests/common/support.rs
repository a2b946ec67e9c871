//! Small pieces the tests with peers share: whether a missing peer tool
//! fails, a fresh scratch directory, the wall clock in seconds.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

/// IRONICMDNS_REQUIRE_PEERS=1: a missing peer tool fails the test
/// instead of skipping its part.
pub fn require_peers() -> bool {
    std::env::var("IRONICMDNS_REQUIRE_PEERS").as_deref() == Ok("1")
}

/// An empty directory `ironicmdns-<name>-<pid>` under the temporary
/// directory (what an earlier run left there is removed).
pub fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ironicmdns-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

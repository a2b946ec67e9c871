//! Every RFC 6762 timer of the core, named and cited once. The responder,
//! the querier and the cache read them from here; tests drive them with a
//! fake clock.

use std::ops::RangeInclusive;
use std::time::Duration;

/// RFC 6762 s8.1: the first probe waits a random 0-250 ms (ms).
pub(crate) const PROBE_DELAY_MS: RangeInclusive<u64> = 0..=250;
/// RFC 6762 s8.1: three probes, 250 ms apart.
pub(crate) const PROBES: u8 = 3;
pub(crate) const PROBE_INTERVAL: Duration = Duration::from_millis(250);
/// RFC 6762 s8.3: at least two announcements, one second apart.
pub(crate) const ANNOUNCEMENTS: u8 = 2;
pub(crate) const ANNOUNCE_INTERVAL: Duration = Duration::from_secs(1);
/// RFC 6762 s8.2: the loser of a simultaneous-probe tie-break waits 1 s.
pub(crate) const TIE_BREAK_WAIT: Duration = Duration::from_secs(1);
/// RFC 6762 s8.1: after 15 conflicts within 10 s, wait 5 s before each
/// further probe sequence.
pub(crate) const CONFLICT_BURST: usize = 15;
pub(crate) const CONFLICT_WINDOW: Duration = Duration::from_secs(10);
pub(crate) const CONFLICT_BACKOFF: Duration = Duration::from_secs(5);

/// RFC 6762 s10.1: goodbye packets sent per link on withdrawal, and their
/// spacing. The RFC asks for a TTL-0 announcement but names no count; one
/// lost packet would leave peers holding our SRV for 120 s and our PTR for
/// 75 min. mDNSResponder sends three (its `GoodbyeCount`), python-zeroconf
/// (the reference) three, 125 ms apart (`_UNREGISTER_TIME`): so do we.
/// Close then takes 2 x 125 ms, whatever the number of registrations (they
/// go out together). A name's next owner probes for at least 500 ms (s8.1)
/// after hearing the first goodbye, so the repeats end before it can
/// announce records equal to ours.
pub(crate) const GOODBYES: u8 = 3;
pub(crate) const GOODBYE_INTERVAL: Duration = Duration::from_millis(125);

/// RFC 6762 s6: a shared answer waits a random 20-120 ms (ms).
pub(crate) const SHARED_ANSWER_DELAY_MS: RangeInclusive<u64> = 20..=120;
/// RFC 6762 s7.2: answers to a truncated query (more known answers
/// follow) wait a random 400-500 ms (ms).
pub(crate) const TRUNCATED_ANSWER_DELAY_MS: RangeInclusive<u64> = 400..=500;
/// RFC 6762 s6.2: one multicast of a record per link per second, a quarter
/// second when defending against a probe.
pub(crate) const RATE_LIMIT: Duration = Duration::from_secs(1);
pub(crate) const PROBE_DEFENCE_LIMIT: Duration = Duration::from_millis(250);

/// RFC 6762 s5.2: the first query of a continuous query (a browse) waits
/// a random 20-120 ms (ms).
pub(crate) const FIRST_QUERY_DELAY_MS: RangeInclusive<u64> = 20..=120;
/// RFC 6762 s5.2: the first two queries are at least one second apart, and
/// the interval doubles after that, up to an hour.
pub(crate) const FIRST_RETRY: Duration = Duration::from_secs(1);
pub(crate) const MAX_QUERY_INTERVAL: Duration = Duration::from_secs(3600);
/// RFC 6762 s5.2: a record still wanted is queried for at 80 %, 85 %, 90 %
/// and 95 % of its TTL, each plus a random 0-2 % (hundredths of a percent).
pub(crate) const REFRESH_AT_PER_10K: [u64; 4] = [8000, 8500, 9000, 9500];
pub(crate) const REFRESH_JITTER_PER_10K: RangeInclusive<u64> = 0..=200;

/// RFC 6762 s10.1: a goodbye (TTL 0) removes a record after one second;
/// s10.2: a cache-flush record (and, s6.1, an NSEC denial) makes records
/// older than one second expire one second later.
pub(crate) const ONE_SECOND_GRACE: Duration = Duration::from_secs(1);

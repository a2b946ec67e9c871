//! Bounded record cache with TTL expiry (RFC 6762 s10).
//!
//! Records are keyed by (name, type, class, rdata); names compare
//! case-insensitively (RFC 6762 s16: simple-dns labels hash and compare
//! ASCII-lowercase). Every operation is O(1) or O(log n): two keyed-hash
//! indexes (exact record, and name+type set) and two ordered timer sets
//! (expiry, refresh). When full, the record received longest ago is
//! evicted: a flood of long-lived junk then pushes out older junk, never the
//! answers that just arrived for a running query.

use std::collections::hash_map::RandomState;
use std::collections::{BTreeSet, HashMap};
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::time::{Duration, Instant};

use simple_dns::rdata::RData;
use simple_dns::{Name, ResourceRecord, CLASS, TYPE};

use std::net::Ipv6Addr;

use super::rng::Rng;
use super::timers::{ONE_SECOND_GRACE, REFRESH_AT_PER_10K, REFRESH_JITTER_PER_10K};
use super::{is_link_local_v6, IfIndex};
use crate::wire::{T_NSEC, T_PTR};

/// Identity of a cached record; grows with first receipt, so sorting by it
/// gives "order first received".
pub type RecordId = u64;

/// Records kept at most for one name and type: PTR (one per instance of a
/// service type) and the others (one host's addresses, SRV, TXT).
const MAX_SHARED_SET: usize = 1024;
const MAX_UNIQUE_SET: usize = 64;

/// The interface a record's meaning depends on: an IPv6 link-local address
/// means a different host on each link, so it is cached per interface
/// (RFC 4007 zones); every other record is the same whatever the link.
fn scope(rdata: &RData<'_>, iface: IfIndex) -> IfIndex {
    match rdata {
        RData::AAAA(a) if is_link_local_v6(&Ipv6Addr::from(a.address)) => iface,
        _ => 0,
    }
}

fn wire_type(rr: &ResourceRecord<'_>) -> u16 {
    u16::from(rr.rdata.type_code())
}

/// One cached record and its timers.
#[derive(Debug)]
pub struct CachedRecord {
    /// The record as last received; `ttl` is the TTL it came with.
    pub rr: ResourceRecord<'static>,
    /// Interface it was last received on.
    pub iface: IfIndex,
    pub received: Instant,
    pub expires: Instant,
    /// A goodbye (TTL 0) was received: invisible to lookups at once, kept
    /// until `expires` (RFC 6762 s10.1).
    pub gone: bool,
    refresh_step: u8,
    refresh_at: Option<Instant>,
    set_key: u64,
    set_pos: usize,
    exact_key: u64,
}

impl CachedRecord {
    /// Usable by lookups: not said goodbye to and not yet expired.
    pub fn live(&self, now: Instant) -> bool {
        !self.gone && self.expires > now
    }
    /// Seconds of TTL left (rounded down).
    pub fn remaining_ttl(&self, now: Instant) -> u32 {
        self.expires
            .saturating_duration_since(now)
            .as_secs()
            .min(u32::MAX as u64) as u32
    }
    pub fn rtype(&self) -> u16 {
        u16::from(self.rr.rdata.type_code())
    }
}

/// Hasher for keys that are already well spread and not chosen by peers:
/// our own sequential record ids, and keyed SipHash outputs.
#[derive(Default)]
struct MixHasher(u64);

impl Hasher for MixHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(8) ^ *b as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

type Mix = BuildHasherDefault<MixHasher>;

/// The records of one name and type.
#[derive(Debug)]
struct RrSet {
    name: Name<'static>,
    rtype: u16,
    ids: Vec<RecordId>,
}

/// What `insert` did with a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Inserted {
    New(RecordId),
    Renewed(RecordId),
    /// A goodbye for a cached record (RFC 6762 s10.1).
    Goodbye(RecordId),
    /// A goodbye for a record we did not hold.
    Ignored,
}

pub struct Cache {
    capacity: usize,
    next_id: RecordId,
    hasher: RandomState,
    rng: Rng,
    records: HashMap<RecordId, CachedRecord, Mix>,
    /// hash(name, class, rdata) -> record. A 64-bit keyed hash: a collision
    /// (astronomically rare, not steerable) evicts the older record.
    exact: HashMap<u64, RecordId, Mix>,
    /// hash(name, type) -> records of that name and type. A colliding
    /// (name, type) evicts the older set, as for `exact`.
    sets: HashMap<u64, RrSet, Mix>,
    expiry: BTreeSet<(Instant, RecordId)>,
    refresh: BTreeSet<(Instant, RecordId)>,
    /// (last received, record): the eviction order.
    recency: BTreeSet<(Instant, RecordId)>,
}

impl Cache {
    pub fn new(capacity: usize, seed: u64) -> Cache {
        Cache {
            capacity: capacity.max(1),
            next_id: 0,
            hasher: RandomState::new(),
            rng: Rng::new(seed ^ 0x5eed_cace),
            records: HashMap::default(),
            exact: HashMap::default(),
            sets: HashMap::default(),
            expiry: BTreeSet::new(),
            refresh: BTreeSet::new(),
            recency: BTreeSet::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn clear(&mut self) {
        self.records.clear();
        self.exact.clear();
        self.sets.clear();
        self.expiry.clear();
        self.refresh.clear();
        self.recency.clear();
    }

    pub fn get(&self, id: RecordId) -> Option<&CachedRecord> {
        self.records.get(&id)
    }

    fn set_hash(&self, name: &Name<'_>, rtype: u16) -> u64 {
        self.hasher.hash_one((name, rtype))
    }

    fn exact_hash(&self, rr: &ResourceRecord<'_>, iface: IfIndex) -> u64 {
        self.hasher
            .hash_one((&rr.name, rr.class, &rr.rdata, scope(&rr.rdata, iface)))
    }

    /// Every record of `name` and `rtype` (any class, live or not).
    pub fn set<'c: 'n, 'n>(
        &'c self,
        name: &'n Name<'n>,
        rtype: u16,
    ) -> impl Iterator<Item = (RecordId, &'c CachedRecord)> + 'n {
        let ids: &[RecordId] = match self.sets.get(&self.set_hash(name, rtype)) {
            Some(set) if set.rtype == rtype && set.name == *name => &set.ids,
            _ => &[],
        };
        ids.iter()
            .filter_map(move |id| Some((*id, self.records.get(id)?)))
    }

    /// Live class-IN records of `name` and `rtype`.
    pub fn live<'c: 'n, 'n>(
        &'c self,
        now: Instant,
        name: &'n Name<'n>,
        rtype: u16,
    ) -> impl Iterator<Item = (RecordId, &'c CachedRecord)> + 'n {
        self.set(name, rtype)
            .filter(move |(_, r)| r.live(now) && r.rr.class == CLASS::IN)
    }

    /// Cache one received record (answer or additional) from `iface`.
    pub fn insert(&mut self, now: Instant, rr: &ResourceRecord<'_>, iface: IfIndex) -> Inserted {
        // RFC 2181 s8: a TTL with the top bit set is read as zero.
        let ttl = if rr.ttl & 0x8000_0000 != 0 { 0 } else { rr.ttl };
        let key = self.exact_hash(rr, iface);
        let found = self.find_exact(key, rr, iface);
        let outcome = match (found, ttl) {
            (Some(id), 0) => return self.goodbye(now, id),
            (None, 0) => return Inserted::Ignored,
            (Some(id), _) => self.renew(now, id, rr, ttl, iface),
            (None, _) => self.add(now, key, rr, ttl, iface),
        };
        let (Inserted::New(id) | Inserted::Renewed(id)) = outcome else {
            return outcome;
        };
        let at = self.refresh_time(id);
        self.set_refresh(id, at);
        if rr.cache_flush {
            self.flush_others(now, id);
        }
        outcome
    }

    /// The cached copy of `rr` (same name, class, rdata and scope) under
    /// its exact key; a different record colliding on the key is evicted.
    fn find_exact(
        &mut self,
        key: u64,
        rr: &ResourceRecord<'_>,
        iface: IfIndex,
    ) -> Option<RecordId> {
        let id = *self.exact.get(&key)?;
        let rec = self.records.get(&id)?;
        if rec.rr.name == rr.name
            && rec.rr.class == rr.class
            && rec.rr.rdata == rr.rdata
            && scope(&rec.rr.rdata, rec.iface) == scope(&rr.rdata, iface)
        {
            return Some(id);
        }
        self.remove(id);
        None
    }

    /// RFC 6762 s10.1: a goodbye; the record goes in one second.
    fn goodbye(&mut self, now: Instant, id: RecordId) -> Inserted {
        self.set_expiry(id, Some(now + ONE_SECOND_GRACE));
        self.set_refresh(id, None);
        if let Some(rec) = self.records.get_mut(&id) {
            rec.gone = true;
        }
        Inserted::Goodbye(id)
    }

    fn expiry_of(now: Instant, ttl: u32) -> Instant {
        now.checked_add(Duration::from_secs(u64::from(ttl)))
            .unwrap_or(now)
    }

    /// A record received again: new TTL, interface and receipt time.
    fn renew(
        &mut self,
        now: Instant,
        id: RecordId,
        rr: &ResourceRecord<'_>,
        ttl: u32,
        iface: IfIndex,
    ) -> Inserted {
        if let Some(rec) = self.records.get_mut(&id) {
            self.recency.remove(&(rec.received, id));
            self.recency.insert((now, id));
            rec.rr.ttl = ttl;
            rec.rr.name = rr.name.clone().into_owned();
            rec.iface = iface;
            rec.received = now;
            rec.gone = false;
            rec.refresh_step = 0;
        }
        self.set_expiry(id, Some(Self::expiry_of(now, ttl)));
        Inserted::Renewed(id)
    }

    /// A record new to the cache, after making room within its set and
    /// within the bound.
    fn add(
        &mut self,
        now: Instant,
        key: u64,
        rr: &ResourceRecord<'_>,
        ttl: u32,
        iface: IfIndex,
    ) -> Inserted {
        self.make_room_in_set(rr);
        while self.records.len() >= self.capacity {
            // Bounded: the record received longest ago makes room.
            match self.recency.first().copied() {
                Some((_, victim)) => {
                    self.remove(victim);
                }
                None => break,
            }
        }
        let id = self.next_id;
        self.next_id += 1;
        let mut owned = rr.clone().into_owned();
        owned.ttl = ttl;
        owned.cache_flush = false;
        let (set_key, set_pos) = self.join_set(&owned.name, wire_type(&owned), id);
        self.exact.insert(key, id);
        let expires = Self::expiry_of(now, ttl);
        self.records.insert(
            id,
            CachedRecord {
                rr: owned,
                iface,
                received: now,
                expires,
                gone: false,
                refresh_step: 0,
                refresh_at: None,
                set_key,
                set_pos,
                exact_key: key,
            },
        );
        self.expiry.insert((expires, id));
        self.recency.insert((now, id));
        Inserted::New(id)
    }

    /// Put `id` in the set of `name` and `rtype` (a set colliding on the
    /// hash is evicted first); returns the set's key and the position.
    fn join_set(&mut self, name: &Name<'static>, rtype: u16, id: RecordId) -> (u64, usize) {
        let set_key = self.set_hash(name, rtype);
        let collided = self
            .sets
            .get(&set_key)
            .filter(|s| !(s.rtype == rtype && s.name == *name));
        if let Some(old) = collided {
            for victim in old.ids.clone() {
                self.remove(victim);
            }
        }
        let set = self.sets.entry(set_key).or_insert_with(|| RrSet {
            name: name.clone(),
            rtype,
            ids: Vec::new(),
        });
        set.ids.push(id);
        (set_key, set.ids.len() - 1)
    }

    /// Bound one name's records of one type, so that a flood of one name
    /// cannot make each insert (cache flush) or lookup walk the whole
    /// cache: the set's soonest-expiring record makes room.
    fn make_room_in_set(&mut self, rr: &ResourceRecord<'_>) {
        let rtype = u16::from(rr.rdata.type_code());
        // Shared PTR sets list many instances; unique sets (SRV, TXT, A,
        // AAAA, NSEC) belong to one host and stay small.
        let cap = if rtype == T_PTR {
            MAX_SHARED_SET
        } else {
            MAX_UNIQUE_SET
        };
        let key = self.set_hash(&rr.name, rtype);
        let Some(set) = self.sets.get(&key) else {
            return;
        };
        if set.ids.len() < cap {
            return;
        }
        let victim = set
            .ids
            .iter()
            .filter_map(|id| self.records.get(id).map(|r| (r.expires, *id)))
            .min();
        if let Some((_, id)) = victim {
            self.remove(id);
        }
    }

    /// RFC 6762 s10.2: a cache-flush record makes the other records of its
    /// name, type and class that were received more than one second ago
    /// expire one second from now (not at once: the rest of a multi-packet
    /// answer may still be coming). Only records from the same interface:
    /// a host on two links announces each link's own addresses there
    /// (RFC 6762 s14), and these must not flush each other.
    fn flush_others(&mut self, now: Instant, keep: RecordId) {
        let Some(rec) = self.records.get(&keep) else {
            return;
        };
        let (class, rtype, iface) = (rec.rr.class, rec.rtype(), rec.iface);
        let stale: Vec<RecordId> = self
            .set(&rec.rr.name, rtype)
            .filter(|(id, r)| {
                *id != keep
                    && r.rr.class == class
                    && r.iface == iface
                    && now.saturating_duration_since(r.received) > ONE_SECOND_GRACE
                    && r.expires > now + ONE_SECOND_GRACE
            })
            .map(|(id, _)| id)
            .collect();
        for id in stale {
            self.expire_within_one_second(now, id);
        }
    }

    /// Make a record expire at most one second from now (cache flush,
    /// NSEC negation), keeping it visible until then.
    pub fn expire_within_one_second(&mut self, now: Instant, id: RecordId) {
        let Some(rec) = self.records.get(&id) else {
            return;
        };
        let at = rec.expires.min(now + ONE_SECOND_GRACE);
        self.set_expiry(id, Some(at));
        self.set_refresh(id, None);
    }

    fn set_expiry(&mut self, id: RecordId, at: Option<Instant>) {
        let Some(rec) = self.records.get_mut(&id) else {
            return;
        };
        self.expiry.remove(&(rec.expires, id));
        if let Some(at) = at {
            rec.expires = at;
            self.expiry.insert((at, id));
        }
    }

    fn set_refresh(&mut self, id: RecordId, at: Option<Instant>) {
        let Some(rec) = self.records.get_mut(&id) else {
            return;
        };
        if let Some(old) = rec.refresh_at.take() {
            self.refresh.remove(&(old, id));
        }
        if let Some(at) = at {
            rec.refresh_at = Some(at);
            self.refresh.insert((at, id));
        }
    }

    /// When to query for a record again (RFC 6762 s5.2, `timers`).
    fn refresh_time(&mut self, id: RecordId) -> Option<Instant> {
        let jitter = self.rng.in_range(REFRESH_JITTER_PER_10K);
        let rec = self.records.get(&id)?;
        if rec.gone {
            return None;
        }
        let per_10k = REFRESH_AT_PER_10K.get(usize::from(rec.refresh_step))? + jitter;
        let ttl_ms = rec.rr.ttl as u64 * 1000;
        rec.received
            .checked_add(Duration::from_millis(ttl_ms * per_10k / 10_000))
    }

    pub fn next_expiry(&self) -> Option<Instant> {
        self.expiry.first().map(|(at, _)| *at)
    }

    pub fn next_refresh(&self) -> Option<Instant> {
        self.refresh.first().map(|(at, _)| *at)
    }

    /// The next record whose refresh time has come, moving it to its next
    /// refresh step. The caller decides whether it is still wanted.
    pub fn pop_refresh(&mut self, now: Instant) -> Option<RecordId> {
        let &(at, id) = self.refresh.first()?;
        if at > now {
            return None;
        }
        self.refresh.remove(&(at, id));
        if let Some(rec) = self.records.get_mut(&id) {
            rec.refresh_at = None;
            rec.refresh_step += 1;
        }
        let next = self.refresh_time(id);
        self.set_refresh(id, next);
        Some(id)
    }

    /// Remove every record expired at `now`, handing each to `gone`.
    pub fn expire(&mut self, now: Instant, mut gone: impl FnMut(&CachedRecord)) {
        while let Some(&(at, id)) = self.expiry.first() {
            if at > now {
                break;
            }
            if let Some(rec) = self.remove(id) {
                gone(&rec);
            }
        }
    }

    fn remove(&mut self, id: RecordId) -> Option<CachedRecord> {
        let rec = self.records.remove(&id)?;
        self.expiry.remove(&(rec.expires, id));
        self.recency.remove(&(rec.received, id));
        if let Some(at) = rec.refresh_at {
            self.refresh.remove(&(at, id));
        }
        if self.exact.get(&rec.exact_key) == Some(&id) {
            self.exact.remove(&rec.exact_key);
        }
        if let Some(set) = self.sets.get_mut(&rec.set_key) {
            if set.ids.get(rec.set_pos) == Some(&id) {
                set.ids.swap_remove(rec.set_pos);
                if let Some(&moved) = set.ids.get(rec.set_pos) {
                    if let Some(m) = self.records.get_mut(&moved) {
                        m.set_pos = rec.set_pos;
                    }
                }
            }
            if set.ids.is_empty() {
                self.sets.remove(&rec.set_key);
            }
        }
        Some(rec)
    }

    /// RFC 6762 s6.1: whether a live NSEC record of `name` says that it has
    /// no record of `rtype`. Only meaningful for address types (see the
    /// querier).
    pub fn denied(&self, now: Instant, name: &Name<'_>, rtype: u16) -> bool {
        self.live(now, name, T_NSEC)
            .any(|(_, r)| match &r.rr.rdata {
                RData::NSEC(nsec) => !nsec.contains(TYPE::from(rtype)),
                _ => false,
            })
    }

    /// Internal consistency (tests): every index holds exactly the records.
    #[cfg(test)]
    pub(crate) fn check_invariants(&self) {
        assert!(self.records.len() <= self.capacity);
        assert_eq!(self.expiry.len(), self.records.len());
        assert_eq!(self.recency.len(), self.records.len());
        assert!(self.refresh.len() <= self.records.len());
        assert_eq!(self.exact.len(), self.records.len());
        assert_eq!(
            self.sets.values().map(|s| s.ids.len()).sum::<usize>(),
            self.records.len()
        );
        for (id, rec) in &self.records {
            assert!(self.expiry.contains(&(rec.expires, *id)));
            assert!(self.recency.contains(&(rec.received, *id)));
            assert_eq!(self.exact.get(&rec.exact_key), Some(id));
            let set = &self.sets[&rec.set_key];
            assert_eq!(set.ids[rec.set_pos], *id);
            assert!(set.name == rec.rr.name && set.rtype == rec.rtype());
            if let Some(at) = rec.refresh_at {
                assert!(self.refresh.contains(&(at, *id)));
            }
        }
    }
}

//! Continuous browsing of a service type (RFC 6763 s4, RFC 6762 s5.2).

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use simple_dns::rdata::RData;
use simple_dns::Name;

use super::assemble::{dotted, gather};
use super::packet::Ask;
use crate::engine::cache::Cache;
use crate::engine::timers::{FIRST_RETRY, MAX_QUERY_INTERVAL};
use crate::engine::{BrowseId, Event};
use crate::service::ResolvedService;
use crate::wire::{T_A, T_AAAA, T_PTR, T_SRV, T_TXT};

/// How long an instance with SRV and TXT but no address waits for one
/// before it is reported without addresses.
pub(crate) const ADDRESS_WAIT: Duration = Duration::from_secs(1);

pub(crate) struct Instance {
    display: String,
    seen: Instant,
    target: Option<Name<'static>>,
    reported: Option<ResolvedService>,
    asked_instance: bool,
    asked_target: Option<Name<'static>>,
}

pub(crate) struct Browse {
    pub id: BrowseId,
    pub service: Name<'static>,
    pub next_send: Instant,
    pub interval: Duration,
    instances: HashMap<Name<'static>, Instance>,
    /// Earliest time an instance waiting for an address is to be reported.
    wake: Option<Instant>,
}

impl Browse {
    /// `first_send`: when the first query goes (after the random delay of
    /// RFC 6762 s5.2).
    pub fn new(id: BrowseId, service: Name<'static>, first_send: Instant) -> Browse {
        Browse {
            id,
            service,
            next_send: first_send,
            interval: FIRST_RETRY,
            instances: HashMap::new(),
            wake: None,
        }
    }

    pub fn next_timeout(&self) -> Instant {
        match self.wake {
            Some(w) => w.min(self.next_send),
            None => self.next_send,
        }
    }

    /// Whether records of `name` / `rtype` are needed by this browse (for
    /// refresh queries, RFC 6762 s5.2).
    pub fn watches(&self, name: &Name<'_>, rtype: u16) -> bool {
        match rtype {
            T_PTR => self.service == *name,
            T_SRV | T_TXT => self.instances.contains_key(name),
            T_A | T_AAAA => self
                .instances
                .values()
                .any(|i| i.target.as_ref().is_some_and(|t| t == name)),
            _ => false,
        }
    }

    /// Questions of a periodic browse query: the PTR, and what is still
    /// missing of the instances seen.
    pub fn periodic_asks(&mut self, cache: &Cache, now: Instant, asks: &mut Vec<Ask>) {
        asks.push(Ask::qm(&self.service, T_PTR));
        for (name, inst) in &self.instances {
            if inst
                .reported
                .as_ref()
                .is_some_and(|r| !r.addresses.is_empty())
            {
                continue;
            }
            let p = gather(cache, now, name, &inst.display);
            if p.service.is_none() {
                asks.push(Ask::qm(name, T_SRV));
                asks.push(Ask::qm(name, T_TXT));
            }
            if let Some(t) = p.target {
                asks.push(Ask::qm(t, T_A));
                asks.push(Ask::qm(t, T_AAAA));
            }
        }
        self.next_send = now + self.interval;
        self.interval = (self.interval * 2).min(MAX_QUERY_INTERVAL);
    }

    /// Bring the instances in line with the cache: report new or changed
    /// ones, removed ones (goodbye or expiry), and ask at once for what a
    /// new instance lacks.
    pub fn update(
        &mut self,
        cache: &Cache,
        now: Instant,
        events: &mut Vec<Event>,
        asks: &mut Vec<Ask>,
    ) {
        let mut live: HashSet<&Name<'static>> = HashSet::new();
        for (_, rec) in cache.live(now, &self.service, T_PTR) {
            if let RData::PTR(ptr) = &rec.rr.rdata {
                // RFC 6763 s4.1: an instance is <Instance>.<Service>.<Domain>,
                // one label under the browsed type; a PTR elsewhere is not one.
                let labels = ptr.0.get_labels().len();
                if labels != self.service.get_labels().len() + 1
                    || !ptr.0.is_subdomain_of(&self.service)
                {
                    continue;
                }
                live.insert(&ptr.0);
                if !self.instances.contains_key(&ptr.0) {
                    self.instances.insert(
                        ptr.0.clone(),
                        Instance {
                            display: dotted(&ptr.0),
                            seen: now,
                            target: None,
                            reported: None,
                            asked_instance: false,
                            asked_target: None,
                        },
                    );
                }
            }
        }
        let id = self.id;
        self.wake = None;
        let mut wake: Option<Instant> = None;
        self.instances.retain(|name, inst| {
            if !live.contains(name) {
                if inst.reported.is_some() {
                    events.push(Event::BrowseRemoved {
                        browse: id,
                        instance: inst.display.clone(),
                    });
                }
                return false;
            }
            let p = gather(cache, now, name, &inst.display);
            inst.target = p.target.cloned();
            if p.target.is_none() && inst.reported.is_some() {
                // Its SRV went (goodbye or expiry) while the PTR (75 min)
                // lives on: the host is gone. Reported again if it returns.
                events.push(Event::BrowseRemoved {
                    browse: id,
                    instance: inst.display.clone(),
                });
                inst.reported = None;
                inst.seen = now;
            }
            if p.service.is_none() && !inst.asked_instance {
                inst.asked_instance = true;
                asks.push(Ask::qm(name, T_SRV));
                asks.push(Ask::qm(name, T_TXT));
            }
            if let Some(svc) = p.service {
                if svc.addresses.is_empty() {
                    if let Some(t) = p.target {
                        if inst.asked_target.as_ref() != Some(t) {
                            inst.asked_target = Some(t.clone());
                            asks.push(Ask::qm(t, T_A));
                            asks.push(Ask::qm(t, T_AAAA));
                        }
                    }
                }
                let due = inst.seen + ADDRESS_WAIT;
                if !svc.addresses.is_empty() || now >= due {
                    if inst.reported.as_ref() != Some(&svc) {
                        events.push(Event::BrowseAdded {
                            browse: id,
                            service: svc.clone(),
                        });
                        inst.reported = Some(svc);
                    }
                } else if inst.reported.is_none() {
                    wake = Some(wake.map_or(due, |w| w.min(due)));
                }
            }
            true
        });
        self.wake = wake;
    }
}

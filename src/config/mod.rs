//! Options (SPEC 2): names and defaults of the reference, settable by name
//! with config-file values, and their listing.
//!
//! This file is the one options table; `parse` holds the rules of the
//! values (oslo.config's types), `sample` the sample `[mdns]` section.

use crate::error::Refused;
use std::net::IpAddr;
use std::time::Duration;

use crate::dns::settings::{self as dns_settings, Discovery, DnsSettings};
use crate::error::{Error, Result};
use crate::props::{self, Properties};
use crate::trust::{SigningKeyRef, TrustPolicy, DEFAULT_CLOCK_SKEW};

mod parse;
mod sample;

use self::parse::*;
pub use self::sample::sample_config;

/// The `[mdns]` options plus our per-attempt lookup timeout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// min 1, default 5
    pub registration_attempts: u32,
    /// min 1, default 3
    pub lookup_attempts: u32,
    /// extra TXT properties for every registration
    pub params: Properties,
    /// None: all interfaces, IPv4 and IPv6
    pub interfaces: Option<Vec<IpAddr>>,
    /// per-attempt lookup timeout, default 3 s
    pub lookup_timeout: Duration,
    /// unicast DNS-SD: `domain`, `dns_servers`, `tsig_key_file`,
    /// `tsig_key`, `discovery` (docs/DNS.md); default: none, mDNS only
    pub dns: DnsSettings,
    /// DNSSEC validation of every answer used (`trust_anchor`,
    /// `trust_clock_skew`); None: off, answers are used as they come
    pub trust: Option<TrustPolicy>,
    /// the responder signs what it publishes (`signing_key_file`); None:
    /// unsigned
    pub signing_key: Option<SigningKeyRef>,
    /// `trust_clock_skew`, default 1 h; `trust` carries it once set
    pub trust_clock_skew: Duration,
}

/// One row of the options table: the listing (for a sample-config
/// generator) and how `Config::set` reads and checks the option's text.
/// A new option is one row.
#[derive(Clone, Copy, Debug)]
pub struct OptionInfo {
    pub group: &'static str,
    pub name: &'static str,
    /// oslo.config type name: "integer", "dict", "list", "floating point"
    pub type_name: &'static str,
    /// default as a config file would hold it ("" for none)
    pub default: &'static str,
    pub help: &'static str,
    /// Parse and check the config-file text, then store it; on error the
    /// config is unchanged and the text says why.
    pub apply: fn(&mut Config, &str) -> Result<(), Refused>,
}

impl Default for Config {
    /// The reference's defaults (SPEC 2) and a 3 s lookup timeout.
    fn default() -> Config {
        Config {
            registration_attempts: 5,
            lookup_attempts: 3,
            params: Properties::new(),
            interfaces: None,
            lookup_timeout: Duration::from_secs(3),
            dns: DnsSettings::default(),
            trust: None,
            signing_key: None,
            trust_clock_skew: DEFAULT_CLOCK_SKEW,
        }
    }
}

/// The `[mdns]` group name.
pub const GROUP: &str = "mdns";

/// Most attempts of either kind: the doubling waits between 10 attempts
/// add up to 51.1 s, so no call blocks for long (the header's promise).
pub const MAX_ATTEMPTS: u32 = 10;
/// Shortest per-attempt lookup timeout: 1 ms.
pub const MIN_LOOKUP_TIMEOUT: Duration = Duration::from_millis(1);
/// Longest per-attempt lookup timeout: 60 s.
pub const MAX_LOOKUP_TIMEOUT: Duration = Duration::from_secs(60);

static OPTIONS: [OptionInfo; 13] = [
    OptionInfo {
        group: GROUP,
        name: "registration_attempts",
        type_name: "integer",
        default: "5",
        help: "Number of attempts to register a service. Currently has to be larger than 1 \
               because of race conditions in the zeroconf library.",
        apply: |c, v| {
            c.registration_attempts = parse_attempts(v)?;
            Ok(())
        },
    },
    OptionInfo {
        group: GROUP,
        name: "lookup_attempts",
        type_name: "integer",
        default: "3",
        help: "Number of attempts to lookup a service.",
        apply: |c, v| {
            c.lookup_attempts = parse_attempts(v)?;
            Ok(())
        },
    },
    OptionInfo {
        group: GROUP,
        name: "params",
        type_name: "dict",
        default: "",
        help: "Additional parameters to pass for the registered service.",
        apply: |c, v| {
            c.params = parse_dict(v)?;
            Ok(())
        },
    },
    OptionInfo {
        group: GROUP,
        name: "interfaces",
        type_name: "list",
        default: "",
        help: "List of IP addresses of interfaces to use for mDNS. Defaults to all interfaces \
               on the system.",
        apply: |c, v| {
            c.interfaces = parse_ip_list(v)?;
            Ok(())
        },
    },
    OptionInfo {
        group: GROUP,
        name: "lookup_timeout",
        type_name: "floating point",
        default: "3.0",
        help: "Time in seconds each attempt to lookup a service waits for an answer.",
        apply: |c, v| {
            c.lookup_timeout = parse_timeout(v)?;
            Ok(())
        },
    },
    // Unicast DNS-SD (src/dns, docs/DNS.md).
    OptionInfo {
        group: GROUP,
        name: "domain",
        type_name: "string",
        default: "",
        help: "DNS-SD domain for unicast DNS service discovery (e.g. mystack.example.com): \
               services are then looked up and registered as \
               <type>._openstack._tcp.<domain> through the DNS servers. Empty: mDNS only.",
        apply: |c, v| {
            c.dns.domain = dns_settings::parse_domain(v)?;
            Ok(())
        },
    },
    OptionInfo {
        group: GROUP,
        name: "dns_servers",
        type_name: "list",
        default: "",
        help: "DNS servers for unicast DNS-SD, as IP or IP:port ([IPv6]:port). Defaults to \
               the nameservers of /etc/resolv.conf.",
        apply: |c, v| {
            c.dns.dns_servers = dns_settings::parse_servers(v)?;
            Ok(())
        },
    },
    OptionInfo {
        group: GROUP,
        name: "tsig_key_file",
        type_name: "string",
        default: "",
        help: "File holding a TSIG key in BIND's format (key \"name\" { algorithm \
               hmac-sha256; secret \"...\"; };, as tsig-keygen prints): DNS queries and \
               updates are signed with it and answers must be signed with it.",
        apply: |c, v| dns_settings::apply_tsig_key_file(&mut c.dns, v),
    },
    OptionInfo {
        group: GROUP,
        name: "tsig_key",
        type_name: "string",
        default: "",
        help: "TSIG key as algorithm:name:base64secret (as dig -y takes), instead of \
               tsig_key_file.",
        apply: |c, v| dns_settings::apply_tsig_key(&mut c.dns, v),
    },
    OptionInfo {
        group: GROUP,
        name: "discovery",
        type_name: "string",
        default: "auto",
        help: "Where to discover and register services: mdns, dns, both, or auto (dns when \
               a domain is set, else mdns). With both, a lookup returns the DNS answer \
               and asks mDNS only when DNS finds nothing; an unauthenticated DNS answer is \
               an error, never replaced by an mDNS one.",
        apply: |c, v| {
            c.dns.discovery = Discovery::parse(v)?;
            Ok(())
        },
    },
    // DNSSEC (src/trust, docs/TRUST.md).
    OptionInfo {
        group: GROUP,
        name: "trust_anchor",
        type_name: "multi valued",
        default: "",
        help: "DNSSEC trust anchor: a DNSKEY or DS record in zone-file text (as \
               dnssec-keygen, dnssec-dsfromkey or keymgr print it), a DS in the compact \
               form KEYTAG:ALG:DIGESTTYPE:HEXDIGEST, or @/path/file holding such lines. \
               Each value adds anchors. When set, every answer used, over mDNS or unicast \
               DNS, must carry valid signatures by an anchored key, and anything else is \
               refused. Unset: answers are not validated.",
        apply: |c, v| {
            let more = parse_anchors(v)?;
            c.trust = Some(match c.trust.take() {
                None => TrustPolicy::new(more, c.trust_clock_skew),
                Some(old) => TrustPolicy::new(join_anchors(&old.anchors, more)?, old.clock_skew),
            });
            Ok(())
        },
    },
    OptionInfo {
        group: GROUP,
        name: "trust_clock_skew",
        type_name: "integer",
        default: "3600",
        help: "Seconds a DNSSEC signature's validity window is widened by on both sides, \
               for a clock that is off (a ramdisk before NTP).",
        apply: |c, v| {
            c.trust_clock_skew = parse_clock_skew(v)?;
            if let Some(policy) = &mut c.trust {
                policy.clock_skew = c.trust_clock_skew;
            }
            Ok(())
        },
    },
    OptionInfo {
        group: GROUP,
        name: "signing_key_file",
        type_name: "string",
        default: "",
        help: "DNSSEC private key in BIND's format (the K<name>+<alg>+<tag>.private \
               that dnssec-keygen -a ED25519 -n ZONE local. writes; the .key beside it \
               gives the public key): the mDNS responder signs what it publishes.",
        apply: |c, v| {
            c.signing_key = Some(load_signing_key(v)?);
            Ok(())
        },
    },
];

/// Options whose value is a secret: never echoed in an error text.
const SECRET_OPTIONS: [&str; 1] = ["tsig_key"];

impl Config {
    /// Set an option by name from its config-file text, e.g.
    /// `set("params", "k1:v1,k2:'v,2'")`, `set("interfaces", "10.0.0.1,fd00::1")`.
    /// Parsing follows oslo.config's types (IntOpt, Dict of quoted String,
    /// ListOpt, FloatOpt), and the value is checked fully here, so that a
    /// value `set` accepts never fails a later call. On error nothing
    /// changes. The one validating entry point for options from text (C
    /// ABI, CLI flags, config files).
    pub fn set(&mut self, name: &str, value: &str) -> Result<()> {
        let opt = OPTIONS
            .iter()
            .find(|o| o.name == name)
            .ok_or_else(|| Error::InvalidArgument(format!("unknown option [{GROUP}] {name}")))?;
        let mut next = self.clone();
        (opt.apply)(&mut next, value).map_err(|why| {
            let shown = match SECRET_OPTIONS.contains(&name) {
                true => "(secret, not shown)".to_owned(),
                false => format!("{value:?}"),
            };
            Error::InvalidArgument(format!(
                "invalid value {shown} for option [{GROUP}] {name}: {why}"
            ))
        })?;
        *self = next;
        Ok(())
    }

    /// The options listing.
    pub fn options() -> &'static [OptionInfo] {
        &OPTIONS
    }

    /// Check a config built in Rust (its fields are public) against the
    /// same rules `set` applies to text.
    pub fn validate(&self) -> Result<()> {
        let bad = |name: &str, why: Refused| {
            Err(Error::InvalidArgument(format!(
                "invalid option [{GROUP}] {name}: {why}"
            )))
        };
        for (name, n) in [
            ("registration_attempts", self.registration_attempts),
            ("lookup_attempts", self.lookup_attempts),
        ] {
            if let Err(why) = check_attempts(n) {
                return bad(name, why);
            }
        }
        if let Err(why) = check_timeout(self.lookup_timeout) {
            return bad("lookup_timeout", why);
        }
        for (key, value) in self.params.iter() {
            if let Err(why) = props::check_pair(key, value.as_deref()) {
                return bad("params", why);
            }
        }
        if let Some(list) = &self.interfaces {
            if list.is_empty() {
                return bad("interfaces", "the list is empty".into());
            }
            for a in list {
                if let Err(why) = check_interface_address(a) {
                    return bad("interfaces", why);
                }
            }
        }
        if let Err((name, why)) = dns_settings::check(&self.dns) {
            return bad(name, why.into());
        }
        if let Err(why) = check_clock_skew(self.trust_clock_skew) {
            return bad("trust_clock_skew", why);
        }
        if let Some(policy) = &self.trust {
            if policy.anchors.anchors().is_empty() {
                return bad("trust_anchor", "no anchor".into());
            }
            if let Err(why) = check_clock_skew(policy.clock_skew) {
                return bad("trust_clock_skew", why);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;

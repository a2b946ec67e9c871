//! Options (SPEC 2): names and defaults of the reference, settable by name
//! with config-file values, and their listing. OWNER: endpoint helper.

use std::net::IpAddr;
use std::time::Duration;

use crate::endpoint::Properties;
use crate::error::Result;

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
}

/// One entry of the options listing (for a sample-config generator).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OptionInfo {
    pub group: &'static str,
    pub name: &'static str,
    /// oslo.config type name: "integer", "dict", "list", "floating point"
    pub type_name: &'static str,
    /// default as a config file would hold it ("" for none)
    pub default: &'static str,
    pub help: &'static str,
}

impl Config {
    /// Set an option by name from its config-file text, e.g.
    /// `set("params", "k1:v1,k2:'v,2'")`, `set("interfaces", "10.0.0.1,fd00::1")`.
    pub fn set(&mut self, name: &str, value: &str) -> Result<()> {
        let _ = (name, value);
        todo!()
    }
    /// The options listing.
    pub fn options() -> &'static [OptionInfo] {
        todo!()
    }
}

/// A sample `[mdns]` section with help text, as oslo-config-generator prints.
pub fn sample_config() -> String {
    todo!()
}

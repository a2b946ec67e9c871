//! The reference's object (SPEC 3, 4, 6). OWNER: endpoint helper.

use crate::config::Config;
use crate::endpoint::Properties;
use crate::error::Result;

/// One browsed instance (for `ironic-mdns browse`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrowsedService {
    /// OpenStack service type (the instance's first label).
    pub service_type: String,
    /// The URL per SPEC 4, or the error text when it could not be built.
    pub url: std::result::Result<String, String>,
    pub params: Properties,
}

/// mDNS client and server, like `ironic_lib.mdns.Zeroconf`.
pub struct Zeroconf {
    _private: (),
}

impl Zeroconf {
    pub fn new(config: Config) -> Result<Zeroconf> {
        let _ = config;
        todo!()
    }
    pub fn register_service(&self, service_type: &str, endpoint: &str, params: Option<&Properties>) -> Result<()> {
        let _ = (service_type, endpoint, params);
        todo!()
    }
    pub fn get_endpoint(&self, service_type: &str, skip_loopback: bool, skip_link_local: bool) -> Result<(String, Properties)> {
        let _ = (service_type, skip_loopback, skip_link_local);
        todo!()
    }
    /// Every `_openstack._tcp` instance heard within `duration`.
    pub fn browse(&self, duration: std::time::Duration) -> Result<Vec<BrowsedService>> {
        let _ = duration;
        todo!()
    }
    /// Withdraw every registration (goodbyes sent before return), stop.
    /// Idempotent; later calls on the object fail with Error::Closed.
    pub fn close(&self) -> Result<()> {
        todo!()
    }
}

/// One-shot module-level lookup with default options (SPEC 6).
pub fn get_endpoint(service_type: &str) -> Result<(String, Properties)> {
    let _ = service_type;
    todo!()
}

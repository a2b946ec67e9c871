//! The URL, built once for both transports (SPEC 4.2-4.7, through
//! `crate::endpoint`), and a browsed instance as the CLI shows it.

use super::{BrowsedService, Found};
use crate::endpoint;
use crate::error::Result;
use crate::log::{log, LogLevel};
use crate::props::Properties;
use crate::route::{KernelRoutes, RouteLookup};
use crate::service::ResolvedService;

/// Which transport found a service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Transport {
    Mdns,
    Dns,
}

/// SPEC 4.2-4.7, for both transports: the URL and properties of `found`,
/// through `crate::endpoint`, with the flags (skip loopback, skip
/// link-local). A `.local.` SRV target over mDNS, and over DNS a target
/// that holds the instance's addresses
/// (`dns::lookup::target_holds_addresses`), give the chosen address in the
/// URL; any other target name is kept (SPEC 4.5).
pub(super) fn url_of(
    via: Transport,
    service_type: &str,
    found: &ResolvedService,
    (skip_loopback, skip_link_local): (bool, bool),
    routes: &dyn RouteLookup,
    ifname: &dyn Fn(u32) -> Option<String>,
    warn: &mut dyn FnMut(&str),
) -> Result<(String, Properties)> {
    let mut s = std::borrow::Cow::Borrowed(found);
    if via == Transport::Dns && crate::dns::lookup::target_holds_addresses(found) {
        // endpoint::url_host takes the address for a `.local.` target.
        s.to_mut().target = "address.local.".into();
    }
    endpoint::lookup_result(
        service_type,
        &s,
        skip_loopback,
        skip_link_local,
        routes,
        ifname,
        warn,
    )
}

/// A looked-up instance as the lookups return it: `url_of` with the
/// kernel's routes and interface names (a warning is logged), and whether
/// the records it came from validated.
pub(super) fn found_of(
    via: Transport,
    service_type: &str,
    found: &ResolvedService,
    skips: (bool, bool),
) -> Result<Found> {
    let mut warn = |m: &str| log(LogLevel::Warning, m);
    url_of(
        via,
        service_type,
        found,
        skips,
        &KernelRoutes,
        &endpoint::if_name,
        &mut warn,
    )
    .map(|(url, params)| Found {
        url,
        params,
        validated: found.validated,
    })
}

/// A browsed instance as SPEC 4 turns it into a URL (default flags: skip
/// loopback, keep link-local).
pub(super) fn browsed_service(
    via: Transport,
    s: &ResolvedService,
    routes: &dyn RouteLookup,
    ifname: &dyn Fn(u32) -> Option<String>,
) -> BrowsedService {
    let service_type = match via {
        Transport::Mdns => endpoint::service_type_of(&s.instance),
        Transport::Dns => crate::dns::lookup::service_type_of(&s.instance),
    };
    let mut warn = |m: &str| log(LogLevel::Warning, m);
    let (url, params) = match url_of(
        via,
        &service_type,
        s,
        (true, false),
        routes,
        ifname,
        &mut warn,
    ) {
        Ok((url, params)) => (Ok(url), params),
        Err(e) => (Err(e.to_string()), Properties::new()),
    };
    BrowsedService {
        service_type,
        url,
        params,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::ScopedAddr;
    use std::net::IpAddr;

    fn found() -> ResolvedService {
        super::super::retry::tests::found()
    }

    struct AllRoutes;
    impl RouteLookup for AllRoutes {
        fn source_for(&self, _: &ScopedAddr) -> Option<IpAddr> {
            Some("192.168.1.2".parse().unwrap())
        }
    }

    #[test]
    fn browsed_instances_become_urls() {
        let mut ok = found();
        ok.instance = "baremetal-introspection._openstack._tcp.local.".into();
        ok.txt = vec![b"path=/v1".to_vec(), b"ipa_debug=1".to_vec()];
        let mut bad = found();
        bad.instance = "identity._openstack._tcp.local.".into();
        bad.addresses = vec![];
        let names = |_: u32| None;
        let got: Vec<BrowsedService> = [ok, bad]
            .iter()
            .map(|s| browsed_service(Transport::Mdns, s, &AllRoutes, &names))
            .collect();
        let mut params = Properties::new();
        params.set_str("ipa_debug", "1");
        assert_eq!(
            got[0],
            BrowsedService {
                service_type: "baremetal-introspection".into(),
                url: Ok("http://192.168.1.1:80/v1".into()),
                params,
            }
        );
        assert_eq!(got[1].service_type, "identity");
        assert!(
            matches!(&got[1].url, Err(m) if m.contains("none of the addresses")),
            "{:?}",
            got[1].url
        );
    }
}

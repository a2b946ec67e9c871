//! The `url` target: endpoint parsing and URL building.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::endpoint;
use crate::service::{is_link_local_v6, ResolvedService, ScopedAddr};
use crate::wire::MAX_TXT_STRING;

use super::{Input, INSTANCE, SERVICE_TYPE};

/// SPEC 3.1 endpoint parsing and SPEC 4.3-4.7 URL building.
pub fn url(data: &[u8]) {
    let mut inp = Input::new(data);
    let mode = inp.u8();
    if mode & 1 == 0 {
        // An endpoint URL as given to register_service.
        let Ok(text) = std::str::from_utf8(inp.rest()) else {
            return;
        };
        let Ok(ep) = endpoint::parse_endpoint(text) else {
            return;
        };
        if ep.scheme == "https" && !text.contains(':') {
            unreachable!("https without ':'");
        }
        let props = endpoint::derived_properties(&ep);
        for s in endpoint::encode_txt(&props).unwrap_or_default() {
            assert!(s.len() <= MAX_TXT_STRING);
        }
        if let endpoint::Host::Name(n) = &ep.host {
            assert!(!n.is_empty(), "empty host accepted");
        }
        return;
    }
    // A resolved service to a URL.
    let port = inp.u16();
    let iface = inp.u8() as u32;
    let addr = if mode & 2 == 0 {
        let b = inp.bytes(4);
        let mut a = [0u8; 4];
        a[..b.len()].copy_from_slice(b);
        IpAddr::V4(Ipv4Addr::from(a))
    } else {
        let b = inp.bytes(16);
        let mut a = [0u8; 16];
        a[..b.len()].copy_from_slice(b);
        IpAddr::V6(Ipv6Addr::from(a))
    };
    let target = String::from_utf8_lossy(inp.chunk()).into_owned();
    let mut txt = Vec::new();
    while !inp.is_empty() {
        txt.push(inp.chunk().to_vec());
    }
    let chosen = ScopedAddr { addr, iface };
    let service = ResolvedService {
        validated: false,
        instance: INSTANCE.into(),
        target: target.clone(),
        port,
        txt,
        addresses: vec![chosen],
    };
    let ifname = |i: u32| (i == 7).then(|| "eth7".to_string());
    let Ok((url, props)) = endpoint::endpoint_url(SERVICE_TYPE, &service, &chosen, &ifname) else {
        return;
    };
    assert!(props.get("path").is_none() && props.get("protocol").is_none());
    let suffix = format!(":{port}");
    let (scheme, rest) = url.split_once("://").expect("scheme separator");
    assert!(!scheme.is_empty());
    let host = endpoint::url_host(&target, &chosen, &ifname);
    assert!(rest.starts_with(&format!("{host}{suffix}")), "{url}");
    // A plain http(s) URL to an address we chose reads back the same.
    let local = target.to_ascii_lowercase().ends_with(".local.");
    // SPEC 4.6 appends the path as received: only one that starts with
    // '/' makes a URL that reads back.
    let path = &rest[host.len() + suffix.len()..];
    let plain_path = (path.is_empty() || path.starts_with('/'))
        && path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/-_.~".contains(c));
    let link_local = matches!(addr, IpAddr::V6(a) if is_link_local_v6(&a));
    // SRV port 0 is written as received (like the reference); as an
    // endpoint to register it is refused.
    if local && (scheme == "http" || scheme == "https") && plain_path && !link_local && port != 0 {
        let ep = endpoint::parse_endpoint(&url).unwrap_or_else(|e| panic!("{url}: {e}"));
        assert_eq!(ep.host, endpoint::Host::Ip(addr), "{url}");
        assert_eq!(ep.port, port, "{url}");
    }
}

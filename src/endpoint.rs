//! SPEC sections 3 and 4 as pure functions: URL -> records, records -> URL.
//! The property types live in [`crate::props`].

use std::net::IpAddr;

use crate::error::{Error, Result};
use crate::props::Properties;
use crate::service::{
    is_link_local_v6, ResolvedService, ScopedAddr, ServiceInfo, ServiceType, Ttls, SERVICE_TYPE,
};

/// SPEC 1: the rules of [`ServiceType::new`].
pub fn check_service_type(service_type: &str) -> Result<()> {
    ServiceType::new(service_type).map(drop)
}

/// [`ServiceType::mdns_instance`] of a checked `service_type`.
pub fn instance_name(service_type: &str) -> Result<String> {
    Ok(ServiceType::new(service_type)?.mdns_instance())
}

/// [`ServiceType::mdns_query_name`] of a checked `service_type`.
pub fn instance_query_name(service_type: &str) -> Result<String> {
    Ok(ServiceType::new(service_type)?.mdns_query_name())
}

/// The OpenStack service type of a browsed instance (DNS presentation
/// text, as the querier reports it): the labels before
/// `._openstack._tcp.local.` unescaped (one label for every publisher that
/// follows SPEC 1; several joined by dots), else the first label.
pub fn service_type_of(instance: &str) -> String {
    let Ok(name) = simple_dns::Name::new(instance) else {
        return instance.split('.').next().unwrap_or_default().to_owned();
    };
    let labels = name.get_labels();
    let text = |l: &simple_dns::Label<'_>| String::from_utf8_lossy(l.as_ref()).into_owned();
    let st_labels = ["_openstack", "_tcp", "local"];
    let n = labels.len();
    if n > st_labels.len()
        && labels[n - st_labels.len()..]
            .iter()
            .zip(st_labels)
            .all(|(l, want)| l.as_ref().eq_ignore_ascii_case(want.as_bytes()))
    {
        return labels[..n - st_labels.len()]
            .iter()
            .map(text)
            .collect::<Vec<_>>()
            .join(".");
    }
    labels.first().map(text).unwrap_or_default()
}

/// The host part of an endpoint URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Host {
    /// An IP literal (`127.0.0.1`, `[::1]`).
    Ip(IpAddr),
    /// A DNS name, as the URL holds it (lowercased for http/https).
    Name(String),
}

/// An endpoint URL taken apart (SPEC 3.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// Lowercase scheme (`http`, `https`, ...).
    pub scheme: String,
    pub host: Host,
    /// The explicit port, else 443 for `https`, else 80.
    pub port: u16,
    /// The URL path (no query, no fragment); `""` or `/` when none.
    pub path: String,
}

/// Parse an endpoint URL (SPEC 3.1). A URL without a host is refused.
pub fn parse_endpoint(endpoint: &str) -> Result<Endpoint> {
    let bad = |why: String| Error::InvalidArgument(format!("invalid endpoint {endpoint:?}: {why}"));
    let url = url::Url::parse(endpoint).map_err(|e| bad(e.to_string()))?;
    let host = match url.host() {
        Some(url::Host::Ipv4(a)) => Host::Ip(IpAddr::V4(a)),
        Some(url::Host::Ipv6(a)) => Host::Ip(IpAddr::V6(a)),
        // Non-special schemes keep an IPv4 literal as an opaque host.
        Some(url::Host::Domain(d)) => match d.parse::<IpAddr>() {
            Ok(ip) => Host::Ip(ip),
            Err(_) if d.is_empty() => return Err(bad("no host".into())),
            Err(_) => Host::Name(d.to_owned()),
        },
        None => return Err(bad("no host".into())),
    };
    let scheme = url.scheme().to_owned();
    // The url crate drops a port equal to the scheme's known default
    // (e.g. `wss://h:443`), so look at the text for an explicit one.
    let port = match url.port().or_else(|| explicit_port(endpoint)) {
        // RFC 6763 s8: port 0 says the service is not available.
        Some(0) => return Err(bad("port 0 means the service is not available".into())),
        Some(p) => p,
        None if scheme == "https" => 443,
        None => 80,
    };
    Ok(Endpoint {
        scheme,
        host,
        port,
        path: url.path().to_owned(),
    })
}

/// The port written in a URL's authority, if any (the URL is known valid).
fn explicit_port(endpoint: &str) -> Option<u16> {
    let rest = &endpoint[endpoint.find("://")? + 3..];
    let authority = &rest[..rest.find(['/', '\\', '?', '#']).unwrap_or(rest.len())];
    let hostport = &authority[authority.rfind('@').map_or(0, |i| i + 1)..];
    let after_host = match hostport.rfind(']') {
        Some(i) => &hostport[i + 1..],
        None => hostport,
    };
    let digits = &after_host[after_host.rfind(':')? + 1..];
    digits.parse().ok()
}

/// The derived TXT keys (SPEC 3.5): `path` unless empty or `/`; `protocol`
/// unless the port is the scheme's own (80 for http, 443 for https).
pub fn derived_properties(ep: &Endpoint) -> Properties {
    let mut props = Properties::new();
    if !ep.path.is_empty() && ep.path != "/" {
        props.set_str("path", &ep.path);
    }
    let implied =
        (ep.port == 80 && ep.scheme == "http") || (ep.port == 443 && ep.scheme == "https");
    if !implied {
        props.set_str("protocol", &ep.scheme);
    }
    props
}

/// Merge TXT properties, later wins (SPEC 3.5): option params, call params,
/// derived keys; `txtvers=1` first unless a caller set `txtvers`
/// (RFC 6763 s6.7: txtvers SHOULD be the first key).
pub fn merge_properties(
    option_params: &Properties,
    call_params: Option<&Properties>,
    derived: &Properties,
) -> Properties {
    let mut merged = option_params.clone();
    if let Some(call) = call_params {
        merged.merge(call);
    }
    merged.merge(derived);
    if merged
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("txtvers"))
    {
        return merged;
    }
    let mut out = Properties::new();
    out.set_str("txtvers", "1");
    out.merge(&merged);
    out
}

/// TXT strings of properties: `key=value`, or `key` alone for a key
/// without value; values byte-exact. Every key and pair is checked
/// ([`crate::props::check_pair`]: RFC 6763 s6.1, s6.4).
pub fn encode_txt(props: &Properties) -> Result<Vec<Vec<u8>>> {
    props
        .iter()
        .map(|(key, value)| {
            crate::props::check_pair(key, value.as_deref())
                .map_err(|e| Error::InvalidArgument(e.0))?;
            let mut s = key.as_bytes().to_vec();
            if let Some(v) = value {
                s.push(b'=');
                s.extend_from_slice(v);
            }
            Ok(s)
        })
        .collect()
}

/// SRV target (SPEC 3.4): for an IP literal host the instance name itself,
/// otherwise the host name with a trailing dot.
pub fn srv_target(instance: &str, host: &Host) -> String {
    match host {
        Host::Ip(_) => instance.to_owned(),
        Host::Name(n) if n.ends_with('.') => n.clone(),
        Host::Name(n) => format!("{n}."),
    }
}

/// Addresses in resolver order without duplicates (SPEC 3.3).
pub fn dedupe_addresses(addrs: impl IntoIterator<Item = IpAddr>) -> Vec<IpAddr> {
    let mut out: Vec<IpAddr> = Vec::new();
    for a in addrs {
        if !out.contains(&a) {
            out.push(a);
        }
    }
    out
}

/// The service to publish for `service_type` at `ep`, with the resolved
/// `addresses` (SPEC 3.3-3.5): [`service_info_of`] once the service type
/// is checked.
pub fn service_info(
    service_type: &str,
    ep: &Endpoint,
    addresses: Vec<IpAddr>,
    option_params: &Properties,
    call_params: Option<&Properties>,
) -> Result<ServiceInfo> {
    let st = ServiceType::new(service_type)?;
    service_info_of(&st, ep, addresses, option_params, call_params)
}

/// The service to publish for a checked `service_type`.
pub fn service_info_of(
    service_type: &ServiceType,
    ep: &Endpoint,
    addresses: Vec<IpAddr>,
    option_params: &Properties,
    call_params: Option<&Properties>,
) -> Result<ServiceInfo> {
    let instance = service_type.mdns_instance();
    let addresses = dedupe_addresses(addresses);
    if addresses.is_empty() {
        return Err(Error::Registration(format!(
            "cannot register {service_type} service: no suitable addresses found for {}",
            host_text(&ep.host)
        )));
    }
    let props = merge_properties(option_params, call_params, &derived_properties(ep));
    Ok(ServiceInfo {
        target: srv_target(&instance, &ep.host),
        instance,
        service_type: SERVICE_TYPE.to_owned(),
        port: ep.port,
        txt: encode_txt(&props)?,
        addresses,
        ttls: Ttls::default(),
    })
}

/// A host as the reference's messages print it.
pub fn host_text(host: &Host) -> String {
    match host {
        Host::Ip(ip) => ip.to_string(),
        Host::Name(n) => n.clone(),
    }
}

/// Decode received TXT strings (SPEC 4.3). A key that is not UTF-8 fails;
/// a string without `=` is a key without value.
pub fn decode_txt(service_type: &str, txt: &[Vec<u8>]) -> Result<Properties> {
    let mut props = Properties::new();
    for s in txt {
        let (key, value) = match s.iter().position(|&b| b == b'=') {
            Some(i) => (&s[..i], Some(s[i + 1..].to_vec())),
            None => (&s[..], None),
        };
        // RFC 6763 s6.4: an empty string or one starting with '=' has no key
        // and is ignored.
        if key.is_empty() {
            continue;
        }
        let key = std::str::from_utf8(key).map_err(|e| {
            Error::Decode(format!(
                "invalid properties for service {service_type}: cannot decode key {}: {e}",
                bytes_repr(key)
            ))
        })?;
        // RFC 6763 s6.4: only the first occurrence of a key counts.
        if props.get(key).is_none() {
            props.set(key, value);
        }
    }
    Ok(props)
}

/// Python-like `b'...'` rendering of bytes, for messages.
fn bytes_repr(b: &[u8]) -> String {
    let mut s = String::from("b'");
    for &c in b {
        match c {
            b'\\' => s.push_str("\\\\"),
            b'\'' => s.push_str("\\'"),
            0x20..=0x7e => s.push(c as char),
            _ => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s.push('\'');
    s
}

/// The URL host (SPEC 4.5): for a `.local.` target the chosen address
/// (IPv6 in brackets, a link-local one with its zone), otherwise the
/// target without its trailing dot. `ifname` names an interface index.
pub fn url_host(
    target: &str,
    chosen: &ScopedAddr,
    ifname: &dyn Fn(u32) -> Option<String>,
) -> String {
    if !ends_with_ignore_case(target, ".local.") {
        return target.trim_end_matches('.').to_owned();
    }
    match chosen.addr {
        IpAddr::V4(a) => a.to_string(),
        IpAddr::V6(a) if is_link_local_v6(&a) && chosen.iface != 0 => {
            // RFC 6874 s2: the zone separator '%' is written "%25".
            let zone = ifname(chosen.iface).unwrap_or_else(|| chosen.iface.to_string());
            format!("[{a}%25{zone}]")
        }
        IpAddr::V6(a) => format!("[{a}]"),
    }
}

fn ends_with_ignore_case(s: &str, suffix: &str) -> bool {
    s.len() >= suffix.len()
        && s.is_char_boundary(s.len() - suffix.len())
        && s[s.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
}

/// SPEC 4.3-4.7: the URL and the remaining properties of a resolved
/// service, given the address chosen by [`crate::route::choose_address`].
pub fn endpoint_url(
    service_type: &str,
    service: &ResolvedService,
    chosen: &ScopedAddr,
    ifname: &dyn Fn(u32) -> Option<String>,
) -> Result<(String, Properties)> {
    let mut props = decode_txt(service_type, &service.txt)?;
    let path = match props.remove("path") {
        Some(Some(p)) => url_path(&p),
        _ => String::new(),
    };
    let protocol = match props.remove("protocol") {
        Some(Some(p)) if !p.is_empty() => String::from_utf8(p).map_err(|_| {
            Error::Decode(format!(
                "invalid properties for service {service_type}: protocol is not UTF-8"
            ))
        })?,
        _ if service.port == 80 => "http".to_owned(),
        _ => "https".to_owned(),
    };
    let host = url_host(&service.target, chosen, ifname);
    Ok((format!("{protocol}://{host}:{}{path}", service.port), props))
}

/// A received `path` value as URL text (SPEC 4.6 writes it as is); bytes
/// that are not UTF-8 are percent-encoded so that the URL stays text.
fn url_path(raw: &[u8]) -> String {
    match std::str::from_utf8(raw) {
        Ok(s) => s.to_owned(),
        Err(_) => raw
            .iter()
            .map(|&c| {
                if (0x21..0x7f).contains(&c) {
                    (c as char).to_string()
                } else {
                    format!("%{c:02X}")
                }
            })
            .collect(),
    }
}

/// Name of an interface index (if_indextoname).
pub fn if_name(index: u32) -> Option<String> {
    let mut buf = [0 as libc::c_char; libc::IF_NAMESIZE];
    // SAFETY: buf holds IF_NAMESIZE bytes as if_indextoname requires.
    let p = unsafe { libc::if_indextoname(index, buf.as_mut_ptr()) };
    if p.is_null() {
        return None;
    }
    // SAFETY: on success buf holds a NUL-terminated name.
    let name = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) };
    Some(name.to_string_lossy().into_owned())
}

/// SPEC 4.2-4.7 in one: choose the address of a resolved service through
/// `routes`, then build its URL and properties.
pub fn lookup_result(
    service_type: &str,
    service: &ResolvedService,
    skip_loopback: bool,
    skip_link_local: bool,
    routes: &dyn crate::route::RouteLookup,
    ifname: &dyn Fn(u32) -> Option<String>,
    warn: &mut dyn FnMut(&str),
) -> Result<(String, Properties)> {
    let chosen = crate::route::choose_address(
        service_type,
        &service.addresses,
        skip_loopback,
        skip_link_local,
        routes,
        warn,
    )?;
    endpoint_url(service_type, service, &chosen, ifname)
}

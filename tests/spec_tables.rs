//! The reference-case tables of SPEC sections 3 and 4, row by row, on the
//! pure functions (no sockets, no resolver, no engine).
#![allow(clippy::type_complexity)] // tables of rows

use std::cell::RefCell;
use std::net::IpAddr;

use ironicmdns::endpoint;
use ironicmdns::props::Properties;
use ironicmdns::route::{choose_address, RouteLookup};
use ironicmdns::service::{ResolvedService, ScopedAddr};
use ironicmdns::Error;

const INSTANCE: &str = "baremetal._openstack._tcp.local.";

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn props(pairs: &[(&str, Option<&[u8]>)]) -> Properties {
    let mut p = Properties::new();
    for (k, v) in pairs {
        p.set(k, v.map(|v| v.to_vec()));
    }
    p
}

fn txt(strings: &[&str]) -> Vec<Vec<u8>> {
    strings.iter().map(|s| s.as_bytes().to_vec()).collect()
}

// ---------------------------------------------------------------- SPEC 3

/// SPEC 3 reference cases: URL -> port, TXT, SRV target (the resolver's
/// answer is given). Beyond the reference, `txtvers=1` comes first.
#[test]
fn spec3_url_to_records() {
    struct Row {
        endpoint: &'static str,
        resolved: &'static [&'static str],
        port: u16,
        txt: &'static [&'static str],
        target: &'static str,
    }
    let rows = [
        Row {
            endpoint: "http://127.0.0.1",
            resolved: &["127.0.0.1"],
            port: 80,
            txt: &["txtvers=1"],
            target: INSTANCE,
        },
        Row {
            endpoint: "https://127.0.0.1",
            resolved: &["127.0.0.1"],
            port: 443,
            txt: &["txtvers=1"],
            target: INSTANCE,
        },
        Row {
            endpoint: "http://127.0.0.1:8080/bm",
            resolved: &["127.0.0.1"],
            port: 8080,
            txt: &["txtvers=1", "path=/bm", "protocol=http"],
            target: INSTANCE,
        },
        Row {
            endpoint: "https://127.0.0.1/baremetal",
            resolved: &["127.0.0.1"],
            port: 443,
            txt: &["txtvers=1", "path=/baremetal"],
            target: INSTANCE,
        },
        Row {
            endpoint: "http://example.com",
            resolved: &["1.2.3.4", "::2"],
            port: 80,
            txt: &["txtvers=1"],
            target: "example.com.",
        },
        // more rows of the same rules
        Row {
            endpoint: "http://[::1]:6385/",
            resolved: &["::1"],
            port: 6385,
            txt: &["txtvers=1", "protocol=http"],
            target: INSTANCE,
        },
        Row {
            endpoint: "https://127.0.0.1:80",
            resolved: &["127.0.0.1"],
            port: 80,
            txt: &["txtvers=1", "protocol=https"],
            target: INSTANCE,
        },
        Row {
            endpoint: "http://127.0.0.1:443",
            resolved: &["127.0.0.1"],
            port: 443,
            txt: &["txtvers=1", "protocol=http"],
            target: INSTANCE,
        },
        Row {
            endpoint: "HTTP://Example.COM:80/v1?x=1#f",
            resolved: &["1.2.3.4"],
            port: 80,
            txt: &["txtvers=1", "path=/v1"],
            target: "example.com.",
        },
        Row {
            endpoint: "http://example.com./",
            resolved: &["1.2.3.4"],
            port: 80,
            txt: &["txtvers=1"],
            target: "example.com.",
        },
        Row {
            endpoint: "ws://127.0.0.1",
            resolved: &["127.0.0.1"],
            port: 80,
            txt: &["txtvers=1", "protocol=ws"],
            target: INSTANCE,
        },
        Row {
            endpoint: "wss://127.0.0.1:443/x",
            resolved: &["127.0.0.1"],
            port: 443,
            txt: &["txtvers=1", "path=/x", "protocol=wss"],
            target: INSTANCE,
        },
    ];
    for row in rows {
        let ep = endpoint::parse_endpoint(row.endpoint).unwrap();
        let addrs: Vec<IpAddr> = row.resolved.iter().map(|s| ip(s)).collect();
        let info =
            endpoint::service_info("baremetal", &ep, addrs.clone(), &Properties::new(), None)
                .unwrap();
        assert_eq!(info.instance, INSTANCE, "{}", row.endpoint);
        assert_eq!(info.service_type, "_openstack._tcp.local.");
        assert_eq!(info.port, row.port, "{}", row.endpoint);
        assert_eq!(info.target, row.target, "{}", row.endpoint);
        assert_eq!(info.addresses, addrs, "{}", row.endpoint);
        assert_eq!(info.txt, txt(row.txt), "{}", row.endpoint);
    }
}

/// SPEC 3.5: option params, then call params, then derived keys.
#[test]
fn spec3_params_merge_order() {
    let option = props(&[("answer", Some(b"none")), ("foo", Some(b"bar"))]);
    let call = props(&[("answer", Some(b"42"))]);
    let ep = endpoint::parse_endpoint("https://127.0.0.1/baremetal").unwrap();
    let info = endpoint::service_info(
        "baremetal",
        &ep,
        vec![ip("127.0.0.1")],
        &option,
        Some(&call),
    )
    .unwrap();
    assert_eq!(
        info.txt,
        txt(&["txtvers=1", "answer=42", "foo=bar", "path=/baremetal"])
    );

    // derived keys win over the caller's
    let call = props(&[("path", Some(b"/other")), ("protocol", Some(b"ftp"))]);
    let info = endpoint::service_info(
        "baremetal",
        &ep,
        vec![ip("127.0.0.1")],
        &Properties::new(),
        Some(&call),
    )
    .unwrap();
    assert_eq!(
        info.txt,
        txt(&["txtvers=1", "path=/baremetal", "protocol=ftp"])
    );

    // a caller's txtvers is kept in its place, not doubled
    let option = props(&[("a", Some(b"1")), ("txtvers", Some(b"2"))]);
    let info =
        endpoint::service_info("baremetal", &ep, vec![ip("127.0.0.1")], &option, None).unwrap();
    assert_eq!(info.txt, txt(&["a=1", "txtvers=2", "path=/baremetal"]));
}

/// Property values: text, bytes kept as they are, a key without value.
#[test]
fn spec3_txt_strings() {
    let rows: &[(Properties, Result<Vec<Vec<u8>>, ()>)] = &[
        (props(&[("k", Some(b"v"))]), Ok(vec![b"k=v".to_vec()])),
        (props(&[("flag", None)]), Ok(vec![b"flag".to_vec()])),
        (props(&[("empty", Some(b""))]), Ok(vec![b"empty=".to_vec()])),
        (
            props(&[("bin", Some(&[0xe2, 0x28, 0xa1]))]),
            Ok(vec![b"bin=\xe2\x28\xa1".to_vec()]),
        ),
        (props(&[("eq", Some(b"a=b"))]), Ok(vec![b"eq=a=b".to_vec()])),
        (props(&[]), Ok(vec![])),
        (props(&[("", Some(b"v"))]), Err(())),
        (props(&[("a=b", Some(b"v"))]), Err(())),
        // RFC 6763 s6.1: 255 bytes at most, `long=` included
        (props(&[("long", Some(&[b'x'; 251]))]), Err(())),
        (
            props(&[("long", Some(&[b'x'; 250]))]),
            Ok(vec![[&b"long="[..], &[b'x'; 250]].concat()]),
        ),
    ];
    for (p, want) in rows {
        match (endpoint::encode_txt(p), want) {
            (Ok(got), Ok(want)) => assert_eq!(&got, want),
            (Err(Error::InvalidArgument(_)), Err(())) => {}
            (got, _) => panic!("{p:?}: {got:?}"),
        }
    }
}

#[test]
fn spec3_addresses_in_order_without_duplicates() {
    let ep = endpoint::parse_endpoint("http://example.com").unwrap();
    let resolved = vec![
        ip("1.2.3.4"),
        ip("::2"),
        ip("1.2.3.4"),
        ip("5.6.7.8"),
        ip("::2"),
    ];
    let info =
        endpoint::service_info("baremetal", &ep, resolved, &Properties::new(), None).unwrap();
    assert_eq!(
        info.addresses,
        vec![ip("1.2.3.4"), ip("::2"), ip("5.6.7.8")]
    );
    match endpoint::service_info("baremetal", &ep, vec![], &Properties::new(), None) {
        Err(Error::Registration(m)) => assert!(m.contains("example.com"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn spec3_bad_urls_are_invalid_arguments() {
    for bad in [
        "",
        "127.0.0.1",
        "not a url",
        "http://",
        "file:///etc/hosts",
        "mailto:a@b",
        "http://[::1",
        "http://h:99999",
    ] {
        match endpoint::parse_endpoint(bad) {
            Err(Error::InvalidArgument(m)) => assert!(m.contains("endpoint"), "{bad:?}: {m}"),
            other => panic!("{bad:?}: {other:?}"),
        }
    }
}

/// SPEC 1: the instance name and what DNS cannot carry.
#[test]
fn spec1_instance_names() {
    let long63 = "a".repeat(63);
    let long64 = "a".repeat(64);
    let rows: &[(&str, Option<String>)] = &[
        ("baremetal", Some(INSTANCE.into())),
        (
            "baremetal-introspection",
            Some("baremetal-introspection._openstack._tcp.local.".into()),
        ),
        (&long63, Some(format!("{long63}._openstack._tcp.local."))),
        ("", None),
        (&long64, None),
        // 33 two-byte characters: 66 bytes
        (&"é".repeat(33), None),
    ];
    for (st, want) in rows {
        match (endpoint::instance_name(st), want) {
            (Ok(got), Some(want)) => assert_eq!(&got, want),
            (Err(Error::InvalidArgument(_)), None) => {}
            (got, _) => panic!("{st:?}: {got:?}"),
        }
    }
    // Bytes that are not UTF-8 are refused where they enter, at the C
    // boundary (capi::strings::in_str, its tests).
}

/// SPEC 1: one meaning for a service type. It is the instance's
/// first label, literally: the publisher's name, the querier's escaped
/// name and what browse reports all carry the same label, and what cannot
/// be a label (or the reference refuses) is refused by all three.
#[test]
fn spec1_a_service_type_means_one_label_everywhere() {
    // (service type, the querier's presentation text)
    let rows: &[(&str, &str)] = &[
        ("baremetal", "baremetal._openstack._tcp.local."),
        ("a.b", r"a\.b._openstack._tcp.local."),
        ("_x._tcp", r"_x\._tcp._openstack._tcp.local."),
        (r"back\slash", r"back\\slash._openstack._tcp.local."),
        (".", r"\.._openstack._tcp.local."),
        ("a..b", r"a\.\.b._openstack._tcp.local."),
        ("My Printer (2)", "My Printer (2)._openstack._tcp.local."),
        ("caf\u{e9}", "caf\u{e9}._openstack._tcp.local."),
    ];
    for (st, query) in rows {
        assert_eq!(
            endpoint::instance_query_name(st).as_deref(),
            Ok(*query),
            "{st:?}"
        );
        // what the querier parses is one label followed by the DNS-SD type
        let name = simple_dns::Name::new(query).unwrap();
        let labels: Vec<&[u8]> = name.get_labels().iter().map(|l| l.as_ref()).collect();
        assert_eq!(labels.len(), 4, "{st:?}");
        assert_eq!(labels[0], st.as_bytes(), "{st:?}");
        // the publisher's text: the literal type before the DNS-SD type
        assert_eq!(
            endpoint::instance_name(st),
            Ok(format!("{st}._openstack._tcp.local.")),
            "{st:?}"
        );
        // browse reports the instance as the querier prints it (escaped):
        // the service type comes back unchanged
        assert_eq!(
            endpoint::service_type_of(&format!("{name}.")),
            *st,
            "{st:?}"
        );
        // the registration's SRV target is the instance itself (no split)
        let ep = endpoint::parse_endpoint("http://198.18.0.1:6385").unwrap();
        let info =
            endpoint::service_info(st, &ep, vec![ip("198.18.0.1")], &Properties::new(), None)
                .unwrap_or_else(|e| panic!("{st:?}: {e}"));
        assert_eq!(info.target, info.instance, "{st:?}");
    }
    let long64 = "a".repeat(64);
    for bad in [
        "",
        long64.as_str(),
        "tab\there",
        "nl\n",
        "nul\0",
        "del\u{7f}",
    ] {
        for got in [
            endpoint::instance_name(bad),
            endpoint::instance_query_name(bad),
            endpoint::check_service_type(bad).map(|()| String::new()),
        ] {
            assert!(
                matches!(&got, Err(Error::InvalidArgument(m)) if m.contains("service type")),
                "{bad:?}: {got:?}"
            );
        }
    }
    // another publisher's two-label instance reads as its dotted text
    assert_eq!(
        endpoint::service_type_of("a.b._openstack._tcp.local."),
        "a.b"
    );
}

/// SPEC 3.5 / RFC 6763 s6.4: keys are case-insensitive, the derived keys
/// win, and only printable US-ASCII keys without '=' are published.
#[test]
fn spec3_keys_merge_without_regard_to_case() {
    let ep = endpoint::parse_endpoint("http://198.18.0.1:8080/real").unwrap();
    let option = props(&[("Foo", Some(b"opt")), ("TXTVERS", Some(b"1"))]);
    let call = props(&[
        ("PATH", Some(b"/evil")),
        ("Protocol", Some(b"gopher")),
        ("foo", Some(b"call")),
    ]);
    let info = endpoint::service_info(
        "baremetal",
        &ep,
        vec![ip("198.18.0.1")],
        &option,
        Some(&call),
    )
    .unwrap();
    assert_eq!(
        info.txt,
        txt(&["foo=call", "TXTVERS=1", "path=/real", "protocol=http"])
    );
    for bad in ["caf\u{e9}", "tab\t", "a=b", "", "nl\n"] {
        let call = props(&[(bad, Some(b"1"))]);
        match endpoint::service_info(
            "baremetal",
            &ep,
            vec![ip("198.18.0.1")],
            &Properties::new(),
            Some(&call),
        ) {
            Err(Error::InvalidArgument(m)) => assert!(m.contains("key"), "{bad:?}: {m}"),
            other => panic!("{bad:?}: {other:?}"),
        }
    }
    // received: the first occurrence of a key counts, in any case
    let got = endpoint::decode_txt("baremetal", &txt(&["Path=/a", "path=/b", "k=1"])).unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(got.get("PATH"), Some(&Some(b"/a".to_vec())));
}

/// RFC 6763 s8: port 0 means "not available"; refused at registration.
#[test]
fn spec3_port_zero_is_refused() {
    for bad in [
        "http://198.18.0.1:0",
        "https://[fd00:99::1]:0/x",
        "http://h:00",
    ] {
        match endpoint::parse_endpoint(bad) {
            Err(Error::InvalidArgument(m)) => assert!(m.contains("port 0"), "{bad:?}: {m}"),
            other => panic!("{bad:?}: {other:?}"),
        }
    }
    assert_eq!(endpoint::parse_endpoint("http://h:1").unwrap().port, 1);
}

// ---------------------------------------------------------------- SPEC 4

/// A fake routing table: address -> route source; counts lookups.
struct Routes {
    table: Vec<(&'static str, Option<&'static str>)>,
    asked: RefCell<Vec<IpAddr>>,
}

impl Routes {
    fn new(table: &[(&'static str, Option<&'static str>)]) -> Routes {
        Routes {
            table: table.to_vec(),
            asked: RefCell::new(vec![]),
        }
    }
}

impl RouteLookup for Routes {
    fn source_for(&self, addr: &ScopedAddr) -> Option<IpAddr> {
        self.asked.borrow_mut().push(addr.addr);
        // Unlisted addresses are routable through 192.168.1.2.
        match self.table.iter().find(|(a, _)| ip(a) == addr.addr) {
            Some((_, src)) => src.map(ip),
            None => Some(ip("192.168.1.2")),
        }
    }
}

fn ifnames(i: u32) -> Option<String> {
    match i {
        2 => Some("eth0".into()),
        _ => None,
    }
}

struct Row {
    addresses: &'static [&'static str],
    port: u16,
    txt: Vec<Vec<u8>>,
    target: &'static str,
    routes: &'static [(&'static str, Option<&'static str>)],
    skip_loopback: bool,
    skip_link_local: bool,
    want: Result<(&'static str, Properties), &'static str>,
}

fn row(
    addresses: &'static [&'static str],
    port: u16,
    txt: Vec<Vec<u8>>,
    target: &'static str,
    want: Result<(&'static str, Properties), &'static str>,
) -> Row {
    Row {
        addresses,
        port,
        txt,
        target,
        routes: &[],
        skip_loopback: true,
        skip_link_local: false,
        want,
    }
}

fn check(i: usize, r: &Row) -> Vec<IpAddr> {
    let service = ResolvedService {
        validated: false,
        instance: INSTANCE.into(),
        target: r.target.into(),
        port: r.port,
        txt: r.txt.clone(),
        addresses: r
            .addresses
            .iter()
            .map(|a| ScopedAddr {
                addr: ip(a),
                iface: 2,
            })
            .collect(),
    };
    let routes = Routes::new(r.routes);
    let mut warnings = vec![];
    let got = endpoint::lookup_result(
        "baremetal",
        &service,
        r.skip_loopback,
        r.skip_link_local,
        &routes,
        &ifnames,
        &mut |m| warnings.push(m.to_owned()),
    );
    match (&got, &r.want) {
        (Ok((url, p)), Ok((want_url, want_p))) => {
            assert_eq!(url, want_url, "row {i}");
            assert_eq!(p, want_p, "row {i}");
        }
        (Err(e), Err(want)) => assert!(e.to_string().contains(want), "row {i}: {e} lacks {want:?}"),
        _ => panic!("row {i}: got {got:?}, want {:?}", r.want),
    }
    let asked = routes.asked.borrow().clone();
    asked
}

/// SPEC 4 reference cases: what a peer publishes -> URL, properties.
#[test]
fn spec4_records_to_url() {
    let none = Properties::new;
    let rows = vec![
        row(
            &["192.168.1.1"],
            80,
            vec![],
            "x.local.",
            Ok(("http://192.168.1.1:80", none())),
        ),
        row(
            &["::2"],
            80,
            vec![],
            "x.local.",
            Ok(("http://[::2]:80", none())),
        ),
        row(
            &["192.168.1.1"],
            443,
            vec![],
            "x.local.",
            Ok(("https://192.168.1.1:443", none())),
        ),
        row(
            &["192.168.1.1"],
            8080,
            txt(&["path=/baremetal"]),
            "x.local.",
            Ok(("https://192.168.1.1:8080/baremetal", none())),
        ),
        row(
            &["192.168.1.1"],
            8080,
            txt(&["path=/baremetal", "protocol=http"]),
            "x.local.",
            Ok(("http://192.168.1.1:8080/baremetal", none())),
        ),
        row(
            &["192.168.1.1"],
            80,
            txt(&["ipa_debug=1"]),
            "x.local.",
            Ok(("http://192.168.1.1:80", props(&[("ipa_debug", Some(b"1"))]))),
        ),
        row(
            &["192.168.1.1"],
            80,
            vec![b"binary=\xe2\x28\xa1".to_vec()],
            "x.local.",
            Ok((
                "http://192.168.1.1:80",
                props(&[("binary", Some(&[0xe2, 0x28, 0xa1]))]),
            )),
        ),
        row(
            &["192.168.1.1"],
            80,
            vec![b"ipa_debug".to_vec(), b"\xc3\x28=value".to_vec()],
            "x.local.",
            Err("cannot decode key"),
        ),
        row(
            &["192.168.1.1"],
            443,
            vec![],
            "openstack.example.com.",
            Ok(("https://openstack.example.com:443", none())),
        ),
        row(
            &["::1"],
            80,
            vec![],
            "x.local.",
            Err("none of the addresses ['::1'] for service baremetal are valid"),
        ),
        Row {
            routes: &[("::2", None), ("::3", Some("::4"))],
            ..row(
                &["::1", "::2", "::3"],
                80,
                vec![],
                "x.local.",
                Ok(("http://[::3]:80", none())),
            )
        },
        Row {
            routes: &[("::2", None), ("::3", None)],
            ..row(
                &["::2", "::3"],
                80,
                vec![],
                "x.local.",
                Ok(("http://[::2]:80", none())),
            )
        },
    ];
    for (i, r) in rows.iter().enumerate() {
        let asked = check(i, r);
        match i {
            // ::1 is skipped before any route lookup (the reference's two calls)
            10 => assert_eq!(asked, vec![ip("::2"), ip("::3")]),
            9 => assert!(asked.is_empty()),
            _ => {}
        }
    }
}

/// Further rows of the same rules: TXT decoding, defaults, hosts.
#[test]
fn spec4_more_rows() {
    let none = Properties::new;
    let rows = vec![
        // a key without '=' has no value; `k=` has an empty one
        row(
            &["192.168.1.1"],
            80,
            txt(&["flag", "empty=", "k=a=b"]),
            "x.local.",
            Ok((
                "http://192.168.1.1:80",
                props(&[("flag", None), ("empty", Some(b"")), ("k", Some(b"a=b"))]),
            )),
        ),
        // RFC 6763 s6.4: first occurrence wins, keyless strings ignored
        row(
            &["192.168.1.1"],
            80,
            txt(&["a=1", "a=2", "=x", ""]),
            "x.local.",
            Ok(("http://192.168.1.1:80", props(&[("a", Some(b"1"))]))),
        ),
        // txtvers stays among the properties, as any other key
        row(
            &["192.168.1.1"],
            80,
            txt(&["txtvers=1", "path=/v1"]),
            "x.local.",
            Ok((
                "http://192.168.1.1:80/v1",
                props(&[("txtvers", Some(b"1"))]),
            )),
        ),
        // empty or valueless protocol: the default
        row(
            &["192.168.1.1"],
            80,
            txt(&["protocol="]),
            "x.local.",
            Ok(("http://192.168.1.1:80", none())),
        ),
        row(
            &["192.168.1.1"],
            8443,
            txt(&["protocol"]),
            "x.local.",
            Ok(("https://192.168.1.1:8443", none())),
        ),
        row(
            &["192.168.1.1"],
            443,
            txt(&["path", "protocol=http"]),
            "x.local.",
            Ok(("http://192.168.1.1:443", none())),
        ),
        // the instance name as SRV target (what we publish for an IP literal)
        row(
            &["198.18.0.2"],
            6385,
            txt(&["txtvers=1", "protocol=http"]),
            INSTANCE,
            Ok(("http://198.18.0.2:6385", props(&[("txtvers", Some(b"1"))]))),
        ),
        // a DNS name target drops only its trailing dot
        row(
            &["192.168.1.1"],
            80,
            vec![],
            "Cloud.Example.",
            Ok(("http://Cloud.Example:80", none())),
        ),
        // RFC 6874: a link-local IPv6 address carries its zone
        row(
            &["fe80::1"],
            80,
            vec![],
            "x.local.",
            Ok(("http://[fe80::1%25eth0]:80", none())),
        ),
        // loopback kept when asked
        Row {
            skip_loopback: false,
            ..row(
                &["::1"],
                80,
                vec![],
                "x.local.",
                Ok(("http://[::1]:80", none())),
            )
        },
        Row {
            skip_loopback: false,
            ..row(
                &["127.0.0.1"],
                80,
                vec![],
                "x.local.",
                Ok(("http://127.0.0.1:80", none())),
            )
        },
        row(
            &["127.0.0.1", "127.0.0.2"],
            80,
            vec![],
            "x.local.",
            Err("none of the addresses ['127.0.0.1', '127.0.0.2']"),
        ),
        row(
            &[],
            80,
            vec![],
            "x.local.",
            Err("none of the addresses [] for service baremetal are valid"),
        ),
        // skip_link_local: a link-local route source counts as no route
        Row {
            routes: &[
                ("fd00:99::2", Some("fe80::9")),
                ("198.18.0.2", Some("198.18.0.1")),
            ],
            skip_link_local: true,
            ..row(
                &["fd00:99::2", "198.18.0.2"],
                80,
                vec![],
                "x.local.",
                Ok(("http://198.18.0.2:80", none())),
            )
        },
        Row {
            routes: &[
                ("fd00:99::2", Some("fe80::9")),
                ("198.18.0.2", Some("198.18.0.1")),
            ],
            ..row(
                &["fd00:99::2", "198.18.0.2"],
                80,
                vec![],
                "x.local.",
                Ok(("http://[fd00:99::2]:80", none())),
            )
        },
        Row {
            routes: &[
                ("10.0.0.2", Some("169.254.1.1")),
                ("10.0.0.3", Some("169.254.1.1")),
            ],
            skip_link_local: true,
            ..row(
                &["10.0.0.2", "10.0.0.3"],
                80,
                vec![],
                "x.local.",
                Ok(("http://10.0.0.2:80", none())),
            )
        },
    ];
    for (i, r) in rows.iter().enumerate() {
        check(i, r);
    }
}

#[test]
fn spec4_fallback_warns() {
    let addrs: Vec<ScopedAddr> = ["::2", "::3"]
        .iter()
        .map(|a| ScopedAddr {
            addr: ip(a),
            iface: 2,
        })
        .collect();
    let routes = Routes::new(&[("::2", None), ("::3", None)]);
    let mut warnings = vec![];
    let got = choose_address("baremetal", &addrs, true, false, &routes, &mut |m| {
        warnings.push(m.to_owned())
    })
    .unwrap();
    assert_eq!(got.addr, ip("::2"));
    assert_eq!(
        warnings,
        vec!["none of addresses ['::2', '::3'] seem routable, using ::2".to_owned()]
    );

    let routes = Routes::new(&[("::2", None), ("::3", Some("::4"))]);
    let mut warnings = vec![];
    choose_address("baremetal", &addrs, true, false, &routes, &mut |m| {
        warnings.push(m.to_owned())
    })
    .unwrap();
    assert!(warnings.is_empty());
}

#[test]
fn spec4_zone_without_interface_name_uses_the_index() {
    let chosen = ScopedAddr {
        addr: ip("fe80::1"),
        iface: 7,
    };
    assert_eq!(
        endpoint::url_host("x.local.", &chosen, &ifnames),
        "[fe80::1%257]"
    );
    // no interface known: no zone
    let chosen = ScopedAddr {
        addr: ip("fe80::1"),
        iface: 0,
    };
    assert_eq!(
        endpoint::url_host("x.local.", &chosen, &ifnames),
        "[fe80::1]"
    );
}

/// Round trip: what we publish for an endpoint reads back as that endpoint.
#[test]
fn spec3_then_spec4_round_trip() {
    let rows = [
        ("http://198.18.0.2", "http://198.18.0.2:80"),
        ("https://198.18.0.2", "https://198.18.0.2:443"),
        ("http://198.18.0.2:8080/bm", "http://198.18.0.2:8080/bm"),
        (
            "https://198.18.0.2/baremetal",
            "https://198.18.0.2:443/baremetal",
        ),
        ("https://198.18.0.2:6385/v1/", "https://198.18.0.2:6385/v1/"),
        ("http://[fd00:99::2]:6385", "http://[fd00:99::2]:6385"),
    ];
    for (url, want) in rows {
        let ep = endpoint::parse_endpoint(url).unwrap();
        let addr = match &ep.host {
            endpoint::Host::Ip(a) => *a,
            endpoint::Host::Name(_) => unreachable!(),
        };
        let info =
            endpoint::service_info("baremetal", &ep, vec![addr], &Properties::new(), None).unwrap();
        let service = ResolvedService {
            validated: false,
            instance: info.instance.clone(),
            target: info.target.clone(),
            port: info.port,
            txt: info.txt.clone(),
            addresses: info
                .addresses
                .iter()
                .map(|&addr| ScopedAddr { addr, iface: 2 })
                .collect(),
        };
        let (got, p) = endpoint::lookup_result(
            "baremetal",
            &service,
            true,
            false,
            &Routes::new(&[]),
            &ifnames,
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(got, want, "{url}");
        assert_eq!(p, props(&[("txtvers", Some(b"1"))]), "{url}");
    }
}

//! The pure parts of the lookup: SRV choice, host-name checks, addresses
//! by owner, TXT strings, browse limits.

use super::*;
use simple_dns::{ResourceRecord, CLASS};

fn n(text: &str) -> Name<'static> {
    message::name(text).unwrap()
}

/// A name from raw labels (bytes a server may send).
fn raw(labels: &[&[u8]]) -> Name<'static> {
    let l: Vec<simple_dns::Label<'static>> = labels
        .iter()
        .map(|b| simple_dns::Label::new_unchecked(b.to_vec()))
        .collect();
    Name::new_with_labels(&l)
}

#[test]
fn host_names_only() {
    for ok in [
        "conductor.example.test.",
        "a.b",
        "x-1.example.test.",
        "1x.example",
    ] {
        assert!(is_host_name(&n(ok)), "{ok}");
    }
    for bad in [
        &[b"u@h".as_slice(), b"test"][..],
        &[b"a/b", b"test"],
        &[b"h:80", b"test"],
        &[b"x\nERROR", b"test"],
        &[b"_http", b"test"],
        &[b"-x", b"test"],
        &[b"x-", b"test"],
        &[b"caf\xc3\xa9", b"test"],
        &[b"a b", b"test"],
        &[],
    ] {
        assert!(!is_host_name(&raw(bad)), "{bad:?}");
    }
}

#[test]
fn our_address_host_form_may_hold_underscores() {
    let inst = "ironic_api._openstack._tcp.example.test.";
    assert!(holds_addresses(inst, "ironic_api.example.test."));
    assert!(holds_addresses(
        inst,
        "IRONIC_API._openstack._tcp.example.test."
    ));
    assert!(!holds_addresses(inst, "other_api.example.test."));
    assert!(!is_host_name(&raw(&[b"ironic_api", b"example", b"test"])));
}

const INST: &str = "baremetal._openstack._tcp.example.test.";

fn srv(
    owner: &str,
    priority: u16,
    weight: u16,
    port: u16,
    target: &str,
) -> ResourceRecord<'static> {
    ResourceRecord::new(
        n(owner),
        CLASS::IN,
        60,
        RData::SRV(simple_dns::rdata::SRV {
            priority,
            weight,
            port,
            target: n(target),
        }),
    )
}

fn a(owner: &str, ip: &str) -> ResourceRecord<'static> {
    crate::wire::addr(&n(owner), ip.parse().unwrap(), 60, false)
}

fn cname(owner: &str, to: &str) -> ResourceRecord<'static> {
    ResourceRecord::new(
        n(owner),
        CLASS::IN,
        60,
        RData::CNAME(simple_dns::rdata::CNAME(n(to))),
    )
}

fn ptr(owner: &str, to: &str) -> ResourceRecord<'static> {
    crate::wire::ptr(&n(owner), &n(to), 60)
}

#[test]
fn srv_lowest_priority_then_highest_weight_of_the_owner_only() {
    let rrs = vec![
        srv(INST, 10, 100, 1, "p10.example.test."),
        srv(INST, 0, 5, 2, "w5.example.test."),
        srv(INST, 0, 60, 3, "w60.example.test."),
        srv(INST, 0, 60, 4, "w60b.example.test."),
        // another owner, better on paper: not ours
        srv(
            "identity._openstack._tcp.example.test.",
            0,
            999,
            5,
            "other.example.test.",
        ),
    ];
    let (port, target, name) = choose_srv(&rrs, INST).unwrap();
    assert_eq!((port, target.as_str()), (3, "w60.example.test."));
    assert_eq!(message::name_text(&name), target);
    // case of the owner does not matter
    assert_eq!(choose_srv(&rrs, &INST.to_ascii_uppercase()).unwrap().0, 3);
    assert!(choose_srv(&rrs[4..], INST).is_none(), "none of ours");
    // a lower priority wins whatever its weight
    let rrs = vec![
        srv(INST, 1, 65535, 1, "a.test."),
        srv(INST, 0, 0, 2, "b.test."),
    ];
    assert_eq!(choose_srv(&rrs, INST).unwrap().0, 2);
}

#[test]
fn addresses_only_of_the_owner_once_each() {
    let t = "conductor.example.test.";
    let rrs = vec![
        a(t, "198.18.0.10"),
        a("evil.example.test.", "198.18.0.66"),
        a("CONDUCTOR.example.test.", "198.18.0.11"),
        a(t, "198.18.0.10"),
        a(t, "fd00:99::10"),
    ];
    let mut out = Vec::new();
    add_addresses(&mut out, &rrs, t, T_A);
    let got: Vec<String> = out.iter().map(|s| s.addr.to_string()).collect();
    assert_eq!(got, ["198.18.0.10", "198.18.0.11"]);
    add_addresses(&mut out, &rrs, t, T_AAAA);
    assert_eq!(out.len(), 3);
    assert_eq!(out[2].addr.to_string(), "fd00:99::10");
}

#[test]
fn cname_chains_are_followed_within_bounds() {
    let rrs = vec![
        cname("www.example.test.", "web.example.test."),
        cname("web.example.test.", "host.example.test."),
        a("host.example.test.", "198.18.0.5"),
    ];
    let (end, via) = follow_cnames(&rrs, "WWW.example.test.");
    assert_eq!(end, "host.example.test.");
    assert_eq!(via, ["www.example.test.", "web.example.test."]);
    let mut out = Vec::new();
    add_addresses(&mut out, &rrs, &end, T_A);
    assert_eq!(out[0].addr.to_string(), "198.18.0.5");
    // no CNAME: the name itself
    assert_eq!(
        follow_cnames(&rrs, "host.example.test.").0,
        "host.example.test."
    );
    // a loop ends
    let looped = vec![cname("a.test.", "b.test."), cname("b.test.", "a.test.")];
    let (end, via) = follow_cnames(&looped, "a.test.");
    assert_eq!((end.as_str(), via.len()), ("b.test.", 1));
    // a long chain stops after MAX_CNAMES steps
    let long: Vec<_> = (0..20)
        .map(|i| cname(&format!("c{i}.test."), &format!("c{}.test.", i + 1)))
        .collect();
    let (end, via) = follow_cnames(&long, "c0.test.");
    assert_eq!(via.len(), MAX_CNAMES);
    assert_eq!(end, format!("c{MAX_CNAMES}.test."));
}

#[test]
fn browse_domains_owned_by_the_name_asked_at_most_16() {
    let b = "b._dns-sd._udp.example.test.";
    let mut rrs: Vec<_> = (0..40).map(|i| ptr(b, &format!("d{i}.test."))).collect();
    rrs.insert(0, ptr("x.b._dns-sd._udp.example.test.", "elsewhere.test."));
    rrs.insert(1, ptr(b, "example.test."));
    rrs.insert(2, ptr(b, "D0.test."));
    let mut domains = vec!["example.test.".to_string()];
    add_browse_domains(&mut domains, &rrs, b);
    assert_eq!(domains.len(), MAX_BROWSE_DOMAINS);
    assert!(
        !domains.contains(&"elsewhere.test.".to_string()),
        "{domains:?}"
    );
    assert_eq!(&domains[..3], ["example.test.", "d0.test.", "d1.test."]);
}

#[test]
fn instances_of_the_service_name_once_at_most_256() {
    let svc = "_openstack._tcp.example.test.";
    let mut rrs: Vec<_> = (0..300)
        .map(|i| ptr(svc, &format!("s{i}._openstack._tcp.example.test.")))
        .collect();
    rrs.insert(0, ptr(svc, "S0._openstack._tcp.example.test."));
    rrs.insert(
        0,
        ptr("_other._tcp.example.test.", "x._other._tcp.example.test."),
    );
    let mut instances = Vec::new();
    add_instances(&mut instances, &rrs, svc);
    assert_eq!(instances.len(), MAX_INSTANCES);
    assert_eq!(instances[0].0, "s0._openstack._tcp.example.test.");
    assert_eq!(instances[1].0, "s1._openstack._tcp.example.test.");
    assert!(instances.iter().all(|(t, _)| t.ends_with(svc)));
}

#[test]
fn txt_strings_byte_exact_and_one_empty_string_is_none() {
    let name = n(INST);
    let t = crate::wire::txt(&name, &[b"a=1".to_vec(), vec![0xFF, b'=', 0]], 60).unwrap();
    assert_eq!(txt_strings(&t), vec![b"a=1".to_vec(), vec![0xFF, b'=', 0]]);
    let empty = crate::wire::txt(&name, &[Vec::new()], 60).unwrap();
    assert!(txt_strings(&empty).is_empty());
}

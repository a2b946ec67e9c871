//! The pure parts of the lookup: SRV choice, host-name checks, addresses
//! by owner, TXT strings, browse limits.

use super::*;

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

//! Every class of malformed packet is refused; our own packets fit.

use super::*;

/// Header: id 0, flags, qd, an, ns, ar.
fn header(flags: u16, qd: u16, an: u16) -> Vec<u8> {
    let mut v = vec![0, 0];
    for x in [flags, qd, an, 0, 0] {
        v.extend_from_slice(&x.to_be_bytes());
    }
    v
}

fn name_bytes(labels: &[&[u8]]) -> Vec<u8> {
    let mut v = Vec::new();
    for l in labels {
        v.push(l.len() as u8);
        v.extend_from_slice(l);
    }
    v.push(0);
    v
}

fn query_for(labels: &[&[u8]]) -> Vec<u8> {
    let mut v = header(0, 1, 0);
    v.extend(name_bytes(labels));
    v.extend_from_slice(&[0, 12, 0, 1]);
    v
}

#[test]
fn well_formed_query_parses() {
    let p = parse(&query_for(&[b"_openstack", b"_tcp", b"local"])).unwrap();
    assert_eq!(p.questions.len(), 1);
    assert_eq!(
        p.questions[0].qname,
        name_from_str("_openstack._tcp.local.").unwrap()
    );
}

#[test]
fn rfc1035_s4_1_4_compression_loop_refused() {
    // A pointer to itself.
    let mut v = header(0, 1, 0);
    v.extend_from_slice(&[0xC0, 12, 0, 12, 0, 1]);
    assert_eq!(prescan(&v), Err(WireError::ForwardPointer));
    assert!(parse(&v).is_err());
    // A label then a pointer back to it: the name grows without end.
    let mut v = header(0, 1, 0);
    v.extend_from_slice(&[1, b'a', 0xC0, 12, 0, 12, 0, 1]);
    assert_eq!(prescan(&v), Err(WireError::NameTooLong));
}

#[test]
fn rfc1035_s4_1_4_forward_pointer_refused() {
    let mut v = header(0, 2, 0);
    v.extend_from_slice(&[0xC0, 18, 0, 12, 0, 1]);
    v.extend(name_bytes(&[b"local"]));
    v.extend_from_slice(&[0, 12, 0, 1]);
    assert_eq!(prescan(&v), Err(WireError::ForwardPointer));
    assert!(parse(&v).is_err());
}

#[test]
fn rfc6891_reserved_label_bits_refused() {
    for bits in [0x40u8, 0x80] {
        let mut v = header(0, 1, 0);
        v.extend_from_slice(&[bits | 1, b'a', 0, 0, 12, 0, 1]);
        assert_eq!(prescan(&v), Err(WireError::ReservedLabelBits), "{bits:#x}");
        assert!(parse(&v).is_err());
    }
}

#[test]
fn rfc1035_s2_3_4_name_over_255_bytes_refused() {
    let l = [b'x'; 63];
    let v = query_for(&[&l, &l, &l, &l, b"local"]);
    assert_eq!(prescan(&v), Err(WireError::NameTooLong));
    assert!(parse(&v).is_err());
    // 255 exactly is fine: 3 x 64 + 62 + 1.
    let v = query_for(&[&l, &l, &l, &[b'y'; 61]]);
    assert!(parse(&v).is_ok());
}

#[test]
fn rfc1035_s4_1_counts_larger_than_data_refused() {
    let mut v = query_for(&[b"local"]);
    v[5] = 200;
    assert_eq!(prescan(&v), Err(WireError::CountsExceedData));
    let mut v = query_for(&[b"local"]);
    v[5] = 2; // two questions claimed, one present
    assert_eq!(prescan(&v), Err(WireError::Truncated));
}

fn answer(rtype: u16, rdata: &[u8]) -> Vec<u8> {
    let mut v = header(0x8400, 0, 1);
    v.extend(name_bytes(&[b"x", b"local"]));
    v.extend_from_slice(&rtype.to_be_bytes());
    v.extend_from_slice(&[0, 1, 0, 0, 0, 120]);
    v.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
    v.extend_from_slice(rdata);
    v
}

#[test]
fn rfc1035_s4_1_3_truncated_records_refused() {
    let good = answer(T_A, &[198, 18, 0, 1]);
    assert!(parse(&good).is_ok());
    for cut in 12..good.len() {
        assert!(parse(&good[..cut]).is_err(), "cut at {cut}");
    }
    // RDLENGTH beyond the data.
    let mut v = good.clone();
    let n = v.len();
    v[n - 5] = 9;
    assert_eq!(prescan(&v), Err(WireError::Truncated));
    // A TXT string running past its RDATA.
    assert_eq!(
        prescan(&answer(T_TXT, &[5, b'a', b'b'])),
        Err(WireError::Truncated)
    );
    // An SRV whose target runs past its RDATA.
    assert_eq!(
        prescan(&answer(T_SRV, &[0, 0, 0, 0, 0, 80, 5, b'a'])),
        Err(WireError::Truncated)
    );
}

#[test]
fn rfc6762_s17_packet_over_9000_bytes_refused() {
    let mut v = query_for(&[b"local"]);
    v.resize(MAX_PACKET + 1, 0);
    assert_eq!(prescan(&v), Err(WireError::TooLarge));
}

#[test]
fn rfc6762_s18_4_z_bit_ignored() {
    let mut v = query_for(&[b"local"]);
    v[3] |= 0x40;
    assert!(parse(&v).is_ok());
}

#[test]
fn rfc6763_s6_1_empty_txt_written_as_zero_length_rdata() {
    let n = name_from_str("a._openstack._tcp.local.").unwrap();
    let r = txt(&n, &[], 4500).unwrap();
    assert!(rdata_bytes(&r).is_empty());
    let one = txt(&n, &[Vec::new()], 4500).unwrap();
    assert_eq!(rdata_bytes(&one), vec![0]);
    assert!(same_rdata(&r, &one), "equivalent per RFC 6763 s6.1");
    let bin = txt(&n, &[vec![0xE2, 0x28, 0xA1], b"k".to_vec()], 4500).unwrap();
    assert_eq!(rdata_bytes(&bin), vec![3, 0xE2, 0x28, 0xA1, 1, b'k']);
}

#[test]
fn rfc6762_s17_large_response_split_into_packets_of_at_most_9000() {
    let n = name_from_str("a._openstack._tcp.local.").unwrap();
    let mut p = Packet::new_reply(0);
    for i in 0..60u8 {
        p.answers.push(txt(&n, &[vec![i; 250]], 4500).unwrap());
    }
    let parts = build(&p);
    assert!(parts.len() >= 2);
    let mut total = 0;
    for b in &parts {
        assert!(b.len() <= MAX_PACKET);
        total += Packet::parse(b).unwrap().answers.len();
    }
    assert_eq!(total, 60);
}

#[test]
fn rfc6763_s4_3_names_from_text() {
    let n = instance_name(
        "my.dotted name._openstack._tcp.local.",
        "_openstack._tcp.local.",
    )
    .unwrap();
    assert_eq!(n.get_labels().len(), 4);
    assert_eq!(n.get_labels()[0].as_ref(), b"my.dotted name");
    assert!(name_from_str("").is_err());
    assert!(name_from_str("a..b").is_err());
    assert!(instance_name("._openstack._tcp.local.", "_openstack._tcp.local.").is_err());
}

#[test]
fn rfc6763_s4_3_instance_names_with_any_utf8_never_panic() {
    let st = "_openstack._tcp.local.";
    let n = instance_name("Bare métal ☃._openstack._tcp.local.", st).unwrap();
    assert_eq!(n.get_labels()[0].as_ref(), "Bare métal ☃".as_bytes());
    for bad in [
        "é_openstack._tcp.local.",
        "☃",
        "",
        ".",
        "☃._openstack._tcp.local",
        "x._openstack._tcp.lo☃al.",
    ] {
        let _ = instance_name(bad, st);
        let _ = name_from_str(bad);
    }
    assert!(
        instance_name("x._openstack._tcp.local", st).is_ok(),
        "trailing dot optional"
    );
}

/// A question in wire form: name bytes, then QTYPE and QCLASS.
fn question(name: &[u8], qtype: u16, qclass: u16) -> Vec<u8> {
    let mut v = name.to_vec();
    v.extend_from_slice(&qtype.to_be_bytes());
    v.extend_from_slice(&qclass.to_be_bytes());
    v
}

/// A record in wire form (TTL 120).
fn record(name: &[u8], rtype: u16, class: u16, rdata: &[u8]) -> Vec<u8> {
    let mut v = question(name, rtype, class);
    v.extend_from_slice(&[0, 0, 0, 120]);
    v.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
    v.extend_from_slice(rdata);
    v
}

fn with_counts(flags: u16, counts: [u16; 4], body: &[u8]) -> Vec<u8> {
    let mut v = vec![0, 0];
    for x in [flags, counts[0], counts[1], counts[2], counts[3]] {
        v.extend_from_slice(&x.to_be_bytes());
    }
    v.extend_from_slice(body);
    v
}

#[test]
fn rfc1035_s4_1_2_rfc6762_s6_unknown_qtype_skipped_the_other_questions_kept() {
    // The unknown question first, the SRV question compressed against its
    // name: the kept question must still read the right name.
    let inst = name_bytes(&[b"baremetal", b"_openstack", b"_tcp", b"local"]);
    let mut body = question(&inst, 65280, 1);
    body.extend(question(&[0xC0, 12], T_SRV, 0x8001)); // QU bit set
    let v = with_counts(0, [2, 0, 0, 0], &body);
    let p = parse(&v).unwrap();
    assert_eq!(p.questions.len(), 1);
    let q = &p.questions[0];
    assert_eq!(
        q.qname,
        name_from_str("baremetal._openstack._tcp.local.").unwrap()
    );
    assert_eq!(u16::from(q.qtype), T_SRV);
    assert!(q.unicast_response, "RFC 6762 s5.4 bit kept");
    // The same with the unknown question last.
    let mut body = question(&inst, T_SRV, 1);
    body.extend(question(&[0xC0, 12], 65280, 1));
    assert_eq!(
        parse(&with_counts(0, [2, 0, 0, 0], &body))
            .unwrap()
            .questions
            .len(),
        1
    );
}

#[test]
fn rfc1035_s4_1_2_unknown_qclass_skipped() {
    let local = name_bytes(&[b"local"]);
    let mut body = question(&local, T_PTR, 5);
    body.extend(question(&local, T_PTR, 0x8000 | 6)); // class 6 with the QU bit
    body.extend(question(&local, T_A, 255)); // QCLASS ANY is known
    let p = parse(&with_counts(0, [3, 0, 0, 0], &body)).unwrap();
    assert_eq!(p.questions.len(), 1);
    assert_eq!(u16::from(p.questions[0].qtype), T_A);
}

#[test]
fn rfc1035_s4_1_only_unknown_questions_dropped_whole() {
    let local = name_bytes(&[b"local"]);
    let mut body = question(&local, 65280, 1);
    body.extend(question(&local, T_A, 7));
    assert_eq!(
        parse(&with_counts(0, [2, 0, 0, 0], &body)).unwrap_err(),
        WireError::NothingUnderstood
    );
}

#[test]
fn rfc1035_s4_1_3_record_of_unknown_class_skipped_the_others_kept() {
    let host = name_bytes(&[b"x", b"local"]);
    let inst = name_bytes(&[b"a", b"_openstack", b"_tcp", b"local"]);
    let mut srv_rdata = vec![0, 0, 0, 0, 0x1F, 0x90];
    srv_rdata.extend_from_slice(&[0xC0, 12]); // target x.local, from the first record
    let mut body = record(&host, T_A, 0x8005, &[198, 18, 0, 99]); // class 5, cache-flush bit
    body.extend(record(&inst, T_SRV, 0x8001, &srv_rdata));
    body.extend(record(&[0xC0, 12], T_A, 0x8001, &[198, 18, 0, 7]));
    let p = parse(&with_counts(0x8400, [0, 3, 0, 0], &body)).unwrap();
    assert_eq!(p.answers.len(), 2);
    let RData::SRV(s) = &p.answers[0].rdata else {
        panic!("SRV expected: {:?}", p.answers[0])
    };
    assert_eq!(
        (s.port, name_key(&s.target)),
        (8080, "x.local.".to_string())
    );
    assert!(p.answers[0].cache_flush);
    assert_eq!(
        p.answers[1].rdata,
        RData::A(A::from(std::net::Ipv4Addr::new(198, 18, 0, 7)))
    );
    assert_eq!(name_key(&p.answers[1].name), "x.local.");
}

#[test]
fn rfc1035_s4_1_3_skipped_records_in_each_section_and_after_an_opt() {
    let host = name_bytes(&[b"x", b"local"]);
    let a = |class: u16, last: u8| record(&[0xC0, 12], T_A, class, &[198, 18, 0, last]);
    let mut body = question(&host, T_A, 1);
    body.extend(a(9, 1)); // answer, skipped
    body.extend(a(1, 2)); // answer
    body.extend(a(1, 3)); // authority
    body.extend(a(9, 4)); // authority, skipped
    body.extend(record(&[0], T_OPT, 1440, &[])); // additional: OPT, any class
    body.extend(a(9, 5)); // additional, skipped
    body.extend(a(1, 6)); // additional
    let p = parse(&with_counts(0, [1, 2, 2, 3], &body)).unwrap();
    let last = |rs: &[ResourceRecord<'_>]| -> Vec<u8> {
        rs.iter()
            .map(|r| {
                if let RData::A(a) = &r.rdata {
                    a.address.to_be_bytes()[3]
                } else {
                    0
                }
            })
            .collect()
    };
    assert_eq!(p.questions.len(), 1);
    assert_eq!(last(&p.answers), vec![2]);
    assert_eq!(last(&p.name_servers), vec![3]);
    assert_eq!(last(&p.additional_records), vec![6]);
}

#[test]
fn rfc1035_s3_2_2_record_of_unknown_type_kept_as_opaque_data() {
    let body = record(&name_bytes(&[b"x", b"local"]), 65280, 1, &[1, 2, 3]);
    let p = parse(&with_counts(0x8400, [0, 1, 0, 0], &body)).unwrap();
    assert_eq!(rr_type(&p.answers[0]), 65280);
}

#[test]
fn skipping_keeps_every_structural_check() {
    // An unknown question does not excuse a forward pointer after it.
    let local = name_bytes(&[b"local"]);
    let mut body = question(&local, 65280, 1);
    body.extend(question(&[0xC0, 40], T_A, 1));
    body.extend(local.clone());
    assert_eq!(
        parse(&with_counts(0, [2, 0, 0, 0], &body)).unwrap_err(),
        WireError::ForwardPointer
    );
    // Nor a truncated record after a skipped one.
    let mut body = record(&local, T_A, 9, &[198, 18, 0, 1]);
    body.extend(record(&local, T_A, 1, &[198, 18, 0, 2]));
    let v = with_counts(0x8400, [0, 2, 0, 0], &body);
    assert!(parse(&v).is_ok());
    assert_eq!(parse(&v[..v.len() - 1]).unwrap_err(), WireError::Truncated);
}

/// The name with its labels as text, lower-cased.
fn name_key(n: &Name<'_>) -> String {
    let mut s = String::new();
    for l in n.get_labels() {
        s.push_str(&String::from_utf8_lossy(l.as_ref()).to_ascii_lowercase());
        s.push('.');
    }
    s
}

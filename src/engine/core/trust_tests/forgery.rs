//! DNSSEC on mDNS, hostile side: a forger on the link answers the
//! validating querier; it gets a refusal or the genuine answer, never its
//! own.

use super::*;

fn attacked(
    forged: impl Fn(&SigningKeyRef) -> Vec<ResourceRecord<'static>>,
    genuine: bool,
) -> Result<ResolvedService, String> {
    let (k, t0, mut hosts) = signer_and_validator();
    let now = if genuine {
        published(&mut hosts, t0)
    } else {
        t0 + Duration::from_secs(3)
    };
    let q = hosts[1]
        .e
        .query(now, INSTANCE, now + Duration::from_secs(3))
        .unwrap();
    forge(&mut hosts, now, forged(&k));
    run(&mut hosts, now, now + Duration::from_secs(4));
    outcome(&hosts[1], q).expect("an outcome")
}

#[test]
fn forged_answers_are_refused_or_lose_to_the_genuine_one() {
    let w = WALL0 as u32;
    let other = key(Algorithm::Ed25519);
    type Forgery = Box<dyn Fn(&SigningKeyRef) -> Vec<ResourceRecord<'static>>>;
    // (what the forger sends, what the refusal says without the publisher)
    let rows: Vec<(&str, Forgery, &str)> = vec![
        ("unsigned", Box::new(|_| forged_records()), "no signature"),
        (
            "replayed past its window and the skew",
            Box::new(move |k| signed_by(k, forged_records(), w - 30 * 3600, w - 20 * 3600)),
            "signature expired: clock outside the validity window by 20h",
        ),
        (
            "signed by another key",
            Box::new(move |_| signed_by(&other, forged_records(), w - 3600, w + 3600)),
            "not in the trust anchor",
        ),
        (
            "a valid RRSIG over a different RRset",
            Box::new(move |k| {
                // The genuine TXT's signature, on a forged SRV.
                let inst = wire::name_from_str(INSTANCE).unwrap();
                let txt = wire::txt(&inst, &[b"path=/baremetal".to_vec()], 4500).unwrap();
                let sig = k
                    .sign_rrset(
                        &[wire::trust_rr(&txt).unwrap()],
                        &local(),
                        w - 3600,
                        w + 3600,
                    )
                    .unwrap();
                let mut out = forged_records();
                out.push(signed::rrsig_record(&inst, &sig, 4500, true));
                let mut forged_sig = sig.clone();
                forged_sig.type_covered = T_SRV;
                out.push(signed::rrsig_record(&inst, &forged_sig, 120, true));
                out
            }),
            "bad signature",
        ),
        (
            "signed SRV and TXT with an unsigned A",
            Box::new(move |k| {
                let f = forged_records();
                let mut out = signed_by(k, f[..2].to_vec(), w - 3600, w + 3600);
                out.push(f[2].clone());
                out
            }),
            "no signature (RRSIG) for baremetal._openstack._tcp.local. A",
        ),
        (
            "stripped RRSIGs",
            Box::new(move |k| {
                signed_by(k, forged_records(), w - 3600, w + 3600)
                    .into_iter()
                    .filter(|r| wire::rr_type(r) != rtype::RRSIG)
                    .collect()
            }),
            "no signature",
        ),
    ];
    for (what, forged, says) in rows {
        let alone = attacked(&forged, false);
        match alone {
            Err(m) => assert!(m.contains(says) && m.contains(INSTANCE), "{what}: {m}"),
            Ok(s) => panic!("{what}: forged answer accepted: {s:?}"),
        }
        let with_genuine = attacked(&forged, true).unwrap_or_else(|m| panic!("{what}: {m}"));
        assert!(with_genuine.validated, "{what}");
        assert_eq!(
            with_genuine.txt,
            vec![b"path=/baremetal".to_vec()],
            "{what}"
        );
        assert!(
            with_genuine.addresses.iter().all(|a| a.addr != EVIL),
            "{what}: forged address used"
        );
    }
}

#[test]
fn a_signed_srv_with_an_unsigned_address_is_not_used() {
    // The genuine signed SRV and TXT replayed (valid), the forger's own
    // address unsigned: no validated address, no answer.
    let got = attacked(
        |k| {
            let w = WALL0 as u32;
            let f = forged_records();
            let inst = wire::name_from_str(INSTANCE).unwrap();
            let genuine = vec![
                wire::srv(&inst, &inst, 6385, 120),
                wire::txt(&inst, &[b"path=/baremetal".to_vec()], 4500).unwrap(),
            ];
            let mut out = signed_by(k, genuine, w - 3600, w + 3600);
            out.push(f[2].clone());
            out
        },
        false,
    );
    let m = got.expect_err("no validated address");
    assert!(m.contains("no signature") && m.contains(" A"), "{m}");
}

#[test]
fn a_forgers_unsigned_records_neither_flush_nor_replace_validated_ones() {
    let (_, t0, mut hosts) = signer_and_validator();
    let now = published(&mut hosts, t0);
    let (q, now) = lookup(&mut hosts, 1, now);
    assert!(outcome(&hosts[1], q).unwrap().is_ok());
    // Unsigned, cache-flush set, goodbyes too: all ignored.
    forge(&mut hosts, now, forged_records());
    let mut byes = forged_records();
    let inst = wire::name_from_str(INSTANCE).unwrap();
    let mut genuine_a = wire::addr(&inst, hosts[0].addr, 0, true);
    genuine_a.ttl = 0;
    byes.push(genuine_a);
    let later = now + Duration::from_secs(2);
    forge(&mut hosts, later, byes);
    let s = hosts[1]
        .e
        .resolve_cached(later + Duration::from_secs(2), INSTANCE)
        .expect("still the genuine answer");
    assert!(s.validated);
    assert_eq!(s.txt, vec![b"path=/baremetal".to_vec()]);
    assert_eq!(
        s.addresses.iter().map(|a| a.addr).collect::<Vec<_>>(),
        vec![hosts[0].addr]
    );
}

#[test]
fn a_validating_browse_keeps_only_instances_that_validate() {
    let (_, t0, mut hosts) = signer_and_validator();
    let now = published(&mut hosts, t0);
    let b = hosts[1].e.browse(now, "_openstack._tcp.local.").unwrap();
    // A forged, unsigned instance of the same type.
    let st = wire::name_from_str("_openstack._tcp.local.").unwrap();
    let evil = wire::name_from_str("evil._openstack._tcp.local.").unwrap();
    forge(
        &mut hosts,
        now,
        vec![
            wire::ptr(&st, &evil, 4500),
            wire::srv(&evil, &evil, 80, 120),
            wire::txt(&evil, &[], 4500).unwrap(),
            wire::addr(&evil, EVIL, 120, true),
        ],
    );
    run(&mut hosts, now, now + Duration::from_secs(5));
    let added: Vec<&ResolvedService> = hosts[1]
        .events
        .iter()
        .filter_map(|e| match e {
            Event::BrowseAdded { browse, service } if *browse == b => Some(service),
            _ => None,
        })
        .collect();
    assert!(!added.is_empty(), "the genuine instance is browsed");
    for s in added {
        assert_eq!(s.instance, INSTANCE);
        assert!(s.validated);
        assert!(s.addresses.iter().all(|a| a.addr != EVIL));
    }
}

/// The instance's SRV and A.
fn instance_records() -> Vec<ResourceRecord<'static>> {
    let inst = wire::name_from_str(INSTANCE).unwrap();
    vec![
        wire::srv(&inst, &inst, 6385, 120),
        wire::addr(&inst, "198.18.0.1".parse().unwrap(), 120, true),
    ]
}

/// A packet of `answers` whose additional section holds the DNSKEY RRset
/// {KSK, ZSK} signed by the KSK (the RRSIG last), as received.
fn with_signed_keyset(
    answers: Vec<ResourceRecord<'static>>,
    ksk: &SigningKeyRef,
    zsk: &SigningKeyRef,
) -> Packet<'static> {
    let w = WALL0 as u32;
    let zone = wire::dns_name(&local());
    let keyset = [ksk.dnskey_rr(4500), zsk.dnskey_rr(4500)];
    let sig = ksk
        .sign_rrset(&keyset, &local(), w - 3600, w + 3600)
        .unwrap();
    let mut p = Packet::new_reply(0);
    p.answers = answers;
    p.additional_records = vec![
        signed::dnskey_record(&zone, ksk.dnskey(), 4500),
        signed::dnskey_record(&zone, zsk.dnskey(), 4500),
        signed::rrsig_record(&zone, &sig, 4500, false),
    ];
    wire::parse(&p.build_bytes_vec_compressed().unwrap()).unwrap()
}

/// `records` with their RRSIGs by `k`, without `k`'s DNSKEY.
fn signed_without_key(
    k: &SigningKeyRef,
    records: Vec<ResourceRecord<'static>>,
    inception: u32,
    expiration: u32,
) -> Vec<ResourceRecord<'static>> {
    signed_by(k, records, inception, expiration)
        .into_iter()
        .filter(|r| wire::rr_type(r) != rtype::DNSKEY)
        .collect()
}

#[test]
fn a_key_signed_by_the_anchored_key_is_trusted_one_step() {
    // The anchor is a KSK; the records are signed by a ZSK whose DNSKEY
    // RRset {KSK, ZSK} the KSK signed (RFC 4035 s5.3, one step).
    let ksk = key(Algorithm::Ed25519);
    let zsk = SigningKeyRef(Arc::new(
        SigningKey::generate(local(), Algorithm::EcdsaP256Sha256, 256).unwrap(),
    ));
    let w = WALL0 as u32;
    let answers = signed_without_key(&zsk, instance_records(), w - 3600, w + 3600);
    let p = with_signed_keyset(answers, &ksk, &zsk);
    assert_all_validate(&key_anchor(&ksk), &p);
    // Without the KSK's signature over the key set, the ZSK is no one's.
    let mut unsigned_keys = p.clone();
    unsigned_keys.additional_records.pop();
    let v = crate::engine::querier::validate_for_tests(&key_anchor(&ksk), WALL0, &unsigned_keys);
    assert!(
        matches!(v[0], Err(trust::ValidationError::WrongKey { .. })),
        "{v:?}"
    );
}

#[test]
fn an_expired_signature_by_the_anchored_key_beside_a_good_one_a_step_away_validates() {
    // A rollover: each RRset carries an RRSIG by the anchored KSK that has
    // expired (beyond the skew) and a current one by the ZSK the KSK
    // signed. The anchored key's failure must not hide the good signature.
    let ksk = key(Algorithm::Ed25519);
    let zsk = SigningKeyRef(Arc::new(
        SigningKey::generate(local(), Algorithm::Ed25519, 256).unwrap(),
    ));
    let w = WALL0 as u32;
    let old = w - 10 * 86400;
    let mut answers: Vec<ResourceRecord<'static>> =
        signed_by(&ksk, instance_records(), old, old + 3600)
            .into_iter()
            .filter(|r| wire::rr_type(r) == rtype::RRSIG)
            .collect();
    answers.extend(signed_without_key(
        &zsk,
        instance_records(),
        w - 3600,
        w + 3600,
    ));
    let p = with_signed_keyset(answers, &ksk, &zsk);
    assert_all_validate(&key_anchor(&ksk), &p);
}

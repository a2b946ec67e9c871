//! Validation as a whole: what passes, and each way it fails.

use super::*;

const NOW: u64 = 1_800_000_000;
const HOUR: u32 = 3600;

fn name(s: &str) -> Name {
    Name::parse(s).unwrap()
}

fn rr(owner: &str, rtype: u16, rdata: Vec<u8>) -> Rr {
    Rr {
        owner: name(owner),
        rtype,
        class: 1,
        ttl: 120,
        rdata,
    }
}

fn srv_rrset() -> Vec<Rr> {
    let mut rdata = vec![0, 0, 0, 0, 0x19, 0x0b];
    rdata.extend_from_slice(name("Conductor-1.local.").as_wire());
    vec![rr("Baremetal._openstack._tcp.local.", 33, rdata)]
}

fn txt_rrset() -> Vec<Rr> {
    vec![
        rr(
            "baremetal._openstack._tcp.local.",
            16,
            b"\x0cprotocol=http".to_vec(),
        ),
        rr(
            "baremetal._openstack._tcp.local.",
            16,
            b"\x0bpath=/v1/ok".to_vec(),
        ),
    ]
}

fn sign(key: &SigningKey, rrset: &[Rr], inception: u64, expiration: u64) -> Rr {
    let sig = key
        .sign_rrset(rrset, &name("local."), inception as u32, expiration as u32)
        .unwrap();
    rrsig_rr(&rrset[0].owner, &sig)
}

fn window() -> (u64, u64) {
    (NOW - u64::from(HOUR), NOW + u64::from(HOUR))
}

fn anchor_key(key: &SigningKey) -> AnchorSet {
    AnchorSet::from_anchors(vec![Anchor::Dnskey {
        owner: Some(key.owner().clone()),
        key: key.dnskey().clone(),
    }])
    .unwrap()
}

fn anchor_ds(key: &SigningKey, dt: DigestType) -> AnchorSet {
    AnchorSet::from_anchors(vec![Anchor::Ds {
        owner: None,
        ds: key.dnskey().ds(key.owner(), dt),
    }])
    .unwrap()
}

fn keys() -> Vec<SigningKey> {
    [Algorithm::Ed25519, Algorithm::EcdsaP256Sha256]
        .into_iter()
        .map(|a| SigningKey::generate(name("local."), a, 257).unwrap())
        .collect()
}

#[test]
fn signed_rrsets_validate_by_dnskey_and_ds_anchors() {
    for key in keys() {
        let (inc, exp) = window();
        let rrset = srv_rrset();
        let sig = sign(&key, &rrset, inc, exp);
        let dnskey = key.dnskey_rr(120);
        let by_key = anchor_key(&key);
        let v = Validator::new(&by_key, NOW, 0)
            .validate(&rrset, std::slice::from_ref(&sig))
            .unwrap();
        assert_eq!(v.path, TrustPath::AnchorKey);
        assert_eq!(v.key_tag, key.key_tag());
        assert_eq!(v.max_ttl, 120);
        for dt in [DigestType::Sha256, DigestType::Sha384] {
            let by_ds = anchor_ds(&key, dt);
            let v = Validator::new(&by_ds, NOW, 0)
                .validate(&rrset, &[sig.clone(), dnskey.clone()])
                .unwrap();
            assert_eq!(
                v.path,
                TrustPath::AnchorDs {
                    digest_type: dt.number()
                }
            );
            // a DS anchor without the DNSKEY beside the answer: wrong key
            let err = Validator::new(&by_ds, NOW, 0)
                .validate(&rrset, std::slice::from_ref(&sig))
                .unwrap_err();
            assert!(matches!(err, ValidationError::WrongKey { .. }), "{err}");
        }
        // owner case differences do not matter (canonical form)
        let mut upper = rrset.clone();
        upper[0].owner = name("BAREMETAL._OPENSTACK._TCP.LOCAL.");
        upper[0].class = 0x8001;
        Validator::new(&by_key, NOW, 0)
            .validate(&upper, std::slice::from_ref(&sig))
            .unwrap();
        // several records, given in another order, still one RRset
        let txt = txt_rrset();
        let tsig = sign(&key, &txt, inc, exp);
        let reversed: Vec<Rr> = txt.iter().rev().cloned().collect();
        Validator::new(&by_key, NOW, 0)
            .validate(&reversed, &[tsig])
            .unwrap();
    }
}

#[test]
fn one_step_chain_through_the_dnskey_rrset() {
    let ksk = SigningKey::generate(name("local."), Algorithm::Ed25519, 257).unwrap();
    let zsk = SigningKey::generate(name("local."), Algorithm::EcdsaP256Sha256, 256).unwrap();
    let (inc, exp) = window();
    let keyset = vec![ksk.dnskey_rr(120), zsk.dnskey_rr(120)];
    let keyset_sig = sign(&ksk, &keyset, inc, exp);
    let rrset = srv_rrset();
    let sig = sign(&zsk, &rrset, inc, exp);
    let anchors = anchor_ds(&ksk, DigestType::Sha256);
    let mut related = vec![sig.clone(), keyset_sig.clone()];
    related.extend(keyset.clone());
    let v = Validator::new(&anchors, NOW, 0)
        .validate(&rrset, &related)
        .unwrap();
    assert_eq!(v.key_tag, zsk.key_tag());
    assert_eq!(
        v.path,
        TrustPath::SignedByAnchoredKey {
            key_tag: ksk.key_tag(),
            algorithm: 15
        }
    );
    // without the KSK's signature over the key set, the ZSK is not trusted
    let mut unsigned = vec![sig.clone()];
    unsigned.extend(keyset.clone());
    let err = Validator::new(&anchors, NOW, 0)
        .validate(&rrset, &unsigned)
        .unwrap_err();
    assert!(
        matches!(err, ValidationError::WrongKey { key_tag, .. } if key_tag == zsk.key_tag()),
        "{err}"
    );
    // the key set signed by the ZSK itself does not count
    let self_signed = sign(&zsk, &keyset, inc, exp);
    let mut related = vec![sig, self_signed];
    related.extend(keyset);
    let err = Validator::new(&anchors, NOW, 0)
        .validate(&rrset, &related)
        .unwrap_err();
    assert!(matches!(err, ValidationError::WrongKey { .. }), "{err}");
}

#[test]
fn a_revoked_key_in_the_key_set_is_not_trusted() {
    let ksk = SigningKey::generate(name("local."), Algorithm::Ed25519, 257).unwrap();
    let revoked =
        SigningKey::generate(name("local."), Algorithm::Ed25519, 256 | FLAG_REVOKE).unwrap();
    let (inc, exp) = window();
    let keyset = vec![ksk.dnskey_rr(120), revoked.dnskey_rr(120)];
    let mut related = vec![
        sign(&ksk, &keyset, inc, exp),
        sign(&revoked, &srv_rrset(), inc, exp),
    ];
    related.extend(keyset);
    let anchors = anchor_ds(&ksk, DigestType::Sha256);
    let err = Validator::new(&anchors, NOW, 0)
        .validate(&srv_rrset(), &related)
        .unwrap_err();
    assert!(
        matches!(err, ValidationError::WrongKey { key_tag, .. } if key_tag == revoked.key_tag()),
        "{err}"
    );
}

#[test]
fn validity_window_with_and_without_skew() {
    let key = &keys()[0];
    let anchors = anchor_key(key);
    let rrset = srv_rrset();
    let (inc, exp) = (NOW + 600, NOW + 7200);
    let sig = sign(key, &rrset, inc, exp);
    let err = Validator::new(&anchors, NOW, 0)
        .validate(&rrset, std::slice::from_ref(&sig))
        .unwrap_err();
    assert_eq!(
        err,
        ValidationError::NotYetValid {
            by: 600,
            inception: inc,
            skew: 0
        }
    );
    assert!(
        err.to_string()
            .contains("outside the validity window by 10m"),
        "{err}"
    );
    Validator::new(&anchors, NOW, 600)
        .validate(&rrset, std::slice::from_ref(&sig))
        .unwrap();
    let err = Validator::new(&anchors, NOW, 599)
        .validate(&rrset, std::slice::from_ref(&sig))
        .unwrap_err();
    assert!(matches!(err, ValidationError::NotYetValid { by: 600, .. }));

    let (inc, exp) = (NOW - 86400, NOW - 2 * 3600 - 13 * 60);
    let sig = sign(key, &rrset, inc, exp);
    let err = Validator::new(&anchors, NOW, 0)
        .validate(&rrset, std::slice::from_ref(&sig))
        .unwrap_err();
    assert!(
        matches!(err, ValidationError::Expired { by: 7980, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("by 2h13m"), "{err}");
    Validator::new(&anchors, NOW, 7980)
        .validate(&rrset, std::slice::from_ref(&sig))
        .unwrap();
    // the edges themselves are inside
    let sig = sign(key, &rrset, NOW, NOW);
    let v = Validator::new(&anchors, NOW, 0)
        .validate(&rrset, &[sig])
        .unwrap();
    assert_eq!(v.max_ttl, 0);
    // expiration before inception
    let sig = sign(key, &rrset, NOW + 10, NOW - 10);
    let err = Validator::new(&anchors, NOW, 3600)
        .validate(&rrset, &[sig])
        .unwrap_err();
    assert!(
        matches!(err, ValidationError::InvertedWindow { .. }),
        "{err}"
    );
}

#[test]
fn each_kind_of_failure_is_named() {
    let [key, other] = <[SigningKey; 2]>::try_from(keys()).unwrap();
    let anchors = anchor_key(&key);
    let v = Validator::new(&anchors, NOW, 0);
    let rrset = srv_rrset();
    let (inc, exp) = window();
    let good = sign(&key, &rrset, inc, exp);

    // no signature at all, or only one over another RRset
    let err = v.validate(&rrset, &[]).unwrap_err();
    assert!(
        matches!(err, ValidationError::NoSignature { rtype: 33, .. }),
        "{err}"
    );
    let txt_sig = sign(&key, &txt_rrset(), inc, exp);
    assert!(matches!(
        v.validate(&rrset, &[txt_sig]).unwrap_err(),
        ValidationError::NoSignature { .. }
    ));
    // a valid RRSIG over other SRV records of the same owner and type
    let mut other_srv = srv_rrset();
    other_srv[0].rdata[5] = 0x0c;
    assert!(matches!(
        v.validate(&other_srv, std::slice::from_ref(&good))
            .unwrap_err(),
        ValidationError::BadSignature { .. }
    ));
    // signed by another key
    let by_other = sign(&other, &rrset, inc, exp);
    let err = v
        .validate(&rrset, &[by_other.clone(), other.dnskey_rr(120)])
        .unwrap_err();
    assert!(
        matches!(err, ValidationError::WrongKey { key_tag, .. } if key_tag == other.key_tag()),
        "{err}"
    );
    assert!(err.to_string().contains("not in the trust anchor"));
    // with several RRSIGs the furthest one is reported; a good one wins
    v.validate(&rrset, &[by_other.clone(), good.clone()])
        .unwrap();
    // an unsupported algorithm
    let mut sig = Rrsig::from_rdata(&good.rdata).unwrap();
    sig.algorithm = 14;
    let err = v
        .validate(&rrset, &[rrsig_rr(&rrset[0].owner, &sig)])
        .unwrap_err();
    assert_eq!(err, ValidationError::UnsupportedAlgorithm { algorithm: 14 });
    // the signer is not the owner's zone
    let mut sig = Rrsig::from_rdata(&good.rdata).unwrap();
    sig.signer = name("example.");
    let err = v
        .validate(&rrset, &[rrsig_rr(&rrset[0].owner, &sig)])
        .unwrap_err();
    assert!(
        matches!(err, ValidationError::SignerMismatch { .. }),
        "{err}"
    );
    // wildcard expansion and too many labels
    let mut sig = Rrsig::from_rdata(&good.rdata).unwrap();
    sig.labels = 3;
    let err = v
        .validate(&rrset, &[rrsig_rr(&rrset[0].owner, &sig)])
        .unwrap_err();
    assert!(
        matches!(err, ValidationError::WildcardExpansion { labels: 3, .. }),
        "{err}"
    );
    sig.labels = 5;
    let err = v
        .validate(&rrset, &[rrsig_rr(&rrset[0].owner, &sig)])
        .unwrap_err();
    assert!(
        matches!(err, ValidationError::LabelCount { labels: 5, .. }),
        "{err}"
    );
    // malformed RRSIG data
    let mut bad = good.clone();
    bad.rdata.truncate(10);
    let err = v.validate(&rrset, &[bad]).unwrap_err();
    assert!(
        matches!(err, ValidationError::MalformedSignature(_)),
        "{err}"
    );
    // mixed RRsets handed over as one
    let mut mixed = rrset.clone();
    mixed.extend(txt_rrset());
    assert!(matches!(
        v.validate(&mixed, &[good]).unwrap_err(),
        ValidationError::Malformed(_)
    ));
}

/// One flipped bit anywhere in the covered records, the RRSIG (signature,
/// times, key tag, signer name, every field) or the key makes validation
/// fail.
#[test]
fn every_flipped_byte_fails() {
    for key in keys() {
        let anchors = anchor_key(&key);
        let v = Validator::new(&anchors, NOW, 0);
        let rrset = srv_rrset();
        let (inc, exp) = window();
        let good = sign(&key, &rrset, inc, exp);
        v.validate(&rrset, std::slice::from_ref(&good)).unwrap();
        for i in 0..rrset[0].rdata.len() {
            let mut r = rrset.clone();
            r[0].rdata[i] ^= 0x01;
            assert!(
                v.validate(&r, std::slice::from_ref(&good)).is_err(),
                "rdata octet {i}"
            );
        }
        let mut r = rrset.clone();
        r[0].owner = name("baremetal._openstack._udp.local.");
        let mut s = good.clone();
        s.owner = r[0].owner.clone();
        assert!(v.validate(&r, &[s]).is_err(), "owner");
        for i in 0..good.rdata.len() {
            let mut s = good.clone();
            s.rdata[i] ^= 0x01;
            assert!(v.validate(&rrset, &[s]).is_err(), "RRSIG octet {i}");
        }
        let mut k = key.dnskey().clone();
        for i in 0..k.public_key.len() {
            k.public_key[i] ^= 0x01;
            let a = AnchorSet::from_anchors(vec![Anchor::Dnskey {
                owner: None,
                key: k.clone(),
            }]);
            if let Ok(a) = a {
                assert!(
                    Validator::new(&a, NOW, 0)
                        .validate(&rrset, std::slice::from_ref(&good))
                        .is_err(),
                    "key octet {i}"
                );
            }
            k.public_key[i] ^= 0x01;
        }
    }
}

#[test]
fn anchors_for_another_zone_do_not_apply() {
    let key = &keys()[0];
    let rrset = srv_rrset();
    let (inc, exp) = window();
    let sig = sign(key, &rrset, inc, exp);
    let elsewhere = AnchorSet::from_anchors(vec![Anchor::Dnskey {
        owner: Some(name("example.")),
        key: key.dnskey().clone(),
    }])
    .unwrap();
    let err = Validator::new(&elsewhere, NOW, 0)
        .validate(&rrset, &[sig])
        .unwrap_err();
    assert!(matches!(err, ValidationError::WrongKey { .. }), "{err}");
}

//! Signatures: Ed25519 (RFC 8080) over ed25519-dalek; over ring, ECDSA
//! P-256 in the fixed r||s form that is RFC 6605's wire format, and RSA
//! PKCS#1 v1.5 with SHA-256 from the (e, n) in the DNSKEY (RFC 3110 s2,
//! RFC 5702), for verifying only. Why two crates: see the module
//! documentation of `trust`.

use std::fmt;

use ed25519_dalek::{Signer as _, Verifier as _};
use ring::rand::{SecureRandom as _, SystemRandom};
use ring::signature::{self, EcdsaKeyPair, KeyPair as _};

use super::canon::{check_rrset, signed_data, Rr};
use super::name::Name;
use super::record::{rtype, Algorithm, Dnskey, Rrsig, FLAG_SEP, FLAG_ZONE};
use super::TrustError;

/// Why a signature did not verify.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VerifyFailure {
    /// The DNSKEY's public key is not a key of its algorithm (wrong
    /// length, not on the curve, an RSA key under 2048 bits).
    BadKey,
    /// The signature does not match the data and key.
    BadSignature,
}

/// Splits RFC 3110 s2 RSA public key data into (exponent, modulus).
fn rsa_parts(key: &[u8]) -> Option<(&[u8], &[u8])> {
    let (&first, rest) = key.split_first()?;
    let (elen, rest) = if first == 0 {
        if rest.len() < 2 {
            return None;
        }
        (u16::from_be_bytes([rest[0], rest[1]]) as usize, &rest[2..])
    } else {
        (first as usize, rest)
    };
    if elen == 0 || rest.len() <= elen {
        return None;
    }
    Some((&rest[..elen], &rest[elen..]))
}

/// Checks that `public_key` has the shape its algorithm needs.
pub(crate) fn check_public_key(alg: Algorithm, public_key: &[u8]) -> Result<(), String> {
    match alg {
        Algorithm::Ed25519 if public_key.len() != 32 => Err(format!(
            "an Ed25519 public key is 32 octets, this one {}",
            public_key.len()
        )),
        Algorithm::EcdsaP256Sha256 if public_key.len() != 64 => Err(format!(
            "an ECDSA P-256 public key is 64 octets, this one {}",
            public_key.len()
        )),
        Algorithm::RsaSha256 => match rsa_parts(public_key) {
            None => Err("malformed RSA public key (RFC 3110 s2)".into()),
            Some((_, n)) => {
                let bits = n.len() * 8 - n.first().map_or(8, |b| b.leading_zeros() as usize);
                if bits < 2048 {
                    Err(format!(
                        "RSA key of {bits} bits (at least 2048 are accepted)"
                    ))
                } else {
                    Ok(())
                }
            }
        },
        _ => Ok(()),
    }
}

/// Verifies `sig` over `data` with the DNSKEY public key `public_key`.
pub(crate) fn verify(
    alg: Algorithm,
    public_key: &[u8],
    data: &[u8],
    sig: &[u8],
) -> Result<(), VerifyFailure> {
    check_public_key(alg, public_key).map_err(|_| VerifyFailure::BadKey)?;
    let ok = match alg {
        Algorithm::Ed25519 => {
            let key = <[u8; 32]>::try_from(public_key)
                .ok()
                .and_then(|k| ed25519_dalek::VerifyingKey::from_bytes(&k).ok())
                .ok_or(VerifyFailure::BadKey)?;
            // RFC 8032 s5.1.7 as written: S must be below the group
            // order, and [S]B = R + [k]A is checked on the encodings
            // (cofactorless). No small-order checks: the key is an
            // anchor or signed by one, never chosen by the sender, and
            // checking R would cost a square root per signature.
            ed25519_dalek::Signature::from_slice(sig)
                .is_ok_and(|sig| key.verify(data, &sig).is_ok())
        }
        Algorithm::EcdsaP256Sha256 => {
            // RFC 6605 s4: the DNSKEY holds x||y; ring wants the
            // uncompressed point 0x04||x||y.
            let mut point = Vec::with_capacity(65);
            point.push(4);
            point.extend_from_slice(public_key);
            signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                .verify(data, sig)
                .is_ok()
        }
        Algorithm::RsaSha256 => {
            let (e, n) = rsa_parts(public_key).ok_or(VerifyFailure::BadKey)?;
            signature::RsaPublicKeyComponents { n, e }
                .verify(&signature::RSA_PKCS1_2048_8192_SHA256, data, sig)
                .is_ok()
        }
    };
    if ok {
        Ok(())
    } else {
        Err(VerifyFailure::BadSignature)
    }
}

enum Pair {
    Ed25519(ed25519_dalek::SigningKey),
    EcdsaP256(EcdsaKeyPair),
}

/// A private key that signs RRsets, with its DNSKEY and the zone (owner
/// name) it belongs to. Algorithms 13 and 15 only.
///
/// Its `Debug` shows the zone, algorithm and key tag, never key bytes.
pub struct SigningKey {
    owner: Name,
    dnskey: Dnskey,
    pair: Pair,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("owner", &self.owner)
            .field("algorithm", &self.dnskey.algorithm)
            .field("key_tag", &self.dnskey.key_tag())
            .field("flags", &self.dnskey.flags)
            .finish_non_exhaustive()
    }
}

fn rejected(what: &str, e: ring::error::KeyRejected) -> TrustError {
    // ring's reasons are fixed words ("InconsistentComponents"), never
    // key material.
    if e.to_string() == "InconsistentComponents" {
        TrustError::Key(format!(
            "{what}: the private key does not match the public key"
        ))
    } else {
        TrustError::Key(format!("{what}: key rejected ({e})"))
    }
}

/// An Ed25519 key from its 32-octet seed (RFC 8032 s5.1.5), checked
/// against the public key it must have.
fn ed25519_from_seed(
    seed: &[u8],
    public_key: &[u8],
) -> Result<ed25519_dalek::SigningKey, TrustError> {
    let seed = <[u8; 32]>::try_from(seed).map_err(|_| {
        TrustError::Key(format!(
            "Ed25519 key: the private key is 32 octets, this one {}",
            seed.len()
        ))
    })?;
    let key = ed25519_dalek::SigningKey::from_bytes(&seed);
    if key.verifying_key().as_bytes()[..] != *public_key {
        return Err(TrustError::Key(
            "Ed25519 key: the private key does not match the public key".into(),
        ));
    }
    Ok(key)
}

impl SigningKey {
    /// A key from its private part as BIND stores it (the Ed25519 seed, or
    /// the ECDSA P-256 scalar) and the DNSKEY it must match. The public key
    /// is derived from the private one and compared: a mismatch is an
    /// error.
    pub fn from_private(
        owner: Name,
        private: &[u8],
        dnskey: Dnskey,
    ) -> Result<SigningKey, TrustError> {
        let alg = Algorithm::from_number(dnskey.algorithm).ok_or_else(|| {
            TrustError::Algorithm(format!("algorithm {} is not supported", dnskey.algorithm))
        })?;
        let pair = match alg {
            Algorithm::Ed25519 => Pair::Ed25519(ed25519_from_seed(private, &dnskey.public_key)?),
            Algorithm::EcdsaP256Sha256 => {
                let mut point = Vec::with_capacity(65);
                point.push(4);
                point.extend_from_slice(&dnskey.public_key);
                Pair::EcdsaP256(
                    EcdsaKeyPair::from_private_key_and_public_key(
                        &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                        private,
                        &point,
                        &SystemRandom::new(),
                    )
                    .map_err(|e| rejected("ECDSA P-256 key", e))?,
                )
            }
            Algorithm::RsaSha256 => {
                return Err(TrustError::Algorithm(
                    "algorithm 8 (RSASHA256) is accepted for validation only; sign with 13 (ECDSAP256SHA256) or 15 (ED25519)".into(),
                ))
            }
        };
        Ok(SigningKey {
            owner,
            dnskey,
            pair,
        })
    }

    /// A new random key (for tests and ephemeral use; nothing is written
    /// anywhere). `flags` is usually 257 (a zone key and secure entry
    /// point) for a key that is itself the anchor.
    pub fn generate(
        owner: Name,
        algorithm: Algorithm,
        flags: u16,
    ) -> Result<SigningKey, TrustError> {
        let rng = SystemRandom::new();
        let fail = |_| TrustError::Key("key generation failed".into());
        let (pair, public_key) = match algorithm {
            Algorithm::Ed25519 => {
                let mut seed = [0u8; 32];
                rng.fill(&mut seed).map_err(fail)?;
                let pair = ed25519_dalek::SigningKey::from_bytes(&seed);
                let pk = pair.verifying_key().to_bytes().to_vec();
                (Pair::Ed25519(pair), pk)
            }
            Algorithm::EcdsaP256Sha256 => {
                let alg = &signature::ECDSA_P256_SHA256_FIXED_SIGNING;
                let doc = EcdsaKeyPair::generate_pkcs8(alg, &rng).map_err(fail)?;
                let pair = EcdsaKeyPair::from_pkcs8(alg, doc.as_ref(), &rng)
                    .map_err(|e| rejected("ECDSA P-256 key", e))?;
                let pk = pair.public_key().as_ref()[1..].to_vec();
                (Pair::EcdsaP256(pair), pk)
            }
            Algorithm::RsaSha256 => {
                return Err(TrustError::Algorithm(
                    "algorithm 8 (RSASHA256) is accepted for validation only".into(),
                ))
            }
        };
        Ok(SigningKey {
            owner,
            dnskey: Dnskey {
                flags: flags | FLAG_ZONE,
                protocol: 3,
                algorithm: algorithm.number(),
                public_key,
            },
            pair,
        })
    }

    /// The zone this key belongs to (the owner of its DNSKEY).
    pub fn owner(&self) -> &Name {
        &self.owner
    }

    /// The public key as a DNSKEY.
    pub fn dnskey(&self) -> &Dnskey {
        &self.dnskey
    }

    /// The key tag.
    pub fn key_tag(&self) -> u16 {
        self.dnskey.key_tag()
    }

    /// The DNSKEY record to publish, at the key's owner, class IN.
    pub fn dnskey_rr(&self, ttl: u32) -> Rr {
        Rr {
            owner: self.owner.clone(),
            rtype: rtype::DNSKEY,
            class: 1,
            ttl,
            rdata: self.dnskey.to_rdata(),
        }
    }

    /// True if the key has the Secure Entry Point flag (a KSK).
    pub fn is_sep(&self) -> bool {
        self.dnskey.flags & FLAG_SEP != 0
    }

    /// Signs `rrset` (RFC 4034 s3.1.8.1) as `signer`, valid from
    /// `inception` to `expiration` (seconds since the epoch, modulo 2^32).
    /// The signer must be the owner or one of its ancestors; every record
    /// must carry the same TTL, which becomes the original TTL. A wildcard
    /// owner (`*.zone.`) is signed with the Labels count that leaves out
    /// the `*` (RFC 4034 s3.1.3).
    pub fn sign_rrset(
        &self,
        rrset: &[Rr],
        signer: &Name,
        inception: u32,
        expiration: u32,
    ) -> Result<Rrsig, TrustError> {
        check_rrset(rrset)?;
        let first = &rrset[0];
        if !first.owner.is_within(signer) {
            return Err(TrustError::Rrset(format!(
                "signer {signer} is not {} or an ancestor of it",
                first.owner
            )));
        }
        if rrset.iter().any(|rr| rr.ttl != first.ttl) {
            return Err(TrustError::Rrset(format!(
                "the records of {} type {} carry different TTLs (RFC 2181 s5.2)",
                first.owner, first.rtype
            )));
        }
        let mut rrsig = Rrsig {
            type_covered: first.rtype,
            algorithm: self.dnskey.algorithm,
            labels: first.owner.rrsig_labels(),
            original_ttl: first.ttl,
            expiration,
            inception,
            key_tag: self.dnskey.key_tag(),
            signer: signer.clone(),
            signature: Vec::new(),
        };
        let data = signed_data(&rrsig, rrset)?;
        rrsig.signature = match &self.pair {
            Pair::Ed25519(p) => p.sign(&data).to_bytes().to_vec(),
            Pair::EcdsaP256(p) => p
                .sign(&SystemRandom::new(), &data)
                .map_err(|_| TrustError::Key("ECDSA signing failed".into()))?
                .as_ref()
                .to_vec(),
        };
        Ok(rrsig)
    }
}

/// The RRSIG as a record at `owner`: class IN, TTL the original TTL.
pub fn rrsig_rr(owner: &Name, rrsig: &Rrsig) -> Rr {
    Rr {
        owner: owner.clone(),
        rtype: rtype::RRSIG,
        class: 1,
        ttl: rrsig.original_ttl,
        rdata: rrsig.to_rdata(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::text::vector_b64 as b64;
    use super::*;

    fn mx_rrset() -> Vec<Rr> {
        let mut rdata = vec![0, 10];
        rdata.extend_from_slice(Name::parse("mail.example.com.").unwrap().as_wire());
        vec![Rr {
            owner: Name::parse("example.com.").unwrap(),
            rtype: 15,
            class: 1,
            ttl: 3600,
            rdata,
        }]
    }

    /// RFC 8080 s6.1 (with erratum 4935's Labels 2): Ed25519 is
    /// deterministic, so our signer must give the RFC's signatures byte for
    /// byte.
    #[test]
    fn rfc8080_signatures_reproduced() {
        let rows = [
            (
                "ODIyNjAzODQ2MjgwODAxMjI2NDUxOTAyMDQxNDIyNjI=",
                "l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4=",
                3613,
                "oL9krJun7xfBOIWcGHi7mag5/hdZrKWw15jPGrHpjQeRAvTdszaPD+QLs3fx8A4M3e23mRZ9VrbpMngwcrqNAg==",
            ),
            (
                "DSSF3o0s0f+ElWzj9E/Osxw8hLpk55chkmx0LYN5WiY=",
                "zPnZ/QwEe7S8C5SPz2OfS5RR40ATk2/rYnE9xHIEijs=",
                35217,
                "zXQ0bkYgQTEFyfLyi9QoiY6D8ZdYo4wyUhVioYZXFdT410QPRITQSqJSnzQoSm5poJ7gD7AQR0O7KuI5k2pcBg==",
            ),
        ];
        let zone = Name::parse("example.com.").unwrap();
        for (private, public, tag, want) in rows {
            let dnskey = Dnskey {
                flags: 257,
                protocol: 3,
                algorithm: 15,
                public_key: b64(public),
            };
            let key =
                SigningKey::from_private(zone.clone(), &b64(private), dnskey.clone()).unwrap();
            assert_eq!(key.key_tag(), tag);
            let sig = key
                .sign_rrset(&mx_rrset(), &zone, 1438207200, 1440021600)
                .unwrap();
            assert_eq!(sig.labels, 2);
            assert_eq!(sig.signature, b64(want), "key {tag}");
            let data = signed_data(&sig, &mx_rrset()).unwrap();
            assert_eq!(
                verify(
                    Algorithm::Ed25519,
                    &dnskey.public_key,
                    &data,
                    &sig.signature
                ),
                Ok(())
            );
            let mut bad = sig.signature.clone();
            bad[10] ^= 1;
            assert_eq!(
                verify(Algorithm::Ed25519, &dnskey.public_key, &data, &bad),
                Err(VerifyFailure::BadSignature)
            );
        }
    }

    /// RFC 6605 s6.1: ECDSA signatures are randomized, so the RFC's
    /// signature is verified, and one of ours verifies too.
    #[test]
    fn rfc6605_signature_verifies_and_ours_too() {
        let zone = Name::parse("example.net.").unwrap();
        let dnskey = Dnskey {
            flags: 257,
            protocol: 3,
            algorithm: 13,
            public_key: b64(
                "GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edbkrSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQLc8NAA==",
            ),
        };
        let rrset = vec![Rr {
            owner: Name::parse("www.example.net.").unwrap(),
            rtype: 1,
            class: 1,
            ttl: 3600,
            rdata: vec![192, 0, 2, 1],
        }];
        let sig = Rrsig {
            type_covered: 1,
            algorithm: 13,
            labels: 3,
            original_ttl: 3600,
            expiration: 1284026679,
            inception: 1281607479,
            key_tag: 55648,
            signer: zone.clone(),
            signature: b64(
                "qx6wLYqmh+l9oCKTN6qIc+bw6ya+KJ8oMz0YP107epXAyGmt+3SNruPFKG7tZoLBLlUzGGus7ZwmwWep666VCw==",
            ),
        };
        let data = signed_data(&sig, &rrset).unwrap();
        assert_eq!(
            verify(
                Algorithm::EcdsaP256Sha256,
                &dnskey.public_key,
                &data,
                &sig.signature
            ),
            Ok(())
        );
        let mut flipped = data.clone();
        flipped[30] ^= 0x20;
        assert_eq!(
            verify(
                Algorithm::EcdsaP256Sha256,
                &dnskey.public_key,
                &flipped,
                &sig.signature
            ),
            Err(VerifyFailure::BadSignature)
        );
        // RFC 6605 s6.1's private key loads against its DNSKEY and signs.
        let private = b64("GU6SnQ/Ou+xC5RumuIUIuJZteXT2z0O/ok1s38Et6mQ=");
        let key = SigningKey::from_private(zone.clone(), &private, dnskey.clone()).unwrap();
        let ours = key
            .sign_rrset(&rrset, &zone, 1281607479, 1284026679)
            .unwrap();
        assert_eq!(ours.signature.len(), 64);
        let data = signed_data(&ours, &rrset).unwrap();
        assert_eq!(
            verify(
                Algorithm::EcdsaP256Sha256,
                &dnskey.public_key,
                &data,
                &ours.signature
            ),
            Ok(())
        );
    }

    #[test]
    fn mismatched_private_key_is_refused_without_key_bytes() {
        let zone = Name::parse("example.com.").unwrap();
        let other = SigningKey::generate(zone.clone(), Algorithm::Ed25519, 257).unwrap();
        let seed = b64("ODIyNjAzODQ2MjgwODAxMjI2NDUxOTAyMDQxNDIyNjI=");
        let err =
            SigningKey::from_private(zone.clone(), &seed, other.dnskey().clone()).unwrap_err();
        assert!(err.to_string().contains("does not match"), "{err}");
        let ec = SigningKey::generate(zone.clone(), Algorithm::EcdsaP256Sha256, 257).unwrap();
        let scalar = b64("GU6SnQ/Ou+xC5RumuIUIuJZteXT2z0O/ok1s38Et6mQ=");
        let err = SigningKey::from_private(zone.clone(), &scalar, ec.dnskey().clone()).unwrap_err();
        assert!(err.to_string().contains("does not match"), "{err}");
        let dbg = format!("{ec:?}");
        assert!(dbg.contains("key_tag") && !dbg.contains("pair"), "{dbg}");
    }

    #[test]
    fn rsa_keys_under_2048_bits_and_malformed_keys_are_bad_keys() {
        let mut small = vec![3, 1, 0, 1];
        small.extend([0xff; 128]);
        assert_eq!(
            verify(Algorithm::RsaSha256, &small, b"x", &[0; 128]),
            Err(VerifyFailure::BadKey)
        );
        assert_eq!(
            verify(Algorithm::RsaSha256, &[], b"x", &[0; 1]),
            Err(VerifyFailure::BadKey)
        );
        assert_eq!(
            verify(Algorithm::RsaSha256, &[0, 0], b"x", &[0; 1]),
            Err(VerifyFailure::BadKey)
        );
        assert_eq!(
            verify(Algorithm::Ed25519, &[0; 31], b"x", &[0; 64]),
            Err(VerifyFailure::BadKey)
        );
        assert_eq!(
            verify(Algorithm::EcdsaP256Sha256, &[0; 64], b"x", &[0; 64]),
            Err(VerifyFailure::BadSignature)
        );
    }
}

//! The DNSSEC records: DNSKEY, DS and RRSIG (RFC 4034 s2, s3, s5), their
//! wire RDATA, the key tag (RFC 4034 App. B) and a DS computed from a
//! DNSKEY (RFC 4034 s5.1.4, RFC 4509, RFC 6605 s3).

use ring::digest;

use super::name::Name;
use super::TrustError;

/// RR type numbers this module needs.
pub mod rtype {
    pub const DS: u16 = 43;
    pub const RRSIG: u16 = 46;
    pub const DNSKEY: u16 = 48;
}

/// The DNSSEC algorithms this module knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// 8, RSA/SHA-256 (RFC 5702): validation only.
    RsaSha256,
    /// 13, ECDSA P-256 with SHA-256 (RFC 6605): signs and validates.
    EcdsaP256Sha256,
    /// 15, Ed25519 (RFC 8080): signs and validates.
    Ed25519,
}

impl Algorithm {
    /// The algorithm for its IANA number, if this module knows it.
    pub fn from_number(n: u8) -> Option<Algorithm> {
        match n {
            8 => Some(Algorithm::RsaSha256),
            13 => Some(Algorithm::EcdsaP256Sha256),
            15 => Some(Algorithm::Ed25519),
            _ => None,
        }
    }

    /// The IANA number.
    pub fn number(self) -> u8 {
        match self {
            Algorithm::RsaSha256 => 8,
            Algorithm::EcdsaP256Sha256 => 13,
            Algorithm::Ed25519 => 15,
        }
    }

    /// The mnemonic BIND prints (`ED25519`, `ECDSAP256SHA256`, `RSASHA256`).
    pub fn mnemonic(self) -> &'static str {
        match self {
            Algorithm::RsaSha256 => "RSASHA256",
            Algorithm::EcdsaP256Sha256 => "ECDSAP256SHA256",
            Algorithm::Ed25519 => "ED25519",
        }
    }

    /// True if this module can sign with it (13 and 15).
    pub fn can_sign(self) -> bool {
        !matches!(self, Algorithm::RsaSha256)
    }
}

/// The DS digest types this module knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DigestType {
    /// 2, SHA-256 (RFC 4509).
    Sha256,
    /// 4, SHA-384 (RFC 6605 s3).
    Sha384,
}

impl DigestType {
    /// The digest type for its IANA number, if this module knows it.
    pub fn from_number(n: u8) -> Option<DigestType> {
        match n {
            2 => Some(DigestType::Sha256),
            4 => Some(DigestType::Sha384),
            _ => None,
        }
    }

    /// The IANA number.
    pub fn number(self) -> u8 {
        match self {
            DigestType::Sha256 => 2,
            DigestType::Sha384 => 4,
        }
    }

    /// The digest's length in octets.
    pub fn digest_len(self) -> usize {
        match self {
            DigestType::Sha256 => 32,
            DigestType::Sha384 => 48,
        }
    }

    fn ring(self) -> &'static digest::Algorithm {
        match self {
            DigestType::Sha256 => &digest::SHA256,
            DigestType::Sha384 => &digest::SHA384,
        }
    }
}

/// DNSKEY flag bit 7, Zone Key (RFC 4034 s2.1.1): only such keys verify
/// RRSIGs.
pub const FLAG_ZONE: u16 = 0x0100;
/// DNSKEY flag bit 8, REVOKE (RFC 5011 s3): a revoked key validates
/// nothing.
pub const FLAG_REVOKE: u16 = 0x0080;
/// DNSKEY flag bit 15, Secure Entry Point (RFC 4034 s2.1.1).
pub const FLAG_SEP: u16 = 0x0001;

/// A DNSKEY's RDATA (RFC 4034 s2.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dnskey {
    pub flags: u16,
    /// Always 3 (RFC 4034 s2.1.2); decoding refuses anything else.
    pub protocol: u8,
    pub algorithm: u8,
    pub public_key: Vec<u8>,
}

impl Dnskey {
    /// Decodes DNSKEY RDATA.
    pub fn from_rdata(rdata: &[u8]) -> Result<Dnskey, TrustError> {
        if rdata.len() < 5 {
            return Err(TrustError::Wire(format!(
                "DNSKEY RDATA of {} octets (at least 5)",
                rdata.len()
            )));
        }
        let key = Dnskey {
            flags: u16::from_be_bytes([rdata[0], rdata[1]]),
            protocol: rdata[2],
            algorithm: rdata[3],
            public_key: rdata[4..].to_vec(),
        };
        if key.protocol != 3 {
            return Err(TrustError::Wire(format!(
                "DNSKEY protocol {} (must be 3, RFC 4034 s2.1.2)",
                key.protocol
            )));
        }
        Ok(key)
    }

    /// The wire RDATA.
    pub fn to_rdata(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(4 + self.public_key.len());
        out.extend_from_slice(&self.flags.to_be_bytes());
        out.push(self.protocol);
        out.push(self.algorithm);
        out.extend_from_slice(&self.public_key);
        out
    }

    /// The key tag (RFC 4034 Appendix B; B.1 for algorithm 1).
    pub fn key_tag(&self) -> u16 {
        let rdata = self.to_rdata();
        if self.algorithm == 1 {
            // RFC 4034 B.1: the third-to-last and second-to-last octets of
            // the modulus.
            let n = self.public_key.len();
            if n < 3 {
                return 0;
            }
            return u16::from_be_bytes([self.public_key[n - 3], self.public_key[n - 2]]);
        }
        let mut acc: u32 = 0;
        for (i, &b) in rdata.iter().enumerate() {
            acc += if i & 1 == 1 {
                b as u32
            } else {
                (b as u32) << 8
            };
        }
        acc += (acc >> 16) & 0xFFFF;
        (acc & 0xFFFF) as u16
    }

    /// True if the Zone Key flag is set.
    pub fn is_zone_key(&self) -> bool {
        self.flags & FLAG_ZONE != 0
    }

    /// True if the key may verify RRSIGs: a zone key (RFC 4034 s2.1.1),
    /// protocol 3, not revoked (RFC 5011 s3).
    pub fn can_verify(&self) -> bool {
        self.is_zone_key() && self.protocol == 3 && self.flags & FLAG_REVOKE == 0
    }

    /// The DS for this key at `owner` (RFC 4034 s5.1.4: the digest of the
    /// owner's canonical wire form followed by the DNSKEY RDATA).
    pub fn ds(&self, owner: &Name, digest_type: DigestType) -> Ds {
        let mut ctx = digest::Context::new(digest_type.ring());
        ctx.update(&owner.canonical_wire());
        ctx.update(&self.to_rdata());
        Ds {
            key_tag: self.key_tag(),
            algorithm: self.algorithm,
            digest_type: digest_type.number(),
            digest: ctx.finish().as_ref().to_vec(),
        }
    }
}

/// A DS's RDATA (RFC 4034 s5.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ds {
    pub key_tag: u16,
    pub algorithm: u8,
    pub digest_type: u8,
    pub digest: Vec<u8>,
}

impl Ds {
    /// Decodes DS RDATA.
    pub fn from_rdata(rdata: &[u8]) -> Result<Ds, TrustError> {
        if rdata.len() < 5 {
            return Err(TrustError::Wire(format!(
                "DS RDATA of {} octets (at least 5)",
                rdata.len()
            )));
        }
        Ok(Ds {
            key_tag: u16::from_be_bytes([rdata[0], rdata[1]]),
            algorithm: rdata[2],
            digest_type: rdata[3],
            digest: rdata[4..].to_vec(),
        })
    }

    /// The wire RDATA.
    pub fn to_rdata(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(4 + self.digest.len());
        out.extend_from_slice(&self.key_tag.to_be_bytes());
        out.push(self.algorithm);
        out.push(self.digest_type);
        out.extend_from_slice(&self.digest);
        out
    }

    /// True if this DS names `key` at `owner`: same key tag and algorithm
    /// and the digest (of a type this module knows) matches.
    pub fn matches(&self, owner: &Name, key: &Dnskey) -> bool {
        let Some(dt) = DigestType::from_number(self.digest_type) else {
            return false;
        };
        self.key_tag == key.key_tag()
            && self.algorithm == key.algorithm
            && key.ds(owner, dt).digest == self.digest
    }

    /// Presentation text of the RDATA (`tag alg type HEX`), as
    /// `dnssec-dsfromkey` prints it.
    pub fn to_text(&self) -> String {
        let hex: String = self.digest.iter().map(|b| format!("{b:02X}")).collect();
        format!(
            "{} {} {} {hex}",
            self.key_tag, self.algorithm, self.digest_type
        )
    }
}

/// An RRSIG's RDATA (RFC 4034 s3.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rrsig {
    pub type_covered: u16,
    pub algorithm: u8,
    pub labels: u8,
    pub original_ttl: u32,
    /// Seconds since the epoch modulo 2^32 (RFC 4034 s3.1.5).
    pub expiration: u32,
    /// Seconds since the epoch modulo 2^32 (RFC 4034 s3.1.5).
    pub inception: u32,
    pub key_tag: u16,
    pub signer: Name,
    pub signature: Vec<u8>,
}

/// The fixed part of RRSIG RDATA before the signer's name.
const RRSIG_FIXED: usize = 18;

impl Rrsig {
    /// Decodes RRSIG RDATA. Every length is checked: hostile bytes give an
    /// error, never a panic. The signer's name must be uncompressed (RFC
    /// 4034 s3.1.7).
    pub fn from_rdata(rdata: &[u8]) -> Result<Rrsig, TrustError> {
        if rdata.len() < RRSIG_FIXED + 1 {
            return Err(TrustError::Wire(format!(
                "RRSIG RDATA of {} octets (at least {})",
                rdata.len(),
                RRSIG_FIXED + 1
            )));
        }
        let u32_at =
            |i: usize| u32::from_be_bytes([rdata[i], rdata[i + 1], rdata[i + 2], rdata[i + 3]]);
        let (signer, end) = Name::read_wire(rdata, RRSIG_FIXED)
            .map_err(|e| TrustError::Wire(format!("RRSIG signer name: {e}")))?;
        let signature = rdata[end..].to_vec();
        if signature.is_empty() {
            return Err(TrustError::Wire("RRSIG without a signature".into()));
        }
        Ok(Rrsig {
            type_covered: u16::from_be_bytes([rdata[0], rdata[1]]),
            algorithm: rdata[2],
            labels: rdata[3],
            original_ttl: u32_at(4),
            expiration: u32_at(8),
            inception: u32_at(12),
            key_tag: u16::from_be_bytes([rdata[16], rdata[17]]),
            signer,
            signature,
        })
    }

    /// The RDATA up to the signature, with the signer's name in canonical
    /// form: the first part of the signed data (RFC 4034 s3.1.8.1).
    pub fn rdata_without_signature(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(RRSIG_FIXED + 32);
        out.extend_from_slice(&self.type_covered.to_be_bytes());
        out.push(self.algorithm);
        out.push(self.labels);
        out.extend_from_slice(&self.original_ttl.to_be_bytes());
        out.extend_from_slice(&self.expiration.to_be_bytes());
        out.extend_from_slice(&self.inception.to_be_bytes());
        out.extend_from_slice(&self.key_tag.to_be_bytes());
        out.extend_from_slice(&self.signer.canonical_wire());
        out
    }

    /// The wire RDATA (signer name lowercased, as signers write it).
    pub fn to_rdata(&self) -> Vec<u8> {
        let mut out = self.rdata_without_signature();
        out.extend_from_slice(&self.signature);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::text::{vector_b64 as b64, vector_hex as hex};
    use super::*;

    #[test]
    fn rfc4034_s5_4_key_tag() {
        // RFC 4034 s5.4: dskey.example.com., key id 60485.
        let key = Dnskey {
            flags: 256,
            protocol: 3,
            algorithm: 5,
            public_key: b64(
                "AQOeiiR0GOMYkDshWoSKz9XzfwJr1AYtsmx3TGkJaNXVbfi/2pHm822aJ5iI9BMzNXxeYCmZ
                 DRD99WYwYqUSdjMmmAphXdvxegXd/M5+X7OrzKBaMbCVdFLUUh6DhweJBjEVv5f2wwjM9Xzc
                 nOf+EPbtG9DMBmADjFDc2w/rljwvFw==",
            ),
        };
        assert_eq!(key.key_tag(), 60485);
    }

    #[test]
    fn rfc8080_and_rfc6605_key_tags_and_ds() {
        let rows: [(&str, u16, u8, &str, u16, u8, &str); 3] = [
            // RFC 8080 s6.1 (both examples, tags as corrected by erratum 4935)
            (
                "example.com.",
                257,
                15,
                "l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4=",
                3613,
                2,
                "3aa5ab37efce57f737fc1627013fee07bdf241bd10f3b1964ab55c78e79a304b",
            ),
            (
                "example.com.",
                257,
                15,
                "zPnZ/QwEe7S8C5SPz2OfS5RR40ATk2/rYnE9xHIEijs=",
                35217,
                2,
                "401781b934e392de492ec77ae2e15d70f6575a1c0bc59c5275c04ebe80c6614c",
            ),
            // RFC 6605 s6.1
            (
                "example.net.",
                257,
                13,
                "GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edbkrSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQLc8NAA==",
                55648,
                2,
                "b4c8c1fe2e7477127b27115656ad6256f424625bf5c1e2770ce6d6e37df61d17",
            ),
        ];
        for (owner, flags, alg, pk, tag, dt, digest) in rows {
            let key = Dnskey {
                flags,
                protocol: 3,
                algorithm: alg,
                public_key: b64(pk),
            };
            assert_eq!(key.key_tag(), tag, "{owner} {alg}");
            let owner = Name::parse(owner).unwrap();
            let ds = key.ds(&owner, DigestType::from_number(dt).unwrap());
            assert_eq!(ds.digest, hex(digest), "{owner} {alg}");
            assert_eq!(ds.key_tag, tag);
            assert!(ds.matches(&owner, &key));
            assert!(!ds.matches(&Name::parse("example.org.").unwrap(), &key));
            let round = Dnskey::from_rdata(&key.to_rdata()).unwrap();
            assert_eq!(round, key);
            assert_eq!(Ds::from_rdata(&ds.to_rdata()).unwrap(), ds);
        }
    }

    #[test]
    fn rrsig_round_trip_and_hostile_bytes() {
        let sig = Rrsig {
            type_covered: 33,
            algorithm: 15,
            labels: 4,
            original_ttl: 120,
            expiration: 2_000_000_000,
            inception: 1_900_000_000,
            key_tag: 4242,
            signer: Name::parse("local.").unwrap(),
            signature: vec![7; 64],
        };
        let wire = sig.to_rdata();
        assert_eq!(Rrsig::from_rdata(&wire).unwrap(), sig);
        // every truncation is an error, never a panic
        for cut in 0..wire.len() - 64 {
            assert!(Rrsig::from_rdata(&wire[..cut]).is_err(), "cut {cut}");
        }
        // a compressed signer name is refused
        let mut compressed = wire[..18].to_vec();
        compressed.extend_from_slice(&[0xC0, 0x0C, 1, 2, 3]);
        assert!(Rrsig::from_rdata(&compressed).is_err());
        // a flood of arbitrary bytes never panics
        let mut x: u32 = 0x1234_5678;
        for len in 0..400 {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    x as u8
                })
                .collect();
            let _ = Rrsig::from_rdata(&bytes);
            let _ = Dnskey::from_rdata(&bytes);
            let _ = Ds::from_rdata(&bytes);
        }
        assert!(Dnskey::from_rdata(&[1, 0, 2, 15, 0]).is_err(), "protocol 2");
    }
}

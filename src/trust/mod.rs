//! Public-key trust for discovered records: DNSSEC signatures (RRSIG,
//! DNSKEY, DS; RFC 4034, RFC 4035) made and checked over records that came
//! by mDNS or by unicast DNS, against a pinned trust anchor.
//!
//! This is the protocol and crypto core; it opens no sockets, reads no
//! clock (the caller passes the time) and knows nothing of the transports.
//! The conductor signs its records with a private key in BIND's format
//! ([`load_bind_key`], [`SigningKey::sign_rrset`]) and publishes the
//! DNSKEY ([`SigningKey::dnskey_rr`]); the agent holds only an anchor
//! ([`AnchorSet::parse`]) and validates what it receives
//! ([`Validator::validate`]).
//!
//! # Pieces
//! - [`Name`]: a domain name as uncompressed wire labels, compared without
//!   case. [`Rr`]: one record as the integration hands it over (owner,
//!   type, class as received, TTL, uncompressed RDATA).
//! - [`Dnskey`], [`Ds`], [`Rrsig`]: the records, their wire RDATA (decoding
//!   checks every length and never panics), the key tag (RFC 4034 App. B),
//!   the DS of a key ([`Dnskey::ds`], digest types 2 SHA-256 and 4
//!   SHA-384).
//! - [`signed_data`]: the canonical form (RFC 4034 s3.1.8.1, s6.2, s6.3):
//!   owner lowercased, the RRSIG's original TTL, the class without the mDNS
//!   cache-flush bit (callers may pass the class as received; it is
//!   masked), embedded names lowercased for the RDATA types RFC 4034 s6.2
//!   lists as corrected by RFC 6840 s5.1 (NSEC's names keep their case,
//!   RRSIG's are lowercased), records sorted by RDATA and duplicates
//!   dropped.
//! - [`load_bind_key`]: `K<zone>+<alg>+<tag>.private` and `.key` (the
//!   private key is checked against the public one; a private key file
//!   others can read gives a [`KeyWarning`], not an error). Files over 64
//!   KiB are refused unread; a FIFO or device is read without blocking. No key material ever appears in an error or in
//!   `Debug` output.
//! - [`AnchorSet`]: DNSKEY and DS records in zone-file text, the compact
//!   `KEYTAG:ALG:DIGESTTYPE:HEXDIGEST` (a DS, for kernel command lines), or
//!   `@/path/file`.
//! - [`Validator`]: accepts an RRset iff an RRSIG over it verifies with a
//!   key that is an anchor, matches a DS anchor, or is in the signer's
//!   DNSKEY RRset signed by such a key (one step); otherwise a
//!   [`ValidationError`] says why (no signature, wrong key, expired or not
//!   yet valid and by how much, unsupported algorithm, bad signature,
//!   signer mismatch).
//!
//! # Choices
//! - **Crypto: `ed25519-dalek` 2 for Ed25519, `ring` 0.17 for the rest.**
//!   ring gives ECDSA P-256 from the scalar (BIND's `PrivateKey` for
//!   algorithm 13) with the fixed `r||s` signature encoding that is
//!   exactly RFC 6605's wire form (its assembly verifies in about 70 us
//!   on the 2-core test machine), RSA
//!   PKCS#1 v1.5 SHA-256 verification from the DNSKEY's exponent and
//!   modulus, SHA-256/384 for DS digests, and key generation's randomness.
//!   Ed25519, the algorithm docs/TRUST.md recommends, is what a validated
//!   lookup spends most of its added time on (three checks: SRV, TXT,
//!   address): ed25519-dalek, with its AVX2 backend chosen at run time,
//!   verifies in about 37 us on the 2-core test machine where ring's
//!   portable code takes 66 us (same run, same key and message). It
//!   builds from the 32-octet seed BIND stores, and the public key it
//!   derives is compared with the DNSKEY's, the check a key file needs.
//!   Both need only the glibc symbols the library already needs.
//! - **Algorithms**: 13 and 15 sign and validate; 8 only validates, and
//!   only with keys of 2048 bits or more (ring's floor for RSA with
//!   SHA-256). Anything else is an unsupported algorithm.
//! - **Validity window**: the RRSIG's 32-bit inception and expiration are
//!   serial numbers (RFC 4034 s3.1.5); each is read as the 64-bit time
//!   nearest the caller's `now` (within 2^31 seconds), and the window
//!   `[inception - skew, expiration + skew]` must hold `now`.
//! - **Wildcards are refused.** An RRSIG whose Labels count is below the
//!   owner's label count says the RRset was synthesized from a wildcard
//!   (RFC 4035 s5.3.2). mDNS has no wildcards, and the records this
//!   library looks up (service instances, SRV, TXT, addresses) are never
//!   published as wildcards; accepting expansions safely would also need
//!   the NSEC proof that no closer name exists. Refusing them costs nothing
//!   and removes that case. (A record whose owner literally is `*.zone` is
//!   signed and validated like any other.)
//! - **Keys that verify**: zone keys (RFC 4034 s2.1.1), protocol 3, without
//!   the REVOKE bit (RFC 5011 s3); a revoked key is refused as an anchor.
//! - **Trust chain**: one step at most. The anchor is pinned by the
//!   operator; there is no walk from the root and no DS lookup.

mod anchor;
mod canon;
mod crypto;
mod keyfile;
mod name;
mod policy;
mod record;
mod text;
mod validate;

use std::path::PathBuf;

pub use anchor::{Anchor, AnchorSet};
pub use canon::{canonical_rdata, signed_data, Rr, CACHE_FLUSH};
pub use crypto::{rrsig_rr, SigningKey};
pub use keyfile::{load_bind_key, KeyWarning, LoadedKey};
pub use name::Name;
pub use policy::{SigningKeyRef, TrustPolicy, DEFAULT_CLOCK_SKEW};
pub use record::{
    rtype, Algorithm, DigestType, Dnskey, Ds, Rrsig, FLAG_REVOKE, FLAG_SEP, FLAG_ZONE,
};
pub use text::{format_duration, format_time, parse_time, MAX_FILE};
pub use validate::{TrustPath, Validated, ValidationError, Validator};

/// What can go wrong outside validation: reading names, records, key
/// files and anchors, and signing. Messages never carry key material.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TrustError {
    #[error("invalid name: {0}")]
    Name(String),
    #[error("malformed record data: {0}")]
    Wire(String),
    #[error("{0}")]
    Rrset(String),
    #[error("line {line}: {why}")]
    Syntax { line: usize, why: String },
    #[error("{}: {why}", path.display())]
    File { path: PathBuf, why: String },
    #[error("trust anchor: {0}")]
    Anchor(String),
    #[error("{0}")]
    Algorithm(String),
    #[error("{0}")]
    Key(String),
    #[error("invalid time: {0}")]
    Time(String),
}

#[cfg(test)]
mod tests;

//! The canonical form of an RRset and the data an RRSIG signs (RFC 4034
//! s3.1.8.1, s6.2, s6.3, with RFC 6840 s5.1's correction).

use super::name::Name;
use super::record::Rrsig;
use super::TrustError;

/// The mDNS cache-flush bit (RFC 6762 s10.2) shares the class field on
/// the wire but is not part of the class: it is masked off everywhere in
/// this module, so callers may pass the class as received.
pub const CACHE_FLUSH: u16 = 0x8000;

/// One resource record as the integration hands it over: the owner, the
/// type, the class as received (the mDNS cache-flush bit may be set; it is
/// masked), the TTL, and the RDATA already uncompressed (every name in it
/// written out in full).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rr {
    pub owner: Name,
    pub rtype: u16,
    pub class: u16,
    pub ttl: u32,
    pub rdata: Vec<u8>,
}

impl Rr {
    /// The class without the mDNS cache-flush bit.
    pub fn class(&self) -> u16 {
        self.class & !CACHE_FLUSH
    }
}

/// Where the domain names sit in the RDATA of the types whose embedded
/// names are lowercased in canonical form: RFC 4034 s6.2 item 3, as
/// corrected by RFC 6840 s5.1 (names in NSEC RDATA are *not* lowercased;
/// names in RRSIG RDATA are). Types not listed (A, AAAA, TXT, NSEC,
/// unknown types) are signed exactly as they are.
enum Layout {
    /// Fixed octets, then one name, then whatever follows is opaque.
    NameAt(usize),
    /// Fixed octets, then two names (SOA, MINFO, RP, PX).
    TwoNamesAt(usize),
    /// NAPTR: two 16-bit fields, three character-strings, then a name.
    Naptr,
}

fn layout(rtype: u16) -> Option<Layout> {
    Some(match rtype {
        // NS, MD, MF, CNAME, MB, MG, MR, PTR, DNAME: one name
        2 | 3 | 4 | 5 | 7 | 8 | 9 | 12 | 39 => Layout::NameAt(0),
        // NXT: the next name, then a bitmap
        30 => Layout::NameAt(0),
        // SOA: MNAME RNAME, then five numbers; MINFO, RP: two names
        6 | 14 | 17 => Layout::TwoNamesAt(0),
        // MX, AFSDB, RT, KX: preference then a name
        15 | 18 | 21 | 36 => Layout::NameAt(2),
        // PX: preference then two names
        26 => Layout::TwoNamesAt(2),
        // SRV: priority, weight, port, then the target
        33 => Layout::NameAt(6),
        // SIG, RRSIG: 18 fixed octets, the signer, then the signature
        24 | 46 => Layout::NameAt(18),
        35 => Layout::Naptr,
        _ => return None,
    })
}

/// The canonical RDATA of one record: embedded names (for the types RFC
/// 4034 s6.2 as corrected by RFC 6840 s5.1 lists) lowercased. The RDATA
/// must be uncompressed; a compression pointer or a name that runs past
/// the end is an error.
pub fn canonical_rdata(rtype: u16, rdata: &[u8]) -> Result<Vec<u8>, TrustError> {
    let Some(layout) = layout(rtype) else {
        return Ok(rdata.to_vec());
    };
    let mut out = rdata.to_vec();
    let lower = |out: &mut Vec<u8>, at: usize| -> Result<usize, TrustError> {
        if at > rdata.len() {
            return Err(TrustError::Wire(format!(
                "type {rtype} RDATA of {} octets is too short",
                rdata.len()
            )));
        }
        let (_, end) = Name::read_wire(rdata, at)
            .map_err(|e| TrustError::Wire(format!("type {rtype} RDATA: {e}")))?;
        out[at..end].make_ascii_lowercase();
        Ok(end)
    };
    match layout {
        Layout::NameAt(at) => {
            lower(&mut out, at)?;
        }
        Layout::TwoNamesAt(at) => {
            let next = lower(&mut out, at)?;
            lower(&mut out, next)?;
        }
        Layout::Naptr => {
            let mut at = 4;
            for _ in 0..3 {
                let len = *rdata
                    .get(at)
                    .ok_or_else(|| TrustError::Wire("NAPTR RDATA ends inside its strings".into()))?
                    as usize;
                at += 1 + len;
            }
            lower(&mut out, at)?;
        }
    }
    Ok(out)
}

/// Checks that `rrset` is one non-empty RRset: one owner (compared without
/// case), one type, one class (the cache-flush bit masked).
pub(crate) fn check_rrset(rrset: &[Rr]) -> Result<(), TrustError> {
    let first = rrset
        .first()
        .ok_or_else(|| TrustError::Rrset("empty RRset".into()))?;
    for rr in rrset {
        if rr.owner != first.owner || rr.rtype != first.rtype || rr.class() != first.class() {
            return Err(TrustError::Rrset(format!(
                "records of different RRsets mixed: {} type {} class {} and {} type {} class {}",
                first.owner,
                first.rtype,
                first.class(),
                rr.owner,
                rr.rtype,
                rr.class()
            )));
        }
    }
    Ok(())
}

/// The data an RRSIG signs (RFC 4034 s3.1.8.1): the RRSIG RDATA without
/// the signature, then each record of the RRset in canonical form (RFC
/// 4034 s6.2: owner lowercased and uncompressed, the class without the
/// cache-flush bit, the RRSIG's original TTL, canonical RDATA), sorted by
/// RDATA and with duplicates removed (RFC 4034 s6.3).
///
/// The owner is signed as it is: wildcard expansions are refused before
/// this point (see the module documentation), so no `*` label is ever
/// substituted.
pub fn signed_data(rrsig: &Rrsig, rrset: &[Rr]) -> Result<Vec<u8>, TrustError> {
    check_rrset(rrset)?;
    let first = &rrset[0];
    if first.rtype != rrsig.type_covered {
        return Err(TrustError::Rrset(format!(
            "the RRSIG covers type {}, the RRset is type {}",
            rrsig.type_covered, first.rtype
        )));
    }
    let mut rdatas = rrset
        .iter()
        .map(|rr| canonical_rdata(rr.rtype, &rr.rdata))
        .collect::<Result<Vec<_>, _>>()?;
    // RFC 4034 s6.3: order by RDATA as left-justified octet strings, the
    // shorter first when one is a prefix of the other (which is how slices
    // compare); identical records count once.
    rdatas.sort();
    rdatas.dedup();
    let owner = first.owner.canonical_wire();
    let mut out = rrsig.rdata_without_signature();
    for rdata in &rdatas {
        let len = u16::try_from(rdata.len())
            .map_err(|_| TrustError::Rrset("RDATA longer than 65535 octets".into()))?;
        out.extend_from_slice(&owner);
        out.extend_from_slice(&first.rtype.to_be_bytes());
        out.extend_from_slice(&first.class().to_be_bytes());
        out.extend_from_slice(&rrsig.original_ttl.to_be_bytes());
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(rdata);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name_wire(s: &str) -> Vec<u8> {
        Name::parse(s).unwrap().as_wire().to_vec()
    }

    #[test]
    fn names_in_rdata_lowercased_for_the_listed_types_only() {
        // SRV: priority, weight, port, target
        let mut srv = vec![0, 0, 0, 0, 0x19, 0x0b];
        srv.extend(name_wire("Host-1.Local."));
        let c = canonical_rdata(33, &srv).unwrap();
        assert_eq!(&c[6..], name_wire("host-1.local."));
        assert_eq!(&c[..6], &srv[..6]);
        // PTR
        let ptr = name_wire("My Node._Openstack._tcp.local.");
        assert_eq!(
            canonical_rdata(12, &ptr).unwrap(),
            name_wire("my node._openstack._tcp.local.")
        );
        // TXT, A and NSEC (RFC 6840 s5.1) are left as they are
        let txt = b"\x0cProtocol=HTTP".to_vec();
        assert_eq!(canonical_rdata(16, &txt).unwrap(), txt);
        let mut nsec = name_wire("Next.Local.");
        nsec.extend([0, 1, 0x40]);
        assert_eq!(canonical_rdata(47, &nsec).unwrap(), nsec);
        // SOA: two names then numbers
        let mut soa = name_wire("NS.Example.");
        soa.extend(name_wire("Admin.Example."));
        soa.extend([0u8; 20]);
        let c = canonical_rdata(6, &soa).unwrap();
        assert_eq!(c, soa.to_ascii_lowercase());
        // NAPTR: order, pref, flags, service, regexp, replacement
        let mut naptr = vec![0, 1, 0, 2, 1, b'S', 2, b'X', b'Y', 0];
        naptr.extend(name_wire("Srv.Example."));
        let c = canonical_rdata(35, &naptr).unwrap();
        assert_eq!(&c[..10], &naptr[..10]);
        assert_eq!(&c[10..], name_wire("srv.example."));
    }

    #[test]
    fn hostile_rdata_is_an_error() {
        assert!(canonical_rdata(33, &[0, 0, 0]).is_err());
        assert!(canonical_rdata(33, &[0, 0, 0, 0, 0, 0, 0xC0, 12]).is_err());
        assert!(canonical_rdata(12, &[5, b'a']).is_err());
        assert!(canonical_rdata(35, &[0, 1, 0, 2, 9]).is_err());
        assert!(canonical_rdata(6, &name_wire("a.")).is_err());
    }

    #[test]
    fn signed_data_sorts_dedups_masks_and_uses_original_ttl() {
        let owner = Name::parse("Www.Example.").unwrap();
        let rr = |rdata: &[u8], class: u16, ttl: u32| Rr {
            owner: owner.clone(),
            rtype: 1,
            class,
            ttl,
            rdata: rdata.to_vec(),
        };
        let sig = Rrsig {
            type_covered: 1,
            algorithm: 15,
            labels: 2,
            original_ttl: 300,
            expiration: 2,
            inception: 1,
            key_tag: 9,
            signer: Name::parse("Example.").unwrap(),
            signature: vec![1],
        };
        let a = signed_data(
            &sig,
            &[
                rr(&[10, 0, 0, 2], 0x8001, 120),
                rr(&[10, 0, 0, 1], 1, 120),
                rr(&[10, 0, 0, 2], 1, 120),
            ],
        )
        .unwrap();
        let b = signed_data(&sig, &[rr(&[10, 0, 0, 1], 1, 9), rr(&[10, 0, 0, 2], 1, 9)]).unwrap();
        assert_eq!(a, b);
        let head = sig.rdata_without_signature();
        assert!(a.starts_with(&head));
        assert!(head.ends_with(&name_wire("example.")));
        let mut one = name_wire("www.example.");
        one.extend([0, 1, 0, 1, 0, 0, 1, 44, 0, 4, 10, 0, 0, 1]);
        assert_eq!(&a[head.len()..head.len() + one.len()], &one[..]);
        assert_eq!(a.len(), head.len() + 2 * one.len());
        // mixed RRsets and a wrong covered type are refused
        let mut other = rr(&[1, 2, 3, 4], 1, 1);
        other.rtype = 28;
        assert!(signed_data(&sig, &[rr(&[1, 2, 3, 4], 1, 1), other.clone()]).is_err());
        assert!(signed_data(&sig, &[other]).is_err());
        assert!(signed_data(&sig, &[]).is_err());
    }
}

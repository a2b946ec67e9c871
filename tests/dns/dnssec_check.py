"""dnspython as an independent DNSSEC validator for tests/dns_signed.rs.

    dnssec_check.py SERVER ZONE "TAG ALG DIGESTTYPE HEX" NAME TYPE

Asks SERVER (DO bit set, over TCP) for ZONE's DNSKEY RRset and NAME's TYPE
RRset with their RRSIGs, then checks the chain from the DS down:
  1. a served DNSKEY hashes to the DS                 (else exit 4)
  2. that key's RRSIG over the DNSKEY RRset verifies  (else exit 5)
  3. an RRSIG over NAME/TYPE verifies with the keys   (else exit 6)
and prints "valid TAG..." (the key tags of the RRSIGs that verified).
Exit 1: the RRset is missing.
"""
import sys

import dns.dnssec
import dns.message
import dns.name
import dns.query
import dns.rdataclass
import dns.rdata
import dns.rdatatype
import dns.rrset


def fetch(server, name, rtype):
    q = dns.message.make_query(name, rtype, want_dnssec=True)
    r = dns.query.tcp(q, server, timeout=3)
    rdtype = dns.rdatatype.from_text(rtype)
    rrset = sigs = None
    for s in r.answer:
        if s.name != name:
            continue
        if s.rdtype == rdtype:
            rrset = s
        elif s.rdtype == dns.rdatatype.RRSIG and s.covers == rdtype:
            sigs = s
    return rrset, sigs


def main(argv):
    if len(argv) != 6:
        raise SystemExit(__doc__)
    server = argv[1]
    zone = dns.name.from_text(argv[2])
    ds = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.DS, argv[3])
    name = dns.name.from_text(argv[4])
    rtype = argv[5]

    keys, key_sigs = fetch(server, zone, "DNSKEY")
    if keys is None or key_sigs is None:
        print("no signed DNSKEY RRset")
        return 5
    anchor = [
        k for k in keys if dns.dnssec.make_ds(zone, k, ds.digest_type) == ds
    ]
    if not anchor:
        print("no served DNSKEY matches DS", ds.key_tag)
        return 4
    pinned = dns.rrset.from_rdata_list(zone, keys.ttl, anchor)
    try:
        dns.dnssec.validate(keys, key_sigs, {zone: pinned})
    except dns.dnssec.ValidationFailure as e:
        print("DNSKEY RRset not signed by the pinned key:", e)
        return 5

    rrset, sigs = fetch(server, name, rtype)
    if rrset is None:
        print("no", rtype, "at", name)
        return 1
    if sigs is None:
        print("no RRSIG over", name, rtype)
        return 6
    good = []
    for sig in sigs:
        one = dns.rrset.from_rdata_list(name, sigs.ttl, [sig])
        try:
            dns.dnssec.validate(rrset, one, {zone: keys})
            good.append(str(sig.key_tag))
        except dns.dnssec.ValidationFailure:
            pass
    if not good:
        print("no RRSIG over", name, rtype, "verifies")
        return 6
    print("valid", " ".join(good))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

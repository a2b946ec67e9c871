"""dnspython's dns.dnssec as an independent peer of src/trust (tests/trust_peers.rs).

Records travel in the RFC 3597 generic form, one per line:
    OWNER TTL IN TYPEnn \\# LEN HEX

validate NOW   reads records on stdin; every RRset other than RRSIG and
               DNSKEY is validated with the RRSIGs at its owner and the
               DNSKEY RRsets present; prints "ok OWNER TYPE" or
               "fail OWNER TYPE: reason" for each.
sign ALG NOW   makes an ALG (ED25519 or ECDSAP256SHA256) key for local.,
               signs a fixed set of RRsets valid an hour either side of
               NOW, prints the DNSKEY, the RRsets and the RRSIGs.
"""

import sys

import dns.dnssec
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

IN = dns.rdataclass.IN


def generic(name, ttl, rd):
    return "%s %d IN TYPE%d %s" % (name.to_text(), ttl, rd.rdtype, rd.to_generic().to_text())


def read_records(lines):
    sets = {}
    for line in lines:
        line = line.strip()
        if not line:
            continue
        owner, ttl, _cls, rtype, rest = line.split(None, 4)
        name = dns.name.from_text(owner)
        rdtype = dns.rdatatype.from_text(rtype)
        rd = dns.rdata.from_text(IN, rdtype, rest)
        covers = rd.covers() if rdtype == dns.rdatatype.RRSIG else dns.rdatatype.NONE
        key = (name, rdtype, covers)
        if key not in sets:
            sets[key] = dns.rrset.RRset(name, IN, rdtype, covers)
        sets[key].add(rd, int(ttl))
    return sets


def validate(now):
    sets = read_records(sys.stdin)
    keys = {n: s for (n, t, _c), s in sets.items() if t == dns.rdatatype.DNSKEY}
    for (name, rdtype, _c), rrset in sets.items():
        if rdtype == dns.rdatatype.RRSIG:
            continue
        label = "%s %s" % (name.to_text().lower(), dns.rdatatype.to_text(rdtype))
        sigs = sets.get((name, dns.rdatatype.RRSIG, rdtype))
        if sigs is None:
            print("fail %s: no RRSIG" % label)
            continue
        try:
            dns.dnssec.validate(rrset, sigs, keys, now=now)
            print("ok " + label)
        except dns.dnssec.ValidationFailure as e:
            print("fail %s: %s" % (label, e))


def sign(alg, now):
    if alg == "ED25519":
        private = ed25519.Ed25519PrivateKey.generate()
        algorithm = dns.dnssec.Algorithm.ED25519
    elif alg == "ECDSAP256SHA256":
        private = ec.generate_private_key(ec.SECP256R1())
        algorithm = dns.dnssec.Algorithm.ECDSAP256SHA256
    else:
        raise SystemExit("unknown algorithm " + alg)
    zone = dns.name.from_text("local.")
    dnskey = dns.dnssec.make_dnskey(private.public_key(), algorithm, flags=257)
    keyset = dns.rrset.from_rdata(zone, 120, dnskey)
    texts = [
        ("_openstack._tcp.local.", "PTR", ["Baremetal._openstack._tcp.local."]),
        ("Baremetal._openstack._tcp.local.", "SRV", ["0 0 6385 Conductor-1.Local."]),
        ("Baremetal._openstack._tcp.local.", "TXT", ['"protocol=http"', '"path=/v1"']),
        ("Conductor-1.local.", "A", ["192.0.2.10", "192.0.2.11"]),
        ("conductor-1.local.", "AAAA", ["2001:db8::10"]),
    ]
    rrsets = [keyset] + [dns.rrset.from_text(o, 120, IN, t, *rds) for o, t, rds in texts]
    for rrset in rrsets:
        sig = dns.dnssec.sign(
            rrset, private, zone, dnskey, inception=now - 3600, expiration=now + 3600
        )
        for rd in rrset:
            print(generic(rrset.name, rrset.ttl, rd))
        print(generic(rrset.name, rrset.ttl, sig))


if __name__ == "__main__":
    if sys.argv[1] == "validate":
        validate(float(sys.argv[2]))
    elif sys.argv[1] == "sign":
        sign(sys.argv[2], int(sys.argv[3]))
    else:
        raise SystemExit("usage: dnssec_peer.py validate NOW | sign ALG NOW")

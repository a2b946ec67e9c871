"""dnspython as an independent unicast DNS-SD client for tests/dns_net.rs.

    dnspy.py query SERVER NAME TYPE [KEYLINE]   print the answer's RDATA, one a line
                                                 (exit 3 when the response is not
                                                 signed by KEYLINE, exit 1 on NXDOMAIN)
"""
import sys

import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import dns.tsig


def key_of(line):
    alg, name, secret = line.split(":", 2)
    return dns.tsig.Key(name, secret, alg)


def main(argv):
    if argv[1] != "query":
        raise SystemExit("usage: dnspy.py query SERVER NAME TYPE [KEYLINE]")
    server, name, rtype = argv[2], argv[3], argv[4]
    q = dns.message.make_query(name, rtype)
    if len(argv) > 5:
        q.use_tsig(key_of(argv[5]))
    try:
        r = dns.query.udp(q, server, timeout=3)
    except dns.tsig.BadSignature:
        return 3
    if r.rcode() == dns.rcode.NXDOMAIN:
        return 1
    for rrset in r.answer:
        if rrset.rdtype == dns.rdatatype.from_text(rtype):
            for rd in rrset:
                print(rd.to_text())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

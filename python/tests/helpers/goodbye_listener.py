#!/usr/bin/env python3
"""Listen for an mDNS goodbye (RFC 6762 s10.1: a response whose records
have TTL 0) for a name containing NAME, decoded by python-zeroconf.

    goodbye_listener.py ADDRESS NAME SECONDS

Joins 224.0.0.251 on the interface with ADDRESS, prints READY, then
"GOODBYE <record name>" at the first goodbye for NAME (exit 0), or exits 1
after SECONDS.
"""
import socket
import struct
import sys
import time

from zeroconf._protocol.incoming import DNSIncoming


def main():
    address, name, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind(("", 5353))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                 struct.pack("4s4s", socket.inet_aton("224.0.0.251"),
                             socket.inet_aton(address)))
    print("READY", flush=True)
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return 1
        s.settimeout(left)
        try:
            data, _ = s.recvfrom(9000)
        except socket.timeout:
            return 1
        msg = DNSIncoming(data)
        if not msg.is_response():
            continue
        for rec in msg.answers():
            if rec.ttl == 0 and name in rec.name:
                print("GOODBYE %s" % rec.name, flush=True)
                return 0


if __name__ == "__main__":
    sys.exit(main())

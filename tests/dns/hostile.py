"""A hostile (or broken) unicast DNS server for tests/dns_net.rs.

    hostile.py ADDR PORT MODE KEYLINE

Listens on UDP and TCP. Every query is checked with dnspython against
KEYLINE (an unsigned or badly signed query makes it exit 2: our signing is
checked by an independent implementation on the way), then answered
according to MODE with an SRV + TXT + A for the name asked:

    good        correctly signed answer (the control)
    wrong-mac   signed with another secret under the same key name
    unsigned    a correct answer without TSIG
    stale       signed with a time 1 hour in the past
    wrong-id    correctly signed, but the message ID changed
    truncated   UDP: TC set, no records; TCP: connection closed at once
    garbage     our ID and a response's flags, then bytes that do not parse
    byte        one byte (0x00)
    bad-target  correctly signed, but the SRV target is not a host name
                (`@`, `/`, `:` and a newline in its first label)
    badsig      an unsigned TSIG error answer (NOTAUTH, BADSIG, empty MAC),
                what a server that refused our key sends, and anybody can
    silent      no answer at all
    browse      a domain to browse: b._dns-sd._udp PTRs (one owned by
                another name, pointing elsewhere), `_openstack._tcp` PTRs to
                the instances baremetal and slow in each domain asked; no
                answer for slow's names, the good answer for the others
    FORGED-then-good
                UDP: the datagram of mode FORGED (one of the above), then
                0.1 s later the correct signed answer (a forger racing the
                genuine server)

Prints "ready" on stdout once listening. With HOSTILE_LOG=FILE, each query
is logged there as a line "NAME TYPE DO|-" (the EDNS DO bit).
"""
import os
import socket
import sys
import threading
import time

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset
import dns.tsig


def key_of(line, secret=None):
    alg, name, sec = line.split(":", 2)
    return dns.tsig.Key(name, secret or sec, alg)


def answer(wire, mode, key):
    q = dns.message.from_wire(wire, keyring={key.name: key})
    if q.keyname is None:
        print("query not signed", file=sys.stderr, flush=True)
        os._exit(2)
    if os.environ.get("HOSTILE_LOG"):
        # one line per query: name, type, whether the DO bit is set
        with open(os.environ["HOSTILE_LOG"], "a") as f:
            do = "DO" if q.ednsflags & dns.flags.DO else "-"
            qq = q.question[0]
            f.write(f"{qq.name} {dns.rdatatype.to_text(qq.rdtype)} {do}\n")
    if mode == "silent":
        return None
    if mode == "garbage":
        # our ID, a response's flags, one question that does not parse
        return wire[:2] + b"\x81\x80\x00\x01" + bytes(6) + b"\xc0\xff" + os.urandom(32)
    if mode == "byte":
        return b"\x00"
    name = q.question[0].name
    if mode == "browse":
        first = name.labels[0].lower()
        if first == b"slow":
            return None
        if q.question[0].rdtype == dns.rdatatype.PTR:
            r = dns.message.make_response(q)
            if first == b"b":
                r.answer.append(dns.rrset.from_text(name, 60, "IN", "PTR", "mystack.example.test."))
                r.answer.append(dns.rrset.from_text(
                    dns.name.Name([b"x"]).concatenate(name), 60, "IN", "PTR", "elsewhere.example.test."))
            else:
                for inst in ("baremetal", "slow"):
                    r.answer.append(dns.rrset.from_text(
                        name, 60, "IN", "PTR", f"{inst}.{name}"))
            return r.to_wire()
        mode = "good"
    r = dns.message.make_response(q)
    if mode == "badsig":
        r.set_rcode(dns.rcode.NOTAUTH)
        r.tsig = None
        r.keyring = None
        out = bytearray(r.to_wire())
        out[10:12] = (int.from_bytes(out[10:12], "big") + 1).to_bytes(2, "big")
        rd = dns.name.from_text("hmac-sha256").to_wire()
        rd += int(time.time()).to_bytes(6, "big") + (300).to_bytes(2, "big")
        rd += (0).to_bytes(2, "big")  # MAC size 0
        rd += wire[:2] + (16).to_bytes(2, "big") + (0).to_bytes(2, "big")  # BADSIG
        out += key.name.to_wire() + (250).to_bytes(2, "big") + (255).to_bytes(2, "big")
        out += bytes(4) + len(rd).to_bytes(2, "big") + rd
        return bytes(out)
    name = q.question[0].name
    if mode != "truncated":
        host = "198.18.0.66"
        target = "evil.example.test."
        if mode == "bad-target":
            target = dns.name.Name([b"u@h:1/x\nERROR forged", b"example", b"test", b""])
        r.answer.append(dns.rrset.from_text(name, 60, "IN", "SRV", f"0 0 443 {target}"))
        r.answer.append(dns.rrset.from_text(name, 60, "IN", "TXT", '"txtvers=1"'))
        r.answer.append(dns.rrset.from_text(name, 60, "IN", "A", host))
        r.answer.append(dns.rrset.from_text(name, 60, "IN", "AAAA", "fd00:99::66"))
    else:
        r.flags |= dns.flags.TC
    if mode == "wrong-mac":
        r.use_tsig(key_of(KEYLINE, "c2VjcmV0c2VjcmV0c2VjcmV0"), fudge=300)
        r.request_mac = q.mac
    elif mode == "unsigned":
        r.tsig = None
        r.keyring = None
    wire_out = None
    if mode == "stale":
        orig = time.time
        time.time = lambda: orig() - 3600
        try:
            wire_out = r.to_wire()
        finally:
            time.time = orig
    else:
        wire_out = r.to_wire()
    if mode == "wrong-id":
        wire_out = bytes([wire_out[0] ^ 0xFF, wire_out[1]]) + wire_out[2:]
    return wire_out


def serve_udp(sock, mode, key):
    while True:
        data, peer = sock.recvfrom(65535)
        if mode.endswith("-then-good"):
            sock.sendto(answer(data, mode[: -len("-then-good")], key), peer)
            time.sleep(0.1)
            sock.sendto(answer(data, "good", key), peer)
            continue
        out = answer(data, mode, key)
        if out is not None:
            sock.sendto(out, peer)


def serve_tcp(sock, mode, key):
    while True:
        conn, _ = sock.accept()
        with conn:
            if mode == "truncated":
                continue  # closed at once
            n = int.from_bytes(conn.recv(2), "big")
            data = b""
            while len(data) < n:
                chunk = conn.recv(n - len(data))
                if not chunk:
                    break
                data += chunk
            out = answer(data, mode, key)
            if out is None:
                time.sleep(30)
                continue
            conn.sendall(len(out).to_bytes(2, "big") + out)


KEYLINE = ""


def main():
    global KEYLINE
    addr, port, mode, KEYLINE = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    key = key_of(KEYLINE)
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    u = socket.socket(fam, socket.SOCK_DGRAM)
    u.bind((addr, port))
    t = socket.socket(fam, socket.SOCK_STREAM)
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t.bind((addr, port))
    t.listen(8)
    threading.Thread(target=serve_tcp, args=(t, mode, key), daemon=True).start()
    print("ready", flush=True)
    serve_udp(u, mode, key)


if __name__ == "__main__":
    main()

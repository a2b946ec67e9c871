package ironicmdns

// Just enough of the DNS wire format (RFC 1035 s4) for the roles the lab
// runs on host B: an mDNS listener, a host that claims a name without
// probing (RFC 6762 s9), and a DNS server stub that refuses every name.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"time"
)

type rr struct {
	name  string
	typ   uint16
	class uint16
	ttl   uint32
}

type message struct {
	id, flags          uint16
	qname              string
	qtype              uint16
	answers, additions []rr
	questionEnd        int // offset just past the first question
}

var errShort = errors.New("short DNS message")

// readName reads a possibly compressed name at off; it returns the name
// (with a final dot) and the offset after it in the message.
func readName(b []byte, off int) (string, int, error) {
	var labels []string
	end := -1
	for hops := 0; ; hops++ {
		if off >= len(b) || hops > 64 {
			return "", 0, errShort
		}
		l := int(b[off])
		switch {
		case l == 0:
			if end < 0 {
				end = off + 1
			}
			return strings.Join(labels, ".") + ".", end, nil
		case l&0xc0 == 0xc0:
			if off+1 >= len(b) {
				return "", 0, errShort
			}
			if end < 0 {
				end = off + 2
			}
			off = int(binary.BigEndian.Uint16(b[off:]) & 0x3fff)
		default:
			if off+1+l > len(b) {
				return "", 0, errShort
			}
			labels = append(labels, string(b[off+1:off+1+l]))
			off += 1 + l
		}
	}
}

func parseMessage(b []byte) (*message, error) {
	if len(b) < 12 {
		return nil, errShort
	}
	m := &message{id: binary.BigEndian.Uint16(b), flags: binary.BigEndian.Uint16(b[2:])}
	counts := [4]int{}
	for i := range counts {
		counts[i] = int(binary.BigEndian.Uint16(b[4+2*i:]))
	}
	off := 12
	for i := 0; i < counts[0]; i++ {
		name, next, err := readName(b, off)
		if err != nil || next+4 > len(b) {
			return nil, errShort
		}
		if i == 0 {
			m.qname, m.qtype, m.questionEnd = name, binary.BigEndian.Uint16(b[next:]), next+4
		}
		off = next + 4
	}
	for sec := 1; sec < 4; sec++ {
		for i := 0; i < counts[sec]; i++ {
			name, next, err := readName(b, off)
			if err != nil || next+10 > len(b) {
				return nil, errShort
			}
			r := rr{name: name, typ: binary.BigEndian.Uint16(b[next:]),
				class: binary.BigEndian.Uint16(b[next+2:]), ttl: binary.BigEndian.Uint32(b[next+4:])}
			off = next + 10 + int(binary.BigEndian.Uint16(b[next+8:]))
			if off > len(b) {
				return nil, errShort
			}
			if sec == 1 {
				m.answers = append(m.answers, r)
			} else if sec == 3 {
				m.additions = append(m.additions, r)
			}
		}
	}
	return m, nil
}

func appendName(b []byte, name string) []byte {
	for _, l := range strings.Split(strings.TrimSuffix(name, "."), ".") {
		b = append(append(b, byte(len(l))), l...)
	}
	return append(b, 0)
}

// claim is an unsolicited response holding instance's SRV (cache-flush
// bit set) with another host's data, as a host that does not probe sends
// it.
func claim(instance string, port uint16) []byte {
	b := []byte{0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0}
	b = appendName(b, instance)
	b = binary.BigEndian.AppendUint16(b, 33)     // SRV
	b = binary.BigEndian.AppendUint16(b, 0x8001) // IN, cache flush
	b = binary.BigEndian.AppendUint32(b, 120)
	rdata := binary.BigEndian.AppendUint16([]byte{0, 0, 0, 0}, port)
	rdata = appendName(rdata, "intruder.local.")
	b = binary.BigEndian.AppendUint16(b, uint16(len(rdata)))
	return append(b, rdata...)
}

// runRole runs one of the roles (IRONICMDNS_GO_ROLE="NAME ARG") and
// returns the exit status. It prints its findings on stdout, a line each.
func runRole(role string) int {
	f := strings.Fields(role)
	if len(f) != 2 {
		fmt.Fprintln(os.Stderr, "role: want NAME ARG, got", role)
		return 2
	}
	var err error
	switch f[0] {
	case "mdns-listen":
		err = mdnsListen(f[1])
	case "claim":
		err = sendClaim(f[1])
	case "dns-refuse":
		err = dnsRefuse(f[1])
	default:
		err = fmt.Errorf("unknown role %q", f[0])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "role", role+":", err)
		return 1
	}
	return 0
}

// mdnsListen prints "rr NAME TYPE TTL" for every answer of every mDNS
// response heard on the interface named ifname, until killed.
func mdnsListen(ifname string) error {
	ifi, err := net.InterfaceByName(ifname)
	if err != nil {
		return err
	}
	c, err := net.ListenMulticastUDP("udp4", ifi, &net.UDPAddr{IP: net.IPv4(224, 0, 0, 251), Port: 5353})
	if err != nil {
		return err
	}
	fmt.Println("listening")
	buf := make([]byte, 9000)
	for {
		n, _, err := c.ReadFromUDP(buf)
		if err != nil {
			return err
		}
		m, err := parseMessage(buf[:n])
		if err != nil || m.flags&0x8000 == 0 {
			continue
		}
		for _, r := range m.answers {
			fmt.Printf("rr %s %d %d\n", strings.ToLower(r.name), r.typ, r.ttl)
		}
	}
}

// sendClaim sends claim(instance) to the IPv4 group twice, 150 ms apart,
// from port 5353 with IP TTL 255 (RFC 6762 s11), then prints "sent".
func sendClaim(instance string) error {
	lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			for _, o := range [][3]int{{syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1},
				{syscall.SOL_SOCKET, 0xf /* SO_REUSEPORT */, 1},
				{syscall.IPPROTO_IP, syscall.IP_MULTICAST_TTL, 255}} {
				if e := syscall.SetsockoptInt(int(fd), o[0], o[1], o[2]); e != nil {
					serr = e
				}
			}
		})
		if err != nil {
			return err
		}
		return serr
	}}
	pc, err := lc.ListenPacket(nil, "udp4", "0.0.0.0:5353")
	if err != nil {
		return err
	}
	defer pc.Close()
	group := &net.UDPAddr{IP: net.IPv4(224, 0, 0, 251), Port: 5353}
	for i := 0; i < 2; i++ {
		if i > 0 {
			time.Sleep(150 * time.Millisecond)
		}
		if _, err := pc.WriteTo(claim(instance, 9999), group); err != nil {
			return err
		}
	}
	fmt.Println("sent")
	return nil
}

// dnsRefuse serves DNS on UDP addr: it prints "query QNAME QTYPE
// tsig=KEYNAME" (tsig=- for an unsigned query) for each query and answers
// NXDOMAIN, unsigned, until killed.
func dnsRefuse(addr string) error {
	c, err := net.ListenPacket("udp", addr)
	if err != nil {
		return err
	}
	fmt.Println("listening")
	buf := make([]byte, 9000)
	for {
		n, from, err := c.ReadFrom(buf)
		if err != nil {
			return err
		}
		m, err := parseMessage(buf[:n])
		if err != nil || m.flags&0x8000 != 0 || m.questionEnd == 0 {
			continue
		}
		key := "-"
		for _, r := range m.additions {
			if r.typ == 250 { // TSIG
				key = strings.TrimSuffix(r.name, ".")
			}
		}
		fmt.Printf("query %s %d tsig=%s\n", strings.ToLower(m.qname), m.qtype, key)
		resp := append([]byte(nil), buf[:m.questionEnd]...)
		binary.BigEndian.PutUint16(resp[2:], 0x8000|m.flags&0x0100|0x0080|3) // QR, RD copied, RA, NXDOMAIN
		copy(resp[4:], []byte{0, 1, 0, 0, 0, 0, 0, 0})
		if _, err := c.WriteTo(resp, from); err != nil {
			return err
		}
	}
}

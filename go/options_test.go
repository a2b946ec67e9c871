package ironicmdns

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The listing is the library's table: every option with a field here is
// in it, and the sample config shows each one with its default.
func TestListOptionsIsTheLibrarysTable(t *testing.T) {
	list, err := ListOptions()
	if err != nil {
		t.Fatal(err)
	}
	sample, err := SampleConfig()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]OptionInfo{}
	for _, o := range list {
		if o.Group != "mdns" || o.Name == "" || o.Type == "" || o.Help == "" {
			t.Errorf("incomplete entry %#v", o)
		}
		if _, dup := byName[o.Name]; dup {
			t.Errorf("%s listed twice", o.Name)
		}
		byName[o.Name] = o
		if !strings.Contains(sample, "\n#"+o.Name+" =") {
			t.Errorf("%s is not in the sample config", o.Name)
		}
	}
	for _, f := range fields {
		if _, ok := byName[f.name]; !ok {
			t.Errorf("the field for %s names no option of the library", f.name)
		}
	}
	for name, def := range map[string]string{"registration_attempts": "5", "lookup_attempts": "3",
		"lookup_timeout": "3.0", "discovery": "auto", "domain": "", "tsig_key": ""} {
		if got := byName[name].Default; got != def {
			t.Errorf("%s: default %q, want %q", name, got, def)
		}
	}
}

// Each field reaches zc_options_set under its option's name: the library
// refuses a bad value naming that option; Values takes any option by
// name; a secret is never echoed.
func TestEveryOptionIsSettable(t *testing.T) {
	needLab(t)
	dir := t.TempDir()
	const secret = "c2VjcmV0c2VjcmV0c2VjcmV0" // base64 of "secretsecretsecret"
	rows := []struct {
		name  string
		o     Options
		text  string // in the detail
		avoid string // not in the detail
	}{
		{"domain", Options{Domain: "bad..example"}, "domain", ""},
		{"dns_servers zero", Options{DNSServers: []netip.AddrPort{{}}}, "dns_servers: entry 0", ""},
		{"tsig_key_file", Options{TSIGKeyFile: filepath.Join(dir, "none.key")}, "none.key", ""},
		{"tsig_key", Options{TSIGKey: "hmac-nonesuch:k1:" + secret}, "tsig_key", secret},
		{"discovery", Options{Discovery: "sometimes"}, "discovery", ""},
		{"interfaces zero", Options{Interfaces: []netip.Addr{{}}}, "interfaces: entry 0", ""},
		{"unknown", Options{Values: map[string]string{"no_such_option": "1"}}, "no_such_option", ""},
		{"by name", Options{Values: map[string]string{"lookup_attempts": "11"}}, "lookup_attempts", ""},
		{"twice", Options{LookupAttempts: 2, Values: map[string]string{"lookup_attempts": "2"}},
			"lookup_attempts is given both", ""},
		{"NUL", Options{Values: map[string]string{"tsig_key": "hmac-sha256:k\x00:" + secret}},
			"tsig_key contains a NUL", secret},
	}
	for _, r := range rows {
		z, err := New(&r.o)
		if err == nil {
			z.Close()
			t.Errorf("%s: no error", r.name)
			continue
		}
		var e *Error
		if !errors.Is(err, ErrInvalidArgument) && !errors.Is(err, ErrIO) || !errors.As(err, &e) ||
			!strings.Contains(e.Detail, r.text) {
			t.Errorf("%s: got %v, want ErrInvalidArgument with %q", r.name, err, r.text)
		}
		if r.avoid != "" && strings.Contains(err.Error(), r.avoid) {
			t.Errorf("%s: the error shows the secret: %v", r.name, err)
		}
	}
	keyFile := filepath.Join(dir, "k.key")
	if err := os.WriteFile(keyFile, []byte("key \"k2\" {\n\talgorithm hmac-sha256;\n\tsecret \""+secret+"\";\n};\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	good := []Options{
		{Domain: "lab.example", DNSServers: []netip.AddrPort{netip.MustParseAddrPort("198.18.0.2:5300"),
			netip.AddrPortFrom(netip.MustParseAddr("fd00:99::2"), 0)}, TSIGKey: "hmac-sha256:k1:" + secret,
			Discovery: DiscoveryDNS, Values: map[string]string{"params": "a:b"}},
		{Domain: "lab.example", TSIGKeyFile: keyFile, Discovery: DiscoveryBoth},
		{Values: map[string]string{"domain": "", "discovery": "mdns", "lookup_timeout": "0.5"}},
	}
	for i, o := range good {
		z, err := New(&o)
		if err != nil {
			t.Errorf("good options %d: %v", i, err)
			continue
		}
		z.Close()
	}
}

// domain, dns_servers, discovery and the TSIG key reach the wire: host B
// runs a DNS server that logs each query and answers NXDOMAIN, unsigned.
// Unsigned, the lookup ends in ErrNotFound; with a key (given as text or
// as a file) the query is signed with it and the unsigned answer is
// refused with ErrAuth.
func TestDNSOptionsReachTheWire(t *testing.T) {
	b := hostB(t)
	queries := b.startLines("listening", b.role("dns-refuse", b4+":5300")...)
	const secret = "c2VjcmV0c2VjcmV0c2VjcmV0"
	keyFile := filepath.Join(t.TempDir(), "k.key")
	if err := os.WriteFile(keyFile, []byte("key \"filekey\" {\n\talgorithm hmac-sha256;\n\tsecret \""+secret+"\";\n};\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := Options{Domain: "lab.example", DNSServers: []netip.AddrPort{netip.MustParseAddrPort(b4 + ":5300")},
		Discovery: DiscoveryDNS, LookupAttempts: 1, LookupTimeout: 500 * time.Millisecond}
	rows := []struct {
		name    string
		key     string
		keyFile string
		want    error
		tsig    string
	}{
		{"unsigned", "", "", ErrNotFound, "-"},
		{"tsig_key", "hmac-sha256:textkey:" + secret, "", ErrAuth, "textkey"},
		{"tsig_key_file", "", keyFile, ErrAuth, "filekey"},
	}
	for _, r := range rows {
		o := base
		o.TSIGKey, o.TSIGKeyFile = r.key, r.keyFile
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := LookupWithOptions(ctx, "baremetal", &o)
		cancel()
		if !errors.Is(err, r.want) {
			t.Errorf("%s: got %v, want %v", r.name, err, r.want)
		}
		select {
		case q := <-queries:
			want := "query baremetal._openstack._tcp.lab.example. 33 tsig=" + r.tsig
			if q != want {
				t.Errorf("%s: server saw %q, want %q", r.name, q, want)
			}
		case <-time.After(2 * time.Second):
			t.Fatalf("%s: the DNS server got no query", r.name)
		}
		for len(queries) > 0 { // later questions of the same lookup
			<-queries
		}
	}
}

// The trust fields reach zc_options_set, each anchor as one value:
// without a network (the options are only checked, no socket opened), a
// bad or empty anchor is refused with ErrInvalidArgument naming
// trust_anchor, good ones (compact DS, several in one value, DS text) are
// taken, and the clock skew and signing key are checked as theirs.
func TestTrustOptionsAreCheckedOneAnchorAtATime(t *testing.T) {
	const ds = "35435:15:2:736DF28930BBC05EE4FEE8396B184829BE25CA45F5298073182A1B584F348A24"
	const ds2 = "54580:15:2:DB3503C41D1FC32C0B685CDB91A1ADF29061414EDFBC969764D8E15E7B7254C9"
	const dsText = "local. IN DS 35435 15 2 736DF28930BBC05EE4FEE8396B184829BE25CA45F5298073182A1B584F348A24"
	list, err := ListOptions()
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]string{}
	for _, o := range list {
		types[o.Name] = o.Type
	}
	for _, f := range multiFields {
		if types[f.name] != "multi valued" {
			t.Errorf("%s: the library lists it as %q, not multi valued", f.name, types[f.name])
		}
	}
	good := []Options{
		{TrustAnchors: []string{ds}},
		{TrustAnchors: []string{ds, ds2}},
		{TrustAnchors: []string{ds + "," + ds2}},
		{TrustAnchors: []string{dsText}},
		{TrustAnchors: []string{ds}, TrustClockSkew: 90 * time.Second},
		{TrustAnchors: []string{ds}, Values: map[string]string{"trust_clock_skew": "0"}},
		{TrustClockSkew: 30 * 24 * time.Hour},
	}
	for i, o := range good {
		if err := o.check(); err != nil {
			t.Errorf("good options %d (%+v): %v", i, o, err)
		}
	}
	bad := []struct {
		name string
		o    Options
		text string // in the detail
	}{
		{"empty anchor", Options{TrustAnchors: []string{""}}, "trust_anchor"},
		{"empty after a good one", Options{TrustAnchors: []string{ds, ""}}, "trust_anchor"},
		{"not hex", Options{TrustAnchors: []string{"35435:15:2:nothex"}}, "trust_anchor"},
		{"bad after a good one", Options{TrustAnchors: []string{ds, "nonsense"}}, "nonsense"},
		{"no file", Options{TrustAnchors: []string{"@" + filepath.Join(t.TempDir(), "none")}}, "trust_anchor"},
		{"field and Values", Options{TrustAnchors: []string{ds}, Values: map[string]string{"trust_anchor": ds2}},
			"trust_anchor is given both"},
		{"negative skew", Options{TrustClockSkew: -time.Second}, "trust_clock_skew"},
		{"fractional skew", Options{TrustClockSkew: 1500 * time.Millisecond}, "trust_clock_skew must be whole seconds"},
		{"skew over 30 days", Options{TrustClockSkew: 31 * 24 * time.Hour}, "trust_clock_skew"},
		{"no key file", Options{SigningKeyFile: filepath.Join(t.TempDir(), "Knone.+015+00000.private")},
			"signing_key_file"},
	}
	for _, r := range bad {
		err := r.o.check()
		var e *Error
		if !errors.Is(err, ErrInvalidArgument) || !errors.As(err, &e) || !strings.Contains(e.Detail, r.text) {
			t.Errorf("%s: got %v, want ErrInvalidArgument with %q", r.name, err, r.text)
		}
	}
}

package ironicmdns

/*
#include <stdlib.h>
#include <ironicmdns.h>
*/
import "C"

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"
	"unsafe"
)

// Discovery says where services are looked up and registered: over mDNS,
// through unicast DNS (Options.Domain), or both.
type Discovery string

// The values of the discovery option.
const (
	DiscoveryAuto Discovery = "auto" // dns when a domain is set, else mdns (the default)
	DiscoveryMDNS Discovery = "mdns"
	DiscoveryDNS  Discovery = "dns"
	DiscoveryBoth Discovery = "both"
)

// Options are the [mdns] options (zero values: the library's defaults).
// The library checks every value when New (or LookupWithOptions) is
// called; a bad one fails it with ErrInvalidArgument naming the option.
type Options struct {
	// ConfigFiles are OpenStack config files (ironic.conf, ...) whose
	// [mdns] section is read first, in order, later files winning; a
	// directory means its *.conf files. The fields below win over them.
	ConfigFiles []string
	// Interfaces: addresses of the interfaces to use (default: all, IPv4
	// and IPv6; given, the IP versions follow from them).
	Interfaces []netip.Addr
	// RegistrationAttempts: attempts to register (1 to 10, default 5).
	RegistrationAttempts int
	// LookupAttempts: attempts to look up (1 to 10, default 3).
	LookupAttempts int
	// LookupTimeout: wait per lookup attempt (1 ms to 60 s, default 3 s).
	LookupTimeout time.Duration
	// Params: TXT properties added to every registration (the call's
	// properties win).
	Params Props

	// Unicast DNS-SD (docs/DNS.md).

	// Domain: DNS-SD domain ("mystack.example.com"): services are looked
	// up and registered as <type>._openstack._tcp.<domain> through DNS
	// servers. Empty: mDNS only.
	Domain string
	// DNSServers: the DNS servers to ask (a zero port means 53; default:
	// the nameservers of /etc/resolv.conf).
	DNSServers []netip.AddrPort
	// TSIGKeyFile: a TSIG key in BIND's format (as tsig-keygen prints);
	// queries and updates are signed with it and answers must be signed
	// with it, else ErrAuth.
	TSIGKeyFile string
	// TSIGKey: the same as "algorithm:name:base64secret" (as dig -y
	// takes), instead of TSIGKeyFile. Error texts never show it.
	TSIGKey string
	// Discovery: DiscoveryAuto (the default), DiscoveryMDNS, DiscoveryDNS
	// or DiscoveryBoth.
	Discovery Discovery

	// Trusted discovery, DNSSEC (docs/TRUST.md).

	// TrustAnchors: DNSSEC trust anchors, each set as one value of the
	// multi-valued option trust_anchor (each adds anchors): a DNSKEY or
	// DS record in zone-file text (as dnssec-keygen or dnssec-dsfromkey
	// print it), a DS in the compact form KEYTAG:ALG:DIGESTTYPE:HEXDIGEST
	// (several separated by commas), or "@/path/file" holding such lines.
	// With any anchor, every answer used must carry valid signatures by an
	// anchored key; a lookup that finds none fails with ErrAuth. An empty
	// string is refused (ErrInvalidArgument): nil means no validation.
	TrustAnchors []string
	// TrustClockSkew: how far a signature's validity window is widened on
	// both sides, in whole seconds (0 to 30 days; zero value: the
	// library's default, 1 h). A skew of exactly 0 is set through Values
	// ("trust_clock_skew": "0").
	TrustClockSkew time.Duration
	// SigningKeyFile: a private key in BIND's format (the
	// K<name>+<alg>+<tag>.private file of dnssec-keygen, its .key beside
	// it), read and checked by New: the mDNS responder signs what it
	// publishes with it.
	SigningKeyFile string

	// Values sets any option by its config-file name and text, as in an
	// [mdns] section (see ListOptions): options without a field above
	// (ones newer than this package among them), or a field's option set
	// to a value its zero value cannot express (e.g. "domain": "" over a
	// config file's domain). Applied after the fields, in name order; a
	// name whose field is also set is refused.
	Values map[string]string
}

// field is one option that has a field in Options: its config-file name
// and its value as text (false: the field is not set).
type field struct {
	name  string
	value func(o *Options) (string, bool, error)
}

// multiField is a multi-valued option that has a field in Options: each
// of its values is set in turn, each adding to the ones before (none:
// not set).
type multiField struct {
	name   string
	values func(o *Options) []string
}

// multiFields are the multi-valued options Options has a field for.
var multiFields = []multiField{
	{"trust_anchor", func(o *Options) []string { return o.TrustAnchors }},
}

// fields are the options Options has a field for, in the library's order.
var fields = []field{
	{"registration_attempts", func(o *Options) (string, bool, error) {
		return attempts("registration_attempts", o.RegistrationAttempts)
	}},
	{"lookup_attempts", func(o *Options) (string, bool, error) {
		return attempts("lookup_attempts", o.LookupAttempts)
	}},
	{"params", func(o *Options) (string, bool, error) { return "", len(o.Params) > 0, nil }},
	{"interfaces", func(o *Options) (string, bool, error) {
		ips := make([]string, len(o.Interfaces))
		for i, a := range o.Interfaces {
			if !a.IsValid() {
				return "", false, fmt.Errorf("interfaces: entry %d is the zero netip.Addr", i)
			}
			ips[i] = a.String()
		}
		return strings.Join(ips, ","), len(ips) > 0, nil
	}},
	{"lookup_timeout", func(o *Options) (string, bool, error) {
		if o.LookupTimeout < 0 {
			return "", false, fmt.Errorf("lookup_timeout must be positive, not %v", o.LookupTimeout)
		}
		return strconv.FormatFloat(o.LookupTimeout.Seconds(), 'f', -1, 64), o.LookupTimeout > 0, nil
	}},
	{"domain", func(o *Options) (string, bool, error) { return o.Domain, o.Domain != "", nil }},
	{"dns_servers", func(o *Options) (string, bool, error) {
		servers := make([]string, len(o.DNSServers))
		for i, s := range o.DNSServers {
			switch {
			case !s.Addr().IsValid():
				return "", false, fmt.Errorf("dns_servers: entry %d has no address", i)
			case s.Port() == 0:
				servers[i] = s.Addr().String()
			default:
				servers[i] = s.String()
			}
		}
		return strings.Join(servers, ","), len(servers) > 0, nil
	}},
	{"tsig_key_file", func(o *Options) (string, bool, error) { return o.TSIGKeyFile, o.TSIGKeyFile != "", nil }},
	{"tsig_key", func(o *Options) (string, bool, error) { return o.TSIGKey, o.TSIGKey != "", nil }},
	{"discovery", func(o *Options) (string, bool, error) {
		return string(o.Discovery), o.Discovery != "", nil
	}},
	{"trust_clock_skew", func(o *Options) (string, bool, error) {
		switch d := o.TrustClockSkew; {
		case d < 0:
			return "", false, fmt.Errorf("trust_clock_skew must not be negative, not %v", d)
		case d%time.Second != 0:
			return "", false, fmt.Errorf("trust_clock_skew must be whole seconds, not %v", d)
		}
		return strconv.FormatInt(int64(o.TrustClockSkew/time.Second), 10), o.TrustClockSkew > 0, nil
	}},
	{"signing_key_file", func(o *Options) (string, bool, error) {
		return o.SigningKeyFile, o.SigningKeyFile != "", nil
	}},
}

func attempts(name string, n int) (string, bool, error) {
	if n < 0 {
		return "", false, fmt.Errorf("%s must be at least 1, not %d", name, n)
	}
	return strconv.Itoa(n), n > 0, nil
}

// settings are the (name, value) pairs o sets, fields first, then Values.
func (o *Options) settings() ([][2]string, error) {
	var set [][2]string
	isSet := map[string]bool{}
	for _, f := range fields {
		v, ok, err := f.value(o)
		if err != nil {
			return nil, err
		}
		isSet[f.name] = ok
		// Register merges Params under each call's properties
		if ok && f.name != "params" {
			set = append(set, [2]string{f.name, v})
		}
	}
	for _, f := range multiFields {
		vs := f.values(o)
		for _, v := range vs {
			set = append(set, [2]string{f.name, v})
		}
		isSet[f.name] = len(vs) > 0
	}
	names := make([]string, 0, len(o.Values))
	for n := range o.Values {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if isSet[n] {
			return nil, fmt.Errorf("option %s is given both by its field and in Values", n)
		}
		set = append(set, [2]string{n, o.Values[n]})
	}
	return set, nil
}

// build makes a zc_options from o (nil: defaults); free it with
// C.zc_options_free.
func (o *Options) build() (*C.zc_options, error) {
	var set [][2]string
	if o != nil {
		var err error
		if set, err = o.settings(); err != nil {
			return nil, &Error{Op: "options", Status: int(C.ZC_ERR_INVALID_ARGUMENT), Detail: err.Error()}
		}
	}
	var opts *C.zc_options
	if st := C.zc_options_new(&opts); st != C.ZC_OK {
		return nil, newError("options", st, "")
	}
	if o == nil {
		return opts, nil
	}
	fail := func(err error) (*C.zc_options, error) {
		C.zc_options_free(opts)
		return nil, err
	}
	for _, path := range o.ConfigFiles {
		p, err := cString(path, "config file")
		if err != nil {
			return fail(err)
		}
		st := C.zc_options_load_file(opts, p)
		C.free(unsafe.Pointer(p))
		if st != C.ZC_OK {
			return fail(newError("options", st, optionsDetail(opts)))
		}
	}
	for _, kv := range set {
		n, err := cString(kv[0], "option name")
		if err != nil {
			return fail(err)
		}
		if strings.IndexByte(kv[1], 0) >= 0 { // not quoted: it may be a secret
			C.free(unsafe.Pointer(n))
			return fail(&Error{Op: "options", Status: int(C.ZC_ERR_INVALID_ARGUMENT),
				Detail: fmt.Sprintf("the value of option %s contains a NUL byte", kv[0])})
		}
		v := C.CString(kv[1])
		st := C.zc_options_set(opts, n, v)
		C.free(unsafe.Pointer(n))
		C.free(unsafe.Pointer(v))
		if st != C.ZC_OK {
			return fail(newError("options", st, optionsDetail(opts)))
		}
	}
	return opts, nil
}

// OptionInfo describes one option of the listing.
type OptionInfo struct {
	Group   string // "mdns"
	Name    string // as in a config file and in Options.Values
	Type    string // oslo.config type name: "integer", "dict", "list", "string", ...
	Default string // as a config file would hold it ("" for none)
	Help    string
}

// ListOptions lists every option the library takes, in its order (the
// counterpart of the reference's list_opts()). Options.Values takes any
// of them by Name.
func ListOptions() ([]OptionInfo, error) {
	n := int(C.zc_option_count())
	if n == 0 {
		return nil, &Error{Op: "options", Status: int(C.ZC_ERR_INTERNAL), Detail: "the library lists no options"}
	}
	out := make([]OptionInfo, n)
	for i := range out {
		var group, name, typ, def, help *C.char
		if st := C.zc_option_info(C.size_t(i), &group, &name, &typ, &def, &help); st != C.ZC_OK {
			return nil, newError("options", st, fmt.Sprintf("option %d of %d", i, n))
		}
		out[i] = OptionInfo{Group: C.GoString(group), Name: C.GoString(name), Type: C.GoString(typ),
			Default: C.GoString(def), Help: C.GoString(help)}
	}
	return out, nil
}

// check builds o as New does and frees it: every value checked by the
// library (the keys read), no socket opened. The options tests use it.
func (o *Options) check() error {
	opts, err := o.build()
	if err != nil {
		return err
	}
	C.zc_options_free(opts)
	return nil
}

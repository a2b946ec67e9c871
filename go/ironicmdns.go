// Package ironicmdns finds and publishes OpenStack services over multicast
// DNS (RFC 6762) and DNS-SD (RFC 6763), as ironic's conductor and
// ironic-python-agent do: a ramdisk asks the link where the "baremetal" API
// is and gets "http://198.18.0.1:6385/baremetal" plus TXT properties.
//
// It wraps libironicmdns (the C ABI, linked with cgo through pkg-config).
//
//	ep, err := ironicmdns.Lookup(ctx, "baremetal")
//	if errors.Is(err, ironicmdns.ErrNotFound) { ... }
//
//	zc, err := ironicmdns.New(&ironicmdns.Options{Interfaces: []netip.Addr{addr}})
//	defer zc.Close()
//	err = zc.Register(ctx, "baremetal", "http://198.18.0.1:6385/baremetal", nil)
//
// Errors are *Error values carrying the library's status and detail; compare
// them with errors.Is against the Err* sentinels. The detail of a failure is
// read from the object the call was given (the Zeroconf handle or the
// options), never from the C library's per-thread slot: goroutines move
// between OS threads between two cgo calls.
//
// A call that blocks in the library (lookups, registrations, browsing,
// WaitLost) holds a cancel token of the library (zc_cancel); when ctx ends
// first the token is triggered, the library call returns within 50 ms (a
// few ms in practice) and the call returns ctx.Err(): nothing goes on in
// the background, and the goroutine and its thread are free. Close cancels
// every call in flight the same way (they return ErrClosed) and does not
// wait for their time limits. A Zeroconf that becomes unreachable without
// Close is closed by a finalizer.
//
// Every option of the library is settable: Options has fields for the
// options this package knows, Values takes any option by its config-file
// name, and ListOptions lists them all.
package ironicmdns

/*
#include <stdlib.h>
#include <ironicmdns.h>
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// Props are TXT properties: a nil value is a key without value ("key"), an
// empty non-nil value is "key=". Lookups return values as they came; keys
// are compared without regard to case by the library (RFC 6763 s6.4).
type Props map[string][]byte

// Endpoint is what a lookup finds.
type Endpoint struct {
	URL   string
	Props Props
	// Validated: every record the endpoint came from (SRV, TXT, addresses)
	// was validated by DNSSEC against the configured trust anchors
	// (ZC_ENDPOINT_VALIDATED). Never true without a trust anchor.
	Validated bool
}

// Service is one service heard by Browse. URL is empty when it could not
// be built, and then Err says why.
type Service struct {
	ServiceType string
	URL         string
	Err         string
	Props       Props
}

// Zeroconf is an mDNS client and server: it owns sockets and a background
// thread in the library. Safe for use by several goroutines; end it with
// Close. One that becomes unreachable unclosed is closed by a finalizer
// (goodbyes included), but only at the garbage collector's pace: Close it.
type Zeroconf struct {
	mu     sync.RWMutex // read: a call in flight; write: Close
	h      *C.zc_zeroconf
	params Props
	// The cancel tokens of the calls in flight, which Close triggers.
	calls   sync.Mutex
	closing bool
	tokens  map[*C.zc_cancel]struct{}
}

// New starts the engine with o (nil: defaults).
func New(o *Options) (*Zeroconf, error) {
	opts, err := o.build()
	if err != nil {
		return nil, err
	}
	defer C.zc_options_free(opts)
	var h *C.zc_zeroconf
	if st := C.zc_new(opts, &h); st != C.ZC_OK {
		return nil, newError("new", st, optionsDetail(opts))
	}
	z := &Zeroconf{h: h}
	if o != nil {
		z.params = o.Params
	}
	runtime.SetFinalizer(z, (*Zeroconf).finalize)
	return z, nil
}

// finalizedHook, when set (by tests), gets the result of each Close a
// finalizer made.
var finalizedHook atomic.Pointer[func(error)]

// finalize closes a Zeroconf nobody closed: no call is in flight (each
// keeps z reachable until it has returned). zc_close sends goodbyes for
// about 250 ms, so it runs on its own goroutine, not the runtime's
// finalizer goroutine.
func (z *Zeroconf) finalize() {
	go func() {
		err := z.Close()
		if f := finalizedHook.Load(); f != nil {
			(*f)(err)
		}
	}()
}

// call runs f (blocking library calls on the handle) with a cancel token
// that the end of ctx, or Close, triggers: f then returns within 50 ms.
// The result is ctx.Err() when ctx ended first, ErrClosed when Close came
// first. Every call on the handle goes through here: this is the one
// place a context meets the library.
func (z *Zeroconf) call(ctx context.Context, op string, f func(h *C.zc_zeroconf, c *C.zc_cancel) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	z.mu.RLock()
	defer z.mu.RUnlock()
	if z.h == nil {
		return &Error{Op: op, Status: int(C.ZC_ERR_CLOSED), Detail: "the Zeroconf is closed"}
	}
	tok, err := newToken(op)
	if err != nil {
		return err
	}
	defer C.zc_cancel_free(tok)
	z.calls.Lock()
	if z.closing {
		z.calls.Unlock()
		return &Error{Op: op, Status: int(C.ZC_ERR_CLOSED), Detail: "the Zeroconf is closing"}
	}
	if z.tokens == nil {
		z.tokens = map[*C.zc_cancel]struct{}{}
	}
	z.tokens[tok] = struct{}{}
	z.calls.Unlock()
	defer func() {
		z.calls.Lock()
		delete(z.tokens, tok)
		z.calls.Unlock()
	}()
	err = withContext(ctx, tok, func() error { return f(z.h, tok) })
	runtime.KeepAlive(z) // no finalizer while the library holds the handle
	if errors.Is(err, ErrCancelled) && ctx.Err() == nil {
		z.calls.Lock()
		closing := z.closing
		z.calls.Unlock()
		if closing {
			return &Error{Op: op, Status: int(C.ZC_ERR_CLOSED), Detail: "the Zeroconf was closed during the call"}
		}
	}
	return err
}

// newToken makes a library cancel token (free it with zc_cancel_free).
func newToken(op string) (*C.zc_cancel, error) {
	var tok *C.zc_cancel
	if s := C.zc_cancel_new(&tok); s != C.ZC_OK {
		return nil, newError(op, s, "")
	}
	return tok, nil
}

// withContext runs f, triggering tok when ctx ends before f returns; it
// returns ctx.Err() when ctx ended and f was cancelled. The watcher is
// gone before withContext returns, so tok may be freed then.
func withContext(ctx context.Context, tok *C.zc_cancel, f func() error) error {
	if ctx.Done() == nil { // context.Background(): nothing to watch
		return f()
	}
	stop := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		select {
		case <-ctx.Done():
			C.zc_cancel_trigger(tok)
		case <-stop:
		}
	}()
	err := f()
	close(stop)
	<-watched
	if err != nil && ctx.Err() != nil && errors.Is(err, ErrCancelled) {
		return ctx.Err()
	}
	return err
}

// Register publishes serviceType (e.g. "baremetal") at endpoint (a URL)
// with TXT params over Options.Params; it probes first (RFC 6762 s8).
// Errors: ErrInvalidArgument, ErrRegistration, ErrNameConflict.
func (z *Zeroconf) Register(ctx context.Context, serviceType, endpoint string, params Props) error {
	merged := Props{}
	for k, v := range z.params {
		merged[k] = v
	}
	for k, v := range params {
		merged[k] = v
	}
	return z.call(ctx, "register", func(h *C.zc_zeroconf, c *C.zc_cancel) error {
		st, err := cString(serviceType, "service type")
		if err != nil {
			return err
		}
		defer C.free(unsafe.Pointer(st))
		url, err := cString(endpoint, "endpoint")
		if err != nil {
			return err
		}
		defer C.free(unsafe.Pointer(url))
		props, err := propsIn(merged)
		if err != nil {
			return err
		}
		defer C.zc_props_free(props)
		if s := C.zc_register_service_ex(h, st, url, props, c); s != C.ZC_OK {
			return newError("register", s, handleDetail(h))
		}
		return nil
	})
}

// LookupFlags choose among a service's addresses. The zero value is the
// reference's default: loopback addresses skipped (KeepLoopback accepts
// them), a link-local IPv6 route counted as a route (SkipLinkLocal: as
// none).
type LookupFlags struct {
	KeepLoopback  bool
	SkipLinkLocal bool
}

// Lookup finds serviceType with the reference's defaults (loopback
// addresses skipped). Errors: ErrNotFound, ErrNoValidAddress, ErrDecode
// (all ErrLookup), ErrInvalidArgument, ErrClosed.
func (z *Zeroconf) Lookup(ctx context.Context, serviceType string) (*Endpoint, error) {
	return z.LookupWith(ctx, serviceType, LookupFlags{})
}

// LookupWith is Lookup with address choices.
func (z *Zeroconf) LookupWith(ctx context.Context, serviceType string, f LookupFlags) (*Endpoint, error) {
	var ep *Endpoint
	err := z.call(ctx, "lookup", func(h *C.zc_zeroconf, c *C.zc_cancel) error {
		name, err := cString(serviceType, "service type")
		if err != nil {
			return err
		}
		defer C.free(unsafe.Pointer(name))
		var url *C.char
		var props *C.zc_props
		var flags C.uint32_t
		s := C.zc_get_endpoint_ex(h, name, cBool(!f.KeepLoopback), cBool(f.SkipLinkLocal), c,
			&url, &props, &flags)
		if s != C.ZC_OK {
			return newError("lookup", s, handleDetail(h))
		}
		defer C.zc_string_free(url)
		defer C.zc_props_free(props)
		p, err := propsOut(props)
		if err != nil {
			return err
		}
		ep = &Endpoint{URL: C.GoString(url), Props: p,
			Validated: flags&C.ZC_ENDPOINT_VALIDATED != 0}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ep, nil
}

// Browse listens for duration (at most 60 s) and returns every
// _openstack._tcp service heard, sorted by service type.
func (z *Zeroconf) Browse(ctx context.Context, duration time.Duration) ([]Service, error) {
	if duration < 0 || duration > 60*time.Second {
		return nil, &Error{Op: "browse", Status: int(C.ZC_ERR_INVALID_ARGUMENT),
			Detail: fmt.Sprintf("duration %v is not within 0 to 60 s", duration)}
	}
	var out []Service
	err := z.call(ctx, "browse", func(h *C.zc_zeroconf, c *C.zc_cancel) error {
		var list *C.zc_services
		if s := C.zc_browse_ex(h, C.uint32_t(duration.Milliseconds()), c, &list); s != C.ZC_OK {
			return newError("browse", s, handleDetail(h))
		}
		defer C.zc_services_free(list)
		n := int(C.zc_services_count(list))
		for i := 0; i < n; i++ {
			var st, url, e *C.char
			var props *C.zc_props
			if s := C.zc_services_get_at(list, C.size_t(i), &st, &url, &e, &props); s != C.ZC_OK {
				return newError("browse", s, "")
			}
			p, err := propsOut(props)
			if err != nil {
				return err
			}
			svc := Service{ServiceType: C.GoString(st), Props: p}
			if url != nil {
				svc.URL = C.GoString(url)
			}
			if e != nil {
				svc.Err = C.GoString(e)
			}
			out = append(out, svc)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ServiceType < out[j].ServiceType })
	return out, nil
}

// waitSlice is the longest single zc_wait_lost_ex of WaitLost (its
// timeout is an int32 of milliseconds); the wait itself is cancelled by
// the end of ctx and by Close.
const waitSlice = time.Duration(math.MaxInt32) * time.Millisecond

// WaitLost reports registrations of z lost to another host: one that
// answered the re-probe the library sends after a conflicting record
// appeared (RFC 6762 s9), so the library withdrew that service (it never
// renames or retries it: register again, or exit). It waits up to timeout
// (0: only looks now) for a loss and returns the lost instance names
// ("baremetal._openstack._tcp.local."), nil when none was lost; a lost
// name is reported by every later call as well. Close from another
// goroutine ends the wait with ErrClosed, the end of ctx with ctx.Err(),
// both within 50 ms. Errors: ErrInvalidArgument (a negative timeout),
// ErrClosed, ErrPoisoned.
func (z *Zeroconf) WaitLost(ctx context.Context, timeout time.Duration) ([]string, error) {
	if timeout < 0 {
		return nil, &Error{Op: "wait lost", Status: int(C.ZC_ERR_INVALID_ARGUMENT),
			Detail: fmt.Sprintf("timeout %v is negative", timeout)}
	}
	deadline := time.Now().Add(timeout)
	for {
		slice := time.Until(deadline)
		if slice > waitSlice {
			slice = waitSlice
		}
		ms := C.int32_t(0)
		if slice > 0 {
			ms = C.int32_t((slice + time.Millisecond - 1) / time.Millisecond)
		}
		var lost []string
		err := z.call(ctx, "wait lost", func(h *C.zc_zeroconf, c *C.zc_cancel) error {
			var names *C.char
			if s := C.zc_wait_lost_ex(h, ms, c, &names); s != C.ZC_OK {
				return newError("wait lost", s, handleDetail(h))
			}
			if names != nil {
				lost = strings.Split(C.GoString(names), "\n")
				C.zc_string_free(names)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if lost != nil || slice <= 0 || !time.Now().Before(deadline) {
			return lost, nil
		}
	}
}

// Close withdraws every registration (goodbye packets, TTL 0) and stops
// the engine. Calls in flight are cancelled and return ErrClosed within
// 50 ms; Close waits only that long for them. Later calls fail with
// ErrClosed; closing again is a no-op.
func (z *Zeroconf) Close() error {
	runtime.SetFinalizer(z, nil)
	z.calls.Lock()
	z.closing = true
	for tok := range z.tokens {
		C.zc_cancel_trigger(tok)
	}
	z.calls.Unlock()
	z.mu.Lock()
	h := z.h
	z.h = nil
	z.mu.Unlock()
	if h == nil {
		return nil
	}
	if s := C.zc_close(h); s != C.ZC_OK {
		return newError("close", s, "")
	}
	return nil
}

// Lookup is a one-shot lookup with default options: a Zeroconf is made,
// asked and closed (the reference's module-level get_endpoint).
func Lookup(ctx context.Context, serviceType string) (*Endpoint, error) {
	return LookupWithOptions(ctx, serviceType, nil)
}

// LookupWithOptions is Lookup with options.
func LookupWithOptions(ctx context.Context, serviceType string, o *Options) (*Endpoint, error) {
	z, err := New(o)
	if err != nil {
		return nil, err
	}
	ep, err := z.Lookup(ctx, serviceType)
	if cerr := z.Close(); err == nil && cerr != nil {
		return nil, cerr
	}
	return ep, err
}

// Version is the library's version at run time ("0.1.0").
func Version() string { return C.GoString(C.zc_version()) }

// SampleConfig is a sample [mdns] section, as oslo-config-generator prints.
func SampleConfig() (string, error) {
	var s *C.char
	if st := C.zc_sample_config(&s); st != C.ZC_OK {
		return "", newError("sample config", st, "")
	}
	defer C.zc_string_free(s)
	return C.GoString(s), nil
}

func cBool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

// cString is s as a C string (free it), or ErrInvalidArgument when s holds
// a NUL byte (C would cut it short).
func cString(s, what string) (*C.char, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return nil, &Error{Op: what, Status: int(C.ZC_ERR_INVALID_ARGUMENT),
			Detail: fmt.Sprintf("%s %q contains a NUL byte", what, s)}
	}
	return C.CString(s), nil
}

func propsIn(p Props) (*C.zc_props, error) {
	var props *C.zc_props
	if st := C.zc_props_new(&props); st != C.ZC_OK {
		return nil, newError("props", st, "")
	}
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys) // deterministic order of the TXT record
	for _, k := range keys {
		key, err := cString(k, "property key")
		if err != nil {
			C.zc_props_free(props)
			return nil, err
		}
		v := p[k]
		var val *C.char
		if v != nil {
			val = (*C.char)(C.CBytes(append(v[:len(v):len(v)], 0)))
		}
		st := C.zc_props_set(props, key, val, C.size_t(len(v)))
		C.free(unsafe.Pointer(key))
		C.free(unsafe.Pointer(val))
		if st != C.ZC_OK {
			C.zc_props_free(props)
			return nil, newError("props", st, fmt.Sprintf("property %q refused: %s", k, C.GoString(C.zc_strerror(st))))
		}
	}
	return props, nil
}

func propsOut(props *C.zc_props) (Props, error) {
	out := Props{}
	n := int(C.zc_props_count(props))
	for i := 0; i < n; i++ {
		var k, v *C.char
		var l C.size_t
		var has C.int
		if st := C.zc_props_get_at(props, C.size_t(i), &k, &v, &l, &has); st != C.ZC_OK {
			return nil, newError("props", st, "")
		}
		var val []byte
		if has != 0 {
			val = C.GoBytes(unsafe.Pointer(v), C.int(l))
		}
		out[C.GoString(k)] = val
	}
	return out, nil
}

// detail copies a snprintf-style detail text.
func detail(get func(buf *C.char, n C.size_t) C.size_t) string {
	n := get(nil, 0)
	if n == 0 {
		return ""
	}
	buf := make([]byte, n+1)
	get((*C.char)(unsafe.Pointer(&buf[0])), n+1)
	return string(buf[:n])
}

func optionsDetail(o *C.zc_options) string {
	return detail(func(b *C.char, n C.size_t) C.size_t { return C.zc_options_last_error(o, b, n) })
}

func handleDetail(h *C.zc_zeroconf) string {
	return detail(func(b *C.char, n C.size_t) C.size_t { return C.zc_last_error(h, b, n) })
}

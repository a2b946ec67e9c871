package ironicmdns

import (
	"context"
	"errors"
	"net/netip"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

const instance = "baremetal._openstack._tcp.local."

// nextRR waits up to limit for a listener line about instance's SRV whose
// TTL is zero (goodbye) or not (announce), skipping others.
func nextRR(t *testing.T, lines <-chan string, goodbye bool, limit time.Duration) bool {
	t.Helper()
	deadline := time.After(limit)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("the listener on host B ended")
			}
			f := strings.Fields(l)
			if len(f) == 4 && f[1] == instance && f[2] == "33" && (f[3] == "0") == goodbye {
				return true
			}
		case <-deadline:
			return false
		}
	}
}

// registerAndDrop registers baremetal on a Zeroconf it then drops without
// Close, after checking that no goodbye was sent while it was held.
//
//go:noinline
func registerAndDrop(t *testing.T, heard <-chan string) {
	z, err := New(&Options{Interfaces: []netip.Addr{netip.MustParseAddr(a4)}})
	if err != nil {
		t.Fatal(err)
	}
	if err := z.Register(context.Background(), "baremetal", "http://"+a4+":6385/baremetal", nil); err != nil {
		t.Fatal(err)
	}
	if !nextRR(t, heard, false, 3*time.Second) {
		t.Fatal("host B heard no announcement")
	}
	if nextRR(t, heard, true, 300*time.Millisecond) {
		t.Fatal("a goodbye while the Zeroconf was still referenced")
	}
	runtime.KeepAlive(z)
}

// A Zeroconf nobody closes is closed by its finalizer once unreachable:
// host B hears the goodbye (TTL 0) for its registration.
func TestUnreachableZeroconfSaysGoodbye(t *testing.T) {
	b := hostB(t)
	heard := b.startLines("listening", b.role("mdns-listen", "vb")...)
	closed := make(chan error, 1)
	hook := func(err error) { closed <- err }
	finalizedHook.Store(&hook)
	defer finalizedHook.Store(nil)
	registerAndDrop(t, heard)
	deadline := time.After(10 * time.Second)
	for done := false; !done; {
		runtime.GC()
		select {
		case err := <-closed:
			if err != nil {
				t.Fatalf("the finalizer's Close: %v", err)
			}
			done = true
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			t.Fatal("no finalizer closed the unreachable Zeroconf within 10 s")
		}
	}
	if !nextRR(t, heard, true, 2*time.Second) {
		t.Fatal("host B heard no goodbye for " + instance)
	}
}

// A host that claims our announced name and answers the re-probe takes it
// (RFC 6762 s9): WaitLost, waiting already, names the lost instance, and
// every later call does too.
func TestWaitLostReportsATakenName(t *testing.T) {
	b := hostB(t)
	z, err := New(&Options{Interfaces: []netip.Addr{netip.MustParseAddr(a4)}})
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	ctx := context.Background()
	if err := z.Register(ctx, "baremetal", "http://"+a4+":6385/baremetal", nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1200 * time.Millisecond) // both announcements (RFC 6762 s8.3)
	if lost, err := z.WaitLost(ctx, 0); lost != nil || err != nil {
		t.Fatalf("before the claim, now: %q, %v", lost, err)
	}
	start := time.Now()
	if lost, err := z.WaitLost(ctx, 300*time.Millisecond); lost != nil || err != nil ||
		time.Since(start) < 300*time.Millisecond {
		t.Fatalf("before the claim, 300 ms: %q, %v after %v", lost, err, time.Since(start))
	}
	type result struct {
		lost []string
		err  error
		took time.Duration
	}
	res := make(chan result, 1)
	go func() {
		start := time.Now()
		lost, err := z.WaitLost(ctx, 10*time.Second)
		res <- result{lost, err, time.Since(start)}
	}()
	time.Sleep(100 * time.Millisecond)
	if out, err := b.command(b.role("claim", instance)...).Output(); err != nil || string(out) != "sent\n" {
		t.Fatalf("claim from host B: %q, %v", out, err)
	}
	want := []string{instance}
	r := <-res
	if r.err != nil || !reflect.DeepEqual(r.lost, want) || r.took > 4*time.Second {
		t.Fatalf("waiting: %q, %v after %v", r.lost, r.err, r.took)
	}
	if lost, err := z.WaitLost(ctx, 0); err != nil || !reflect.DeepEqual(lost, want) {
		t.Fatalf("later: %q, %v", lost, err)
	}
	if _, err := z.WaitLost(ctx, -time.Millisecond); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("negative timeout: %v", err)
	}
}

// A long WaitLost ends soon when its context ends, and when another
// goroutine closes the Zeroconf (ErrClosed); Close does not wait it out.
func TestWaitLostEndsWithContextAndClose(t *testing.T) {
	needLab(t)
	z, err := New(&Options{Interfaces: []netip.Addr{netip.MustParseAddr("127.0.0.1")}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := z.WaitLost(ctx, time.Hour); !errors.Is(err, context.DeadlineExceeded) ||
		time.Since(start) > 500*time.Millisecond {
		t.Fatalf("context: %v after %v", err, time.Since(start))
	}
	res := make(chan error, 1)
	go func() {
		_, err := z.WaitLost(context.Background(), time.Hour)
		res <- err
	}()
	time.Sleep(100 * time.Millisecond)
	start = time.Now()
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-res:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("after Close: %v", err)
		}
	case <-time.After(time.Second):
		t.Fatal("WaitLost still waiting 1 s after Close")
	}
	if took := time.Since(start); took > 700*time.Millisecond {
		t.Fatalf("Close and the end of the wait took %v", took)
	}
	if _, err := z.WaitLost(context.Background(), 0); !errors.Is(err, ErrClosed) {
		t.Fatalf("closed: %v", err)
	}
}

// cancelledLookup starts a 1 s lookup on a Zeroconf, cancels it after
// 100 ms (ctx) and drops the Zeroconf; it returns when the lookup did.
//
//go:noinline
func cancelledLookup(t *testing.T) time.Time {
	z, err := New(&Options{LookupAttempts: 1, LookupTimeout: time.Second,
		Interfaces: []netip.Addr{netip.MustParseAddr("127.0.0.1")}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := z.Lookup(ctx, "nobody"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("lookup: %v", err)
	}
	return time.Now()
}

// A lookup whose context ends is cancelled in the library, not left
// running: it returns within 50 ms of the deadline, and the finalizer
// closes the dropped Zeroconf only after the lookup returned, however
// often the collector runs.
func TestNoFinalizerWhileACallIsInFlight(t *testing.T) {
	needLab(t)
	closed := make(chan error, 1)
	var closedAt time.Time
	hook := func(err error) { closedAt = time.Now(); closed <- err }
	finalizedHook.Store(&hook)
	defer finalizedHook.Store(nil)
	start := time.Now()
	returned := cancelledLookup(t)
	if took := returned.Sub(start); took > 100*time.Millisecond+prompt {
		t.Fatalf("the lookup returned %v after its start, its context ended at 100 ms", took)
	}
	deadline := time.After(10 * time.Second)
	for {
		runtime.GC()
		select {
		case err := <-closed:
			if err != nil {
				t.Fatalf("the finalizer's Close: %v", err)
			}
			if closedAt.Before(returned) {
				t.Fatal("closed before the lookup returned")
			}
			return
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			t.Fatal("no finalizer closed the dropped Zeroconf within 10 s")
		}
	}
}

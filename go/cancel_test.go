package ironicmdns

import (
	"context"
	"errors"
	"net/netip"
	"runtime"
	"testing"
	"time"
)

// prompt is the library's promise: cancel-to-return.
const prompt = 50 * time.Millisecond

// cancelAfter runs call with a context cancelled after wait; it returns
// the call's error and how long after the cancel it returned.
func cancelAfter(wait time.Duration, call func(ctx context.Context) error) (error, time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	var at time.Time
	timer := time.AfterFunc(wait, func() { at = time.Now(); cancel() })
	defer timer.Stop()
	err := call(ctx)
	end := time.Now()
	if at.IsZero() {
		return err, -1
	}
	return err, end.Sub(at)
}

// The end of a context cancels each blocking call in the library: it
// returns ctx.Err() within 50 ms, no goroutine is left behind, and the
// Zeroconf stays usable.
func TestContextEndCancelsEachCall(t *testing.T) {
	needLab(t)
	z, err := New(&Options{LookupAttempts: 10, LookupTimeout: 2 * time.Second,
		Interfaces: []netip.Addr{netip.MustParseAddr("127.0.0.1")}})
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	base := runtime.NumGoroutine()
	calls := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"Lookup", func(ctx context.Context) error { _, err := z.Lookup(ctx, "nobody"); return err }},
		{"Browse", func(ctx context.Context) error { _, err := z.Browse(ctx, 30*time.Second); return err }},
		{"WaitLost", func(ctx context.Context) error { _, err := z.WaitLost(ctx, time.Hour); return err }},
		// probing takes ~750 ms: cancelled while probing
		{"Register", func(ctx context.Context) error {
			return z.Register(ctx, "probing", "http://"+a4+":6385", nil)
		}},
		{"LookupWithOptions", func(ctx context.Context) error {
			_, err := LookupWithOptions(ctx, "nobody", &Options{LookupAttempts: 10,
				LookupTimeout: 2 * time.Second, Interfaces: []netip.Addr{netip.MustParseAddr("127.0.0.1")}})
			return err
		}},
	}
	for _, c := range calls {
		err, late := cancelAfter(200*time.Millisecond, c.call)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("%s: %v", c.name, err)
		}
		if late < 0 || late > prompt {
			t.Fatalf("%s returned %v after the cancel", c.name, late)
		}
		t.Logf("%s: returned %v after the cancel", c.name, late)
		// The goroutine that watched the context may still be on its way
		// out when the call returns: a leak is one that stays.
		n := runtime.NumGoroutine()
		for end := time.Now().Add(time.Second); n > base && time.Now().Before(end); {
			time.Sleep(5 * time.Millisecond)
			n = runtime.NumGoroutine()
		}
		if n > base {
			t.Fatalf("%s: %d goroutines left after 1 s, %d before", c.name, n, base)
		}
	}
	// Still usable: the registration cancelled above goes through now.
	if err := z.Register(context.Background(), "probing", "http://"+a4+":6385", nil); err != nil {
		t.Fatalf("register after the cancels: %v", err)
	}
}

// Close cancels the calls in flight (they return ErrClosed within 50 ms)
// and does not wait for their time limits.
func TestCloseCancelsCallsInFlight(t *testing.T) {
	needLab(t)
	z, err := New(&Options{LookupAttempts: 10, LookupTimeout: 2 * time.Second,
		Interfaces: []netip.Addr{netip.MustParseAddr("127.0.0.1")}})
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		err error
		end time.Time
	}
	res := make(chan result, 3)
	go func() { _, err := z.Lookup(context.Background(), "nobody"); res <- result{err, time.Now()} }()
	go func() { _, err := z.Browse(context.Background(), 30*time.Second); res <- result{err, time.Now()} }()
	go func() { _, err := z.WaitLost(context.Background(), time.Hour); res <- result{err, time.Now()} }()
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 200*time.Millisecond {
		t.Fatalf("Close took %v", took)
	}
	for i := 0; i < 3; i++ {
		r := <-res
		if !errors.Is(r.err, ErrClosed) {
			t.Fatalf("a call in flight: %v", r.err)
		}
		if late := r.end.Sub(start); late > prompt {
			t.Fatalf("a call returned %v after Close began", late)
		}
	}
}

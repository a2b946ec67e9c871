package ironicmdns

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestVersionAndSample(t *testing.T) {
	if v := Version(); v != "0.1.0" {
		t.Fatalf("version %q", v)
	}
	s, err := SampleConfig()
	if err != nil || !strings.HasPrefix(s, "[mdns]\n") || !strings.Contains(s, "#lookup_attempts = 3") {
		t.Fatalf("sample %q, %v", s, err)
	}
}

func TestOptionErrorsAreComparable(t *testing.T) {
	needLab(t)
	dir := t.TempDir()
	bad := filepath.Join(dir, "ironic.conf")
	if err := os.WriteFile(bad, []byte("[DEFAULT]\ndebug = true\n[mdns]\nlookup_attempts = many\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rows := []struct {
		name string
		o    Options
		want error
		text string
	}{
		{"negative attempts", Options{LookupAttempts: -1}, ErrInvalidArgument, "lookup_attempts"},
		{"negative timeout", Options{LookupTimeout: -time.Second}, ErrInvalidArgument, "lookup_timeout"},
		{"missing file", Options{ConfigFiles: []string{filepath.Join(dir, "none.conf")}}, ErrIO, "none.conf"},
		{"bad value", Options{ConfigFiles: []string{bad}}, ErrInvalidArgument, "ironic.conf, line 4"},
		{"NUL in path", Options{ConfigFiles: []string{"a\x00b"}}, ErrInvalidArgument, "NUL"},
	}
	for _, r := range rows {
		z, err := New(&r.o)
		if err == nil {
			z.Close()
			t.Fatalf("%s: no error", r.name)
		}
		var e *Error
		if !errors.Is(err, r.want) || !errors.As(err, &e) || !strings.Contains(e.Detail, r.text) {
			t.Errorf("%s: got %v, want %v with %q", r.name, err, r.want, r.text)
		}
		if errors.Is(err, ErrLookup) || errors.Is(err, ErrNotFound) {
			t.Errorf("%s: %v matches a lookup sentinel", r.name, err)
		}
	}
}

func TestLookupAndBrowseFindTheCLIPublisher(t *testing.T) {
	b := hostB(t)
	b.start("registered", cli(t), "register", "baremetal", "http://"+b4+":6385/baremetal",
		"ipa_debug=1", "novalue", "empty=")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ep, err := Lookup(ctx, "baremetal")
	if err != nil {
		t.Fatal(err)
	}
	want := &Endpoint{URL: "http://" + b4 + ":6385/baremetal", Props: Props{
		"ipa_debug": []byte("1"), "novalue": nil, "empty": []byte{}, "txtvers": []byte("1")}}
	if !reflect.DeepEqual(ep, want) || ep.Props["novalue"] != nil || ep.Props["empty"] == nil {
		t.Fatalf("got %#v, want %#v", ep, want)
	}
	z, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	svcs, err := z.Browse(ctx, 1500*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if len(svcs) != 1 || svcs[0].ServiceType != "baremetal" || svcs[0].URL != want.URL || svcs[0].Err != "" {
		t.Fatalf("browse: %#v", svcs)
	}
	if _, err := z.Browse(ctx, time.Minute+time.Second); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("browse 61 s: %v", err)
	}
}

func TestRegisterIsFoundByTheCLIAndByIronicLib(t *testing.T) {
	b := hostB(t)
	z, err := New(&Options{Interfaces: []netip.Addr{netip.MustParseAddr(a4)},
		Params: Props{"ipa_debug": []byte("0")}})
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	ctx := context.Background()
	err = z.Register(ctx, "baremetal", "http://"+a4+":6385/baremetal",
		Props{"ipa_debug": []byte("1"), "bin": {0xe2, 0x28, 0xa1}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := b.command(cli(t), "lookup", "baremetal", "--json").Output()
	if err != nil {
		t.Fatalf("ironic-mdns lookup: %v", err)
	}
	var got struct {
		URL    string                 `json:"url"`
		Params map[string]interface{} `json:"params"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	bin := base64.StdEncoding.EncodeToString([]byte{0xe2, 0x28, 0xa1})
	wantParams := map[string]interface{}{"ipa_debug": "1", "txtvers": "1",
		"bin": map[string]interface{}{"b64": bin}}
	if got.URL != "http://"+a4+":6385/baremetal" || !reflect.DeepEqual(got.Params, wantParams) {
		t.Fatalf("CLI found %s", out)
	}
	py := venvPython(t)
	if py == "" {
		t.Log("no .venv: ironic_lib part skipped")
		return
	}
	out, err = b.command(py, filepath.Join(root(), "tests", "peers", "ironic_lookup.py"), "baremetal").Output()
	if err != nil {
		t.Fatalf("ironic_lib lookup: %v", err)
	}
	if err := json.Unmarshal(out, &got); err != nil || got.URL != "http://"+a4+":6385/baremetal" ||
		!reflect.DeepEqual(got.Params, wantParams) {
		t.Fatalf("ironic_lib found %s (%v)", out, err)
	}
}

func TestErrorsIsForLookupAndConflict(t *testing.T) {
	b := hostB(t)
	b.start("registered", cli(t), "register", "baremetal", "http://"+b4+":6385/baremetal")
	z, err := New(&Options{LookupAttempts: 1, LookupTimeout: 200 * time.Millisecond, RegistrationAttempts: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	ctx := context.Background()
	_, err = z.Lookup(ctx, "nobody")
	var e *Error
	if !errors.Is(err, ErrNotFound) || !errors.Is(err, ErrLookup) || errors.Is(err, ErrRegistration) ||
		!errors.As(err, &e) || e.Status != -4 || !strings.Contains(e.Detail, "nobody") {
		t.Fatalf("lookup nobody: %#v", err)
	}
	err = z.Register(ctx, "baremetal", "http://"+a4+":6385/baremetal", nil)
	if !errors.Is(err, ErrNameConflict) || !errors.Is(err, ErrRegistration) || errors.Is(err, ErrLookup) {
		t.Fatalf("register a taken name: %v", err)
	}
	for _, bad := range []string{"", strings.Repeat("x", 64), "bare\x00metal"} {
		if _, err := z.Lookup(ctx, bad); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("lookup %q: %v", bad, err)
		}
	}
	if err := z.Register(ctx, "baremetal", "not a url", nil); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("register bad URL: %v", err)
	}
}

// Goroutines move between OS threads between cgo calls: each failure must
// still carry its own status, and the detail comes from the handle.
func TestManyGoroutinesOnOneHandle(t *testing.T) {
	needLab(t)
	z, err := New(&Options{LookupAttempts: 1, LookupTimeout: 300 * time.Millisecond,
		Interfaces: []netip.Addr{netip.MustParseAddr("127.0.0.1")}})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for i := 0; i < 16; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			runtime.Gosched()
			_, err := z.Lookup(context.Background(), "nobody")
			errs <- err
		}()
		go func() {
			defer wg.Done()
			_, err := z.Lookup(context.Background(), "")
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	var notFound, invalid int
	for err := range errs {
		switch {
		case errors.Is(err, ErrNotFound):
			notFound++
		case errors.Is(err, ErrInvalidArgument):
			invalid++
		default:
			t.Errorf("unexpected %v", err)
		}
	}
	if notFound != 16 || invalid != 16 {
		t.Fatalf("%d not found, %d invalid", notFound, invalid)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := z.Lookup(context.Background(), "baremetal"); !errors.Is(err, ErrClosed) {
		t.Fatalf("after close: %v", err)
	}
	if err := z.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
}

func TestContextEndsAWaitingLookup(t *testing.T) {
	needLab(t)
	z, err := New(&Options{LookupAttempts: 1, LookupTimeout: time.Second,
		Interfaces: []netip.Addr{netip.MustParseAddr("127.0.0.1")}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = z.Lookup(ctx, "nobody")
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 100*time.Millisecond+prompt {
		t.Fatalf("got %v after %v", err, time.Since(start))
	}
	// The lookup was cancelled in the library, not abandoned: nothing is
	// left for Close to wait for.
	closeStart := time.Now()
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(closeStart); took > 100*time.Millisecond {
		t.Fatalf("Close took %v", took)
	}
	cancelled, stop := context.WithCancel(context.Background())
	stop()
	if _, err := Lookup(cancelled, "baremetal"); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

func TestLogFuncGetsTheLibraryWarnings(t *testing.T) {
	needLab(t)
	conf := filepath.Join(t.TempDir(), "ironic.conf")
	if err := os.WriteFile(conf, []byte("[mdns]\nlookup_atempts = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var seen bytes.Buffer
	SetLogFunc(func(level LogLevel, msg string) {
		mu.Lock()
		defer mu.Unlock()
		if level == LogWarning {
			seen.WriteString(msg + "\n")
		}
	})
	defer SetLogFunc(nil)
	z, err := New(&Options{ConfigFiles: []string{conf},
		Interfaces: []netip.Addr{netip.MustParseAddr("127.0.0.1")}})
	if err != nil {
		t.Fatal(err)
	}
	z.Close()
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(seen.String(), "ironic.conf, line 2: unknown option [mdns] lookup_atempts") {
		t.Fatalf("warnings: %q", seen.String())
	}
}

func TestEveryStatusOfTheHeaderHasItsSentinel(t *testing.T) {
	h, err := os.ReadFile(filepath.Join(root(), "include", "ironicmdns.h"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	seen := map[error]bool{}
	for _, line := range strings.Split(string(h), "\n") {
		var name string
		var code int
		if _, err := fmt.Sscanf(line, "#define ZC_ERR_%s %d", &name, &code); err != nil {
			continue
		}
		n++
		s := sentinels[code]
		if s == nil || seen[s] {
			t.Errorf("ZC_ERR_%s (%d): sentinel %v", name, code, s)
		}
		seen[s] = true
		if !errors.Is(&Error{Status: code}, s) {
			t.Errorf("ZC_ERR_%s: errors.Is fails", name)
		}
	}
	if n < 11 || n != len(sentinels) {
		t.Fatalf("%d codes in the header, %d sentinels", n, len(sentinels))
	}
}

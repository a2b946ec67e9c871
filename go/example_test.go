package ironicmdns_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"ironicmdns"
)

// The library's version at run time.
func ExampleVersion() {
	fmt.Println(ironicmdns.Version())
	// Output: 0.1.0
}

// One option of the listing, as oslo-config-generator would describe it.
func ExampleListOptions() {
	opts, err := ironicmdns.ListOptions()
	if err != nil {
		log.Fatal(err)
	}
	for _, o := range opts {
		if o.Name == "lookup_attempts" {
			fmt.Printf("[%s] %s (%s, default %s): %s\n", o.Group, o.Name, o.Type, o.Default, o.Help)
		}
	}
	// Output: [mdns] lookup_attempts (integer, default 3): Number of attempts to lookup a service.
}

// The sample [mdns] section starts like oslo-config-generator's.
func ExampleSampleConfig() {
	s, err := ironicmdns.SampleConfig()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(strings.SplitN(s, "\n", 2)[0])
	// Output: [mdns]
}

// A bad option fails New before anything is opened; the error compares
// with errors.Is and carries the library's status.
func ExampleError() {
	_, err := ironicmdns.New(&ironicmdns.Options{LookupAttempts: -1})
	var e *ironicmdns.Error
	if errors.As(err, &e) {
		fmt.Println(e.Status, errors.Is(err, ironicmdns.ErrInvalidArgument), errors.Is(err, ironicmdns.ErrLookup))
	}
	fmt.Println(err)
	// Output:
	// -1 true false
	// ironicmdns: options: lookup_attempts must be at least 1, not -1
}

// Where is the bare-metal API? (A one-shot lookup sends on the network:
// this example is compiled, not run.)
func ExampleLookup() {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	ep, err := ironicmdns.Lookup(ctx, "baremetal")
	switch {
	case errors.Is(err, ironicmdns.ErrNotFound):
		log.Fatal("nobody publishes baremetal on this link")
	case err != nil:
		log.Fatal(err)
	}
	fmt.Println(ep.URL, ep.Props)
}

// Unicast DNS-SD with a TSIG key, and an option set by its name.
func ExampleOptions() {
	zc, err := ironicmdns.New(&ironicmdns.Options{
		Domain:      "mystack.example.com",
		DNSServers:  []netip.AddrPort{netip.MustParseAddrPort("198.18.0.53:53")},
		TSIGKeyFile: "/etc/ironic/mdns.key",
		Discovery:   ironicmdns.DiscoveryDNS,
		Values:      map[string]string{"lookup_timeout": "1.5"},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer zc.Close()
	ep, err := zc.Lookup(context.Background(), "baremetal")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ep.URL)
}

// Publish the API until SIGTERM or until another host takes the name.
func ExampleZeroconf_WaitLost() {
	zc, err := ironicmdns.New(&ironicmdns.Options{
		Interfaces: []netip.Addr{netip.MustParseAddr("198.18.0.1")},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer zc.Close() // goodbyes
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err = zc.Register(ctx, "baremetal", "http://198.18.0.1:6385/baremetal",
		ironicmdns.Props{"ipa_debug": []byte("1")})
	if err != nil {
		log.Fatal(err)
	}
	for ctx.Err() == nil {
		lost, err := zc.WaitLost(ctx, time.Minute)
		if err != nil && ctx.Err() == nil {
			log.Fatal(err)
		}
		if lost != nil {
			log.Fatalf("registration lost to another host: %v", lost)
		}
	}
}

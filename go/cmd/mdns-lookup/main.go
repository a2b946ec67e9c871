// Command mdns-lookup looks an OpenStack service up over mDNS and prints
// its URL and TXT properties (the Go package's one-shot Lookup; the
// benchmark's Go whole-process row). Run it only inside a private network
// namespace while testing.
//
//	mdns-lookup [-timeout 12s] TYPE
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"time"

	"ironicmdns"
)

func main() {
	timeout := flag.Duration("timeout", 12*time.Second, "give up after this long")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: mdns-lookup [-timeout D] TYPE")
		os.Exit(64)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	ep, err := ironicmdns.Lookup(ctx, flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		if errors.Is(err, ironicmdns.ErrInvalidArgument) {
			os.Exit(64)
		}
		os.Exit(1)
	}
	fmt.Println(ep.URL)
	keys := make([]string, 0, len(ep.Props))
	for k := range ep.Props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if v := ep.Props[k]; v == nil {
			fmt.Println(k)
		} else {
			fmt.Printf("%s=%s\n", k, v)
		}
	}
}

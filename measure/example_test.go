package measure_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/pmtu/pmtu/internal/fakenet"
	"github.com/pmtu/pmtu/internal/probetest"
	"github.com/pmtu/pmtu/measure"
	"github.com/pmtu/pmtu/pmtucache"
	"github.com/pmtu/pmtu/probe"
)

// exampleWorld is a fake network: a chain of routers 1500 > 1492 > 1400
// to pmtu.example (198.18.3.2), and black-hole.example (198.18.9.2)
// behind a 1300-byte router that drops its own Fragmentation Needed. A
// program leaves Probe.Net nil to probe for real.
func exampleWorld() *probe.Network {
	hop := func(a string, mtu int) probetest.Hop { return probetest.Hop{Addr: netip.MustParseAddr(a), MTU: mtu} }
	src := netip.MustParseAddr("198.18.0.1")
	w := fakenet.New(
		&probetest.Path{Src: src, Dst: netip.MustParseAddr("198.18.3.2"), RTT: 2 * time.Millisecond,
			Hops: []probetest.Hop{hop("198.18.1.2", 1492), hop("198.18.2.2", 1400)}},
		&probetest.Path{Src: src, Dst: netip.MustParseAddr("198.18.9.2"), RTT: 2 * time.Millisecond,
			Hops: []probetest.Hop{{Addr: netip.MustParseAddr("198.18.8.2"), MTU: 1300, Silent: true}}},
	)
	w.Name("pmtu.example", netip.MustParseAddr("198.18.3.2"))
	w.Name("black-hole.example", netip.MustParseAddr("198.18.9.2"))
	return w.Network()
}

// Host gives what pmtu HOST prints: the path MTU, the hop that limits it,
// the TCP MSS and how it is known. The second call is answered from the
// cache, without a probe.
func ExampleHost() {
	dir, _ := os.MkdirTemp("", "pmtu-example")
	defer os.RemoveAll(dir)
	o := &measure.Options{
		Probe: probe.Options{Net: exampleWorld()},
		Cache: &pmtucache.Store{Path: filepath.Join(dir, "cache.json")},
	}
	for range 2 {
		rep, err := measure.Host(context.Background(), "pmtu.example", o)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%s: path MTU %d, MSS %d, limited by %s (evidence %s, from %s)\n",
			rep.Target, rep.PMTU, rep.MSS, rep.LimitingHop, rep.Evidence, rep.Source)
	}
	// Output:
	// pmtu.example: path MTU 1400, MSS 1360, limited by 198.18.2.2 (evidence icmp, from probe)
	// pmtu.example: path MTU 1400, MSS 1360, limited by 198.18.2.2 (evidence icmp, from cache)
}

// Where a router drops its own ICMP, the probes alone prove the answer,
// and the report says it was a black hole.
func ExampleHost_blackHole() {
	rep, err := measure.Host(context.Background(), "black-hole.example",
		&measure.Options{Probe: probe.Options{Net: exampleWorld(), NoReverse: true}, Fresh: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("path MTU %d, evidence %s, black hole %v\n", rep.PMTU, rep.Evidence, rep.BlackHole)
	// Output:
	// path MTU 1300, evidence probes, black hole true
}

// A failure is one sentence for the user, with its kind.
func ExampleHost_unknownHost() {
	_, err := measure.Host(context.Background(), "no-such-host.example",
		&measure.Options{Probe: probe.Options{Net: exampleWorld()}, Fresh: true})
	fmt.Println(err, measure.KindOf(err) == measure.BadInput)
	// Output:
	// cannot resolve "no-such-host.example": no such host true
}

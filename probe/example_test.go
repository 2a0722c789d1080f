package probe_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/pmtu/pmtu/internal/probetest"
	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/probe"
)

// The examples run on a fake network: a chain of routers 1500 > 1492 >
// 1400 > 1280 to 198.18.4.2, and one to 198.18.9.2 whose 1300-byte
// router drops its own Fragmentation Needed (a black hole).
func TestMain(m *testing.M) {
	hop := func(a string, mtu int) probetest.Hop { return probetest.Hop{Addr: netip.MustParseAddr(a), MTU: mtu} }
	chain := &probetest.Path{Src: netip.MustParseAddr("198.18.0.1"), Dst: netip.MustParseAddr("198.18.4.2"),
		RTT: 2 * time.Millisecond, Hops: []probetest.Hop{hop("198.18.1.2", 1492), hop("198.18.2.2", 1400), hop("198.18.3.2", 1280)}}
	hole := &probetest.Path{Src: netip.MustParseAddr("198.18.0.1"), Dst: netip.MustParseAddr("198.18.9.2"),
		RTT: 2 * time.Millisecond, Hops: []probetest.Hop{{Addr: netip.MustParseAddr("198.18.8.2"), MTU: 1300, Silent: true}}}
	restore := probe.UseFakeNetwork(chain, hole)
	code := m.Run()
	restore()
	os.Exit(code)
}

func ExampleFind() {
	res, err := probe.Find(context.Background(), "198.18.4.2", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("path MTU %d (TCP MSS %d), limited by %s, found with %s probes\n",
		res.PMTU, mtu.MSS(res.PMTU, res.Target.Addr.Is6()), res.LimitingHop, res.Method)
	// Output:
	// path MTU 1280 (TCP MSS 1240), limited by 198.18.3.2, found with icmp probes
}

// Where a router drops its own ICMP, replies alone prove the answer.
func ExampleFind_blackHole() {
	res, err := probe.Find(context.Background(), "198.18.9.2", &probe.Options{Tries: 3})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("path MTU %d, by ICMP %v, black hole %v\n", res.PMTU, res.ByICMP, res.Silence)
	// Output:
	// path MTU 1300, by ICMP false, black hole true
}

func ExampleTrace() {
	res, err := probe.Trace(context.Background(), "198.18.4.2", &probe.TraceOptions{MaxHops: 8})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, h := range res.Hops {
		fmt.Printf("%d %s pmtu %d drop %v\n", h.TTL, h.Addr, h.PMTU, h.MTUDrop)
	}
	// Output:
	// 1 198.18.1.2 pmtu 1500 drop false
	// 2 198.18.2.2 pmtu 1492 drop true
	// 3 198.18.3.2 pmtu 1400 drop true
	// 4 198.18.4.2 pmtu 1280 drop true
}

// Lookup alone resolves the host and reads the route, without a probe:
// where a cache of answers is kept, it is asked in between.
func ExampleLookup() {
	t, err := probe.Lookup(context.Background(), "198.18.4.2", &probe.Options{MaxSize: 1400})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s leaves %s (MTU %d) from %s\n", t.Addr, t.Route.IfName, t.Route.IfMTU, t.Route.Src)
	res, err := t.Find(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("path MTU", res.PMTU)
	// Output:
	// 198.18.4.2 leaves veth0 (MTU 1500) from 198.18.0.1
	// path MTU 1280
}

package pmtucache_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/pmtu/pmtu/pmtucache"
)

// The kernel's rules, seen through a cache whose clock the example moves.
func Example() {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	c := &pmtucache.Cache{Clock: func() time.Time { return now }}
	key := pmtucache.Key{Dst: netip.MustParseAddr("198.18.3.2")}
	hop := netip.MustParseAddr("198.18.2.2")
	offer := func(pmtu int, ev pmtucache.Evidence) {
		r, err := c.Update(pmtucache.Entry{Key: key, PMTU: pmtu, Evidence: ev, Hop: hop})
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%d %s: %s, cached %d, expires in %v\n", pmtu, ev, r.Action, r.Entry.PMTU, r.Entry.ExpiresIn(now))
	}

	offer(1400, pmtucache.EvidenceICMP) // stored for 10 minutes
	offer(1500, pmtucache.EvidenceICMP) // an ICMP never raises it
	now = now.Add(4 * time.Minute)
	offer(1400, pmtucache.EvidenceICMP) // 6 minutes left: not refreshed
	now = now.Add(2 * time.Minute)
	offer(1400, pmtucache.EvidenceICMP) // 4 minutes left: refreshed
	offer(1450, pmtucache.EvidenceProbes)
	now = now.Add(10 * time.Minute)
	_, ok := c.Lookup(key)
	fmt.Println("cached after 10 minutes:", ok)
	// Output:
	// 1400 icmp: stored, cached 1400, expires in 10m0s
	// 1500 icmp: ignored, cached 1400, expires in 10m0s
	// 1400 icmp: ignored, cached 1400, expires in 6m0s
	// 1400 icmp: refreshed, cached 1400, expires in 10m0s
	// 1450 probes: stored, cached 1450, expires in 10m0s
	// cached after 10 minutes: false
}

// A Store keeps the cache in a file that many processes can share.
func ExampleStore() {
	dir, err := os.MkdirTemp("", "pmtucache-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	// pmtu uses pmtucache.DefaultPath().
	s := &pmtucache.Store{Path: filepath.Join(dir, "cache.json")}
	ctx := context.Background()

	dst := netip.MustParseAddr("2001:db8:3::2")
	err = s.Update(ctx, func(c *pmtucache.Cache) error {
		_, err := c.Update(pmtucache.Entry{
			Key:      pmtucache.Key{Dst: dst, Proto: "icmp"},
			PMTU:     1280,
			Evidence: pmtucache.EvidenceProbes,
		})
		return err
	})
	if err != nil {
		log.Fatal(err)
	}

	c, warning := s.Load(ctx)
	if warning != nil {
		fmt.Fprintln(os.Stderr, "pmtu: warning:", warning)
	}
	for _, e := range c.Entries() {
		fmt.Println(e.Dst, e.PMTU, e.Evidence)
	}
	// Output:
	// 2001:db8:3::2 1280 probes
}

// Answer gives a cached answer only where it still holds: here the kernel
// has lost the path MTU exception the entry was learned with.
func ExampleCache_Answer() {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	c := &pmtucache.Cache{Clock: func() time.Time { return now }}
	key := pmtucache.Key{
		Dst:   netip.MustParseAddr("198.18.3.2"),
		Net:   pmtucache.Network{Boot: "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", Cookie: 7},
		Proto: "icmp",
	}
	twin := pmtucache.Exception{MTU: 1400, Expires: now.Add(10 * time.Minute)}
	_, err := c.Measured(pmtucache.Entry{
		Key: key, PMTU: 1400, Full: true, Refused: 1401, Evidence: pmtucache.EvidenceICMP,
		IfIndex: 2, IfName: "veth1a", IfMTU: 1500, Kernel: twin,
	})
	if err != nil {
		log.Fatal(err)
	}
	q := pmtucache.Query{Key: key, Floor: 68, Ceil: 1500, IfIndex: 2, IfMTU: 1500, Kernel: twin}
	if e, err := c.Answer(q); err == nil {
		fmt.Println("answered:", e.PMTU)
	}
	q.Proto = "udp"
	_, err = c.Answer(q)
	fmt.Println(err)
	q.Proto = "icmp"
	q.Kernel = pmtucache.Exception{} // ip route flush cache
	_, err = c.Answer(q)
	fmt.Println(errors.Is(err, pmtucache.ErrStale))
	// Output:
	// answered: 1400
	// nothing cached for this key: the entry was learned with icmp probes, not udp
	// true
}

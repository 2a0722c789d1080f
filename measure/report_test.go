package measure

import (
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pmtu/pmtu/pmtucache"
	"github.com/pmtu/pmtu/probe"
	"github.com/pmtu/pmtu/probe/search"
)

// An answer from the cache shows the return path and the black hole's
// direction the probing run showed.
func TestReportFromCacheKeepsReverse(t *testing.T) {
	probed := &Report{Family: "ipv4", Address: "198.18.3.2", PMTU: 1500, Exact: true, Hi: 1501, Evidence: "probes", Method: "icmp",
		Reverse: &Reverse{Min: 1300, Max: 1307, Evidence: search.ReturnFragmented}, BlackHoleDirection: probe.BlackHoleReturn}
	q := pmtucache.Query{Key: pmtucache.Key{Dst: netip.MustParseAddr("198.18.3.2"), Proto: "icmp"}}
	var c pmtucache.Cache
	if _, err := c.Update(probed.cacheEntry(q, 0, pmtucache.Exception{})); err != nil {
		t.Fatal(err)
	}
	e, ok := c.Lookup(q.Key)
	if !ok {
		t.Fatal("nothing cached")
	}
	cached := &Report{Family: "ipv4"}
	cached.fromCache(e, time.Now())
	if !cached.BlackHole {
		t.Error("a cached return black hole is not a black hole")
	}
	if diff := cmp.Diff(probed.Reverse, cached.Reverse); diff != "" || cached.BlackHoleDirection != probed.BlackHoleDirection {
		t.Errorf("from the cache: direction %q, reverse (-probed +cached):\n%s", cached.BlackHoleDirection, diff)
	}
	// Nothing kept: no reverse, as before.
	e.Return, e.BlackHoleDirection = pmtucache.ReturnPath{}, ""
	cached = &Report{Family: "ipv4"}
	cached.fromCache(e, time.Now())
	if cached.Reverse != nil || cached.BlackHoleDirection != "" {
		t.Errorf("an entry without a return path gave reverse %+v, direction %q", cached.Reverse, cached.BlackHoleDirection)
	}
}

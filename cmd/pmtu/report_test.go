package main

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pmtu/pmtu/pmtucache"
	"github.com/pmtu/pmtu/probe"
	"github.com/pmtu/pmtu/probe/search"
)

// black_hole says sizes above the answer vanished with no ICMP at all: a
// silent search whose routers named a size is no black hole.
func TestReportBlackHole(t *testing.T) {
	named := probe.Event{Kind: probe.TooBig, From: netip.MustParseAddr("198.18.1.2"), Type: 3, Code: 4, MTU: 1400}
	tests := []struct {
		name string
		res  search.Result
		want bool
	}{
		{"silence, no ICMP", search.Result{PMTU: 1300, Confirmed: true, Lo: 1300, Hi: 1301, Silence: true}, true},
		{"silence after an ICMP", search.Result{PMTU: 1300, Confirmed: true, Lo: 1300, Hi: 1301, Silence: true, Events: []probe.Event{named}}, false},
		{"ICMP named the answer", search.Result{PMTU: 1400, Confirmed: true, Lo: 1400, Hi: 1401, Events: []probe.Event{named}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &report{Family: "ipv4", InterfaceMTU: 1500}
			r.fromResult(&tt.res, 1500)
			if r.BlackHole != tt.want {
				t.Errorf("black_hole = %v, want %v", r.BlackHole, tt.want)
			}
		})
	}
}

// A search whose rate-limited answers stopped says so, with what was
// proved and how many rounds were not counted; the JSON carries
// voided_rounds.
func TestReportAnswersStopped(t *testing.T) {
	res := &search.Result{Lo: 1360, Hi: 1501, Voided: 12}
	r := &report{Family: "ipv4", InterfaceMTU: 1500}
	r.fromResult(res, 1500)
	r.explainFailure(probe.ErrAnswersStopped, "198.19.0.3", res)
	for _, want := range []string{"198.19.0.3 stopped answering", "in 12 rounds", "1360 ≤ path MTU ≤ 1500", "--proto icmp"} {
		if !strings.Contains(r.Error, want) {
			t.Errorf("error %q does not say %q", r.Error, want)
		}
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"voided_rounds":12`) {
		t.Errorf("JSON without voided_rounds 12: %s", b)
	}
	r.Voided = 0
	if b, _ := json.Marshal(r); strings.Contains(string(b), "voided_rounds") {
		t.Errorf("voided_rounds present when no round was voided: %s", b)
	}
}

// An answer from the cache shows the return path and the black hole's
// direction the probing run showed.
func TestReportFromCacheKeepsReverse(t *testing.T) {
	probed := &report{Family: "ipv4", Address: "198.18.3.2", PMTU: 1500, Exact: true, Hi: 1501, Evidence: "probes", Method: "icmp",
		Reverse: &reverse{Min: 1300, Max: 1307, Evidence: search.ReturnFragmented}, BlackHoleDirection: probe.BlackHoleReturn}
	q := pmtucache.Query{Key: pmtucache.Key{Dst: netip.MustParseAddr("198.18.3.2"), Proto: "icmp"}}
	var c pmtucache.Cache
	if _, err := c.Update(probed.cacheEntry(q, 0, pmtucache.Exception{})); err != nil {
		t.Fatal(err)
	}
	e, ok := c.Lookup(q.Key)
	if !ok {
		t.Fatal("nothing cached")
	}
	cached := &report{Family: "ipv4"}
	cached.fromCache(e, time.Now())
	if diff := cmp.Diff(probed.Reverse, cached.Reverse); diff != "" || cached.BlackHoleDirection != probed.BlackHoleDirection {
		t.Errorf("from the cache: direction %q, reverse (-probed +cached):\n%s", cached.BlackHoleDirection, diff)
	}
	// Nothing kept: no reverse, as before.
	e.Return, e.BlackHoleDirection = pmtucache.ReturnPath{}, ""
	cached = &report{Family: "ipv4"}
	cached.fromCache(e, time.Now())
	if cached.Reverse != nil || cached.BlackHoleDirection != "" {
		t.Errorf("an entry without a return path gave reverse %+v, direction %q", cached.Reverse, cached.BlackHoleDirection)
	}
}

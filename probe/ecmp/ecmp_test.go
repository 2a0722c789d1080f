package ecmp

import (
	"math"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pmtu/pmtu/mtu"
)

func TestMissBound(t *testing.T) {
	tests := []struct {
		n     int
		alpha float64
		k     int
		miss  float64
	}{
		{0, 0.05, 0, 1},
		{1, 0.05, 0, 1},
		{4, 0.05, 0, 1},       // (1/2)^4 = 0.0625 > 5%
		{5, 0.05, 2, 0.03125}, // (1/2)^5
		{16, 0.05, 5, math.Pow(0.8, 16)},
		{32, 0.05, 11, math.Pow(10.0/11, 32)}, // (10/11)^32 = 4.7%; (11/12)^32 = 6.2%
		{100, 0.05, 33, math.Pow(32.0/33, 100)},
		{16, 0.01, 3, math.Pow(2.0/3, 16)},
		{16, 0, 0, 1},
	}
	for _, tt := range tests {
		k, miss := MissBound(tt.n, tt.alpha)
		if k != tt.k || math.Abs(miss-tt.miss) > 1e-12 {
			t.Errorf("MissBound(%d, %v) = %d, %.6f; want %d, %.6f", tt.n, tt.alpha, k, miss, tt.k, tt.miss)
		}
		if k >= 2 && (missed(k, tt.n) > tt.alpha || missed(k+1, tt.n) <= tt.alpha) {
			t.Errorf("MissBound(%d, %v) = %d is not the largest k with (1-1/k)^n ≤ alpha", tt.n, tt.alpha, k)
		}
	}
}

// TestStopAt checks the first values of the MDA table (α = 0.05), and
// for more k that StopAt is the smallest n meeting the rule.
func TestStopAt(t *testing.T) {
	want := []int{6, 11, 16, 21, 27, 33}
	var got []int
	for k := 1; k <= len(want); k++ {
		got = append(got, StopAt(k, 0.05))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("StopAt(k, 0.05), k = 1..6 (-want +got):\n%s", diff)
	}
	rule := func(k, n int) bool { return float64(k+1)*math.Pow(float64(k)/float64(k+1), float64(n)) <= 0.05 }
	for k := 1; k <= 30; k++ {
		n := StopAt(k, 0.05)
		if !rule(k, n) || rule(k, n-1) {
			t.Errorf("StopAt(%d) = %d is not the smallest n with (k+1)(k/(k+1))^n ≤ 0.05", k, n)
		}
	}
	if got := StopAt(0, 0.05); got != 0 {
		t.Errorf("StopAt(0) = %d, want 0", got)
	}
}

func TestMerge(t *testing.T) {
	r2a, r2b, r2c := netip.MustParseAddr("198.18.3.2"), netip.MustParseAddr("198.18.4.2"), netip.MustParseAddr("198.18.5.2")
	addrCmp := cmp.Comparer(func(a, b netip.Addr) bool { return a == b })
	tests := []struct {
		name  string
		flows []Flow
		want  []Branch
		min   mtu.Size
	}{
		{"none", nil, nil, 0},
		{"all failed", []Flow{{ID: 1, Err: "no reply"}, {ID: 2, Err: "no reply"}}, nil, 0},
		{"one branch by probes", []Flow{{ID: 2, PMTU: 1500, Evidence: "probes"}, {ID: 1, PMTU: 1500, Evidence: "probes"}},
			[]Branch{{PMTU: 1500, Flows: []int{1, 2}}}, 1500},
		{"two branches", []Flow{
			{ID: 1, PMTU: 1500}, {ID: 2, PMTU: 1400, Hop: r2b}, {ID: 3, PMTU: 1500},
			{ID: 4, PMTU: 1400, Hop: r2b}, {ID: 5, Err: "no reply"}, {ID: 6, PMTU: 1400, Hop: r2b},
		}, []Branch{
			{PMTU: 1400, Flows: []int{2, 4, 6}, Hops: []netip.Addr{r2b}},
			{PMTU: 1500, Flows: []int{1, 3}},
		}, 1400},
		{"one value named by two routers", []Flow{
			{ID: 3, PMTU: 1400, Hop: r2c}, {ID: 1, PMTU: 1400, Hop: r2a}, {ID: 2, PMTU: 1450, Hop: r2b},
		}, []Branch{
			{PMTU: 1400, Flows: []int{1, 3}, Hops: []netip.Addr{r2a, r2c}},
			{PMTU: 1450, Flows: []int{2}, Hops: []netip.Addr{r2b}},
		}, 1400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, min := Merge(tt.flows)
			if diff := cmp.Diff(tt.want, got, addrCmp); diff != "" {
				t.Errorf("branches (-want +got):\n%s", diff)
			}
			if min != tt.min {
				t.Errorf("min = %d, want %d", min, tt.min)
			}
		})
	}
}

func TestMergeHops(t *testing.T) {
	r1, r2a, r2b, tg := netip.MustParseAddr("198.18.1.2"), netip.MustParseAddr("198.18.2.2"), netip.MustParseAddr("198.18.3.2"), netip.MustParseAddr("198.18.9.1")
	a := []HopSeen{{r1, 1500}, {r2a, 1500}, {tg, 1500}}
	b := []HopSeen{{r1, 1500}, {r2b, 1500}, {tg, 1400}}
	short := []HopSeen{{r1, 1500}, {}}
	got := MergeHops([]TraceFlow{{1, b}, {2, a}, {3, a}, {4, short}})
	want := []Hop{
		{1, []HopBranch{{HopSeen{r1, 1500}, []int{1, 2, 3, 4}}}},
		{2, []HopBranch{{HopSeen{r2a, 1500}, []int{2, 3}}, {HopSeen{}, []int{4}}, {HopSeen{r2b, 1500}, []int{1}}}},
		{3, []HopBranch{{HopSeen{tg, 1500}, []int{2, 3}}, {HopSeen{tg, 1400}, []int{1}}}},
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("MergeHops (-want +got):\n%s", diff)
	}
	if got := MergeHops(nil); got != nil {
		t.Errorf("MergeHops(nil) = %v, want nil", got)
	}
}

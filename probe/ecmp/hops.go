package ecmp

import (
	"cmp"
	"net/netip"
	"slices"

	"github.com/pmtu/pmtu/mtu"
)

// HopSeen is what one flow's trace found at one hop limit: who answered
// (invalid: nobody) and the path MTU up to there (0: not known).
type HopSeen struct {
	Addr netip.Addr
	PMTU mtu.Size
}

// TraceFlow is one flow's trace: Hops[i] is hop limit i+1.
type TraceFlow struct {
	ID   int
	Hops []HopSeen
}

// HopBranch is one thing seen at a hop limit: an address and the path MTU
// up to it, and the flows that saw them.
type HopBranch struct {
	HopSeen
	Flows []int
}

// Hop is one hop limit of traces made on many flows: every distinct
// address and path MTU seen there, the most-seen first (ties: by address,
// then by path MTU).
type Hop struct {
	TTL  int
	Seen []HopBranch
}

// MergeHops lines up the traces of many flows hop limit by hop limit, up
// to the longest: at a hop where ECMP splits the flows, Seen holds one
// entry per branch. A trace shorter than the longest adds nothing past
// its end.
func MergeHops(flows []TraceFlow) []Hop {
	var hops []Hop
	for _, f := range flows {
		for i, h := range f.Hops {
			for len(hops) <= i {
				hops = append(hops, Hop{TTL: len(hops) + 1})
			}
			seen := &hops[i].Seen
			j := slices.IndexFunc(*seen, func(b HopBranch) bool { return b.HopSeen == h })
			if j < 0 {
				j = len(*seen)
				*seen = append(*seen, HopBranch{HopSeen: h})
			}
			(*seen)[j].Flows = append((*seen)[j].Flows, f.ID)
		}
	}
	for i := range hops {
		for j := range hops[i].Seen {
			slices.Sort(hops[i].Seen[j].Flows)
		}
		slices.SortFunc(hops[i].Seen, func(a, b HopBranch) int {
			return cmp.Or(len(b.Flows)-len(a.Flows), a.Addr.Compare(b.Addr), int(a.PMTU)-int(b.PMTU))
		})
	}
	return hops
}

package ecmp

import (
	"math"
	"net/netip"
	"slices"

	"github.com/pmtu/pmtu/mtu"
)

// Flow is what the search on one flow found.
type Flow struct {
	// ID names the flow (1, 2, ...); SrcPort or EchoID is what it put on
	// the wire.
	ID      int
	SrcPort uint16
	EchoID  uint16
	// PMTU is the path MTU the flow found; 0 if its search failed.
	PMTU mtu.Size
	// Hop is the router whose ICMP named PMTU; invalid when probes alone
	// found it (or the egress interface is the limit).
	Hop netip.Addr
	// Evidence is "icmp" or "probes"; Err why the search failed, "" if it
	// did not.
	Evidence string
	Err      string
}

// Branch is one path MTU some flows found: which flows, and the routers
// that named it.
type Branch struct {
	PMTU  mtu.Size
	Flows []int        // the IDs of the flows that found PMTU, ascending
	Hops  []netip.Addr // the distinct routers that named PMTU, sorted; none when probes found it
}

// Merge groups the flows that found a path MTU by its value, smallest
// first, and returns the groups and the smallest value: the path MTU
// every flow toward the target can count on. Failed flows (PMTU 0) are
// in no branch; min is 0 when every flow failed.
func Merge(flows []Flow) (branches []Branch, min mtu.Size) {
	at := map[mtu.Size]int{}
	for _, f := range flows {
		if f.PMTU == 0 {
			continue
		}
		i, ok := at[f.PMTU]
		if !ok {
			i = len(branches)
			at[f.PMTU] = i
			branches = append(branches, Branch{PMTU: f.PMTU})
		}
		b := &branches[i]
		b.Flows = append(b.Flows, f.ID)
		if f.Hop.IsValid() && !slices.Contains(b.Hops, f.Hop) {
			b.Hops = append(b.Hops, f.Hop)
		}
	}
	slices.SortFunc(branches, func(a, b Branch) int { return int(a.PMTU) - int(b.PMTU) })
	for i := range branches {
		slices.Sort(branches[i].Flows)
		slices.SortFunc(branches[i].Hops, netip.Addr.Compare)
	}
	if len(branches) > 0 {
		min = branches[0].PMTU
	}
	return branches, min
}

// MissBound is how sure n flows are to have seen every branch: the
// largest k (2 or more) such that a branch carrying a fraction 1/k of the
// flows is missed by all n with probability at most alpha, and that
// probability, (1−1/k)^n. k is 0 when n flows cannot rule out even a
// branch carrying half of them (n < log2(1/alpha)).
func MissBound(n int, alpha float64) (k int, miss float64) {
	if n <= 0 || alpha <= 0 || alpha >= 1 {
		return 0, 1
	}
	// (1−1/k)^n ≤ alpha ⇔ k ≤ 1/(1 − alpha^(1/n)).
	k = int(math.Floor(1 / (1 - math.Pow(alpha, 1/float64(n)))))
	// Guard the float at the boundary: step to the exact largest k.
	for k >= 2 && missed(k, n) > alpha {
		k--
	}
	for missed(k+1, n) <= alpha {
		k++
	}
	if k < 2 {
		return 0, 1
	}
	return k, missed(k, n)
}

// missed is (1−1/k)^n, the chance that n flows all miss a branch carrying
// 1/k of them.
func missed(k, n int) float64 {
	if k < 1 {
		return 1
	}
	return math.Pow(1-1/float64(k), float64(n))
}

// StopAt is the MDA stopping rule n_k: the number of flows that, all
// landing on the k branches seen, rule out a (k+1)th branch (flows spread
// evenly over k+1) at confidence 1−alpha: the smallest n with
// (k+1)·(k/(k+1))^n ≤ alpha. StopAt(1, 0.05) is 6, StopAt(2, 0.05) is 11.
func StopAt(k int, alpha float64) int {
	if k < 1 || alpha <= 0 || alpha >= 1 {
		return 0
	}
	kf := float64(k)
	return int(math.Ceil(math.Log(alpha/(kf+1)) / math.Log(kf/(kf+1))))
}

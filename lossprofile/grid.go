package lossprofile

import (
	"slices"

	"github.com/pmtu/pmtu/mtu"
)

// Grid shape: at most MaxGrid sizes, at least Step bytes apart.
const (
	MaxGrid = 32
	Step    = 16
)

// DefaultSpan is how far below the path MTU a profile starts by default:
// 320 bytes, so that a 1500-byte path is probed from 1180 (the sizes of
// tunnels, PPPoE, VPNs and the IPv6 minimum 1280, where size-dependent
// loss is seen), in 21 sizes.
const DefaultSpan = 320

// Grid returns the coarse grid over [from, to]: to, then every step
// below it down to from, and from, smallest first; step is at least Step
// and wide enough for at most MaxGrid sizes.
func Grid(from, to mtu.Size) (sizes []mtu.Size, step mtu.Size) {
	if to < from {
		from, to = to, from
	}
	span := int(to - from)
	step = mtu.Size(max(Step, (span+MaxGrid-2)/(MaxGrid-1)))
	for s := int(to); s > int(from); s -= int(step) {
		sizes = append(sizes, mtu.Size(s))
	}
	sizes = append(sizes, from)
	slices.Reverse(sizes)
	return sizes, step
}

// refine returns the sizes that would place the edges of a's windows
// more closely: between a window's smallest size and the largest size
// probed below it, and between its largest and the smallest probed above,
// the size halfway, while they are more than a byte apart. pending is
// true when an edge is still being placed: such a size is already in
// grid, not yet probed enough to be judged (it has fewer than minSent
// probes).
func refine(a Analysis, grid []mtu.Size, sent map[mtu.Size]int) (add []mtu.Size, pending bool) {
	judged := func(s mtu.Size) bool { return sent[s] >= minSent }
	for _, s := range grid {
		if !judged(s) {
			return nil, true
		}
	}
	for _, w := range a.Windows {
		i, _ := slices.BinarySearch(grid, w.From)
		if i > 0 && w.From-grid[i-1] > 1 {
			add = append(add, grid[i-1]+(w.From-grid[i-1])/2)
		}
		j, found := slices.BinarySearch(grid, w.To)
		if found {
			j++
		}
		if j < len(grid) && grid[j]-w.To > 1 {
			add = append(add, w.To+(grid[j]-w.To)/2)
		}
	}
	return add, len(add) > 0
}

package pmtucache

import (
	"context"
	"net/netip"

	"github.com/pmtu/pmtu/route"
)

// Row pairs a cached Entry with the kernel's view of the same destination.
type Row struct {
	Entry
	// Kernel is the kernel's route toward Entry.Dst; its Cached, MTU,
	// Expires and Locked fields are the kernel's own path MTU exception.
	// Kernel is nil when the kernel was not asked (the entry belongs to
	// another network namespace instance, or the current one is unknown)
	// or the lookup failed (KernelErr).
	Kernel    *route.Route
	KernelErr error
}

// WithKernel pairs each entry with get's answer for its destination,
// asking once per destination and only for entries of the network
// namespace instance here (CurrentNetwork; the zero Network: none). A nil
// get means route.Get.
func WithKernel(ctx context.Context, entries []Entry, here Network, get func(context.Context, netip.Addr) (route.Route, error)) []Row {
	if get == nil {
		get = route.Get
	}
	type answer struct {
		r   *route.Route
		err error
	}
	asked := make(map[netip.Addr]answer)
	rows := make([]Row, 0, len(entries))
	for _, e := range entries {
		row := Row{Entry: e}
		if !here.IsZero() && e.Net == here {
			a, ok := asked[e.Dst]
			if !ok {
				r, err := get(ctx, e.Dst)
				if err == nil {
					a.r = &r
				}
				a.err = err
				asked[e.Dst] = a
			}
			if a.r != nil {
				r := *a.r
				row.Kernel = &r
			}
			row.KernelErr = a.err
		}
		rows = append(rows, row)
	}
	return rows
}

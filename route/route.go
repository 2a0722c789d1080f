package route

import (
	"net/netip"
	"time"

	"github.com/pmtu/pmtu/mtu"
)

// Route is the kernel's answer to a route lookup for one destination.
type Route struct {
	Dst     netip.Addr // the destination asked about
	Src     netip.Addr // the source address the kernel would use; may be invalid
	Gateway netip.Addr // the next hop, if not on-link; may be invalid
	IfIndex int        // egress interface index
	IfName  string     // egress interface name
	IfMTU   mtu.Size   // egress device MTU: the largest IP packet that can leave

	// MTU is the MTU the kernel would apply toward Dst: the cached path MTU
	// exception if there is one, else the route's mtu metric, else 0.
	MTU int
	// Cached says the kernel holds a path MTU exception for Dst, learned
	// from an ICMP; Expires is the time it has left and Locked says the
	// kernel pinned it (it stored its min_pmtu floor instead of a smaller
	// reported value, or the route has "mtu lock").
	Cached  bool
	Expires time.Duration
	Locked  bool
}

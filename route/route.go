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

	// Type is the kind of route the kernel chose (rtm_type): a
	// destination of this host is Local, the broadcast address of one of
	// its subnets is Broadcast.
	Type Type
	// Prefix is the prefix of the egress interface's address that holds
	// Dst when Dst is on-link (no Gateway), e.g. 198.18.1.1/24 for
	// 198.18.1.7; invalid otherwise.
	Prefix netip.Prefix

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

// Type is a route's type, rtm_type in <linux/rtnetlink.h>. The zero value
// is RTN_UNSPEC: not known.
type Type uint8

// Route types, with the kernel's values.
const (
	Unicast     Type = 1 // RTN_UNICAST: a gateway or a direct route
	Local       Type = 2 // RTN_LOCAL: an address of this host
	Broadcast   Type = 3 // RTN_BROADCAST: sent as a link-layer broadcast
	Anycast     Type = 4 // RTN_ANYCAST
	Multicast   Type = 5 // RTN_MULTICAST
	Blackhole   Type = 6 // RTN_BLACKHOLE
	Unreachable Type = 7 // RTN_UNREACHABLE
	Prohibit    Type = 8 // RTN_PROHIBIT
)

// OnLinkPrefix returns the prefix among addrs (an interface's addresses)
// that holds dst, with the interface's address kept in it, or an invalid prefix if none does. The
// longest one wins.
func OnLinkPrefix(addrs []netip.Prefix, dst netip.Addr) netip.Prefix {
	dst = dst.Unmap().WithZone("")
	var best netip.Prefix
	for _, p := range addrs {
		if p.Contains(dst) && (!best.IsValid() || p.Bits() > best.Bits()) {
			best = p
		}
	}
	return best
}

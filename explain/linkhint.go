package explain

import "fmt"

// A linkSize is a path MTU that a kind of link or tunnel is known to leave.
type linkSize struct {
	mtu    int // IP packet size in bytes
	family int // 4 or 6 for one family only, 0 for both
	hint   string
}

// linkSizes are exact sizes, checked before the IPsec range.
var linkSizes = []linkSize{
	{68, 4, "the smallest MTU an IPv4 link may have (RFC 791); a path this small is rare enough to suspect a forged ICMP (RFC 5927)"},
	{552, 4, "the Linux floor (net.ipv4.route.min_pmtu): a Frag Needed named a smaller MTU or none (MTU 0), and the kernel locked the route at 552; the real path MTU may be larger"},
	{576, 4, "the datagram size every IPv4 host must accept (RFC 791), used by old dial-up and X.25 links"},
	{1280, 6, "the IPv6 minimum MTU (RFC 8200): a tunnel or link set to the smallest legal size"},
	{1280, 4, "the IPv6 minimum MTU, often set on tunnels and VPNs as a safe size"},
	{1420, 0, "80 bytes less than Ethernet, WireGuard's default (room for an IPv6 underlay)"},
	{1430, 0, "70 bytes less than Ethernet, the usual VXLAN overhead over an IPv6 underlay"},
	{1438, 0, "62 bytes less than Ethernet, typical of IPsec ESP with AES-GCM and NAT traversal (ESP overhead varies with cipher and padding)"},
	{1440, 0, "60 bytes less than Ethernet, WireGuard over an IPv4 underlay"},
	{1450, 0, "50 bytes less than Ethernet, the usual VXLAN overhead"},
	{1460, 0, "40 bytes less than Ethernet: IPv4 in IPv6 (such as DS-Lite), or Google Cloud's default VPC MTU"},
	{1476, 0, "24 bytes less than Ethernet, the usual GRE overhead"},
	{1480, 0, "20 bytes less than Ethernet, an IPIP or 6in4 (sit) tunnel"},
	{1492, 0, "8 bytes less than Ethernet, PPPoE (DSL and fibre access lines)"},
	{1500, 0, "Ethernet"},
	{8950, 0, "50 bytes less than 9000-byte jumbo frames, VXLAN over a jumbo underlay"},
	{9000, 0, "jumbo frames"},
	{9001, 0, "AWS EC2 jumbo frames (the MTU inside a VPC)"},
	{65536, 0, "the Linux loopback MTU: the destination is this host"},
}

// IPsec ESP overhead depends on cipher, mode, padding and NAT traversal; a
// path MTU in this range below Ethernet that matched nothing exact is read
// as possibly ESP.
const (
	espMin = 1422
	espMax = 1446
)

// LinkHint reads a path MTU (an IP packet size in bytes) found toward a
// destination of the given family (4 or 6) against the sizes common links
// and tunnels leave, e.g. "1450: 50 bytes less than Ethernet, the usual
// VXLAN overhead". ok is false when no known link explains the size.
func LinkHint(family, pmtu int) (hint string, ok bool) {
	if family != 4 && family != 6 {
		return "", false
	}
	for _, s := range linkSizes {
		if s.mtu == pmtu && (s.family == 0 || s.family == family) {
			return fmt.Sprintf("%d: %s", pmtu, s.hint), true
		}
	}
	switch {
	case family == 6 && pmtu > 0 && pmtu < 1280:
		return fmt.Sprintf("%d: below the IPv6 minimum MTU of 1280 (RFC 8200), which no IPv6 link may have; a router or tunnel on the path is misconfigured", pmtu), true
	case pmtu >= espMin && pmtu <= espMax:
		return fmt.Sprintf("%d: %d bytes less than Ethernet, possibly an IPsec ESP tunnel (its overhead varies with cipher, mode and NAT traversal)", pmtu, 1500-pmtu), true
	}
	return "", false
}

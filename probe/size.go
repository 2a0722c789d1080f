package probe

import "github.com/pmtu/pmtu/mtu"

// Size is mtu.Size: a whole IP packet on the wire, header included.
type Size = mtu.Size

// Header sizes, in bytes (package mtu).
const (
	IPv4Header = mtu.IPv4Header
	IPv6Header = mtu.IPv6Header
	ICMPHeader = mtu.ICMPHeader
	TCPHeader  = mtu.TCPHeader
)

// Floors (package mtu).
const (
	MinIPv4 = mtu.MinIPv4
	MinIPv6 = mtu.MinIPv6
	MaxSize = mtu.Max
)

// Floor is mtu.Floor.
func Floor(ipv6 bool) Size { return mtu.Floor(ipv6) }

// IPHeader is mtu.IPHeader.
func IPHeader(ipv6 bool) int { return mtu.IPHeader(ipv6) }

// MSS is mtu.MSS.
func MSS(s Size, ipv6 bool) int { return mtu.MSS(s, ipv6) }

var plateaus = mtu.Plateaus

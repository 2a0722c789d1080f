package mtu

// Size is the length in bytes of a whole IP packet on the wire, IP header
// included: the unit of a path MTU. A probe of Size 1400 is a 1400-byte IP
// datagram, whatever its protocol.
type Size int

// Header sizes, in bytes.
const (
	IPv4Header = 20 // IPv4 header without options, as the kernel builds it
	IPv6Header = 40 // fixed IPv6 header
	ICMPHeader = 8  // ICMP and ICMPv6 header (type, code, checksum, 4 bytes)
	UDPHeader  = 8  // UDP header
	TCPHeader  = 20 // TCP header without options
)

// Floors and ceiling of a path MTU.
const (
	// MinIPv4 is the smallest IPv4 path MTU: every IPv4 module forwards
	// 68 bytes unfragmented (RFC 791, RFC 1191).
	MinIPv4 Size = 68
	// LinuxMinPMTU is Linux's net.ipv4.route.min_pmtu default: a Frag
	// Needed naming less (or MTU 0) makes the kernel store 552 and lock
	// the route there instead.
	LinuxMinPMTU Size = 552
	// MinIPv6 is the smallest IPv6 link MTU (RFC 8200 §5, RFC 8201).
	MinIPv6 Size = 1280
	// Max is the largest IPv4 Total Length, and the largest IPv6 packet
	// without jumbograms.
	Max Size = 65535
)

// Floor is the smallest path MTU of the family: MinIPv6 or MinIPv4.
func Floor(ipv6 bool) Size {
	if ipv6 {
		return MinIPv6
	}
	return MinIPv4
}

// IPHeader is the IP header length of the family's packets, without
// options or extension headers.
func IPHeader(ipv6 bool) int {
	if ipv6 {
		return IPv6Header
	}
	return IPv4Header
}

// MSS is the TCP maximum segment size that fits a path MTU of s: s less the
// IP and TCP headers (RFC 879, RFC 8201 §5.4); 0 if none fits.
func MSS(s Size, ipv6 bool) int {
	m := int(s) - IPHeader(ipv6) - TCPHeader
	if m < 0 {
		return 0
	}
	return m
}

// Plateaus is RFC 1191 table 7-1: the MTUs of common links, largest
// first. A router that sends a Fragmentation Needed with MTU 0 gives no
// number; the largest plateau below the refused size is then the best
// first guess (RFC 1191 §5). Callers must not modify it.
var Plateaus = []Size{65535, 32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296, 68}

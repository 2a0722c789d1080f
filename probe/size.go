package probe

// Size is the length in bytes of a whole IP packet on the wire, IP header
// included: the unit of a path MTU. A probe of Size 1400 is a 1400-byte IP
// datagram, whatever its protocol.
type Size int

// Header sizes, in bytes.
const (
	IPv4Header = 20 // IPv4 header without options, as the kernel builds it
	IPv6Header = 40 // fixed IPv6 header
	ICMPHeader = 8  // ICMP and ICMPv6 header (type, code, checksum, 4 bytes)
	TCPHeader  = 20 // TCP header without options
)

// Floors: the smallest path MTU each family allows (RFC 791 and RFC 1191
// for IPv4; RFC 8200 and RFC 8201 for IPv6).
const (
	MinIPv4 Size = 68
	MinIPv6 Size = 1280
	MaxSize Size = 65535 // the largest IPv4 Total Length, and IPv6 without jumbograms
)

// Floor is the smallest path MTU of the family.
func Floor(ipv6 bool) Size {
	if ipv6 {
		return MinIPv6
	}
	return MinIPv4
}

// IPHeader is the IP header length of the family's probes.
func IPHeader(ipv6 bool) int {
	if ipv6 {
		return IPv6Header
	}
	return IPv4Header
}

// MSS is the TCP maximum segment size that fits a path MTU of s: s less the
// IP and TCP headers (RFC 879, RFC 8201 §5.4).
func MSS(s Size, ipv6 bool) int {
	m := int(s) - IPHeader(ipv6) - TCPHeader
	if m < 0 {
		return 0
	}
	return m
}

// plateaus is RFC 1191 table 7-1: the MTUs of common links, largest first.
// A router that sends a Fragmentation Needed with MTU 0 gives no number; the
// largest plateau below the refused size is then the best first guess
// (RFC 1191 §5).
var plateaus = []Size{65535, 32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296, 68}

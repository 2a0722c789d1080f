package wire

// EchoPad is the 16-bit word that, placed at an even offset of an Echo
// Request's data, keeps the message's checksum the same whatever its
// sequence number and, for ICMPv6, its length (the pseudo-header of RFC
// 8200 §8.1 sums the upper-layer length): seq, length and pad always add
// up to 0xffff in ones' complement. Routers that hash the first 4 bytes
// after the IP header (type, code, checksum) then keep every probe of a
// search on one branch, as Paris traceroute's probes do (Augustin et al.,
// 2006). icmpLen is the ICMP message's length, header included.
func EchoPad(v6 bool, seq int, icmpLen int) uint16 {
	s := uint32(uint16(seq))
	if v6 {
		s += uint32(uint16(icmpLen))
		s = (s & 0xffff) + s>>16
	}
	return ^uint16(s)
}

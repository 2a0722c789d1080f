// Package search chooses probe sizes and reads what their answers prove:
// the path MTU to a host (Discover) and to every hop on the way (Trace).
//
// # What it owns
//
//   - sizer.go: Sizer, the state machine that picks the next sizes from
//     what earlier probes earned: sequential while ICMP names sizes,
//     parallel rounds on replies alone when it does not.
//   - discover.go: Discover, rounds of a Sizer over one Conn (a discovery
//     and its rounds); over a rate-limited Conn, each round carries a
//     control probe, and a round whose control earns nothing is void.
//   - trace.go: Trace, one Sizer per hop limit, all hops walked side by
//     side, paced by the routers' ICMP rate limit (package ratelimit).
//   - replylimit.go: ReplyLimiter, a Conn whose target rate-limits its
//     answers. The Conn itself (send a probe, read an event) is wire.Conn,
//     declared with the Probe and Event it speaks.
//
// Nothing here opens a socket or reads a clock of its own: the Conn and
// Config.Now are given, so every search runs in tests over the fake
// network of internal/probetest without root and without sleeping.
//
// # Imports
//
// search imports package mtu, probe/wire (for Probe and Event) and
// probe/ratelimit; never probe/transport.
//
// # Standards
//
// RFC 1191 (IPv4 PMTUD; §5 and the plateau table of §7 for routers that
// send MTU 0), RFC 8201 (IPv6), RFC 4821 and RFC 8899 (searching on
// replies alone; MAX_PROBES = 3 tries before a size is too big). An ICMP
// never raises a bound (RFC 1191 §3, RFC 8201 §4).
package search

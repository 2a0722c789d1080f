// Package probe finds the path MTU to a host: it sends probes that may not
// be fragmented, reads what comes back, believes only what answers a probe
// it sent, and chooses the next size.
//
// # Where things are
//
//   - sizer.go: Sizer, the pure state machine that chooses probe sizes.
//   - message.go, extension.go: ParseMessage, the pure parser of ICMP and
//     ICMPv6 replies (it reads the Next-Hop MTU of a Fragmentation Needed
//     itself) and of RFC 4884 extensions.
//   - method_check.go: the rules every method applies before it believes
//     an answer (quoteRules.judge, flight, checkMTU): the one place that
//     decides what to believe.
//   - icmp.go: ICMPConn, Echo Request probes over a raw socket; udp.go and
//     tcp.go: UDP datagrams and TCP SYNs; method_ping.go: ICMP datagram
//     ("ping") sockets; errqueue.go: errors read from a socket's error
//     queue (IP_RECVERR), for probing without privilege.
//   - method.go: the methods and how one is chosen (Open); listen.go and
//     method_linux.go open the sockets (DF set, no local fragmentation,
//     kernel PMTU cache ignored; see package sockopt).
//   - discover.go: Discover, which drives a Sizer over a Conn.
//   - trace.go: Trace, the per-hop walk: one Sizer per hop limit, all
//     hops probed side by side over one Conn.
//
// # Standards
//
// Path MTU discovery: RFC 1191 (IPv4; §5 for routers that send MTU 0,
// with the plateau table of §7), RFC 8201 (IPv6), RFC 4821 and RFC 8899
// (searching on replies alone when ICMP is lost; 3 tries before a size is
// too big). Validation of ICMP: RFC 5927 and RFC 8899 §4.6 — an ICMP counts
// only if it quotes a probe we sent and are waiting for, with the size we
// sent, and names a sane MTU. Extended ICMP length field: RFC 4884.
//
// # Sizes
//
// Every size here is a Size: a whole IP packet on the wire, header
// included. A 1400-byte ICMPv4 probe carries 1372 bytes of Echo data.
package probe

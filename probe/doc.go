// Package probe finds the path MTU to a host in one call: it resolves the
// name, asks the kernel for the route (the egress interface and its MTU),
// picks a way of probing this process may use, and runs the search.
//
//	res, err := probe.Find(ctx, "example.net", nil)
//	// res.PMTU, res.ByICMP, res.LimitingHop, res.Method ...
//	tr, err := probe.Trace(ctx, "example.net", &probe.TraceOptions{MaxHops: 20})
//	// tr.Hops[i].PMTU, tr.Hops[i].MTUDrop ...
//
// Lookup and Target.Find split the same work in two, for a caller that
// keeps a cache of answers (cmd/pmtu does) and asks it between the route
// lookup and the probes.
//
// # Methods
//
// Options.Proto says what the probes are (ICMP Echo, UDP, TCP SYN);
// the method is the first of Proto.Methods this process may use: raw
// sockets with root or CAP_NET_RAW, else an ICMP datagram socket
// (net.ipv4.ping_group_range) or UDP with the socket's error queue, which
// need no privilege. Result.Method says which ran. Only Linux is
// supported. Left unchosen, Proto is ICMP Echo, and Find and Trace ask a
// target that never answers it by TCP to 443 and 80, then UDP
// (Fallbacks), listing every way in Result.Tried and TraceResult.Tried.
//
// # Layers
//
// The work is done by three packages under this one, each usable alone:
//
//   - probe/wire: the packets as bytes, parsed and built; no sockets.
//   - probe/transport: the sockets, and the rules deciding which answers
//     are believed (RFC 5927, RFC 8899 §4.6).
//   - probe/search: the choice of sizes (Sizer), Discover and Trace, as
//     state machines over a small Conn interface (wire.Conn); no sockets.
//
// probe/ratelimit models the routers' ICMP rate limit for all three, and
// package mtu holds the Size type and the floors.
//
// # Standards
//
// Path MTU discovery: RFC 1191 (IPv4), RFC 8201 (IPv6), RFC 4821 and RFC
// 8899 (searching on replies alone when ICMP is lost). Validation of ICMP:
// RFC 5927 — which also says what no validation can stop: an attacker on
// the path who sees the probes can forge a believable refusal.
//
// # Sizes
//
// Every size is an mtu.Size: a whole IP packet on the wire, header
// included. A 1400-byte ICMPv4 probe carries 1372 bytes of Echo data.
package probe

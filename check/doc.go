// Package check is what `pmtu check HOST` does: it looks for the
// middleboxes that break big packets without changing the MTU, one check
// at a time, each a function over an injected Conn that sends packets
// built by hand (package wire) and reads what comes back.
//
// # The checks
//
//   - The path MTU and its evidence, as `pmtu HOST` gives them
//     (measure.Host): a black hole (sizes above it vanish without an
//     ICMP) is itself a finding.
//   - MSS clamping, located (mss.go): TCP SYNs carrying an MSS option go
//     out at hop limits 1, 2, 3..., and the TCP header each router quotes
//     in its Time Exceeded shows the MSS as the SYN reached it (the
//     tracebox method, Detal et al., IMC 2013). Linux routers quote up
//     to 576 bytes (RFC 1812 §4.3.2.3), options included; a router that
//     quotes only the 8 bytes RFC 792 asks for shows no option and is
//     "not visible", never "not clamped". A router's own rewrite shows in
//     the next hop's quote: the rewrite lies between the last hop that
//     quotes the MSS sent and the first that quotes another. The target's
//     SYN-ACK gives its own MSS, and with the path MTU and whether routers
//     say "too big", the stall risk of a big transfer.
//   - Fragments each way (frag.go): a small Echo Request sent as two
//     fragments, whose whole reply proves the forward direction; then a
//     request whose reply the target must fragment, which proves the
//     return direction once the forward one is known. IPv6 uses the
//     Fragment header (RFC 8200 §4.5).
//   - IPv6 extension headers (exthdr.go): Echo Requests carrying a
//     Hop-by-Hop or Destination Options header (one PadN option, RFC 8200
//     §4.2), small and at the path MTU, prove the forward direction (RFC
//     7872 measured how often they are dropped). An Echo Reply never
//     carries them back: the return direction (exthdrback.go) asks a
//     `pmtu mesh` responder (Options.Responder, else the target at
//     DefaultResponderPort) for acknowledgements that come back with each
//     header, small and of the path MTU, each beside a plain one of the
//     same size (probe/wire's shaped acknowledgements), and reads which
//     header each arrived with (IPV6_RECVHOPOPTS, IPV6_RECVDSTOPTS). No
//     responder, one that does not count this host among its peers, or
//     one without CAP_NET_RAW (which Linux asks of a socket that attaches
//     these headers) leaves it unknown, with that reason.
//
// Every check says which privilege it needs; one that cannot run is
// reported as not run, with why.
//
// # Privileges
//
// The packets are built whole, IP header included, and sent on an
// IPPROTO_RAW socket (probe/transport's RawIPConn): that needs root or
// CAP_NET_RAW. Without it only the path MTU is measured (pmtu HOST's
// unprivileged methods) and the return direction of the extension
// headers checked (an ordinary UDP socket, transport.MeshClient); every
// other check is not run.
package check

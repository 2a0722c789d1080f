// Package route asks the kernel's routing table the question `ip route get
// DST` asks: which interface a packet to DST leaves through, that
// interface's MTU, the source address the kernel would choose, and whether
// the kernel holds a path MTU exception for DST (the per-destination entry a
// believed Fragmentation Needed or Packet Too Big creates), with its MTU and
// the time it has left.
//
// pmtu uses the first half to bound its search by the real egress MTU
// instead of assuming 1500, and the second half to show the kernel's own
// view beside what pmtu measured.
//
// On Linux the lookup is one RTM_GETROUTE request over rtnetlink; the reply
// is decoded by a pure parser. Elsewhere Get returns errors.ErrUnsupported.
package route

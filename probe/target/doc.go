// Package target decides, before any socket is opened, whether an address
// can have a path MTU at all.
//
// A path MTU exists only toward one unicast host (RFC 1191, RFC 8201), so
// the unspecified address (0.0.0.0, ::), the limited broadcast
// 255.255.255.255, the broadcast address of an on-link IPv4 subnet
// (RFC 919, RFC 922), multicast groups (RFC 1112, RFC 4291 section 2.7) are
// refused, and so are IPv6 link-local addresses without the zone that says
// which link they are on, and zones on addresses that are not link-local
// (RFC 4007 section 11). The refusal is an *Error whose text is one line
// naming the concept, for a person to read.
//
// Some addresses are accepted with a note: an IPv4-mapped IPv6 address
// (RFC 4291 section 2.5.5.2) is probed as the IPv4 address it holds, and a
// loopback address or one of this host's own addresses is measured on a
// path that never leaves the host.
//
// The package is pure: what the route lookup knows about the way out (the
// on-link prefix, whether the kernel routes the address as a broadcast or
// as local) is passed in as an Egress.
package target

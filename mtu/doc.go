// Package mtu holds the one size type of pmtu and the constants every
// package that handles a path MTU shares: header lengths, the floors of
// each family, the largest IP packet, the TCP MSS that fits a size, and
// the RFC 1191 plateau table.
//
// It is a leaf: it imports nothing of pmtu, and probe, pmtucache, route
// and the command line all take their sizes from it, so a floor or a
// header length is defined once.
//
// # Which size
//
// A Size is always a whole IP packet on the wire, IP header included: the
// unit of a path MTU (RFC 1191, RFC 8201) and of a link's MTU as Linux
// reports it. It is never an ICMP payload or a TCP segment length; MSS
// and the header constants convert.
//
// # Standards
//
// RFC 791 (the IPv4 minimum of 68), RFC 1191 (IPv4 PMTUD and its plateau
// table, §7), RFC 8200 and RFC 8201 (the IPv6 minimum of 1280), RFC 879
// and RFC 8201 §5.4 (the MSS). Linux's net.ipv4.route.min_pmtu (552) is
// the kernel's own floor for a learnt IPv4 path MTU, not a standard.
package mtu

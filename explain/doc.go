// Package explain turns the ICMP errors a path-MTU probe can receive into
// words for a person debugging a network: who sends each message, what it
// means, and what to check next.
//
// The package holds one table of (family, type, code) entries, returned by
// [All] and read by [Lookup] and [Describe]. The text output, the JSON output
// and the tests all use that table, so a wording fixed there is fixed
// everywhere. [LinkHint] reads a path MTU against the sizes common links and
// tunnels leave, so that "1450" can be read as "a VXLAN overlay".
//
// # Kinds
//
// Every entry carries a [Kind] a prober can branch on without parsing words:
// [PathMTU] (the message names a smaller MTU), [Reached] (the destination
// itself answered, so the path carried the packet), [Filtered] (a filter or
// policy rejected it), [NoRoute], [HostMissing], [InTransit] (a TTL or hop
// limit ran out on the way) and [Other].
//
// A Reached kind says what the message claims. Firewalls forge port
// unreachable too (iptables REJECT and nftables reject send it by default),
// so a prober should also check that the message came from the destination
// address.
//
// # Sources
//
// ICMPv4:
//   - RFC 792, Internet Control Message Protocol: types 3, 4, 5, 11 and 12.
//   - RFC 1108: parameter problem code 1 (missing a required option).
//   - RFC 1122 §3.2.2.1: destination unreachable codes 6 to 12.
//   - RFC 1191: the Next-Hop MTU field of fragmentation needed.
//   - RFC 1812 §5.2.7.1: destination unreachable codes 13 to 15, and which
//     codes routers should no longer send.
//   - RFC 6633: source quench is deprecated.
//
// ICMPv6:
//   - RFC 4443: destination unreachable codes 0 to 6, packet too big, time
//     exceeded, parameter problem codes 0 to 2.
//   - RFC 6550 and RFC 6554: destination unreachable code 7 (error in source
//     routing header, from RPL).
//   - RFC 7112: parameter problem code 3 (incomplete header chain in the
//     first fragment).
//   - RFC 8754: parameter problem code 4 (segment routing).
//   - RFC 8883: destination unreachable code 8 and parameter problem codes
//     5 to 10 (processing limits of routers).
//   - RFC 8200 and RFC 8201: the 1280-byte IPv6 minimum MTU and IPv6 path MTU
//     discovery.
//
// The link sizes of [LinkHint] come from RFC 791 (68 and 576), RFC 2516
// (PPPoE), RFC 2003 and RFC 4213 (IPIP, 6in4), RFC 2784 (GRE), RFC 7348
// (VXLAN), RFC 4303 (ESP), the WireGuard paper, and the Linux
// net.ipv4.route.min_pmtu default of 552.
package explain

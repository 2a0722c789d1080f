// Package sockopt sets the socket options a path MTU probe needs, through
// syscall.RawConn.Control so that no file descriptor escapes package net.
//
// A probe must leave with DF set and must not be fragmented or refused by
// the sending kernel because of a path MTU it has cached from an earlier
// ICMP: IP_MTU_DISCOVER = IP_PMTUDISC_PROBE (IPv4) and IPV6_MTU_DISCOVER =
// IPV6_PMTUDISC_PROBE with IPV6_DONTFRAG (IPv6) give exactly that: the
// kernel sizes the packet against the egress device MTU only, sets DF, and
// ignores its PMTU cache (ip(7), ipv6(7)).
//
// The options are Linux's; on other systems every function returns
// errors.ErrUnsupported.
package sockopt

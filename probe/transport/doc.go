// Package transport sends probes and reads their answers: it owns every
// socket pmtu opens, and it decides which answers to believe.
//
// # What it owns
//
//   - proto.go: Proto and Method, the ways of probing, and the order in
//     which Open tries them (raw sockets first, then what needs no
//     privilege).
//   - open.go, open_linux.go: Open and OpenMethod, which build a method's
//     conn; socket_linux.go: the one socket constructor every method uses
//     (probe mode, ICMP filters, device binding, error queue, receive
//     timestamps), and reader.go, reader_linux.go: the one reader path,
//     which stamps each packet with the kernel's receive time.
//   - icmp.go (ICMPConn), ping.go (PingConn), udp.go (UDPConn), tcp.go
//     (TCPConn): one conn per method.
//   - shared.go, demux.go, shared_tcp.go (shared_linux.go): Engine,
//     many searches over shared sockets: one raw ICMP socket per family
//     and place (namespace, interface, bound source), and for TCP one raw
//     TCP socket per family and source. One goroutine reads each socket,
//     parses each packet once and hands it to the search it is about: by
//     the Echo identifier it carries (a reply's own, or the one an error
//     quotes), by the source port of the UDP datagram or TCP segment an
//     error quotes, or (raw TCP) by the port a segment is sent to. That
//     search's conn then judges it by its own rules (sequence in flight,
//     cookie, quote, sender). The identifier or port routes, it proves
//     nothing. MethodICMP sends over the shared socket (Open); MethodUDP
//     sends from a UDP socket of its own, whose port is its flow, and
//     reads its errors from the shared one (OpenUDP); MethodTCP sends and
//     reads through the shared raw TCP socket (OpenTCP). The unprivileged
//     methods keep sockets of their own: the ping socket (MethodPing),
//     because the kernel gives each socket its own identifier and matches
//     replies to it already; udp-recverr, whose proof is that an error
//     arrived on the one socket of one probe. Probes with a hop limit
//     (trace) cannot share either: a raw socket has one hop limit for
//     every sender.
//   - validate.go, validate_errqueue.go: the rules every conn applies
//     before it believes an answer (RFC 5927, RFC 8899 §4.6), in one
//     place; flight.go: the probes in flight and which were answered.
//
// # Imports
//
// transport imports package mtu, probe/wire, probe/ratelimit and
// sockopt; never probe/search, which drives a transport through the
// Conn interface both see, wire.Conn.
//
// # Systems
//
// The sockets are Linux's (probe mode, IP_RECVERR, ICMP datagram
// sockets, SO_BINDTODEVICE): off Linux every method returns
// errors.ErrUnsupported.
package transport

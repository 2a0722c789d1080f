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
//   - validate.go, validate_errqueue.go: the rules every conn applies
//     before it believes an answer (RFC 5927, RFC 8899 §4.6), in one
//     place; flight.go: the probes in flight and which were answered.
//
// # Imports
//
// transport imports package mtu, probe/wire, probe/ratelimit and
// sockopt; never probe/search, which drives a transport through its own
// Conn interface.
//
// # Systems
//
// The sockets are Linux's (probe mode, IP_RECVERR, ICMP datagram
// sockets, SO_BINDTODEVICE): off Linux every method returns
// errors.ErrUnsupported.
package transport

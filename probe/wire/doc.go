// Package wire is the packets of pmtu, as bytes: it parses what comes
// back and builds what goes out, and touches no socket and no clock.
//
// # What it owns
//
//   - message.go, extension.go: ParseMessage, the parser of ICMP and
//     ICMPv6 messages as a raw socket delivers them (it reads the Next-Hop
//     MTU of a Fragmentation Needed itself, which x/net/icmp drops) and
//     of RFC 4884 extensions (RFC 4950 MPLS labels, RFC 5837 interface
//     information), which x/net/icmp finds and parses.
//   - errqueue.go, errqueue_linux.go: ExtendedErr and ParseErrQueue, the
//     kernel's sock_extended_err read with recvmsg(MSG_ERRQUEUE).
//   - timestamp_linux.go: ParseTimestamp, the kernel's receive time
//     (SCM_TIMESTAMPNS) in a read's control messages.
//   - tcp.go: ParseTCP and MarshalSYN.
//   - payload.go: the payload of UDP and TCP probes (ProbeData, checked by
//     CheckData) and Echo Requests (MarshalEcho).
//   - quic.go: MarshalQUICProbe, a long-header packet of a reserved version
//     padded to a probe's size, and ParseVersionNegotiation, the server's
//     answer that proves it arrived.
//   - hello.go: the payloads of TCP data probes, harmless to a web server:
//     MarshalClientHello (a TLS ClientHello with RFC 7685 padding) and
//     MarshalHEAD (an HTTP HEAD request with padding headers).
//   - event.go: Probe and Event, the values a search sends and reads, and
//     ErrorKind, what an ICMP error's type and code mean for a probe.
//   - conn.go: Conn, what sends those Probes and reads those Events: made
//     by probe/transport, driven by probe/search.
//
// Every parser is pure: bytes in, a value or an error out; it copies what
// it keeps. Each has a fuzz target seeded from testdata.
//
// # Imports
//
// wire imports only package mtu, x/net/icmp (marshalling, and the
// extensions it parses) and x/sys's control-message parser: never probe/transport or probe/search, which
// build on it.
//
// # Standards
//
// RFC 792 and RFC 4443 (ICMP, ICMPv6), RFC 1191 (the Next-Hop MTU, and
// MTU 0 from older routers), RFC 8201 (Packet Too Big), RFC 4884 (the
// length of the original datagram field, and the 128-byte fallback of
// §5 for routers that append extensions without setting it, as x/net/icmp
// reads them), RFC 4950 and RFC 5837 (extension objects), RFC 9293 (the
// TCP header and checksum), RFC 8999 and RFC 9000 §6, §14.1, §15, §17.2.1
// (QUIC's invariants, Version Negotiation, reserved versions), RFC 8446
// and RFC 7685 (the TLS ClientHello and its padding extension), RFC 9110
// and RFC 9112 (HTTP HEAD).
package wire

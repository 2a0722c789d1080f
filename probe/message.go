package probe

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
)

// ICMP types pmtu reads.
const (
	icmpv4EchoReply      = 0
	icmpv4DstUnreach     = 3
	icmpv4Echo           = 8
	icmpv4TimeExceeded   = 11
	icmpv4ParamProblem   = 12
	icmpv4FragNeeded     = 4 // code of type 3
	icmpv6DstUnreach     = 1
	icmpv6PacketTooBig   = 2
	icmpv6TimeExceeded   = 3
	icmpv6ParamProblem   = 4
	icmpv6Echo           = 128
	icmpv6EchoReply      = 129
	protoICMP            = 1
	protoICMPv6          = 58
	minQuotedTransport   = 8 // RFC 792: the quote holds at least 8 bytes past the IP header
	rfc4884MinOrigLength = 128
)

// Message is a parsed ICMP or ICMPv6 message as a raw socket delivers it
// (for IPv4, without the outer IP header).
type Message struct {
	IPv6 bool
	Type int
	Code int

	// MTU is the Next-Hop MTU of an ICMPv4 Fragmentation Needed (bytes 6–7,
	// which x/net's icmp.DstUnreach drops; 0 from pre-RFC-1191 routers) or
	// the MTU of an ICMPv6 Packet Too Big (bytes 4–7). Zero otherwise.
	MTU int

	// ID, Seq and Data are an Echo Reply's identifier, sequence number and
	// data.
	ID, Seq int
	Data    []byte

	// Quote is the packet an error message quotes; nil for echo messages.
	Quote *Quote

	// Ext is what an RFC 4884 extension structure after the quote
	// carried (MPLS labels, interface information); nil if none, or if
	// it was malformed.
	Ext *Extensions
}

// IsError reports whether m is an ICMP error message (one that quotes a
// packet).
func (m *Message) IsError() bool { return m.Quote != nil }

// Quote is the start of the packet an ICMP error message carries back.
type Quote struct {
	Src, Dst netip.Addr
	Proto    int
	// Length is the quoted packet's own idea of its size: the IPv4 Total
	// Length, or 40 plus the IPv6 Payload Length.
	Length Size
	// Transport is the quoted bytes after the IP header (at least 8).
	Transport []byte
}

// Errors from the parser.
var (
	ErrTruncated = errors.New("truncated ICMP message")
	ErrNotICMP   = errors.New("not an ICMP message pmtu reads")
)

// ParseMessage parses an ICMPv4 (ipv6 false) or ICMPv6 message. It copies
// what it keeps, so b may be reused.
func ParseMessage(b []byte, ipv6 bool) (*Message, error) {
	if len(b) < ICMPHeader {
		return nil, ErrTruncated
	}
	m := &Message{IPv6: ipv6, Type: int(b[0]), Code: int(b[1])}
	parse := parseV4
	if ipv6 {
		parse = parseV6
	}
	if err := parse(m, b); err != nil {
		return nil, err
	}
	return m, nil
}

func parseV4(m *Message, b []byte) error {
	switch m.Type {
	case icmpv4EchoReply, icmpv4Echo:
		parseEcho(m, b)
		return nil
	case icmpv4DstUnreach, icmpv4TimeExceeded, icmpv4ParamProblem:
		if m.Type == icmpv4DstUnreach && m.Code == icmpv4FragNeeded {
			m.MTU = int(binary.BigEndian.Uint16(b[6:8]))
		}
		// RFC 4884: byte 5 is the length of the original datagram in 32-bit
		// words when an extension structure follows. Parameter Problem keeps
		// its pointer in byte 4 and the length in byte 5 too.
		q, err := parseQuote(b[ICMPHeader:], int(b[5])*4, false)
		if err != nil {
			return err
		}
		m.Quote, m.Ext = q, extensionsAfter(b[ICMPHeader:], int(b[5])*4)
		return nil
	}
	return fmt.Errorf("%w: ICMPv4 type %d", ErrNotICMP, m.Type)
}

func parseV6(m *Message, b []byte) error {
	switch m.Type {
	case icmpv6EchoReply, icmpv6Echo:
		parseEcho(m, b)
		return nil
	case icmpv6PacketTooBig:
		m.MTU = int(binary.BigEndian.Uint32(b[4:8]))
		q, err := parseQuote(b[ICMPHeader:], 0, true)
		if err != nil {
			return err
		}
		m.Quote = q
		return nil
	case icmpv6DstUnreach, icmpv6TimeExceeded, icmpv6ParamProblem:
		length := 0
		if m.Type != icmpv6ParamProblem {
			// RFC 4884 §4.5: byte 4, in 64-bit words, for ICMPv6.
			length = int(b[4]) * 8
		}
		q, err := parseQuote(b[ICMPHeader:], length, true)
		if err != nil {
			return err
		}
		m.Quote, m.Ext = q, extensionsAfter(b[ICMPHeader:], length)
		return nil
	}
	return fmt.Errorf("%w: ICMPv6 type %d", ErrNotICMP, m.Type)
}

func parseEcho(m *Message, b []byte) {
	m.ID = int(binary.BigEndian.Uint16(b[4:6]))
	m.Seq = int(binary.BigEndian.Uint16(b[6:8]))
	m.Data = append([]byte(nil), b[ICMPHeader:]...)
}

// extensionsAfter returns the RFC 4884 extensions after an original
// datagram field of length bytes (the message's length field; 0 means
// none), or nil. RFC 4884 §4: the field is at least 128 bytes, zero-padded.
func extensionsAfter(b []byte, length int) *Extensions {
	if length < rfc4884MinOrigLength || length >= len(b) {
		return nil
	}
	ext, err := parseExtensions(b[length:])
	if err != nil {
		return nil
	}
	return ext
}

// parseQuote parses the quoted IP packet. length is the RFC 4884 length of
// the original datagram field, 0 when absent; when it is set and valid the
// quote ends there (an extension structure follows it).
func parseQuote(b []byte, length int, ipv6 bool) (*Quote, error) {
	if length >= rfc4884MinOrigLength && length <= len(b) {
		b = b[:length]
	}
	q := &Quote{}
	var hl int
	if ipv6 {
		if len(b) < IPv6Header+minQuotedTransport || b[0]>>4 != 6 {
			return nil, fmt.Errorf("%w: quoted IPv6 header", ErrTruncated)
		}
		hl = IPv6Header
		q.Length = Size(IPv6Header + int(binary.BigEndian.Uint16(b[4:6])))
		q.Proto = int(b[6])
		q.Src, _ = netip.AddrFromSlice(b[8:24])
		q.Dst, _ = netip.AddrFromSlice(b[24:40])
	} else {
		if len(b) < IPv4Header || b[0]>>4 != 4 {
			return nil, fmt.Errorf("%w: quoted IPv4 header", ErrTruncated)
		}
		hl = int(b[0]&0x0f) * 4
		if hl < IPv4Header || len(b) < hl+minQuotedTransport {
			return nil, fmt.Errorf("%w: quoted IPv4 packet", ErrTruncated)
		}
		q.Length = Size(binary.BigEndian.Uint16(b[2:4]))
		q.Proto = int(b[9])
		q.Src, _ = netip.AddrFromSlice(b[12:16])
		q.Dst, _ = netip.AddrFromSlice(b[16:20])
	}
	q.Transport = append([]byte(nil), b[hl:]...)
	return q, nil
}

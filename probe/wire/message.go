package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"github.com/pmtu/pmtu/mtu"
)

// ICMP types and codes pmtu reads, and IP protocol numbers.
const (
	ICMPv4EchoReply    = 0
	ICMPv4DstUnreach   = 3
	ICMPv4Echo         = 8
	ICMPv4TimeExceeded = 11
	ICMPv4ParamProblem = 12
	ICMPv4FragNeeded   = 4 // code of type 3
	ICMPv4PortUnreach  = 3 // code of type 3
	ICMPv6DstUnreach   = 1
	ICMPv6PacketTooBig = 2
	ICMPv6TimeExceeded = 3
	ICMPv6ParamProblem = 4
	ICMPv6PortUnreach  = 4 // code of type 1
	ICMPv6Echo         = 128
	ICMPv6EchoReply    = 129

	ProtoICMP   = 1
	ProtoTCP    = 6
	ProtoUDP    = 17
	ProtoICMPv6 = 58
)

const (
	minQuotedTransport = 8 // RFC 792: the quote holds at least 8 bytes past the IP header
	// rfc4884MinOrigLength is the shortest original datagram field an
	// RFC 4884 length may give, and where x/net/icmp looks for extensions
	// when a router sends them without setting the length, or sets it
	// wrong (RFC 4884 §5).
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
	Length mtu.Size
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
	if len(b) < mtu.ICMPHeader {
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
	case ICMPv4EchoReply, ICMPv4Echo:
		parseEcho(m, b)
		return nil
	case ICMPv4DstUnreach, ICMPv4TimeExceeded, ICMPv4ParamProblem:
		if m.Type == ICMPv4DstUnreach && m.Code == ICMPv4FragNeeded {
			m.MTU = int(binary.BigEndian.Uint16(b[6:8]))
		}
		// RFC 4884: byte 5 is the length of the original datagram in 32-bit
		// words when an extension structure follows. Parameter Problem keeps
		// its pointer in byte 4 and the length in byte 5 too. Where the
		// structure is, x/net/icmp finds (extensions); without one, a
		// length that is set and fits still ends the quote.
		length, ext := extensions(b, false)
		if length == 0 {
			length = int(b[5]) * 4
		}
		q, err := parseQuote(b[mtu.ICMPHeader:], length, false)
		if err != nil {
			return err
		}
		m.Quote, m.Ext = q, ext
		return nil
	}
	return fmt.Errorf("%w: ICMPv4 type %d", ErrNotICMP, m.Type)
}

func parseV6(m *Message, b []byte) error {
	switch m.Type {
	case ICMPv6EchoReply, ICMPv6Echo:
		parseEcho(m, b)
		return nil
	case ICMPv6PacketTooBig:
		m.MTU = int(binary.BigEndian.Uint32(b[4:8]))
		q, err := parseQuote(b[mtu.ICMPHeader:], 0, true)
		if err != nil {
			return err
		}
		m.Quote = q
		return nil
	case ICMPv6DstUnreach, ICMPv6TimeExceeded, ICMPv6ParamProblem:
		var length int
		var ext *Extensions
		if m.Type != ICMPv6ParamProblem {
			length, ext = extensions(b, true)
			if length == 0 {
				// RFC 4884 §4.5: byte 4, in 64-bit words, for ICMPv6.
				length = int(b[4]) * 8
			}
		}
		q, err := parseQuote(b[mtu.ICMPHeader:], length, true)
		if err != nil {
			return err
		}
		m.Quote, m.Ext = q, ext
		return nil
	}
	return fmt.Errorf("%w: ICMPv6 type %d", ErrNotICMP, m.Type)
}

func parseEcho(m *Message, b []byte) {
	m.ID = int(binary.BigEndian.Uint16(b[4:6]))
	m.Seq = int(binary.BigEndian.Uint16(b[6:8]))
	m.Data = append([]byte(nil), b[mtu.ICMPHeader:]...)
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
		if len(b) < mtu.IPv6Header+minQuotedTransport || b[0]>>4 != 6 {
			return nil, fmt.Errorf("%w: quoted IPv6 header", ErrTruncated)
		}
		hl = mtu.IPv6Header
		q.Length = mtu.Size(mtu.IPv6Header + int(binary.BigEndian.Uint16(b[4:6])))
		q.Proto = int(b[6])
		q.Src, _ = netip.AddrFromSlice(b[8:24])
		q.Dst, _ = netip.AddrFromSlice(b[24:40])
	} else {
		if len(b) < mtu.IPv4Header || b[0]>>4 != 4 {
			return nil, fmt.Errorf("%w: quoted IPv4 header", ErrTruncated)
		}
		hl = int(b[0]&0x0f) * 4
		if hl < mtu.IPv4Header || len(b) < hl+minQuotedTransport {
			return nil, fmt.Errorf("%w: quoted IPv4 packet", ErrTruncated)
		}
		q.Length = mtu.Size(binary.BigEndian.Uint16(b[2:4]))
		q.Proto = int(b[9])
		q.Src, _ = netip.AddrFromSlice(b[12:16])
		q.Dst, _ = netip.AddrFromSlice(b[16:20])
	}
	q.Transport = append([]byte(nil), b[hl:]...)
	return q, nil
}

package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"github.com/pmtu/pmtu/mtu"
)

// TCP flags.
const (
	TCPFIN = 0x01
	TCPSYN = 0x02
	TCPRST = 0x04
	TCPACK = 0x10
)

// TCPSegment is the part of a TCP segment pmtu reads.
type TCPSegment struct {
	SrcPort, DstPort uint16
	Seq, Ack         uint32
	DataOff          int // header length in bytes
	Flags            uint8
	Window           uint16
	Checksum         uint16
	Payload          []byte
}

// Kind names the segment by its flags: RST, SYN-ACK, SYN, FIN or segment.
func (s TCPSegment) Kind() string {
	switch {
	case s.Flags&TCPRST != 0:
		return "RST"
	case s.Flags&(TCPSYN|TCPACK) == TCPSYN|TCPACK:
		return "SYN-ACK"
	case s.Flags&TCPSYN != 0:
		return "SYN"
	case s.Flags&TCPFIN != 0:
		return "FIN"
	}
	return "segment"
}

// ErrNotTCP is the parser's error.
var ErrNotTCP = errors.New("not a TCP segment")

// ParseTCP parses a TCP segment (as a raw socket returns it: no IP
// header). It copies the payload.
func ParseTCP(b []byte) (TCPSegment, error) {
	if len(b) < mtu.TCPHeader {
		return TCPSegment{}, fmt.Errorf("%w: %d bytes", ErrNotTCP, len(b))
	}
	s := TCPSegment{
		SrcPort:  binary.BigEndian.Uint16(b[0:2]),
		DstPort:  binary.BigEndian.Uint16(b[2:4]),
		Seq:      binary.BigEndian.Uint32(b[4:8]),
		Ack:      binary.BigEndian.Uint32(b[8:12]),
		DataOff:  int(b[12]>>4) * 4,
		Flags:    b[13],
		Window:   binary.BigEndian.Uint16(b[14:16]),
		Checksum: binary.BigEndian.Uint16(b[16:18]),
	}
	if s.DataOff < mtu.TCPHeader || s.DataOff > len(b) {
		return TCPSegment{}, fmt.Errorf("%w: data offset %d in %d bytes", ErrNotTCP, s.DataOff, len(b))
	}
	s.Payload = append([]byte(nil), b[s.DataOff:]...)
	return s, nil
}

// MarshalSYN builds a TCP SYN from src:sport to dst:dport with initial
// sequence number isn, carrying payload, checksummed over the IPv4 or
// IPv6 pseudo-header (RFC 9293 §3.1, RFC 8200 §8.1). There are no
// options: the header is mtu.TCPHeader bytes.
func MarshalSYN(src, dst netip.Addr, sport, dport uint16, isn uint32, payload []byte) []byte {
	b := make([]byte, mtu.TCPHeader+len(payload))
	binary.BigEndian.PutUint16(b[0:], sport)
	binary.BigEndian.PutUint16(b[2:], dport)
	binary.BigEndian.PutUint32(b[4:], isn)
	b[12] = (mtu.TCPHeader / 4) << 4
	b[13] = TCPSYN
	binary.BigEndian.PutUint16(b[14:], 64240)
	copy(b[mtu.TCPHeader:], payload)
	binary.BigEndian.PutUint16(b[16:], TransportChecksum(src, dst, ProtoTCP, b))
	return b
}

// TransportChecksum is the Internet checksum (RFC 1071) of a TCP or UDP
// segment b, whose checksum field is zero, with the pseudo-header of src
// and dst.
func TransportChecksum(src, dst netip.Addr, proto int, b []byte) uint16 {
	var pseudo [40]byte
	n := copy(pseudo[:], src.Unmap().AsSlice())
	n += copy(pseudo[n:], dst.Unmap().AsSlice())
	if dst.Unmap().Is6() {
		binary.BigEndian.PutUint32(pseudo[n:], uint32(len(b)))
		pseudo[n+7] = byte(proto)
		n += 8
	} else {
		pseudo[n+1] = byte(proto)
		binary.BigEndian.PutUint16(pseudo[n+2:], uint16(len(b)))
		n += 4
	}
	return ^fold(sum16(sum16(0, pseudo[:n]), b))
}

// sum16 adds the 16-bit words of b (the last byte, if odd, as the high
// half of a word) to sum, without folding: the Internet checksum of RFC
// 1071 is ^fold of it.
func sum16(sum uint32, b []byte) uint32 {
	for len(b) >= 2 {
		sum += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	return sum
}

// fold folds the carries of a 32-bit sum into 16 bits.
func fold(sum uint32) uint16 {
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return uint16(sum)
}

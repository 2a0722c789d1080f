package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"github.com/pmtu/pmtu/mtu"
)

// TCP option kinds (RFC 9293 §3.2).
const (
	TCPOptEnd = 0
	TCPOptNOP = 1
	TCPOptMSS = 2
)

// MarshalSYNMSS builds a TCP SYN from src:sport to dst:dport with initial
// sequence number isn and one option, the Maximum Segment Size mss
// (RFC 9293 §3.7.1), checksummed over the pseudo-header: what a middlebox
// that clamps the MSS rewrites. The header is 24 bytes and carries no
// data.
func MarshalSYNMSS(src, dst netip.Addr, sport, dport uint16, isn uint32, mss uint16) []byte {
	const hl = mtu.TCPHeader + 4
	b := make([]byte, hl)
	binary.BigEndian.PutUint16(b[0:], sport)
	binary.BigEndian.PutUint16(b[2:], dport)
	binary.BigEndian.PutUint32(b[4:], isn)
	b[12] = (hl / 4) << 4
	b[13] = TCPSYN
	binary.BigEndian.PutUint16(b[14:], 64240)
	b[20], b[21] = TCPOptMSS, 4
	binary.BigEndian.PutUint16(b[22:], mss)
	binary.BigEndian.PutUint16(b[16:], TransportChecksum(src, dst, ProtoTCP, b))
	return b
}

// ErrTCPOptions is the error of ParseTCPMSS for options it cannot read.
var ErrTCPOptions = errors.New("malformed TCP options")

// TCPMSS is what a TCP header, whole or quoted in part, says of its
// Maximum Segment Size option.
type TCPMSS struct {
	// Visible is true when the header's options are all there: a quote
	// cut before the end of the header (RFC 792 asks routers for only 8
	// bytes) shows none, and says nothing of the MSS.
	Visible bool
	// Present is true when an MSS option is among them; MSS is its value.
	Present bool
	MSS     int
}

// ParseTCPMSS reads the MSS option of the TCP header at the start of b
// (a segment, or the transport bytes of an ICMP error's quote, cut
// anywhere). A header cut short is not an error: it is not Visible.
func ParseTCPMSS(b []byte) (TCPMSS, error) {
	if len(b) < 13 {
		return TCPMSS{}, nil
	}
	hl := int(b[12]>>4) * 4
	if hl < mtu.TCPHeader {
		return TCPMSS{}, fmt.Errorf("%w: data offset %d", ErrTCPOptions, hl)
	}
	if len(b) < hl {
		return TCPMSS{}, nil
	}
	r := TCPMSS{Visible: true}
	opts := b[mtu.TCPHeader:hl]
	for i := 0; i < len(opts); {
		switch kind := opts[i]; kind {
		case TCPOptEnd:
			return r, nil
		case TCPOptNOP:
			i++
			continue
		default:
			if i+1 >= len(opts) {
				return TCPMSS{}, fmt.Errorf("%w: option %d without a length", ErrTCPOptions, kind)
			}
			n := int(opts[i+1])
			if n < 2 || i+n > len(opts) {
				return TCPMSS{}, fmt.Errorf("%w: option %d of length %d", ErrTCPOptions, kind, n)
			}
			if kind == TCPOptMSS {
				if n != 4 {
					return TCPMSS{}, fmt.Errorf("%w: MSS option of length %d", ErrTCPOptions, n)
				}
				r.Present, r.MSS = true, int(binary.BigEndian.Uint16(opts[i+2:]))
			}
			i += n
		}
	}
	return r, nil
}

package wire

import (
	"encoding/binary"
	"net/netip"
	"testing"
)

// checksum is the Internet checksum of b (RFC 1071), with pseudo
// prefixed for ICMPv6.
func checksum(pseudo, b []byte) uint16 {
	var s uint32
	for _, p := range [][]byte{pseudo, b} {
		for i := 0; i+1 < len(p); i += 2 {
			s += uint32(binary.BigEndian.Uint16(p[i:]))
		}
		if len(p)%2 == 1 {
			s += uint32(p[len(p)-1]) << 8
		}
	}
	for s > 0xffff {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

// TestEchoPad builds Echo Requests of many sizes and sequence numbers with
// the pad at data offset 8 and checks that their checksums (IPv4: over
// the message; IPv6: with the pseudo-header) never change.
func TestEchoPad(t *testing.T) {
	src, dst := netip.MustParseAddr("2001:db8:1::1"), netip.MustParseAddr("2001:db8:2::1")
	for _, v6 := range []bool{false, true} {
		var first uint16
		n := 0
		for _, seq := range []int{0, 1, 2, 255, 256, 0x7fff, 0xfffe, 0xffff, 0x10001} {
			for _, dataLen := range []int{12, 40, 1232, 1452, 9000} {
				data := make([]byte, dataLen)
				copy(data, "cookie!!")
				binary.BigEndian.PutUint16(data[8:], EchoPad(v6, seq, 8+dataLen))
				b, err := MarshalEcho(v6, 0x1234, seq&0xffff, data)
				if err != nil {
					t.Fatal(err)
				}
				var pseudo []byte
				if v6 {
					pseudo = append(pseudo, src.AsSlice()...)
					pseudo = append(pseudo, dst.AsSlice()...)
					pseudo = binary.BigEndian.AppendUint32(pseudo, uint32(len(b)))
					pseudo = append(pseudo, 0, 0, 0, ProtoICMPv6)
				}
				b[2], b[3] = 0, 0
				sum := checksum(pseudo, b)
				if n == 0 {
					first = sum
				}
				n++
				if sum != first {
					t.Errorf("v6=%v seq %d data %d: checksum %#04x, want %#04x as for the first probe", v6, seq, dataLen, sum, first)
				}
			}
		}
	}
}

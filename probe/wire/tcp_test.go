package wire

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/pmtu/pmtu/mtu"
)

var (
	client4 = netip.MustParseAddr("198.18.1.1")
	client6 = netip.MustParseAddr("2001:db8:1::1")
	target4 = netip.MustParseAddr("198.18.3.2")
	target6 = netip.MustParseAddr("2001:db8:3::2")
)

// pseudoSum is the one's-complement sum of b with the pseudo-header: 0xffff
// for a segment whose checksum is right.
func pseudoSum(src, dst netip.Addr, b []byte) uint16 {
	ph := append(src.AsSlice(), dst.AsSlice()...)
	if dst.Is6() {
		ph = binary.BigEndian.AppendUint32(ph, uint32(len(b)))
		ph = append(ph, 0, 0, 0, ProtoTCP)
	} else {
		ph = append(ph, 0, ProtoTCP)
		ph = binary.BigEndian.AppendUint16(ph, uint16(len(b)))
	}
	var sum uint32
	all := append(ph, b...)
	if len(all)%2 == 1 {
		all = append(all, 0)
	}
	for i := 0; i < len(all); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(all[i:]))
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return uint16(sum)
}

func TestMarshalSYN(t *testing.T) {
	for _, tt := range []struct {
		name     string
		src, dst netip.Addr
		payload  int
	}{
		{"ipv4 empty", client4, target4, 0},
		{"ipv4 1460", client4, target4, 1460},
		{"ipv4 odd", client4, target4, 1001},
		{"ipv6 1440", client6, target6, 1440},
		{"ipv6 odd", client6, target6, 7},
	} {
		t.Run(tt.name, func(t *testing.T) {
			payload := ProbeData([8]byte{1, 2, 3, 4, 5, 6, 7, 8}, 3, tt.payload)
			b := MarshalSYN(tt.src, tt.dst, 50000, 443, 0xdeadbeef, payload)
			if len(b) != mtu.TCPHeader+tt.payload {
				t.Fatalf("%d bytes, want %d", len(b), mtu.TCPHeader+tt.payload)
			}
			if s := pseudoSum(tt.src, tt.dst, b); s != 0xffff {
				t.Errorf("checksum does not verify: sum %#04x", s)
			}
			seg, err := ParseTCP(b)
			if err != nil {
				t.Fatal(err)
			}
			want := TCPSegment{SrcPort: 50000, DstPort: 443, Seq: 0xdeadbeef, DataOff: 20, Flags: TCPSYN, Window: 64240,
				Checksum: binary.BigEndian.Uint16(b[16:]), Payload: payload}
			if diff := cmp.Diff(want, seg, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if seg.Kind() != "SYN" {
				t.Errorf("kind %q", seg.Kind())
			}
		})
	}
	// A segment whose checksum was worked out apart (RFC 1071 in Python).
	b := MarshalSYN(netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2"), 1234, 80, 1, nil)
	if got := binary.BigEndian.Uint16(b[16:]); got != knownSYNChecksum {
		t.Errorf("checksum %#04x, want %#04x", got, knownSYNChecksum)
	}
}

// knownSYNChecksum: 10.0.0.1:1234 > 10.0.0.2:80, seq 1, SYN, window 64240,
// no options, no data.
const knownSYNChecksum = 0x9bcc

func TestParseTCPErrors(t *testing.T) {
	good := MarshalSYN(client4, target4, 1, 2, 3, nil)
	for _, tt := range []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"short", good[:19]},
		{"data offset below 20", func() []byte { b := append([]byte(nil), good...); b[12] = 4 << 4; return b }()},
		{"data offset past the end", func() []byte { b := append([]byte(nil), good...); b[12] = 6 << 4; return b }()},
	} {
		if _, err := ParseTCP(tt.b); err == nil {
			t.Errorf("%s: parsed", tt.name)
		}
	}
}

// FuzzParseTCP: any bytes parse or fail without panicking; a SYN built
// from what parsed parses back the same.
func FuzzParseTCP(f *testing.F) {
	f.Add(MarshalSYN(client4, target4, 50000, 443, 1, []byte("payload")))
	f.Add(MarshalSYN(client6, target6, 50000, 443, 1, nil))
	f.Add([]byte{0, 1, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0x60, 0x12, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4})
	f.Fuzz(func(t *testing.T, b []byte) {
		seg, err := ParseTCP(b)
		if err != nil {
			return
		}
		if seg.DataOff < mtu.TCPHeader || seg.DataOff > len(b) || len(seg.Payload) != len(b)-seg.DataOff {
			t.Fatalf("parsed %+v from %d bytes", seg, len(b))
		}
		syn := MarshalSYN(client4, target4, seg.SrcPort, seg.DstPort, seg.Seq, seg.Payload)
		again, err := ParseTCP(syn)
		if err != nil || again.SrcPort != seg.SrcPort || again.DstPort != seg.DstPort || again.Seq != seg.Seq ||
			string(again.Payload) != string(seg.Payload) {
			t.Fatalf("round trip: %+v became %+v (%v)", seg, again, err)
		}
		if pseudoSum(client4, target4, syn) != 0xffff {
			t.Fatal("built a SYN with a bad checksum")
		}
	})
}

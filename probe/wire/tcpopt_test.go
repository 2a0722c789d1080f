package wire

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMarshalSYNMSS(t *testing.T) {
	for _, tt := range []struct {
		name string
		v6   bool
		mss  uint16
	}{
		{"ipv4 1460", false, 1460},
		{"ipv6 1440", true, 1440},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src, dst := client4, target4
			if tt.v6 {
				src, dst = client6, target6
			}
			b := MarshalSYNMSS(src, dst, 40000, 443, 0x01020304, tt.mss)
			if sum := pseudoSum(src, dst, b); sum != 0xffff {
				t.Errorf("checksum does not verify: sum %#04x", sum)
			}
			seg, err := ParseTCP(b)
			if err != nil {
				t.Fatal(err)
			}
			if seg.Kind() != "SYN" || seg.DataOff != 24 || seg.SrcPort != 40000 || seg.DstPort != 443 || seg.Seq != 0x01020304 {
				t.Errorf("segment %+v", seg)
			}
			got, err := ParseTCPMSS(b)
			if err != nil {
				t.Fatal(err)
			}
			if want := (TCPMSS{Visible: true, Present: true, MSS: int(tt.mss)}); got != want {
				t.Errorf("ParseTCPMSS = %+v, want %+v", got, want)
			}
		})
	}
}

func TestParseTCPMSS(t *testing.T) {
	syn := MarshalSYNMSS(client4, target4, 40000, 443, 7, 1300)
	withNOPs := append(append([]byte(nil), syn[:20]...), TCPOptNOP, TCPOptNOP, 4, 2, TCPOptMSS, 4, 0x05, 0xb4, TCPOptEnd, 0, 0, 0)
	withNOPs[12] = 8 << 4
	noMSS := append(append([]byte(nil), syn[:20]...), TCPOptNOP, TCPOptNOP, 4, 2)
	noMSS[12] = 6 << 4
	bare := append([]byte(nil), syn[:20]...)
	bare[12] = 5 << 4
	bad := func(opts ...byte) []byte {
		b := append(append([]byte(nil), syn[:20]...), opts...)
		b[12] = byte((20+len(opts))/4) << 4
		return b
	}
	for _, tt := range []struct {
		name    string
		b       []byte
		want    TCPMSS
		wantErr bool
	}{
		{"whole SYN", syn, TCPMSS{Visible: true, Present: true, MSS: 1300}, false},
		{"quoted 8 bytes (RFC 792 minimum)", syn[:8], TCPMSS{}, false},
		{"quoted 20 bytes: options cut", syn[:20], TCPMSS{}, false},
		{"quoted 28 bytes: header whole", append(append([]byte(nil), syn...), 0, 0, 0, 0), TCPMSS{Visible: true, Present: true, MSS: 1300}, false},
		{"NOPs, window scale, then MSS", withNOPs, TCPMSS{Visible: true, Present: true, MSS: 1460}, false},
		{"no MSS option: stripped", noMSS, TCPMSS{Visible: true}, false},
		{"no options at all", bare, TCPMSS{Visible: true}, false},
		{"data offset below 20", append([]byte(nil), syn[:12]...), TCPMSS{}, false},
		{"data offset 16", func() []byte { b := append([]byte(nil), syn...); b[12] = 4 << 4; return b }(), TCPMSS{}, true},
		{"option without length", bad(TCPOptNOP, TCPOptNOP, TCPOptNOP, 8), TCPMSS{}, true},
		{"option length 1", bad(8, 1, 0, 0), TCPMSS{}, true},
		{"option past the header", bad(8, 10, 0, 0), TCPMSS{}, true},
		{"MSS of length 3", bad(TCPOptMSS, 3, 5, TCPOptEnd), TCPMSS{}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseTCPMSS(tt.b)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, want error %v", err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, ErrTCPOptions) {
				t.Errorf("error %v does not wrap ErrTCPOptions", err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

// FuzzParseTCPMSS: never panics; a header it reads as Visible is whole
// in b, and a value it finds fits 16 bits. Seeds: SYNs quoted by real
// Linux routers' Time Exceeded (testdata/ip).
func FuzzParseTCPMSS(f *testing.F) {
	f.Add(MarshalSYNMSS(client4, target4, 1, 2, 3, 1460))
	f.Add(MarshalSYNMSS(client6, target6, 1, 2, 3, 1440)[:8])
	seeds, _ := filepath.Glob("testdata/ip/*.bin")
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		p, err := ParseIP(b)
		if err != nil {
			continue
		}
		if m, err := ParseMessage(p.Payload, p.IPv6()); err == nil && m.Quote != nil {
			f.Add(m.Quote.Transport)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseTCPMSS(b)
		if err != nil || !m.Visible {
			return
		}
		if hl := int(b[12]>>4) * 4; hl > len(b) {
			t.Fatalf("visible options of a %d-byte header in %d bytes", hl, len(b))
		}
		if m.MSS < 0 || m.MSS > 0xffff || (!m.Present && m.MSS != 0) {
			t.Fatalf("MSS %+v", m)
		}
	})
}

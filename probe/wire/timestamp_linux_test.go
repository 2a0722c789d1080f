package wire

import (
	"testing"
	"time"

	"github.com/pmtu/pmtu/internal/probetest"
)

func TestParseTimestamp(t *testing.T) {
	want := time.Date(2026, 11, 22, 18, 30, 0, 123456789, time.UTC)
	got, ok := ParseTimestamp(probetest.TimestampCmsg(want))
	if !ok || !got.Equal(want) {
		t.Fatalf("parseTimestamp = %v, %v; want %v", got, ok, want)
	}
	if _, ok := ParseTimestamp(nil); ok {
		t.Fatal("a timestamp found in no control message")
	}
	if _, ok := ParseTimestamp([]byte{1, 2, 3}); ok {
		t.Fatal("a timestamp found in a truncated control message")
	}
}

func TestStripIPv4Header(t *testing.T) {
	icmp := []byte{0, 0, 0, 0, 0x12, 0x34, 0, 1}
	withOptions := append(probetest.IPHeader(src4, dst4, 1, 32), 1, 1, 1, 0) // IHL 6: 4 bytes of options
	withOptions[0] = 4<<4 | 6
	for _, tt := range []struct {
		name string
		b    []byte
		want []byte
	}{
		{"plain header", append(probetest.IPHeader(src4, dst4, 1, 28), icmp...), icmp},
		{"header with options", append(withOptions, icmp...), icmp},
		{"not IPv4", icmp, icmp},
		{"header longer than the packet", []byte{0x4f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := append([]byte(nil), tt.b...)
			n := StripIPv4Header(b, len(b))
			if tt.want == nil {
				if n != len(tt.b) {
					t.Fatalf("cut a malformed packet to %d bytes", n)
				}
				return
			}
			if string(b[:n]) != string(tt.want) {
				t.Fatalf("got % x, want % x", b[:n], tt.want)
			}
		})
	}
}

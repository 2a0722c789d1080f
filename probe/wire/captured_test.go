package wire

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pmtu/pmtu/mtu"
)

// The packets in testdata/packets were read off a raw socket in a client
// namespace while pmtu probed through a Linux 6.18 router (198.18.0.2,
// 2001:db8::2) from 198.18.0.1 and 2001:db8::1: its own Frag Needed and
// Packet Too Big, nft reject rules (MTU 0, admin-prohibited, no route),
// ARP and ND failures, a TTL of 1, and the target's echo replies.
func TestParseCaptured(t *testing.T) {
	tests := []struct {
		file       string
		typ, code  int
		mtu        int
		quoteBytes int // quoted transport bytes, as Linux cuts the quote
	}{
		{"v4-frag-needed-1400", 3, 4, 1400, 528},
		{"v4-frag-needed-mtu0", 3, 4, 0, 528},
		{"v4-admin-prohibited", 3, 13, 0, 528},
		{"v4-net-unreachable", 3, 0, 0, 528},
		{"v4-host-unreachable", 3, 1, 0, 528},
		{"v4-time-exceeded", 11, 0, 0, 64},
		{"v4-echo-reply", 0, 0, 0, 0},
		{"v6-packet-too-big-1400", 2, 0, 1400, 1192},
		{"v6-admin-prohibited", 1, 1, 0, 1192},
		{"v6-no-route", 1, 0, 0, 1192},
		{"v6-address-unreachable", 1, 3, 0, 1192},
		{"v6-time-exceeded", 3, 0, 0, 64},
		{"v6-echo-reply", 129, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", "packets", tt.file+".bin"))
			if err != nil {
				t.Fatal(err)
			}
			ipv6 := strings.HasPrefix(tt.file, "v6")
			m, err := ParseMessage(b, ipv6)
			if err != nil {
				t.Fatal(err)
			}
			if m.Type != tt.typ || m.Code != tt.code || m.MTU != tt.mtu {
				t.Fatalf("type %d code %d MTU %d, want %d %d %d", m.Type, m.Code, m.MTU, tt.typ, tt.code, tt.mtu)
			}
			if tt.quoteBytes == 0 {
				if m.Quote != nil || len(m.Data) == 0 {
					t.Fatalf("echo reply parsed as an error, or without data")
				}
				return
			}
			q := m.Quote
			src, proto := netip.MustParseAddr("198.18.0.1"), 1
			if ipv6 {
				src, proto = netip.MustParseAddr("2001:db8::1"), 58
			}
			if q.Src != src || q.Proto != proto {
				t.Errorf("quote from %v proto %d; want from %v proto %d", q.Src, q.Proto, src, proto)
			}
			if min := mtu.Size(mtu.IPHeader(ipv6) + tt.quoteBytes); q.Length < min {
				t.Errorf("quoted length %d, but the quote itself holds %d bytes", q.Length, min)
			}
			if len(q.Transport) < tt.quoteBytes {
				t.Errorf("quote holds %d transport bytes, want at least %d", len(q.Transport), tt.quoteBytes)
			}
		})
	}
}

// seedCaptured adds every captured packet to a fuzz corpus.
func seedCaptured(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "packets", "*.bin"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, strings.HasPrefix(filepath.Base(name), "v6"))
	}
}

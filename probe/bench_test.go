package probe

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pmtu/pmtu/internal/probetest"
	"github.com/pmtu/pmtu/probe/wire"
)

// A router quoting 548 bytes, as Linux does: the parser's common case.
func BenchmarkParseFragNeeded(b *testing.B) {
	pkt, err := os.ReadFile(filepath.Join("testdata", "packets", "v4-frag-needed-1400.bin"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(pkt)))
	for b.Loop() {
		if _, err := wire.ParseMessage(pkt, false); err != nil {
			b.Fatal(err)
		}
	}
}

// The whole decision on one received packet: parse, match, validate.
// Every packet a raw socket sees goes through it, other programs' too.
func BenchmarkClassifyForeign(b *testing.B) {
	c := NewICMPConn(nil, dst4, &ICMPConfig{Src: src4, ID: 0x1234})
	probe, _ := c.marshal(wire.Probe{Seq: 1, Size: 1500})
	c.flight.add(1, 1500)
	forged := probetest.Error(false, 3, 4, 40, append(probetest.IPHeader(src4, dst4, 1, 1500), probe...))
	from := netip.MustParseAddr("198.18.9.9")
	b.ReportAllocs()
	for b.Loop() {
		if ev := c.classify(forged, from); ev.Kind != wire.Ignored {
			b.Fatal("forged message believed")
		}
	}
}

// A whole search, engine and all, over fake networks: the CPU and memory
// one pmtu run costs, without the waiting.
func BenchmarkDiscover(b *testing.B) {
	for _, bm := range []struct {
		name string
		hops []probetest.Hop
	}{
		{"chain-3-drops", chain(false).Hops},
		{"black-hole", []probetest.Hop{{Addr: netip.MustParseAddr("198.18.0.2"), MTU: 1300, Silent: true}}},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p := &probetest.Path{Src: src4, Dst: dst4, RTT: time.Millisecond, Hops: bm.hops, Clock: probetest.NewClock()}
				c := NewICMPConn(p.Conn(), dst4, &ICMPConfig{Src: src4, Now: p.Clock.Now})
				if _, err := Discover(context.Background(), c, &Config{Ceil: 1500, Now: p.Clock.Now}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

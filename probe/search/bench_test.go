package search

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/pmtu/pmtu/internal/probetest"
	"github.com/pmtu/pmtu/probe/transport"
)

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
				c := transport.NewICMPConn(p.Conn(), dst4, &transport.ICMPConfig{Src: src4, Now: p.Clock.Now})
				if _, err := Discover(context.Background(), c, &Config{Ceil: 1500, Now: p.Clock.Now}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

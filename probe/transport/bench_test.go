package transport

import (
	"net/netip"
	"testing"

	"github.com/pmtu/pmtu/internal/probetest"
	"github.com/pmtu/pmtu/probe/wire"
)

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

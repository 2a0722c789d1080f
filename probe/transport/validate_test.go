package transport

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/pmtu/pmtu/internal/probetest"
	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/probe/wire"
)

// TestClassify checks every rule for believing a packet (RFC 5927,
// RFC 8899 §4.6) on one probe in flight: seq 1, 1500 bytes.
func TestClassify(t *testing.T) {
	router := netip.MustParseAddr("198.18.1.2")
	sent := func(t *testing.T) (*ICMPConn, []byte) {
		c := NewICMPConn(nil, dst4, &ICMPConfig{Src: src4, ID: 0x1234})
		b, err := c.marshal(wire.Probe{Seq: 1, Size: 1500})
		if err != nil {
			t.Fatal(err)
		}
		c.flight.add(1, 1500)
		return c, append(probetest.IPHeader(src4, dst4, 1, 1500), b...)
	}
	reply := func(b []byte) []byte { r := append([]byte(nil), b[20:]...); r[0] = 0; return r }
	tests := []struct {
		name   string
		from   netip.Addr
		build  func(probe []byte) []byte
		kind   wire.EventKind
		mtu    mtu.Size
		reason string // substring of Why for wire.Ignored
	}{
		{"frag needed", router, func(p []byte) []byte { return probetest.Error(false, 3, 4, 1400, p) }, wire.TooBig, 1400, ""},
		{"frag needed mtu 0", router, func(p []byte) []byte { return probetest.Error(false, 3, 4, 0, p) }, wire.TooBig, 0, ""},
		{"echo reply", dst4, reply, wire.Reached, 0, ""},
		{"admin prohibited", router, func(p []byte) []byte { return probetest.Error(false, 3, 13, 0, p[:28]) }, wire.Unreachable, 0, ""},
		{"time exceeded", router, func(p []byte) []byte { return probetest.Error(false, 11, 0, 0, p) }, wire.TimeExceeded, 0, ""},
		{"mtu not below probe", router, func(p []byte) []byte { return probetest.Error(false, 3, 4, 1500, p) }, wire.Ignored, 0, "not below"},
		{"mtu above probe", router, func(p []byte) []byte { return probetest.Error(false, 3, 4, 9000, p) }, wire.Ignored, 0, "not below"},
		{"mtu below floor", router, func(p []byte) []byte { return probetest.Error(false, 3, 4, 40, p) }, wire.Ignored, 0, "below the floor"},
		{"seq never sent", router, func(p []byte) []byte { p[20+7] = 9; return probetest.Error(false, 3, 4, 1400, p) }, wire.Ignored, 0, "never sent"},
		{"other program's echo", router, func(p []byte) []byte { p[20+5] = 0x99; return probetest.Error(false, 3, 4, 1400, p) }, wire.Ignored, 0, "another program"},
		{"quoted length differs", router, func(p []byte) []byte { p[2], p[3] = 0x05, 0x00; return probetest.Error(false, 3, 4, 1000, p) }, wire.Ignored, 0, "quotes a 1280-byte"},
		{"quote from elsewhere", router, func(p []byte) []byte { p[15] = 99; return probetest.Error(false, 3, 4, 1400, p) }, wire.Ignored, 0, "not from us"},
		{"quote to elsewhere", router, func(p []byte) []byte { p[19] = 99; return probetest.Error(false, 3, 4, 1400, p) }, wire.Ignored, 0, "not the target"},
		{"quote of udp", router, func(p []byte) []byte { p[9] = 17; return probetest.Error(false, 3, 4, 1400, p) }, wire.Ignored, 0, "protocol 17"},
		{"forged cookie", router, func(p []byte) []byte { p[28] ^= 0xff; return probetest.Error(false, 3, 4, 1400, p) }, wire.Ignored, 0, "cookie"},
		{"from this host", src4, func(p []byte) []byte { return probetest.Error(false, 3, 4, 1400, p) }, wire.Ignored, 0, "this host"},
		{"echo reply from elsewhere", router, reply, wire.Ignored, 0, "not the target"},
		{"echo reply of another program", dst4, func(p []byte) []byte { r := reply(p); r[5] = 0x99; return r }, wire.Ignored, 0, "another program"},
		{"echo reply without cookie", dst4, func(p []byte) []byte { r := reply(p); r[8] ^= 0xff; return r }, wire.Ignored, 0, "cookie"},
		{"echo reply cut short", dst4, func(p []byte) []byte { return reply(p)[:100] }, wire.Ignored, 0, "bytes for a probe"},
		{"our own echo request", dst4, func(p []byte) []byte { return p[20:] }, wire.Ignored, 0, "not an Echo Reply"},
		{"truncated", router, func(p []byte) []byte { return probetest.Error(false, 3, 4, 1400, p)[:30] }, wire.Ignored, 0, "truncated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, p := sent(t)
			ev := c.classify(tt.build(p), tt.from)
			if ev.Kind != tt.kind || ev.MTU != tt.mtu {
				t.Fatalf("got %v MTU %d (%s), want %v MTU %d", ev.Kind, ev.MTU, ev.Why, tt.kind, tt.mtu)
			}
			if tt.kind == wire.Ignored && !strings.Contains(ev.Why, tt.reason) {
				t.Fatalf("reason %q, want it to say %q", ev.Why, tt.reason)
			}
			if tt.kind != wire.Ignored && ev.Seq != 1 {
				t.Fatalf("seq %d, want 1", ev.Seq)
			}
		})
	}
}

func TestClassifyDuplicate(t *testing.T) {
	c := NewICMPConn(nil, dst4, &ICMPConfig{Src: src4, ID: 0x1234})
	b, _ := c.marshal(wire.Probe{Seq: 1, Size: 1500})
	c.flight.add(1, 1500)
	fn := probetest.Error(false, 3, 4, 1400, append(probetest.IPHeader(src4, dst4, 1, 1500), b...))
	if ev := c.classify(fn, dst4.Prev()); ev.Kind != wire.TooBig {
		t.Fatalf("first: %v (%s)", ev.Kind, ev.Why)
	}
	if ev := c.classify(fn, dst4.Prev()); ev.Kind != wire.Ignored || !strings.Contains(ev.Why, "duplicate") {
		t.Fatalf("second: %v (%s), want ignored as a duplicate", ev.Kind, ev.Why)
	}
}

package transport

import (
	"net/netip"
	"testing"
	"time"

	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/probe/wire"
)

// TestMeshStraySignal: an error from the error queue about a probe of a
// search that has ended goes to MeshConfig.Signal when a search would
// have believed it as a Fragmentation Needed or Packet Too Big, and
// nowhere when it is anything else; an error about an open search's probe
// goes to that search, not to Signal. A fake socket: the arrivals are
// made here, as the reader would hand them over.
func TestMeshStraySignal(t *testing.T) {
	peer4, router4 := netip.MustParseAddr("198.18.2.10"), netip.MustParseAddr("198.18.1.2")
	peer6, router6 := netip.MustParseAddr("2001:db8:2::10"), netip.MustParseAddr("2001:db8:1::2")
	self4 := netip.MustParseAddr("198.18.1.1")
	probe := func(size int, v6 bool) []byte {
		n := size - mtu.IPHeader(v6) - mtu.UDPHeader
		b, err := wire.MarshalMeshProbe(wire.MeshMessage{Nonce: wire.MeshNonce{0xee}, Sent: time.Unix(1, 0), Size: uint32(size)}, n, nil)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	fragNeeded := func(from netip.Addr, named uint32) wire.ExtendedErr {
		return wire.ExtendedErr{Origin: wire.OriginICMP, Type: wire.ICMPv4DstUnreach, Code: wire.ICMPv4FragNeeded, Info: named, Offender: from}
	}
	type signal struct {
		peer        netip.Addr
		size, named mtu.Size
	}
	tests := []struct {
		name string
		v6   bool
		a    arrival
		want []signal
	}{
		{"Frag Needed from a router", false,
			arrival{src: fromErrQueue, to: peer4, b: probe(1500, false), ee: fragNeeded(router4, 1400)},
			[]signal{{peer4, 1500, 1400}}},
		{"Frag Needed without an MTU (pre-RFC 1191)", false,
			arrival{src: fromErrQueue, to: peer4, b: probe(1500, false), ee: fragNeeded(router4, 0)},
			[]signal{{peer4, 1500, 0}}},
		{"Packet Too Big", true,
			arrival{src: fromErrQueue, to: peer6, b: probe(1500, true), ee: wire.ExtendedErr{Origin: wire.OriginICMP6, Type: wire.ICMPv6PacketTooBig, Info: 1400, Offender: router6}},
			[]signal{{peer6, 1500, 1400}}},
		{"an MTU not below the probe", false,
			arrival{src: fromErrQueue, to: peer4, b: probe(1400, false), ee: fragNeeded(router4, 1400)}, nil},
		{"an MTU below the floor", false,
			arrival{src: fromErrQueue, to: peer4, b: probe(1400, false), ee: fragNeeded(router4, 60)}, nil},
		{"Packet Too Big of MTU 0", true,
			arrival{src: fromErrQueue, to: peer6, b: probe(1500, true), ee: wire.ExtendedErr{Origin: wire.OriginICMP6, Type: wire.ICMPv6PacketTooBig, Offender: router6}}, nil},
		{"a Port Unreachable", false,
			arrival{src: fromErrQueue, to: peer4, b: probe(1500, false), ee: wire.ExtendedErr{Origin: wire.OriginICMP, Type: wire.ICMPv4DstUnreach, Code: wire.ICMPv4PortUnreach, Offender: peer4}}, nil},
		{"the kernel's own EMSGSIZE", false,
			arrival{src: fromErrQueue, to: peer4, b: probe(1500, false), ee: wire.ExtendedErr{Origin: wire.OriginLocal, Info: 1400}}, nil},
		{"from this host", false,
			arrival{src: fromErrQueue, to: peer4, b: probe(1500, false), ee: fragNeeded(self4, 1400)}, nil},
		{"no destination known", false,
			arrival{src: fromErrQueue, b: probe(1500, false), ee: fragNeeded(router4, 1400)}, nil},
		{"an ICMPv4 error on the IPv6 socket", true,
			arrival{src: fromErrQueue, to: peer6, b: probe(1500, true), ee: fragNeeded(router6, 1400)}, nil},
		{"not a mesh probe", false,
			arrival{src: fromErrQueue, to: peer4, b: []byte("not a probe, not at all, nothing like one"), ee: fragNeeded(router4, 1400)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []signal
			s := &MeshSocket{v6: tt.v6, conns: map[meshID]*MeshConn{},
				isLocal: func(a netip.Addr) bool { return a == self4 || a.IsLoopback() },
				signal:  func(p netip.Addr, size, named mtu.Size) { got = append(got, signal{p, size, named}) }}
			s.dispatch(tt.a)
			if len(got) != len(tt.want) || (len(got) == 1 && got[0] != tt.want[0]) {
				t.Errorf("signals %+v, want %+v", got, tt.want)
			}
			if s.stats.Signals.Load() != uint64(len(tt.want)) {
				t.Errorf("Stats().Signals %d, want %d", s.stats.Signals.Load(), len(tt.want))
			}
		})
	}
	t.Run("a search still open", func(t *testing.T) {
		var got int
		s := &MeshSocket{conns: map[meshID]*MeshConn{}, isLocal: func(netip.Addr) bool { return false },
			signal: func(netip.Addr, mtu.Size, mtu.Size) { got++ }}
		c := &MeshConn{s: s, id: meshID{0xee}, in: newInbox()}
		s.conns[c.id] = c
		s.dispatch(arrival{src: fromErrQueue, to: peer4, b: probe(1500, false), ee: fragNeeded(router4, 1400)})
		if got != 0 || len(c.in.ch) != 1 {
			t.Errorf("%d signals, %d arrivals for the open search; want 0 and 1", got, len(c.in.ch))
		}
	})
}

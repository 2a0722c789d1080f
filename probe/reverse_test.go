package probe

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pmtu/pmtu/internal/probetest"
	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/probe/search"
	"github.com/pmtu/pmtu/probe/transport"
	"github.com/pmtu/pmtu/probe/wire"
)

// asymNetwork is a fake network where Echo probes see a black hole at
// echoMTU and small-answer (UDP) probes one at udpMTU: with echoMTU below
// udpMTU, the Echo Replies are what vanish, on the way back. opened
// counts the conns opened of each protocol.
func asymNetwork(echoMTU, udpMTU int, opened map[Proto]int) *network {
	clock := probetest.NewClock()
	src, dst := netip.MustParseAddr("2001:db8:1::1"), netip.MustParseAddr("2001:db8:2::2")
	nw := fakeNetwork(clock, &probetest.Path{Src: src, Dst: dst})
	nw.open = func(p Proto, dst netip.Addr, _ *transport.OpenConfig) (wire.Conn, Method, error) {
		opened[p]++
		limit, m := echoMTU, MethodICMP
		if p == ProtoUDP {
			limit, m = udpMTU, MethodUDP
		}
		silent := probetest.Hop{Addr: netip.MustParseAddr("2001:db8:1::2"), MTU: limit, Silent: true}
		path := &probetest.Path{Src: src, Dst: dst, RTT: time.Millisecond, Clock: clock, Hops: []probetest.Hop{silent}}
		return transport.NewICMPConn(path.Conn(), dst, &transport.ICMPConfig{Src: src, Now: clock.Now}), m, nil
	}
	return nw
}

func TestFindBlackHoleDirection(t *testing.T) {
	type got struct {
		PMTU          mtu.Size
		Direction     string
		Return        ReturnBounds
		ForwardMethod Method
		Opened        map[Proto]int
	}
	tests := []struct {
		name            string
		echoMTU, udpMTU int
		noReverse       bool
		want            got
	}{
		{"replies lost on the way back: the forward MTU from UDP", 1300, 1500, false, got{
			PMTU: 1500, Direction: BlackHoleReturn,
			Return: ReturnBounds{Min: 1300, Max: 1300, Evidence: search.ReturnLost},
			// One UDP conn for the cross-check, one for the forward search.
			ForwardMethod: MethodUDP, Opened: map[Proto]int{ProtoICMP: 1, ProtoUDP: 2}}},
		{"probes lost on the way out", 1400, 1400, false, got{
			PMTU: 1400, Direction: BlackHoleForward,
			Return: ReturnBounds{Min: 1400, Evidence: search.ReturnWhole},
			Opened: map[Proto]int{ProtoICMP: 1, ProtoUDP: 1}}},
		{"--no-reverse: no second method, direction unknown", 1300, 1500, true, got{
			PMTU:   1300,
			Return: ReturnBounds{Min: 1300, Evidence: search.ReturnWhole},
			Opened: map[Proto]int{ProtoICMP: 1}}},
		{"no black hole: no second method", 1500, 1500, false, got{
			PMTU:   1500,
			Return: ReturnBounds{Min: 1500, Evidence: search.ReturnWhole},
			Opened: map[Proto]int{ProtoICMP: 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opened := map[Proto]int{}
			o := &Options{NoReverse: tt.noReverse, sys: asymNetwork(tt.echoMTU, tt.udpMTU, opened)}
			res, err := Find(context.Background(), "2001:db8:2::2", o)
			if err != nil {
				t.Fatal(err)
			}
			g := got{PMTU: res.PMTU, Direction: res.BlackHoleDirection, Return: res.Return, ForwardMethod: res.ForwardMethod, Opened: opened}
			if diff := cmp.Diff(tt.want, g); diff != "" {
				t.Errorf("Find (-want +got):\n%s", diff)
			}
			if tt.echoMTU < 1500 && !res.Silence {
				t.Errorf("Silence false: the black hole is no longer reported")
			}
		})
	}
}

// Over UDP the answers are small: a black hole is forward, with no probe
// more, and the replies say nothing of the way back.
func TestFindUDPBlackHoleIsForward(t *testing.T) {
	opened := map[Proto]int{}
	o := &Options{Proto: ProtoUDP, sys: asymNetwork(1400, 1400, opened)}
	res, err := Find(context.Background(), "2001:db8:2::2", o)
	if err != nil {
		t.Fatal(err)
	}
	want := ReturnBounds{Evidence: search.ReturnUnknown}
	if diff := cmp.Diff(want, res.Return); diff != "" || res.BlackHoleDirection != BlackHoleForward || opened[ProtoUDP] != 1 {
		t.Errorf("direction %q, opened %v; return (-want +got):\n%s", res.BlackHoleDirection, opened, diff)
	}
}

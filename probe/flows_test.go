package probe

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pmtu/pmtu/internal/probetest"
	"github.com/pmtu/pmtu/probe/ecmp"
	"github.com/pmtu/pmtu/probe/transport"
	"github.com/pmtu/pmtu/probe/wire"
	"github.com/pmtu/pmtu/route"
)

// ecmpNetwork is a diamond behind 198.18.1.2: flows whose pinned port is
// odd take the branch through 198.18.3.2, which says 1400; even ones the
// branch through 198.18.4.2, which carries 1500. Each flow's search runs
// on a clock of its own, as flows run side by side.
func ecmpNetwork(dst netip.Addr) *network {
	src := netip.MustParseAddr("198.18.1.1")
	return &network{
		resolve:         resolve,
		localAddrs:      func() func(netip.Addr) bool { return func(a netip.Addr) bool { return a == src || a.IsLoopback() } },
		interfaceByName: func(string) (*net.Interface, error) { return nil, errors.New("no such interface") },
		route: func(_ context.Context, d netip.Addr) (route.Route, error) {
			return route.Route{Dst: d, Src: src, IfIndex: 2, IfName: "veth0", IfMTU: 1500, Type: route.Unicast}, nil
		},
		open: func(_ Proto, d netip.Addr, cfg *transport.OpenConfig) (wire.Conn, Method, error) {
			clock := probetest.NewClock()
			hops := []probetest.Hop{{Addr: netip.MustParseAddr("198.18.1.2"), MTU: 1500}, {Addr: netip.MustParseAddr("198.18.4.2"), MTU: 1500}}
			if cfg.Flow%2 == 1 {
				hops[1] = probetest.Hop{Addr: netip.MustParseAddr("198.18.3.2"), MTU: 1400}
			}
			p := &probetest.Path{Src: src, Dst: d, Hops: hops, RTT: time.Millisecond, Clock: clock}
			return transport.NewICMPConn(p.Conn(), d, &transport.ICMPConfig{Src: src, ID: cfg.Flow, Now: clock.Now}), MethodUDP, nil
		},
		now: time.Now,
	}
}

func TestFindFlows(t *testing.T) {
	dst := netip.MustParseAddr("198.18.5.1")
	o := &Options{Proto: ProtoUDP, Wait: 50 * time.Millisecond, sys: ecmpNetwork(dst)}
	tg, err := Lookup(context.Background(), dst.String(), o)
	if err != nil {
		t.Fatal(err)
	}
	fr, err := tg.FindFlows(context.Background(), 6)
	if err != nil {
		t.Fatal(err)
	}
	want := []ecmp.Branch{
		{PMTU: 1400, Flows: []int{1, 3, 5}, Hops: []netip.Addr{netip.MustParseAddr("198.18.3.2")}},
		{PMTU: 1500, Flows: []int{2, 4, 6}},
	}
	if diff := cmp.Diff(want, fr.Branches, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("branches (-want +got):\n%s", diff)
	}
	if fr.PMTU != 1400 {
		t.Errorf("PMTU %d, want 1400, the smallest branch's", fr.PMTU)
	}
	for i, r := range fr.Flows {
		if want := uint16(FlowBase + i + 1); r.Flow.EchoID != want {
			t.Errorf("flow %d probed with %v, want id %d", i+1, r.Flow, want)
		}
	}
}

func TestFindFlowsRefuses(t *testing.T) {
	dst := netip.MustParseAddr("198.18.5.1")
	for _, tt := range []struct {
		name  string
		proto Proto
		n     int
	}{
		{"icmp", ProtoICMP, 4},
		{"no flows", ProtoUDP, 0},
		{"too many", ProtoUDP, MaxFlow + 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tg, err := Lookup(context.Background(), dst.String(), &Options{Proto: tt.proto, sys: ecmpNetwork(dst)})
			if err != nil {
				t.Fatal(err)
			}
			_, err = tg.FindFlows(context.Background(), tt.n)
			var ie *InputError
			if !errors.As(err, &ie) || ie.Option != "flows" {
				t.Errorf("FindFlows(%d, %s): %v, want an InputError about flows", tt.n, tt.proto, err)
			}
		})
	}
}

func TestTraceFlows(t *testing.T) {
	dst := netip.MustParseAddr("198.18.5.1")
	tg, err := Lookup(context.Background(), dst.String(), &Options{Proto: ProtoUDP, Wait: 50 * time.Millisecond, sys: ecmpNetwork(dst)})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := tg.TraceFlows(context.Background(), 8, 4)
	if err != nil {
		t.Fatal(err)
	}
	type seen struct {
		Addr  string
		PMTU  int
		Flows []int
	}
	var got [][]seen
	for _, h := range tr.Hops {
		var s []seen
		for _, b := range h.Seen {
			s = append(s, seen{b.Addr.String(), int(b.PMTU), b.Flows})
		}
		got = append(got, s)
	}
	want := [][]seen{
		{{"198.18.1.2", 1500, []int{1, 2, 3, 4}}},
		{{"198.18.3.2", 1500, []int{1, 3}}, {"198.18.4.2", 1500, []int{2, 4}}},
		{{"198.18.5.1", 1400, []int{1, 3}}, {"198.18.5.1", 1500, []int{2, 4}}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("hops (-want +got):\n%s", diff)
	}
}

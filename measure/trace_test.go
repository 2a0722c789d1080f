package measure

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pmtu/pmtu/probe"
)

var (
	r1 = netip.MustParseAddr("198.18.1.2")
	r2 = netip.MustParseAddr("198.18.2.2")
)

// Names are looked up in the background; a slow lookup does not hold the
// report longer than NameWait.
func TestTraceNames(t *testing.T) {
	savedWait := NameWait
	defer func() { NameWait = savedWait }()
	NameWait = 50 * time.Millisecond
	lookup := func(ctx context.Context, addr string) ([]string, error) {
		if addr == r2.String() {
			<-ctx.Done() // a lookup that never answers
			return nil, ctx.Err()
		}
		return []string{"r1.example."}, nil
	}
	n := newNamer(context.Background(), lookup, true)
	n.start(r1)
	n.start(r2)
	n.start(r1)
	got := n.wait()
	if diff := cmp.Diff(map[netip.Addr]string{r1: "r1.example"}, got); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
	if off := newNamer(context.Background(), lookup, false); len(func() map[netip.Addr]string { off.start(r1); return off.wait() }()) != 0 {
		t.Error("-n looked a name up")
	}
}

// The target's own answer is labelled by the method that earned it: a TCP
// SYN-ACK is no ICMP (null), an Echo Reply is named so whatever type the
// socket gave it, and a UDP walk's Port Unreachable stays as read.
func TestTraceAnsweredBy(t *testing.T) {
	pu := &TraceICMP{Type: 3, Code: 3, Name: "port unreachable"}
	zero := &TraceICMP{Type: 0, Name: "unknown ICMPv6 type 0 code 0"}
	tests := []struct {
		method probe.Method
		family string
		in     *TraceICMP
		want   *TraceICMP
	}{
		{probe.MethodTCP, "ipv6", zero, nil},
		{probe.MethodTCP, "ipv4", &TraceICMP{Name: "echo reply"}, nil},
		{probe.MethodPing, "ipv6", zero, &TraceICMP{Type: 129, Name: "echo reply"}},
		{probe.MethodICMP, "ipv4", &TraceICMP{Name: "echo reply"}, &TraceICMP{Type: 0, Name: "echo reply"}},
		{probe.MethodUDP, "ipv4", pu, pu},
	}
	for _, tt := range tests {
		r := &TraceReport{Family: tt.family, Hops: []TraceHop{
			{TTL: 1, Reply: "time_exceeded", ICMP: &TraceICMP{Type: 11, Name: "time exceeded"}},
			{TTL: 2, Reply: "reached", ICMP: tt.in},
		}}
		r.answeredBy(tt.method)
		if diff := cmp.Diff(tt.want, r.Hops[1].ICMP); diff != "" {
			t.Errorf("%s %s: reached hop's icmp (-want +got):\n%s", tt.method, tt.family, diff)
		}
		if r.Hops[0].ICMP == nil || r.Hops[0].ICMP.Type != 11 {
			t.Errorf("%s: a router's Time Exceeded was changed: %+v", tt.method, r.Hops[0].ICMP)
		}
	}
}

package main

import (
	"net/netip"
	"testing"

	"github.com/pmtu/pmtu/probe"
	"github.com/pmtu/pmtu/probe/search"
)

// black_hole says sizes above the answer vanished with no ICMP at all: a
// silent search whose routers named a size is no black hole.
func TestReportBlackHole(t *testing.T) {
	named := probe.Event{Kind: probe.TooBig, From: netip.MustParseAddr("198.18.1.2"), Type: 3, Code: 4, MTU: 1400}
	tests := []struct {
		name string
		res  search.Result
		want bool
	}{
		{"silence, no ICMP", search.Result{PMTU: 1300, Confirmed: true, Lo: 1300, Hi: 1301, Silence: true}, true},
		{"silence after an ICMP", search.Result{PMTU: 1300, Confirmed: true, Lo: 1300, Hi: 1301, Silence: true, Events: []probe.Event{named}}, false},
		{"ICMP named the answer", search.Result{PMTU: 1400, Confirmed: true, Lo: 1400, Hi: 1401, Events: []probe.Event{named}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &report{Family: "ipv4", InterfaceMTU: 1500}
			r.fromResult(&tt.res, 1500)
			if r.BlackHole != tt.want {
				t.Errorf("black_hole = %v, want %v", r.BlackHole, tt.want)
			}
		})
	}
}

package main

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"

	"github.com/pmtu/pmtu/measure"
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
			r := &measure.Report{Family: "ipv4", InterfaceMTU: 1500}
			r.FromResult(&tt.res, 1500)
			if r.BlackHole != tt.want {
				t.Errorf("black_hole = %v, want %v", r.BlackHole, tt.want)
			}
		})
	}
}

// A search whose rate-limited answers stopped says so, with what was
// proved and how many rounds were not counted; the JSON carries
// voided_rounds.
func TestReportAnswersStopped(t *testing.T) {
	res := &search.Result{Lo: 1360, Hi: 1501, Voided: 12}
	r := &measure.Report{Family: "ipv4", InterfaceMTU: 1500}
	r.FromResult(res, 1500)
	r.ExplainFailure(probe.ErrAnswersStopped, "198.19.0.3", res)
	for _, want := range []string{"198.19.0.3 stopped answering", "in 12 rounds", "1360 ≤ path MTU ≤ 1500", "--proto icmp"} {
		if !strings.Contains(r.Error, want) {
			t.Errorf("error %q does not say %q", r.Error, want)
		}
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"voided_rounds":12`) {
		t.Errorf("JSON without voided_rounds 12: %s", b)
	}
	r.Voided = 0
	if b, _ := json.Marshal(r); strings.Contains(string(b), "voided_rounds") {
		t.Errorf("voided_rounds present when no round was voided: %s", b)
	}
}

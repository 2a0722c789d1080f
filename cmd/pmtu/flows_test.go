package main

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pmtu/pmtu/measure"
	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/probe"
	"github.com/pmtu/pmtu/probe/ecmp"
	"github.com/pmtu/pmtu/probe/search"
)

// diamondFlows is what 4 flows found on a diamond: flows 1 and 3 the
// 1400 branch (named by 198.18.3.2), flow 2 the 1500 one, flow 4 nothing.
func diamondFlows() *probe.FlowsResult {
	hop := netip.MustParseAddr("198.18.3.2")
	res := func(id int, pmtu uint16, byICMP bool) *probe.Result {
		r := &probe.Result{Method: probe.MethodUDP, Flow: probe.Flow{SrcPort: uint16(probe.FlowBase + id)}}
		r.Result = search.Result{PMTU: mtu.Size(pmtu), Confirmed: pmtu != 0}
		if byICMP {
			r.ByICMP, r.LimitingHop = true, hop
		}
		return r
	}
	return &probe.FlowsResult{
		Flows: []*probe.Result{res(1, 1400, true), res(2, 1500, false), res(3, 1400, true), res(4, 0, false)},
		Errs:  []error{nil, nil, nil, probe.ErrNoReply},
		Branches: []ecmp.Branch{
			{PMTU: 1400, Flows: []int{1, 3}, Hops: []netip.Addr{hop}},
			{PMTU: 1500, Flows: []int{2}},
		},
		PMTU: 1400,
	}
}

func TestFlowsReportText(t *testing.T) {
	rep := &measure.Report{Target: "t", Address: "198.18.9.1", Family: "ipv4", Interface: "veth1a", InterfaceMTU: 1500}
	fj := measure.FlowsReportOf(diamondFlows(), rep, 4)
	var b bytes.Buffer
	if err := writeFlowsText(&b, fj, true); err != nil {
		t.Fatal(err)
	}
	want := `path MTU to t (198.18.9.1): 1400, the smallest of 2 branches on 4 flows (udp)
  1400 on 2 of 4 flows (198.18.3.2 said 1400): flows 1 3
  1500 on 1 of 4 flows: flows 2
  no answer on 1 of 4 flows
  4 flows cannot rule out a branch carrying half of them at 95%; the MDA stopping rule rules out branch 3 at 95% with 11 flows
  TCP MSS 1360 on every branch
  flow 1 (source port 40001): 1400, named by 198.18.3.2
  flow 2 (source port 40002): 1500, proved by probes
  flow 3 (source port 40003): 1400, named by 198.18.3.2
  flow 4 (source port 40004): no reply at any size
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("text (-want +got):\n%s", diff)
	}
}

func TestFlowsReportJSON(t *testing.T) {
	rep := &measure.Report{Target: "t", Address: "198.18.9.1", Family: "ipv4", Interface: "veth1a", InterfaceMTU: 1500}
	fj := measure.FlowsReportOf(diamondFlows(), rep, 4)
	b, err := json.Marshal(fj)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		PMTU  int `json:"pmtu"`
		Flows []struct {
			ID          int    `json:"id"`
			SrcPort     int    `json:"src_port"`
			PMTU        int    `json:"pmtu"`
			LimitingHop string `json:"limiting_hop"`
			Evidence    string `json:"evidence"`
			Error       string `json:"error"`
		} `json:"flows"`
		Branches []struct {
			PMTU  int      `json:"pmtu"`
			Flows []int    `json:"flows"`
			Hops  []string `json:"limiting_hops"`
		} `json:"branches"`
		Confidence struct {
			K        int `json:"k"`
			MDAFlows int `json:"mda_flows"`
		} `json:"confidence"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := got
	want.PMTU = 1400
	want.Flows = []struct {
		ID          int    `json:"id"`
		SrcPort     int    `json:"src_port"`
		PMTU        int    `json:"pmtu"`
		LimitingHop string `json:"limiting_hop"`
		Evidence    string `json:"evidence"`
		Error       string `json:"error"`
	}{
		{1, 40001, 1400, "198.18.3.2", "icmp", ""},
		{2, 40002, 1500, "", "probes", ""},
		{3, 40003, 1400, "198.18.3.2", "icmp", ""},
		{4, 40004, 0, "", "", "no reply at any size"},
	}
	want.Branches = []struct {
		PMTU  int      `json:"pmtu"`
		Flows []int    `json:"flows"`
		Hops  []string `json:"limiting_hops"`
	}{{1400, []int{1, 3}, []string{"198.18.3.2"}}, {1500, []int{2}, []string{}}}
	want.Confidence.K, want.Confidence.MDAFlows = 0, 11
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("JSON (-want +got):\n%s\n%s", diff, b)
	}
}

func TestTraceFlowsReportText(t *testing.T) {
	r1, r2a, r2b, dst := netip.MustParseAddr("198.18.1.2"), netip.MustParseAddr("198.18.2.2"), netip.MustParseAddr("198.18.3.2"), netip.MustParseAddr("198.18.9.1")
	tg := &probe.Target{Host: "t", Addr: dst}
	trace := func(id int, pmtu uint16, reached bool) *probe.TraceResult {
		r := &probe.TraceResult{Method: probe.MethodUDP, Flow: probe.Flow{SrcPort: uint16(probe.FlowBase + id)}}
		r.PMTU, r.Reached = mtu.Size(pmtu), reached
		return r
	}
	tr := &probe.TraceFlowsResult{
		Target: tg,
		Traces: []*probe.TraceResult{trace(1, 1400, true), trace(2, 1500, true), trace(3, 1500, false)},
		Errs:   []error{nil, nil, nil},
		Hops: []ecmp.Hop{
			{TTL: 1, Seen: []ecmp.HopBranch{{HopSeen: ecmp.HopSeen{Addr: r1, PMTU: 1500}, Flows: []int{1, 2, 3}}}},
			{TTL: 2, Seen: []ecmp.HopBranch{{HopSeen: ecmp.HopSeen{Addr: r2a, PMTU: 1500}, Flows: []int{2, 3}}, {HopSeen: ecmp.HopSeen{Addr: r2b, PMTU: 1500}, Flows: []int{1}}}},
			{TTL: 3, Seen: []ecmp.HopBranch{{HopSeen: ecmp.HopSeen{Addr: dst, PMTU: 1500}, Flows: []int{2}}, {HopSeen: ecmp.HopSeen{}, Flows: []int{3}}, {HopSeen: ecmp.HopSeen{Addr: dst, PMTU: 1400}, Flows: []int{1}}}},
		},
	}
	r := measure.TraceFlowsReportOf(tr, "t", map[netip.Addr]string{r1: "r1.example"})
	var b bytes.Buffer
	if err := writeTraceFlowsText(&b, r); err != nil {
		t.Fatal(err)
	}
	want := ` 1  r1.example (198.18.1.2)   pmtu 1500  every flow
 2  198.18.2.2                pmtu 1500  2 of 3 flows: 2 3
    198.18.3.2                pmtu 1500  1 of 3 flows: 1
 3  198.18.9.1                pmtu 1500  1 of 3 flows: 2
    no reply                  1 of 3 flows: 3
    198.18.9.1                pmtu 1400  1 of 3 flows: 1
    path MTU 1400, the smallest of 2 flows that reached 198.18.9.1 (udp); TCP MSS 1360
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("text (-want +got):\n%s", diff)
	}
	if r.PMTU != 1400 || r.Reached != 2 {
		t.Errorf("pmtu %d from %d flows, want 1400 from 2", r.PMTU, r.Reached)
	}
}

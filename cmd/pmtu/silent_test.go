package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/urfave/cli/v2"

	"github.com/pmtu/pmtu/internal/probetest"
	"github.com/pmtu/pmtu/measure"
	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/probe"
	"github.com/pmtu/pmtu/probe/search"
	"github.com/pmtu/pmtu/probe/transport"
)

// silentSearch runs a real search over the fake chain c ─2000─ r1 ─1500─
// s where s never answers, and returns probe.Find's result as the
// fallback policy leaves it when nothing answered, and the sizes sent.
func silentSearch(t *testing.T) (*probe.Result, []mtu.Size) {
	t.Helper()
	clock := probetest.NewClock()
	p := &probetest.Path{Src: netip.MustParseAddr("198.18.0.1"), Dst: netip.MustParseAddr("198.18.2.2"), RTT: time.Millisecond,
		Clock: clock, NoEchoReply: true, Hops: []probetest.Hop{{Addr: netip.MustParseAddr("198.18.1.2"), MTU: 1500}}}
	pc := p.Conn()
	c := transport.NewICMPConn(pc, p.Dst, &transport.ICMPConfig{Src: p.Src, Now: clock.Now})
	res, err := search.Discover(context.Background(), c, &search.Config{Ceil: 2000, Now: clock.Now})
	if !errors.Is(err, search.ErrNoReply) {
		t.Fatalf("Discover: %v, want ErrNoReply", err)
	}
	var sent []mtu.Size
	for _, b := range pc.Written() {
		sent = append(sent, mtu.Size(len(b)+20))
	}
	return &probe.Result{Result: *res, Method: probe.MethodICMP, Tried: []probe.Attempt{
		{Proto: probe.ProtoICMP, Method: probe.MethodICMP, Probes: res.Probes},
		{Proto: probe.ProtoTCP, Port: 443, Method: probe.MethodTCP, Probes: 2},
		{Proto: probe.ProtoTCP, Port: 80, Skipped: &probe.NoMethodError{Proto: probe.ProtoTCP,
			Tried: []probe.MethodError{{Method: probe.MethodTCP, Err: syscall.EPERM}}}},
		{Proto: probe.ProtoUDP, Port: 33434, Method: probe.MethodUDP, Probes: 2},
	}}, sent
}

// A silent target is reported with the bound r1 proved: pmtu 1500,
// unconfirmed, unreached, refused_size what r1 refused, proved_min 0.
func TestReportSilentTargetJSON(t *testing.T) {
	res, sent := silentSearch(t)
	r := &measure.Report{Target: "s", Address: "198.18.2.2", Family: "ipv4", Interface: "veth0", InterfaceMTU: 2000}
	r.FromFind(res, 2000)
	r.ExplainFailure(probe.ErrNoReply, "s", &res.Result)
	var out bytes.Buffer
	err := failAsserting(&out, r, findOpts{json: true})
	var ec cli.ExitCoder
	if !errors.As(err, &ec) || ec.ExitCode() != exitNoAnswer {
		t.Fatalf("error %v, want exit %d", err, exitNoAnswer)
	}
	var got silentView
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out.String())
	}
	events := got.Events
	got.Events = nil
	want := silentView{PMTU: 1500, Evidence: "icmp", LimitingHop: "198.18.1.2", Refused: 1501,
		Error: "path MTU ≤ 1500: 198.18.1.2 said so; 198.18.2.2 never answered, so nothing beyond 198.18.1.2 is confirmed",
		Tried: []measure.Attempt{
			{Way: "ICMP Echo", Proto: "icmp", Method: "icmp", Probes: res.Probes},
			{Way: "TCP to port 443", Proto: "tcp", Port: 443, Method: "tcp", Probes: 2},
			{Way: "TCP to port 80", Proto: "tcp", Port: 80, Skipped: "tcp needs raw sockets (root or CAP_NET_RAW)"},
			{Way: "UDP to port 33434", Proto: "udp", Port: 33434, Method: "udp", Probes: 2},
		}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("JSON (-want +got):\n%s", diff)
	}
	// refused_size against the probes sent: r1 refused every probe of
	// that size or more and named one less; smaller ones were sent and
	// went unanswered, and none of them is called refused.
	var above, below int
	for _, s := range sent {
		if int(s) >= got.Refused {
			above++
		} else {
			below++
		}
	}
	if len(events) != 1 || events[0].NextHopMTU != got.Refused-1 || events[0].Count != above || below == 0 {
		t.Errorf("events %+v; sent %v: %d at or above refused_size %d, %d below", events, sent, above, got.Refused, below)
	}
}

// silentView is what the JSON of a silent target must say.
type silentView struct {
	PMTU        int               `json:"pmtu"`
	Confirmed   bool              `json:"confirmed"`
	Reached     bool              `json:"reached"`
	Exact       bool              `json:"exact"`
	MSS         int               `json:"mss"`
	Evidence    string            `json:"evidence"`
	LimitingHop string            `json:"limiting_hop"`
	ProvedMin   int               `json:"proved_min"`
	Refused     int               `json:"refused_size"`
	Error       string            `json:"error"`
	Tried       []measure.Attempt `json:"methods_tried"`
	Events      []measure.Event   `json:"events"`
}

// The text of a silent target: the bound, who proved it, and every way
// it was asked.
func TestReportSilentTargetText(t *testing.T) {
	res, _ := silentSearch(t)
	r := &measure.Report{Target: "s", Address: "198.18.2.2", Family: "ipv4", Interface: "veth0", InterfaceMTU: 2000}
	r.FromFind(res, 2000)
	r.ExplainFailure(probe.ErrNoReply, "s", &res.Result)
	var out bytes.Buffer
	err := failAsserting(&out, r, findOpts{})
	want := "path MTU to s (198.18.2.2): at most 1500, not confirmed\n" +
		"  path MTU ≤ 1500: 198.18.1.2 said so; 198.18.2.2 never answered, so nothing beyond 198.18.1.2 is confirmed\n" +
		"  ICMP Echo unanswered; TCP to port 443 unanswered; TCP to port 80 not tried: tcp needs raw sockets (root or CAP_NET_RAW); UDP to port 33434 unanswered\n"
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("text (-want +got):\n%s", diff)
	}
	if err == nil || err.Error() != "pmtu: path MTU ≤ 1500: 198.18.1.2 said so; 198.18.2.2 never answered, so nothing beyond 198.18.1.2 is confirmed" {
		t.Errorf("error line %v", err)
	}
}

// --expect and --at-least on a target that never answered are judged on
// the bound: ruled out by it, exit 3; else not proved, exit 1.
func TestJudgeUnanswered(t *testing.T) {
	res, _ := silentSearch(t)
	bounded := &measure.Report{Address: "198.18.2.2", Family: "ipv4"}
	bounded.FromFind(res, 2000)
	bounded.ExplainFailure(probe.ErrNoReply, "198.18.2.2", &res.Result)
	nothing := &measure.Report{Address: "198.18.2.2", Family: "ipv4", Error: "no reply from 198.18.2.2 at any size"}
	tests := []struct {
		name            string
		r               *measure.Report
		expect, atLeast int
		code            int // 0: no error
		msg             string
	}{
		{"no assertion", bounded, 0, 0, 0, ""},
		{"at least 1400: not proved", bounded, 0, 1400, exitNoAnswer,
			"pmtu: assertion not proved: path MTU ≥ 1400: path MTU ≤ 1500: 198.18.1.2 said so; 198.18.2.2 never answered, so nothing beyond 198.18.1.2 is confirmed"},
		{"at least 1600: ruled out", bounded, 0, 1600, exitAssertion,
			"pmtu: assertion failed: path MTU ≤ 1500 (198.18.1.2 said so) is below 1600"},
		{"expect 1500: not proved", bounded, 1500, 0, exitNoAnswer,
			"pmtu: assertion not proved: path MTU = 1500: path MTU ≤ 1500: 198.18.1.2 said so; 198.18.2.2 never answered, so nothing beyond 198.18.1.2 is confirmed"},
		{"expect 9000: ruled out", bounded, 9000, 0, exitAssertion,
			"pmtu: assertion failed: path MTU ≤ 1500 (198.18.1.2 said so), expected 9000"},
		{"nothing proved", nothing, 0, 1600, exitNoAnswer,
			"pmtu: assertion not proved: path MTU ≥ 1600: no reply from 198.18.2.2 at any size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := judgeUnanswered(tt.r, tt.expect, tt.atLeast)
			if tt.code == 0 {
				if err != nil {
					t.Fatalf("error %v, want none", err)
				}
				return
			}
			var ec cli.ExitCoder
			if !errors.As(err, &ec) || ec.ExitCode() != tt.code || err.Error() != tt.msg {
				t.Errorf("got %v (exit %v)\nwant %q (exit %d)", err, exitOf(err), tt.msg, tt.code)
			}
		})
	}
}

func exitOf(err error) int {
	var ec cli.ExitCoder
	if errors.As(err, &ec) {
		return ec.ExitCode()
	}
	return -1
}

// An answer found by a fallback says so in its text, and is not cached
// under the protocol that was asked for.
func TestReportFallbackText(t *testing.T) {
	res := &probe.Result{Method: probe.MethodTCP, Port: 443,
		Result: search.Result{PMTU: 1500, Confirmed: true, Lo: 1500, Hi: 1501, ByICMP: true, LimitingHop: netip.MustParseAddr("198.18.1.2"),
			Events: []probe.Event{{Kind: probe.TooBig, From: netip.MustParseAddr("198.18.1.2"), Type: 3, Code: 4, MTU: 1500}}, Probes: 2, Rounds: 2},
		Tried: []probe.Attempt{{Proto: probe.ProtoICMP, Method: probe.MethodICMP, Probes: 20},
			{Proto: probe.ProtoTCP, Port: 443, Method: probe.MethodTCP, Answered: true, Probes: 2}}}
	r := &measure.Report{Target: "198.18.2.2", Address: "198.18.2.2", Family: "ipv4", Interface: "veth0", InterfaceMTU: 2000}
	r.FromFind(res, 2000)
	var out bytes.Buffer
	if err := finish(&out, r, findOpts{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "\n  ICMP Echo unanswered; TCP to port 443 answered (method tcp)\n") || !r.Reached || r.Port != 443 {
		t.Errorf("reached %v port %d, text:\n%s", r.Reached, r.Port, out.String())
	}
}

// pmtu watch: a round the target never answered carries the routers'
// bound, in the sample and the JSON line, never a bare 0.
func TestWatchSampleSilentBound(t *testing.T) {
	res, _ := silentSearch(t)
	r := &measure.Report{Target: "s", Address: "198.18.2.2", Family: "ipv4"}
	r.FromFind(res, 2000)
	r.ExplainFailure(probe.ErrNoReply, "s", &res.Result)
	s := sampleOf(r, errors.New(r.Error))
	if s.PMTU != 0 || s.Max != 1500 || s.Err != r.Error {
		t.Fatalf("sample %+v, want PMTU 0, Max 1500 and the error", s)
	}
	var w watcher
	w.observe(t0, "s", watchSample{Address: "198.18.2.2", PMTU: 1500, Evidence: "probes"})
	l, ok := w.observe(t0.Add(time.Second), "s", s)
	b, err := json.Marshal(l)
	if !ok || err != nil || !strings.Contains(string(b), `"event":"lost","from":1500,"to":0,`) || !strings.Contains(string(b), `"pmtu_max":1500`) {
		t.Errorf("line %s (%v, %v), want lost 1500 → 0 with pmtu_max 1500", b, ok, err)
	}
}

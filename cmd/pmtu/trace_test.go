package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/urfave/cli/v2"

	"github.com/pmtu/pmtu/measure"
	"github.com/pmtu/pmtu/probe"
	"github.com/pmtu/pmtu/probe/search"
)

// runTraceCmd runs `pmtu trace args...` (newApp makes a fresh trace
// command) and returns stdout, stderr and the exit code.
func runTraceCmd(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), testWorld(), append([]string{"pmtu", "trace"}, args...), &out, &errOut)
	return out.String(), errOut.String(), code
}

// Bad input: one line on stderr, exit 2, nothing on stdout.
func TestTraceUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string // substring of the one stderr line
	}{
		{"no host", nil, "which host? usage: pmtu trace [flags] HOST"},
		{"unknown flag", []string{"--bogus", "198.18.0.1"}, "flag provided but not defined: -bogus"},
		{"flag after host", []string{"198.18.0.1", "-n"}, "flags go before HOST"},
		{"two hosts", []string{"198.18.0.1", "198.18.0.2"}, "one HOST at a time"},
		{"both families", []string{"-4", "-6", "198.18.0.1"}, "exclude each other"},
		{"zero max hops", []string{"--max-hops", "0", "198.18.0.1"}, "--max-hops 0 is outside 1–255"},
		{"too many hops", []string{"--max-hops", "256", "198.18.0.1"}, "--max-hops 256 is outside 1–255"},
		{"bad number", []string{"--max-hops", "many", "198.18.0.1"}, "invalid value"},
		{"negative timeout", []string{"--timeout", "-1s", "198.18.0.1"}, "--timeout -1s must be positive"},
		{"v6 literal with -4", []string{"-4", "2001:db8::1"}, "not an IPv4 address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := runTraceCmd(t, tt.args...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d", code, exitUsage)
			}
			if out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
			lines := strings.Split(strings.TrimSpace(errOut), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], tt.want) || !strings.HasPrefix(lines[0], "pmtu") {
				t.Errorf("stderr %q, want one line starting \"pmtu\" that says %q", errOut, tt.want)
			}
		})
	}
}

var (
	r1 = netip.MustParseAddr("198.18.1.2")
	r2 = netip.MustParseAddr("198.18.2.2")
	t4 = netip.MustParseAddr("198.18.4.2")
)

func te(from netip.Addr) probe.Event {
	return probe.Event{Kind: probe.TimeExceeded, From: from, Type: 11}
}

// traceResult is the chain c ─1500─ r1 ─1492─ r2 ─1400─ r3 ─1280─ t4,
// with r3 silent and its Frag Needed filtered.
func traceResult() *search.TraceResult {
	return &search.TraceResult{
		Target: t4, Reached: true, PMTU: 1280, Confirmed: true, Proved: 1280, ProvedTTL: 4, Probes: 23, Rounds: 4, Elapsed: 1100 * time.Millisecond,
		Hops: []probe.TraceHop{
			{TTL: 1, Addr: r1, Reply: probe.ReplyTimeExceeded, Event: te(r1), RTT: 120 * time.Microsecond, PMTU: 1500, Exact: true},
			{TTL: 2, Addr: r2, Reply: probe.ReplyTimeExceeded, Event: te(r2), RTT: 200 * time.Microsecond, PMTU: 1492, Exact: true, MTUDrop: true, ReportedBy: r1, ReportedMTU: 1492},
			{TTL: 3},
			{TTL: 4, Addr: t4, Reply: probe.ReplyReached, Event: probe.Event{Kind: probe.Reached, From: t4}, RTT: 310 * time.Microsecond, PMTU: 1280, Exact: true, MTUDrop: true, VanishAfter: 2},
		},
	}
}

func TestTraceReportText(t *testing.T) {
	r := &measure.TraceReport{Target: "t4", Address: t4.String(), Family: "ipv4"}
	r.FromResult(traceResult(), map[netip.Addr]string{t4: "t4"})
	var out bytes.Buffer
	if err := printTrace(&out, r, false); err != nil {
		t.Fatalf("exit %v for a reached target", err)
	}
	want := ` 1  198.18.1.2               0.12 ms  pmtu 1500
 2  198.18.2.2               0.20 ms  pmtu 1492   ← MTU drops here: 198.18.1.2 said 1492 (fragmentation needed)
 3  no reply
 4  198.18.4.2 (t4)          0.31 ms  pmtu 1280  reached   ← MTU drops here: larger probes vanish after hop 2 (198.18.2.2) without an ICMP: a PMTUD black hole
    path MTU 1280, 4 hops, reached; 23 probes in 4 round trips, 1.1s
`
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("text (-want +got):\n%s", diff)
	}
}

func TestTraceReportJSON(t *testing.T) {
	r := &measure.TraceReport{Target: "t4", Address: t4.String(), Family: "ipv4"}
	r.FromResult(traceResult(), nil)
	var out bytes.Buffer
	if err := printTrace(&out, r, true); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out.String())
	}
	icmp := func(typ, code float64, name string) map[string]any {
		return map[string]any{"type": typ, "code": code, "name": name}
	}
	want := map[string]any{
		"target": "t4", "address": "198.18.4.2", "family": "ipv4", "pmtu": 1280.0, "reached": true,
		"confirmed": true, "proved_pmtu": 1280.0, "proved_ttl": 4.0,
		"probes": 23.0, "rounds": 4.0, "elapsed_ms": 1100.0, "ignored": 0.0,
		"hops": []any{
			map[string]any{"ttl": 1.0, "address": "198.18.1.2", "name": "", "rtt_ms": 0.12, "pmtu": 1500.0, "reply": "time_exceeded",
				"icmp": icmp(11, 0, "time to live exceeded in transit")},
			map[string]any{"ttl": 2.0, "address": "198.18.2.2", "name": "", "rtt_ms": 0.2, "pmtu": 1492.0, "reply": "time_exceeded",
				"icmp": icmp(11, 0, "time to live exceeded in transit"), "mtu_drop": true, "reported_by": "198.18.1.2"},
			map[string]any{"ttl": 3.0, "address": "", "name": "", "rtt_ms": 0.0, "pmtu": 0.0, "reply": "none", "icmp": nil},
			map[string]any{"ttl": 4.0, "address": "198.18.4.2", "name": "", "rtt_ms": 0.31, "pmtu": 1280.0, "reply": "reached",
				"icmp": icmp(0, 0, "echo reply"), "mtu_drop": true, "reported_by": "", "black_hole_after": 2.0},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("JSON (-want +got):\n%s", diff)
	}
}

// A walk ended by a Destination Unreachable exits 1 with its explanation,
// after printing the hops.
func TestTraceReportUnreachable(t *testing.T) {
	res := &search.TraceResult{Target: t4, PMTU: 1500, Confirmed: true, Proved: 1500, ProvedTTL: 1, Probes: 60, Rounds: 1, Hops: []probe.TraceHop{
		{TTL: 1, Addr: r1, Reply: probe.ReplyTimeExceeded, Event: te(r1), PMTU: 1500, Exact: true},
		{TTL: 2, Addr: r1, Reply: probe.ReplyUnreachable, Event: probe.Event{Kind: probe.Unreachable, From: r1, Type: 3, Code: 13}},
	}}
	r := &measure.TraceReport{Target: "t4", Address: t4.String(), Family: "ipv4"}
	r.FromResult(res, nil)
	var out bytes.Buffer
	err := printTrace(&out, r, false)
	ec, ok := err.(cli.ExitCoder)
	if !ok || ec.ExitCode() != exitNoAnswer {
		t.Fatalf("err %v, want exit %d", err, exitNoAnswer)
	}
	if want := "pmtu: 198.18.1.2: communication administratively prohibited (type 3, code 13)"; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %q, want it to start %q", err, want)
	}
	for _, want := range []string{" 2  198.18.1.2", "communication administratively prohibited\n", "path MTU 1500 as far as it answered, 2 hops, not reached"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, out.String())
		}
	}
}

// Silent hops at the end of a walk that never reached the target are
// folded into one line.
func TestTraceReportSilentTail(t *testing.T) {
	res := &search.TraceResult{Target: t4, PMTU: 1500, Confirmed: true, Proved: 1500, ProvedTTL: 1, Hops: []probe.TraceHop{
		{TTL: 1, Addr: r1, Reply: probe.ReplyTimeExceeded, Event: te(r1), PMTU: 1500, Exact: true},
	}}
	for ttl := 2; ttl <= 30; ttl++ {
		res.Hops = append(res.Hops, probe.TraceHop{TTL: ttl})
	}
	r := &measure.TraceReport{Target: "t4", Address: t4.String(), Family: "ipv4"}
	r.FromResult(res, nil)
	var out bytes.Buffer
	if err := printTrace(&out, r, false); err == nil {
		t.Fatal("exit 0 for a target not reached")
	}
	if !strings.Contains(out.String(), "\n 2-30  no reply\n") {
		t.Errorf("silent tail not folded:\n%s", out.String())
	}
	if want := "t4 did not answer within 30 hops"; r.Error != want {
		t.Errorf("error %q, want %q", r.Error, want)
	}
}

// A router's RFC 4884 extensions (an MPLS label stack, RFC 5837 interface
// information) are shown with its hop, in text and JSON.
func TestTraceHopExtensions(t *testing.T) {
	h := probe.TraceHop{TTL: 3, Addr: netip.MustParseAddr("198.18.2.2"), Reply: probe.ReplyTimeExceeded, PMTU: 1400,
		RTT: time.Millisecond, Event: probe.Event{Kind: probe.TimeExceeded, Type: 11, Code: 0, Ext: &probe.Extensions{
			MPLS: []probe.MPLSLabel{{Label: 16001, Bottom: true, TTL: 1}},
			Interfaces: []probe.InterfaceInfo{{Role: probe.RoleIncoming, IfIndex: 7, Name: "veth2b",
				Addr: netip.MustParseAddr("198.18.2.2"), MTU: 1400}},
		}}}
	th := measure.TraceHopOf(h, nil)
	text := hopLine(th, 12)
	for _, want := range []string{
		"      MPLS label 16001, TC 0, TTL 1, bottom of stack\n",
		"      incoming interface veth2b (index 7) 198.18.2.2 MTU 1400\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("hop line lacks %q:\n%s", want, text)
		}
	}
	b, err := json.Marshal(th)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`"mpls":[{"label":16001,"tc":0,"bottom":true,"ttl":1}]`,
		`"interfaces":[{"role":"incoming","ifindex":7,"address":"198.18.2.2","name":"veth2b","mtu":1400}]`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON lacks %s:\n%s", want, b)
		}
	}
}

// A silent hop shows the bounds proved around it, in text and JSON.
func TestTraceSilentHopLine(t *testing.T) {
	th := measure.TraceHopOf(probe.TraceHop{TTL: 2, Reply: probe.NoReply, Min: 1400, Max: 1492}, nil)
	answeredLine := hopLine(measure.TraceHopOf(probe.TraceHop{TTL: 1, Reply: probe.ReplyTimeExceeded, PMTU: 1500,
		Addr: netip.MustParseAddr("198.18.1.2")}, nil), 12)
	if got, want := hopLine(th, 12), " 2  no reply                  1400 ≤ pmtu ≤ 1492, from the hops around it\n"; got != want {
		t.Errorf("line\n%q, want\n%q", got, want)
	}
	if col := strings.Index(answeredLine, "pmtu"); strings.Index(hopLine(th, 12), "1400") != col {
		t.Errorf("bounds do not start in the pmtu column:\n%s%s", answeredLine, hopLine(th, 12))
	}
	b, _ := json.Marshal(th)
	if !strings.Contains(string(b), `"pmtu_min":1400,"pmtu_max":1492`) {
		t.Errorf("JSON lacks the bounds: %s", b)
	}
	only := measure.TraceHopOf(probe.TraceHop{TTL: 5, Reply: probe.NoReply, Max: 1400}, nil)
	if got := hopLine(only, 12); !strings.Contains(got, "pmtu ≤ 1400, from the hops before it") {
		t.Errorf("line %q, want an upper bound only", got)
	}
	answered := measure.TraceHopOf(probe.TraceHop{TTL: 1, Reply: probe.ReplyTimeExceeded, PMTU: 1500, Min: 1500, Max: 1500,
		Addr: netip.MustParseAddr("198.18.1.2")}, nil)
	if b, _ := json.Marshal(answered); strings.Contains(string(b), "pmtu_min") {
		t.Errorf("an answering hop carries bounds: %s", b)
	}
}

// A hop that sent no Time Exceeded but was placed and measured by its own
// Frag Needed shows its address and figure, marked as coming from it.
func TestTraceHopFromICMP(t *testing.T) {
	for _, tt := range []struct {
		addr, from, text string
	}{
		{"198.18.2.2", "frag_needed", "from its Frag Needed"},
		{"2001:db8:2::2", "packet_too_big", "from its Packet Too Big"},
	} {
		a := netip.MustParseAddr(tt.addr)
		th := measure.TraceHopOf(probe.TraceHop{TTL: 2, Addr: a, Reply: probe.NoReply, PMTU: 1492, Exact: true, FromICMP: true,
			Min: 1492, Max: 1492, MTUDrop: true, ReportedBy: r1, ReportedMTU: 1492}, nil)
		want := fmt.Sprintf(" 2  %-14s    no reply  pmtu 1492 %s   ← MTU drops here: 198.18.1.2 said 1492 (fragmentation needed)\n", tt.addr, tt.text)
		if got := hopLine(th, 14); got != want {
			t.Errorf("line\n%q, want\n%q", got, want)
		}
		answered := hopLine(measure.TraceHopOf(probe.TraceHop{TTL: 1, Reply: probe.ReplyTimeExceeded, PMTU: 1500, Addr: r1}, nil), 14)
		if col := strings.Index(answered, "pmtu"); strings.Index(hopLine(th, 14), "pmtu") != col {
			t.Errorf("pmtu not in the pmtu column:\n%s%s", answered, hopLine(th, 14))
		}
		b, _ := json.Marshal(th)
		for _, want := range []string{`"address":"` + tt.addr + `"`, `"pmtu":1492`, `"pmtu_from":"` + tt.from + `"`, `"reply":"none"`, `"mtu_drop":true`} {
			if !strings.Contains(string(b), want) {
				t.Errorf("JSON lacks %s: %s", want, b)
			}
		}
		if strings.Contains(string(b), "pmtu_min") {
			t.Errorf("a measured hop carries bounds: %s", b)
		}
	}
}

// Issue 19: c ─2000─ r1 ─1500─ s, s never answers. The drop r1 reported
// shows at hop 2, the silent hops beyond carry "≤ 1500", and the closing
// line says what r1 proved rather than "2000 as far as it answered".
func TestTraceReportKeepsTheDrop(t *testing.T) {
	s := netip.MustParseAddr("198.18.2.2")
	res := &search.TraceResult{Target: s, PMTU: 1500, Proved: 2000, ProvedTTL: 1, Max: 1500, MaxBy: r1, Probes: 92, Rounds: 4, Hops: []probe.TraceHop{
		{TTL: 1, Addr: r1, Reply: probe.ReplyTimeExceeded, Event: te(r1), PMTU: 2000, Exact: true, Min: 2000, Max: 2000},
		{TTL: 2, Reply: probe.NoReply, Max: 1500, MTUDrop: true, ReportedBy: r1, ReportedMTU: 1500},
	}}
	for ttl := 3; ttl <= 30; ttl++ {
		res.Hops = append(res.Hops, probe.TraceHop{TTL: ttl, Max: 1500})
	}
	r := &measure.TraceReport{Target: "s", Address: s.String(), Family: "ipv4"}
	r.FromResult(res, nil)
	var out bytes.Buffer
	err := printTrace(&out, r, false)
	if ec, ok := err.(cli.ExitCoder); !ok || ec.ExitCode() != exitNoAnswer {
		t.Fatalf("err %v, want exit %d", err, exitNoAnswer)
	}
	want := ` 1  198.18.1.2               0.00 ms  pmtu 2000
 2  no reply                          pmtu ≤ 1500, from the hops before it   ← MTU drops here: 198.18.1.2 said 1500 (fragmentation needed)
 3-30  no reply                       pmtu ≤ 1500, from the hops before it
    path MTU ≤ 1500: 198.18.1.2 said so; 2000 confirmed up to hop 1, nothing beyond; 30 hops, not reached; 92 probes in 4 round trips, 0.0 ms
`
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("text (-want +got):\n%s", diff)
	}
	out.Reset()
	_ = printTrace(&out, r, true)
	var got struct {
		PMTU       int    `json:"pmtu"`
		Confirmed  bool   `json:"confirmed"`
		ProvedPMTU int    `json:"proved_pmtu"`
		PMTUMax    int    `json:"pmtu_max"`
		PMTUMaxBy  string `json:"pmtu_max_by"`
		Hops       []struct {
			MTUDrop     bool    `json:"mtu_drop"`
			ReportedBy  *string `json:"reported_by"`
			PMTUMax     int     `json:"pmtu_max"`
			Unconfirmed bool    `json:"unconfirmed"`
		} `json:"hops"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out.String())
	}
	// r2_noreturn: what r1 proved is the path MTU, unconfirmed, and the
	// last hop says so.
	if got.PMTU != 1500 || got.Confirmed || got.ProvedPMTU != 2000 || got.PMTUMax != 1500 || got.PMTUMaxBy != "198.18.1.2" ||
		len(got.Hops) != 30 || !got.Hops[29].Unconfirmed || got.Hops[28].Unconfirmed {
		t.Fatalf("pmtu %d (confirmed %v, proved %d), pmtu_max %d by %q, %d hops; want 1500 unconfirmed (proved 2000), 1500 by 198.18.1.2, 30, the last unconfirmed",
			got.PMTU, got.Confirmed, got.ProvedPMTU, got.PMTUMax, got.PMTUMaxBy, len(got.Hops))
	}
	if h := got.Hops[1]; !h.MTUDrop || h.ReportedBy == nil || *h.ReportedBy != "198.18.1.2" || h.PMTUMax != 1500 {
		t.Errorf("hop 2: %+v, want the drop reported by 198.18.1.2 and pmtu_max 1500", h)
	}
	for i, h := range got.Hops[2:] {
		if h.PMTUMax != 1500 || h.MTUDrop {
			t.Errorf("hop %d: %+v, want pmtu_max 1500 and no drop", i+3, h)
		}
	}
}

// A walk that reached the target over TCP after Echo went unanswered
// says so as pmtu HOST does: method, port and methods_tried in the JSON,
// one line of the ways asked in the text.
func TestTraceReportTried(t *testing.T) {
	r := &measure.TraceReport{Target: "t4", Address: t4.String(), Family: "ipv4"}
	r.FromResult(traceResult(), nil)
	r.Method, r.Port = string(probe.MethodTCP), 443
	r.Tried = measure.AttemptsOf([]probe.Attempt{{Proto: probe.ProtoICMP, Method: probe.MethodICMP, Probes: 90},
		{Proto: probe.ProtoTCP, Port: 443, Method: probe.MethodTCP, Answered: true, Probes: 2}})
	var out bytes.Buffer
	if err := printTrace(&out, r, false); err != nil {
		t.Fatalf("exit %v for a reached target", err)
	}
	want := "    path MTU 1280, 4 hops, reached; 23 probes in 4 round trips, 1.1s\n" +
		"    ICMP Echo unanswered; TCP to port 443 answered (method tcp)\n"
	if !strings.HasSuffix(out.String(), want) {
		t.Errorf("text ends %q, want %q", out.String(), want)
	}
	out.Reset()
	if err := printTrace(&out, r, true); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Method string           `json:"method"`
		Port   int              `json:"port"`
		Tried  []map[string]any `json:"methods_tried"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out.String())
	}
	wantTried := []map[string]any{
		{"way": "ICMP Echo", "proto": "icmp", "method": "icmp", "answered": false, "probes": 90.0},
		{"way": "TCP to port 443", "proto": "tcp", "port": 443.0, "method": "tcp", "answered": true, "probes": 2.0},
	}
	if got.Method != "tcp" || got.Port != 443 {
		t.Errorf("method %q port %d, want tcp 443", got.Method, got.Port)
	}
	if diff := cmp.Diff(wantTried, got.Tried); diff != "" {
		t.Errorf("methods_tried (-want +got):\n%s", diff)
	}
}

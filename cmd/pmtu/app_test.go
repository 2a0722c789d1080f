package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pmtu/pmtu/measure"
	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/probe"
	"github.com/pmtu/pmtu/probe/search"
)

var update = flag.Bool("update", false, "rewrite golden files")

// runApp runs pmtu with args and returns stdout, stderr and the exit code.
func runApp(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), testWorld(), append([]string{"pmtu"}, args...), &out, &errOut)
	return out.String(), errOut.String(), code
}

func TestHelpGolden(t *testing.T) {
	out, _, code := runApp(t, "--help")
	if code != exitOK {
		t.Fatalf("--help exit %d", code)
	}
	golden := filepath.Join("testdata", "help.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), out); diff != "" {
		t.Errorf("--help (-want +got), run go test -update to accept:\n%s", diff)
	}
}

// Bad input: one line on stderr, exit 2, nothing on stdout, no stack trace.
func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string // substring of the one stderr line
	}{
		{"no host", nil, "which host?"},
		{"empty host", []string{""}, "the host is empty"},
		{"unknown flag", []string{"--bogus", "198.18.0.1"}, "flag provided but not defined: -bogus"},
		{"flag after host", []string{"198.18.0.1", "--json"}, "flags go before HOST"},
		{"flag after two hosts", []string{"198.18.0.1", "198.18.0.2", "--json"}, "flags go before the hosts: --json"},
		{"both families", []string{"-4", "-6", "198.18.0.1"}, "exclude each other"},
		{"size too small", []string{"--max-size", "67", "198.18.0.1"}, "--max-size 67 is outside 68–65535"},
		{"size too big", []string{"--expect", "65536", "198.18.0.1"}, "--expect 65536 is outside"},
		{"min above max", []string{"--min-size", "1400", "--max-size", "1300", "198.18.0.1"}, "above --max-size"},
		{"negative deadline", []string{"--deadline", "-2s", "198.18.0.1"}, "--deadline -2s must be positive"},
		{"negative timeout", []string{"--timeout", "-1s", "198.18.0.1"}, "--timeout -1s must be positive"},
		{"zero tries", []string{"--tries", "0", "198.18.0.1"}, "--tries 0"},
		{"bad number", []string{"--expect", "big", "198.18.0.1"}, "invalid value"},
		{"v6 literal with -4", []string{"-4", "2001:db8::1"}, "not an IPv4 address"},
		{"unknown host", []string{"no-such-host.invalid"}, `cannot resolve "no-such-host.invalid"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := runApp(t, tt.args...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d", code, exitUsage)
			}
			if out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
			lines := strings.Split(strings.TrimSpace(errOut), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], tt.want) || !strings.HasPrefix(lines[0], "pmtu: ") {
				t.Errorf("stderr %q, want one line starting \"pmtu: \" that says %q", errOut, tt.want)
			}
			if strings.Contains(errOut, "goroutine") || strings.Contains(errOut, "panic") {
				t.Errorf("stack trace on stderr: %s", errOut)
			}
		})
	}
}

func chainResult() *search.Result {
	hop := netip.MustParseAddr("198.18.2.2")
	return &search.Result{
		Target: netip.MustParseAddr("198.18.3.2"), PMTU: 1280, Confirmed: true, Lo: 1280, Hi: 1281,
		ByICMP: true, LimitingHop: hop, Probes: 4, Rounds: 4, Elapsed: 3 * time.Millisecond,
		Events: []probe.Event{
			{Kind: probe.TooBig, From: netip.MustParseAddr("198.18.0.2"), Type: 3, Code: 4, MTU: 1492},
			{Kind: probe.TooBig, From: netip.MustParseAddr("198.18.1.2"), Type: 3, Code: 4, MTU: 1400},
			{Kind: probe.TooBig, From: hop, Type: 3, Code: 4, MTU: 1280},
			{Kind: probe.TooBig, From: hop, Type: 3, Code: 4, MTU: 1280},
		},
		Ignored: []probe.Event{{Kind: probe.Ignored, From: netip.MustParseAddr("198.18.9.9"), Why: "quotes sequence 77, which we never sent"}},
	}
}

func TestReportJSON(t *testing.T) {
	r := &measure.Report{Target: "t4", Address: "198.18.3.2", Family: "ipv4", Interface: "veth0", InterfaceMTU: 1500}
	r.FromResult(chainResult(), 1500)
	var out bytes.Buffer
	if err := finish(&out, r, findOpts{json: true}); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out.String())
	}
	want := map[string]any{
		"target": "t4", "address": "198.18.3.2", "family": "ipv4", "source": "probe",
		"pmtu": 1280.0, "exact": true, "interface": "veth0", "interface_mtu": 1500.0, "mss": 1240.0,
		"confirmed": true, "reached": true, "evidence": "icmp", "limiting_hop": "198.18.2.2",
		"proved_min": 1280.0, "refused_size": 1281.0, "probes": 4.0, "rounds": 4.0, "black_hole": false, "elapsed_ms": 3.0,
		"ignored": 1.0,
		"events": []any{
			map[string]any{"from": "198.18.0.2", "type": 3.0, "code": 4.0, "name": "fragmentation needed and DF set", "next_hop_mtu": 1492.0, "count": 1.0},
			map[string]any{"from": "198.18.1.2", "type": 3.0, "code": 4.0, "name": "fragmentation needed and DF set", "next_hop_mtu": 1400.0, "count": 1.0},
			map[string]any{"from": "198.18.2.2", "type": 3.0, "code": 4.0, "name": "fragmentation needed and DF set", "next_hop_mtu": 1280.0, "count": 2.0},
		},
	}
	delete(got, "hint") // worded by package explain, tested there
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("JSON (-want +got):\n%s", diff)
	}
}

func TestReportText(t *testing.T) {
	r := &measure.Report{Target: "t4", Address: "198.18.3.2", Family: "ipv4", Interface: "veth0", InterfaceMTU: 1500}
	r.FromResult(chainResult(), 1500)
	var out bytes.Buffer
	if err := finish(&out, r, findOpts{verbose: true}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"path MTU to t4 (198.18.3.2): 1280\n",
		`limited by 198.18.2.2, which answered "fragmentation needed and DF set" naming MTU 1280`,
		"TCP MSS 1240\n",
		"interface veth0, MTU 1500\n",
		"4 probes in 4 round trips, 3.0 ms; 1 packet ignored",
		"ignored from 198.18.9.9: quotes sequence 77, which we never sent",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("text output lacks %q:\n%s", want, out.String())
		}
	}
}

// TestReportBounds: what a search proved, by the ceiling it used. Only a
// size that was sent and refused is called refused, and a search that
// stopped at --max-size below the interface MTU proves a lower bound.
func TestReportBounds(t *testing.T) {
	tests := []struct {
		name      string
		ifMTU     int
		ceil      mtu.Size
		res       search.Result
		wantExact bool
		wantHi    int
		wantText  string
		wantNot   string // text that must not appear
	}{
		{
			name: "--max-size 1400 on loopback", ifMTU: 65536, ceil: 1400,
			res:       search.Result{PMTU: 1400, Confirmed: true, Lo: 1400, Hi: 1401, Probes: 1, Rounds: 1},
			wantExact: false, wantHi: 0,
			wantText: "path MTU to 127.0.0.1: at least 1400\n  a 1400-byte probe, the largest this search sent (--max-size), came back; larger sizes were not tried\n",
			wantNot:  "did not",
		},
		{
			name: "the interface is the limit", ifMTU: 1500, ceil: 1500,
			res:       search.Result{PMTU: 1500, Confirmed: true, Lo: 1500, Hi: 1501, Probes: 1, Rounds: 1},
			wantExact: true, wantHi: 0,
			wantText: "path MTU to 127.0.0.1: 1500\n  the egress interface is the limit: a 1500-byte probe (its MTU) came back\n",
		},
		{
			name: "loopback: the largest IP packet", ifMTU: 65536, ceil: 65535,
			res:       search.Result{PMTU: 65535, Confirmed: true, Lo: 65535, Hi: 65536, Probes: 1, Rounds: 1},
			wantExact: true, wantHi: 0,
			wantText: "path MTU to 127.0.0.1: 65535\n  a 65535-byte probe, the largest IP packet, came back; the egress interface allows 65536\n",
		},
		{
			name: "--max-size above the path MTU: a refusal proves it", ifMTU: 1500, ceil: 1450,
			res:       search.Result{PMTU: 1300, Confirmed: true, Lo: 1300, Hi: 1301, Probes: 5, Rounds: 3},
			wantExact: true, wantHi: 1301,
			wantText: "path MTU to 127.0.0.1: 1300\n  proved by probes: 1300 bytes came back, 1301 did not",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &measure.Report{Target: "127.0.0.1", Address: "127.0.0.1", Family: "ipv4", Interface: "lo", InterfaceMTU: tt.ifMTU}
			res := tt.res
			r.FromResult(&res, tt.ceil)
			if r.Exact != tt.wantExact || r.Hi != tt.wantHi || r.PMTU != int(tt.res.PMTU) {
				t.Errorf("pmtu %d, exact %v, refused_size %d; want %d, %v, %d", r.PMTU, r.Exact, r.Hi, tt.res.PMTU, tt.wantExact, tt.wantHi)
			}
			var out bytes.Buffer
			if err := finish(&out, r, findOpts{}); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), tt.wantText) {
				t.Errorf("text lacks %q:\n%s", tt.wantText, out.String())
			}
			if tt.wantNot != "" && strings.Contains(out.String(), tt.wantNot) {
				t.Errorf("text says %q:\n%s", tt.wantNot, out.String())
			}
		})
	}
}

// TestReportBelowFloor: a search whose --min-size lies above the path MTU
// says so, instead of claiming nothing replied at any size.
func TestReportBelowFloor(t *testing.T) {
	hop := netip.MustParseAddr("198.18.1.2")
	refusedByICMP := &search.Result{Lo: 0, Hi: 1401, Probes: 1, Rounds: 1,
		Events: []probe.Event{{Kind: probe.TooBig, From: hop, Type: 3, Code: 4, MTU: 1400}}}
	tests := []struct {
		name    string
		floor   mtu.Size
		res     *search.Result
		err     error
		want    bool
		wantErr string
	}{
		{name: "ICMP named a size below the floor", floor: 1450, res: refusedByICMP, err: probe.ErrNoReply, want: true,
			wantErr: "the path MTU is below --min-size 1450: sizes from 1401 up do not pass (198.18.1.2 named MTU 1400); lower --min-size to find it"},
		{name: "no --min-size", floor: 0, res: refusedByICMP, err: probe.ErrNoReply},
		{name: "nothing refused: silence", floor: 1450, res: &search.Result{Hi: 1501}, err: probe.ErrNoReply},
		{name: "another error", floor: 1450, res: refusedByICMP, err: context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &measure.Report{Family: "ipv4", InterfaceMTU: 1500}
			r.FromResult(tt.res, 1500)
			if got := r.BelowFloor(tt.err, tt.floor, tt.res); got != tt.want || r.Error != tt.wantErr {
				t.Errorf("belowFloor = %v, error %q; want %v, %q", got, r.Error, tt.want, tt.wantErr)
			}
		})
	}
}

func TestAssertions(t *testing.T) {
	tests := []struct {
		name string
		o    findOpts
		code int
	}{
		{"no assertion", findOpts{}, exitOK},
		{"expect holds", findOpts{expect: 1280}, exitOK},
		{"expect fails", findOpts{expect: 1400}, exitAssertion},
		{"at least holds", findOpts{atLeast: 1280}, exitOK},
		{"at least fails", findOpts{atLeast: 1300}, exitAssertion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &measure.Report{Address: "198.18.3.2", Target: "198.18.3.2", Family: "ipv4"}
			r.FromResult(chainResult(), 1500)
			err := finish(&bytes.Buffer{}, r, tt.o)
			code := exitOK
			if err != nil {
				code = exitUsage
				if ec, ok := err.(interface{ ExitCode() int }); ok {
					code = ec.ExitCode()
				}
			}
			if code != tt.code {
				t.Errorf("exit %d (%v), want %d", code, err, tt.code)
			}
		})
	}
}

func TestExplainFailure(t *testing.T) {
	r := &measure.Report{Family: "ipv4"}
	ev := probe.Event{Kind: probe.Unreachable, From: netip.MustParseAddr("198.18.1.2"), Type: 3, Code: 13}
	r.ExplainFailure(&probe.UnreachableError{Event: ev}, "t4", nil)
	if want := "198.18.1.2: communication administratively prohibited (type 3, code 13)"; !strings.HasPrefix(r.Error, want) {
		t.Errorf("error %q, want it to start %q", r.Error, want)
	}
	var got map[string]any
	b, _ := json.Marshal(r.Diagnosis)
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"from": "198.18.1.2", "type": 3.0, "code": 13.0, "kind": "filtered",
		"name": "communication administratively prohibited", "family": 4.0} {
		if got[k] != want {
			t.Errorf("diagnosis.%s = %v, want %v", k, got[k], want)
		}
	}
	for _, k := range []string{"sender", "meaning", "next"} {
		if s, _ := got[k].(string); s == "" {
			t.Errorf("diagnosis.%s is empty", k)
		}
	}
	for method, cause := range map[string]string{"icmp": "ICMP echo filtered", "udp-recverr": "UDP to that port filtered", "tcp": "port filtered without a reset"} {
		r.Method = method
		r.ExplainFailure(probe.ErrNoReply, "t4", nil)
		if !strings.HasPrefix(r.Error, "no reply from t4 at any size") || !strings.Contains(r.Error, cause) {
			t.Errorf("%s: error %q, want a no-reply sentence that asks whether %s", method, r.Error, cause)
		}
	}
	sendErr := &net.OpError{Op: "write", Net: "ip4:icmp", Err: os.NewSyscallError("sendmsg", syscall.ENOBUFS)}
	r.ExplainFailure(sendErr, "t4", nil)
	if want := "probing t4 stopped: no buffer space available"; r.Error != want {
		t.Errorf("error %q, want %q (the kernel's words, not the call)", r.Error, want)
	}
	r.ExplainFailure(context.Canceled, "t4", &search.Result{Lo: 1280, Hi: 1400})
	if !strings.Contains(r.Error, "1280 ≤ path MTU ≤ 1399") {
		t.Errorf("error %q, want the proved bounds", r.Error)
	}
}

func TestFlowsUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"flows with icmp", []string{"--flows", "4", "198.18.0.1"}, "--flows needs --proto udp or tcp: routers hash ICMP Echo by its addresses only"},
		{"no flows", []string{"--proto", "udp", "--flows", "0", "198.18.0.1"}, "--flows 0 is outside 1–1024"},
		{"too many flows", []string{"--proto", "udp", "--flows", "1025", "198.18.0.1"}, "--flows 1025 is outside 1–1024"},
		{"flow zero", []string{"--flow", "0", "198.18.0.1"}, "--flow 0 is outside 1–1024"},
		{"flow and flows", []string{"--proto", "udp", "--flow", "2", "--flows", "4", "198.18.0.1"}, "--flow and --flows exclude each other"},
		{"flows with many hosts", []string{"--proto", "udp", "--flows", "4", "198.18.0.1", "198.18.0.2"}, "--flows is for one HOST at a time"},
		{"trace flow out of range", []string{"trace", "--flow", "2000", "198.18.0.1"}, "--flow 2000 is outside 1–1024"},
		{"flow with many hosts", []string{"--flow", "4", "198.18.0.1", "198.18.0.2"}, "--flow is for one HOST at a time"},
		{"watch flow with many hosts", []string{"watch", "--flow", "4", "198.18.0.1", "198.18.0.2"}, "--flow is for one HOST at a time"},
		{"trace flows with icmp", []string{"trace", "--flows", "4", "198.18.0.1"}, "--flows needs --proto udp or tcp"},
		{"trace flow and flows", []string{"trace", "--proto", "tcp", "--flow", "1", "--flows", "4", "198.18.0.1"}, "exclude each other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := runApp(t, tt.args...)
			if code != exitUsage || out != "" {
				t.Errorf("exit %d, stdout %q; want exit %d and nothing", code, out, exitUsage)
			}
			if lines := strings.Split(strings.TrimSpace(errOut), "\n"); len(lines) != 1 || !strings.Contains(lines[0], tt.want) {
				t.Errorf("stderr %q, want one line that says %q", errOut, tt.want)
			}
		})
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pmtu/pmtu/measure"
	"github.com/pmtu/pmtu/measure/fleet"
	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/probe"
	"github.com/pmtu/pmtu/probe/search"
)

// fakeAnswer is what the fake search says of one host.
type fakeAnswer struct {
	pmtu      int  // found at this path MTU; 0: no answer
	blackHole bool // found by probes alone
	// interrupt: the search cancels the run, then ends with the bounds
	// 1280..1499 proved.
	interrupt bool
	// bound: the target never answers; r1 198.18.1.2 said bound.
	bound int
}

// fakeSearches makes many-target runs search a fake network, never a real
// one: a host not in answers does not resolve (bad input). The found
// answers go through report and manyRun.found as real ones do.
func fakeSearches(t *testing.T, answers map[string]fakeAnswer, cancel context.CancelFunc) {
	t.Helper()
	old := manySearch
	t.Cleanup(func() { manySearch = old })
	manySearch = func(m *manyRun) fleet.Search[*manyReport] {
		return func(ctx context.Context, tg fleet.Target) fleet.Result[*manyReport] {
			mr := &manyReport{Report: &measure.Report{Target: tg.Host, Events: []measure.Event{}}, Line: tg.Line}
			res := fleet.Result[*manyReport]{Value: mr}
			a, ok := answers[tg.Host]
			if !ok {
				mr.Error = fmt.Sprintf("cannot resolve %q: no such host", tg.Host)
				res.Status = fleet.BadInput
				return res
			}
			mr.Address, mr.Family, mr.Interface, mr.InterfaceMTU = "198.18.9.9", "ipv4", "veth1a", 1500
			switch {
			case a.interrupt:
				cancel()
				<-ctx.Done()
				pr := &search.Result{Lo: 1280, Hi: 1500}
				mr.FromResult(pr, 1500)
				mr.ExplainFailure(ctx.Err(), tg.Host, pr)
				res.Status = fleet.Interrupted
				return res
			case a.bound > 0:
				r1 := netip.MustParseAddr("198.18.1.2")
				pr := &probe.Result{Method: probe.MethodICMP, Result: search.Result{Hi: mtu.Size(a.bound + 1), Bound: mtu.Size(a.bound), BoundBy: r1,
					Probes: 30, Events: []probe.Event{{Kind: probe.TooBig, From: r1, Type: 3, Code: 4, MTU: mtu.Size(a.bound)}}}}
				mr.FromFind(pr, 2000)
				mr.ExplainFailure(probe.ErrNoReply, tg.Host, &pr.Result)
				res.Status = fleet.NoAnswer
				m.judgeUnanswered(&res, mr)
				return res
			case a.pmtu == 0:
				mr.FromResult(&search.Result{}, 1500)
				mr.ExplainFailure(probe.ErrNoReply, tg.Host, nil)
				res.Status = fleet.NoAnswer
				return res
			}
			pr := &search.Result{PMTU: mtu.Size(a.pmtu), Confirmed: true, Lo: mtu.Size(a.pmtu), Hi: mtu.Size(a.pmtu + 1), Probes: 2, Rounds: 2}
			if a.blackHole {
				pr.Silence = true
			} else if a.pmtu < 1500 {
				hop := netip.MustParseAddr("198.18.1.2")
				pr.ByICMP, pr.LimitingHop = true, hop
				pr.Events = []probe.Event{{Kind: probe.TooBig, From: hop, Type: 3, Code: 4, MTU: mtu.Size(a.pmtu)}}
			}
			mr.FromResult(pr, 1500)
			return m.found(res, mr)
		}
	}
}

// runMany runs pmtu with args under ctx, stdin reading stdin, stderr a
// terminal or not.
func runMany(t *testing.T, ctx context.Context, stdin string, terminal bool, args ...string) (string, string, int) {
	t.Helper()
	oldIn, oldTerm := manyStdin, isTerminal
	t.Cleanup(func() { manyStdin, isTerminal = oldIn, oldTerm })
	manyStdin = strings.NewReader(stdin)
	isTerminal = func(io.Writer) bool { return terminal }
	var out, errOut bytes.Buffer
	code := run(ctx, testWorld(), append([]string{"pmtu", "--no-cache", "--cache-file", filepath.Join(t.TempDir(), "c.json")}, args...), &out, &errOut)
	return out.String(), errOut.String(), code
}

var fleetAnswers = map[string]fakeAnswer{
	"db1.example": {pmtu: 1500},
	"198.18.3.2":  {pmtu: 1400},
	"2001:db8::2": {pmtu: 1280, blackHole: true},
	"quiet":       {},
}

const hostFile = `# the fleet
db1.example
198.18.3.2   # behind the tunnel

no-such-host
this is garbage
2001:db8::2
quiet
`

func writeHostFile(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "hosts.txt")
	if err := os.WriteFile(p, []byte(hostFile), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestManyText: -f FILE, one line per target in the order they end (one
// at a time here), bad lines named by their line number, then the
// summary; exit 2 for the bad lines.
func TestManyText(t *testing.T) {
	fakeSearches(t, fleetAnswers, nil)
	file := writeHostFile(t)
	out, errOut, code := runMany(t, context.Background(), "", false, "--parallel", "1", "-f", file)
	if code != exitUsage {
		t.Errorf("exit %d, want %d", code, exitUsage)
	}
	if errOut != "" {
		t.Errorf("stderr %q, want nothing", errOut)
	}
	want := []string{
		file + ":2: db1.example (198.18.9.9): 1500, interface veth1a",
		file + ":3: 198.18.3.2 (198.18.9.9): 1400, icmp from 198.18.1.2",
		file + `:5: cannot resolve "no-such-host": no such host`,
		file + `:6: "this is garbage": one host per line`,
		file + ":7: 2001:db8::2 (198.18.9.9): 1280, black hole: probes only (1281 vanished, no ICMP)",
		file + ":8: quiet (198.18.9.9): no answer: no reply from quiet at any size: probes or replies are dropped silently (is ICMP echo filtered, the host down, or the way back broken? try --proto tcp)",
		"6 targets in ELAPSED: 3 found, 1 no answer, 2 bad input",
		"  path MTU: 1500 ×1, 1400 ×1, 1280 ×1",
		"  black holes (found by probes alone, ICMP filtered): 1",
	}
	got := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(got) > 6 {
		got[6] = regexp.MustCompile(` in [0-9.]+m?s:`).ReplaceAllString(got[6], " in ELAPSED:")
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stdout (-want +got):\n%s", diff)
	}
}

// TestManyJSON: JSON Lines, one object per target with the single-target
// fields and "line"; nothing else on stdout, nothing on stderr when it is
// not a terminal.
func TestManyJSON(t *testing.T) {
	fakeSearches(t, fleetAnswers, nil)
	out, errOut, code := runMany(t, context.Background(), hostFile, false, "--json", "--parallel", "4", "-f", "-")
	if code != exitUsage {
		t.Errorf("exit %d, want %d", code, exitUsage)
	}
	if errOut != "" {
		t.Errorf("stderr %q, want nothing", errOut)
	}
	type obj struct {
		Target string `json:"target"`
		Line   int    `json:"line"`
		PMTU   int    `json:"pmtu"`
		Error  string `json:"error"`
		MSS    int    `json:"mss"`
	}
	got := map[int]obj{}
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		var o obj
		if err := json.Unmarshal([]byte(l), &o); err != nil {
			t.Fatalf("line %q is not one JSON object: %v", l, err)
		}
		got[o.Line] = o
	}
	want := map[int]obj{
		2: {Target: "db1.example", Line: 2, PMTU: 1500, MSS: 1460},
		3: {Target: "198.18.3.2", Line: 3, PMTU: 1400, MSS: 1360},
		5: {Target: "no-such-host", Line: 5, Error: `cannot resolve "no-such-host": no such host`},
		6: {Target: "this is garbage", Line: 6, Error: `"this is garbage": one host per line`},
		7: {Target: "2001:db8::2", Line: 7, PMTU: 1280, MSS: 1240},
		8: {Target: "quiet", Line: 8, Error: got[8].Error},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("objects by line (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(got[8].Error, "no reply from quiet") {
		t.Errorf("quiet: error %q", got[8].Error)
	}
}

// TestManyExitCodes: the exit status of a run, end to end over the fake.
func TestManyExitCodes(t *testing.T) {
	fakeSearches(t, fleetAnswers, nil)
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"all found", []string{"db1.example", "198.18.3.2"}, exitOK},
		{"all found, assertion held", []string{"--at-least", "1400", "db1.example", "198.18.3.2"}, exitOK},
		{"one no answer", []string{"db1.example", "quiet"}, exitNoAnswer},
		{"assertion failed beats no answer", []string{"--expect", "1500", "quiet", "198.18.3.2"}, exitAssertion},
		{"bad input beats no answer", []string{"quiet", "no-such-host"}, exitUsage},
		{"assertion failed beats bad input", []string{"--at-least", "1500", "no-such-host", "198.18.3.2"}, exitAssertion},
		{"garbage argument", []string{"db1.example", "x$y"}, exitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := runMany(t, context.Background(), "", false, tt.args...)
			if code != tt.want {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.want, out, errOut)
			}
		})
	}
}

func TestManyExitCode(t *testing.T) {
	tests := []struct {
		name string
		s    fleet.Summary
		want int
	}{
		{"all found", fleet.Summary{Done: 3, Found: 3}, exitOK},
		{"no answer", fleet.Summary{Done: 3, Found: 2, NoAnswer: 1}, exitNoAnswer},
		{"interrupted", fleet.Summary{Done: 3, Found: 2, Interrupted: 1, Cancelled: true}, exitNoAnswer},
		{"cancelled between searches", fleet.Summary{Done: 2, Found: 2, Cancelled: true}, exitNoAnswer},
		{"bad input", fleet.Summary{Done: 3, Found: 2, BadInput: 1}, exitUsage},
		{"bad input and no answer", fleet.Summary{Done: 3, Found: 1, BadInput: 1, NoAnswer: 1}, exitUsage},
		{"assertion", fleet.Summary{Done: 3, Found: 3, AssertionFailed: 1}, exitAssertion},
		{"assertion, bad input, no answer", fleet.Summary{Done: 4, Found: 2, AssertionFailed: 1, BadInput: 1, NoAnswer: 1}, exitAssertion},
		{"assertion, then Ctrl-C", fleet.Summary{Done: 2, Found: 1, AssertionFailed: 1, Interrupted: 1, Cancelled: true}, exitAssertion},
	}
	for _, tt := range tests {
		if got := manyExitCode(tt.s); got != tt.want {
			t.Errorf("%s: exit %d, want %d", tt.name, got, tt.want)
		}
	}
}

// TestManyInterrupt: Ctrl-C in the middle prints what finished and the
// bounds of the search in flight, says what was never searched, exit 1.
func TestManyInterrupt(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	answers := map[string]fakeAnswer{"db1.example": {pmtu: 1500}, "slow.example": {interrupt: true}, "198.18.3.2": {pmtu: 1400}}
	fakeSearches(t, answers, cancel)
	out, errOut, code := runMany(t, ctx, "", false, "--parallel", "1", "db1.example", "slow.example", "198.18.3.2")
	if code != exitNoAnswer {
		t.Errorf("exit %d, want %d", code, exitNoAnswer)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("stdout has %d lines, want 4:\n%s", len(lines), out)
	}
	if want := "slow.example (198.18.9.9): stopped before the search ended: 1280 ≤ path MTU ≤ 1499"; lines[1] != want {
		t.Errorf("line 2 %q, want %q", lines[1], want)
	}
	if !strings.Contains(lines[2], "1 found, 1 cut short; stopped with 1 not searched") {
		t.Errorf("summary %q", lines[2])
	}
	if errOut != "" {
		t.Errorf("stderr %q", errOut)
	}
}

// TestManyProgress: a progress line on stderr only when it is a terminal,
// never with --json (there the summary goes to the terminal instead).
func TestManyProgress(t *testing.T) {
	fakeSearches(t, fleetAnswers, nil)
	hosts := []string{"db1.example", "198.18.3.2"}
	_, errOut, _ := runMany(t, context.Background(), "", true, hosts...)
	if !strings.Contains(errOut, "2/2 done") || !strings.HasSuffix(errOut, "\r\033[K") {
		t.Errorf("terminal: stderr %q, want a progress line, cleared at the end", errOut)
	}
	out, errOut, _ := runMany(t, context.Background(), "", true, append([]string{"--json"}, hosts...)...)
	if strings.Contains(errOut, "done") || !strings.Contains(errOut, "2 targets in") {
		t.Errorf("terminal, --json: stderr %q, want the summary and no progress", errOut)
	}
	if strings.Contains(out, "targets in") {
		t.Errorf("--json: a summary on stdout: %q", out)
	}
	_, errOut, _ = runMany(t, context.Background(), "", false, hosts...)
	if errOut != "" {
		t.Errorf("not a terminal: stderr %q, want nothing", errOut)
	}
}

func TestManyUsageErrors(t *testing.T) {
	fakeSearches(t, fleetAnswers, nil)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"flag after hosts", []string{"db1.example", "198.18.3.2", "-4"}, "flags go before the hosts: -4"},
		{"file and hosts", []string{"-f", "-", "db1.example"}, "not both"},
		{"empty file name", []string{"-f", " "}, "-f needs a file name"},
		{"missing file", []string{"-f", "/nonexistent/hosts"}, "-f: open /nonexistent/hosts"},
		{"parallel 0", []string{"--parallel", "0", "a.example", "b.example"}, "--parallel 0 is outside"},
		{"rate 0", []string{"--rate", "0", "a.example", "b.example"}, "--rate 0 is outside"},
		{"verbose", []string{"-v", "a.example", "b.example"}, "-v is for one host"},
		{"probe flags still checked", []string{"-4", "-6", "a.example", "b.example"}, "exclude each other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := runMany(t, context.Background(), "", false, tt.args...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d", code, exitUsage)
			}
			if out != "" {
				t.Errorf("stdout %q", out)
			}
			if lines := strings.Split(strings.TrimSpace(errOut), "\n"); len(lines) != 1 || !strings.Contains(errOut, tt.want) {
				t.Errorf("stderr %q, want one line with %q", errOut, tt.want)
			}
		})
	}
}

// Every entry of a multi-target run is judged as pmtu HOST judges it,
// through the real search (probe.Lookup): a target without a path MTU is
// a bad-input line with the same sentence, and nothing is probed (each
// class is decided by the address alone, before any socket opens).
func TestManyRefusesTargets(t *testing.T) {
	out, errOut, code := runMany(t, context.Background(), "", false, "--json", "0.0.0.0", "224.0.0.1", "ff02::1")
	if code != exitUsage {
		t.Errorf("exit %d, want %d; stderr %q", code, exitUsage, errOut)
	}
	got := map[string]string{}
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		var o struct{ Target, Error string }
		if err := json.Unmarshal([]byte(l), &o); err != nil {
			t.Fatalf("line %q is not one JSON object: %v", l, err)
		}
		got[o.Target] = o.Error
	}
	want := map[string]string{
		"0.0.0.0":   "0.0.0.0 is the unspecified address: it names no host, so it has no path MTU; give the address of the host to measure",
		"224.0.0.1": "224.0.0.1 is a multicast group: it has no single path MTU; give the unicast address of one member",
		"ff02::1":   "ff02::1 is a multicast group: it has no single path MTU; give the unicast address of one member",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("errors by target (-want +got):\n%s", diff)
	}
	text, _, _ := runMany(t, context.Background(), "", false, "224.0.0.1", "0.0.0.0")
	if !strings.Contains(text, "224.0.0.1 is a multicast group: it has no single path MTU") || !strings.Contains(text, "bad input") {
		t.Errorf("text does not give the sentence as a bad-input line:\n%s", text)
	}
}

// A target that never answered behind a router that named 1500: a no
// answer line with the bound, pmtu the bound unconfirmed in JSON, and an
// assertion the bound rules out fails the run (exit 3), one it does not is
// a no answer (exit 1).
func TestManySilentBound(t *testing.T) {
	fakeSearches(t, map[string]fakeAnswer{"silent": {bound: 1500}, "db1.example": {pmtu: 1500}, "jumbo.example": {pmtu: 9000}}, nil)
	out, _, code := runMany(t, context.Background(), "", false, "--json", "silent", "db1.example")
	if code != exitNoAnswer {
		t.Errorf("exit %d, want %d", code, exitNoAnswer)
	}
	var got struct {
		PMTU      int    `json:"pmtu"`
		Confirmed bool   `json:"confirmed"`
		Reached   bool   `json:"reached"`
		Refused   int    `json:"refused_size"`
		Error     string `json:"error"`
	}
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if strings.Contains(l, `"target":"silent"`) {
			if err := json.Unmarshal([]byte(l), &got); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got.PMTU != 1500 || got.Confirmed || got.Reached || got.Refused != 1501 ||
		got.Error != "path MTU ≤ 1500: 198.18.1.2 said so; 198.18.9.9 never answered, so nothing beyond 198.18.1.2 is confirmed" {
		t.Errorf("silent: %+v", got)
	}
	tests := []struct {
		args []string
		code int
		line string
	}{
		{[]string{"silent", "db1.example"}, exitNoAnswer, "silent (198.18.9.9): no answer: path MTU ≤ 1500: 198.18.1.2 said so;"},
		{[]string{"--at-least", "1400", "silent", "db1.example"}, exitNoAnswer, "silent (198.18.9.9): no answer: path MTU ≤ 1500"},
		{[]string{"--at-least", "1600", "silent", "jumbo.example"}, exitAssertion, "; assertion failed: path MTU ≤ 1500 (198.18.1.2 said so) is below 1600"},
	}
	for _, tt := range tests {
		out, errOut, code := runMany(t, context.Background(), "", false, tt.args...)
		if code != tt.code || !strings.Contains(out, tt.line) {
			t.Errorf("pmtu %s: exit %d, want %d; want a line with %q:\n%s%s", strings.Join(tt.args, " "), code, tt.code, tt.line, out, errOut)
		}
	}
}

// A search --max-size stopped with nothing refused proved a lower bound:
// its line says "at least", not that the interface was the limit.
func TestManyLineAtLeast(t *testing.T) {
	mr := &manyReport{Report: &measure.Report{Target: "198.18.3.2", Address: "198.18.3.2", Family: "ipv4", InterfaceMTU: 1500, Interface: "veth1a"}}
	mr.FromResult(&search.Result{PMTU: 1400, Confirmed: true, Lo: 1400, Hi: 1401, Probes: 1, Rounds: 1}, 1400)
	if mr.Exact {
		t.Fatal("a search capped at 1400 on a 1500 interface is exact")
	}
	want := "198.18.3.2: 1400, at least: --max-size stopped the search, nothing was refused"
	if got := mr.line(fleet.Found); got != want {
		t.Errorf("line %q, want %q", got, want)
	}
}

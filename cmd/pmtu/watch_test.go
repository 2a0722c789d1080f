package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/urfave/cli/v2"
)

var t0 = time.Date(2026, 11, 27, 12, 3, 7, 0, time.UTC)

func TestWatcherObserve(t *testing.T) {
	ok1500 := watchSample{Address: "198.18.3.2", PMTU: 1500, Evidence: "probes"}
	ok1400 := watchSample{Address: "198.18.3.2", PMTU: 1400, Evidence: "icmp", LimitingHop: "198.18.2.2"}
	ok1400other := watchSample{Address: "198.18.3.2", PMTU: 1400, Evidence: "icmp", LimitingHop: "198.18.9.9"}
	hole := watchSample{Address: "198.18.3.2", PMTU: 1300, Evidence: "probes", BlackHole: true}
	lost := watchSample{Address: "198.18.3.2", Err: "no reply from 198.18.3.2 at any size"}
	lost2 := watchSample{Address: "198.18.3.2", Err: "198.18.1.2: host unreachable"}
	atLeast := watchSample{Address: "198.18.3.2", PMTU: 1400, Evidence: "probes", AtLeast: true}
	silent := watchSample{Address: "198.18.3.2", Max: 1500,
		Err: "path MTU ≤ 1500: 198.18.1.2 said so; 198.18.3.2 never answered, so nothing beyond 198.18.1.2 is confirmed"}
	tests := []struct {
		name    string
		samples []watchSample
		want    []string // the lines printed, in order
	}{
		{"steady", []watchSample{ok1500, ok1500, ok1500}, []string{"12:03:07 198.18.3.2 1500 (proved by probes)"}},
		{"one drop", []watchSample{ok1500, ok1500, ok1400, ok1400}, []string{
			"12:03:07 198.18.3.2 1500 (proved by probes)",
			"12:03:09 198.18.3.2 1500 → 1400 (198.18.2.2 said 1400)"}},
		{"another hop at the same size is no change", []watchSample{ok1400, ok1400other}, []string{
			"12:03:07 198.18.3.2 1400 (198.18.2.2 said 1400)"}},
		{"up again, then a black hole", []watchSample{ok1400, ok1500, hole}, []string{
			"12:03:07 198.18.3.2 1400 (198.18.2.2 said 1400)",
			"12:03:08 198.18.3.2 1400 → 1500 (proved by probes)",
			"12:03:09 198.18.3.2 1500 → 1300 (proved by probes; no ICMP came back: a black hole)"}},
		{"lost and found", []watchSample{ok1500, lost, lost2, ok1500}, []string{
			"12:03:07 198.18.3.2 1500 (proved by probes)",
			"12:03:08 198.18.3.2 1500 → no path MTU (no reply from 198.18.3.2 at any size)",
			"12:03:10 198.18.3.2 no path MTU → 1500 (proved by probes)"}},
		{"silent, with a router's bound", []watchSample{ok1500, silent, ok1500}, []string{
			"12:03:07 198.18.3.2 1500 (proved by probes)",
			"12:03:08 198.18.3.2 1500 → ≤ 1500, unconfirmed (path MTU ≤ 1500: 198.18.1.2 said so; 198.18.3.2 never answered, so nothing beyond 198.18.1.2 is confirmed)",
			"12:03:09 198.18.3.2 no path MTU → 1500 (proved by probes)"}},
		{"a --max-size lower bound", []watchSample{atLeast}, []string{
			"12:03:07 198.18.3.2 1400 (at least: --max-size stopped the search)"}},
		{"no answer from the start", []watchSample{lost}, []string{
			"12:03:07 198.18.3.2 no path MTU (no reply from 198.18.3.2 at any size)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w watcher
			var got []string
			for i, s := range tt.samples {
				if l, ok := w.observe(t0.Add(time.Duration(i)*time.Second), "198.18.3.2", s); ok {
					got = append(got, l.text())
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("lines (-want +got):\n%s", diff)
			}
		})
	}
}

// fakeClock is the loop's clock: each after() moves it on and fires at
// once, and the test stops the loop after a number of rounds.
type fakeClock struct {
	now    time.Time
	waits  []time.Duration
	rounds int
	cancel context.CancelFunc
}

func (c *fakeClock) Now() time.Time { return c.now }

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.waits = append(c.waits, d)
	c.now = c.now.Add(d)
	ch := make(chan time.Time, 1)
	if len(c.waits) >= c.rounds {
		c.cancel()
		return ch // never fires; ctx is done
	}
	ch <- c.now
	return ch
}

// scripted measures each host from a list, one entry a round, in
// no time.
func scripted(byHost map[string][]int, hop string) func(context.Context, string) watchSample {
	round := map[string]int{}
	var mu sync.Mutex // the loop measures its hosts at once
	return func(_ context.Context, host string) watchSample {
		mu.Lock()
		defer mu.Unlock()
		seq := byHost[host]
		i := min(round[host], len(seq)-1)
		round[host]++
		s := watchSample{Address: host, PMTU: seq[i], Evidence: "icmp", LimitingHop: hop}
		return s
	}
}

func TestWatchLoop(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clock := &fakeClock{now: t0, rounds: 5, cancel: cancel}
	var out bytes.Buffer
	l := &watchLoop{
		hosts: []string{"198.18.3.2", "198.18.2.2"}, interval: 10 * time.Second, out: &out,
		now: clock.Now, after: clock.After,
		measure: scripted(map[string][]int{
			"198.18.3.2": {1500, 1500, 1400, 1400, 1400},
			"198.18.2.2": {1500},
		}, "198.18.2.2"),
	}
	if err := l.run(ctx); err != nil {
		t.Fatalf("run: %v", err)
	}
	want := "12:03:07 198.18.3.2 1500 (198.18.2.2 said 1500)\n" +
		"12:03:07 198.18.2.2 1500 (198.18.2.2 said 1500)\n" +
		"12:03:27 198.18.3.2 1500 → 1400 (198.18.2.2 said 1400)\n"
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]time.Duration{10 * time.Second, 10 * time.Second, 10 * time.Second, 10 * time.Second, 10 * time.Second}, clock.waits); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
}

func TestWatchExitOnDropJSON(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clock := &fakeClock{now: t0, rounds: 10, cancel: cancel}
	var out bytes.Buffer
	l := &watchLoop{
		hosts: []string{"198.18.3.2"}, interval: time.Second, out: &out, json: true, exitOnDrop: true,
		now: clock.Now, after: clock.After,
		// A rise is no drop; the fall after it is.
		measure: scripted(map[string][]int{"198.18.3.2": {1400, 1500, 1500, 1280, 1280}}, "198.18.2.2"),
	}
	err := l.run(ctx)
	var ec cli.ExitCoder
	if err == nil || !strings.Contains(err.Error(), "fell from 1500 to 1280") || !asExit(err, &ec) || ec.ExitCode() != exitAssertion {
		t.Fatalf("run: %v, want exit 3 naming the fall", err)
	}
	if len(clock.waits) != 3 {
		t.Errorf("stopped after %d waits, want 3 (at the first fall)", len(clock.waits))
	}
	var lines []watchLine
	for _, s := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var l watchLine
		if err := json.Unmarshal([]byte(s), &l); err != nil {
			t.Fatalf("not JSON: %q: %v", s, err)
		}
		lines = append(lines, l)
	}
	want := []watchLine{
		{Time: t0, Target: "198.18.3.2", Address: "198.18.3.2", Event: "start", To: 1400, Evidence: "icmp", LimitingHop: "198.18.2.2"},
		{Time: t0.Add(time.Second), Target: "198.18.3.2", Address: "198.18.3.2", Event: "change", From: 1400, To: 1500, Evidence: "icmp", LimitingHop: "198.18.2.2"},
		{Time: t0.Add(3 * time.Second), Target: "198.18.3.2", Address: "198.18.3.2", Event: "change", From: 1500, To: 1280, Evidence: "icmp", LimitingHop: "198.18.2.2"},
	}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("JSON lines (-want +got):\n%s", diff)
	}
}

func asExit(err error, ec *cli.ExitCoder) bool {
	e, ok := err.(cli.ExitCoder)
	*ec = e
	return ok
}

func TestWatchUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"watch"}, "which hosts?"},
		{[]string{"watch", "198.18.0.1", "--json"}, "flags go before the hosts"},
		{[]string{"watch", "--interval", "10ms", "198.18.0.1"}, "--interval 10ms is below 100ms"},
		{[]string{"watch", "--tries", "0", "198.18.0.1"}, "--tries 0"},
		{[]string{"watch", "198.18.0.1", "no-such-host.invalid"}, `cannot resolve "no-such-host.invalid"`},
	}
	for _, tt := range tests {
		out, errOut, code := runApp(t, tt.args...)
		if code != exitUsage || out != "" || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, tt.want) {
			t.Errorf("pmtu %s: exit %d, stdout %q, stderr %q; want exit 2 and one line saying %q", strings.Join(tt.args, " "), code, out, errOut, tt.want)
		}
	}
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/pmtu/pmtu/measure"
	"github.com/urfave/cli/v2"
)

func newWatchCommand() *cli.Command {
	return &cli.Command{
		Name:      "watch",
		Usage:     "measure the path MTU to each HOST every --interval and print each change",
		UsageText: "pmtu watch [flags] HOST...",
		Description: "pmtu watch searches every HOST afresh each --interval (never from the cache), prints each " +
			"host's first path MTU, then one line per change: `12:03:07 198.18.3.2 1500 → 1400 (198.18.2.2 said 1400)`. " +
			"--json prints the same as JSON Lines. It runs until Ctrl-C or SIGTERM (exit 0), or with --exit-on-drop " +
			"until a path MTU falls (exit 3). Flags go before the hosts.",
		Flags: append(newProbeFlags(),
			&cli.DurationFlag{Name: "interval", Value: time.Minute, Usage: "measure every `D`"},
			&cli.BoolFlag{Name: "json", Usage: "print JSON Lines, one object per line printed"},
			&cli.BoolFlag{Name: "exit-on-drop", Usage: "exit 3 the first time a path MTU falls"},
			newNoReverseFlag(),
		),
		Action:          watch,
		HideHelpCommand: true,
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return cli.Exit("pmtu watch: "+err.Error()+" (see pmtu watch --help)", exitUsage)
		},
	}
}

func watch(cCtx *cli.Context) error {
	hosts := cCtx.Args().Slice()
	if len(hosts) == 0 {
		return usageError("pmtu: which hosts? usage: pmtu watch [flags] HOST...")
	}
	for _, h := range hosts {
		if len(h) > 1 && h[0] == '-' {
			return usageError(fmt.Sprintf("pmtu: flags go before the hosts: %s", h))
		}
		if h == "" {
			return usageError("pmtu: a host is empty")
		}
	}
	po, err := parseProbeFlags(cCtx)
	if err != nil {
		return err
	}
	if po.flow != 0 && len(hosts) > 1 {
		// Hosts are measured at once, and one source port binds once.
		return usageError("pmtu: --flow is for one HOST at a time")
	}
	interval := cCtx.Duration("interval")
	if interval < 100*time.Millisecond {
		return usageError(fmt.Sprintf("pmtu: --interval %v is below 100ms", interval))
	}
	// A host that does not resolve, or a bad --netns, is bad input:
	// find out before the first round.
	for _, h := range hosts {
		o := po
		o.host = h
		if _, _, err := lookup(cCtx.Context, o, o.options()); err != nil {
			return err
		}
	}
	// Every round measures afresh: no cache.
	mo := &measure.Options{Probe: *po.options(), Fresh: true}
	l := &watchLoop{
		hosts: hosts, interval: interval, out: cCtx.App.Writer,
		json: cCtx.Bool("json"), exitOnDrop: cCtx.Bool("exit-on-drop"),
		now:   time.Now,
		after: time.After,
		measure: func(ctx context.Context, host string) watchSample {
			// Notes were said once, by the lookup before the first round.
			return sampleOf(measure.Host(ctx, host, mo))
		},
	}
	return l.run(cCtx.Context)
}

// sampleOf is what watch keeps of one measurement: the adapter between
// measure and the change logic.
func sampleOf(rep *measure.Report, err error) watchSample {
	s := watchSample{}
	if rep != nil {
		s.Address = rep.Address
		s.PMTU, s.Evidence, s.LimitingHop, s.BlackHole = rep.PMTU, rep.Evidence, rep.LimitingHop, rep.BlackHole
		s.AtLeast = rep.Confirmed && !rep.Exact
	}
	if err != nil {
		s.PMTU, s.Err = 0, err.Error()
		if rep != nil && rep.Bounded() {
			// The target never answered; a router proved a bound.
			s.Max = rep.PMTU
		}
	}
	return s
}

// watchSample is one host's measurement, as watch compares them.
type watchSample struct {
	Address     string
	PMTU        int // 0 when none was found
	Evidence    string
	LimitingHop string
	BlackHole   bool
	// AtLeast is true when --max-size stopped the search with nothing
	// refused: PMTU is a lower bound, not the path MTU.
	AtLeast bool
	Err     string // why none was found
	// Max, when none was found, is the bound a router's ICMP proved
	// (unconfirmed); 0 if none.
	Max int
}

// watchLine is one line watch prints: a host's first measurement, or a
// change. Its JSON is the --json output.
type watchLine struct {
	Time    time.Time `json:"time"`
	Target  string    `json:"target"`
	Address string    `json:"address"`
	// Event is "start" (the first measurement), "change" (the path MTU
	// moved), "lost" (no path MTU now) or "found" (one again).
	Event       string `json:"event"`
	From        int    `json:"from"` // 0: none (start, or found after lost)
	To          int    `json:"to"`   // 0: none (lost)
	Evidence    string `json:"evidence,omitempty"`
	LimitingHop string `json:"limiting_hop,omitempty"`
	BlackHole   bool   `json:"black_hole,omitempty"`
	// AtLeast: to is a lower bound (--max-size stopped the search).
	AtLeast bool   `json:"at_least,omitempty"`
	Error   string `json:"error,omitempty"`
	// PMTUMax, with to 0, is the unconfirmed bound a router proved.
	PMTUMax int `json:"pmtu_max,omitempty"`
}

// drop says whether the line is a path MTU falling (--exit-on-drop).
func (l watchLine) drop() bool { return l.Event == "change" && l.To < l.From }

// text is the line as printed without --json, in local time:
//
//	12:03:07 198.18.3.2 1500 → 1400 (198.18.2.2 said 1400)
func (l watchLine) text() string {
	name := l.Target
	if l.Address != "" && l.Address != l.Target {
		name = fmt.Sprintf("%s (%s)", l.Target, l.Address)
	}
	size := func(n int) string {
		if n == 0 {
			return "no path MTU"
		}
		return fmt.Sprint(n)
	}
	to := size(l.To)
	if l.To == 0 && l.PMTUMax > 0 {
		to = fmt.Sprintf("≤ %d, unconfirmed", l.PMTUMax)
	}
	why := ""
	switch {
	case l.To == 0:
		why = l.Error
	case l.Evidence == "icmp" && l.LimitingHop != "":
		why = fmt.Sprintf("%s said %d", l.LimitingHop, l.To)
	case l.AtLeast:
		why = "at least: --max-size stopped the search"
	case l.BlackHole:
		why = "proved by probes; no ICMP came back: a black hole"
	default:
		why = "proved by probes"
	}
	ts := l.Time.Format("15:04:05")
	if l.Event == "start" {
		return fmt.Sprintf("%s %s %s (%s)", ts, name, to, why)
	}
	return fmt.Sprintf("%s %s %s → %s (%s)", ts, name, size(l.From), to, why)
}

// watcher remembers each host's last measurement and says what changed.
// It is pure: the caller gives it the time.
type watcher struct {
	last map[string]watchSample
}

// observe takes host's new sample at now and returns the line to print,
// if any: the first sample of a host, a new path MTU, a path MTU lost or
// found again. A new error after an error, or another limiting hop for
// the same size, is no change.
func (w *watcher) observe(now time.Time, host string, s watchSample) (watchLine, bool) {
	if w.last == nil {
		w.last = map[string]watchSample{}
	}
	prev, seen := w.last[host]
	w.last[host] = s
	l := watchLine{Time: now, Target: host, Address: s.Address, From: prev.PMTU, To: s.PMTU,
		Evidence: s.Evidence, LimitingHop: s.LimitingHop, BlackHole: s.BlackHole, AtLeast: s.AtLeast, Error: s.Err, PMTUMax: s.Max}
	if l.Address == "" {
		l.Address = prev.Address
	}
	switch {
	case !seen:
		l.Event, l.From = "start", 0
	case prev.PMTU == s.PMTU:
		return watchLine{}, false
	case s.PMTU == 0:
		l.Event = "lost"
	case prev.PMTU == 0:
		l.Event = "found"
	default:
		l.Event = "change"
	}
	if s.PMTU == 0 {
		l.Evidence, l.LimitingHop, l.BlackHole = "", "", false
	}
	return l, true
}

// watchLoop measures every host each interval and prints what changed.
// The clock and the measurement are injected, so tests run it without a
// network and without sleeping.
type watchLoop struct {
	hosts      []string
	interval   time.Duration
	out        io.Writer
	json       bool
	exitOnDrop bool
	now        func() time.Time
	after      func(time.Duration) <-chan time.Time
	measure    func(ctx context.Context, host string) watchSample
}

// watchParallel bounds the hosts measured at once in a round.
const watchParallel = 16

// run measures until ctx is done (nil) or, with exitOnDrop, a path MTU
// falls (exit 3).
func (l *watchLoop) run(ctx context.Context) error {
	var w watcher
	for {
		start := l.now()
		samples := make([]watchSample, len(l.hosts))
		var wg sync.WaitGroup
		sem := make(chan struct{}, watchParallel)
		for i, h := range l.hosts {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				samples[i] = l.measure(ctx, h)
			})
		}
		wg.Wait()
		if ctx.Err() != nil {
			return nil // a round cut short by Ctrl-C says nothing
		}
		at := l.now()
		for i, h := range l.hosts {
			line, ok := w.observe(at, h, samples[i])
			if !ok {
				continue
			}
			if err := l.print(line); err != nil {
				return err
			}
			if l.exitOnDrop && line.drop() {
				return cli.Exit(fmt.Sprintf("pmtu: path MTU to %s fell from %d to %d", h, line.From, line.To), exitAssertion)
			}
		}
		wait := l.interval - l.now().Sub(start)
		if wait < 0 {
			wait = 0
		}
		select {
		case <-ctx.Done():
			return nil
		case <-l.after(wait):
		}
	}
}

func (l *watchLoop) print(line watchLine) error {
	if l.json {
		b, err := json.Marshal(line)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(l.out, "%s\n", b)
		return err
	}
	_, err := fmt.Fprintln(l.out, line.text())
	return err
}

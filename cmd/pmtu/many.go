package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pmtu/pmtu/measure"
	"github.com/pmtu/pmtu/measure/fleet"
	"github.com/pmtu/pmtu/probe"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"
)

// Defaults of --parallel and --rate; README.md says why. In short: the
// searches share one raw socket per family (probe.Engine), so a search in
// flight costs a goroutine and an identifier, not a socket that every ICMP
// is copied to; scripts/bench.sh many prints 8 beside 32 and 256, all
// exact. --parallel mostly bounds how many silent searches (black holes,
// dead hosts) wait out their timeouts at once. 1000 probes a second with a
// burst of 20 stays within a Linux router's host-wide budget for the ICMP
// errors it rate-limits (net.ipv4.icmp_msgs_per_sec 1000, icmp_msgs_burst
// 50), even if every probe drew one.
const (
	defaultParallel = 32
	defaultRate     = 1000
	maxParallel     = 256
)

// newManyFlags are the flags of runs over many targets.
func newManyFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "file", Aliases: []string{"f"}, Usage: "read the hosts from `FILE`, one a line (# comments; - is stdin)"},
		&cli.IntFlag{Name: "parallel", Value: defaultParallel, Usage: "run `N` searches at once (with many hosts)"},
		&cli.Float64Flag{Name: "rate", Value: defaultRate, Usage: "send at most `PPS` probes a second, all searches together (with many hosts)"},
	}
}

// manyTargets says whether the command line names more than one target:
// -f, or several hosts before any flag-like argument (a flag after the
// host is find's usage error).
func manyTargets(cCtx *cli.Context) bool {
	if cCtx.IsSet("file") {
		return true
	}
	args := cCtx.Args().Slice()
	return len(args) > 1 && !strings.HasPrefix(args[1], "-")
}

// What findMany asks of the world; tests replace them.
var (
	// isTerminal says whether w is a terminal: the progress line and the
	// JSON mode's summary go to stderr only then.
	isTerminal = func(w io.Writer) bool {
		f, ok := w.(*os.File)
		return ok && term.IsTerminal(int(f.Fd()))
	}
	manyStdin io.Reader = os.Stdin
	// manySearch makes the search of one target; tests give a fake.
	manySearch = func(m *manyRun) fleet.Search[*manyReport] { return m.search }
)

// manyOpts are the flags of a many-target run, checked.
type manyOpts struct {
	findOpts
	file     string
	hosts    []string
	parallel int
	rate     float64
}

func parseManyOpts(cCtx *cli.Context) (manyOpts, error) {
	var o manyOpts
	args := cCtx.Args().Slice()
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			return o, usageError(fmt.Sprintf("pmtu: flags go before the hosts: %s", a))
		}
	}
	if cCtx.IsSet("file") && len(args) > 0 {
		return o, usageError("pmtu: give hosts with -f FILE or as arguments, not both")
	}
	po, err := parseProbeFlags(cCtx)
	if err != nil {
		return o, err
	}
	fo, err := findFlags(cCtx, po)
	if err != nil {
		return o, err
	}
	o = manyOpts{findOpts: fo, file: cCtx.String("file"), hosts: args, parallel: cCtx.Int("parallel"), rate: cCtx.Float64("rate")}
	switch {
	case cCtx.IsSet("file") && strings.TrimSpace(o.file) == "":
		return o, usageError("pmtu: -f needs a file name (- for stdin)")
	case o.verbose:
		return o, usageError("pmtu: -v is for one host: its probe-by-probe lines would interleave")
	case o.parallel < 1 || o.parallel > maxParallel:
		return o, usageError(fmt.Sprintf("pmtu: --parallel %d is outside 1–%d", o.parallel, maxParallel))
	case !(o.rate >= 1 && o.rate <= 1e6):
		return o, usageError(fmt.Sprintf("pmtu: --rate %v is outside 1–1000000 probes a second", o.rate))
	}
	return o, nil
}

// manyReport is one target's line of a many-target run: the report of
// pmtu HOST, plus where the target came from and which assertion failed.
// Its JSON is the single-target object with "line" and "assertion" added.
type manyReport struct {
	*measure.Report
	// Line is the line of -f FILE that named the target.
	Line int `json:"line,omitempty"`
	// Assertion says which --expect or --at-least failed.
	Assertion string `json:"assertion,omitempty"`
}

// manyRun is the state shared by the searches of one run.
type manyRun struct {
	o manyOpts
	// session is the workflow of every target: one cache read at the
	// start, one write at the end, one Engine (a raw ICMP socket per
	// family for all searches), one packet budget.
	session *measure.Session
	mu      sync.Mutex
	// fatal is an error no target can get past (no permission to open a
	// probe socket): the first one stops the run.
	fatal  error
	cancel context.CancelFunc
	input  string // the file name, for "FILE:LINE: "
}

// findMany is pmtu HOST HOST... and pmtu -f FILE: one line per target as
// its search ends, then a summary (text), or JSON Lines.
func findMany(cCtx *cli.Context) error {
	o, err := parseManyOpts(cCtx)
	if err != nil {
		return err
	}
	w, ew := cCtx.App.Writer, cCtx.App.ErrWriter
	ctx := cCtx.Context
	if o.deadline > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.deadline)
		defer cancel()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// A burst of a fiftieth of a second's budget: 20 at the default rate,
	// within a Linux router's icmp_msgs_burst of 50.
	budget := probe.NewBudget(o.rate, int(o.rate/50))
	engine := probe.NewEngine(nil)
	defer engine.Close()
	mo := o.measureOptions(cCtx)
	mo.Probe.Pace, mo.Probe.Engine = budget.Wait, engine
	m := &manyRun{o: o, cancel: cancel, session: measure.NewSession(mo)}
	defer m.session.Close()
	targets, total, closeInput, err := m.openTargets(o)
	if err != nil {
		return err
	}
	defer closeInput()

	showProgress := isTerminal(ew)
	out := &manyPrinter{w: w, ew: ew, json: o.json, progress: showProgress && !o.json, input: m.input}
	sum := fleet.Run(ctx, targets, manySearch(m), out.print, &fleet.Config{Parallel: o.parallel, Total: total})
	out.clearProgress()
	m.session.Save(cCtx.Context)
	if !o.json {
		writeSummary(w, sum, total)
	} else if showProgress {
		writeSummary(ew, sum, total)
	}
	if m.fatal != nil {
		return m.fatal
	}
	if code := manyExitCode(sum); code != exitOK {
		return cli.Exit("", code)
	}
	return nil
}

// openTargets opens the targets: the arguments, or -f FILE. total is their
// number if known beforehand (for the progress's ETA), else 0.
func (m *manyRun) openTargets(o manyOpts) (targets iter.Seq[fleet.Target], total int, closeFn func(), err error) {
	if o.file == "" {
		return fleet.Hosts(o.hosts), len(o.hosts), func() {}, nil
	}
	if o.file == "-" {
		m.input = "stdin"
		return fleet.Lines(manyStdin), 0, func() {}, nil
	}
	m.input = o.file
	f, err := os.Open(o.file)
	if err != nil {
		return nil, 0, nil, cli.Exit(fmt.Sprintf("pmtu: -f: %v", err), exitUsage)
	}
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		// Count the hosts first: a cheap read that gives the ETA.
		for range fleet.Lines(f) {
			total++
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			f.Close()
			return nil, 0, nil, cli.Exit(fmt.Sprintf("pmtu: -f: %v", err), exitUsage)
		}
	}
	return fleet.Lines(f), total, func() { f.Close() }, nil
}

// search answers one target the way find answers one HOST
// (measure.Session.Host). What stops one target (a name that does not
// resolve, no route) is its result, not the run's end; what would stop
// every target (no way to probe here) stops the run.
func (m *manyRun) search(ctx context.Context, t fleet.Target) fleet.Result[*manyReport] {
	rep, err := m.session.Host(ctx, t.Host)
	if rep == nil {
		rep = &measure.Report{Target: t.Host, Events: []measure.Event{}, Error: err.Error()}
	}
	mr := &manyReport{Report: rep, Line: t.Line}
	res := fleet.Result[*manyReport]{Value: mr}
	if err == nil {
		return m.found(res, mr)
	}
	switch measure.KindOf(err) {
	case measure.BadInput:
		res.Status = fleet.BadInput
	case measure.CannotProbe:
		m.stop(exitError(err))
		res.Status = fleet.NoAnswer
	case measure.Stopped:
		res.Status = fleet.Interrupted
	default:
		res.Status = fleet.NoAnswer
		if rep.Source != "" {
			m.judgeUnanswered(&res, mr)
		}
	}
	return res
}

// found fills in a found target's result and checks the assertions.
func (m *manyRun) found(res fleet.Result[*manyReport], mr *manyReport) fleet.Result[*manyReport] {
	res.Status, res.PMTU, res.BlackHole = fleet.Found, mr.PMTU, mr.BlackHole
	mr.Assertion = mr.Assert(m.o.expect, m.o.atLeast)
	res.AssertionFailed = mr.Assertion != ""
	return res
}

// stop ends the run on an error every target would meet.
func (m *manyRun) stop(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fatal == nil {
		m.fatal = err
		m.cancel()
	}
}

// manyExitCode is the exit status of a run: 3 if any assertion failed,
// else 2 if any input was bad, else 1 if any target had no answer or was
// cut short, else 0. A proved failure outranks a bad line, which outranks
// a missing answer: each is what an operator must act on first.
func manyExitCode(s fleet.Summary) int {
	switch {
	case s.AssertionFailed > 0:
		return exitAssertion
	case s.BadInput > 0:
		return exitUsage
	case s.NoAnswer > 0 || s.Interrupted > 0 || s.Cancelled:
		return exitNoAnswer
	}
	return exitOK
}

// manyPrinter writes each result as it comes, and keeps the progress line
// on stderr below them when stderr is a terminal.
type manyPrinter struct {
	w, ew    io.Writer
	json     bool
	progress bool
	input    string    // the -f file's name, for "FILE:LINE: "
	shown    bool      // a progress line is on the terminal
	last     time.Time // when it was drawn
}

func (p *manyPrinter) print(r fleet.Result[*manyReport], pr fleet.Progress) {
	p.clearProgress()
	mr := r.Value
	if mr == nil { // a bad line of the input, never searched
		mr = &manyReport{Report: &measure.Report{Target: r.Target.Host, Events: []measure.Event{}}, Line: r.Target.Line}
		mr.Error = r.Target.Err.Error()
	}
	if p.json {
		b, err := json.Marshal(mr)
		if err == nil {
			fmt.Fprintf(p.w, "%s\n", b)
		}
	} else {
		where := ""
		if r.Target.Line > 0 {
			where = fmt.Sprintf("%s:%d: ", p.input, r.Target.Line)
		}
		fmt.Fprintln(p.w, where+mr.line(r.Status))
	}
	if p.progress && (time.Since(p.last) > 100*time.Millisecond || pr.Done == pr.Total) {
		fmt.Fprintf(p.ew, "pmtu: %s", pr)
		p.shown, p.last = true, time.Now()
	}
}

func (p *manyPrinter) clearProgress() {
	if p.shown {
		fmt.Fprint(p.ew, "\r\033[K")
		p.shown = false
	}
}

// line is a target's one line of text: "NAME: PMTU, how", or
// "NAME: what went wrong".
func (mr *manyReport) line(st fleet.Status) string {
	name := mr.Target
	if mr.Address != "" && mr.Address != mr.Target {
		name = fmt.Sprintf("%s (%s)", mr.Target, mr.Address)
	}
	var b strings.Builder
	switch st {
	case fleet.BadInput:
		if mr.Error != "" && !strings.Contains(mr.Error, fmt.Sprintf("%q", mr.Target)) {
			fmt.Fprintf(&b, "%q: ", mr.Target)
		}
		b.WriteString(mr.Error)
		return b.String()
	case fleet.NoAnswer:
		fmt.Fprintf(&b, "%s: no answer: %s", name, mr.Error)
		if mr.Assertion != "" {
			b.WriteString("; assertion failed: " + mr.Assertion)
		}
		return b.String()
	case fleet.Interrupted:
		fmt.Fprintf(&b, "%s: %s", name, mr.Error)
		return b.String()
	}
	fmt.Fprintf(&b, "%s: %d, ", name, mr.PMTU)
	switch {
	case mr.Source == "cache":
		b.WriteString("cached")
		if mr.Evidence == "icmp" && mr.LimitingHop != "" {
			b.WriteString(" (icmp from " + mr.LimitingHop + ")")
		}
	case mr.Evidence == "icmp":
		b.WriteString("icmp from " + mr.LimitingHop)
	case !mr.Exact && mr.Confirmed:
		b.WriteString("at least: --max-size stopped the search, nothing was refused")
	case mr.Hi == 0:
		fmt.Fprintf(&b, "interface %s", mr.Interface)
	case mr.BlackHole:
		fmt.Fprintf(&b, "black hole: probes only (%d vanished, no ICMP)", mr.Hi)
	default:
		fmt.Fprintf(&b, "probes (%d did not pass)", mr.Hi)
	}
	if mr.Assertion != "" {
		b.WriteString("; assertion failed: " + mr.Assertion)
	}
	return b.String()
}

// writeSummary ends a text run: how many targets at each path MTU, and
// how many found nothing.
func writeSummary(w io.Writer, s fleet.Summary, total int) {
	var b strings.Builder
	fmt.Fprintf(&b, "%s in %s: %d found", plural(s.Done, "target"), s.Elapsed.Round(time.Millisecond), s.Found)
	for _, c := range []struct {
		n    int
		what string
	}{{s.NoAnswer, "no answer"}, {s.Interrupted, "cut short"}, {s.BadInput, "bad input"}, {s.AssertionFailed, "assertion failed"}} {
		if c.n > 0 {
			fmt.Fprintf(&b, ", %d %s", c.n, c.what)
		}
	}
	if s.Cancelled {
		if total > 0 {
			fmt.Fprintf(&b, "; stopped with %d not searched", total-s.Done)
		} else {
			b.WriteString("; stopped before the end of the list")
		}
	}
	b.WriteString("\n")
	if len(s.ByPMTU) > 0 {
		mtus := make([]int, 0, len(s.ByPMTU))
		for m := range s.ByPMTU {
			mtus = append(mtus, m)
		}
		slices.SortFunc(mtus, func(a, b int) int { return b - a })
		b.WriteString("  path MTU:")
		for i, m := range mtus {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, " %d ×%d", m, s.ByPMTU[m])
		}
		b.WriteString("\n")
	}
	if s.BlackHoles > 0 {
		fmt.Fprintf(&b, "  black holes (found by probes alone, ICMP filtered): %d\n", s.BlackHoles)
	}
	io.WriteString(w, b.String())
}

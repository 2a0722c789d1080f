package fleet

import (
	"context"
	"fmt"
	"iter"
	"sync"
	"sync/atomic"
	"time"
)

// Target is one host to search, as the input named it.
type Target struct {
	Host string
	// Line is the line of the input file that named it, from 1; 0 when
	// the host came from the command line.
	Line int
	// Index is its position among the targets, from 0.
	Index int
	// Err is set when the input is not a host; Run does not search it
	// and reports it as BadInput.
	Err error
}

// Status says how one search ended.
type Status int

const (
	// Found: the path MTU was found.
	Found Status = iota
	// NoAnswer: no probe was answered, or the target is unreachable.
	NoAnswer
	// BadInput: the input line is not a host, or the name does not
	// resolve.
	BadInput
	// Interrupted: the run's context ended before the search did.
	Interrupted
)

func (s Status) String() string {
	switch s {
	case Found:
		return "found"
	case NoAnswer:
		return "no answer"
	case BadInput:
		return "bad input"
	case Interrupted:
		return "interrupted"
	}
	return "unknown"
}

// Result is one finished search: what Run counts, and the caller's own
// answer (Value), which Run hands to the sink and then forgets.
type Result[V any] struct {
	Target Target
	Status Status
	// PMTU is the path MTU when Status is Found.
	PMTU int
	// BlackHole: sizes above PMTU vanished without an ICMP.
	BlackHole bool
	// AssertionFailed: the answer broke the caller's assertion
	// (--expect, --at-least).
	AssertionFailed bool
	Value           V
}

// Search answers one target. It must return promptly, with what it proved,
// once ctx is done (Status Interrupted). It is called from many goroutines
// at once.
type Search[V any] func(ctx context.Context, t Target) Result[V]

// Config tunes Run; nil means the defaults.
type Config struct {
	// Parallel is how many searches run at once; 0 means 1.
	Parallel int
	// Total is the number of targets, if known beforehand (for the
	// progress's ETA); 0 if not.
	Total int
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// Progress is how far a run has come, as the sink is told with each
// Result.
type Progress struct {
	Done    int // results handed to the sink, this one included
	Total   int // Config.Total; 0 if unknown
	Elapsed time.Duration
}

// Summary is what a run found, counted.
type Summary struct {
	Done int // results handed to the sink
	// ByPMTU counts the targets found at each path MTU.
	ByPMTU          map[int]int
	Found           int
	BlackHoles      int // found, by probes alone: ICMP filtered on the path
	NoAnswer        int
	BadInput        int
	Interrupted     int
	AssertionFailed int
	// Cancelled: the context ended before every target was searched.
	Cancelled bool
	Elapsed   time.Duration
}

func (s *Summary) add(st Status, pmtu int, blackHole, assertion bool) {
	s.Done++
	switch st {
	case Found:
		s.Found++
		s.ByPMTU[pmtu]++
		if blackHole {
			s.BlackHoles++
		}
	case NoAnswer:
		s.NoAnswer++
	case BadInput:
		s.BadInput++
	case Interrupted:
		s.Interrupted++
	}
	if assertion {
		s.AssertionFailed++
	}
}

// Run searches every target, at most cfg.Parallel at once, and hands each
// Result to sink as it finishes, from the goroutine that called Run. A
// Target with Err set is not searched: its Result is BadInput. Run returns
// when every target it started has been handed to the sink; if ctx ended
// first, it starts no more and Summary.Cancelled is set.
func Run[V any](ctx context.Context, targets iter.Seq[Target], search Search[V], sink func(Result[V], Progress), cfg *Config) Summary {
	if cfg == nil {
		cfg = &Config{}
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	parallel := max(1, cfg.Parallel)
	start := now()
	sum := Summary{ByPMTU: map[int]int{}}

	jobs := make(chan Target)
	results := make(chan Result[V], parallel)
	// fedAll is set once every target was handed to a worker. The feeder
	// is not waited for: it may be blocked reading the input (a terminal,
	// a pipe) when ctx ends.
	var (
		fedAll atomic.Bool
		fed    atomic.Int64
	)
	go func() {
		defer close(jobs)
		for t := range targets {
			select {
			case jobs <- t:
				fed.Add(1)
			case <-ctx.Done():
				return
			}
		}
		fedAll.Store(true)
	}()
	var workers sync.WaitGroup
	for range parallel {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for {
				var t Target
				var ok bool
				select {
				case t, ok = <-jobs:
				case <-ctx.Done():
					return
				}
				if !ok || ctx.Err() != nil {
					// Nothing is started once the run is cancelled.
					return
				}
				if t.Err != nil {
					results <- Result[V]{Target: t, Status: BadInput}
					continue
				}
				r := search(ctx, t)
				r.Target = t
				results <- r
			}
		}()
	}
	go func() {
		workers.Wait()
		close(results)
	}()
	for r := range results {
		sum.add(r.Status, r.PMTU, r.BlackHole, r.AssertionFailed)
		sink(r, Progress{Done: sum.Done, Total: cfg.Total, Elapsed: now().Sub(start)})
	}
	// Cancelled: a target was never read, or read and never started.
	sum.Cancelled = !fedAll.Load() || int64(sum.Done) < fed.Load()
	sum.Elapsed = now().Sub(start)
	return sum
}

// String is a progress line: "120/1000 done, 240/s, ETA 3.7s" (without the
// total and ETA when the total is unknown).
func (p Progress) String() string {
	rate := 0.0
	if s := p.Elapsed.Seconds(); s > 0 {
		rate = float64(p.Done) / s
	}
	if p.Total <= 0 {
		return fmt.Sprintf("%d done, %.0f/s", p.Done, rate)
	}
	eta := "?"
	if rate > 0 && p.Done <= p.Total {
		eta = time.Duration(float64(p.Total-p.Done) / rate * float64(time.Second)).Round(100 * time.Millisecond).String()
	}
	return fmt.Sprintf("%d/%d done, %.0f/s, ETA %s", p.Done, p.Total, rate, eta)
}

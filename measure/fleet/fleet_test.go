package fleet

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func hosts(n int) []string {
	hs := make([]string, n)
	for i := range hs {
		hs[i] = fmt.Sprintf("198.18.%d.%d", i/250, i%250+1)
	}
	return hs
}

// TestRunThousand: 1000 targets, 64 at a time. Every target is answered
// once; no more than 64 searches ever run at once, and all 64 do; the sink
// sees results while searches still run, and results made but not yet
// handed out never pile up beyond twice the parallelism.
func TestRunThousand(t *testing.T) {
	const n, parallel = 1000, 64
	var inFlight, maxInFlight, made, sunk atomic.Int64
	var maxPending atomic.Int64
	firstSunk := make(chan struct{})
	var once sync.Once
	search := func(ctx context.Context, tg Target) Result[string] {
		cur := inFlight.Add(1)
		for {
			m := maxInFlight.Load()
			if cur <= m || maxInFlight.CompareAndSwap(m, cur) {
				break
			}
		}
		if tg.Index != 0 {
			// Nothing but target 0 ends before the sink has had a
			// result: a Run that held results back would stall here.
			select {
			case <-firstSunk:
			case <-time.After(10 * time.Second):
				t.Errorf("target %d: the sink saw nothing while searches ran", tg.Index)
			}
		}
		if tg.Index == 0 {
			// Wait until every worker has a search, so the cap is
			// reached.
			for deadline := time.Now().Add(10 * time.Second); inFlight.Load() < parallel && time.Now().Before(deadline); {
				time.Sleep(100 * time.Microsecond)
			}
		}
		inFlight.Add(-1)
		p := made.Add(1) - sunk.Load()
		for {
			m := maxPending.Load()
			if p <= m || maxPending.CompareAndSwap(m, p) {
				break
			}
		}
		return Result[string]{Status: Found, PMTU: 1280 + tg.Index%3*100, Value: tg.Host}
	}
	seen := map[int]int{}
	var lastDone int
	sum := Run(context.Background(), Hosts(hosts(n)), search, func(r Result[string], p Progress) {
		sunk.Add(1)
		once.Do(func() { close(firstSunk) })
		seen[r.Target.Index]++
		if r.Value != r.Target.Host {
			t.Errorf("result %q for target %q", r.Value, r.Target.Host)
		}
		if p.Done != lastDone+1 || p.Total != n {
			t.Errorf("progress %+v after %d", p, lastDone)
		}
		lastDone = p.Done
	}, &Config{Parallel: parallel, Total: n})

	if len(seen) != n {
		t.Errorf("%d targets answered, want %d", len(seen), n)
	}
	for i, c := range seen {
		if c != 1 {
			t.Errorf("target %d answered %d times", i, c)
		}
	}
	if m := maxInFlight.Load(); m != parallel {
		t.Errorf("at most %d searches ran at once, want exactly %d", m, parallel)
	}
	if m := maxPending.Load(); m > 2*parallel+1 {
		t.Errorf("%d results waited for the sink at once, want at most %d", m, 2*parallel+1)
	}
	want := Summary{Done: n, Found: n, ByPMTU: map[int]int{1280: 334, 1380: 333, 1480: 333}}
	sum.Elapsed = 0
	if diff := cmp.Diff(want, sum); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
}

// TestRunCompletionOrder: results reach the sink in the order the searches
// end, not the order of the input.
func TestRunCompletionOrder(t *testing.T) {
	sunk := make([]chan struct{}, 3)
	for i := range sunk {
		sunk[i] = make(chan struct{})
	}
	after := map[int]int{0: 2, 1: 0} // target 0 ends after 2 was handed out, 1 after 0
	search := func(ctx context.Context, tg Target) Result[int] {
		if w, ok := after[tg.Index]; ok {
			<-sunk[w]
		}
		return Result[int]{Status: Found, PMTU: 1500, Value: tg.Index}
	}
	var got []int
	Run(context.Background(), Hosts(hosts(3)), search, func(r Result[int], _ Progress) {
		got = append(got, r.Value)
		close(sunk[r.Value])
	}, &Config{Parallel: 3})
	if diff := cmp.Diff([]int{2, 0, 1}, got); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}

// TestRunCounts: every status is counted; bad input is not searched.
func TestRunCounts(t *testing.T) {
	targets := func(yield func(Target) bool) {
		outcomes := []Target{
			{Host: "a"}, {Host: "b"}, {Host: "c"}, {Host: "d"}, {Host: "e"},
			{Host: "bad", Err: errors.New("garbage")}, {Host: "f"},
		}
		for i, tg := range outcomes {
			tg.Index = i
			if !yield(tg) {
				return
			}
		}
	}
	var searched sync.Map
	search := func(ctx context.Context, tg Target) Result[int] {
		searched.Store(tg.Host, true)
		switch tg.Host {
		case "a", "b":
			return Result[int]{Status: Found, PMTU: 1500}
		case "c":
			return Result[int]{Status: Found, PMTU: 1400, BlackHole: true, AssertionFailed: true}
		case "d":
			return Result[int]{Status: NoAnswer}
		case "e":
			return Result[int]{Status: BadInput} // a name that does not resolve
		}
		return Result[int]{Status: Found, PMTU: 1400}
	}
	sum := Run(context.Background(), targets, search, func(Result[int], Progress) {}, &Config{Parallel: 3})
	if _, ok := searched.Load("bad"); ok {
		t.Error("a bad input line was searched")
	}
	sum.Elapsed = 0
	want := Summary{Done: 7, ByPMTU: map[int]int{1500: 2, 1400: 2}, Found: 4, BlackHoles: 1, NoAnswer: 1, BadInput: 2, AssertionFailed: 1}
	if diff := cmp.Diff(want, sum); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
}

// TestRunCancel: once the context ends, no search starts; those in flight
// end Interrupted and still reach the sink; Run returns.
//
// The first 20 targets answer at once, the others wait for the cancel. The
// cancel comes once the 20 answers are in and every worker is in one of the
// waiting searches: then exactly parallel searches are in flight. Cancelling
// on the 20th answer alone raced the workers: it could come before any
// search beyond the 20th had started, leaving none to interrupt.
func TestRunCancel(t *testing.T) {
	const parallel = 8
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var started atomic.Int64
	var afterCancel atomic.Int64
	// waiting gets one value per search that waits for the cancel; no
	// send blocks (there are at most 1000).
	waiting := make(chan struct{}, 1000)
	search := func(ctx context.Context, tg Target) Result[int] {
		if ctx.Err() != nil {
			afterCancel.Add(1)
		}
		started.Add(1)
		if tg.Index < 20 {
			return Result[int]{Status: Found, PMTU: 1500}
		}
		waiting <- struct{}{}
		<-ctx.Done()
		return Result[int]{Status: Interrupted}
	}
	var statuses []Status
	sum := Run(ctx, Hosts(hosts(1000)), search, func(r Result[int], p Progress) {
		statuses = append(statuses, r.Status)
		if p.Done != 20 {
			return
		}
		// Every answer is in and none is pending, so each worker is
		// free to take a target beyond the 20th, and none can finish
		// one: all parallel of them start one and wait.
		for i := range parallel {
			select {
			case <-waiting:
			case <-time.After(10 * time.Second):
				t.Errorf("after 20 answers, %d of %d workers started a search", i, parallel)
				cancel()
				return
			}
		}
		cancel()
	}, &Config{Parallel: parallel})
	if n := afterCancel.Load(); n != 0 {
		t.Errorf("%d searches started after the cancel", n)
	}
	if !sum.Cancelled {
		t.Error("Summary.Cancelled is false")
	}
	if sum.Found != 20 || sum.Interrupted != parallel {
		t.Errorf("found %d, interrupted %d; want 20 and %d", sum.Found, sum.Interrupted, parallel)
	}
	if int(started.Load()) != len(statuses) {
		t.Errorf("%d searches started, %d reached the sink", started.Load(), len(statuses))
	}
	if slices.Index(statuses, Interrupted) < 20 {
		t.Errorf("an interrupted result came before the 20 found ones: %v", statuses)
	}
}

// TestRunCancelWhileReading: the input blocks (a terminal on stdin); a
// cancel still ends Run.
func TestRunCancelWhileReading(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	block := make(chan struct{})
	defer close(block)
	targets := func(yield func(Target) bool) {
		if !yield(Target{Host: "a"}) {
			return
		}
		<-block
	}
	search := func(ctx context.Context, tg Target) Result[int] { return Result[int]{Status: Found, PMTU: 1500} }
	done := make(chan Summary)
	go func() {
		done <- Run(ctx, targets, search, func(Result[int], Progress) { cancel() }, nil)
	}()
	select {
	case sum := <-done:
		if !sum.Cancelled || sum.Found != 1 {
			t.Errorf("summary %+v, want 1 found and cancelled", sum)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after the cancel")
	}
}

func TestProgressString(t *testing.T) {
	tests := []struct {
		p    Progress
		want string
	}{
		{Progress{Done: 120, Total: 1000, Elapsed: 500 * time.Millisecond}, "120/1000 done, 240/s, ETA 3.7s"},
		{Progress{Done: 0, Total: 10}, "0/10 done, 0/s, ETA ?"},
		{Progress{Done: 50, Elapsed: 2 * time.Second}, "50 done, 25/s"},
	}
	for _, tt := range tests {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.p, got, tt.want)
		}
	}
}

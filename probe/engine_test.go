package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/time/rate"

	"github.com/pmtu/pmtu/internal/probetest"
	"github.com/pmtu/pmtu/probe/transport"
	"github.com/pmtu/pmtu/probe/wire"
)

// Find with an Engine: 60 targets behind one router, each with its own
// MTU, searched at once over the Engine's one socket and one packet
// budget; no search opens a socket of its own.
func TestFindEngine(t *testing.T) {
	src := netip.MustParseAddr("198.18.0.1")
	var paths []*probetest.Path
	for i := range 60 {
		dst := netip.AddrFrom4([4]byte{198, 19, 0, byte(i + 1)})
		paths = append(paths, &probetest.Path{Src: src, Dst: dst, RTT: time.Millisecond,
			Hops: []probetest.Hop{{Addr: netip.MustParseAddr("198.18.1.2"), MTU: 1400 - i}, {Addr: dst, MTU: 1500}}})
	}
	nw := fakeNetwork(probetest.NewClock(), paths...)
	nw.now = time.Now // the shared fake socket runs on the real clock
	nw.open = func(Proto, netip.Addr, *transport.OpenConfig) (wire.Conn, Method, error) {
		return nil, "", errors.New("a search opened a socket of its own")
	}
	shared := probetest.NewNetwork(paths...)
	var listens int
	e := &Engine{t: transport.NewEngine(&transport.EngineConfig{Listen: func(bool, *transport.OpenConfig) (net.PacketConn, error) {
		listens++
		return shared, nil
	}})}
	defer e.Close()
	o := &Options{Engine: e, Pace: NewBudget(10000, 20).Wait, sys: nw}
	want, got := map[string]string{}, map[string]string{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, p := range paths {
		want[p.Dst.String()] = fmt.Sprintf("%d icmp %s", p.Hops[0].MTU, MethodICMP)
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := Find(context.Background(), p.Dst.String(), o)
			s := fmt.Sprint(err)
			if err == nil {
				s = fmt.Sprintf("%d %s %s", res.PMTU, map[bool]string{true: "icmp", false: "probes"}[res.ByICMP], res.Method)
			}
			mu.Lock()
			got[p.Dst.String()] = s
			mu.Unlock()
		}()
	}
	wg.Wait()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	if listens != 1 {
		t.Errorf("%d shared sockets opened, want 1", listens)
	}
	if n := len(shared.Sends()); n < len(paths) {
		t.Errorf("%d probes on the shared socket for %d targets", n, len(paths))
	}
}

// limitedAnswers is a conn whose target rate-limits its answers.
type limitedAnswers struct{ every time.Duration }

func (c limitedAnswers) ReplyLimit() (int, time.Duration) { return 6, c.every }

// The searches of an Engine toward one rate-limited target draw on one
// answer budget: 200 of them at once never take more tokens than the
// target earns (a burst of 6, then one per millisecond here); another
// target has a budget of its own, and an unlimited conn or no Engine
// none.
func TestEngineAnswers(t *testing.T) {
	e := NewEngine(nil)
	defer e.Close()
	dst := netip.MustParseAddr("198.19.0.1")
	c := limitedAnswers{every: time.Millisecond}
	start := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var last time.Time
	for range 200 {
		wg.Go(func() {
			if err := e.answers("", dst, c)(context.Background()); err != nil {
				t.Error(err)
			}
			mu.Lock()
			if n := time.Now(); n.After(last) {
				last = n
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	earned := 6 + int(last.Sub(start)/time.Millisecond) + 1
	if 200 > earned {
		t.Fatalf("200 answers taken in %v; the target earns only %d", last.Sub(start), earned)
	}
	if n := len(e.targets); n != 1 {
		t.Fatalf("%d budgets for one target, want 1", n)
	}
	e.answers("", netip.MustParseAddr("198.19.0.2"), c)
	e.answers("other-netns", dst, c)
	if n := len(e.targets); n != 3 {
		t.Fatalf("%d budgets for three targets, want 3", n)
	}
	if e.answers("", dst, struct{}{}) != nil {
		t.Error("a conn whose answers are not limited got an answer budget")
	}
	if (*Engine)(nil).answers("", dst, c) != nil {
		t.Error("no Engine gave an answer budget")
	}
}

// An Engine keeps its answer budgets while they may be in use, and drops
// those that have filled again once it holds maxIdleBudgets.
func TestEngineAnswersIdle(t *testing.T) {
	e := NewEngine(nil)
	defer e.Close()
	clock := probetest.NewClock()
	e.now = clock.Now
	c := limitedAnswers{every: time.Second}
	for i := range maxIdleBudgets {
		e.answers("", netip.AddrFrom4([4]byte{198, 19, byte(i >> 8), byte(i)}), c)
	}
	clock.Advance(time.Second) // not yet full again
	e.answers("", netip.MustParseAddr("198.18.9.1"), c)
	if n := len(e.targets); n != maxIdleBudgets+1 {
		t.Fatalf("%d budgets kept after 1 s, want %d: none had filled", n, maxIdleBudgets+1)
	}
	clock.Advance(6 * time.Second) // the first ones have filled again
	e.answers("", netip.MustParseAddr("198.18.9.2"), c)
	if n := len(e.targets); n != 2 {
		t.Fatalf("%d budgets kept after 7 s, want 2: the one drawn on 6 s ago and the new", n)
	}
}

// TestEngineLocalAddrs: an Engine reads a namespace's addresses once for
// the searches of the next localFor, then again, so that a server that
// runs for months follows the host's addresses; each namespace has its
// own.
func TestEngineLocalAddrs(t *testing.T) {
	e := NewEngine(nil)
	defer e.Close()
	clock := probetest.NewClock()
	e.now = clock.Now
	reads := 0
	nw := &network{localAddrs: func() func(netip.Addr) bool {
		reads++
		return func(netip.Addr) bool { return false }
	}}
	o := &Options{Engine: e}
	for _, step := range []struct {
		advance time.Duration
		netns   string
		want    int
	}{
		{0, "", 1},
		{localFor / 2, "", 1},
		{0, "other", 2},
		{localFor / 2, "", 3},
		{0, "", 3},
		{0, "other", 3},
		{localFor, "other", 4},
	} {
		clock.Advance(step.advance)
		o.Netns = step.netns
		o.localAddrs(nw)
		if reads != step.want {
			t.Fatalf("after %v, netns %q: %d reads, want %d", step.advance, step.netns, reads, step.want)
		}
	}
}

// Budget.Wait waits for a token due after the context's deadline until
// the deadline, which ends it as the context's own error, and gives back
// a token it waited for in vain.
func TestBudgetWait(t *testing.T) {
	tests := []struct {
		name    string
		timeout time.Duration // 0: cancelled after 20 ms instead
		want    error
	}{
		{"token due after the deadline", 20 * time.Millisecond, context.DeadlineExceeded},
		{"cancelled", 0, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBudget(10, 1) // a token every 100 ms
			if err := b.Wait(context.Background()); err != nil {
				t.Fatalf("the burst's token: %v", err)
			}
			start := time.Now()
			ctx, cancel := context.WithCancel(context.Background())
			if tt.timeout > 0 {
				ctx, cancel = context.WithTimeout(context.Background(), tt.timeout)
			} else {
				time.AfterFunc(20*time.Millisecond, cancel)
			}
			defer cancel()
			if err := b.Wait(ctx); !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
			if took := time.Since(start); took < 20*time.Millisecond {
				t.Errorf("returned after %v, before the context ended", took)
			}
			// The token given back is due 100 ms after the first, not 200.
			b.Wait(context.Background())
			if took := time.Since(start); took > 150*time.Millisecond {
				t.Errorf("the next token came %v later: the one waited for in vain was not given back", took)
			}
		})
	}
}

// BenchmarkBudgetWait: Budget.Wait against rate.Limiter.Wait at pmtu's
// highest --rate (1e6 a second, burst 20000 as cmd/pmtu sets it; run it
// with -benchtime 2000000x so that the burst is a small part), one sender
// and every CPU at once; and /cost, at a rate no sender reaches: what a
// token costs.
func BenchmarkBudgetWait(b *testing.B) {
	ctx := context.Background()
	for _, r := range []struct {
		name  string
		pps   float64
		burst int
	}{{"1e6", 1e6, 20000}, {"cost", 1e15, 1 << 30}} {
		for _, w := range []struct {
			name string
			wait func() func(context.Context) error
		}{
			{"Budget", func() func(context.Context) error { return NewBudget(r.pps, r.burst).Wait }},
			{"rate.Limiter", func() func(context.Context) error { return rate.NewLimiter(rate.Limit(r.pps), r.burst).Wait }},
		} {
			b.Run(r.name+"/"+w.name, func(b *testing.B) {
				wait := w.wait()
				b.ReportAllocs()
				for b.Loop() {
					if err := wait(ctx); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(r.name+"/"+w.name+"/parallel", func(b *testing.B) {
				wait := w.wait()
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := wait(ctx); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	}
}

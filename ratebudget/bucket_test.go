package ratebudget

import (
	"context"
	"errors"
	"math"
	"slices"
	"sync"
	"testing"
	"time"
)

// fakeClock moves only when the test advances it. It counts the senders
// blocked in After, so the test advances only when every sender waits.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []fakeWaiter
}

type fakeWaiter struct {
	due time.Time
	ch  chan time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.waiters = append(c.waiters, fakeWaiter{c.now.Add(d), ch})
	return ch
}

func (c *fakeClock) blocked() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiters)
}

// advance moves to the earliest due waiter and wakes every waiter due by
// then, each told its due time.
func (c *fakeClock) advance() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.waiters) == 0 {
		return
	}
	next := c.waiters[0].due
	for _, w := range c.waiters {
		if w.due.Before(next) {
			next = w.due
		}
	}
	c.now = next
	keep := c.waiters[:0]
	for _, w := range c.waiters {
		if w.due.After(c.now) {
			keep = append(keep, w)
			continue
		}
		w.ch <- w.due
	}
	c.waiters = keep
}

// TestNeverExceeded: 50 senders take 2000 tokens between them; over any
// window of W, no more than Burst + Rate*W were granted, and the bucket
// does not starve them either (the last grant comes when the rate says).
func TestNeverExceeded(t *testing.T) {
	tests := []struct {
		name  string
		rate  float64
		burst int
	}{
		{"1000 pps burst 20", 1000, 20},
		{"300 pps burst 1", 300, 1},
		{"10000 pps burst 200", 10000, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const senders, each = 50, 40
			clk := &fakeClock{now: time.Unix(1e9, 0)}
			b, err := New(tt.rate, tt.burst, clk)
			if err != nil {
				t.Fatal(err)
			}
			var (
				mu     sync.Mutex
				grants []time.Time
				done   sync.WaitGroup
				left   = senders
			)
			for range senders {
				done.Add(1)
				go func() {
					defer done.Done()
					for range each {
						d := b.reserve()
						at := clk.Now()
						if d > 0 {
							at = <-clk.After(d)
						}
						mu.Lock()
						grants = append(grants, at)
						mu.Unlock()
					}
					mu.Lock()
					left--
					mu.Unlock()
				}()
			}
			for {
				mu.Lock()
				l := left
				mu.Unlock()
				if l == 0 {
					break
				}
				if clk.blocked() < l {
					time.Sleep(50 * time.Microsecond) // let the senders reach After
					continue
				}
				clk.advance()
			}
			done.Wait()
			slices.SortFunc(grants, func(a, b time.Time) int { return a.Compare(b) })
			if len(grants) != senders*each {
				t.Fatalf("%d grants, want %d", len(grants), senders*each)
			}
			for _, w := range []time.Duration{time.Millisecond, 10 * time.Millisecond, 100 * time.Millisecond, time.Second} {
				limit := tt.burst + int(math.Floor(tt.rate*w.Seconds()))
				for i, start := range grants {
					j, _ := slices.BinarySearchFunc(grants, start.Add(w), func(a, b time.Time) int { return a.Compare(b) })
					if n := j - i; n > limit {
						t.Fatalf("%d grants in the %v from %v, want at most %d", n, w, start.Sub(grants[0]), limit)
					}
				}
			}
			span := grants[len(grants)-1].Sub(grants[0])
			want := time.Duration(float64(senders*each-tt.burst) / tt.rate * float64(time.Second))
			if span < want-time.Millisecond || span > want+time.Millisecond {
				t.Errorf("the last grant came %v after the first, want %v", span, want)
			}
		})
	}
}

func TestWaitCancelled(t *testing.T) {
	clk := &fakeClock{now: time.Unix(1e9, 0)}
	b, err := New(1, 1, clk)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := b.Wait(ctx); err != nil {
		t.Fatalf("first token: %v", err)
	}
	errc := make(chan error, 1)
	go func() { errc <- b.Wait(ctx) }()
	for clk.blocked() == 0 {
		time.Sleep(50 * time.Microsecond)
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("Wait after cancel = %v, want context.Canceled", err)
	}
	if err := b.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait on a done context = %v, want context.Canceled", err)
	}
}

func TestNewRejects(t *testing.T) {
	for _, tt := range []struct {
		rate  float64
		burst int
	}{{0, 1}, {-5, 1}, {10, 0}, {math.NaN(), 1}} {
		if _, err := New(tt.rate, tt.burst, nil); err == nil {
			t.Errorf("New(%v, %d) gave no error", tt.rate, tt.burst)
		}
	}
}

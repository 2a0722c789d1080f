package ratebudget

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Clock is the time a Bucket runs on.
type Clock interface {
	Now() time.Time
	// After sends on the channel once d has passed.
	After(d time.Duration) <-chan time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Bucket is a token bucket. Make one with New; it is safe for concurrent
// use.
type Bucket struct {
	rate  float64 // tokens a second
	burst float64
	clock Clock

	mu     sync.Mutex
	tokens float64   // may go negative: tokens promised to waiting senders
	last   time.Time // when tokens was last brought up to date
}

// New returns a full bucket of burst tokens that gains rate tokens a
// second; a nil clock is the system's. rate must be positive and burst at
// least 1.
func New(rate float64, burst int, clock Clock) (*Bucket, error) {
	if !(rate > 0) || burst < 1 {
		return nil, fmt.Errorf("ratebudget: rate %v and burst %d must be positive", rate, burst)
	}
	if clock == nil {
		clock = systemClock{}
	}
	return &Bucket{rate: rate, burst: float64(burst), clock: clock, tokens: float64(burst), last: clock.Now()}, nil
}

// Rate is the tokens a Bucket gains a second.
func (b *Bucket) Rate() float64 { return b.rate }

// Burst is how many tokens a Bucket holds at most.
func (b *Bucket) Burst() int { return int(b.burst) }

// reserve takes a token, now or in the future, and says how long the
// caller must wait before it is its own.
func (b *Bucket) reserve() time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.clock.Now()
	if el := now.Sub(b.last); el > 0 {
		b.tokens = min(b.burst, b.tokens+el.Seconds()*b.rate)
		b.last = now
	}
	b.tokens--
	if b.tokens >= 0 {
		return 0
	}
	// Round up: waking a nanosecond early would spend a token not yet
	// earned.
	return time.Duration(-b.tokens/b.rate*float64(time.Second)) + 1
}

// Wait takes one token, waiting until one is due. It returns ctx.Err() if
// ctx ends first; the token it had reserved is then forfeit, which keeps
// the budget on the safe side.
func (b *Bucket) Wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d := b.reserve()
	if d <= 0 {
		return nil
	}
	select {
	case <-b.clock.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

package search

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/probe/ratelimit"
	"github.com/pmtu/pmtu/probe/wire"
)

// Outcome is what one probe of a Sample earned.
type Outcome uint8

// Outcomes.
const (
	Pending  Outcome = iota // not judged: not sent, or its wait was cut short
	Lost                    // nothing came back within the wait
	Returned                // the target answered: the path carried it
	Refused                 // a router refused its size (Fragmentation Needed, Packet Too Big)
	Rejected                // another ICMP error answered it
)

// SampleConfig tunes a Sampler. The zero value (or nil) uses the
// defaults.
type SampleConfig struct {
	// Wait is the longest a probe is waited for after the last of its
	// batch left; 0 means 1 s. Once a round trip is measured, a batch
	// waits a few round trips (at least 100 ms), as a parallel round of
	// Discover does.
	Wait time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Trace, if set, is told every event as it is read.
	Trace func(wire.Event)
	// Pace, if set, is called before each probe is sent and may wait:
	// the packet budget (pmtu's --rate).
	Pace func(context.Context) error
	// Share is how many Samplers share the target's answer limit (a
	// ReplyLimiter Conn, UDP): each spends 1/Share of it. 0 means 1.
	Share int
}

// Sampler sends batches of probes of given sizes over one Conn and says
// which came back: the measurement under a loss profile by size
// (package lossprofile). Unlike Discover it judges nothing: every probe
// counts once, whatever its size. Between sends it reads what has come
// back, so that a long batch never fills the socket's buffer.
//
// Over a Conn whose target rate-limits its answers (ReplyLimiter: UDP's
// Port Unreachable), probes are spaced to that limit, so that silence is
// loss and not the target's limit: such a profile is slow (Linux answers
// one a second).
type Sampler struct {
	conn   wire.Conn
	cfg    SampleConfig
	now    func() time.Time
	wait   time.Duration
	rtt    time.Duration
	seq    int
	limit  *ratelimit.Bucket // the target's answer limit; nil if none
	probes int
}

// NewSampler returns a Sampler over c.
func NewSampler(c wire.Conn, cfg *SampleConfig) *Sampler {
	s := &Sampler{conn: c}
	if cfg != nil {
		s.cfg = *cfg
	}
	s.now = s.cfg.Now
	if s.now == nil {
		s.now = time.Now
	}
	s.wait = s.cfg.Wait
	if s.wait <= 0 {
		s.wait = time.Second
	}
	if rl, ok := c.(ReplyLimiter); ok {
		if burst, every := rl.ReplyLimit(); burst > 0 {
			share := max(s.cfg.Share, 1)
			s.limit = ratelimit.NewBucket(ratelimit.Limit{Burst: max(1, burst/2/share), Every: every * time.Duration(share)})
		}
	}
	return s
}

// Limited reports whether the target rate-limits its answers, so that
// the Sampler spaces its probes to that limit.
func (s *Sampler) Limited() bool { return s.limit != nil }

// Probes is how many probes the Sampler has sent.
func (s *Sampler) Probes() int { return s.probes }

// drainStep is how long a read between two sends waits.
const drainStep = 500 * time.Microsecond

// Sample sends one probe of each size, in order, and returns what each
// earned. An answer that comes after its batch's wait is not counted.
// On an error (a failed send or read, ctx's) it returns what was learned
// so far: the probes not sent, or whose wait was cut short, Pending (no
// evidence either way).
func (s *Sampler) Sample(ctx context.Context, sizes []mtu.Size) ([]Outcome, error) {
	out := make([]Outcome, len(sizes))
	pending := map[int]int{} // seq → index in sizes
	sentAt := map[int]time.Time{}
	take := func(ev wire.Event) {
		if s.cfg.Trace != nil {
			s.cfg.Trace(ev)
		}
		i, ok := pending[ev.Seq]
		if !ok || ev.Kind == wire.Ignored {
			return
		}
		switch ev.Kind {
		case wire.Reached:
			out[i] = Returned
			s.rtt = max(s.rtt, ev.At.Sub(sentAt[ev.Seq]))
		case wire.TooBig:
			out[i] = Refused
		default:
			out[i] = Rejected
		}
		delete(pending, ev.Seq)
	}
	// read reads until every probe is answered or until passes; with
	// rest, until until passes whatever is pending.
	read := func(until time.Time, rest bool) error {
		for rest || len(pending) > 0 {
			ev, err := s.conn.Recv(until)
			if err != nil {
				if errors.Is(err, os.ErrDeadlineExceeded) {
					return nil
				}
				return fmt.Errorf("reading replies: %w", err)
			}
			take(ev)
		}
		return nil
	}
	var last time.Time
	for i, size := range sizes {
		if err := s.budget(ctx, read); err != nil {
			return out, err
		}
		s.seq++
		last = s.now()
		sentAt[s.seq] = last
		if err := s.conn.Send(ctx, wire.Probe{Seq: s.seq, Size: size}); err != nil {
			if ctx.Err() != nil {
				return out, ctx.Err()
			}
			return out, fmt.Errorf("sending a %d-byte probe: %w", size, err)
		}
		s.probes++
		pending[s.seq] = i
		if err := read(s.now().Add(drainStep), false); err != nil {
			return out, err
		}
	}
	wait := s.wait
	if s.rtt > 0 {
		wait = min(wait, max(minRoundWait, rttFactor*s.rtt+20*time.Millisecond))
	}
	until := last.Add(wait)
	if d, ok := ctx.Deadline(); ok && d.Before(until) {
		until = d
	}
	if err := read(until, false); err != nil {
		return out, err
	}
	if err := ctx.Err(); err != nil {
		return out, err
	}
	for _, i := range pending {
		out[i] = Lost
	}
	return out, nil
}

// budget waits for what the next probe needs: a token of the target's
// answer limit, reading what comes meanwhile (on the Conn's clock), then
// one of the packet budget.
func (s *Sampler) budget(ctx context.Context, read func(until time.Time, rest bool) error) error {
	if s.limit != nil {
		for {
			now := s.now()
			at := s.limit.ReadyAt(now)
			if !at.After(now) {
				break
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if step := now.Add(restStep); step.Before(at) {
				at = step
			}
			if err := read(at, true); err != nil {
				return err
			}
		}
		s.limit.Spend(s.now())
	}
	if s.cfg.Pace != nil {
		return s.cfg.Pace(ctx)
	}
	return nil
}

package probe

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/pmtu/pmtu/probe/wire"
)

// Config tunes Discover. The zero value (or nil) uses the defaults.
type Config struct {
	// Floor and Ceil bound the search. Ceil should be the egress device
	// MTU (package route reads it); 0 means 1500. Floor 0 means the
	// family's minimum (68 or 1280).
	Floor, Ceil Size
	// Wait is how long one try waits for an answer; 0 means 1 s.
	Wait time.Duration
	// Tries is how many unanswered probes make a size too big; 0 means 3.
	Tries int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Trace, if set, is told every event as it is read (for -v).
	Trace func(wire.Event)
}

// Result is what Discover found.
type Result struct {
	Target netip.Addr
	// PMTU is the path MTU, proved by a probe of exactly this size coming
	// back; 0 if none came back.
	PMTU Size
	// Confirmed is true when PMTU is set: a probe of that size came back.
	Confirmed bool
	// Lo and Hi are the bounds proved when the search ended: the path
	// carries Lo (0: nothing proved) and does not carry Hi.
	Lo, Hi Size
	// ByICMP is true when an ICMP named PMTU (a Fragmentation Needed or
	// Packet Too Big carried it); false when probes alone found it.
	ByICMP bool
	// LimitingHop is the router whose ICMP named PMTU; invalid if none.
	LimitingHop netip.Addr
	// Silence is true when sizes above PMTU vanished without an ICMP: a
	// PMTUD black hole, ICMP filtered on the path.
	Silence bool
	Probes  int
	// Rounds is the number of round trips: probes sent together count once.
	Rounds  int
	Elapsed time.Duration
	// Events lists every ICMP error that was believed, in order.
	Events []wire.Event
	// Ignored lists what was received and not believed.
	Ignored []wire.Event
}

// UnreachableError ends a search on an ICMP error other than a size
// refusal: the destination cannot be reached at all this way.
type UnreachableError struct{ Event wire.Event }

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("%s answered ICMP type %d code %d", e.Event.From, e.Event.Type, e.Event.Code)
}

// ErrNoReply means no probe of any size earned an answer.
var ErrNoReply = errors.New("no reply at any size")

// Discover finds the path MTU to c.Target(). It returns the Result so far
// with an error when the search cannot finish: ErrNoReply, an
// *UnreachableError, or ctx.Err() on cancellation (Lo and Hi then say what
// was proved).
func Discover(ctx context.Context, c Conn, cfg *Config) (*Result, error) {
	if cfg == nil {
		cfg = &Config{}
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	wait := cfg.Wait
	if wait <= 0 {
		wait = time.Second
	}
	dst := c.Target()
	floor, ceil := cfg.Floor, cfg.Ceil
	if floor == 0 {
		floor = Floor(dst.Is6())
	}
	if ceil == 0 {
		ceil = 1500
	}
	ceil = min(ceil, MaxSize)
	sizer := NewSizer(floor, ceil, cfg.Tries)
	// A target that rate-limits its answers (ReplyLimiter) can answer
	// only so many probes at once and one more a while later: parallel
	// rounds stay within half its burst and wait for every answer's turn.
	var perAnswer time.Duration
	if rl, ok := c.(ReplyLimiter); ok {
		if burst, every := rl.ReplyLimit(); burst > 0 {
			sizer.width = max(1, min(sizer.width, burst/2))
			perAnswer = every
		}
	}
	res := &Result{Target: dst}
	start := now()
	type sentProbe struct {
		size Size
		at   time.Time
	}
	sent := map[int]sentProbe{}
	seq := 0
	var rtt time.Duration // the longest round trip seen
	finish := func(err error) (*Result, error) {
		res.Elapsed = now().Sub(start)
		res.Lo, res.Hi = sizer.Bounds()
		if pmtu, ok := sizer.Result(); ok {
			res.PMTU, res.Confirmed = pmtu, true
			res.Silence = !sizer.RefusedByICMP() && res.Hi <= ceil
			for _, ev := range res.Events {
				if ev.Kind == wire.TooBig && ev.MTU == pmtu {
					res.ByICMP, res.LimitingHop = true, ev.From
				}
			}
		} else if err == nil {
			err = ErrNoReply
		}
		return res, err
	}

	for {
		batch := sizer.Next()
		if len(batch) == 0 {
			return finish(nil)
		}
		pending := map[int]Size{}
		for _, size := range batch {
			seq++
			sent[seq] = sentProbe{size, now()}
			if err := c.Send(ctx, wire.Probe{Seq: seq, Size: size}); err != nil {
				if ctx.Err() != nil {
					return finish(ctx.Err())
				}
				return finish(fmt.Errorf("sending a %d-byte probe: %w", size, err))
			}
			pending[seq] = size
			res.Probes++
		}
		res.Rounds++
		roundStart := now()
		minWait := time.Duration(0)
		if sizer.Parallel() {
			minWait = perAnswer * time.Duration(len(batch))
		}
		deadline := roundStart.Add(max(minWait, roundWait(wait, rtt, sizer.Parallel())))
		ctxDeadline, hasDeadline := ctx.Deadline()
		if hasDeadline && ctxDeadline.Before(deadline) {
			deadline = ctxDeadline
		}
		for len(pending) > 0 {
			ev, err := c.Recv(deadline)
			if err != nil {
				if errors.Is(err, ErrTimeout) {
					break
				}
				return finish(fmt.Errorf("reading replies: %w", err))
			}
			if cfg.Trace != nil {
				cfg.Trace(ev)
			}
			p, ok := sent[ev.Seq]
			if ev.Kind != wire.Ignored && !ok {
				ev.Kind, ev.Why = wire.Ignored, "answers no probe of this search"
			}
			switch ev.Kind {
			case wire.Ignored:
				res.Ignored = append(res.Ignored, ev)
				continue
			case wire.Reached:
				sizer.Reply(p.size)
			case wire.TooBig:
				res.Events = append(res.Events, ev)
				sizer.TooBig(p.size, ev.MTU)
			default:
				res.Events = append(res.Events, ev)
				return finish(&UnreachableError{Event: ev})
			}
			rtt = max(rtt, ev.At.Sub(p.at))
			delete(pending, ev.Seq)
			if sizer.Parallel() {
				// The first answer of a parallel round measures the round
				// trip: the rest of the round need not wait a full Wait.
				if d := roundStart.Add(max(minWait, roundWait(wait, rtt, true))); d.Before(deadline) {
					deadline = d
				}
			}
		}
		if ctx.Err() != nil {
			return finish(ctx.Err())
		}
		if hasDeadline && !now().Before(ctxDeadline) {
			// The read gave up at the context's deadline a moment before
			// the context says so: the round was cut short, and its
			// silence is no evidence.
			return finish(context.DeadlineExceeded)
		}
		for _, size := range pending {
			sizer.Lost(size)
		}
	}
}

// Bounds on the wait of a parallel round, once a round trip is measured.
const (
	minRoundWait = 100 * time.Millisecond
	rttFactor    = 4
)

// roundWait is how long a round waits for answers: the configured wait
// until the search turns parallel or no round trip is measured; then a
// few round trips, but never less than minRoundWait. A shorter wait is
// safe: an answer that comes after its round still counts as proof, and a
// size is judged too big only after several silent rounds.
func roundWait(wait, rtt time.Duration, parallel bool) time.Duration {
	if !parallel || rtt <= 0 {
		return wait
	}
	return min(wait, max(minRoundWait, rttFactor*rtt+20*time.Millisecond))
}

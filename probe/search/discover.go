package search

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"time"

	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/probe/wire"
)

// Config tunes Discover. The zero value (or nil) uses the defaults.
type Config struct {
	// Floor and Ceil bound the search. Ceil should be the egress device
	// MTU (package route reads it); 0 means 1500. Floor 0 means the
	// family's minimum (68 or 1280).
	Floor, Ceil mtu.Size
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
	PMTU mtu.Size
	// Confirmed is true when PMTU is set: a probe of that size came back.
	Confirmed bool
	// Lo and Hi are the bounds proved when the search ended: the path
	// carries Lo (0: nothing proved) and does not carry Hi. While nothing
	// came back, silence proves nothing (the target may just not answer):
	// Hi is then only what an ICMP refused, above Ceil if nothing was.
	Lo, Hi mtu.Size
	// Bound is the path MTU's upper bound that routers proved: the
	// smallest MTU a believed Fragmentation Needed or Packet Too Big
	// named (0: none named one); BoundBy the router that named it. It
	// stands when the target never answers.
	Bound   mtu.Size
	BoundBy netip.Addr
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
//
// Each round sends what the Sizer asks for and reads answers until every
// probe is answered or the round's wait ends (see round); the probes
// left unanswered count as lost.
func Discover(ctx context.Context, c Conn, cfg *Config) (*Result, error) {
	d := newDiscovery(c, cfg)
	for {
		batch := d.sizer.Next()
		if len(batch) == 0 {
			return d.finish(nil)
		}
		r, err := d.send(ctx, batch)
		if err != nil {
			return d.finish(err)
		}
		if err := r.collect(ctx); err != nil {
			return d.finish(err)
		}
		r.lose()
	}
}

// discovery is one Discover: the sizer, every probe sent, and the Result
// being filled.
type discovery struct {
	conn      Conn
	cfg       *Config
	now       func() time.Time
	wait      time.Duration
	ceil      mtu.Size
	sizer     *Sizer
	perAnswer time.Duration // a rate-limited target's time per answer; 0 if not limited

	res   *Result
	start time.Time
	sent  map[int]sentAt // seq → the probe
	seq   int
	rtt   time.Duration // the longest round trip seen
}

// sentAt is a probe of a discovery: its size and when it left.
type sentAt struct {
	size mtu.Size
	at   time.Time
}

func newDiscovery(c Conn, cfg *Config) *discovery {
	if cfg == nil {
		cfg = &Config{}
	}
	d := &discovery{conn: c, cfg: cfg, now: cfg.Now, wait: cfg.Wait, sent: map[int]sentAt{}}
	if d.now == nil {
		d.now = time.Now
	}
	if d.wait <= 0 {
		d.wait = time.Second
	}
	dst := c.Target()
	floor, ceil := cfg.Floor, cfg.Ceil
	if floor == 0 {
		floor = mtu.Floor(dst.Is6())
	}
	if ceil == 0 {
		ceil = 1500
	}
	d.ceil = min(ceil, mtu.Max)
	d.sizer = NewSizer(floor, d.ceil, cfg.Tries)
	// A target that rate-limits its answers (ReplyLimiter) can answer
	// only so many probes at once and one more a while later: parallel
	// rounds stay within half its burst and wait for every answer's turn.
	if rl, ok := c.(ReplyLimiter); ok {
		if burst, every := rl.ReplyLimit(); burst > 0 {
			d.sizer.width = max(1, min(d.sizer.width, burst/2))
			d.perAnswer = every
		}
	}
	d.res = &Result{Target: dst}
	d.start = d.now()
	return d
}

// finish fills in the Result from the sizer and returns it with err, or
// with ErrNoReply when the search ended and nothing came back.
func (d *discovery) finish(err error) (*Result, error) {
	res := d.res
	res.Elapsed = d.now().Sub(d.start)
	res.Lo, res.Hi = d.sizer.Bounds()
	if res.Lo == 0 {
		res.Hi = d.sizer.RefusedSize()
	}
	for _, ev := range res.Events {
		if ev.Kind == wire.TooBig && ev.MTU > 0 && (res.Bound == 0 || ev.MTU < res.Bound) {
			res.Bound, res.BoundBy = ev.MTU, ev.From
		}
	}
	if pmtu, ok := d.sizer.Result(); ok {
		res.PMTU, res.Confirmed = pmtu, true
		res.Silence = !d.sizer.RefusedByICMP() && res.Hi <= d.ceil
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

// round is one round trip of a discovery: the probes sent together and
// how long they are waited for.
type round struct {
	d        *discovery
	pending  map[int]mtu.Size // seq → size, not yet answered
	start    time.Time
	minWait  time.Duration // a rate-limited target's time to answer them all
	deadline time.Time
}

// send sends a round of probes of the sizes in batch.
func (d *discovery) send(ctx context.Context, batch []mtu.Size) (*round, error) {
	r := &round{d: d, pending: map[int]mtu.Size{}}
	for _, size := range batch {
		d.seq++
		d.sent[d.seq] = sentAt{size, d.now()}
		if err := d.conn.Send(ctx, wire.Probe{Seq: d.seq, Size: size}); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("sending a %d-byte probe: %w", size, err)
		}
		r.pending[d.seq] = size
		d.res.Probes++
	}
	d.res.Rounds++
	r.start = d.now()
	if d.sizer.Parallel() {
		r.minWait = d.perAnswer * time.Duration(len(batch))
	}
	r.deadline = r.start.Add(max(r.minWait, roundWait(d.wait, d.rtt, d.sizer.Parallel())))
	if cd, ok := ctx.Deadline(); ok && cd.Before(r.deadline) {
		r.deadline = cd
	}
	return r, nil
}

// collect reads answers until every probe of the round is answered or
// its deadline passes, and tells the sizer each. It returns an error when
// the search must end: an *UnreachableError, a failed read, or the
// context's.
func (r *round) collect(ctx context.Context) error {
	d := r.d
	for len(r.pending) > 0 {
		ev, err := d.conn.Recv(r.deadline)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				break
			}
			return fmt.Errorf("reading replies: %w", err)
		}
		if err := r.take(ev); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if cd, ok := ctx.Deadline(); ok && !d.now().Before(cd) {
		// The read gave up at the context's deadline a moment before
		// the context says so: the round was cut short, and its
		// silence is no evidence.
		return context.DeadlineExceeded
	}
	return nil
}

// take tells the sizer what one event says.
func (r *round) take(ev wire.Event) error {
	d := r.d
	if d.cfg.Trace != nil {
		d.cfg.Trace(ev)
	}
	p, ok := d.sent[ev.Seq]
	if ev.Kind != wire.Ignored && !ok {
		ev.Kind, ev.Why = wire.Ignored, "answers no probe of this search"
	}
	switch ev.Kind {
	case wire.Ignored:
		d.res.Ignored = append(d.res.Ignored, ev)
		return nil
	case wire.Reached:
		d.sizer.Reply(p.size)
	case wire.TooBig:
		d.res.Events = append(d.res.Events, ev)
		d.sizer.TooBig(p.size, ev.MTU)
	default:
		d.res.Events = append(d.res.Events, ev)
		return &UnreachableError{Event: ev}
	}
	d.rtt = max(d.rtt, ev.At.Sub(p.at))
	delete(r.pending, ev.Seq)
	if d.sizer.Parallel() {
		// The first answer of a parallel round measures the round
		// trip: the rest of the round need not wait a full Wait.
		if dl := r.start.Add(max(r.minWait, roundWait(d.wait, d.rtt, true))); dl.Before(r.deadline) {
			r.deadline = dl
		}
	}
	return nil
}

// lose tells the sizer of every probe of the round that earned nothing.
func (r *round) lose() {
	for _, size := range r.pending {
		r.d.sizer.Lost(size)
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

package search

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"time"

	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/probe/ratelimit"
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
	// Pace, if set, is called before each probe is sent and may wait: a
	// packet budget shared with other searches. A probe's send time is
	// taken after it returns, so the wait is no part of a round trip.
	Pace func(context.Context) error
	// Answers, if set, is the answer budget of the host that answers a
	// rate-limited Conn (ReplyLimiter), shared by every search whose
	// answers that host sends: Discover takes one of its tokens before
	// each probe, so the host has one left to answer with. Without it,
	// the search keeps a budget of its own (package ratelimit), as if
	// the host's whole limit were its own.
	Answers func(context.Context) error
	// Waiting, if set, counts the searches whose rate-limited target's
	// answers have run out (a voided round, until a round is counted
	// again) among those that may share that target's rate limit: told
	// +1 and -1 as this search starts and stops waiting, and 0 to ask,
	// it returns how many wait, this one included. A search whose target
	// has not answered yet gives up after maxVoidsUnanswered voided
	// rounds when it waits alone, after maxVoids when others wait too:
	// then its target's silence is likely their shared limit. Nil means
	// this one alone.
	Waiting func(delta int) int
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
	// Sizes is what the probes of each size earned, smallest first: a
	// size lost below one that passed is the mark of a window
	// (package lossprofile's Hint).
	Sizes []SizeCount
	// Voided counts the rounds whose silence was not counted: over a
	// rate-limited Conn (ReplyLimiter), a probe of a size known to pass
	// went unanswered in them too, so the target's answers had run out
	// (others used its rate limit: other addresses of the same host,
	// other searches or programs) or the network lost them.
	Voided int
}

// UnreachableError ends a search on an ICMP error other than a size
// refusal: the destination cannot be reached at all this way.
type UnreachableError struct{ Event wire.Event }

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("%s answered ICMP type %d code %d", e.Event.From, e.Event.Type, e.Event.Code)
}

// ErrNoReply means no probe of any size earned an answer.
var ErrNoReply = errors.New("no reply at any size")

// ErrAnswersStopped ends a search over a rate-limited Conn whose answers
// stopped: in maxVoids rounds in a row, even a probe of a size the path
// had carried went unanswered. The silence is the target's ICMP rate
// limit (used up by others) or loss, not size, so it proves nothing; the
// Result's Lo and Hi say what was proved before.
var ErrAnswersStopped = errors.New("the target stopped answering even probes of a size it had answered: its ICMP rate limit is used up by others, or the path drops packets")

// How many voided rounds in a row end a search: once the target has
// answered, or while other searches wait for rate-limited answers too
// (Config.Waiting; maxVoids for each search waiting, since they may share
// one host's answers), its answers are worth a wait (each void is followed
// by a rest as long as the target takes to earn the round's answers);
// otherwise the search ends sooner with ErrNoReply, as a target that
// never answers should.
const (
	maxVoids           = 12
	maxVoidsUnanswered = 6
)

// Discover finds the path MTU to c.Target(). It returns the Result so far
// with an error when the search cannot finish: ErrNoReply, an
// *UnreachableError, or ctx.Err() on cancellation (Lo and Hi then say what
// was proved).
//
// Each round sends what the Sizer asks for and reads answers until every
// probe is answered or the round's wait ends (see round); the probes
// left unanswered count as lost.
func Discover(ctx context.Context, c wire.Conn, cfg *Config) (*Result, error) {
	d := newDiscovery(c, cfg)
	defer d.setWaiting(false)
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
		if err := r.lose(); err != nil {
			return d.finish(err)
		}
	}
}

// discovery is one Discover: the sizer, every probe sent, and the Result
// being filled.
type discovery struct {
	conn       wire.Conn
	cfg        *Config
	now        func() time.Time
	wait       time.Duration
	ceil       mtu.Size
	sizer      *Sizer
	perAnswer  time.Duration     // a rate-limited target's time per answer; 0 if not limited
	limited    bool              // the Conn is a ReplyLimiter: every round carries a control
	own        *ratelimit.Bucket // without Config.Answers, the target's answers as this search alone spends them
	voids      int               // voided rounds in a row
	waiting    bool              // counted in Config.Waiting
	controlled bool              // a probe went unanswered: every round over a limited Conn carries a control from now on

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

func newDiscovery(c wire.Conn, cfg *Config) *discovery {
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
			d.limited = true
			if cfg.Answers == nil {
				d.own = ratelimit.NewBucket(ratelimit.Limit{Burst: burst, Every: every})
			}
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
	res.Sizes = d.sizer.Counts()
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
	} else if err == nil || (errors.Is(err, ErrAnswersStopped) && res.Lo == 0) {
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
	deadline time.Time
	control  mtu.Size // over a ReplyLimiter, a size that should come back (control); 0 if none
}

// send sends a round of probes of the sizes in batch. Over a
// rate-limited Conn, a round whose silence the sizer will judge (a
// parallel round, or any once a probe went unanswered) gets a control: a
// probe of a size the path is known to carry (or the floor while none
// is), unless the batch has one. If the control earns nothing, the
// round's silence is the target's rate limit or loss, not size (see
// lose). Such a round is at most the sizer's width (burst/2) and the
// control: 4 probes toward Linux.
func (d *discovery) send(ctx context.Context, batch []mtu.Size) (*round, error) {
	r := &round{d: d, pending: map[int]mtu.Size{}}
	if d.limited && (d.sizer.Parallel() || d.controlled) {
		r.control = max(d.sizer.lo, d.sizer.floor)
		if d.voids > 0 {
			// The target's answers ran out last round, spent by others
			// too: ask for fewer, one size and the control, so that the
			// round's own probes do not use up the tokens its control
			// needs.
			batch = []mtu.Size{slices.Min(batch)}
		}
		batch = batch[:min(len(batch), d.sizer.width)]
		if !slices.ContainsFunc(batch, func(s mtu.Size) bool { return s <= r.control }) {
			batch = append(slices.Clip(batch), r.control)
		}
	}
	if d.voids > 0 {
		// Give the target's bucket time to earn this round's answers
		// before spending it again; once it has answered, longer after
		// each void in a row, so that the searches sharing it drift
		// apart. A target that has not answered yet may never answer:
		// its rests do not grow.
		rest := d.perAnswer * time.Duration(len(batch))
		if d.sizer.lo > 0 {
			rest += d.perAnswer * time.Duration(d.voids-1)
		}
		if err := d.rest(ctx, d.now().Add(rest)); err != nil {
			return nil, err
		}
	}
	if d.limited {
		// Every token first, then the probes back to back: the control
		// proves that the probes sent before it had the target's tokens
		// only if no time passed between them for the target to earn
		// more. The packet budget is still paid a token a probe, so the
		// rate holds; the round of at most 4 leaves as one burst.
		for range batch {
			if err := d.budget(ctx); err != nil {
				return nil, err
			}
		}
	}
	for _, size := range batch {
		if !d.limited {
			if err := d.budget(ctx); err != nil {
				return nil, err
			}
		}
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
	r.deadline = r.start.Add(roundWait(d.wait, d.rtt, d.sizer.Parallel()))
	if cd, ok := ctx.Deadline(); ok && cd.Before(r.deadline) {
		r.deadline = cd
	}
	return r, nil
}

// budget waits for what a probe needs before it is sent: a token of the
// target's answer budget (Config.Answers, over a rate-limited Conn), then
// one of the packet budget (Config.Pace). A round over a rate-limited
// Conn takes all its tokens before it sends; others take each probe's
// just before it goes.
func (d *discovery) budget(ctx context.Context) error {
	if d.limited && d.cfg.Answers != nil {
		if err := d.cfg.Answers(ctx); err != nil {
			return err
		}
	}
	if d.own != nil {
		// No shared budget: this search's own model of the target's,
		// waited for on the Conn's clock.
		if now, at := d.now(), d.own.ReadyAt(d.now()); at.After(now) {
			if err := d.rest(ctx, at); err != nil {
				return err
			}
		}
		d.own.Spend(d.now())
	}
	if d.cfg.Pace != nil {
		if err := d.cfg.Pace(ctx); err != nil {
			return err
		}
	}
	return nil
}

// rest waits until until, reading what comes meanwhile: a late answer
// still counts as proof. It waits on the Conn's clock (Recv's deadline),
// so a fake network's clock waits too, in steps of at most restStep so
// that a cancelled context ends it soon, and never past the context's
// deadline.
func (d *discovery) rest(ctx context.Context, until time.Time) error {
	if cd, ok := ctx.Deadline(); ok && cd.Before(until) {
		until = cd
	}
	r := &round{d: d, pending: map[int]mtu.Size{}, deadline: until}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		now := d.now()
		if !now.Before(until) {
			return nil
		}
		step := now.Add(restStep)
		if until.Before(step) {
			step = until
		}
		ev, err := d.conn.Recv(step)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				continue
			}
			return fmt.Errorf("reading replies: %w", err)
		}
		if err := r.take(ev); err != nil {
			return err
		}
	}
}

// restStep is the longest a rest waits without looking at its context.
const restStep = 250 * time.Millisecond

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
		if dl := r.start.Add(roundWait(d.wait, d.rtt, true)); dl.Before(r.deadline) {
			r.deadline = dl
		}
	}
	return nil
}

// lose tells the sizer of every probe of the round that earned nothing,
// unless the round is void: over a rate-limited Conn, a probe of a size
// known to pass (its control, or a size another probe proved) earned
// nothing too, so this round's silence says nothing of size. A void round
// is sent again, after a rest; maxVoids in a row end the search with
// ErrAnswersStopped (maxVoidsUnanswered while nothing came back, with
// ErrNoReply).
func (r *round) lose() error {
	d := r.d
	if len(r.pending) == 0 || d.sizer.Done() {
		// Nothing lost, or the round's answers ended the search: what
		// went unanswered no longer matters.
		d.voids = 0
		d.setWaiting(false)
		return nil
	}
	if d.limited && r.control == 0 {
		// A round without a control (a single probe, while routers name
		// sizes): its silence is not judged. The round is sent again,
		// now with a control, as every round after it: a size it does
		// not carry is then counted, and the search turns to replies.
		d.controlled = true
		return nil
	}
	if d.limited {
		known := max(r.control, d.sizer.lo)
		for _, size := range r.pending {
			if size <= known {
				d.res.Voided++
				d.setWaiting(true)
				limit := maxVoids
				switch n := d.waiters(); {
				case d.sizer.lo == 0 && n <= 1:
					limit = maxVoidsUnanswered
				case n > 1:
					// n searches wait on answers that may be one
					// host's: each earns about 1/n of them, and a
					// run of voids n times as long is as likely.
					limit = maxVoids * n
				}
				if d.voids++; d.voids >= limit {
					return ErrAnswersStopped
				}
				return nil
			}
		}
	}
	d.voids = 0
	d.setWaiting(false)
	for _, size := range r.pending {
		d.sizer.Lost(size)
	}
	return nil
}

// waiters is how many searches wait for rate-limited answers now, this
// one among them (Config.Waiting); 0 without the count.
func (d *discovery) waiters() int {
	if d.cfg.Waiting == nil {
		return 0
	}
	return d.cfg.Waiting(0)
}

// setWaiting tells Config.Waiting that this search starts (on) or stops waiting
// for a rate-limited target's answers, if that changes.
func (d *discovery) setWaiting(on bool) {
	if d.cfg.Waiting == nil || on == d.waiting {
		return
	}
	d.waiting = on
	if on {
		d.cfg.Waiting(1)
	} else {
		d.cfg.Waiting(-1)
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

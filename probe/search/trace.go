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

// Trace: the per-hop walk.
//
// Every hop limit from 1 to MaxHops gets its own Sizer, and all of them
// start at once: round 1 sends, at every hop limit, a probe of the ceiling
// size and a small one. A hop's probe that comes back as a Time Exceeded
// from that hop (or as the target's reply) proves that size to the hop; a
// Fragmentation Needed or Packet Too Big is the sizer's TooBig. Each hop
// then goes on at its own pace, round after round, until its sizer is done:
// hops do not wait for one another, so a silent hop costs its own wait and
// nobody else's.
//
// Linux routers rate-limit Time Exceeded (a burst of 6, then one a second
// per destination), so a probe that earns nothing may only have been
// refused an answer. Three rules keep that from turning into "no reply" or
// "too big":
//
//   - A hop's probes go out largest first. Where a loss is possible (the
//     hop never answered, its search turned parallel because probes
//     vanish, or a round is sent again) they end with a control probe of a
//     size known to reach the hop. The router spends its tokens in the
//     order the probes arrive, so a lost probe followed by one the hop
//     answered was not refused for want of a token: only such losses count
//     against a size (Sizer.Lost). Losses at the end of a round are sent
//     again in the hop's next round.
//   - Each hop's rounds are paced by an estimate of the router's bucket:
//     after a round that may have emptied it, the next waits for a token.
//   - A hop that never answered is asked again over one rate-limit
//     interval before it is called silent.
//
// A target's Echo Replies are not rate-limited; its unanswered probes count
// as lost at once, as in Discover. (Its Port Unreachable, for UDP probes,
// is: the target is then treated as a router.) Replies prove sizes for the hops before
// the one that answered, and refusals for the hops after it, so hops share
// what they learn. The walk stops at the hop limit where the target
// answered or a Destination Unreachable ended it.
//
// Reading order: Trace, walk.run (the event loop), startRounds and
// roundSizes (what a hop sends), handle (what came back), endRound, pace
// and checkDone (judging a hop's round), result.

// TraceConfig tunes Trace. The zero value (or nil) uses the defaults.
type TraceConfig struct {
	// MaxHops is the largest hop limit probed; 0 means 30.
	MaxHops int
	// Floor and Ceil bound every hop's search, as in Config.
	Floor, Ceil mtu.Size
	// Wait is how long a round waits for answers before a round trip is
	// measured; 0 means 1 s. Once one is, rounds wait a few round trips.
	Wait time.Duration
	// Tries is how many unanswered probes make a size too big; 0 means 3.
	Tries int
	// RateLimit and RateBurst describe the routers' ICMP rate limit: one
	// answer per RateLimit after a burst of RateBurst. 0 means Linux's
	// defaults, 1 s (net.ipv4.icmp_ratelimit) and 6.
	RateLimit time.Duration
	RateBurst int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Trace, if set, is told every event as it is read (for -v, or to
	// start name lookups while the walk goes on).
	Trace func(wire.Event)
}

// HopReply says how a hop answered.
type HopReply int

// What a hop can answer.
const (
	// NoReply: nothing came back from this hop limit.
	NoReply HopReply = iota
	// ReplyTimeExceeded: a router on the way, whose address is the hop's.
	ReplyTimeExceeded
	// ReplyReached: the target answered (Echo Reply).
	ReplyReached
	// ReplyUnreachable: a Destination Unreachable other than a size
	// refusal ended the walk here.
	ReplyUnreachable
)

func (r HopReply) String() string {
	switch r {
	case ReplyTimeExceeded:
		return "time_exceeded"
	case ReplyReached:
		return "reached"
	case ReplyUnreachable:
		return "unreachable"
	}
	return "none"
}

// TraceHop is what one hop limit found.
type TraceHop struct {
	TTL   int
	Addr  netip.Addr // who answered; invalid for NoReply
	Reply HopReply
	// Event is the answer that named the hop: its Time Exceeded, the
	// target's Echo Reply, or the Destination Unreachable.
	Event wire.Event
	// RTT is the shortest round trip of the hop's answers.
	RTT time.Duration
	// PMTU is the path MTU up to this hop: the largest size a probe proved
	// by coming back from it (or from farther), the smallest known not to
	// pass being PMTU+1. 0 when the hop did not answer.
	PMTU mtu.Size
	// Exact is false when the hop stopped answering before its search
	// ended: PMTU is then only a lower bound.
	Exact bool
	// Min and Max bound the path MTU up to this hop by what is proved,
	// also for a hop that never answered: a size a farther hop answered
	// passed this one too, and a refusal by an earlier router holds here.
	// Min is 0 when nothing is proved.
	Min, Max mtu.Size
	// MTUDrop marks the first hop behind a narrower link: its PMTU is
	// below that of the hop before it (or of the first hop, the egress).
	MTUDrop bool
	// ReportedBy is the router whose Fragmentation Needed or Packet Too
	// Big named PMTU at a drop (or, with ReportedMTU 0, refused without
	// naming a size, RFC 1191 §5); invalid when no router said anything.
	ReportedBy  netip.Addr
	ReportedMTU mtu.Size
	// VanishAfter, at a drop that no router reported, is the hop limit of
	// the last hop that answered probes larger than PMTU: larger probes
	// vanish without a word between it and this hop (a PMTUD black hole,
	// its ICMP filtered). 0 otherwise.
	VanishAfter int
	// Probes and Rounds are what this hop limit cost.
	Probes, Rounds int
}

// TraceResult is what Trace found.
type TraceResult struct {
	Target netip.Addr
	// Hops are hop limits 1, 2, ... up to the target, the hop where a
	// Destination Unreachable ended the walk, or MaxHops.
	Hops []TraceHop
	// Reached is true when the target answered.
	Reached bool
	// PMTU is the path MTU up to the farthest hop that answered: the
	// target's when Reached.
	PMTU mtu.Size
	// Probes is the number of probes sent.
	Probes int
	// Rounds is the most round trips one hop took; hops go side by side.
	Rounds  int
	Elapsed time.Duration
	// Ignored lists what was received and not believed.
	Ignored []wire.Event
}

// Trace walks every hop to c.Target() at once and finds the path MTU up to
// each. It returns what was found so far with an error only when it cannot
// go on: ctx.Err() when cancelled, or a failed send or read. Not reaching
// the target is no error: see TraceResult.Reached.
func Trace(ctx context.Context, c Conn, cfg *TraceConfig) (*TraceResult, error) {
	w := newWalk(c, cfg)
	err := w.run(ctx)
	return w.result(), err
}

// walk is one Trace: the hops and every probe sent, by sequence number.
type walk struct {
	conn        Conn
	cfg         TraceConfig
	floor, ceil mtu.Size
	start       time.Time

	hops []*hopState // hops[i] probes hop limit i+1
	last int         // the largest hop limit still walked
	sent map[int]*sentProbe
	seq  int
	rtt  time.Duration // the longest round trip seen; 0 until one is

	probes  int
	tooBig  []refusal
	ignored []wire.Event
}

// hopState is the state of one hop limit.
type hopState struct {
	ttl   int
	sizer *Sizer

	// The round in flight: its probes in the order sent, when it started,
	// and when it stops waiting (zero when no round is in flight).
	burst      []*sentProbe
	control    bool // the burst ends with a control probe
	roundStart time.Time
	deadline   time.Time

	retry     []mtu.Size       // sizes whose answer may have been rate-limited
	notBefore time.Time        // pacing: the next round starts no sooner
	budget    ratelimit.Bucket // what the router has left to answer with, as far as we can tell
	firstSent time.Time
	unheard   int  // rounds without a word, while the hop never answered
	stalled   int  // rounds in a row that taught nothing
	unlimited bool // the target answered here, not rate-limited (Echo Reply)
	done      bool

	addr   netip.Addr
	reply  HopReply
	ev     wire.Event
	rtt    time.Duration
	probes int
	rounds int
}

type sentProbe struct {
	hop      *hopState
	size     mtu.Size
	at       time.Time
	answered bool
	byHop    bool // answered by the hop itself (not by a router before it)
}

// refusal is a believed size refusal, for naming who reported a drop.
type refusal struct {
	ttl int
	ev  wire.Event
}

// Pacing.
const (
	silentTries = 3 // rounds a hop that never answered gets before it is silent
	maxStalled  = 5 // rounds in a row without news before a hop's search stops
	seqMask     = 0xffff
)

func newWalk(c Conn, cfg *TraceConfig) *walk {
	w := &walk{conn: c, sent: map[int]*sentProbe{}}
	if cfg != nil {
		w.cfg = *cfg
	}
	cf := &w.cfg
	if cf.MaxHops <= 0 {
		cf.MaxHops = 30
	}
	if cf.Now == nil {
		cf.Now = time.Now
	}
	if cf.Wait <= 0 {
		cf.Wait = time.Second
	}
	if cf.RateLimit <= 0 {
		cf.RateLimit = ratelimit.Linux.Every
	}
	if cf.RateBurst <= 0 {
		cf.RateBurst = ratelimit.Linux.Burst
	}
	w.floor, w.ceil = cf.Floor, cf.Ceil
	if w.floor == 0 {
		w.floor = mtu.Floor(c.Target().Is6())
	}
	if w.ceil == 0 {
		w.ceil = 1500
	}
	w.ceil = max(min(w.ceil, mtu.Max), w.floor)
	w.last = cf.MaxHops
	for ttl := 1; ttl <= cf.MaxHops; ttl++ {
		w.hops = append(w.hops, &hopState{
			ttl:    ttl,
			sizer:  NewSizer(w.floor, w.ceil, cf.Tries),
			budget: ratelimit.Bucket{Limit: ratelimit.Limit{Burst: cf.RateBurst, Every: cf.RateLimit}},
		})
	}
	return w
}

// live returns the hops still walked: those up to the last hop limit.
func (w *walk) live() []*hopState { return w.hops[:w.last] }

// run is the event loop: start the rounds that are due, read one event,
// end the rounds that are over; until every hop is done.
func (w *walk) run(ctx context.Context) error {
	w.start = w.cfg.Now()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := w.startRounds(ctx); err != nil {
			return err
		}
		wake, ok := w.nextWake()
		if !ok {
			return nil
		}
		if d, ok := ctx.Deadline(); ok && d.Before(wake) {
			wake = d
		}
		ev, err := w.conn.Recv(wake)
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
		case err != nil:
			return fmt.Errorf("reading replies: %w", err)
		default:
			w.handle(ev)
		}
		w.endRounds()
	}
}

// startRounds starts the next round of every hop that is idle and due.
func (w *walk) startRounds(ctx context.Context) error {
	now := w.cfg.Now()
	for _, h := range w.live() {
		if h.done || !h.deadline.IsZero() || now.Before(h.notBefore) {
			continue
		}
		sizes := w.roundSizes(h)
		if len(sizes) == 0 {
			h.done = true
			continue
		}
		if err := w.send(ctx, h, sizes); err != nil {
			return err
		}
	}
	return nil
}

// roundSizes returns the sizes of h's next round, largest first: what the
// last round left unjudged, else what the sizer asks for; then, where
// needControl says so, a control probe of a size known to reach h (the
// smallest size while h never answered). The control is last.
func (w *walk) roundSizes(h *hopState) []mtu.Size {
	lo, hi := h.sizer.Bounds()
	var sizes []mtu.Size
	for _, s := range h.retry {
		if s > lo && s < hi {
			sizes = append(sizes, s)
		}
	}
	h.retry = nil
	retried := len(sizes) > 0
	heard := h.reply != NoReply
	switch {
	case retried:
	case heard || h.rounds == 0:
		sizes = h.sizer.Next()
	}
	if len(sizes) == 0 && heard {
		return nil // the search is over
	}
	slices.SortFunc(sizes, func(a, b mtu.Size) int { return int(b - a) })
	h.control = w.needControl(h, retried)
	if h.control {
		control := w.floor
		if heard && lo > 0 {
			control = lo
		}
		sizes = append(sizes, control)
	}
	return sizes
}

// needControl reports whether h's round ends with a control probe: not
// for a target whose replies are not rate-limited; for a hop never heard, a hop
// whose search has turned parallel (probes vanish: a black hole), or a
// round that sends again what may have been rate-limited. While every
// probe earns an answer, the control would only spend the router's tokens.
func (w *walk) needControl(h *hopState, retried bool) bool {
	return !h.unlimited && (h.reply == NoReply || h.sizer.Parallel() || retried)
}

// send sends one round of h.
func (w *walk) send(ctx context.Context, h *hopState, sizes []mtu.Size) error {
	now := w.cfg.Now()
	h.rounds++
	h.burst = h.burst[:0]
	h.roundStart = now
	if h.firstSent.IsZero() {
		h.firstSent = now
	}
	for _, size := range sizes {
		w.seq++
		p := &sentProbe{hop: h, size: size, at: w.cfg.Now()}
		w.sent[w.seq&seqMask] = p
		if err := w.conn.Send(ctx, wire.Probe{Seq: w.seq, Size: size, TTL: h.ttl}); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("sending a %d-byte probe with hop limit %d: %w", size, h.ttl, err)
		}
		h.burst = append(h.burst, p)
		h.probes++
		w.probes++
	}
	h.deadline = now.Add(w.roundWait())
	return nil
}

// roundWait is how long a round waits: the whole Wait until a round trip
// is measured, then a few round trips (at least 100 ms).
func (w *walk) roundWait() time.Duration { return roundWait(w.cfg.Wait, w.rtt, true) }

// nextWake returns when the loop must next act: the end of a round in
// flight or the start of a paced one. ok is false when every hop is done.
func (w *walk) nextWake() (wake time.Time, ok bool) {
	for _, h := range w.live() {
		if h.done {
			continue
		}
		t := h.notBefore
		if !h.deadline.IsZero() {
			t = h.deadline
		}
		if !ok || t.Before(wake) {
			wake, ok = t, true
		}
	}
	return wake, ok
}

// handle takes one event: it finds the probe it answers and tells that
// probe's hop, and the hops it says something about.
func (w *walk) handle(ev wire.Event) {
	if w.cfg.Trace != nil {
		w.cfg.Trace(ev)
	}
	p, ok := w.sent[ev.Seq&seqMask]
	switch {
	case ev.Kind == wire.Ignored:
	case !ok:
		ev.Kind, ev.Why = wire.Ignored, "answers no probe of this trace"
	case p.answered:
		ev.Kind, ev.Why = wire.Ignored, fmt.Sprintf("duplicate answer for probe %d", ev.Seq)
	}
	if ev.Kind == wire.Ignored {
		w.ignored = append(w.ignored, ev)
		return
	}
	p.answered = true
	h := p.hop
	if h.ttl > w.last {
		return // beyond the target: no longer walked
	}
	rtt := ev.At.Sub(p.at)
	switch ev.Kind {
	case wire.TimeExceeded:
		w.heard(h, p, ev, ReplyTimeExceeded, rtt)
		h.budget.Spend(ev.At)
		w.proved(h, p.size)
	case wire.Reached:
		w.heard(h, p, ev, ReplyReached, rtt)
		h.unlimited = !ev.IsDstUnreach()
		if !h.unlimited {
			h.budget.Spend(ev.At)
		}
		w.cut(h.ttl)
		w.proved(h, p.size)
	case wire.TooBig:
		w.tooBig = append(w.tooBig, refusal{ttl: h.ttl, ev: ev})
		for _, o := range w.live()[h.ttl-1:] {
			// The router that refused is before h, so before every
			// farther hop too.
			noteRefusal(o.sizer, p.size, ev.MTU)
		}
	default:
		w.heard(h, p, ev, ReplyUnreachable, rtt)
		h.budget.Spend(ev.At)
		h.done = true
		w.cut(h.ttl)
	}
	w.measured(rtt)
}

// noteRefusal tells s of a size refusal, unless it is stale: an answer that
// comes late, after a smaller refusal, would only replace the size the
// sizer tries next with one it already knows is too big.
func noteRefusal(s *Sizer, size, named mtu.Size) {
	lo, hi := s.Bounds()
	if size <= lo || (size >= hi && (named == 0 || named+1 >= hi)) {
		return
	}
	s.TooBig(size, named)
}

// heard records that h itself answered p.
func (w *walk) heard(h *hopState, p *sentProbe, ev wire.Event, reply HopReply, rtt time.Duration) {
	p.byHop = true
	if h.reply == NoReply || reply != ReplyTimeExceeded {
		h.addr, h.reply, h.ev = ev.From, reply, ev
	}
	if h.rtt == 0 || rtt < h.rtt {
		h.rtt = rtt
	}
}

// proved tells h, and every hop before it, that a probe of size came
// back from h: the path up to each of them carries size.
func (w *walk) proved(h *hopState, size mtu.Size) {
	for _, o := range w.hops[:h.ttl] {
		o.sizer.Reply(size)
	}
}

// cut stops the walk at hop limit ttl: the target answered there, or a
// Destination Unreachable ended it.
func (w *walk) cut(ttl int) { w.last = min(w.last, ttl) }

// measured takes a round trip, shortening the waits of the rounds in
// flight once one is known.
func (w *walk) measured(rtt time.Duration) {
	if rtt <= w.rtt {
		return
	}
	w.rtt = rtt
	for _, h := range w.live() {
		if h.deadline.IsZero() {
			continue
		}
		if d := h.roundStart.Add(w.roundWait()); d.Before(h.deadline) {
			h.deadline = d
		}
	}
}

// endRounds ends every round that has all its answers or has waited long
// enough.
func (w *walk) endRounds() {
	now := w.cfg.Now()
	for _, h := range w.live() {
		if h.deadline.IsZero() || h.done {
			continue
		}
		if now.Before(h.deadline) && !allAnswered(h.burst) {
			continue
		}
		w.endRound(h, now)
	}
}

func allAnswered(burst []*sentProbe) bool {
	for _, p := range burst {
		if !p.answered {
			return false
		}
	}
	return true
}

// endRound judges h's round: a lost probe counts against its size only if
// the hop answered a probe sent after it (or is a target whose replies are
// not rate-limited); the rest are sent again. Then it paces h's next round and
// decides whether h is done.
func (w *walk) endRound(h *hopState, now time.Time) {
	h.deadline = time.Time{}
	lastByHop := -1
	for i, p := range h.burst {
		if p.byHop {
			lastByHop = i
		}
	}
	news, tailLost := false, false
	for i, p := range h.burst {
		switch {
		case p.answered:
			news = true
		case h.unlimited || i < lastByHop:
			h.sizer.Lost(p.size)
			news = true
		default:
			// Maybe refused an answer for want of a token.
			tailLost = true
			if !h.control || i < len(h.burst)-1 {
				h.retry = append(h.retry, p.size) // the control is sent anew anyway
			}
		}
	}
	w.pace(h, tailLost)
	if news {
		h.stalled = 0
	} else {
		h.stalled++
	}
	w.checkDone(h, now)
}

// pace sets when h's next round may start. A round whose last probes
// earned nothing may have emptied the router's bucket: wait for a token. A
// hop that never answered is asked again within one rate-limit interval.
func (w *walk) pace(h *hopState, tailLost bool) {
	if h.reply == NoReply {
		h.unheard++
		h.notBefore = h.firstSent.Add(time.Duration(h.unheard) * w.cfg.RateLimit / (silentTries - 1))
		return
	}
	if tailLost {
		h.budget.Empty(h.roundStart)
	}
	h.notBefore = h.budget.ReadyAt(w.cfg.Now())
}

// checkDone decides whether h is done: its search is over and it answered,
// or it never answered through silentTries rounds over one rate-limit
// interval, or it stopped teaching anything.
func (w *walk) checkDone(h *hopState, now time.Time) {
	switch {
	case h.reply == NoReply:
		h.done = h.unheard >= silentTries && now.Sub(h.firstSent) >= w.cfg.RateLimit
	case h.sizer.Done():
		h.done = true
	case h.stalled >= maxStalled:
		h.done = true
	}
}

// result builds the TraceResult from the hops walked.
func (w *walk) result() *TraceResult {
	res := &TraceResult{Target: w.conn.Target(), Probes: w.probes, Ignored: w.ignored}
	if !w.start.IsZero() {
		res.Elapsed = w.cfg.Now().Sub(w.start)
	}
	prev, prevTTL := w.ceil, 0
	for _, h := range w.live() {
		th := TraceHop{
			TTL: h.ttl, Addr: h.addr, Reply: h.reply, Event: h.ev, RTT: h.rtt,
			Probes: h.probes, Rounds: h.rounds,
		}
		lo, hi := h.sizer.Bounds()
		th.Min, th.Max = lo, min(hi-1, w.ceil)
		if h.reply == ReplyTimeExceeded || h.reply == ReplyReached {
			th.PMTU = lo
			th.Exact = h.sizer.Done()
		}
		if th.PMTU > 0 {
			if th.PMTU < prev {
				th.MTUDrop = true
				if r, ok := w.reporter(h.ttl, th.PMTU); ok {
					th.ReportedBy, th.ReportedMTU = r.ev.From, r.ev.MTU
				} else {
					th.VanishAfter = prevTTL
				}
			}
			prev, prevTTL = th.PMTU, h.ttl
			res.PMTU = th.PMTU
		}
		res.Rounds = max(res.Rounds, h.rounds)
		res.Hops = append(res.Hops, th)
	}
	if n := len(res.Hops); n > 0 && res.Hops[n-1].Reply == ReplyReached {
		res.Reached = true
	}
	return res
}

// reporter returns the size refusal that explains a drop to mtu at hop
// limit ttl: one naming mtu for a probe at ttl or farther, the nearest
// first; else one naming no size (MTU 0) for a larger probe.
func (w *walk) reporter(ttl int, pmtu mtu.Size) (refusal, bool) {
	best, ok := refusal{}, false
	for _, r := range w.tooBig {
		if r.ev.MTU == pmtu && r.ttl >= ttl && (!ok || r.ttl < best.ttl) {
			best, ok = r, true
		}
	}
	if ok {
		return best, true
	}
	for _, r := range w.tooBig {
		if r.ev.MTU == 0 && r.ttl >= ttl && (!ok || r.ttl < best.ttl) {
			best, ok = r, true
		}
	}
	return best, ok
}

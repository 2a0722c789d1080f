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
// # A window that grows
//
// The walk probes a window of hop limits that grows as answers show how
// far the path goes: it opens hop limit 1, and opens hop k+1 when hop k
// answers with a Time Exceeded, so where routers answer no probe goes
// beyond the target. The farthest open hop (the frontier) ends its first
// round with a small control probe, so one round trip tells whether
// anything answers there at all. When the frontier stays
// silent for a few round trips, the window jumps ahead by 2, 4, 8, ... hop
// limits (a doubletree-like jump), so a run of silent routers is probed
// side by side, not one wait after another. The target's answer at hop
// limit k ends the window there.
//
// # Sizes only where the MTU can change
//
// Each hop has a Sizer. A hop opened late starts from what earlier hops
// learned: every size refusal by a router before it, and the bound a
// black-hole search proved at an earlier hop, so its first probe is the
// size the path can still carry, and it costs one probe when the MTU does
// not change there. A probe that comes back from a hop proves its size for
// every hop before it. While a router's Fragmentation Needed or Packet Too
// Big names a size, that size is the only one probed next. A search over
// silence (a PMTUD black hole) runs at one hop at a time: first at the
// target, whose Echo Replies are not rate-limited and whose refusals by
// routers on the way place those routers' figures; then at routers, the
// nearest first, whose result bounds every hop beyond.
//
// # ICMP placed in the path
//
// A Fragmentation Needed or Packet Too Big quoting a probe of s bytes
// proves that s bytes reached the router that sent it. The walk places
// that router at a hop limit: the hop that answered from its address, or
// else the only hop before the smallest hop limit at which its refusals
// appear that no other router and no probe that passed it rules out. A
// silent hop so placed gets an exact figure from its own Frag Needed.
//
// # Rate limits
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
//   - A hop that never answered is asked again, with one small probe,
//     over one rate-limit interval before it is called silent.
//
// A target's Echo Replies are not rate-limited; its unanswered probes count
// as lost at once, as in Discover. (Its Port Unreachable, for UDP probes,
// is: the target is then treated as a router.)
//
// Reading order: Trace, walk.run (the event loop), open and jump (the
// window), startRounds and roundSizes (what a hop sends), handle (what
// came back), place (trace_place.go), endRound, pace and checkDone (judging a
// hop's round), result.

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
	// Pace, as Config.Pace: called before each probe is sent, its wait
	// no part of a round trip.
	Pace func(context.Context) error
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
	// FromICMP marks a hop that sent no Time Exceeded but whose router's
	// own Fragmentation Needed or Packet Too Big placed it here (Addr)
	// and proved PMTU: its quote shows PMTU bytes reached it, and an
	// earlier router refused anything larger.
	FromICMP bool
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
	// PMTU is the path MTU: the target's when Reached. When the target
	// never answered, it is what the routers proved: the bound a router
	// behind the farthest hop that answered named (Max, by MaxBy), if
	// below Proved, with Confirmed false, as tracepath and pmtu HOST
	// report a path whose target is silent; else Proved.
	PMTU mtu.Size
	// Confirmed is true when PMTU came back from a hop: PMTU is Proved.
	Confirmed bool
	// Proved is the path MTU up to the farthest hop that answered (or
	// whose own Frag Needed proved its figure), ProvedTTL that hop: what
	// probes coming back proved.
	Proved    mtu.Size
	ProvedTTL int
	// Max bounds the path MTU up to the last hop walked: what routers'
	// refusals and searches proved does not pass (the ceiling when
	// nothing did). Below PMTU's hop's figure when a router behind it
	// refused more, e.g. on the way to a target that never answers.
	Max mtu.Size
	// MaxBy is the router whose refusal named Max; invalid if none did.
	MaxBy netip.Addr
	// Probes is the number of probes sent.
	Probes int
	// Rounds is the most round trips one hop took; hops go side by side.
	Rounds  int
	Elapsed time.Duration
	// Ignored lists what was received and not believed.
	Ignored []wire.Event
}

// Trace walks the hops to c.Target() and finds the path MTU up to each. It
// returns what was found so far with an error only when it cannot go on:
// ctx.Err() when cancelled, or a failed send or read. Not reaching the
// target is no error: see TraceResult.Reached.
func Trace(ctx context.Context, c wire.Conn, cfg *TraceConfig) (*TraceResult, error) {
	w := newWalk(c, cfg)
	err := w.run(ctx)
	return w.result(), err
}

// walk is one Trace: the open hops and every probe sent, by sequence
// number.
type walk struct {
	conn        wire.Conn
	cfg         TraceConfig
	floor, ceil mtu.Size
	start       time.Time

	hops   []*hopState // the open hops: hops[i] probes hop limit i+1
	last   int         // the largest hop limit that may be walked
	step   int         // how many hop limits the next jump opens
	jumpAt time.Time   // when a silent frontier makes the window jump; zero: not due
	sent   map[int]*sentProbe
	seq    int
	rtt    time.Duration // the longest round trip seen; 0 until one is

	probes  int
	tooBig  []refusal
	caps    []silenceCap
	at      map[netip.Addr]int // hop limit of each router placed on the path
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

	retry      []mtu.Size       // sizes whose answer may have been rate-limited
	notBefore  time.Time        // pacing: the next round starts no sooner
	budget     ratelimit.Bucket // what the router has left to answer with, as far as we can tell
	quietSince time.Time        // the first round that lost a probe while the hop never answered
	unheard    int              // rounds that lost a probe while the hop never answered
	stalled    int              // rounds in a row that taught nothing
	unlimited  bool             // the target answered here, not rate-limited (Echo Reply)
	capped     bool             // its silence bound has been passed to the hops beyond
	held       bool             // its search waits for another hop's (mayGuess)
	done       bool

	addr     netip.Addr
	reply    HopReply
	ev       wire.Event
	rtt      time.Duration
	fromICMP netip.Addr // the router placed here by its Frag Needed, if the hop never answered
	probes   int
	rounds   int
}

type sentProbe struct {
	hop      *hopState
	size     mtu.Size
	at       time.Time
	answered bool
	byHop    bool // answered by the hop itself (not by a router before it)
	ended    bool // its round is over
}

// refusal is a believed size refusal: who refused which probe, sent at
// which hop limit.
type refusal struct {
	ttl     int
	size    mtu.Size
	ev      wire.Event
	applied bool // placed, and what it proves applied (trace_place.go)
}

// silenceCap is what a black-hole search proved at a hop: sizes from hi up
// do not reach it, so they reach no hop beyond it either.
type silenceCap struct {
	ttl int
	hi  mtu.Size
}

// Pacing and the window.
const (
	silentTries = 3 // rounds a hop that never answered gets before it is silent
	maxStalled  = 5 // rounds in a row without news before a hop's search stops
	seqMask     = 0xffff
	firstWindow = 1 // hop limits open at the start
	firstJump   = 2 // hop limits the first jump opens
)

func newWalk(c wire.Conn, cfg *TraceConfig) *walk {
	w := &walk{conn: c, sent: map[int]*sentProbe{}, at: map[netip.Addr]int{}, step: firstJump}
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
	w.open(firstWindow)
	return w
}

// open opens every hop limit up to ttl (within the walk). A new hop starts
// from what is known of the hops before it: every size refusal, and every
// bound a search over silence proved at an earlier hop.
func (w *walk) open(ttl int) {
	for n := len(w.hops) + 1; n <= min(ttl, w.last); n++ {
		h := &hopState{
			ttl:    n,
			sizer:  NewSizer(w.floor, w.ceil, w.cfg.Tries),
			budget: ratelimit.Bucket{Limit: ratelimit.Limit{Burst: w.cfg.RateBurst, Every: w.cfg.RateLimit}},
		}
		w.hops = append(w.hops, h)
		for _, r := range w.tooBig {
			noteRefusal(h.sizer, r.size, r.ev.MTU)
		}
		for _, c := range w.caps {
			noteRefusal(h.sizer, c.hi, c.hi-1)
		}
	}
}

// frontier returns the farthest open hop.
func (w *walk) frontier() *hopState { return w.hops[len(w.hops)-1] }

// jump opens the next hop limits when the frontier has stayed silent: the
// path may go on behind routers that send no Time Exceeded.
func (w *walk) jump() {
	w.jumpAt = time.Time{}
	f := w.frontier()
	if f.reply != NoReply || f.ttl >= w.last {
		return
	}
	w.open(f.ttl + w.step)
	w.step *= 2
}

// jumpWait is how long a silent frontier waits before the window jumps: a
// few round trips once one is measured.
func (w *walk) jumpWait() time.Duration {
	if w.rtt <= 0 {
		return w.cfg.Wait / 4
	}
	return min(w.cfg.Wait, rttFactor*w.rtt+20*time.Millisecond)
}

// live returns the hops still walked: those open up to the last hop limit.
func (w *walk) live() []*hopState { return w.hops[:min(w.last, len(w.hops))] }

// run is the event loop: start the rounds that are due, read one event,
// end the rounds that are over; until every hop is done.
func (w *walk) run(ctx context.Context) error {
	w.start = w.cfg.Now()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !w.jumpAt.IsZero() && !w.cfg.Now().Before(w.jumpAt) {
			w.jump()
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
// A hop whose next round would be a search over silence waits while
// mayGuess says another hop's search goes first; if every hop left is
// waiting so, the nearest goes.
func (w *walk) startRounds(ctx context.Context) error {
	now := w.cfg.Now()
	var held *hopState
	busy := false
	for _, h := range w.live() {
		h.held = false
		if h.done {
			continue
		}
		if !h.deadline.IsZero() || now.Before(h.notBefore) {
			// A hop only waiting out its silence does not hold a
			// search back.
			busy = busy || !h.deadline.IsZero() || h.reply != NoReply
			continue
		}
		sizes, ok := w.roundSizes(h, false)
		if !ok {
			h.held = true
			if held == nil {
				held = h
			}
			continue
		}
		if len(sizes) == 0 {
			w.finish(h)
			continue
		}
		if err := w.send(ctx, h, sizes); err != nil {
			return err
		}
		busy = true
	}
	if !busy && held != nil {
		// Nothing else runs: the waiting search goes now.
		held.held = false
		sizes, _ := w.roundSizes(held, true)
		if len(sizes) == 0 {
			w.finish(held)
			return nil
		}
		return w.send(ctx, held, sizes)
	}
	return nil
}

// roundSizes returns the sizes of h's next round, largest first, and
// false when h must wait for another hop's search (see mayGuess; force
// skips that). A hop
// that never answered and lost a probe is only asked whether it answers
// at all; else it sends what the last round left unjudged, or what its
// sizer asks for. Then, where needControl says so, a control probe of a
// size known to reach h ends the round.
func (w *walk) roundSizes(h *hopState, force bool) ([]mtu.Size, bool) {
	lo, hi := h.sizer.Bounds()
	var retry []mtu.Size
	for _, s := range h.retry {
		if s > lo && s < hi {
			retry = append(retry, s)
		}
	}
	heard := h.reply != NoReply
	var sizes []mtu.Size
	switch {
	case !heard && h.unheard > 0:
		// Keep what waits to be sent again until the hop is heard.
		h.retry = retry
	case len(retry) > 0:
		h.retry = nil
		sizes = retry
	default:
		h.retry = nil
		if h.sizer.Done() {
			break
		}
		if !force && !w.mayGuess(h) {
			return nil, false
		}
		sizes = w.sizerSizes(h)
	}
	if len(sizes) == 0 && heard {
		return nil, true // the search is over
	}
	w.addControl(h, &sizes, len(retry) > 0 && (heard || h.unheard == 0))
	return sizes, true
}

// sizerSizes asks h's sizer for its next round, largest first. A size a
// router named and nobody has tried at h is probed alone: it is most
// likely the answer.
func (w *walk) sizerSizes(h *hopState) []mtu.Size {
	s := h.sizer
	lo, hi := s.Bounds()
	var sizes []mtu.Size
	if s.hint > lo && s.hint < hi && s.silent[s.hint] == 0 && s.replied[s.hint] == 0 {
		sizes = []mtu.Size{s.hint}
	} else {
		sizes = s.Next()
	}
	slices.SortFunc(sizes, func(a, b mtu.Size) int { return int(b - a) })
	return sizes
}

// mayGuess reports whether h may start a search over silence now. Such a
// search runs at one hop at a time: the target's first (its answers are
// not rate-limited, and routers' refusals of its probes place their
// figures), then the nearest router's, whose bound then holds for every
// hop beyond it. Sequential probes (a named size, the first probe) always
// go.
func (w *walk) mayGuess(h *hopState) bool {
	if !h.sizer.Parallel() || h.unlimited {
		return true
	}
	for _, o := range w.live() {
		switch {
		case o == h || o.done:
		case o.unlimited:
			return false // the target searches first
		case o.ttl < h.ttl && o.sizer.Parallel():
			return false // a nearer router searches first
		}
	}
	return true
}

// addControl appends a control probe to sizes where needControl says so:
// a size known to reach h, its lo once h answered, else the smallest size.
func (w *walk) addControl(h *hopState, sizes *[]mtu.Size, retried bool) {
	h.control = w.needControl(h, retried, len(*sizes) == 0)
	if !h.control {
		return
	}
	lo, _ := h.sizer.Bounds()
	control := w.floor
	if h.reply != NoReply && lo > 0 {
		control = lo
	}
	*sizes = append(*sizes, control)
}

// needControl reports whether h's round ends with a control probe. Not for
// a target whose replies are not rate-limited. For a hop never heard that
// lost a probe, has nothing else to send, or is the frontier (does
// anything answer there?); for a hop whose search has turned parallel
// (probes vanish: a black hole), or a round that sends again what may have
// been rate-limited. While every probe earns an answer, the control would
// only spend the router's tokens.
func (w *walk) needControl(h *hopState, retried, empty bool) bool {
	if h.unlimited {
		return false
	}
	if h.reply == NoReply && (h.unheard > 0 || empty || (h == w.frontier() && h.ttl < w.last)) {
		return true
	}
	return h.sizer.Parallel() || retried
}

// send sends one round of h.
func (w *walk) send(ctx context.Context, h *hopState, sizes []mtu.Size) error {
	now := w.cfg.Now()
	h.rounds++
	h.burst = h.burst[:0]
	h.roundStart = now
	for _, size := range sizes {
		if w.cfg.Pace != nil {
			if err := w.cfg.Pace(ctx); err != nil {
				return err
			}
		}
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
	if h == w.frontier() && h.reply == NoReply && h.control && w.jumpAt.IsZero() {
		w.jumpAt = now.Add(w.jumpWait())
	}
	return nil
}

// roundWait is how long a round waits: the whole Wait until a round trip
// is measured, then a few round trips (at least 100 ms).
func (w *walk) roundWait() time.Duration { return roundWait(w.cfg.Wait, w.rtt, true) }

// nextWake returns when the loop must next act: the end of a round in
// flight, the start of a paced one or a jump. ok is false when every hop
// is done.
func (w *walk) nextWake() (wake time.Time, ok bool) {
	for _, h := range w.live() {
		if h.done || h.held {
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
	if ok && !w.jumpAt.IsZero() && w.jumpAt.Before(wake) {
		wake = w.jumpAt
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
		w.proved(h.ttl, p.size)
		w.open(h.ttl + 1)
		w.place()
	case wire.Reached:
		w.heard(h, p, ev, ReplyReached, rtt)
		h.unlimited = !ev.IsDstUnreach()
		if !h.unlimited {
			h.budget.Spend(ev.At)
		}
		w.cut(h.ttl)
		w.proved(h.ttl, p.size)
	case wire.TooBig:
		w.tooBig = append(w.tooBig, refusal{ttl: h.ttl, size: p.size, ev: ev})
		for _, o := range w.hops[h.ttl-1:] {
			// The router that refused is before h, so before every
			// farther hop too.
			noteRefusal(o.sizer, p.size, ev.MTU)
		}
		w.place()
	default:
		w.heard(h, p, ev, ReplyUnreachable, rtt)
		h.budget.Spend(ev.At)
		h.done = true
		w.cut(h.ttl)
	}
	w.measured(rtt)
}

// refused tells s of a size refusal, unless it is stale: an answer that
// comes late, after a smaller refusal, would only replace the size the
// sizer tries next with one it already knows is too big.
func noteRefusal(s *Sizer, size, mtu mtu.Size) {
	lo, hi := s.Bounds()
	if size <= lo || (size >= hi && (mtu == 0 || mtu+1 >= hi)) {
		return
	}
	s.TooBig(size, mtu)
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
	if reply != ReplyUnreachable {
		if _, ok := w.at[ev.From]; !ok {
			w.at[ev.From] = h.ttl
		}
	}
}

// proved tells the hop at ttl, and every hop before it, that size reached
// it: the path up to each of them carries size.
func (w *walk) proved(ttl int, size mtu.Size) {
	for _, o := range w.hops[:min(ttl, len(w.hops))] {
		o.sizer.Reply(size)
	}
}

// cut stops the walk at hop limit ttl: the target answered there, or a
// Destination Unreachable ended it.
func (w *walk) cut(ttl int) {
	w.last = min(w.last, ttl)
	if len(w.hops) >= w.last {
		w.jumpAt = time.Time{}
	}
}

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
	if !w.jumpAt.IsZero() {
		if d := w.cfg.Now().Add(w.jumpWait()); d.Before(w.jumpAt) {
			w.jumpAt = d
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
	w.place()
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
		p.ended = true
		if p.byHop {
			lastByHop = i
		}
	}
	news, lost, tailLost := false, false, false
	for i, p := range h.burst {
		switch {
		case p.answered:
			news = true
		case h.unlimited || i < lastByHop:
			h.sizer.Lost(p.size)
			news, lost = true, true
		default:
			// Maybe refused an answer for want of a token.
			tailLost, lost = true, true
			if !h.control || i < len(h.burst)-1 {
				h.retry = append(h.retry, p.size) // the control is sent anew anyway
			}
		}
	}
	w.pace(h, lost, tailLost)
	if news {
		h.stalled = 0
	} else {
		h.stalled++
	}
	w.checkDone(h, now)
}

// pace sets when h's next round may start. A round whose last probes
// earned nothing may have emptied the router's bucket: wait for a token. A
// hop that never answered and lost a probe is asked again within one
// rate-limit interval.
func (w *walk) pace(h *hopState, lost, tailLost bool) {
	if h.reply == NoReply {
		if !lost {
			h.notBefore = w.cfg.Now() // every probe was refused on the way: go on
			return
		}
		if h.unheard == 0 {
			h.quietSince = h.roundStart
		}
		h.unheard++
		h.notBefore = h.quietSince.Add(time.Duration(h.unheard) * w.cfg.RateLimit / (silentTries - 1))
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
		if h.unheard >= silentTries && now.Sub(h.quietSince) >= w.cfg.RateLimit {
			w.finish(h)
		}
	case h.sizer.Done(), h.stalled >= maxStalled:
		w.finish(h)
	}
}

// finish marks h done. If silence proved its bound (a black hole), every
// hop beyond is bounded by it too, and starts from it.
func (w *walk) finish(h *hopState) {
	h.done = true
	if h.capped || h.reply == NoReply {
		return
	}
	h.capped = true
	lo, hi := h.sizer.Bounds()
	if hi > w.ceil || h.sizer.RefusedByICMP() || hi <= lo {
		return
	}
	w.caps = append(w.caps, silenceCap{ttl: h.ttl, hi: hi})
	for _, o := range w.hops[h.ttl:] {
		noteRefusal(o.sizer, hi, hi-1)
	}
}

// result builds the TraceResult from the hops walked.
func (w *walk) result() *TraceResult {
	w.place()
	res := &TraceResult{Target: w.conn.Target(), Probes: w.probes, Ignored: w.ignored, Max: w.ceil}
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
		switch {
		case h.reply == ReplyTimeExceeded || h.reply == ReplyReached:
			th.PMTU = lo
			th.Exact = h.sizer.Done()
		case h.reply == NoReply && h.fromICMP.IsValid() && lo > 0 && h.sizer.Done():
			// Silent, but its own Frag Needed quoted a probe of lo
			// bytes, and an earlier router refused lo+1.
			th.Addr, th.PMTU, th.Exact, th.FromICMP = h.fromICMP, lo, true, true
		}
		switch {
		case th.PMTU > 0:
			if th.PMTU < prev {
				th.MTUDrop = true
				if r, ok := w.reporter(h.ttl, th.PMTU); ok {
					th.ReportedBy, th.ReportedMTU = r.ev.From, r.ev.MTU
				} else {
					th.VanishAfter = prevTTL
				}
			}
			prev, prevTTL = th.PMTU, h.ttl
			res.Proved, res.ProvedTTL = th.PMTU, h.ttl
		case h.reply == NoReply && th.Max < prev:
			// A silent hop behind a narrower link: the router that
			// said so marks the drop here, figure or not.
			if r, ok := w.reporter(h.ttl, th.Max); ok && r.ev.MTU > 0 {
				th.MTUDrop = true
				th.ReportedBy, th.ReportedMTU = r.ev.From, r.ev.MTU
				prev = th.Max
			}
		}
		if th.MTUDrop && th.ReportedBy.IsValid() {
			res.MaxBy = th.ReportedBy
		}
		res.Max = th.Max
		res.Rounds = max(res.Rounds, h.rounds)
		res.Hops = append(res.Hops, th)
	}
	if n := len(res.Hops); n > 0 && res.Hops[n-1].Reply == ReplyReached {
		res.Reached = true
	}
	if res.MaxBy.IsValid() && res.Max != w.reportedMax(res.MaxBy) {
		res.MaxBy = netip.Addr{}
	}
	res.PMTU, res.Confirmed = res.Proved, res.Proved > 0
	if !res.Reached && res.MaxBy.IsValid() && res.Max > 0 && (res.Proved == 0 || res.Max < res.Proved) {
		// The target never answered, but a router behind the last hop
		// that did refused more than it proved: that router's word is
		// the path MTU, unconfirmed (kernel selftest r2_noreturn).
		res.PMTU, res.Confirmed = res.Max, false
	}
	return res
}

// reportedMax returns the smallest MTU router a named.
func (w *walk) reportedMax(a netip.Addr) mtu.Size {
	m := mtu.Size(0)
	for _, r := range w.tooBig {
		if r.ev.From == a && r.ev.MTU > 0 && (m == 0 || r.ev.MTU < m) {
			m = r.ev.MTU
		}
	}
	return m
}

// reporter returns the size refusal that explains a drop to mtu at hop
// limit ttl: one naming mtu by a router before ttl (placed there, or seen
// refusing a probe sent to ttl or farther), the nearest first; else one
// naming no size (MTU 0) for a larger probe.
func (w *walk) reporter(ttl int, mtu mtu.Size) (refusal, bool) {
	before := func(r refusal) bool {
		if j, ok := w.at[r.ev.From]; ok && j < r.ttl {
			return j < ttl
		}
		return r.ttl >= ttl
	}
	best, ok := refusal{}, false
	for _, r := range w.tooBig {
		if r.ev.MTU == mtu && before(r) && (!ok || r.ttl < best.ttl) {
			best, ok = r, true
		}
	}
	if ok {
		return best, true
	}
	for _, r := range w.tooBig {
		if r.ev.MTU == 0 && before(r) && (!ok || r.ttl < best.ttl) {
			best, ok = r, true
		}
	}
	return best, ok
}

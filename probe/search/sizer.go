package search

import (
	"math"
	"slices"

	"github.com/pmtu/pmtu/mtu"
)

// Sizer chooses the sizes of the next probes. It is a pure state machine:
// it sends nothing and reads no clock; the caller tells it what each probe
// earned and asks for the next round.
//
// The path MTU lies in [lo, hi): lo is the largest size a reply proved (0
// while none has), hi the smallest size known not to pass, from an ICMP
// refusal or from enough silence.
//
// While every probe earns an answer the search is sequential, one probe a
// round: the first is the egress MTU (ceil), and a Next-Hop MTU from an
// ICMP becomes the next probe, so a path whose routers all answer, with k
// drops, costs k+1 probes. Once a probe earns nothing (a PMTUD black hole:
// ICMP filtered) or a router refuses without naming a size (MTU 0, RFC
// 1191 §5), the search turns parallel (RFC 4821, RFC 8899 on replies
// alone): a round probes the common link sizes at once, then sizes spread
// over the gap left, so the exact answer comes in a few round trips.
//
// Silence is not a verdict until a size has gone unanswered in Tries
// rounds, or more when probes of sizes known to pass are being lost: the
// number of tries grows with the measured loss so that a size that passes
// is called too big less than once in a hundred.
//
// The reported path MTU is always lo, a size a probe proved by coming back.
type Sizer struct {
	floor, ceil mtu.Size
	tries       int
	width       int

	lo       mtu.Size
	refused  mtu.Size // smallest size an ICMP refused (ceil+1 if none)
	hint     mtu.Size // a size an ICMP named, probed next when in range
	plateau  bool     // a router refused without naming an MTU
	parallel bool
	rounds   int

	silent  map[mtu.Size]int // rounds in which a size earned nothing
	replied map[mtu.Size]int // probes of a size that came back
}

// DefaultTries is how many rounds a size may go unanswered before it counts
// as too big, on a path that loses nothing (RFC 4821 and RFC 8899
// MAX_PROBES).
const DefaultTries = 3

// DefaultWidth is the most probes one parallel round sends.
const DefaultWidth = 16

// maxTries bounds how far loss can raise the tries.
const maxTries = 16

// CommonSizes are the path MTUs links and tunnels most often leave, probed
// together in the first parallel round: Ethernet, PPPoE, IPIP, GRE, IPv4 in
// IPv6, VXLAN, WireGuard, common VPN and cloud sizes, the IPv6 minimum, the
// RFC 1191 plateau 1006, and the IPv4 minimum reassembly size.
var CommonSizes = []mtu.Size{9000, 8950, 4352, 1500, 1492, 1480, 1476, 1460, 1450, 1440, 1420, 1400, 1380, 1360, 1280, 1006, 576}

// NewSizer returns a Sizer searching [floor, ceil]. tries < 1 means
// DefaultTries.
func NewSizer(floor, ceil mtu.Size, tries int) *Sizer {
	if tries < 1 {
		tries = DefaultTries
	}
	if ceil < floor {
		ceil = floor
	}
	return &Sizer{
		floor: floor, ceil: ceil, tries: tries, width: DefaultWidth,
		refused: ceil + 1,
		silent:  map[mtu.Size]int{}, replied: map[mtu.Size]int{},
	}
}

// Parallel reports whether the search has turned parallel.
func (s *Sizer) Parallel() bool { return s.parallel }

// Next returns the sizes to probe in the next round, one round trip; a
// size may appear more than once. Nil when the search is over (see Result).
func (s *Sizer) Next() []mtu.Size {
	if s.Done() {
		return nil
	}
	s.rounds++
	low, high := max(s.lo+1, s.floor), s.hi()-1
	if s.rounds == 1 && s.in(s.ceil, low, high) {
		return []mtu.Size{s.ceil}
	}
	if !s.parallel {
		return []mtu.Size{s.sequential(low, high)}
	}
	return s.batch(low, high)
}

// sequential picks one size: the size an ICMP named, or the middle of the
// gap.
func (s *Sizer) sequential(low, high mtu.Size) mtu.Size {
	if s.in(s.hint, low, high) {
		return s.hint
	}
	return (low + high + 1) / 2
}

// batch picks the sizes of a parallel round. The smallest size above lo
// that went unanswered (the boundary) is probed again, as many times as it
// still needs to be judged; below it, the gap is probed whole when it is
// small, else at the common link sizes and at points spread across it.
func (s *Sizer) batch(low, high mtu.Size) []mtu.Size {
	need := s.Tries()
	var out []mtu.Size
	top := high
	if b, ok := s.boundary(low, high); ok {
		out = append(out, repeat(b, min(need-s.silent[b], s.width/2))...)
		top = b - 1
	}
	if top < low {
		return out
	}
	if gap := int(top-low) + 1; gap*need <= s.width {
		// Small enough to judge every size in this round.
		for x := low; x <= top; x++ {
			out = append(out, repeat(x, need)...)
		}
		return out
	}
	set := map[mtu.Size]bool{}
	add := func(x mtu.Size) {
		if x >= low && x <= top && !s.tried(x) {
			set[x] = true
		}
	}
	add(s.hint)
	if s.lo == 0 {
		add(low) // nothing proved yet: is the host answering at all?
	}
	if s.plateau {
		// RFC 1191 §5: the largest plateau below the refused size.
		for _, p := range mtu.Plateaus {
			if p >= low && p <= top {
				add(p)
				break
			}
		}
	}
	for _, c := range CommonSizes {
		add(c)
	}
	// Spread the rest across the gap, the low end first: its answer is
	// the one that moves lo.
	for i := 0; len(set) < s.width && i < s.width; i++ {
		add(low + (top-low)*mtu.Size(i)/mtu.Size(s.width-1))
	}
	spread := make([]mtu.Size, 0, len(set))
	for x := range set {
		spread = append(spread, x)
	}
	slices.Sort(spread)
	if len(spread) > s.width {
		spread = append(spread[:s.width-1], spread[len(spread)-1])
	}
	return append(out, spread...)
}

// boundary returns the smallest size in [low, high] that went unanswered.
func (s *Sizer) boundary(low, high mtu.Size) (mtu.Size, bool) {
	b, ok := mtu.Size(0), false
	for size, n := range s.silent {
		if n > 0 && size >= low && size <= high && (!ok || size < b) {
			b, ok = size, true
		}
	}
	return b, ok
}

func repeat(x mtu.Size, n int) []mtu.Size {
	out := make([]mtu.Size, max(n, 1))
	for i := range out {
		out[i] = x
	}
	return out
}

func (s *Sizer) tried(x mtu.Size) bool { return s.silent[x] > 0 || s.replied[x] > 0 }

func (s *Sizer) in(x, low, high mtu.Size) bool { return x >= low && x <= high }

// Reply records that a probe of size came back: the path carries size.
func (s *Sizer) Reply(size mtu.Size) {
	s.replied[size]++
	if size > s.lo {
		s.lo = size
	}
	if s.refused <= size {
		// A proof beats an earlier refusal (a lie, or a route change).
		s.refused = s.ceil + 1
	}
}

// TooBig records that a router refused a probe of size and named the
// largest it forwards; named 0 means it named none. The caller has
// validated named (floor ≤ named < size) or passes 0.
func (s *Sizer) TooBig(size, named mtu.Size) {
	if size <= s.lo {
		return // a proof stands against a refusal of a smaller size
	}
	s.refused = min(s.refused, size)
	if named == 0 {
		s.plateau, s.parallel = true, true
		return
	}
	if named+1 < s.refused || !s.in(s.hint, s.lo+1, s.refused-1) {
		// A smaller limit than known, or no hint left: probe it next. A
		// late refusal naming a larger MTU than one already known moves
		// nothing: an ICMP never raises the bound.
		s.refused = min(s.refused, named+1)
		s.hint = named
	}
}

// Lost records that a probe of size earned nothing within its round. Each
// lost probe counts as one try.
func (s *Sizer) Lost(size mtu.Size) {
	s.silent[size]++
	s.parallel = true
}

// Tries returns how many unanswered probes make a size too big now: the
// Tries given to NewSizer, or more when probes of sizes known to pass are
// lost, so that a size that passes is judged too big with a chance below
// 0.1%; while nothing is proved, three times the Tries.
func (s *Sizer) Tries() int {
	if s.lo == 0 {
		// Nothing proved, so no loss can be measured, and a verdict now
		// would end the search with "no reply at any size": ask for
		// three times the tries first.
		return 3 * s.tries
	}
	lost, sent := 0, 0
	for size, n := range s.silent {
		if size <= s.lo {
			lost += n
			sent += n
		}
	}
	for size, n := range s.replied {
		if size <= s.lo {
			sent += n
		}
	}
	if lost == 0 {
		return s.tries
	}
	// Laplace's rule keeps one early loss from looking like certainty.
	loss := (float64(lost) + 1) / (float64(sent) + 2)
	n := int(math.Ceil(math.Log(0.001) / math.Log(loss)))
	return min(max(n, s.tries), maxTries)
}

// hi is the smallest size known not to pass: refused by an ICMP, or silent
// in enough rounds.
func (s *Sizer) hi() mtu.Size {
	hi := s.refused
	need := s.Tries()
	for size, n := range s.silent {
		if n >= need && size > s.lo && size < hi {
			hi = size
		}
	}
	return hi
}

// Done reports whether the search is over: lo and hi meet, or nothing at or
// above the floor is left to try.
func (s *Sizer) Done() bool { return max(s.lo+1, s.floor) >= s.hi() }

// Bounds returns what is proved so far: the path carries lo (0 if nothing
// came back yet) and does not carry hi.
func (s *Sizer) Bounds() (lo, hi mtu.Size) { return s.lo, s.hi() }

// RefusedByICMP reports whether hi comes from an ICMP refusal rather than
// from silence.
func (s *Sizer) RefusedByICMP() bool { return s.refused == s.hi() && s.refused <= s.ceil }

// RefusedSize is the smallest size an ICMP proved too big: the size a
// router refused, or one more than the MTU it named; above ceil if none.
// Unlike Bounds' hi it ignores silence.
func (s *Sizer) RefusedSize() mtu.Size { return s.refused }

// Result returns the path MTU and whether a probe proved it. ok is false
// while the search runs, or when nothing came back at any size.
func (s *Sizer) Result() (pmtu mtu.Size, ok bool) {
	if !s.Done() || s.lo == 0 {
		return 0, false
	}
	return s.lo, true
}

// SizeCount is what the probes of one size earned in a search: how
// many went unanswered in their round (Silent) and how many came back.
type SizeCount struct {
	Size            mtu.Size
	Silent, Replied int
}

// Counts returns what every size probed earned, smallest first: the
// evidence for a size lost while a larger one passed (a window).
func (s *Sizer) Counts() []SizeCount {
	seen := map[mtu.Size]*SizeCount{}
	for size, n := range s.silent {
		seen[size] = &SizeCount{Size: size, Silent: n}
	}
	for size, n := range s.replied {
		if c, ok := seen[size]; ok {
			c.Replied = n
		} else {
			seen[size] = &SizeCount{Size: size, Replied: n}
		}
	}
	out := make([]SizeCount, 0, len(seen))
	for _, c := range seen {
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b SizeCount) int { return int(a.Size) - int(b.Size) })
	return out
}

package probe

// Sizer chooses the size of the next probe. It is a pure state machine: it
// sends nothing and reads no clock; the caller tells it what each probe
// earned and asks for the next size.
//
// The path MTU lies in [lo, hi): lo is the largest size a reply proved
// (0 while none has), hi the smallest size known not to pass. The first
// probe is the egress MTU (ceil). A Next-Hop MTU from an ICMP moves hi to
// just above it and makes it the next probe, so a path whose routers all
// answer, with k drops, costs k+1 probes. A refusal with MTU 0 (RFC 1191
// §5) makes the largest RFC 1191 plateau below the refused size the next
// guess. Otherwise the search halves [lo, hi). A size that earns nothing
// is tried again, Tries times in all, before it counts as too big
// (RFC 8899 MAX_PROBES); a loss alone is not a verdict.
//
// The reported path MTU is always lo, a size a probe proved by coming back.
type Sizer struct {
	floor, ceil Size
	tries       int

	lo, hi  Size
	hint    Size // a size an ICMP named, probed next when in range
	plateau bool // a router refused without naming an MTU: guess plateaus

	current Size // the size under test
	lost    int  // tries at current that earned nothing
	started bool
}

// DefaultTries is how many probes of one size may go unanswered before the
// size counts as too big (RFC 4821 and RFC 8899 MAX_PROBES).
const DefaultTries = 3

// NewSizer returns a Sizer searching [floor, ceil]. tries < 1 means
// DefaultTries.
func NewSizer(floor, ceil Size, tries int) *Sizer {
	if tries < 1 {
		tries = DefaultTries
	}
	if ceil < floor {
		ceil = floor
	}
	return &Sizer{floor: floor, ceil: ceil, tries: tries, hi: ceil + 1}
}

// Next returns the size to probe now, and false when the search is over
// (see Result).
func (s *Sizer) Next() (Size, bool) {
	if s.Done() {
		return 0, false
	}
	if s.current != 0 && s.inRange(s.current) {
		return s.current, true
	}
	s.current, s.lost = s.choose(), 0
	return s.current, true
}

func (s *Sizer) choose() Size {
	if !s.started {
		s.started = true
		return s.ceil
	}
	if s.inRange(s.hint) {
		return s.hint
	}
	if s.plateau {
		for _, p := range plateaus {
			if s.inRange(p) {
				return p
			}
		}
	}
	low := max(s.lo+1, s.floor)
	return (low + s.hi) / 2
}

// inRange reports whether size is still worth probing: not proved, not
// known too big, and not below the floor.
func (s *Sizer) inRange(size Size) bool {
	return size > s.lo && size < s.hi && size >= s.floor
}

// Reply records that a probe of size came back: the path carries size.
func (s *Sizer) Reply(size Size) {
	if size <= s.lo {
		return
	}
	s.lo = size
	if s.hi <= size {
		// A proof beats an earlier verdict that was only losses or a
		// lie: search upward again.
		s.hi = s.ceil + 1
	}
}

// TooBig records that a router refused a probe of size and named mtu as the
// largest it forwards; mtu 0 means it named none. The caller has validated
// mtu (floor ≤ mtu < size) or passes 0.
func (s *Sizer) TooBig(size Size, mtu Size) {
	if size <= s.lo {
		return // a proof stands against a refusal of a smaller size
	}
	if size < s.hi {
		s.hi = size
	}
	if mtu == 0 {
		s.plateau = true
		return
	}
	if mtu+1 < s.hi {
		s.hi = mtu + 1
	}
	s.hint = mtu
}

// Lost records that one try at size earned nothing. After the last try the
// size counts as too big.
func (s *Sizer) Lost(size Size) {
	if size != s.current {
		return
	}
	s.lost++
	if s.lost >= s.tries && size < s.hi {
		s.hi = size
	}
}

// Done reports whether the search is over: lo and hi meet, or nothing at or
// above the floor is left to try.
func (s *Sizer) Done() bool {
	low := max(s.lo+1, s.floor)
	return low >= s.hi
}

// Bounds returns what is proved so far: the path carries lo (0 if nothing
// came back yet) and does not carry hi.
func (s *Sizer) Bounds() (lo, hi Size) { return s.lo, s.hi }

// Result returns the path MTU and whether a probe proved it. ok is false
// while the search runs, or when nothing came back at any size.
func (s *Sizer) Result() (pmtu Size, ok bool) {
	if !s.Done() || s.lo == 0 {
		return 0, false
	}
	return s.lo, true
}

package search

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pmtu/pmtu/mtu"
)

// path answers a probe the way a path of links with the given MTUs would:
// the first link narrower than the probe refuses it, naming its MTU (or 0
// with zero set), or drops it silently with silent set.
type simPath struct {
	mtus   []mtu.Size
	zero   bool
	silent bool
}

func (p simPath) pmtu() mtu.Size {
	m := mtu.Max
	for _, x := range p.mtus {
		m = min(m, x)
	}
	return m
}

// run drives a Sizer over the path and returns the result, the probe
// sizes in order and the number of rounds.
func (p simPath) run(t *testing.T, floor, ceil mtu.Size) (mtu.Size, bool, []mtu.Size) {
	pmtu, ok, sizes, _ := p.runRounds(t, floor, ceil, nil)
	return pmtu, ok, sizes
}

// runRounds is run with lose deciding, per probe, whether it or its answer
// is lost.
func (p simPath) runRounds(t *testing.T, floor, ceil mtu.Size, lose func() bool) (mtu.Size, bool, []mtu.Size, int) {
	t.Helper()
	s := NewSizer(floor, ceil, 3)
	var sizes []mtu.Size
	rounds := 0
	for {
		batch := s.Next()
		if len(batch) == 0 {
			break
		}
		rounds++
		sizes = append(sizes, batch...)
		if rounds > 100 {
			t.Fatalf("no end after 100 rounds: %v", sizes)
		}
		for _, size := range batch {
			if lose != nil && lose() {
				s.Lost(size)
				continue
			}
			refused := false
			for _, m := range p.mtus {
				if size > m {
					switch {
					case p.silent:
						s.Lost(size)
					case p.zero:
						s.TooBig(size, 0)
					default:
						s.TooBig(size, m)
					}
					refused = true
					break
				}
			}
			if !refused {
				s.Reply(size)
			}
		}
	}
	pmtu, ok := s.Result()
	return pmtu, ok, sizes, rounds
}

func TestSizerICMP(t *testing.T) {
	tests := []struct {
		name  string
		mtus  []mtu.Size
		ceil  mtu.Size
		want  []mtu.Size // probe sizes, in order
		floor mtu.Size
	}{
		{name: "no drop", mtus: []mtu.Size{1500, 1500}, ceil: 1500, floor: 68, want: []mtu.Size{1500}},
		{name: "jumbo", mtus: []mtu.Size{9000}, ceil: 9000, floor: 68, want: []mtu.Size{9000}},
		{name: "one drop", mtus: []mtu.Size{1500, 1400}, ceil: 1500, floor: 68, want: []mtu.Size{1500, 1400}},
		{name: "three drops", mtus: []mtu.Size{1500, 1492, 1400, 1280}, ceil: 1500, floor: 68,
			want: []mtu.Size{1500, 1492, 1400, 1280}},
		{name: "ipv6 chain", mtus: []mtu.Size{1500, 1492, 1400, 1280}, ceil: 1500, floor: 1280,
			want: []mtu.Size{1500, 1492, 1400, 1280}},
		{name: "ceil below path", mtus: []mtu.Size{9000}, ceil: 1500, floor: 68, want: []mtu.Size{1500}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := simPath{mtus: tt.mtus}
			pmtu, ok, sizes := p.run(t, tt.floor, tt.ceil)
			if want := min(p.pmtu(), tt.ceil); !ok || pmtu != want {
				t.Errorf("Result = %d, %v; want %d, true", pmtu, ok, want)
			}
			if diff := cmp.Diff(tt.want, sizes); diff != "" {
				t.Errorf("probe sizes (-want +got):\n%s", diff)
			}
		})
	}
}

// Searching without a number from the routers (MTU 0, or silence) must
// still end on the exact path MTU, for every MTU a path can have, in a few
// rounds.
func TestSizerExactWithoutNumbers(t *testing.T) {
	for _, mode := range []string{"mtu0", "silent"} {
		worst := 0
		for pmtuWant := mtu.Size(68); pmtuWant <= 1500; pmtuWant++ {
			p := simPath{mtus: []mtu.Size{1500, pmtuWant}, zero: mode == "mtu0", silent: mode == "silent"}
			pmtu, ok, sizes, rounds := p.runRounds(t, 68, 1500, nil)
			if !ok || pmtu != pmtuWant {
				t.Fatalf("%s path %d: Result = %d, %v after %v", mode, pmtuWant, pmtu, ok, sizes)
			}
			worst = max(worst, rounds)
		}
		// 1: ceil; 2: common sizes; then the gap closes by a factor of
		// 16 a round, and a small gap is judged whole in one round.
		if limit := 6; worst > limit {
			t.Errorf("%s: %d rounds at worst, want ≤ %d", mode, worst, limit)
		}
	}
}

// The common link sizes come back in the first parallel round, so a black
// hole at one of them costs few rounds.
func TestSizerBlackHoleCommonSize(t *testing.T) {
	for _, want := range []mtu.Size{1492, 1450, 1420, 1400, 1280} {
		p := simPath{mtus: []mtu.Size{want}, silent: true}
		pmtu, ok, _, rounds := p.runRounds(t, 68, 1500, nil)
		if !ok || pmtu != want {
			t.Fatalf("path %d: Result %d, %v", want, pmtu, ok)
		}
		// 1: ceil, silent. 2: common sizes, 3, 4: the retries that
		// make want+1 (or the size above) too big.
		if rounds > 5 {
			t.Errorf("path %d: %d rounds, want ≤ 5", want, rounds)
		}
	}
}

// Loss is not a verdict: with 30% of probes lost each way (51% of round
// trips), the answer stays exact.
func TestSizerExactUnderLoss(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	lose := func() bool { return rng.Float64() < 0.51 }
	wrong := 0
	const runs = 200
	for i := range runs {
		want := mtu.Size(1200 + i)
		p := simPath{mtus: []mtu.Size{want}, silent: true}
		pmtu, ok, _, _ := p.runRounds(t, 68, 1500, lose)
		if !ok || pmtu != want {
			wrong++
		}
	}
	// Each verdict errs with a chance below 1%.
	if wrong > runs/50 {
		t.Errorf("%d of %d searches wrong under 51%% loss", wrong, runs)
	}
}

func TestSizerTriesGrowWithLoss(t *testing.T) {
	s := NewSizer(68, 1500, 3)
	if got := s.Tries(); got != 9 {
		t.Fatalf("Tries with nothing proved = %d, want 9", got)
	}
	s.Reply(1000)
	if got := s.Tries(); got != 3 {
		t.Fatalf("Tries on a clean path = %d, want 3", got)
	}
	for range 5 {
		s.Reply(1000)
		s.Lost(1000)
	}
	if got := s.Tries(); got < 6 || got > maxTries {
		t.Fatalf("Tries with half the good probes lost = %d, want 6..%d", got, maxTries)
	}
}

func TestSizerPlateauGuess(t *testing.T) {
	// RFC 1191 §5: after a refusal without a number, the largest plateau
	// below the refused size is among the next probes.
	s := NewSizer(68, 1500, 3)
	first := s.Next()
	s.TooBig(first[0], 0)
	if next := s.Next(); !slices.Contains(next, 1492) || !slices.Contains(next, 1006) {
		t.Fatalf("after MTU 0 at 1500, next round %v, want the plateau 1492 and common sizes", next)
	}
}

func TestSizerSilenceNeedsTries(t *testing.T) {
	s := NewSizer(68, 1500, 3)
	s.Next()
	s.Reply(1000)
	for i := 1; i <= 3; i++ {
		if _, hi := s.Bounds(); hi != 1501 {
			t.Fatalf("1500 judged too big after %d silent tries", i-1)
		}
		s.Lost(1500)
	}
	if _, hi := s.Bounds(); hi != 1500 {
		t.Fatalf("hi = %d after 3 silent tries at 1500, want 1500", hi)
	}
	// A late reply after the verdict is a proof and reopens the range.
	s.Reply(1500)
	if pmtu, ok := s.Result(); !ok || pmtu != 1500 {
		t.Fatalf("after a late reply Result = %d, %v; want 1500, true", pmtu, ok)
	}
}

// With nothing proved, silence at the floor needs three times the tries
// before pmtu says nobody answers.
func TestSizerNoReplyNeedsMoreTries(t *testing.T) {
	s := NewSizer(1280, 1500, 3)
	for range 3 {
		s.Lost(1500)
	}
	for i := range 9 {
		if s.Done() {
			t.Fatalf("search over after %d silent tries at the floor", i)
		}
		s.Lost(1280)
	}
	if !s.Done() {
		t.Fatal("search goes on after 9 silent tries at the floor")
	}
}

// Each round retries the boundary, the smallest silent size, as often as
// it still needs, and never a larger silent size.
func TestSizerRetriesOnlyTheBoundary(t *testing.T) {
	s := NewSizer(68, 1500, 3)
	s.Next()
	s.Lost(1500)
	batch := s.Next()
	for _, x := range batch {
		if x <= 1300 {
			s.Reply(x)
		} else {
			s.Lost(x)
		}
	}
	next := s.Next()
	counts := map[mtu.Size]int{}
	for _, x := range next {
		counts[x]++
	}
	if counts[1360] != 2 {
		t.Errorf("round %v: 1360, the smallest silent size, %d times, want 2 (3 tries less 1)", next, counts[1360])
	}
	for _, x := range next {
		if x > 1360 {
			t.Errorf("round %v retries %d, above the boundary 1360", next, x)
		}
	}
}

func TestSizerNothingAnswers(t *testing.T) {
	s := NewSizer(1280, 1500, 3)
	n := 0
	for {
		batch := s.Next()
		if len(batch) == 0 {
			break
		}
		for _, x := range batch {
			n++
			s.Lost(x)
		}
	}
	if _, ok := s.Result(); ok {
		t.Fatal("Result ok with no reply at all")
	}
	if lo, hi := s.Bounds(); lo != 0 || hi != 1280 {
		t.Fatalf("Bounds = %d, %d; want 0, 1280 (the floor itself failed)", lo, hi)
	}
	if n > 100 {
		t.Fatalf("%d probes to give up on 1280..1500", n)
	}
}

func TestSizerIgnoresRaiseAndStaleRefusal(t *testing.T) {
	s := NewSizer(68, 1500, 3)
	size := s.Next()[0]
	s.TooBig(size, 1400)
	s.TooBig(size, 1450) // a second ICMP never raises the bound
	if _, hi := s.Bounds(); hi != 1401 {
		t.Fatalf("hi = %d, want 1401", hi)
	}
	s.Reply(1400)
	s.TooBig(1300, 1200) // refusing a size below a proof is stale
	if pmtu, ok := s.Result(); !ok || pmtu != 1400 {
		t.Fatalf("Result = %d, %v; want 1400, true", pmtu, ok)
	}
	if !s.RefusedByICMP() {
		t.Fatal("RefusedByICMP false, but an ICMP named 1400")
	}
}

// A late refusal naming a larger MTU than one already known does not move
// the next probe away from the known one.
func TestSizerLateLargerRefusalKeepsHint(t *testing.T) {
	s := NewSizer(68, 1500, 3)
	s.Next()
	s.TooBig(1500, 1280) // the narrowest link answered first
	s.TooBig(1500, 1400) // a wider one's answer to the same size, late
	if next := s.Next(); len(next) != 1 || next[0] != 1280 {
		t.Fatalf("next round %v, want [1280]", next)
	}
	if _, hi := s.Bounds(); hi != 1281 {
		t.Fatalf("hi = %d, want 1281", hi)
	}
}

// A Sizer told before its first round that the ceiling is refused does
// not probe the ceiling.
func TestSizerFirstRoundSkipsRefusedCeiling(t *testing.T) {
	s := NewSizer(68, 1500, 3)
	s.TooBig(1500, 1400)
	if next := s.Next(); len(next) != 1 || next[0] != 1400 {
		t.Fatalf("first round %v, want [1400]", next)
	}
}

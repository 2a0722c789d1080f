package probe

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// path answers a probe the way a path of links with the given MTUs would:
// the first link narrower than the probe refuses it, naming its MTU (or 0
// with zero set), or drops it silently with silent set.
type simPath struct {
	mtus   []Size
	zero   bool
	silent bool
}

func (p simPath) pmtu() Size {
	m := MaxSize
	for _, x := range p.mtus {
		m = min(m, x)
	}
	return m
}

// run drives a Sizer over the path and returns the result and the probe
// sizes in order.
func (p simPath) run(t *testing.T, floor, ceil Size) (Size, bool, []Size) {
	t.Helper()
	s := NewSizer(floor, ceil, 3)
	var sizes []Size
	for {
		size, ok := s.Next()
		if !ok {
			break
		}
		sizes = append(sizes, size)
		if len(sizes) > 200 {
			t.Fatalf("no end after 200 probes: %v", sizes)
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
	pmtu, ok := s.Result()
	return pmtu, ok, sizes
}

func TestSizerICMP(t *testing.T) {
	tests := []struct {
		name  string
		mtus  []Size
		ceil  Size
		want  []Size // probe sizes, in order
		floor Size
	}{
		{name: "no drop", mtus: []Size{1500, 1500}, ceil: 1500, floor: 68, want: []Size{1500}},
		{name: "jumbo", mtus: []Size{9000}, ceil: 9000, floor: 68, want: []Size{9000}},
		{name: "one drop", mtus: []Size{1500, 1400}, ceil: 1500, floor: 68, want: []Size{1500, 1400}},
		{name: "three drops", mtus: []Size{1500, 1492, 1400, 1280}, ceil: 1500, floor: 68,
			want: []Size{1500, 1492, 1400, 1280}},
		{name: "ipv6 chain", mtus: []Size{1500, 1492, 1400, 1280}, ceil: 1500, floor: 1280,
			want: []Size{1500, 1492, 1400, 1280}},
		{name: "ceil below path", mtus: []Size{9000}, ceil: 1500, floor: 68, want: []Size{1500}},
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
// still end on the exact path MTU, for every MTU a path can have.
func TestSizerExactWithoutNumbers(t *testing.T) {
	for _, mode := range []string{"mtu0", "silent"} {
		for pmtuWant := Size(68); pmtuWant <= 1500; pmtuWant++ {
			p := simPath{mtus: []Size{1500, pmtuWant}, zero: mode == "mtu0", silent: mode == "silent"}
			pmtu, ok, sizes := p.run(t, 68, 1500)
			if !ok || pmtu != pmtuWant {
				t.Fatalf("%s path %d: Result = %d, %v after %v", mode, pmtuWant, pmtu, ok, sizes)
			}
			// Binary search over 1433 sizes: 11 verdicts; silence costs
			// 3 tries for each refused size.
			limit := 16
			if mode == "silent" {
				limit = 3 * 12
			}
			if len(sizes) > limit {
				t.Fatalf("%s path %d: %d probes (%v), want ≤ %d", mode, pmtuWant, len(sizes), sizes, limit)
			}
		}
	}
}

func TestSizerPlateauGuess(t *testing.T) {
	// RFC 1191 §5: after a refusal without a number, the largest plateau
	// below the refused size comes next.
	s := NewSizer(68, 1500, 3)
	first, _ := s.Next()
	s.TooBig(first, 0)
	next, _ := s.Next()
	if next != 1492 {
		t.Fatalf("after MTU 0 at 1500, next = %d, want the plateau 1492", next)
	}
	s.TooBig(next, 0)
	if next, _ = s.Next(); next != 1006 {
		t.Fatalf("after MTU 0 at 1492, next = %d, want the plateau 1006", next)
	}
}

func TestSizerRetriesBeforeVerdict(t *testing.T) {
	s := NewSizer(68, 1500, 3)
	var got []Size
	for range 3 {
		size, _ := s.Next()
		got = append(got, size)
		s.Lost(size)
	}
	if diff := cmp.Diff([]Size{1500, 1500, 1500}, got); diff != "" {
		t.Fatalf("one size is tried 3 times (-want +got):\n%s", diff)
	}
	if lo, hi := s.Bounds(); lo != 0 || hi != 1500 {
		t.Fatalf("after 3 losses Bounds = %d, %d; want 0, 1500", lo, hi)
	}
	// A late reply after the verdict is a proof and reopens the range.
	s.Reply(1500)
	if pmtu, ok := s.Result(); !ok || pmtu != 1500 {
		t.Fatalf("after a late reply Result = %d, %v; want 1500, true", pmtu, ok)
	}
}

func TestSizerNothingAnswers(t *testing.T) {
	s := NewSizer(1280, 1500, 3)
	n := 0
	for {
		size, ok := s.Next()
		if !ok {
			break
		}
		n++
		s.Lost(size)
	}
	if _, ok := s.Result(); ok {
		t.Fatal("Result ok with no reply at all")
	}
	if lo, hi := s.Bounds(); lo != 0 || hi != 1280 {
		t.Fatalf("Bounds = %d, %d; want 0, 1280 (the floor itself failed)", lo, hi)
	}
	if n > 3*9 {
		t.Fatalf("%d probes to give up on 1280..1500", n)
	}
}

func TestSizerIgnoresRaiseAndStaleRefusal(t *testing.T) {
	s := NewSizer(68, 1500, 3)
	size, _ := s.Next()
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
}

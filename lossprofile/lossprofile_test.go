package lossprofile

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/probe/search"
)

func TestWilson(t *testing.T) {
	tests := []struct {
		name       string
		lost, sent int
		z          float64
		lo, hi     float64
	}{
		// Values from the closed form, checked against R's
		// binom::binom.wilson (prop.test without continuity).
		{"none sent", 0, 0, 3, 0, 1},
		{"none lost of 100", 0, 100, 1.96, 0, 0.0370},
		{"all lost of 10", 10, 10, 1.96, 0.7225, 1},
		{"half of 10", 5, 10, 1.96, 0.2366, 0.7634},
		{"3 of 100", 3, 100, 1.96, 0.0103, 0.0845},
		{"none lost of 291 at z 3", 0, 291, 3, 0, 0.03},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lo, hi := Wilson(tt.lost, tt.sent, tt.z)
			if math.Abs(lo-tt.lo) > 5e-4 || math.Abs(hi-tt.hi) > 5e-4 {
				t.Errorf("Wilson(%d, %d, %v) = [%.4f, %.4f], want [%.4f, %.4f]", tt.lost, tt.sent, tt.z, lo, hi, tt.lo, tt.hi)
			}
		})
	}
}

func TestGrid(t *testing.T) {
	tests := []struct {
		name     string
		from, to mtu.Size
		first    []mtu.Size
		n        int
		step     mtu.Size
	}{
		{"1500 from 1180", 1180, 1500, []mtu.Size{1180, 1196, 1212}, 21, 16},
		{"ipv6 1280 to 1500", 1280, 1500, []mtu.Size{1280, 1292, 1308}, 15, 16},
		{"wide: at most MaxGrid", 68, 9000, []mtu.Size{68}, 32, 289},
		{"one size", 1500, 1500, []mtu.Size{1500}, 1, 16},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, step := Grid(tt.from, tt.to)
			if len(g) != tt.n || step != tt.step || g[len(g)-1] != tt.to {
				t.Fatalf("Grid(%d, %d) = %v step %d; want %d sizes up to %d, step %d", tt.from, tt.to, g, step, tt.n, tt.to, tt.step)
			}
			if diff := cmp.Diff(tt.first, g[:len(tt.first)]); diff != "" {
				t.Errorf("first sizes (-want +got):\n%s", diff)
			}
		})
	}
}

// counts makes counts: each size sent n, lost as loss(size) says.
func counts(sizes []mtu.Size, n int, loss func(mtu.Size) int) []Count {
	var out []Count
	for _, s := range sizes {
		out = append(out, Count{Size: s, Sent: n, Lost: loss(s)})
	}
	return out
}

func TestAnalyze(t *testing.T) {
	grid, _ := Grid(1180, 1500)
	tests := []struct {
		name     string
		counts   []Count
		windows  []Window
		brownout *Brownout
		safe     mtu.Size
		bands    int
	}{
		{
			name:   "clean",
			counts: counts(grid, 100, func(mtu.Size) int { return 0 }),
			safe:   1500, bands: 1,
		},
		{
			name:   "uniform 1% is no brownout",
			counts: counts(grid, 100, func(s mtu.Size) int { return int(s) % 3 }),
			safe:   1500, bands: 1,
		},
		{
			name: "window 1400-1420",
			counts: counts([]mtu.Size{1380, 1396, 1399, 1400, 1404, 1420, 1421, 1436, 1500}, 20, func(s mtu.Size) int {
				if s >= 1400 && s <= 1420 {
					return 20
				}
				return 0
			}),
			windows: []Window{{From: 1400, To: 1420, Loss: 1}},
			safe:    1500, bands: 3,
		},
		{
			name: "brownout above 1440",
			counts: counts(grid, 100, func(s mtu.Size) int {
				if s > 1440 {
					return 3
				}
				return 0
			}),
			brownout: &Brownout{Above: 1436, LossAbove: 0.03, LossBelow: 0},
			safe:     1436, bands: 2,
		},
		{
			name: "window below a brownout",
			counts: counts(grid, 200, func(s mtu.Size) int {
				switch {
				case s >= 1400 && s <= 1420:
					return 200
				case s > 1440:
					return 10
				}
				return 0
			}),
			windows:  []Window{{From: 1404, To: 1420, Loss: 1}},
			brownout: &Brownout{Above: 1436, LossAbove: 0.05, LossBelow: 0},
			safe:     1436, bands: 4,
		},
		{
			name: "everything lost above 1400: the MTU, seen as a brownout",
			counts: counts(grid, 10, func(s mtu.Size) int {
				if s > 1400 {
					return 10
				}
				return 0
			}),
			brownout: &Brownout{Above: 1388, LossAbove: 1, LossBelow: 0},
			safe:     1388, bands: 2,
		},
		{name: "nothing probed", safe: 0, bands: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := Analyze(tt.counts)
			if diff := cmp.Diff(tt.windows, a.Windows); diff != "" {
				t.Errorf("windows (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.brownout, a.Brownout); diff != "" {
				t.Errorf("brownout (-want +got):\n%s", diff)
			}
			if a.SafeMTU != tt.safe || len(a.Bands) != tt.bands {
				t.Errorf("safe_mtu %d in %d bands, want %d in %d: %+v", a.SafeMTU, len(a.Bands), tt.safe, tt.bands, a.Bands)
			}
		})
	}
}

// fakeSampler loses a probe of size s with probability loss(s).
type fakeSampler struct {
	rng  *rand.Rand
	loss func(mtu.Size) float64
	sent int
}

func (f *fakeSampler) Sample(_ context.Context, sizes []mtu.Size) ([]search.Outcome, error) {
	out := make([]search.Outcome, len(sizes))
	for i, s := range sizes {
		f.sent++
		out[i] = search.Lost
		if f.rng.Float64() >= f.loss(s) {
			out[i] = search.Returned
		}
	}
	return out, nil
}

// defaultBudget is pmtu profile's: DefaultRate for DefaultDuration.
var defaultBudget = int(DefaultRate * DefaultDuration.Seconds())

// TestDetectsBrownoutAtDefaults: 3% loss above 1440 and none below is
// seen, at the default budget, in at least 99 runs of 100 (IPv4's 21
// sizes and IPv6's 15), with the edge placed within a grid step; a clean
// path, and one losing 1% at every size, never shows a brownout or a
// window.
func TestDetectsBrownoutAtDefaults(t *testing.T) {
	const runs = 100
	tests := []struct {
		name      string
		from      mtu.Size
		loss      func(mtu.Size) float64
		brownouts int // at least
		alarms    int // at most: a brownout or window where none is
	}{
		{"3% above 1440, ipv4", 1180, func(s mtu.Size) float64 { return map[bool]float64{true: 0.03}[s > 1440] }, 99, runs},
		{"3% above 1440, ipv6", 1280, func(s mtu.Size) float64 { return map[bool]float64{true: 0.03}[s > 1440] }, 99, runs},
		{"clean", 1180, func(mtu.Size) float64 { return 0 }, 0, 0},
		{"1% everywhere", 1180, func(mtu.Size) float64 { return 0.01 }, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen, alarms, probes := 0, 0, 0
			for seed := range uint64(runs) {
				f := &fakeSampler{rng: rand.New(rand.NewPCG(seed, 7)), loss: tt.loss}
				p, err := Run(context.Background(), f, &Config{From: tt.from, To: 1500, MaxProbes: defaultBudget, Seed: seed})
				if err != nil {
					t.Fatal(err)
				}
				probes += p.Probes
				if p.Probes > defaultBudget {
					t.Fatalf("seed %d: %d probes, over the budget of %d", seed, p.Probes, defaultBudget)
				}
				if p.Brownout == nil && tt.brownouts > 0 {
					t.Logf("seed %d: no brownout: %+v", seed, p.Counts)
				}
				if b := p.Brownout; b != nil && tt.brownouts > 0 {
					if b.Above < 1440-Step || b.Above > 1440+Step {
						t.Errorf("seed %d: brownout above %d, want within a step of 1440", seed, b.Above)
					}
					seen++
				}
				if (p.Brownout != nil && tt.brownouts == 0) || len(p.Windows) > 0 {
					alarms++
					t.Logf("seed %d: false alarm: windows %+v brownout %+v counts %+v", seed, p.Windows, p.Brownout, p.Counts)
				}
			}
			t.Logf("%d of %d brownouts seen, %d false alarms, %d probes a run on average", seen, runs, alarms, probes/runs)
			if seen < tt.brownouts || alarms > tt.alarms {
				t.Errorf("%d brownouts seen (want ≥ %d), %d false alarms (want ≤ %d)", seen, tt.brownouts, alarms, tt.alarms)
			}
		})
	}
}

// TestRunRefinesWindow: a window of 1400–1420 at 100% loss is found
// to the byte, with the path clean on both sides.
func TestRunRefinesWindow(t *testing.T) {
	f := &fakeSampler{rng: rand.New(rand.NewPCG(1, 2)), loss: func(s mtu.Size) float64 {
		if s >= 1400 && s <= 1420 {
			return 1
		}
		return 0
	}}
	p, err := Run(context.Background(), f, &Config{From: 1180, To: 1500, MaxProbes: defaultBudget})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]Window{{From: 1400, To: 1420, Loss: 1}}, p.Windows); diff != "" {
		t.Errorf("windows (-want +got):\n%s", diff)
	}
	if p.Brownout != nil || p.SafeMTU != 1500 || p.Ended != EndDecided {
		t.Errorf("brownout %+v, safe_mtu %d, ended %s; want none, 1500, decided", p.Brownout, p.SafeMTU, p.Ended)
	}
	t.Logf("%d probes in %d rounds", p.Probes, p.Rounds)
}

func TestRunNeedsBudget(t *testing.T) {
	if _, err := Run(context.Background(), &fakeSampler{}, &Config{From: 1280, To: 1500}); err != ErrNoBudget {
		t.Errorf("err = %v, want ErrNoBudget", err)
	}
}

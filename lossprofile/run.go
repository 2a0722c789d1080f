package lossprofile

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/probe/search"
)

// Defaults of a profile; the package comment says why they suffice.
const (
	// DefaultRate is the probes a second of pmtu profile (--rate).
	DefaultRate = 250
	// DefaultDuration bounds a profile (--duration).
	DefaultDuration = 10 * time.Second
	// DefaultDetect is the smallest brownout a profile sets out to see:
	// 3% more loss above a size than below it.
	DefaultDetect = 0.03
	// TopSizes is how many of the largest sizes a brownout must cover
	// to be ruled out (Decided).
	TopSizes = 4
)

// How much a profile probes before it judges: every size of the grid
// minSent times before it is analysed (or an edge refined past it),
// minRounds rounds before Run may stop, and roundsPerSample rounds sent
// in one Sample.
const (
	minSent         = 6
	minRounds       = 24
	roundsPerSample = 4
)

// Sampler sends one probe of each size and says what each earned
// (probe.Sampler, search.Sampler).
type Sampler interface {
	Sample(ctx context.Context, sizes []mtu.Size) ([]search.Outcome, error)
}

// Config says what to profile and how long. From and To are required.
type Config struct {
	// From and To bound the sizes probed, in IP bytes.
	From, To mtu.Size
	// MaxProbes bounds the probes (pmtu: --rate × --duration); 0 means
	// no bound but Duration.
	MaxProbes int
	// Duration bounds the time on Now's clock; 0 means no bound but
	// MaxProbes (one of them must be set).
	Duration time.Duration
	// Detect is the smallest brownout to rule out before stopping; 0
	// means DefaultDetect.
	Detect float64
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Seed seeds the order of sizes in a round; 0 is a fixed seed.
	Seed uint64
}

// Ends of a profile (Profile.Ended).
const (
	EndDecided  = "decided"  // the statistics decided (Decided)
	EndProbes   = "probes"   // MaxProbes were sent
	EndDuration = "duration" // Duration passed
	EndStopped  = "stopped"  // the context ended, or a probe could not be sent
)

// Profile is what Run measured: the counts by size, their Analysis, the
// grid, and what it cost.
type Profile struct {
	Analysis
	From, To mtu.Size
	// Step is the grid's spacing: a brownout's edge is known to within
	// it; a window's edges are refined to the byte.
	Step mtu.Size
	// Counts are every size probed, smallest first.
	Counts  []Count
	Probes  int
	Rounds  int
	Elapsed time.Duration
	// Ended says why Run stopped: EndDecided, EndProbes, EndDuration or
	// EndStopped.
	Ended string
}

// ErrNoBudget is Run's error when neither MaxProbes nor Duration bounds
// the profile.
var ErrNoBudget = errors.New("lossprofile: a profile needs a probe budget or a duration")

// Run measures the loss profile of [From, To] over s. It returns the
// profile so far with an error when a probe could not be sent or ctx
// ended (Ended EndStopped); running out of probes or time is no error.
func Run(ctx context.Context, s Sampler, cfg *Config) (*Profile, error) {
	if cfg.MaxProbes <= 0 && cfg.Duration <= 0 {
		return nil, ErrNoBudget
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	detect := cfg.Detect
	if detect <= 0 {
		detect = DefaultDetect
	}
	grid, step := Grid(cfg.From, cfg.To)
	p := &Profile{From: grid[0], To: grid[len(grid)-1], Step: step}
	counts := map[mtu.Size]*Count{}
	for _, g := range grid {
		counts[g] = &Count{Size: g}
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x706d7475))
	start := now()
	parent := ctx
	if cfg.Duration > 0 {
		// A batch over a slow Sampler (a target that rate-limits its
		// answers) may outlast the duration: it ends there, its probes
		// still waited for not counted.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.Duration)
		defer cancel()
	}
	finish := func(end string, err error) (*Profile, error) {
		p.Elapsed = now().Sub(start)
		p.Ended = end
		p.Counts = p.Counts[:0]
		for _, g := range grid {
			p.Counts = append(p.Counts, *counts[g])
		}
		p.Analysis = Analyze(judged(p.Counts))
		return p, err
	}
	for {
		if cfg.Duration > 0 && now().Sub(start) >= cfg.Duration {
			return finish(EndDuration, nil)
		}
		left := cfg.MaxProbes - p.Probes
		if cfg.MaxProbes > 0 && left < len(grid) {
			return finish(EndProbes, nil)
		}
		var batch []mtu.Size
		for r := 0; r < roundsPerSample && (cfg.MaxProbes <= 0 || len(batch)+len(grid) <= left); r++ {
			round := slices.Clone(grid)
			rng.Shuffle(len(round), func(i, j int) { round[i], round[j] = round[j], round[i] })
			batch = append(batch, round...)
			p.Rounds++
		}
		outs, err := s.Sample(ctx, batch)
		for i, o := range outs {
			if o == search.Pending {
				continue
			}
			c := counts[batch[i]]
			c.Sent++
			p.Probes++
			switch o {
			case search.Returned:
			case search.Refused:
				c.Lost++
				c.Refused++
			default:
				c.Lost++
			}
		}
		if err != nil && parent.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			return finish(EndDuration, nil)
		}
		if err != nil {
			return finish(EndStopped, err)
		}
		cur := make([]Count, 0, len(grid))
		sent := map[mtu.Size]int{}
		for _, g := range grid {
			cur = append(cur, *counts[g])
			sent[g] = counts[g].Sent
		}
		a := Analyze(judged(cur))
		add, pending := refine(a, grid, sent)
		for _, x := range add {
			if _, ok := counts[x]; !ok {
				counts[x] = &Count{Size: x}
				grid = append(grid, x)
			}
		}
		slices.Sort(grid)
		if !pending && p.Rounds >= minRounds && Decided(a, judged(cur), detect) {
			return finish(EndDecided, nil)
		}
	}
}

// judged are the counts of the sizes probed enough to be judged.
func judged(cs []Count) []Count {
	var out []Count
	for _, c := range cs {
		if c.Sent >= minSent {
			out = append(out, c)
		}
	}
	return out
}

// Decided reports whether a, the analysis of counts, says enough to
// stop: no brownout is seen (one seen is worth every probe left, to place
// its edge and measure its loss), and one of detect (a fraction) is ruled
// out over the TopSizes largest sizes outside windows: the upper bound
// at Z of their loss is below the loss of the sizes under them plus
// detect.
func Decided(a Analysis, counts []Count, detect float64) bool {
	if a.Baseline < 0 || a.Brownout != nil {
		return false
	}
	cs := slices.Clone(counts)
	slices.SortFunc(cs, func(a, b Count) int { return int(b.Size) - int(a.Size) })
	var lostT, sentT, lostB, sentB, sizes int
	for _, c := range cs {
		switch {
		case c.Sent == 0 || inWindow(a.Windows, c.Size):
		case sizes < TopSizes:
			lostT, sentT = lostT+c.Lost, sentT+c.Sent
			sizes++
		default:
			lostB, sentB = lostB+c.Lost, sentB+c.Sent
		}
	}
	if sentT == 0 {
		return false
	}
	below := 0.0
	if sentB > 0 {
		below = float64(lostB) / float64(sentB)
	}
	_, hi := Wilson(lostT, sentT, Z)
	return hi < below+detect
}

func inWindow(ws []Window, s mtu.Size) bool {
	for _, w := range ws {
		if s >= w.From && s <= w.To {
			return true
		}
	}
	return false
}

package lossprofile

import (
	"math"
	"slices"

	"github.com/pmtu/pmtu/mtu"
)

// Count is what the probes of one size earned: how many were sent, how
// many never came back (Lost, Refused included), and how many of those a
// router refused by ICMP.
type Count struct {
	Size    mtu.Size
	Sent    int
	Lost    int
	Refused int
}

// Band is a run of adjacent probed sizes whose loss cannot be told
// apart: from its smallest size to its largest, what their probes
// earned together, and the Wilson interval of its loss (at Z).
type Band struct {
	From, To mtu.Size
	Sent     int
	Lost     int
	Refused  int
	Loss     float64
	CILow    float64
	CIHigh   float64
	// Sizes is how many probed sizes the band holds.
	Sizes int
}

// Window is a range of sizes lost more than a larger size is: From and
// To are the smallest and largest sizes probed in it.
type Window struct {
	From, To mtu.Size
	// Loss is its loss (pooled over its sizes).
	Loss float64
}

// Brownout is the size above which loss is surely higher than below it:
// Above is the largest size probed below the edge (the edge lies between
// it and the next size probed), LossAbove and LossBelow the pooled loss
// of the sizes above and below (windows left out).
type Brownout struct {
	Above     mtu.Size
	LossAbove float64
	LossBelow float64
}

// Analysis is what counts say: the bands, the windows, a brownout (nil
// if none), and SafeMTU, the largest size whose loss cannot be told from
// the baseline (0 if no size was probed).
type Analysis struct {
	Bands    []Band
	Windows  []Window
	Brownout *Brownout
	SafeMTU  mtu.Size
	// Baseline is the index in Bands of the band whose loss is most
	// surely low; -1 with no bands.
	Baseline int
}

// Analyze turns counts (any order; sizes never probed are left out)
// into bands, windows, a brownout and the safe size. It is a pure
// function. Adjacent bands are merged, the most alike first, until every
// two neighbours differ surely (their Wilson intervals at Z do not
// overlap).
func Analyze(counts []Count) Analysis {
	bands := bandsOf(counts)
	a := Analysis{Bands: bands, Baseline: -1}
	if len(bands) == 0 {
		return a
	}
	base := baseline(bands)
	a.Baseline = base
	above := func(i, j int) bool { return apart(bands[i].Lost, bands[i].Sent, bands[j].Lost, bands[j].Sent) }

	window := make([]bool, len(bands))
	for i := range bands {
		for j := i + 1; j < len(bands); j++ {
			if above(i, j) {
				window[i] = true
				break
			}
		}
	}
	for i := 0; i < len(bands); i++ {
		if !window[i] {
			continue
		}
		w := Window{From: bands[i].From}
		lost, sent := 0, 0
		for ; i < len(bands) && window[i]; i++ {
			w.To = bands[i].To
			lost, sent = lost+bands[i].Lost, sent+bands[i].Sent
		}
		w.Loss = float64(lost) / float64(sent)
		a.Windows = append(a.Windows, w)
	}

	a.Brownout = brownout(counts, a.Windows)
	if bo := a.Brownout; bo != nil {
		// The edge parts the bands: a size just below it may have been
		// merged with the band above, that it cannot be told from alone.
		var lower, upper []Count
		for _, c := range counts {
			if c.Size <= bo.Above {
				lower = append(lower, c)
			} else {
				upper = append(upper, c)
			}
		}
		bands = append(bandsOf(lower), bandsOf(upper)...)
		a.Bands, a.Baseline = bands, baseline(bands)
	}
	top := len(bands) - 1
	for i := top; i >= 0; i-- {
		if a.Brownout != nil {
			a.SafeMTU = a.Brownout.Above
			break
		}
		if i == base || !above(i, base) {
			a.SafeMTU = bands[i].To
			break
		}
	}
	return a
}

// baseline is the index of the band whose loss is most surely low: the
// lowest upper bound, the most probes among equals.
func baseline(bands []Band) int {
	base := 0
	for i, b := range bands {
		if b.CIHigh < bands[base].CIHigh || (b.CIHigh == bands[base].CIHigh && b.Sent > bands[base].Sent) {
			base = i
		}
	}
	return base
}

// brownout finds the edge above which loss is surely higher: of every
// split of the sizes outside windows into those up to a size and those
// above it, the one the data make likeliest (the binomial likelihood of
// two losses, one each side: the maximum-likelihood change point), kept
// when the loss above lies surely above the loss below. Nil if none.
func brownout(counts []Count, windows []Window) *Brownout {
	var cs []Count
	for _, c := range counts {
		if c.Sent > 0 && !inWindow(windows, c.Size) {
			cs = append(cs, c)
		}
	}
	slices.SortFunc(cs, func(a, b Count) int { return int(a.Size) - int(b.Size) })
	lostAll, sentAll := 0, 0
	for _, c := range cs {
		lostAll, sentAll = lostAll+c.Lost, sentAll+c.Sent
	}
	best, bestLL := -1, math.Inf(-1)
	lostB, sentB := 0, 0
	for i := 0; i+1 < len(cs); i++ {
		lostB, sentB = lostB+cs[i].Lost, sentB+cs[i].Sent
		if ll := logLik(lostB, sentB) + logLik(lostAll-lostB, sentAll-sentB); ll > bestLL {
			best, bestLL = i, ll
		}
	}
	if best < 0 {
		return nil
	}
	lostB, sentB = 0, 0
	for _, c := range cs[:best+1] {
		lostB, sentB = lostB+c.Lost, sentB+c.Sent
	}
	lostA, sentA := lostAll-lostB, sentAll-sentB
	if !apart(lostA, sentA, lostB, sentB) {
		return nil
	}
	return &Brownout{Above: cs[best].Size, LossAbove: float64(lostA) / float64(sentA), LossBelow: float64(lostB) / float64(sentB)}
}

// logLik is the binomial log-likelihood of lost in sent at its own rate.
func logLik(lost, sent int) float64 {
	ll := 0.0
	if p := float64(lost) / float64(sent); lost > 0 && lost < sent {
		ll = float64(lost)*math.Log(p) + float64(sent-lost)*math.Log(1-p)
	}
	return ll
}

// bandsOf merges counts into bands.
func bandsOf(counts []Count) []Band {
	cs := slices.Clone(counts)
	slices.SortFunc(cs, func(a, b Count) int { return int(a.Size) - int(b.Size) })
	var bands []Band
	for _, c := range cs {
		if c.Sent <= 0 {
			continue
		}
		if n := len(bands); n > 0 && bands[n-1].To == c.Size {
			bands[n-1] = merge(bands[n-1], Band{From: c.Size, To: c.Size, Sent: c.Sent, Lost: c.Lost, Refused: c.Refused})
			continue
		}
		bands = append(bands, fill(Band{From: c.Size, To: c.Size, Sent: c.Sent, Lost: c.Lost, Refused: c.Refused, Sizes: 1}))
	}
	for {
		best, score := -1, 0.0
		for i := 0; i+1 < len(bands); i++ {
			a, b := bands[i], bands[i+1]
			if apart(a.Lost, a.Sent, b.Lost, b.Sent) || apart(b.Lost, b.Sent, a.Lost, a.Sent) {
				continue
			}
			if s := zScore(a, b); best < 0 || s < score {
				best, score = i, s
			}
		}
		if best < 0 {
			return bands
		}
		bands[best] = merge(bands[best], bands[best+1])
		bands = slices.Delete(bands, best+1, best+2)
	}
}

// merge is a and the band just above it as one.
func merge(a, b Band) Band {
	return fill(Band{From: a.From, To: b.To, Sent: a.Sent + b.Sent, Lost: a.Lost + b.Lost, Refused: a.Refused + b.Refused, Sizes: a.Sizes + b.Sizes})
}

// fill computes a band's loss and interval from its counts.
func fill(b Band) Band {
	b.Loss = float64(b.Lost) / float64(b.Sent)
	b.CILow, b.CIHigh = Wilson(b.Lost, b.Sent, Z)
	return b
}

// zScore is how far apart two bands' losses are, in standard errors of
// their difference (the two-proportion z statistic); 0 when neither
// lost anything or both lost everything.
func zScore(a, b Band) float64 {
	p := float64(a.Lost+b.Lost) / float64(a.Sent+b.Sent)
	se := math.Sqrt(p * (1 - p) * (1/float64(a.Sent) + 1/float64(b.Sent)))
	if se == 0 {
		return 0
	}
	return math.Abs(a.Loss-b.Loss) / se
}

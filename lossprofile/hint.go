package lossprofile

import (
	"math"

	"github.com/pmtu/pmtu/mtu"
)

// HintLevel is how unlikely by chance the losses below a passing size
// must be for Hint to speak: 1%.
const HintLevel = 0.01

// Hint looks at the few probes of a path-MTU search (counts: every size
// probed, what it earned) for a window: sizes below pmtu, a size that
// passed, lost more than the loss of the other sizes can explain. It
// returns the range of those sizes and true when the chance of so many
// losses among their probes, at the others' loss (Laplace's estimate, so
// that none lost is not taken for certainty), is below HintLevel: at
// least two lost probes, never one. It is a pure function.
func Hint(counts []Count, pmtu mtu.Size) (Window, bool) {
	var w Window
	var lostG, sentG, lostR, sentR int
	for _, c := range counts {
		switch {
		case c.Size > pmtu || c.Sent == 0:
		case c.Size < pmtu && c.Lost > 0:
			if w.From == 0 {
				w.From = c.Size
			}
			w.To = c.Size
			lostG, sentG = lostG+c.Lost, sentG+c.Sent
		default:
			lostR, sentR = lostR+c.Lost, sentR+c.Sent
		}
	}
	if lostG < 2 {
		return Window{}, false
	}
	p := (float64(lostR) + 1) / (float64(sentR) + 2)
	if binomTail(lostG, sentG, p) >= HintLevel {
		return Window{}, false
	}
	w.Loss = float64(lostG) / float64(sentG)
	return w, true
}

// binomTail is the chance of k or more successes in n trials of
// probability p.
func binomTail(k, n int, p float64) float64 {
	sum := 0.0
	for i := k; i <= n; i++ {
		lg, _ := math.Lgamma(float64(n + 1))
		li, _ := math.Lgamma(float64(i + 1))
		lni, _ := math.Lgamma(float64(n - i + 1))
		sum += math.Exp(lg - li - lni + float64(i)*math.Log(p) + float64(n-i)*math.Log1p(-p))
	}
	return min(sum, 1)
}

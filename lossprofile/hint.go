package lossprofile

import (
	"math"

	"github.com/pmtu/pmtu/mtu"
)

// HintLevel is how unlikely by chance the losses below a passing size
// must be for Hint to speak: 0.1%. HintTries is how many times more pmtu
// HOST probes each suspect, and the path MTU (the control), before it
// speaks; HintSizes how many suspects at most.
const (
	HintLevel = 0.001
	HintTries = 3
	HintSizes = 4
)

// Suspects are the sizes a path-MTU search (counts: every size probed,
// what it earned) lost below pmtu, a size that passed, nearest pmtu
// first, at most n: the sizes worth probing again to tell a window from
// loss.
func Suspects(counts []Count, pmtu mtu.Size, n int) []mtu.Size {
	var out []mtu.Size
	for i := len(counts) - 1; i >= 0 && len(out) < n; i-- {
		if c := counts[i]; c.Size < pmtu && c.Lost > 0 {
			out = append(out, c.Size)
		}
	}
	return out
}

// Hint says whether sizes below the path MTU were lost more than loss
// explains: suspects are what a few probes more earned at the sizes a
// search lost (Suspects; the search's own losses left out, as they are
// why the sizes were chosen), control what probes of the path MTU sent
// among them earned, at the same time. The suspects' losses are weighed
// against the control's loss (Laplace's estimate, so that none lost is
// not taken for certainty): Hint returns the range of the suspects and
// true when the chance of so many losses is below HintLevel, with at
// least two lost probes. The control is the only fair measure of loss:
// the sizes the search saw pass were chosen by passing. It is a pure
// function.
func Hint(suspects []Count, control Count) (Window, bool) {
	var w Window
	lost, sent := 0, 0
	for _, c := range suspects {
		if c.Sent == 0 {
			continue
		}
		if w.From == 0 || c.Size < w.From {
			w.From = c.Size
		}
		w.To = max(w.To, c.Size)
		lost, sent = lost+c.Lost, sent+c.Sent
	}
	if lost < 2 {
		return Window{}, false
	}
	p := (float64(control.Lost) + 1) / (float64(control.Sent) + 2)
	if binomTail(lost, sent, p) >= HintLevel {
		return Window{}, false
	}
	w.Loss = float64(lost) / float64(sent)
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

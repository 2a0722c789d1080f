package lossprofile

import "math"

// Z is how many standard deviations wide every interval of the package
// is: 3, a two-sided 99.7% interval, so that two intervals that do not
// overlap differ by far more than chance.
const Z = 3.0

// Wilson returns the Wilson score interval of a loss of lost in sent at
// z standard deviations (Wilson 1927): unlike the normal approximation,
// it stays within [0, 1] and is not empty at 0 or sent losses. For sent
// 0 it is [0, 1].
func Wilson(lost, sent int, z float64) (lo, hi float64) {
	if sent <= 0 {
		return 0, 1
	}
	n := float64(sent)
	p := float64(lost) / n
	z2 := z * z
	den := 1 + z2/n
	mid := p + z2/(2*n)
	half := z * math.Sqrt(p*(1-p)/n+z2/(4*n*n))
	lo = max(0, (mid-half)/den)
	hi = min(1, (mid+half)/den)
	if lost == 0 {
		lo = 0
	}
	if lost == sent {
		hi = 1
	}
	return lo, hi
}

// apart reports whether loss a is surely above loss b: a's interval lies
// wholly above b's.
func apart(aLost, aSent, bLost, bSent int) bool {
	alo, _ := Wilson(aLost, aSent, Z)
	_, bhi := Wilson(bLost, bSent, Z)
	return alo > bhi
}

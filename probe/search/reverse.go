package search

import "github.com/pmtu/pmtu/mtu"

// Evidence for the return path's MTU: how ReturnBounds are known.
const (
	// ReturnUnknown: no reply said anything of the way back (UDP and TCP
	// answers are small; a socket that cannot see fragments).
	ReturnUnknown = "unknown"
	// ReturnWhole: replies came back whole; the way back carries the
	// largest, and nothing bounds it from above.
	ReturnWhole = "whole replies"
	// ReturnFragmented: a reply came back in fragments, cut to the
	// return path's MTU: below the reply's size, at least its largest
	// fragment, and less than 8 bytes above it (fragments carry
	// multiples of 8 bytes).
	ReturnFragmented = "fragmented replies"
	// ReturnLost: replies of a size the forward path was shown to carry
	// vanished on the way back (a return-path black hole): the way back
	// carries the largest whole reply and not the lost size.
	ReturnLost = "lost replies"
)

// ReturnBounds is what replies proved about the return path's MTU.
type ReturnBounds struct {
	// Min is a size the way back carries (0: none known), Max the largest
	// it may carry (0: no upper bound known).
	Min, Max mtu.Size
	// Evidence is one of ReturnUnknown, ReturnWhole, ReturnFragmented,
	// ReturnLost.
	Evidence string
}

// Returns gathers what the replies to Echo Requests say about the return
// path: an Echo Reply is as large as its request, and Linux sends it
// without DF, so a return link smaller than the reply fragments it (IPv4
// at the router; IPv6 at the target, once a Packet Too Big reaches it),
// and the kernel that reassembles it says how large the largest fragment
// was (IP_RECVFRAGSIZE). It is a pure accumulator; the zero value is
// ready.
type Returns struct {
	whole  mtu.Size // the largest reply that arrived whole
	frag   mtu.Size // the largest fragment of any reassembled reply
	below  mtu.Size // the smallest size the way back is known not to carry (0: none)
	byLoss bool     // below comes from a lost reply, not from a fragment
}

// Reply records a reply of size (IP bytes) whose largest fragment was
// frag: 0 (or size) means it arrived whole.
//
// A whole reply proves the way back carries size. A fragmented one proves
// it does not, and that it carries frag; whoever cut the reply put a
// multiple of 8 bytes in every fragment but the last (RFC 791, RFC 8200),
// so the link that cut it is less than frag+8.
func (r *Returns) Reply(size, frag mtu.Size) {
	if frag <= 0 || frag >= size {
		r.whole = max(r.whole, size)
		return
	}
	r.frag = max(r.frag, frag)
	r.lower(min(size, frag+8), false)
}

// Lost records that a reply of size did not come back although its
// request was shown to reach the target: the way back does not carry size.
func (r *Returns) Lost(size mtu.Size) { r.lower(size, true) }

func (r *Returns) lower(below mtu.Size, byLoss bool) {
	if r.below == 0 || below < r.below {
		r.below, r.byLoss = below, byLoss
	}
}

// Bounds returns what the replies proved. A whole reply at or above a size
// the way back was shown not to carry means the path changed during the
// search: the whole reply, the later proof of a larger size, is kept and
// the upper bound dropped.
func (r *Returns) Bounds() ReturnBounds {
	lo := max(r.whole, r.frag)
	switch {
	case lo == 0 && r.below == 0:
		return ReturnBounds{Evidence: ReturnUnknown}
	case r.below == 0 || r.whole >= r.below:
		return ReturnBounds{Min: r.whole, Evidence: ReturnWhole}
	case r.byLoss:
		return ReturnBounds{Min: lo, Max: r.below - 1, Evidence: ReturnLost}
	}
	return ReturnBounds{Min: lo, Max: r.below - 1, Evidence: ReturnFragmented}
}

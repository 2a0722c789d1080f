package main

import (
	"fmt"

	"github.com/pmtu/pmtu/probe"
	"github.com/pmtu/pmtu/probe/search"
)

// reverse is what the replies proved of the return path's MTU, in JSON:
// the way back carries min (0: nothing known) and no more than max (0: no
// upper bound known); evidence is "whole replies", "fragmented replies",
// "lost replies" or "unknown" (UDP and TCP answers are small).
type reverse struct {
	Min      int    `json:"min"`
	Max      int    `json:"max"`
	Evidence string `json:"evidence"`
}

// fromDirections reports what res says of the return path and which way
// its black hole lies.
func (r *report) fromDirections(res *probe.Result) {
	b := res.Return
	if b.Evidence == "" {
		b.Evidence = search.ReturnUnknown
	}
	r.Reverse = &reverse{Min: int(b.Min), Max: int(b.Max), Evidence: b.Evidence}
	r.BlackHoleDirection = res.BlackHoleDirection
	r.ForwardMethod = string(res.ForwardMethod)
	if res.BlackHoleDirection == probe.BlackHoleReturn {
		// The replies vanished without a word, whatever the forward
		// search saw.
		r.BlackHole = true
	}
}

// directionText is the text lines of the return path and of a black
// hole's direction, "" when there is nothing to say.
func (r *report) directionText() string {
	s := ""
	if r.Reverse != nil {
		s = "  return path: " + reverseText(r.Reverse) + "\n"
	}
	switch r.BlackHoleDirection {
	case probe.BlackHoleForward:
		s += fmt.Sprintf("  the black hole is on the way out: probes of %d bytes vanish before the target\n", r.Hi)
	case probe.BlackHoleReturn:
		s += "  the black hole is on the way back: a router there drops the Packet Too Big the target is owed, " +
			"or ICMP to the target is filtered\n"
	}
	return s
}

// reverseText says in a few words what the replies proved of the way back.
func reverseText(v *reverse) string {
	switch {
	case v.Evidence == search.ReturnUnknown:
		return "MTU unknown (the answers to these probes are small)"
	case v.Max == 0:
		return fmt.Sprintf("carries at least %d (%s)", v.Min, v.Evidence)
	case v.Min == v.Max:
		return fmt.Sprintf("MTU %d (%s)", v.Min, v.Evidence)
	}
	return fmt.Sprintf("MTU %d to %d (%s)", v.Min, v.Max, v.Evidence)
}

// fromReturn reports what the target's replies proved of the return path,
// when the walk reached it.
func (r *traceReport) fromReturn(res *probe.TraceResult) {
	if !res.Reached {
		return
	}
	b := res.Return
	if b.Evidence == "" {
		b.Evidence = search.ReturnUnknown
	}
	r.Reverse = &reverse{Min: int(b.Min), Max: int(b.Max), Evidence: b.Evidence}
}

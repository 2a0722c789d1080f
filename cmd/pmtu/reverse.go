package main

import (
	"fmt"

	"github.com/pmtu/pmtu/measure"
	"github.com/pmtu/pmtu/probe"
	"github.com/pmtu/pmtu/probe/search"
)

// directionText is the text lines of the return path and of a black
// hole's direction, "" when there is nothing to say.
func directionText(r *measure.Report) string {
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
func reverseText(v *measure.Reverse) string {
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

package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/pmtu/pmtu/fleet"
	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/probe"
	"github.com/pmtu/pmtu/probe/search"
	"github.com/pmtu/pmtu/probe/wire"
)

// A target that never answers still leaves proof behind: a router's
// Fragmentation Needed or Packet Too Big bounds the path MTU from above.
// This file reports that bound (pmtu, confirmed false, reached false), the
// ways the target was asked (probe.Find's fallbacks), and judges
// --expect/--at-least on what was proved.

// attempt is one way the target was asked, in JSON (methods_tried).
type attempt struct {
	Way      string `json:"way"` // "ICMP Echo", "TCP to port 443"
	Proto    string `json:"proto"`
	Port     int    `json:"port,omitempty"`
	Method   string `json:"method,omitempty"`
	Answered bool   `json:"answered"`
	Probes   int    `json:"probes"`
	Skipped  string `json:"skipped,omitempty"` // why this process could not use it
}

// fromFind reports probe.Find's result: the method, port and ways tried,
// then the search (fromResult), then the upper bound routers proved when
// the target never answered.
func (r *report) fromFind(res *probe.Result, ceil mtu.Size) {
	r.Method, r.Port = string(res.Method), res.Port
	r.Flow = flowOf(res.Flow)
	r.Tried = attemptsOf(res.Tried)
	r.fromResult(&res.Result, ceil)
	r.setBound(&res.Result, ceil)
	r.fromDirections(res)
}

// attemptsOf is the ways tried (probe's Result.Tried, TraceResult.Tried)
// in JSON; nil when one way was tried (Echo answered, or --proto chosen):
// nothing to list.
func attemptsOf(tried []probe.Attempt) []attempt {
	if len(tried) < 2 {
		return nil
	}
	out := make([]attempt, len(tried))
	for i, a := range tried {
		out[i] = attempt{Way: a.String(), Proto: string(a.Proto), Port: a.Port,
			Method: string(a.Method), Answered: a.Answered, Probes: a.Probes, Skipped: skippedText(a.Skipped)}
	}
	return out
}

// setBound makes pmtu the upper bound an ICMP proved when no probe came
// back: one below the smallest size refused, as the router said, with
// confirmed and reached false and no MSS (nothing is known to pass).
func (r *report) setBound(res *search.Result, ceil mtu.Size) {
	if res.Lo > 0 || res.Hi == 0 || res.Hi > ceil {
		return
	}
	r.PMTU, r.Confirmed, r.Exact, r.Evidence = int(res.Hi-1), false, false, "icmp"
	r.LimitingHop = ""
	if res.BoundBy.IsValid() && res.Bound == res.Hi-1 {
		r.LimitingHop = res.BoundBy.String()
	} else {
		for _, ev := range res.Events {
			if ev.Kind == wire.TooBig {
				r.LimitingHop = ev.From.String()
				break
			}
		}
	}
	r.MSS, r.Hint = 0, ""
}

// cacheable reports whether an answer found with method belongs in the
// cache under the protocol asked for (asked, "icmp" when not chosen): not
// one a fallback found, since a run asking that protocol would get an
// answer its probes never earned.
func cacheable(method probe.Method, asked probe.Proto) bool {
	if asked == "" {
		asked = probe.ProtoICMP
	}
	return method.Proto() == asked
}

// bounded reports whether pmtu is an upper bound no probe confirmed.
func (r *report) bounded() bool { return r.PMTU > 0 && !r.Confirmed }

// boundSentence says what a silent target's search proved: "path MTU ≤
// 1500: 198.18.1.2 said so; 198.18.2.2 never answered, so nothing beyond
// 198.18.1.2 is confirmed".
func (r *report) boundSentence() string {
	who := r.LimitingHop
	if who == "" {
		who = "a router"
	}
	return fmt.Sprintf("path MTU ≤ %d: %s said so; %s never answered, so nothing beyond %s is confirmed",
		r.PMTU, who, r.Address, who)
}

// triedLine says how each way of asking fared, "" when only one was
// tried: "ICMP Echo unanswered; TCP to port 443 answered".
func (r *report) triedLine() string { return triedText(r.Tried) }

// triedText is triedLine for any report's ways tried.
func triedText(tried []attempt) string {
	if len(tried) < 2 {
		return ""
	}
	parts := make([]string, len(tried))
	for i, a := range tried {
		switch {
		case a.Skipped != "":
			parts[i] = a.Way + " not tried: " + a.Skipped
		case a.Answered:
			parts[i] = a.Way + " answered"
		default:
			parts[i] = a.Way + " unanswered"
		}
	}
	return strings.Join(parts, "; ")
}

// skippedText says in words why a way could not be used here ("" if it
// was used): each method's refusal (methodReason), never the socket call.
func skippedText(err error) string {
	if err == nil {
		return ""
	}
	var nm *probe.NoMethodError
	if !errors.As(err, &nm) {
		return plainErr(err)
	}
	why := make([]string, len(nm.Tried))
	for i, m := range nm.Tried {
		why[i] = methodReason(m)
	}
	return strings.Join(why, "; ")
}

// writeUnanswered prints, as text, what a search that got no answer
// proved: the bound and the ways tried. Nothing when nothing was proved
// and only one way was tried (the error line says it all).
func (r *report) writeUnanswered(w io.Writer) error {
	var b strings.Builder
	if r.bounded() {
		name := hostName(r.Target, r.Address)
		fmt.Fprintf(&b, "path MTU to %s: at most %d, not confirmed\n", name, r.PMTU)
		fmt.Fprintf(&b, "  %s\n", r.boundSentence())
	}
	if line := r.triedLine(); line != "" {
		fmt.Fprintf(&b, "  %s\n", line)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// judgeUnanswered judges --expect and --at-least when the target never
// answered (assertUnanswered): an assertion the routers' bound proves
// false fails with exit 3; one that nothing proved fails too, with its
// reason, and exit 1, as any run the target did not answer. nil when no
// assertion was asked.
func (r *report) judgeUnanswered(expect, atLeast int) error {
	msg, disproved := r.assertUnanswered(expect, atLeast)
	switch {
	case msg == "":
		return nil
	case disproved:
		return cli.Exit("pmtu: assertion failed: "+msg, exitAssertion)
	}
	return cli.Exit("pmtu: assertion not proved: "+msg, exitNoAnswer)
}

// assertUnanswered says how --expect and --at-least stand when the
// target never answered: disproved when the routers' bound rules them
// out, else not proved, with the reason; "" when none was asked.
func (r *report) assertUnanswered(expect, atLeast int) (msg string, disproved bool) {
	if r.bounded() {
		if expect > r.PMTU {
			return fmt.Sprintf("path MTU ≤ %d (%s said so), expected %d", r.PMTU, r.LimitingHop, expect), true
		}
		if atLeast > r.PMTU {
			return fmt.Sprintf("path MTU ≤ %d (%s said so) is below %d", r.PMTU, r.LimitingHop, atLeast), true
		}
	}
	var what string
	switch {
	case expect != 0:
		what = fmt.Sprintf("path MTU = %d", expect)
	case atLeast != 0:
		what = fmt.Sprintf("path MTU ≥ %d", atLeast)
	default:
		return "", false
	}
	why := r.Error
	if r.bounded() {
		why = r.boundSentence()
	}
	return what + ": " + why, false
}

// judgeUnanswered judges a many-target run's assertions on a target that
// never answered: one the routers' bound rules out is a failed assertion
// (the run exits 3); one not proved leaves the target's no answer.
func (m *manyRun) judgeUnanswered(res *fleet.Result[*manyReport], mr *manyReport) {
	if msg, disproved := mr.assertUnanswered(m.o.expect, m.o.atLeast); disproved {
		mr.Assertion, res.AssertionFailed = msg, true
	}
}

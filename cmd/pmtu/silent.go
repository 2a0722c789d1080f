package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/pmtu/pmtu/measure"
	"github.com/pmtu/pmtu/measure/fleet"
)

// A target that never answers still leaves proof behind: a router's
// Fragmentation Needed or Packet Too Big bounds the path MTU from above
// (measure.Report.Bounded). This file prints that bound and the ways the
// target was asked, and judges --expect/--at-least on what was proved.

// writeUnanswered prints, as text, what a search that got no answer
// proved: the bound and the ways tried. Nothing when nothing was proved
// and only one way was tried (the error line says it all).
func writeUnanswered(w io.Writer, r *measure.Report) error {
	var b strings.Builder
	if r.Bounded() {
		name := hostName(r.Target, r.Address)
		fmt.Fprintf(&b, "path MTU to %s: at most %d, not confirmed\n", name, r.PMTU)
		fmt.Fprintf(&b, "  %s\n", r.BoundSentence())
	}
	if line := r.TriedLine(); line != "" {
		fmt.Fprintf(&b, "  %s\n", line)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// judgeUnanswered judges --expect and --at-least when the target never
// answered (Report.AssertUnanswered): an assertion the routers' bound
// proves false fails with exit 3; one that nothing proved fails too, with
// its reason, and exit 1, as any run the target did not answer. nil when
// no assertion was asked.
func judgeUnanswered(r *measure.Report, expect, atLeast int) error {
	msg, disproved := r.AssertUnanswered(expect, atLeast)
	switch {
	case msg == "":
		return nil
	case disproved:
		return cli.Exit("pmtu: assertion failed: "+msg, exitAssertion)
	}
	return cli.Exit("pmtu: assertion not proved: "+msg, exitNoAnswer)
}

// judgeUnanswered judges a many-target run's assertions on a target that
// never answered: one the routers' bound rules out is a failed assertion
// (the run exits 3); one not proved leaves the target's no answer.
func (m *manyRun) judgeUnanswered(res *fleet.Result[*manyReport], mr *manyReport) {
	if msg, disproved := mr.AssertUnanswered(m.o.expect, m.o.atLeast); disproved {
		mr.Assertion, res.AssertionFailed = msg, true
	}
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/pmtu/pmtu/measure"
	"github.com/pmtu/pmtu/mtu"
)

// findFlows is pmtu --flows N HOST: N searches, one per flow, merged
// (measure.Flows).
func findFlows(ctx context.Context, cCtx *cli.Context, o findOpts) error {
	w := cCtx.App.Writer
	fj, err := measure.Flows(ctx, o.host, o.flows, o.measureOptions(cCtx))
	if fj == nil {
		return exitError(err)
	}
	if fj.Error != "" && fj.Flows == nil {
		// No route: nothing was probed.
		return fail(w, &measure.Report{Target: fj.Target, Address: fj.Address, Family: fj.Family, Error: fj.Error}, o.json, exitNoAnswer)
	}
	if o.json {
		b, err := json.Marshal(fj)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "%s\n", b); err != nil {
			return err
		}
	} else if err := writeFlowsText(w, fj, o.verbose); err != nil {
		return err
	}
	if fj.PMTU == 0 {
		return cli.Exit("pmtu: "+fj.Error, exitNoAnswer)
	}
	if msg := (&measure.Report{PMTU: fj.PMTU}).Assert(o.expect, o.atLeast); msg != "" {
		return cli.Exit("pmtu: assertion failed: "+msg, exitAssertion)
	}
	return nil
}

// writeText prints the branches, e.g.
//
//	path MTU to 198.18.9.1: 1400, the smallest on 16 flows
//	  1400 on 5 of 16 flows (198.18.3.2 said 1400)
//	  1500 on 11 of 16 flows
func writeFlowsText(w io.Writer, r *measure.FlowsReport, verbose bool) error {
	var b strings.Builder
	name := hostName(r.Target, r.Address)
	n := len(r.Flows)
	if r.PMTU > 0 {
		branches := "1 branch"
		if len(r.Branches) != 1 {
			branches = fmt.Sprintf("%d branches", len(r.Branches))
		}
		fmt.Fprintf(&b, "path MTU to %s: %d, the smallest of %s on %s (%s)\n", name, r.PMTU, branches, plural(n, "flow"), r.Method)
	} else {
		fmt.Fprintf(&b, "path MTU to %s: not found on any of %s\n", name, plural(n, "flow"))
	}
	failed := n
	for _, br := range r.Branches {
		failed -= len(br.Flows)
		fmt.Fprintf(&b, "  %d on %d of %d flows", br.PMTU, len(br.Flows), n)
		if len(br.Hops) > 0 {
			fmt.Fprintf(&b, " (%s said %d)", strings.Join(br.Hops, ", "), br.PMTU)
		}
		fmt.Fprintf(&b, ": flows %s\n", idList(br.Flows))
	}
	if failed > 0 {
		fmt.Fprintf(&b, "  no answer on %d of %d flows\n", failed, n)
	}
	if c := r.Confidence; c.K >= 2 {
		fmt.Fprintf(&b, "  a branch carrying 1/%d of flows or more is missed by all %d with probability at most %.1f%% ((1-1/%d)^%d)",
			c.K, n, 100*c.Miss, c.K, n)
	} else {
		fmt.Fprintf(&b, "  %s cannot rule out a branch carrying half of them at %.0f%%", plural(n, "flow"), 100*(1-c.Alpha))
	}
	if len(r.Branches) > 0 {
		fmt.Fprintf(&b, "; the MDA stopping rule rules out branch %d at %.0f%% with %d flows\n", len(r.Branches)+1, 100*(1-r.Confidence.Alpha), r.Confidence.MDAFlows)
	} else {
		b.WriteString("\n")
	}
	if r.PMTU > 0 {
		fmt.Fprintf(&b, "  TCP MSS %d on every branch\n", mtu.MSS(mtu.Size(r.PMTU), r.Family == "ipv6"))
	}
	if verbose {
		for _, f := range r.Flows {
			id := (&measure.Flow{SrcPort: f.SrcPort, ICMPID: f.ICMPID}).String()
			switch {
			case f.Error != "":
				fmt.Fprintf(&b, "  flow %d (%s): %s\n", f.ID, id, f.Error)
			case f.LimitingHop != "":
				fmt.Fprintf(&b, "  flow %d (%s): %d, named by %s\n", f.ID, id, f.PMTU, f.LimitingHop)
			default:
				fmt.Fprintf(&b, "  flow %d (%s): %d, proved by probes\n", f.ID, id, f.PMTU)
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// idList is "1 3 5".
func idList(ids []int) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = fmt.Sprint(id)
	}
	return strings.Join(s, " ")
}

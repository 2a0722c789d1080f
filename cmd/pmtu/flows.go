package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/probe"
	"github.com/pmtu/pmtu/probe/ecmp"
)

// flowsAlpha is the chance of missing a branch that pmtu --flows reports
// its confidence at: 5%, as the MDA's tables do.
const flowsAlpha = 0.05

// flowsReport is the answer to pmtu --flows N HOST, as text or one JSON
// object; its fields are documented in README.md.
type flowsReport struct {
	Target       string         `json:"target"`
	Address      string         `json:"address"`
	Family       string         `json:"family"`
	Method       string         `json:"method"`
	Interface    string         `json:"interface"`
	InterfaceMTU int            `json:"interface_mtu"`
	PMTU         int            `json:"pmtu"` // the smallest any flow found
	Flows        []flowResult   `json:"flows"`
	Branches     []flowsBranch  `json:"branches"`
	Confidence   flowConfidence `json:"confidence"`
	Error        string         `json:"error,omitempty"`
}

// flowResult is one flow's search.
type flowResult struct {
	ID          int    `json:"id"`
	SrcPort     int    `json:"src_port,omitempty"`
	ICMPID      int    `json:"icmp_id,omitempty"`
	PMTU        int    `json:"pmtu"`
	LimitingHop string `json:"limiting_hop,omitempty"`
	Evidence    string `json:"evidence,omitempty"` // "icmp" or "probes"; absent when the flow failed
	Error       string `json:"error,omitempty"`
}

// flowsBranch is one distinct path MTU and the flows that found it.
type flowsBranch struct {
	PMTU  int      `json:"pmtu"`
	Flows []int    `json:"flows"`
	Hops  []string `json:"limiting_hops"`
}

// flowConfidence says how sure N flows are to have seen every branch:
// a branch carrying 1/K of the flows or more is missed by all of them
// with probability at most Miss (ecmp.MissBound); K is 0 when N is too
// few to say so of any branch. MDAFlows is how many flows the MDA
// stopping rule asks for to rule out one more branch than were seen.
type flowConfidence struct {
	Alpha    float64 `json:"alpha"`
	K        int     `json:"k"`
	Miss     float64 `json:"miss_probability"`
	MDAFlows int     `json:"mda_flows"`
}

// findFlows is pmtu --flows N HOST: N searches, one per flow, merged.
func findFlows(ctx context.Context, cCtx *cli.Context, o findOpts, t *probe.Target, rep *report) error {
	w := cCtx.App.Writer
	fr, err := t.FindFlows(ctx, o.flows)
	if err != nil {
		var ie *probe.InputError
		if errors.As(err, &ie) {
			return usageError("pmtu: --" + ie.Error())
		}
		return openError(o.proto, t.Addr, o.probeOpts, errors.Unwrap(err))
	}
	fj := newFlowsReport(fr, rep, o.flows)
	if fj.PMTU == 0 {
		fj.Error = fmt.Sprintf("no flow found a path MTU to %s", o.host)
	}
	if o.json {
		b, err := json.Marshal(fj)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "%s\n", b); err != nil {
			return err
		}
	} else if err := fj.writeText(w, o.verbose); err != nil {
		return err
	}
	if fj.PMTU == 0 {
		return cli.Exit("pmtu: "+fj.Error, exitNoAnswer)
	}
	if o.expect != 0 && fj.PMTU != o.expect {
		return cli.Exit(fmt.Sprintf("pmtu: assertion failed: path MTU is %d, expected %d", fj.PMTU, o.expect), exitAssertion)
	}
	if o.atLeast != 0 && fj.PMTU < o.atLeast {
		return cli.Exit(fmt.Sprintf("pmtu: assertion failed: path MTU %d is below %d", fj.PMTU, o.atLeast), exitAssertion)
	}
	return nil
}

// newFlowsReport is the report of fr, n flows toward rep's target.
func newFlowsReport(fr *probe.FlowsResult, rep *report, n int) *flowsReport {
	fj := &flowsReport{Target: rep.Target, Address: rep.Address, Family: rep.Family,
		Interface: rep.Interface, InterfaceMTU: rep.InterfaceMTU, PMTU: int(fr.PMTU),
		Flows: []flowResult{}, Branches: []flowsBranch{}}
	for i, r := range fr.Flows {
		f := flowResult{ID: i + 1}
		if r == nil {
			f.Error = plainErr(fr.Errs[i])
			fj.Flows = append(fj.Flows, f)
			continue
		}
		fj.Method = string(r.Method)
		f.SrcPort, f.ICMPID = int(r.Flow.SrcPort), int(r.Flow.EchoID)
		switch {
		case fr.Errs[i] != nil:
			f.Error = plainErr(fr.Errs[i])
		case r.Confirmed:
			f.PMTU, f.Evidence = int(r.PMTU), "probes"
			if r.ByICMP {
				f.Evidence, f.LimitingHop = "icmp", r.LimitingHop.String()
			}
		}
		fj.Flows = append(fj.Flows, f)
	}
	for _, b := range fr.Branches {
		fb := flowsBranch{PMTU: int(b.PMTU), Flows: b.Flows, Hops: []string{}}
		for _, h := range b.Hops {
			fb.Hops = append(fb.Hops, h.String())
		}
		fj.Branches = append(fj.Branches, fb)
	}
	k, miss := ecmp.MissBound(n, flowsAlpha)
	fj.Confidence = flowConfidence{Alpha: flowsAlpha, K: k, Miss: miss, MDAFlows: ecmp.StopAt(max(len(fj.Branches), 1), flowsAlpha)}
	return fj
}

// writeText prints the branches, e.g.
//
//	path MTU to 198.18.9.1: 1400, the smallest on 16 flows
//	  1400 on 5 of 16 flows (198.18.3.2 said 1400)
//	  1500 on 11 of 16 flows
func (r *flowsReport) writeText(w io.Writer, verbose bool) error {
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
			id := (&flow{SrcPort: f.SrcPort, ICMPID: f.ICMPID}).String()
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

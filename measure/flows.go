package measure

import (
	"context"
	"errors"
	"fmt"

	"github.com/pmtu/pmtu/probe"
	"github.com/pmtu/pmtu/probe/ecmp"
)

// Flows searches n flows toward host at once (probe.Target.FindFlows)
// and reports the path MTU of every ECMP branch they took, as `pmtu
// --flows N HOST --json` prints it. The cache is not used: its answers
// are per host, not per flow. o may be nil.
//
// The Report is nil when the host could not be looked up or no probe
// could be sent (an *Error). Without a route it has only the target and
// Error, with an *Error of Kind NoAnswer. Error is also set, with no
// error returned, when no flow found a path MTU.
func Flows(ctx context.Context, host string, n int, o *Options) (*FlowsReport, error) {
	if o == nil {
		o = &Options{}
	}
	po := o.Probe
	t, err := lookupNoted(ctx, host, &po, o.Notes)
	if t == nil {
		return nil, err
	}
	rep := newReport(host, t)
	if err != nil {
		return &FlowsReport{Target: host, Address: rep.Address, Family: rep.Family, Error: err.Error()}, err
	}
	rep.Interface, rep.InterfaceMTU = t.Route.IfName, int(t.Route.IfMTU)
	fr, err := t.FindFlows(ctx, n)
	if err != nil {
		return nil, flowsError(t, &po, o.Exe, err)
	}
	fj := FlowsReportOf(fr, rep, n)
	if fj.PMTU == 0 {
		fj.Error = fmt.Sprintf("no flow found a path MTU to %s", host)
	}
	return fj, nil
}

// lookupNoted is Lookup, telling notes (if set) what the user should
// know about the target.
func lookupNoted(ctx context.Context, host string, po *probe.Options, notes func(string)) (*probe.Target, error) {
	t, err := Lookup(ctx, host, po)
	if t != nil && t.Note != "" && notes != nil {
		notes("note: " + t.Note)
	}
	return t, err
}

// flowsError is FindFlows' (or TraceFlows') error toward t in words: a
// flow count out of range or a protocol routers do not spread
// (BadInput), or no flow could probe.
func flowsError(t *probe.Target, po *probe.Options, exe string, err error) error {
	var ie *probe.InputError
	if errors.As(err, &ie) {
		return &Error{Kind: BadInput, Msg: "--" + ie.Error(), Err: err}
	}
	return OpenError(po.Proto, t.Addr, po, exe, errors.Unwrap(err))
}

// FlowsAlpha is the chance of missing a branch that pmtu --flows reports
// its confidence at: 5%, as the MDA's tables do.
const FlowsAlpha = 0.05

// FlowsReport is the answer to pmtu --flows N HOST, as text or one JSON
// object; its fields are documented in docs/json.md.
type FlowsReport struct {
	Target       string         `json:"target"`
	Address      string         `json:"address"`
	Family       string         `json:"family"`
	Method       string         `json:"method"`
	Interface    string         `json:"interface"`
	InterfaceMTU int            `json:"interface_mtu"`
	PMTU         int            `json:"pmtu"` // the smallest any flow found
	Flows        []FlowResult   `json:"flows"`
	Branches     []FlowsBranch  `json:"branches"`
	Confidence   FlowConfidence `json:"confidence"`
	Error        string         `json:"error,omitempty"`
}

// FlowResult is one flow's search.
type FlowResult struct {
	ID          int    `json:"id"`
	SrcPort     int    `json:"src_port,omitempty"`
	ICMPID      int    `json:"icmp_id,omitempty"`
	PMTU        int    `json:"pmtu"`
	LimitingHop string `json:"limiting_hop,omitempty"`
	Evidence    string `json:"evidence,omitempty"` // "icmp" or "probes"; absent when the flow failed
	Error       string `json:"error,omitempty"`
}

// FlowsBranch is one distinct path MTU and the flows that found it.
type FlowsBranch struct {
	PMTU  int      `json:"pmtu"`
	Flows []int    `json:"flows"`
	Hops  []string `json:"limiting_hops"`
}

// FlowConfidence says how sure N flows are to have seen every branch:
// a branch carrying 1/K of the flows or more is missed by all of them
// with probability at most Miss (ecmp.MissBound); K is 0 when N is too
// few to say so of any branch. MDAFlows is how many flows the MDA
// stopping rule asks for to rule out one more branch than were seen.
type FlowConfidence struct {
	Alpha    float64 `json:"alpha"`
	K        int     `json:"k"`
	Miss     float64 `json:"miss_probability"`
	MDAFlows int     `json:"mda_flows"`
}

// FlowsReportOf is the report of fr, n flows toward rep's target.
func FlowsReportOf(fr *probe.FlowsResult, rep *Report, n int) *FlowsReport {
	fj := &FlowsReport{Target: rep.Target, Address: rep.Address, Family: rep.Family,
		Interface: rep.Interface, InterfaceMTU: rep.InterfaceMTU, PMTU: int(fr.PMTU),
		Flows: []FlowResult{}, Branches: []FlowsBranch{}}
	for i, r := range fr.Flows {
		f := FlowResult{ID: i + 1}
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
				f.Evidence, f.LimitingHop = "icmp", addrText(r.LimitingHop)
			}
		}
		fj.Flows = append(fj.Flows, f)
	}
	for _, b := range fr.Branches {
		fb := FlowsBranch{PMTU: int(b.PMTU), Flows: b.Flows, Hops: []string{}}
		for _, h := range b.Hops {
			fb.Hops = append(fb.Hops, h.String())
		}
		fj.Branches = append(fj.Branches, fb)
	}
	k, miss := ecmp.MissBound(n, FlowsAlpha)
	fj.Confidence = FlowConfidence{Alpha: FlowsAlpha, K: k, Miss: miss, MDAFlows: ecmp.StopAt(max(len(fj.Branches), 1), FlowsAlpha)}
	return fj
}

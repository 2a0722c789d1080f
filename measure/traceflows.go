package measure

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/pmtu/pmtu/probe"
)

// TraceFlows traces n flows toward host at once and reports, per hop,
// every address and path MTU the flows saw there, as `pmtu trace --flows
// N HOST --json` prints it. o may be nil. Errors are as Trace's; without
// a route the Report has only the target and Error.
func TraceFlows(ctx context.Context, host string, n int, o *TraceOptions) (*TraceFlowsReport, error) {
	if o == nil {
		o = &TraceOptions{}
	}
	t, po, names, err := o.lookup(ctx, host)
	if t == nil {
		return nil, err
	}
	if err != nil {
		return &TraceFlowsReport{Target: host, Address: t.Addr.String(), Family: FamilyName(t.Addr), Error: err.Error()}, err
	}
	tr, err := t.TraceFlows(ctx, o.MaxHops, n)
	if err != nil {
		return nil, flowsError(t, po, o.Exe, err)
	}
	return TraceFlowsReportOf(tr, host, names.wait()), nil
}

// TraceFlowsReport is the answer to pmtu trace --flows N HOST: per hop,
// every address and path MTU the flows saw there. Its fields are
// documented in docs/json.md.
type TraceFlowsReport struct {
	Target  string          `json:"target"`
	Address string          `json:"address"`
	Family  string          `json:"family"`
	Method  string          `json:"method"`
	PMTU    int             `json:"pmtu"` // the smallest path MTU of the flows that reached the target
	Reached int             `json:"reached"`
	Hops    []TraceFlowsHop `json:"hops"`
	Flows   []TraceFlow     `json:"flows"`
	Error   string          `json:"error,omitempty"`
}

// TraceFlowsHop is one hop limit: what was seen there, most flows first.
type TraceFlowsHop struct {
	TTL  int              `json:"ttl"`
	Seen []TraceFlowsSeen `json:"seen"`
}

// TraceFlowsSeen is one address at a hop ("": no reply) with the path
// MTU up to it, and the flows that saw them.
type TraceFlowsSeen struct {
	Address string `json:"address"`
	Name    string `json:"name,omitempty"`
	PMTU    int    `json:"pmtu"`
	Flows   []int  `json:"flows"`
}

// TraceFlow is one flow's trace in brief.
type TraceFlow struct {
	ID      int    `json:"id"`
	SrcPort int    `json:"src_port,omitempty"`
	PMTU    int    `json:"pmtu"`
	Reached bool   `json:"reached"`
	Error   string `json:"error,omitempty"`
}

// TraceFlowsReportOf is the report of tr toward host; names are the
// addresses' names where known.
func TraceFlowsReportOf(tr *probe.TraceFlowsResult, host string, names map[netip.Addr]string) *TraceFlowsReport {
	t := tr.Target
	r := &TraceFlowsReport{Target: host, Address: t.Addr.String(), Family: FamilyName(t.Addr),
		Hops: []TraceFlowsHop{}, Flows: []TraceFlow{}}
	for i, res := range tr.Traces {
		f := TraceFlow{ID: i + 1}
		if tr.Errs[i] != nil {
			f.Error = plainErr(tr.Errs[i])
		}
		if res != nil {
			r.Method = string(res.Method)
			f.SrcPort, f.PMTU, f.Reached = int(res.Flow.SrcPort), int(res.PMTU), res.Reached
			if res.Reached && res.PMTU > 0 {
				r.Reached++
				if r.PMTU == 0 || int(res.PMTU) < r.PMTU {
					r.PMTU = int(res.PMTU)
				}
			}
		}
		r.Flows = append(r.Flows, f)
	}
	for _, h := range tr.Hops {
		hop := TraceFlowsHop{TTL: h.TTL}
		for _, s := range h.Seen {
			ts := TraceFlowsSeen{PMTU: int(s.PMTU), Flows: s.Flows}
			if s.Addr.IsValid() {
				ts.Address, ts.Name = s.Addr.String(), names[s.Addr]
			}
			hop.Seen = append(hop.Seen, ts)
		}
		r.Hops = append(r.Hops, hop)
	}
	if r.PMTU == 0 {
		r.Error = fmt.Sprintf("no flow reached %s with a path MTU proved", host)
	}
	return r
}

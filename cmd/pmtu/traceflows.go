package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/pmtu/pmtu/measure"
	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/probe"
)

// traceFlowsReport is the answer to pmtu trace --flows N HOST: per hop,
// every address and path MTU the flows saw there. Its fields are
// documented in README.md.
type traceFlowsReport struct {
	Target  string          `json:"target"`
	Address string          `json:"address"`
	Family  string          `json:"family"`
	Method  string          `json:"method"`
	PMTU    int             `json:"pmtu"` // the smallest path MTU of the flows that reached the target
	Reached int             `json:"reached"`
	Hops    []traceFlowsHop `json:"hops"`
	Flows   []traceFlow     `json:"flows"`
	Error   string          `json:"error,omitempty"`
}

// traceFlowsHop is one hop limit: what was seen there, most flows first.
type traceFlowsHop struct {
	TTL  int              `json:"ttl"`
	Seen []traceFlowsSeen `json:"seen"`
}

// traceFlowsSeen is one address at a hop ("": no reply) with the path
// MTU up to it, and the flows that saw them.
type traceFlowsSeen struct {
	Address string `json:"address"`
	Name    string `json:"name,omitempty"`
	PMTU    int    `json:"pmtu"`
	Flows   []int  `json:"flows"`
}

// traceFlow is one flow's trace in brief.
type traceFlow struct {
	ID      int    `json:"id"`
	SrcPort int    `json:"src_port,omitempty"`
	PMTU    int    `json:"pmtu"`
	Reached bool   `json:"reached"`
	Error   string `json:"error,omitempty"`
}

// traceFlows is pmtu trace --flows N HOST.
func traceFlows(ctx context.Context, w io.Writer, o traceOpts, t *probe.Target, names *namer) error {
	tr, err := t.TraceFlows(ctx, o.maxHops, o.flows)
	if err != nil {
		var ie *probe.InputError
		if errors.As(err, &ie) {
			return usageError("pmtu: --" + ie.Error())
		}
		return exitError(measure.OpenError(o.proto, t.Addr, o.options(), "", errors.Unwrap(err)))
	}
	r := newTraceFlowsReport(tr, o.host, names.wait())
	if o.json {
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "%s\n", b); err != nil {
			return err
		}
	} else if err := r.writeText(w); err != nil {
		return err
	}
	if r.PMTU == 0 {
		return cli.Exit("pmtu: "+r.Error, exitNoAnswer)
	}
	return nil
}

// newTraceFlowsReport is the report of tr toward host; names are the
// addresses' names where known.
func newTraceFlowsReport(tr *probe.TraceFlowsResult, host string, names map[netip.Addr]string) *traceFlowsReport {
	t := tr.Target
	r := &traceFlowsReport{Target: host, Address: t.Addr.String(), Family: measure.FamilyName(t.Addr),
		Hops: []traceFlowsHop{}, Flows: []traceFlow{}}
	for i, res := range tr.Traces {
		f := traceFlow{ID: i + 1}
		if tr.Errs[i] != nil {
			f.Error = measure.PlainErr(tr.Errs[i])
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
		hop := traceFlowsHop{TTL: h.TTL}
		for _, s := range h.Seen {
			ts := traceFlowsSeen{PMTU: int(s.PMTU), Flows: s.Flows}
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

// writeText prints one line per address seen at each hop:
//
//	2  198.18.2.2     pmtu 1500  flows 3 5 9 10 14 16
//	   198.18.3.2     pmtu 1500  flows 1 2 4 6 7 8 11 12 13 15
func (r *traceFlowsReport) writeText(w io.Writer) error {
	var b strings.Builder
	n := len(r.Flows)
	for _, h := range r.Hops {
		for i, s := range h.Seen {
			ttl := ""
			if i == 0 {
				ttl = fmt.Sprint(h.TTL)
			}
			addr := s.Address
			if addr == "" {
				addr = "no reply"
			} else if s.Name != "" {
				addr = fmt.Sprintf("%s (%s)", s.Name, s.Address)
			}
			fmt.Fprintf(&b, "%2s  %-24s", ttl, addr)
			if s.PMTU > 0 {
				fmt.Fprintf(&b, "  pmtu %d", s.PMTU)
			}
			if len(s.Flows) == n {
				b.WriteString("  every flow\n")
			} else {
				fmt.Fprintf(&b, "  %d of %d flows: %s\n", len(s.Flows), n, idList(s.Flows))
			}
		}
	}
	if r.PMTU > 0 {
		fmt.Fprintf(&b, "    path MTU %d, the smallest of %d flows that reached %s (%s); TCP MSS %d\n",
			r.PMTU, r.Reached, r.Address, r.Method, mtu.MSS(mtu.Size(r.PMTU), r.Family == "ipv6"))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

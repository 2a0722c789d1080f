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

// traceFlows is pmtu trace --flows N HOST (measure.TraceFlows).
func traceFlows(ctx context.Context, w io.Writer, o traceOpts, to *measure.TraceOptions) error {
	r, err := measure.TraceFlows(ctx, o.host, o.flows, to)
	if r == nil {
		return exitError(err)
	}
	if err != nil {
		return printTrace(w, &measure.TraceReport{Target: r.Target, Address: r.Address, Family: r.Family, Hops: []measure.TraceHop{}, Error: r.Error}, o.json)
	}
	if o.json {
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "%s\n", b); err != nil {
			return err
		}
	} else if err := writeTraceFlowsText(w, r); err != nil {
		return err
	}
	if r.PMTU == 0 {
		return cli.Exit("pmtu: "+r.Error, exitNoAnswer)
	}
	return nil
}

// writeText prints one line per address seen at each hop:
//
//	2  198.18.2.2     pmtu 1500  flows 3 5 9 10 14 16
//	   198.18.3.2     pmtu 1500  flows 1 2 4 6 7 8 11 12 13 15
func writeTraceFlowsText(w io.Writer, r *measure.TraceFlowsReport) error {
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

package probe

import (
	"cmp"
	"context"
	"fmt"
	"sync"

	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/probe/ecmp"
	"github.com/pmtu/pmtu/probe/transport"
)

// Flow is the flow identity every probe of a search carries: the source
// port of UDP and TCP probes, the identifier of Echo Requests.
type Flow = transport.Flow

// FlowBase is added to Options.Flow to make the source port (or Echo
// identifier) of a pinned flow: flow 1 leaves from port 40001.
const FlowBase = 40000

// MaxFlow is the largest Options.Flow, and the most flows FindFlows runs.
const MaxFlow = 1024

// flowOf is the flow of a conn, the zero Flow if it does not say (fakes).
func flowOf(c any) Flow {
	if f, ok := c.(transport.Flower); ok {
		return f.Flow()
	}
	return Flow{}
}

// FlowsResult is what FindFlows found: every flow's search, the branches
// (distinct path MTUs, with the flows that found each and the routers
// that named it), and PMTU, the smallest: the path MTU every flow toward
// the target can count on.
type FlowsResult struct {
	Target *Target
	// Flows are the searches, flow 1 first; Errs[i] is why Flows[i]
	// ended without an answer (nil if it did not). A Flows[i] is nil only
	// when its probes could not be sent at all.
	Flows []*Result
	Errs  []error
	// Branches are the distinct path MTUs found, smallest first.
	Branches []ecmp.Branch
	PMTU     mtu.Size
}

// FindFlows searches the path MTU to t on n flows at once, flows
// Options.Flow+1 ... Options.Flow+n (source ports FlowBase+1 ... with
// Options.Flow 0), and merges what they found (package ecmp). Routers
// that spread flows over equal-cost paths hash UDP and TCP by their ports
// (and IPv6 by its flow label), so each flow may take another branch.
// Linux hashes ICMP Echo by its addresses only: FindFlows refuses
// ProtoICMP with an *InputError, as every flow would take one branch.
// OnEvent and Log are called from n goroutines at once.
//
// The error is an *InputError for n out of range, or the first flow's
// error when no flow could send a probe (a *NoMethodError, a socket
// failure); flows that only failed to find an answer are in Errs.
func (t *Target) FindFlows(ctx context.Context, n int) (*FlowsResult, error) {
	if err := t.checkFlows(n); err != nil {
		return nil, err
	}
	o := &t.opts
	fr := &FlowsResult{Target: t, Flows: make([]*Result, n), Errs: make([]error, n)}
	t.eachFlow(n, func(i int, ft *Target) { fr.Flows[i], fr.Errs[i] = ft.Find(ctx) })
	flows := make([]ecmp.Flow, 0, n)
	sent := false
	for i, r := range fr.Flows {
		if r == nil {
			continue
		}
		sent = true
		f := ecmp.Flow{ID: o.Flow + i + 1, SrcPort: r.Flow.SrcPort, EchoID: r.Flow.EchoID, Evidence: "probes"}
		if fr.Errs[i] != nil {
			f.Err = fr.Errs[i].Error()
		} else if r.Confirmed {
			f.PMTU = r.PMTU
			if r.ByICMP {
				f.Hop, f.Evidence = r.LimitingHop, "icmp"
			}
		}
		flows = append(flows, f)
	}
	if !sent {
		return nil, fmt.Errorf("no flow could probe: %w", fr.Errs[0])
	}
	fr.Branches, fr.PMTU = ecmp.Merge(flows)
	return fr, nil
}

// TraceFlowsResult is what TraceFlows found: every flow's trace, and the
// hops lined up (ecmp.MergeHops): at a hop where ECMP splits the flows,
// each branch's address and path MTU with the flows that took it.
type TraceFlowsResult struct {
	Target *Target
	// Traces are the flows' traces, flow 1 first; Errs[i] why Traces[i]
	// stopped early (nil if it did not). A Traces[i] is nil only when its
	// probes could not be sent at all.
	Traces []*TraceResult
	Errs   []error
	Hops   []ecmp.Hop
}

// TraceFlows traces t on n flows at once, as FindFlows searches, each up
// to maxHops (0 means 30), and lines their hops up. ProtoICMP is refused
// as for FindFlows.
func (t *Target) TraceFlows(ctx context.Context, maxHops, n int) (*TraceFlowsResult, error) {
	if err := t.checkFlows(n); err != nil {
		return nil, err
	}
	o := &t.opts
	tr := &TraceFlowsResult{Target: t, Traces: make([]*TraceResult, n), Errs: make([]error, n)}
	t.eachFlow(n, func(i int, ft *Target) { tr.Traces[i], tr.Errs[i] = ft.Trace(ctx, maxHops) })
	var flows []ecmp.TraceFlow
	for i, r := range tr.Traces {
		if r == nil {
			continue
		}
		f := ecmp.TraceFlow{ID: o.Flow + i + 1}
		for _, h := range r.Hops {
			f.Hops = append(f.Hops, ecmp.HopSeen{Addr: h.Addr, PMTU: h.PMTU})
		}
		flows = append(flows, f)
	}
	if flows == nil {
		return nil, fmt.Errorf("no flow could probe: %w", tr.Errs[0])
	}
	tr.Hops = ecmp.MergeHops(flows)
	return tr, nil
}

// checkFlows refuses what FindFlows and TraceFlows cannot do.
func (t *Target) checkFlows(n int) error {
	o := &t.opts
	if cmp.Or(o.Proto, ProtoICMP) == ProtoICMP {
		return &InputError{Option: "flows", Msg: "needs UDP or TCP probes: routers hash ICMP Echo by addresses only (Linux does), so every Echo flow takes the same branch"}
	}
	if n < 1 || o.Flow+n > MaxFlow {
		return inputErrorf("flows", "%d out of range: flows 1 to %d", n, MaxFlow)
	}
	return nil
}

// eachFlow runs fn at once for flows 1..n past Options.Flow, each on a
// copy of t pinned to its flow, and waits for them all.
func (t *Target) eachFlow(n int, fn func(i int, ft *Target)) {
	var wg sync.WaitGroup
	for i := range n {
		ft := *t
		ft.opts.Flow = t.opts.Flow + i + 1
		wg.Go(func() { fn(i, &ft) })
	}
	wg.Wait()
}

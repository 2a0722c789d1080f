package probe

import (
	"cmp"

	"github.com/pmtu/pmtu/probe/search"
)

// Sampler sends batches of probes of given sizes toward a Target and says
// which came back (search.Sampler): what a loss profile by size is
// measured with. Close it when done.
type Sampler struct {
	*search.Sampler
	conn   Conn
	Method Method
	Flow   Flow
	// Port is the port the probes go to (0 for ICMP).
	Port int
}

// Close closes the Sampler's sockets.
func (s *Sampler) Close() error { return s.conn.Close() }

// Outcome is what one probe of a Sample earned (search.Outcome).
type Outcome = search.Outcome

// Outcomes of a probe.
const (
	Pending  = search.Pending  // not judged: not sent, or its wait cut short
	Lost     = search.Lost     // nothing came back within the wait
	Returned = search.Returned // the target answered
	Refused  = search.Refused  // a router refused its size
	Rejected = search.Rejected // another ICMP error answered it
)

// OpenSampler opens a Sampler toward t with proto ("" is ICMP) to port
// (0: the protocol's default), with t's Options: its sockets, flow,
// Wait, Pace (--rate) and OnEvent. share is how many Samplers probe t at
// once (flows), so that a target that rate-limits its answers (UDP) is
// asked no faster than it answers them all; 0 means 1.
func (t *Target) OpenSampler(proto Proto, port, share int) (*Sampler, error) {
	c, m, err := t.openProto(cmp.Or(proto, ProtoICMP), port, false)
	if err != nil {
		return nil, err
	}
	o := &t.opts
	s := search.NewSampler(c, &search.SampleConfig{Wait: o.Wait, Now: o.world().now, Trace: o.OnEvent, Pace: o.Pace, Share: share})
	return &Sampler{Sampler: s, conn: c, Method: m, Flow: flowOf(c), Port: portOf(m.Proto(), port)}, nil
}

// WithFlow returns a copy of t whose probes carry flow flow (see
// Options.Flow): one flow of FindFlows, to probe again.
func (t *Target) WithFlow(flow int) *Target {
	ft := *t
	ft.opts.Flow = flow
	return &ft
}

package main

import (
	"context"
	"errors"
	"io"
	"net/netip"

	"github.com/pmtu/pmtu/netns"
	"github.com/pmtu/pmtu/probe"
	"github.com/pmtu/pmtu/route"
)

// measurement is one fresh search: the report pmtu HOST would print, and
// the target it probed (nil when the host did not resolve).
type measurement struct {
	rep *report
	t   *probe.Target
}

// measure runs one fresh search toward o.host, never from the cache: what
// pmtu serve and pmtu watch do on every scrape or round. It is pmtu HOST
// without the cache and the printing. log, if not nil, gets every event.
//
// On an error the report, if not nil, says what is known; the error is
// one line (a usage error from lookup or openError, an unreachable
// route, or the search's own failure in the words of explainFailure).
func measure(ctx context.Context, o probeOpts, log io.Writer) (measurement, error) {
	po := o.options()
	if log != nil {
		po.OnEvent = func(ev probe.Event) { traceEvent(log, ev) }
	}
	t, errRoute, err := lookup(ctx, o, po)
	if err != nil {
		return measurement{}, err
	}
	m := measurement{t: t, rep: &report{Target: o.host, Address: t.Addr.String(), Family: familyName(t.Addr), Events: []event{}}}
	if errRoute != nil {
		m.rep.Error = errRoute.Error()
		return m, errRoute
	}
	m.rep.Interface, m.rep.InterfaceMTU = t.Route.IfName, int(t.Route.IfMTU)
	res, derr := t.Find(ctx)
	if res == nil {
		return m, openError(o.proto, t.Addr, o, derr)
	}
	m.rep.fromFind(res, t.Ceil())
	if derr != nil {
		if !m.rep.belowFloor(derr, o.minSize, &res.Result) {
			m.rep.explainFailure(derr, o.host, &res.Result)
		}
		return m, errors.New(m.rep.Error)
	}
	return m, nil
}

// kernelRoute is the kernel's route toward dst now, in the network
// namespace ns ("" for this one): after a search it holds the path MTU
// the kernel learned from the same ICMP.
func kernelRoute(ctx context.Context, ns string, dst netip.Addr) (route.Route, error) {
	var r route.Route
	look := func() error {
		var err error
		r, err = route.Get(ctx, dst)
		return err
	}
	if ns == "" {
		return r, look()
	}
	return r, netns.Do(ns, look)
}

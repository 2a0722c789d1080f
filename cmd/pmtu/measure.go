package main

import (
	"context"
	"errors"
	"io"

	"github.com/pmtu/pmtu/netns"
	"github.com/pmtu/pmtu/probe"
	"github.com/pmtu/pmtu/route"
)

// measurement is one fresh search: the report pmtu HOST would print, and
// where it went.
type measurement struct {
	rep *report
	t   target
}

// measure runs one fresh search toward o.host, never from the cache: what
// pmtu serve and pmtu watch do on every scrape or round. It is pmtu HOST
// without the cache and the printing, and the one place those commands
// reach package probe for a search. log, if not nil, gets every event.
//
// On an error the report, if not nil, says what is known; the error is
// one line (a usage error from findTarget or openConn, an unreachable
// route, or the search's own failure in the words of explainFailure).
func measure(ctx context.Context, o probeOpts, log io.Writer) (measurement, error) {
	t, errRoute, err := findTarget(ctx, o)
	if err != nil {
		return measurement{}, err
	}
	m := measurement{t: t, rep: &report{Target: o.host, Address: t.addr.String(), Family: familyName(t.addr), Events: []event{}}}
	if errRoute != nil {
		m.rep.Error = errRoute.Error()
		return m, errRoute
	}
	m.rep.Interface, m.rep.InterfaceMTU = t.route.IfName, t.route.IfMTU
	conn, err := openConn(t)
	if err != nil {
		return m, err
	}
	defer conn.Close()
	m.rep.Method = methodOf(conn)
	ceil := t.ceil(o)
	cfg := &probe.Config{Floor: o.minSize, Ceil: ceil, Wait: o.wait, Tries: o.tries}
	if log != nil {
		cfg.Trace = func(ev probe.Event) { traceEvent(log, ev) }
	}
	res, derr := probe.Discover(ctx, conn, cfg)
	m.rep.fromResult(res, ceil)
	if derr != nil {
		m.rep.explainFailure(derr, o.host, res)
		return m, errors.New(m.rep.Error)
	}
	return m, nil
}

// kernelRoute is the kernel's route toward t now, in the namespace the
// probes left from: after a search it holds the path MTU the kernel
// learned from the same ICMP.
func kernelRoute(ctx context.Context, t target) (route.Route, error) {
	var r route.Route
	look := func() error {
		var err error
		r, err = route.Get(ctx, t.addr)
		return err
	}
	if t.opts.netns == "" {
		return r, look()
	}
	return r, netns.Do(t.opts.netns, look)
}

// traceHops walks every hop toward t (pmtu trace's search) and returns
// each hop's path MTU.
func traceHops(ctx context.Context, t target, log io.Writer) (*probe.TraceResult, error) {
	conn, err := openConn(t)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	o := t.opts
	cfg := &probe.TraceConfig{MaxHops: 30, Floor: o.minSize, Ceil: t.ceil(o), Wait: o.wait, Tries: o.tries}
	if log != nil {
		cfg.Trace = func(ev probe.Event) { traceEvent(log, ev) }
	}
	return probe.Trace(ctx, conn, cfg)
}

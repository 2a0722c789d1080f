package exporter

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/pmtu/pmtu/check"

	"github.com/pmtu/pmtu/lossprofile"
	"github.com/pmtu/pmtu/measure"
	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/probe"
	"github.com/pmtu/pmtu/probe/transport"
)

// Measure is the Prober of pmtu serve: the workflow of pmtu HOST without
// the cache (measure.Host) over net (nil: this host's kernel), its
// report turned into a Result. logEvent, if set, writes each probe
// answer to a request's debug log.
func Measure(net *probe.Network, logEvent func(io.Writer, probe.Event)) Prober {
	return NewMeasure(&MeasureConfig{Net: net, LogEvent: logEvent})
}

// MeasureWith is Measure whose module=check (Options.Checks) opens the
// checks' conn with open (nil: this host's raw sockets), the seam of
// tests.
func MeasureWith(net *probe.Network, open func(netip.Addr, *transport.OpenConfig) (check.Conn, error), logEvent func(io.Writer, probe.Event)) Prober {
	return NewMeasure(&MeasureConfig{Net: net, Open: open, LogEvent: logEvent})
}

// MeasureConfig configures the Prober NewMeasure makes; nil means the
// defaults.
type MeasureConfig struct {
	// Net is the world the searches probe; nil is this host's kernel.
	Net *probe.Network
	// Open opens module=check's conn (Options.Checks); nil: this host's
	// raw sockets.
	Open func(netip.Addr, *transport.OpenConfig) (check.Conn, error)
	// LogEvent, if set, writes each probe answer to a request's debug
	// log.
	LogEvent func(io.Writer, probe.Event)
	// Engine, if set, is shared by every search of the Prober: the
	// ICMP of all concurrent /probe requests is read from one raw socket
	// per family (probe.Engine), not copied by the kernel to one socket
	// per search. Whoever made it closes it when the server stops.
	Engine *probe.Engine
	// Pace, if set, is the packet budget of all searches together
	// (a probe.Budget's Wait).
	Pace func(context.Context) error
}

// NewMeasure returns the Prober of pmtu serve: the workflow of pmtu HOST
// without the cache (measure.Host), or of pmtu check for module=check,
// its report turned into a Result; every search shares cfg's Engine and
// packet budget.
func NewMeasure(cfg *MeasureConfig) Prober {
	if cfg == nil {
		cfg = &MeasureConfig{}
	}
	net, open, logEvent := cfg.Net, cfg.Open, cfg.LogEvent
	return func(ctx context.Context, target string, o Options, log io.Writer) (Result, error) {
		po := probe.Options{
			Network: cmp.Or(o.Family, "ip"),
			MaxSize: mtu.Size(o.MaxSize),
			MinSize: mtu.Size(o.MinSize),
			Wait:    cmp.Or(o.Timeout, time.Second),
			Tries:   cmp.Or(o.Tries, probe.DefaultTries),
			// No proto parameter: ICMP, then the fallbacks, as pmtu HOST.
			Proto:  probe.Proto(o.Proto),
			Port:   o.Port,
			Net:    net,
			Engine: cfg.Engine,
			Pace:   cfg.Pace,
		}
		mo := &measure.Options{Probe: po, Fresh: true}
		if log != nil {
			if logEvent != nil {
				po.OnEvent = func(ev probe.Event) { logEvent(log, ev) }
			}
			mo.Probe = po
			mo.Log = func(line string) { fmt.Fprintf(log, "pmtu: %s\n", line) }
			mo.Probe.Log = mo.Log
		}
		var (
			rep *measure.Report
			err error
			cr  *check.Report
		)
		if o.Checks {
			co := &check.Options{Measure: *mo, Open: open, Port: o.Port}
			if o.Proto == "" || o.Proto == "icmp" {
				co.Measure.Probe.Port = 0 // the port is the SYNs'; ICMP has none
			}
			if log != nil {
				co.Log = func(line string) { fmt.Fprintf(log, "check: %s\n", line) }
			}
			if cr, err = check.Host(ctx, target, co); cr != nil {
				rep = cr.PathMTU
			}
		} else {
			rep, err = measure.Host(ctx, target, mo)
		}
		if rep == nil {
			if measure.KindOf(err) == measure.BadInput {
				// No path MTU to such a target: bad input, 400.
				return Result{}, &TargetError{Msg: err.Error()}
			}
			return Result{}, err
		}
		r := Result{
			PMTU: rep.PMTU, Evidence: rep.Evidence, LimitingHop: rep.LimitingHop, BlackHole: rep.BlackHole,
			InterfaceMTU: rep.InterfaceMTU, Probes: rep.Probes, Rounds: rep.Rounds, Ignored: rep.Ignored,
		}
		if cr != nil {
			for _, f := range cr.Findings {
				r.Findings = append(r.Findings, Finding{Check: f.Check, Result: f.Result})
			}
		}
		if rep.Bounded() {
			// The target never answered: what a router proved is exported
			// as a bound, never as the path MTU.
			r.PMTU, r.Evidence, r.LimitingHop = 0, "", ""
			r.PMTUMax, r.PMTUMaxBy = rep.PMTU, rep.LimitingHop
		}
		t := rep.Probed()
		if t != nil {
			if rt, kerr := t.RouteNow(ctx); kerr == nil && rt.Cached {
				r.KernelCachedMTU = rt.MTU
			}
		}
		if err == nil && o.Trace && t != nil {
			tr, terr := t.Trace(ctx, 30)
			if tr != nil {
				for _, h := range tr.Hops {
					hop := Hop{TTL: h.TTL, PMTU: int(h.PMTU)}
					if h.Addr.IsValid() {
						hop.Address = h.Addr.String()
					}
					r.Hops = append(r.Hops, hop)
				}
			}
			if terr != nil && log != nil {
				fmt.Fprintf(log, "trace: %v\n", terr)
			}
		}
		if err == nil && o.Profile && t != nil {
			profileInto(ctx, &r, rep, mo, log)
		}
		return r, err
	}
}

// profileRate is the packet rate of a profile: pmtu profile's default.
// Tests over a fake network, which answers at once, lift it.
var profileRate float64 = lossprofile.DefaultRate

// profileMargin is what a profile leaves of the scrape's time: the
// answer must still be written.
const profileMargin = 500 * time.Millisecond

// profileInto measures the loss by size toward rep's target
// (measure.ProfileAfter) within what is left of ctx's time, at most
// lossprofile.DefaultDuration at lossprofile.DefaultRate, into r.
func profileInto(ctx context.Context, r *Result, rep *measure.Report, mo *measure.Options, log io.Writer) {
	dur := lossprofile.DefaultDuration
	if dl, ok := ctx.Deadline(); ok {
		dur = min(dur, time.Until(dl)-profileMargin)
	}
	if dur < time.Second {
		if log != nil {
			fmt.Fprintf(log, "profile: not measured: %s left of the scrape's time (raise scrape_timeout)\n", max(0, dur+profileMargin).Round(time.Millisecond))
		}
		return
	}
	po := *mo
	po.Probe.Pace = probe.NewBudget(profileRate, lossprofile.DefaultRate/50).Wait
	pr, err := measure.ProfileAfter(ctx, rep, &measure.ProfileOptions{Options: po, Duration: dur})
	if err != nil && log != nil {
		fmt.Fprintf(log, "profile: %v\n", err)
	}
	if pr == nil || len(pr.Bands) == 0 {
		return
	}
	for _, b := range pr.Bands {
		r.SizeLoss = append(r.SizeLoss, SizeLoss{From: b.From, To: b.To, Loss: b.Loss})
	}
	r.SafeMTU = pr.SafeMTU
	if log != nil {
		fmt.Fprintf(log, "profile: %d probes in %d rounds, %s; safe_mtu %d, %d windows, brownout %v\n",
			pr.Probes, pr.Rounds, pr.Ended, pr.SafeMTU, len(pr.Windows), pr.Brownout != nil)
	}
}

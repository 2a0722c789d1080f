package main

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/pmtu/pmtu/exporter"
	"github.com/pmtu/pmtu/probe"
	"github.com/urfave/cli/v2"
)

// DefaultListen is where pmtu serve listens unless --listen says
// otherwise: loopback only. Port 10150: the Prometheus default port
// allocations for exporters (9100-9999) have been full since 2023, and
// allocations go on above 10000; see README.md.
const DefaultListen = "127.0.0.1:10150"

func newServeCommand() *cli.Command {
	return &cli.Command{
		Name:      "serve",
		Usage:     "run a Prometheus exporter: GET /probe?target=HOST measures the path MTU to HOST afresh",
		UsageText: "pmtu serve [--listen ADDR] [--allow CIDR,...] [--config FILE] [--max-concurrent N] [--rate PPS]",
		Description: "pmtu serve answers /probe?target=HOST in the Prometheus text format, the multi-target " +
			"pattern of blackbox_exporter, with the probe flags as parameters (proto, port, family, max_size, " +
			"min_size, tries, timeout, trace) or a named module from --config. /metrics has the exporter's own " +
			"metrics, / the recent probes with their logs. It stops cleanly on SIGTERM or Ctrl-C.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "listen", Value: DefaultListen, Usage: "listen on `ADDR` (host:port); the default answers this host only"},
			&cli.StringFlag{Name: "allow", Usage: "probe only targets in these prefixes (`CIDR,...`); others get 403", DefaultText: "any target"},
			&cli.StringFlag{Name: "config", Usage: "YAML `FILE` of named modules (modules: NAME: {proto, port, family, max_size, min_size, tries, timeout, trace, check}); module=check runs pmtu check, a gauge per finding"},
			&cli.IntFlag{Name: "max-concurrent", Value: 16, Usage: "run at most `N` searches at once; past it /probe answers 503"},
			&cli.Float64Flag{Name: "rate", Value: defaultRate, Usage: "send at most `PPS` probes a second, all searches together"},
			&cli.DurationFlag{Name: "margin", Value: 500 * time.Millisecond, Usage: "take `D` off Prometheus's scrape timeout, to leave time for the answer"},
		},
		Action:          serve,
		HideHelpCommand: true,
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return cli.Exit("pmtu serve: "+err.Error()+" (see pmtu serve --help)", exitUsage)
		},
	}
}

// serveConfig is serve's flags, checked.
type serveConfig struct {
	listen  string
	allow   []netip.Prefix
	modules map[string]exporter.Options
	max     int
	margin  time.Duration
	rate    float64
}

func parseServeFlags(cCtx *cli.Context) (serveConfig, error) {
	c := serveConfig{listen: cCtx.String("listen"), max: cCtx.Int("max-concurrent"), margin: cCtx.Duration("margin"), rate: cCtx.Float64("rate")}
	if cCtx.Args().Len() > 0 {
		return c, usageError(fmt.Sprintf("pmtu serve: no arguments, got %q (targets come with each request)", cCtx.Args().First()))
	}
	if _, _, err := net.SplitHostPort(c.listen); err != nil {
		return c, usageError(fmt.Sprintf("pmtu serve: --listen %q: want host:port, e.g. %s", c.listen, DefaultListen))
	}
	var err error
	if c.allow, err = parseAllow(cCtx.String("allow")); err != nil {
		return c, err
	}
	if c.max < 1 || c.max > 10000 {
		return c, usageError(fmt.Sprintf("pmtu serve: --max-concurrent %d is outside 1–10000", c.max))
	}
	if !(c.rate >= 1 && c.rate <= 1e6) {
		return c, usageError(fmt.Sprintf("pmtu serve: --rate %v is outside 1–1000000 probes a second", c.rate))
	}
	if c.margin < 0 {
		return c, usageError(fmt.Sprintf("pmtu serve: --margin %v must not be negative", c.margin))
	}
	if f := cCtx.String("config"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return c, usageError(fmt.Sprintf("pmtu serve: --config: %v", err))
		}
		cfg, err := exporter.ParseConfig(b)
		if err != nil {
			return c, usageError(fmt.Sprintf("pmtu serve: --config %s: %v", f, err))
		}
		c.modules = cfg.Modules
	}
	return c, nil
}

// parseAllow reads --allow: prefixes, or bare addresses, split by commas.
func parseAllow(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			a, aerr := netip.ParseAddr(f)
			if aerr != nil {
				return nil, usageError(fmt.Sprintf("pmtu serve: --allow %q is not a prefix (e.g. 198.18.0.0/15) or an address", f))
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// serve is `pmtu serve`.
func serve(cCtx *cli.Context) error {
	c, err := parseServeFlags(cCtx)
	if err != nil {
		return err
	}
	ew := cCtx.App.ErrWriter
	ln, err := net.Listen("tcp", c.listen)
	if err != nil {
		return cli.Exit(fmt.Sprintf("pmtu serve: %v", err), exitUsage)
	}
	host, _, _ := net.SplitHostPort(ln.Addr().String())
	if a, err := netip.ParseAddr(host); (err != nil || !a.IsLoopback()) && len(c.allow) == 0 {
		fmt.Fprintf(ew, "pmtu serve: warning: listening on %s with no --allow: whoever reaches it can make this host probe any address\n", ln.Addr())
	}
	fmt.Fprintf(ew, "pmtu serve: listening on http://%s/ (probe: /probe?target=HOST)\n", ln.Addr())
	// Every /probe shares one Engine (a raw socket per family) and one
	// packet budget, as the searches of pmtu HOST HOST... do.
	engine := probe.NewEngine(nil)
	defer engine.Close()
	budget := probe.NewBudget(c.rate, int(c.rate/50))
	w := worldOf(cCtx)
	prober := exporter.NewMeasure(&exporter.MeasureConfig{Net: w.net, Open: w.openRaw, LogEvent: traceEvent, Engine: engine, Pace: budget.Wait})
	s := &exporter.Server{Prober: prober, Resolve: w.lookupHost, Modules: c.modules, Allow: c.allow, MaxConcurrent: c.max, Margin: c.margin}
	if err := s.Serve(cCtx.Context, ln, 5*time.Second); err != nil {
		return cli.Exit(fmt.Sprintf("pmtu serve: %v", err), exitNoAnswer)
	}
	fmt.Fprintln(ew, "pmtu serve: shut down")
	return nil
}

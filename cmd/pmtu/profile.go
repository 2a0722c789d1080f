package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/pmtu/pmtu/lossprofile"
	"github.com/pmtu/pmtu/measure"
	"github.com/pmtu/pmtu/probe"
)

// newProfileCommand builds `pmtu profile`.
func newProfileCommand() *cli.Command {
	return &cli.Command{
		Name:      "profile",
		Usage:     "measure loss by packet size to HOST: windows of lost sizes, a brownout above a size, the largest safe size",
		UsageText: "pmtu profile [flags] HOST",
		Description: "pmtu profile finds the path MTU as pmtu HOST does, then sends rounds of probes of every size of a grid " +
			"up to it (the 320 bytes below it by default, --min-size to widen), in a shuffled order, and refines the grid " +
			"where a window of lost sizes begins or ends. It reports the loss of each band of sizes whose loss cannot be " +
			"told apart (Wilson intervals, 99.7%), the windows (sizes lost while larger ones pass), a brownout (the size " +
			"above which loss is surely higher) and safe_mtu, the largest size whose loss cannot be told from the " +
			fmt.Sprintf("baseline. By default it sends at most %d probes a second for %s, and stops sooner on a clean path: enough to "+
				"tell 3%% loss above a size from none below it. Flags go before HOST.", lossprofile.DefaultRate, lossprofile.DefaultDuration),
		Flags: append(newProbeFlags(),
			&cli.BoolFlag{Name: "json", Usage: "print one JSON object instead of text"},
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "print every size probed, and every probe answer"},
			&cli.Float64Flag{Name: "rate", Value: lossprofile.DefaultRate, Usage: "send at most `PPS` probes a second"},
			&cli.DurationFlag{Name: "duration", Value: lossprofile.DefaultDuration, Usage: "profile for at most `D` (the search before it not counted)"},
			&cli.StringFlag{Name: "plot", Usage: "write the loss-by-size chart to `FILE`.svg"},
			&cli.IntFlag{Name: "flows", DefaultText: "one flow",
				Usage: fmt.Sprintf("profile `N` flows at once (1–%d) and show which ECMP branch loses which sizes; needs --proto udp or tcp", probe.MaxFlow)},
		),
		Action:          profile,
		HideHelpCommand: true,
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return cli.Exit("pmtu profile: "+err.Error()+" (see pmtu profile --help)", exitUsage)
		},
	}
}

// profileOpts are profile's flags, checked.
type profileOpts struct {
	probeOpts
	json, verbose bool
	rate          float64
	duration      time.Duration
	plot          string
	flows         int
}

func parseProfileOpts(cCtx *cli.Context) (profileOpts, error) {
	po, err := parseProbeOpts(cCtx, "pmtu profile")
	if err != nil {
		return profileOpts{}, err
	}
	o := profileOpts{probeOpts: po, json: cCtx.Bool("json"), verbose: cCtx.Bool("verbose"), rate: cCtx.Float64("rate"),
		duration: cCtx.Duration("duration"), plot: cCtx.String("plot"), flows: cCtx.Int("flows")}
	switch {
	case !(o.rate >= 1 && o.rate <= 1e6):
		return o, usageError(fmt.Sprintf("pmtu: --rate %v is outside 1–1000000 probes a second", o.rate))
	case o.duration <= 0:
		return o, usageError(fmt.Sprintf("pmtu: --duration %v must be positive", o.duration))
	case cCtx.IsSet("plot") && !strings.HasSuffix(o.plot, ".svg"):
		return o, usageError(fmt.Sprintf("pmtu: --plot %q: the chart is an SVG, name it FILE.svg", o.plot))
	}
	if err := checkFlowsFlag(cCtx, o.flows, o.proto, "profiles"); err != nil {
		return o, err
	}
	return o, nil
}

// profile is `pmtu profile [flags] HOST`.
func profile(cCtx *cli.Context) error {
	o, err := parseProfileOpts(cCtx)
	if err != nil {
		return err
	}
	w, ew := cCtx.App.Writer, cCtx.App.ErrWriter
	po := o.options()
	po.Pace = probe.NewBudget(o.rate, int(o.rate/50)).Wait
	if o.verbose {
		po.OnEvent = func(ev probe.Event) { traceEvent(ew, ev) }
	}
	if o.flows > 0 && !o.protoChosen {
		po.Proto = o.proto
	}
	mo := &measure.ProfileOptions{Options: measure.Options{Probe: *po, Fresh: true}, Duration: o.duration, Rate: o.rate,
		Flows: o.flows, From: o.minSize}
	mo.Notes = func(line string) { fmt.Fprintf(ew, "pmtu: %s\n", line) }
	rep, err := measure.Profile(cCtx.Context, o.host, mo)
	if rep == nil {
		return exitError(err)
	}
	if o.plot != "" && len(rep.Sizes) > 0 {
		if perr := writePlotFile(o.plot, rep); perr != nil {
			return cli.Exit("pmtu: --plot: "+perr.Error(), exitUsage)
		}
	}
	if o.json {
		b, jerr := json.Marshal(rep)
		if jerr != nil {
			return jerr
		}
		if _, jerr := fmt.Fprintf(w, "%s\n", b); jerr != nil {
			return jerr
		}
	} else if terr := writeProfileText(w, rep, o.verbose); terr != nil {
		return terr
	}
	if err != nil {
		if measure.KindOf(err) == measure.Stopped && len(rep.Sizes) > 0 {
			return cli.Exit("", exitNoAnswer)
		}
		return exitError(err)
	}
	return nil
}

// writePlotFile writes the chart of rep to name.
func writePlotFile(name string, rep *measure.ProfileReport) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := writePlot(f, rep); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// barWidth is the width of a band's loss bar in the text.
const barWidth = 20

// writeProfileText prints the profile, e.g.
//
//	loss by size to 198.18.2.2 (path MTU 1500, icmp): 2044 probes in 76 rounds, 8.18s, decided
//	  1180–1399  ····················   0.0%  0 of 1228 lost, at most 0.7%
//	  1400–1420  ████████████████████ 100.0%  212 of 212 lost, 95.9–100%   ← window: lost while larger sizes pass
//	  1421–1500  ····················   0.0%  0 of 604 lost, at most 1.5%
//	  safe_mtu 1500: the largest size whose loss cannot be told from the smallest sizes'
func writeProfileText(w io.Writer, r *measure.ProfileReport, verbose bool) error {
	var b strings.Builder
	name := hostName(r.Target, r.Address)
	if len(r.Sizes) == 0 {
		fmt.Fprintf(&b, "loss by size to %s: not measured: %s\n", name, r.Error)
		_, err := io.WriteString(w, b.String())
		return err
	}
	how := r.Method
	if len(r.Flows) > 0 {
		how = fmt.Sprintf("%s, %s", r.Method, plural(len(r.Flows), "flow"))
	}
	fmt.Fprintf(&b, "loss by size to %s (path MTU %d, %s): %s in %s, %s, %s\n", name, r.PMTU, how,
		plural(r.Probes, "probe"), plural(r.Rounds, "round"), formatMS(r.ElapsedMS), endText(r.Ended))
	writeBands(&b, "  ", &r.ProfileResult)
	if len(r.Branches) > 0 {
		for _, br := range r.Branches {
			fmt.Fprintf(&b, "  branch with path MTU %d, flows %s:\n", br.PMTU, idList(br.Flows))
			writeBands(&b, "    ", &br.ProfileResult)
		}
	}
	if verbose {
		for _, s := range r.Sizes {
			fmt.Fprintf(&b, "  %5d bytes: %d of %d lost\n", s.Size, s.Lost, s.Sent)
		}
	}
	if r.Error != "" {
		fmt.Fprintf(&b, "  %s\n", r.Error)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeBands prints one profile's bands, each with a bar for its loss,
// the windows and the brownout marked, then its safe size.
func writeBands(b *strings.Builder, indent string, r *measure.ProfileResult) {
	for _, band := range r.Bands {
		n := int(math.Ceil(band.Loss * barWidth))
		bar := strings.Repeat("█", n) + strings.Repeat("·", barWidth-n)
		span := fmt.Sprintf("%d–%d", band.From, band.To)
		if band.From == band.To {
			span = fmt.Sprint(band.From)
		}
		ci := fmt.Sprintf("at most %s", pct(band.CIHigh))
		if band.Lost > 0 {
			ci = fmt.Sprintf("%s–%s", pct(band.CILow), pct(band.CIHigh))
		}
		fmt.Fprintf(b, "%s%-10s %s %6s  %d of %d lost, %s", indent, span, bar, pct(band.Loss), band.Lost, band.Sent, ci)
		switch {
		case inWindows(r.Windows, band.From):
			b.WriteString("   ← window: lost while larger sizes pass")
		case r.Brownout != nil && band.From > r.Brownout.Above && band.From == firstAbove(r, r.Brownout.Above):
			fmt.Fprintf(b, "   ← brownout: above %d, loss %s against %s below", r.Brownout.Above, pct(r.Brownout.LossAbove), pct(r.Brownout.LossBelow))
		}
		b.WriteString("\n")
	}
	switch {
	case r.SafeMTU == 0:
	case r.Brownout != nil:
		fmt.Fprintf(b, "%ssafe_mtu %d: larger sizes lose more (the edge lies within %d bytes above it)\n", indent, r.SafeMTU, r.Step)
	default:
		fmt.Fprintf(b, "%ssafe_mtu %d: no size up to it loses more than the rest\n", indent, r.SafeMTU)
	}
}

// firstAbove is the smallest band start above size.
func firstAbove(r *measure.ProfileResult, size int) int {
	for _, b := range r.Bands {
		if b.From > size {
			return b.From
		}
	}
	return 0
}

func inWindows(ws []measure.ProfileWindow, size int) bool {
	for _, w := range ws {
		if size >= w.From && size <= w.To {
			return true
		}
	}
	return false
}

// pct is a loss as a percentage: "3.1%", "100%".
func pct(f float64) string {
	if f >= 1 {
		return "100%"
	}
	return fmt.Sprintf("%.1f%%", 100*f)
}

// endText says why the profile stopped.
func endText(end string) string {
	switch end {
	case lossprofile.EndDecided:
		return "decided"
	case lossprofile.EndProbes:
		return "probe budget (--rate × --duration) spent"
	case lossprofile.EndDuration:
		return "--duration reached"
	}
	return "stopped"
}

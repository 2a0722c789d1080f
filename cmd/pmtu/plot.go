package main

import (
	"fmt"
	"html"
	"io"
	"math"
	"strings"

	"github.com/pmtu/pmtu/lossprofile"
	"github.com/pmtu/pmtu/measure"
)

// The chart's frame, in SVG user units.
const (
	plotW, plotH         = 880.0, 420.0
	plotLeft, plotRight  = 70.0, 30.0
	plotTop, plotBottom  = 50.0, 60.0
	plotInnerW           = plotW - plotLeft - plotRight
	plotInnerH           = plotH - plotTop - plotBottom
	plotDot              = 3.0
	plotColorLoss        = "#1f4e9a"
	plotColorWindow      = "#d62728"
	plotColorBrownout    = "#ff7f0e"
	plotColorSafe        = "#2ca02c"
	plotColorBand        = "#6a8fd0"
	plotColorGrid        = "#dddddd"
	plotFont             = "font-family=\"sans-serif\" font-size=\"12\""
	plotFontSmall        = "font-family=\"sans-serif\" font-size=\"11\""
	plotBranchColorsList = "#9467bd,#8c564b,#e377c2,#17becf,#bcbd22,#7f7f7f"
)

// plotTicks are the loss ticks of the chart's y axis, on a square-root
// scale so that 1% and 100% both show.
var plotTicks = []float64{0, 0.01, 0.03, 0.1, 0.25, 0.5, 1}

// writePlot writes the loss-by-size chart of r as an SVG document: the
// loss of every size probed (a dot, with its Wilson interval), each band
// (a line at its loss over a shaded interval), the windows shaded red,
// the brownout's edge and safe_mtu as vertical lines, and, with flows,
// each branch's sizes in a colour of its own.
func writePlot(w io.Writer, r *measure.ProfileReport) error {
	var b strings.Builder
	from, to := r.From, r.To
	for _, br := range r.Branches {
		from, to = min(from, br.From), max(to, br.To)
	}
	if to <= from {
		from, to = from-1, to+1
	}
	x := func(size float64) float64 {
		return plotLeft + (size-float64(from))/float64(to-from)*plotInnerW
	}
	y := func(loss float64) float64 {
		return plotTop + plotInnerH*(1-math.Sqrt(max(0, min(1, loss))))
	}
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f">
<title>%s</title>
<rect x="0" y="0" width="%.0f" height="%.0f" fill="white"/>
`, plotW, plotH, plotW, plotH, html.EscapeString(plotTitle(r)), plotW, plotH)
	fmt.Fprintf(&b, "<text x=\"%.0f\" y=\"24\" %s font-weight=\"bold\">%s</text>\n", plotLeft, plotFont, html.EscapeString(plotTitle(r)))
	// Windows and the brownout's side, behind everything.
	for _, win := range r.Windows {
		x0, x1 := x(float64(win.From)-0.5), x(float64(win.To)+0.5)
		fmt.Fprintf(&b, "<rect x=\"%.1f\" y=\"%.0f\" width=\"%.1f\" height=\"%.0f\" fill=\"%s\" fill-opacity=\"0.15\"/>\n",
			x0, plotTop, max(1, x1-x0), plotInnerH, plotColorWindow)
		fmt.Fprintf(&b, "<text x=\"%.1f\" y=\"%.0f\" %s fill=\"%s\" text-anchor=\"middle\">window %d–%d</text>\n",
			(x0+x1)/2, plotTop-6, plotFontSmall, plotColorWindow, win.From, win.To)
	}
	// Axes and grid.
	for _, t := range plotTicks {
		fmt.Fprintf(&b, "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"%s\"/>\n", plotLeft, y(t), plotLeft+plotInnerW, y(t), plotColorGrid)
		fmt.Fprintf(&b, "<text x=\"%.0f\" y=\"%.1f\" %s text-anchor=\"end\">%s</text>\n", plotLeft-6, y(t)+4, plotFontSmall, pct(t))
	}
	step := plotStep(to - from)
	for s := (from + step - 1) / step * step; s <= to; s += step {
		fmt.Fprintf(&b, "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"%s\"/>\n", x(float64(s)), plotTop, x(float64(s)), plotTop+plotInnerH, plotColorGrid)
		fmt.Fprintf(&b, "<text x=\"%.1f\" y=\"%.0f\" %s text-anchor=\"middle\">%d</text>\n", x(float64(s)), plotTop+plotInnerH+16, plotFontSmall, s)
	}
	fmt.Fprintf(&b, "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" stroke=\"black\"/>\n", plotLeft, plotTop, plotInnerW, plotInnerH)
	fmt.Fprintf(&b, "<text x=\"%.0f\" y=\"%.0f\" %s text-anchor=\"middle\">packet size (IP bytes)</text>\n", plotLeft+plotInnerW/2, plotH-18, plotFont)
	fmt.Fprintf(&b, "<text x=\"16\" y=\"%.0f\" %s text-anchor=\"middle\" transform=\"rotate(-90 16 %.0f)\">loss (square-root scale)</text>\n",
		plotTop+plotInnerH/2, plotFont, plotTop+plotInnerH/2)
	// Bands: the interval shaded, the loss as a line.
	for _, band := range r.Bands {
		x0, x1 := x(float64(band.From)), x(float64(band.To))
		if x1-x0 < 2 {
			x0, x1 = x0-1, x1+1
		}
		fmt.Fprintf(&b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" fill-opacity=\"0.2\"/>\n",
			x0, y(band.CIHigh), x1-x0, max(1, y(band.CILow)-y(band.CIHigh)), plotColorBand)
		fmt.Fprintf(&b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\"/>\n",
			x0, y(band.Loss), x1, y(band.Loss), plotColorLoss)
	}
	// Sizes: a dot each.
	plotDots(&b, r.Sizes, x, y, plotColorLoss)
	colors := strings.Split(plotBranchColorsList, ",")
	for i, br := range r.Branches {
		if len(r.Branches) < 2 {
			break
		}
		c := colors[i%len(colors)]
		plotDots(&b, br.Sizes, x, y, c)
		fmt.Fprintf(&b, "<text x=\"%.0f\" y=\"%.0f\" %s fill=\"%s\" text-anchor=\"end\">branch %d: flows %s</text>\n",
			plotLeft+plotInnerW-6, plotTop+16+float64(i)*14, plotFontSmall, c, br.PMTU, idList(br.Flows))
	}
	// The brownout's edge and the safe size.
	if bo := r.Brownout; bo != nil {
		xe := x(float64(bo.Above) + 0.5)
		fmt.Fprintf(&b, "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"%s\" stroke-width=\"2\" stroke-dasharray=\"6 4\"/>\n",
			xe, plotTop, xe, plotTop+plotInnerH, plotColorBrownout)
		fmt.Fprintf(&b, "<text x=\"%.1f\" y=\"%.0f\" %s fill=\"%s\" text-anchor=\"end\">brownout above %d: %s vs %s</text>\n",
			xe-4, plotTop+30, plotFontSmall, plotColorBrownout, bo.Above, pct(bo.LossAbove), pct(bo.LossBelow))
	}
	if r.SafeMTU > 0 {
		xs := x(float64(r.SafeMTU))
		fmt.Fprintf(&b, "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"%s\" stroke-width=\"2\"/>\n",
			xs, plotTop, xs, plotTop+plotInnerH, plotColorSafe)
		fmt.Fprintf(&b, "<text x=\"%.1f\" y=\"%.0f\" %s fill=\"%s\" text-anchor=\"end\">safe_mtu %d</text>\n",
			xs-4, plotTop+plotInnerH-8, plotFontSmall, plotColorSafe, r.SafeMTU)
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// plotDots draws a dot at each size's loss, and its Wilson interval.
func plotDots(b *strings.Builder, sizes []measure.ProfileSize, x, y func(float64) float64, color string) {
	for _, s := range sizes {
		loss := float64(s.Lost) / float64(s.Sent)
		lo, hi := lossprofile.Wilson(s.Lost, s.Sent, lossprofile.Z)
		fmt.Fprintf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-opacity=\"0.5\"/>\n",
			x(float64(s.Size)), y(hi), x(float64(s.Size)), y(lo), color)
		fmt.Fprintf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.0f\" fill=\"%s\"><title>%d bytes: %d of %d lost</title></circle>\n",
			x(float64(s.Size)), y(loss), plotDot, color, s.Size, s.Lost, s.Sent)
	}
}

// plotTitle is the chart's title.
func plotTitle(r *measure.ProfileReport) string {
	return fmt.Sprintf("loss by packet size to %s (path MTU %d, %s, %s)", hostName(r.Target, r.Address), r.PMTU, r.Method, plural(r.Probes, "probe"))
}

// plotStep is the spacing of the size axis's ticks: about 8 of them.
func plotStep(span int) int {
	for _, s := range []int{1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000} {
		if span/s <= 10 {
			return s
		}
	}
	return 10000
}

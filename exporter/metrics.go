package exporter

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// probeMetrics are one search's metrics, the families sorted by name and
// each family's metrics by their labels, as a Registry's Gather returns
// them. They are built as the families themselves: a Registry made for
// each request, as blackbox_exporter does, costs two channels of a
// thousand metrics each per Gather and a descriptor per gauge, most of
// pmtu serve's allocations (scripts/bench.sh serve, profiled).
func probeMetrics(res Result, ok bool, dur time.Duration) []*dto.MetricFamily {
	var fams []*dto.MetricFamily
	family := func(name, help string) *dto.MetricFamily {
		f := &dto.MetricFamily{Name: &name, Help: &help, Type: dto.MetricType_GAUGE.Enum()}
		fams = append(fams, f)
		return f
	}
	sample := func(f *dto.MetricFamily, v float64, labels ...string) {
		m := &dto.Metric{Gauge: &dto.Gauge{Value: &v}}
		for i := 0; i+1 < len(labels); i += 2 {
			m.Label = append(m.Label, &dto.LabelPair{Name: &labels[i], Value: &labels[i+1]})
		}
		slices.SortFunc(m.Label, func(x, y *dto.LabelPair) int { return strings.Compare(x.GetName(), y.GetName()) })
		f.Metric = append(f.Metric, m)
	}
	gauge := func(name, help string, v float64) { sample(family(name, help), v) }
	b2f := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}
	defer func() {
		slices.SortFunc(fams, func(x, y *dto.MetricFamily) int { return strings.Compare(x.GetName(), y.GetName()) })
		for _, f := range fams {
			slices.SortFunc(f.Metric, func(x, y *dto.Metric) int { return compareLabels(x.Label, y.Label) })
		}
	}()
	gauge("pmtu_probe_success", "1 if a path MTU was found, else 0.", b2f(ok))
	gauge("pmtu_probe_duration_seconds", "How long the search took.", dur.Seconds())
	gauge("pmtu_probes_sent", "Probe packets the search sent.", float64(res.Probes))
	gauge("pmtu_round_trips", "Round trips the search took; probes sent together count once.", float64(res.Rounds))
	gauge("pmtu_icmp_ignored", "ICMP messages received and not believed (forged, foreign, late).", float64(res.Ignored))
	if res.InterfaceMTU > 0 {
		gauge("pmtu_interface_mtu_bytes", "MTU of the egress interface toward the target.", float64(res.InterfaceMTU))
	}
	if res.KernelCachedMTU > 0 {
		gauge("pmtu_kernel_cached_mtu_bytes", "Path MTU the kernel has cached for the target (a route exception); absent when it has none.", float64(res.KernelCachedMTU))
	}
	if len(res.Findings) > 0 {
		findings := family("pmtu_check_finding",
			"With module=check: one per check of pmtu check, 1 when it found something that breaks big packets, else 0; result is found, ok, unknown or not_run.")
		broken := false
		for _, f := range res.Findings {
			sample(findings, b2f(f.Result == "found"), "check", f.Check, "result", f.Result)
			broken = broken || f.Result == "found"
		}
		gauge("pmtu_check_broken", "With module=check: 1 if any check found something that breaks big packets (pmtu check would exit 3), else 0.", b2f(broken))
	}
	if !ok {
		if res.PMTUMax > 0 {
			bound := family("pmtu_path_mtu_max_bytes",
				"When the target never answered: the upper bound on the path MTU that a router's ICMP proved, unconfirmed (pmtu_probe_success is 0), by that router.")
			sample(bound, float64(res.PMTUMax), "limiting_hop", res.PMTUMaxBy)
		}
		return fams
	}
	gauge("pmtu_path_mtu_bytes", "Path MTU to the target: the largest IP packet that crosses the path unfragmented.", float64(res.PMTU))
	gauge("pmtu_black_hole", "1 if sizes above the path MTU vanished without any ICMP (ICMP filtered on the path), else 0.", b2f(res.BlackHole))
	info := family("pmtu_path_mtu_info", "How the path MTU is known: evidence icmp or probes, and the router whose ICMP named it (\"\" if none).")
	sample(info, 1, "evidence", res.Evidence, "limiting_hop", res.LimitingHop)
	if len(res.SizeLoss) > 0 {
		loss := family("pmtu_size_loss_ratio", "With profile=1: the loss of the probes of each band of sizes up to the path MTU whose loss cannot be told apart, from size_from to size_to (IP bytes).")
		for _, b := range res.SizeLoss {
			sample(loss, b.Loss, "size_from", strconv.Itoa(b.From), "size_to", strconv.Itoa(b.To))
		}
	}
	if res.SafeMTU > 0 {
		gauge("pmtu_safe_mtu_bytes", "With profile=1: the largest size whose loss cannot be told from the baseline's; below pmtu_path_mtu_bytes when larger sizes lose more (a brownout).", float64(res.SafeMTU))
	}
	if len(res.Hops) > 0 {
		hops := family("pmtu_hop_path_mtu_bytes", "With trace=1: the path MTU up to each hop that answered, by hop limit and address.")
		for _, h := range res.Hops {
			if h.PMTU > 0 {
				sample(hops, float64(h.PMTU), "ttl", strconv.Itoa(h.TTL), "address", h.Address)
			}
		}
		if len(hops.Metric) == 0 {
			fams = fams[:len(fams)-1] // a family with no metric is not exposed
		}
	}
	return fams
}

// compareLabels orders two metrics of a family by their label values, in
// the order of the (sorted) label names, as a Registry's Gather does.
func compareLabels(x, y []*dto.LabelPair) int {
	for i := range min(len(x), len(y)) {
		if c := strings.Compare(x[i].GetValue(), y[i].GetValue()); c != 0 {
			return c
		}
	}
	return len(x) - len(y)
}

// writeFamily writes one metric family in the text format, for debug
// answers.
func writeFamily(w io.Writer, mf *dto.MetricFamily) {
	if _, err := expfmt.MetricFamilyToText(w, mf); err != nil {
		fmt.Fprintf(w, "# %s: %v\n", mf.GetName(), err)
	}
}

package exporter

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// register puts one search's metrics into a registry made for its
// request.
func register(reg *prometheus.Registry, res Result, ok bool, dur time.Duration) {
	gauge := func(name, help string, v float64) {
		g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
		g.Set(v)
		reg.MustRegister(g)
	}
	b2f := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}
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
		findings := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "pmtu_check_finding",
			Help: "With module=check: one per check of pmtu check, 1 when it found something that breaks big packets, else 0; result is found, ok, unknown or not_run."},
			[]string{"check", "result"})
		broken := false
		for _, f := range res.Findings {
			findings.WithLabelValues(f.Check, f.Result).Set(b2f(f.Result == "found"))
			broken = broken || f.Result == "found"
		}
		reg.MustRegister(findings)
		gauge("pmtu_check_broken", "With module=check: 1 if any check found something that breaks big packets (pmtu check would exit 3), else 0.", b2f(broken))
	}
	if !ok {
		if res.PMTUMax > 0 {
			bound := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "pmtu_path_mtu_max_bytes",
				Help: "When the target never answered: the upper bound on the path MTU that a router's ICMP proved, unconfirmed (pmtu_probe_success is 0), by that router."},
				[]string{"limiting_hop"})
			bound.WithLabelValues(res.PMTUMaxBy).Set(float64(res.PMTUMax))
			reg.MustRegister(bound)
		}
		return
	}
	gauge("pmtu_path_mtu_bytes", "Path MTU to the target: the largest IP packet that crosses the path unfragmented.", float64(res.PMTU))
	gauge("pmtu_black_hole", "1 if sizes above the path MTU vanished without any ICMP (ICMP filtered on the path), else 0.", b2f(res.BlackHole))
	info := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "pmtu_path_mtu_info",
		Help: "How the path MTU is known: evidence icmp or probes, and the router whose ICMP named it (\"\" if none)."},
		[]string{"evidence", "limiting_hop"})
	info.WithLabelValues(res.Evidence, res.LimitingHop).Set(1)
	reg.MustRegister(info)
	if len(res.SizeLoss) > 0 {
		loss := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "pmtu_size_loss_ratio",
			Help: "With profile=1: the loss of the probes of each band of sizes up to the path MTU whose loss cannot be told apart, from size_from to size_to (IP bytes)."},
			[]string{"size_from", "size_to"})
		for _, b := range res.SizeLoss {
			loss.WithLabelValues(strconv.Itoa(b.From), strconv.Itoa(b.To)).Set(b.Loss)
		}
		reg.MustRegister(loss)
	}
	if res.SafeMTU > 0 {
		gauge("pmtu_safe_mtu_bytes", "With profile=1: the largest size whose loss cannot be told from the baseline's; below pmtu_path_mtu_bytes when larger sizes lose more (a brownout).", float64(res.SafeMTU))
	}
	if len(res.Hops) > 0 {
		hops := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "pmtu_hop_path_mtu_bytes",
			Help: "With trace=1: the path MTU up to each hop that answered, by hop limit and address."},
			[]string{"ttl", "address"})
		for _, h := range res.Hops {
			if h.PMTU > 0 {
				hops.WithLabelValues(strconv.Itoa(h.TTL), h.Address).Set(float64(h.PMTU))
			}
		}
		reg.MustRegister(hops)
	}
}

// writeFamily writes one metric family in the text format, for debug
// answers.
func writeFamily(w io.Writer, mf *dto.MetricFamily) {
	if _, err := expfmt.MetricFamilyToText(w, mf); err != nil {
		fmt.Fprintf(w, "# %s: %v\n", mf.GetName(), err)
	}
}

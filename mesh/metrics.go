package mesh

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// The metric names, one place for the collector, the page's reader and
// the alerts' tests.
const (
	MetricPathMTU      = "pmtu_mesh_path_mtu_bytes"
	MetricLastSuccess  = "pmtu_mesh_last_success_timestamp_seconds"
	MetricInfo         = "pmtu_mesh_path_mtu_info"
	MetricInterfaceMTU = "pmtu_mesh_interface_mtu_bytes"
)

var (
	descPathMTU = prometheus.NewDesc(MetricPathMTU,
		"Path MTU from source to target: the largest IP packet the target acknowledged, measured by the source. Absent while the last search failed.",
		[]string{"source", "target"}, nil)
	descLastSuccess = prometheus.NewDesc(MetricLastSuccess,
		"When the last search from source to target that found a path MTU ended, Unix time.",
		[]string{"source", "target"}, nil)
	descInfo = prometheus.NewDesc(MetricInfo,
		"How the path MTU is known (evidence: ack = the interface MTU itself was acknowledged, icmp = a Fragmentation Needed or Packet Too Big named it, silence = larger probes vanished without ICMP), and the egress interface.",
		[]string{"source", "target", "evidence", "interface"}, nil)
	descInterfaceMTU = prometheus.NewDesc(MetricInterfaceMTU,
		"MTU of the source's egress interface toward the target: what the node believes the path carries.",
		[]string{"source", "target"}, nil)
	descPeers = prometheus.NewDesc("pmtu_mesh_peers",
		"Peers in the current peer set, this node left out.", nil, nil)
	descSearches = prometheus.NewDesc("pmtu_mesh_searches_total",
		"Path MTU searches by result (success, failure).", []string{"result"}, nil)
	descProbes = prometheus.NewDesc("pmtu_mesh_probes_sent_total",
		"Probes the searches sent.", nil, nil)
	descDropped = prometheus.NewDesc("pmtu_mesh_probes_dropped_locally_total",
		"Probes this host's own firewall refused to send (counted as lost).", nil, nil)
	descIgnored = prometheus.NewDesc("pmtu_mesh_answers_ignored_total",
		"Acknowledgements and ICMP errors not believed: forged, late, duplicate, or naming no search.", nil, nil)
	descResponder = prometheus.NewDesc("pmtu_mesh_responder_probes_total",
		"Probes that reached this node's responder, by verdict (answered, not_peer, bad_mac, rate_limited, malformed, not_probe).",
		[]string{"verdict"}, nil)
	descSignals = prometheus.NewDesc("pmtu_mesh_icmp_signals_total",
		"Fragmentation Needed and Packet Too Big that arrived outside a search, by what they did: searched (a size below the path MTU: the peer searched again at once) or ignored (nothing new, or within a tenth of an interval of the last).",
		[]string{"result"}, nil)
	descResolveErrs = prometheus.NewDesc("pmtu_mesh_peer_refresh_errors_total",
		"Peer set refreshes that failed (the previous set is kept).", nil, nil)
)

// collector reads the agent's state at each scrape: the series follow
// the peer set, and a pair whose last search failed has no path MTU.
type collector struct{ a *Agent }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descPathMTU, descLastSuccess, descInfo, descInterfaceMTU, descPeers,
		descSearches, descProbes, descDropped, descIgnored, descResponder, descSignals, descResolveErrs} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	a := c.a
	for _, m := range a.Measurements() {
		src, dst := m.Source.String(), m.Target.String()
		if !m.Source.IsValid() {
			src = ""
		}
		if m.InterfaceMTU > 0 {
			ch <- prometheus.MustNewConstMetric(descInterfaceMTU, prometheus.GaugeValue, float64(m.InterfaceMTU), src, dst)
		}
		if !m.LastSuccess.IsZero() {
			ch <- prometheus.MustNewConstMetric(descLastSuccess, prometheus.GaugeValue, float64(m.LastSuccess.UnixNano())/1e9, src, dst)
		}
		if m.PMTU > 0 {
			ch <- prometheus.MustNewConstMetric(descPathMTU, prometheus.GaugeValue, float64(m.PMTU), src, dst)
			ch <- prometheus.MustNewConstMetric(descInfo, prometheus.GaugeValue, 1, src, dst, m.Evidence, m.Interface)
		}
	}
	ch <- prometheus.MustNewConstMetric(descPeers, prometheus.GaugeValue, float64(len(a.peers.Addrs())))
	ch <- prometheus.MustNewConstMetric(descSearches, prometheus.CounterValue, float64(a.stats.searchOK.Load()), "success")
	ch <- prometheus.MustNewConstMetric(descSearches, prometheus.CounterValue, float64(a.stats.searchFail.Load()), "failure")
	ch <- prometheus.MustNewConstMetric(descProbes, prometheus.CounterValue, float64(a.stats.probes.Load()))
	ch <- prometheus.MustNewConstMetric(descDropped, prometheus.CounterValue, float64(a.stats.dropped.Load()))
	ignored := a.stats.ignored.Load()
	for _, s := range a.socks {
		ignored += s.Stats().Strays.Load()
	}
	ch <- prometheus.MustNewConstMetric(descIgnored, prometheus.CounterValue, float64(ignored))
	for v := Verdict(0); v < numVerdicts; v++ {
		ch <- prometheus.MustNewConstMetric(descResponder, prometheus.CounterValue, float64(a.resp.Count(v)), v.String())
	}
	used := a.stats.signalsUsed.Load()
	ch <- prometheus.MustNewConstMetric(descSignals, prometheus.CounterValue, float64(used), "searched")
	ch <- prometheus.MustNewConstMetric(descSignals, prometheus.CounterValue, float64(a.stats.signals.Load()-used), "ignored")
	ch <- prometheus.MustNewConstMetric(descResolveErrs, prometheus.CounterValue, float64(a.stats.resolveErrs.Load()))
}

// newHandler serves /metrics (the agent's collector, the Go runtime's
// and the process's) and the page.
func (a *Agent) newHandler() http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collector{a}, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/", a.servePage)
	return mux
}

package exporter

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/pmtu/pmtu/check"
	"github.com/pmtu/pmtu/internal/checktest"
	"github.com/pmtu/pmtu/internal/fakenet"
	"github.com/pmtu/pmtu/internal/probetest"
	"github.com/pmtu/pmtu/probe/transport"
)

// module=check (built in) asks the prober for the checks, and each
// finding is one gauge: 1 where something was found.
func TestProbeCheckModule(t *testing.T) {
	f := &fakeProber{res: Result{PMTU: 1500, Evidence: "probes", Findings: []Finding{
		{Check: "path_mtu", Result: "ok"}, {Check: "mss_clamp", Result: "found"},
		{Check: "fragments_return", Result: "unknown"}, {Check: "hop_by_hop_forward", Result: "not_run"},
	}}}
	ts := newTestServer(t, f, &Server{})
	want := `# HELP pmtu_check_broken With module=check: 1 if any check found something that breaks big packets (pmtu check would exit 3), else 0.
# TYPE pmtu_check_broken gauge
pmtu_check_broken 1
# HELP pmtu_check_finding With module=check: one per check of pmtu check, 1 when it found something that breaks big packets, else 0; result is found, ok, unknown or not_run.
# TYPE pmtu_check_finding gauge
pmtu_check_finding{check="fragments_return",result="unknown"} 0
pmtu_check_finding{check="hop_by_hop_forward",result="not_run"} 0
pmtu_check_finding{check="mss_clamp",result="found"} 1
pmtu_check_finding{check="path_mtu",result="ok"} 0
`
	if err := testutil.ScrapeAndCompare(ts.URL+"/probe?target=198.18.3.2&module=check", strings.NewReader(want),
		"pmtu_check_finding", "pmtu_check_broken"); err != nil {
		t.Error(err)
	}
	if len(f.opts) != 1 || !f.opts[0].Checks {
		t.Errorf("prober asked %+v, want Checks", f.opts)
	}
}

// A module of the configuration may run the checks too, with the SYNs'
// port; a module named check in the file replaces the built-in one.
func TestParseConfigCheck(t *testing.T) {
	c, err := ParseConfig([]byte("modules:\n  ssh:\n    check: true\n    port: 22\n  check:\n    max_size: 1400\n"))
	if err != nil {
		t.Fatal(err)
	}
	if o := c.Modules["ssh"]; !o.Checks || o.Port != 22 {
		t.Errorf("ssh module %+v", o)
	}
	r, err := ParseRequest(map[string][]string{"target": {"t"}, "module": {"check"}}, c.Modules)
	if err != nil || r.Checks || r.MaxSize != 1400 {
		t.Errorf("module check from the file: %+v, %v", r, err)
	}
}

// MeasureWith runs package check for module=check: the clamp at r2 is a
// finding.
func TestMeasureWithChecks(t *testing.T) {
	src, dst := netip.MustParseAddr("198.18.1.1"), netip.MustParseAddr("198.18.4.2")
	pp := &probetest.Path{Src: src, Dst: dst, RTT: time.Millisecond}
	cp := &checktest.Path{Src: src, Dst: dst, SynAckMSS: 1460}
	for i := range 3 {
		a := netip.MustParseAddr(fmt.Sprintf("198.18.%d.2", i+1))
		pp.Hops = append(pp.Hops, probetest.Hop{Addr: a, MTU: 1500})
		cp.Hops = append(cp.Hops, checktest.Hop{Addr: a})
	}
	cp.Hops[1].ClampMSS = 1300
	open := func(netip.Addr, *transport.OpenConfig) (check.Conn, error) { return cp.Conn(), nil }
	res, err := MeasureWith(fakenet.New(pp).Network(), open, nil)(context.Background(), dst.String(),
		Options{Checks: true, Port: 8443, Timeout: 20 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range res.Findings {
		got[f.Check] = f.Result
	}
	if res.PMTU != 1500 || got["mss_clamp"] != "found" || got["fragments_forward"] != "ok" || got["path_mtu"] != "ok" {
		t.Errorf("result %+v", res)
	}
}

// NewMeasure's searches take every probe from the shared packet budget
// (MeasureConfig.Pace): all concurrent /probe requests draw on one.
func TestNewMeasureSharedPace(t *testing.T) {
	src := netip.MustParseAddr("198.18.1.1")
	var paths []*probetest.Path
	for i := range 4 {
		dst := netip.MustParseAddr(fmt.Sprintf("198.18.2.%d", 10+i))
		paths = append(paths, &probetest.Path{Src: src, Dst: dst, RTT: time.Millisecond,
			Hops: []probetest.Hop{{Addr: netip.MustParseAddr("198.18.1.2"), MTU: 1400}, {Addr: dst, MTU: 1500}}})
	}
	var paced atomic.Int64
	prober := NewMeasure(&MeasureConfig{Net: fakenet.New(paths...).Network(), Pace: func(ctx context.Context) error {
		paced.Add(1)
		return ctx.Err()
	}})
	var wg sync.WaitGroup
	probes := make([]int, len(paths))
	for i, p := range paths {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := prober(context.Background(), p.Dst.String(), Options{Timeout: 20 * time.Millisecond}, nil)
			if err != nil || res.PMTU != 1400 {
				t.Errorf("%s: %+v, %v; want 1400", p.Dst, res, err)
			}
			probes[i] = res.Probes
		}()
	}
	wg.Wait()
	sum := 0
	for _, n := range probes {
		sum += n
	}
	if sum == 0 || paced.Load() != int64(sum) {
		t.Errorf("the shared budget paced %d probes, the searches sent %d", paced.Load(), sum)
	}
}

// probeMetrics returns the families as a Registry's Gather would: sorted
// by name, each family's metrics by label values in label-name order
// (as strings: ttl "10" before "2"), a family's labels by name.
func TestProbeMetricsOrder(t *testing.T) {
	res := Result{PMTU: 1400, Evidence: "icmp", LimitingHop: "198.18.1.2", InterfaceMTU: 1500,
		Hops:     []Hop{{TTL: 10, Address: "198.18.10.2", PMTU: 1400}, {TTL: 1, Address: "198.18.1.2", PMTU: 1500}, {TTL: 2, Address: "", PMTU: 0}, {TTL: 2, Address: "198.18.2.2", PMTU: 1400}},
		Findings: []Finding{{Check: "path_mtu", Result: "ok"}, {Check: "mss_clamp", Result: "found"}}}
	fams := probeMetrics(res, true, time.Second)
	var names []string
	for _, f := range fams {
		names = append(names, f.GetName())
		if len(f.Metric) == 0 {
			t.Errorf("%s: a family with no metric", f.GetName())
		}
	}
	if !slices.IsSorted(names) {
		t.Errorf("families %v, not sorted", names)
	}
	for _, f := range fams {
		var rows []string
		for _, m := range f.Metric {
			var row []string
			for _, l := range m.Label {
				row = append(row, l.GetName()+"="+l.GetValue())
			}
			rows = append(rows, strings.Join(row, ","))
		}
		switch f.GetName() {
		case "pmtu_hop_path_mtu_bytes":
			want := []string{"address=198.18.1.2,ttl=1", "address=198.18.10.2,ttl=10", "address=198.18.2.2,ttl=2"}
			if !slices.Equal(rows, want) {
				t.Errorf("hops %v, want %v", rows, want)
			}
		case "pmtu_check_finding":
			want := []string{"check=mss_clamp,result=found", "check=path_mtu,result=ok"}
			if !slices.Equal(rows, want) {
				t.Errorf("findings %v, want %v", rows, want)
			}
		}
	}
}

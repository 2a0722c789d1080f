package exporter

import (
	"context"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"golang.org/x/time/rate"

	"github.com/pmtu/pmtu/internal/fakenet"
	"github.com/pmtu/pmtu/internal/probetest"
)

// profile=1 exports the loss of each band and the safe size.
func TestProbeProfileMetrics(t *testing.T) {
	f := &fakeProber{res: Result{PMTU: 1500, Evidence: "probes", SafeMTU: 1436,
		SizeLoss: []SizeLoss{{From: 1180, To: 1436, Loss: 0}, {From: 1452, To: 1500, Loss: 0.031}}}}
	ts := newTestServer(t, f, &Server{})
	want := `# HELP pmtu_safe_mtu_bytes With profile=1: the largest size whose loss cannot be told from the baseline's; below pmtu_path_mtu_bytes when larger sizes lose more (a brownout).
# TYPE pmtu_safe_mtu_bytes gauge
pmtu_safe_mtu_bytes 1436
# HELP pmtu_size_loss_ratio With profile=1: the loss of the probes of each band of sizes up to the path MTU whose loss cannot be told apart, from size_from to size_to (IP bytes).
# TYPE pmtu_size_loss_ratio gauge
pmtu_size_loss_ratio{size_from="1180",size_to="1436"} 0
pmtu_size_loss_ratio{size_from="1452",size_to="1500"} 0.031
`
	if err := testutil.ScrapeAndCompare(ts.URL+"/probe?target=198.18.3.2&profile=1", strings.NewReader(want),
		"pmtu_safe_mtu_bytes", "pmtu_size_loss_ratio"); err != nil {
		t.Error(err)
	}
	if len(f.opts) != 1 || !f.opts[0].Profile {
		t.Error("profile=1 did not reach the prober")
	}
}

// Measure with Profile on a path losing 3% above 1440 bytes: the bands
// and a safe size below the path MTU.
func TestMeasureProfile(t *testing.T) {
	profileRate = float64(rate.Inf)
	t.Cleanup(func() { profileRate = 250 })
	rng := rand.New(rand.NewPCG(5, 6))
	dst := netip.MustParseAddr("198.18.2.2")
	w := fakenet.New(&probetest.Path{Src: netip.MustParseAddr("198.18.0.1"), Dst: dst, RTT: time.Millisecond,
		Hops:     []probetest.Hop{{Addr: netip.MustParseAddr("198.18.1.2"), MTU: 1500}},
		DropSize: func(size, _ int) bool { return size > 1440 && rng.Float64() < 0.03 }})
	res, err := Measure(w.Network(), nil)(context.Background(), dst.String(), Options{Proto: "icmp", Profile: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.PMTU != 1500 || res.SafeMTU < 1420 || res.SafeMTU > 1452 || len(res.SizeLoss) < 2 {
		t.Fatalf("pmtu %d, safe_mtu %d, bands %+v; want 1500, about 1440, two bands or more", res.PMTU, res.SafeMTU, res.SizeLoss)
	}
	top := res.SizeLoss[len(res.SizeLoss)-1]
	if top.To != 1500 || top.Loss < 0.01 || top.Loss > 0.08 {
		t.Errorf("top band %+v; want up to 1500, about 3%% lost", top)
	}
}

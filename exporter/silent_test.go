package exporter

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// A target that never answered behind a router that named 1500: success
// 0, no path MTU, and the proved bound with the router that proved it.
func TestProbeSilentTargetBound(t *testing.T) {
	f := &fakeProber{res: Result{InterfaceMTU: 2000, Probes: 34, Rounds: 4, PMTUMax: 1500, PMTUMaxBy: "198.18.1.2"},
		err: errors.New("path MTU ≤ 1500: 198.18.1.2 said so; 198.18.2.2 never answered, so nothing beyond 198.18.1.2 is confirmed")}
	ts := newTestServer(t, f, &Server{})
	want := `# HELP pmtu_path_mtu_max_bytes When the target never answered: the upper bound on the path MTU that a router's ICMP proved, unconfirmed (pmtu_probe_success is 0), by that router.
# TYPE pmtu_path_mtu_max_bytes gauge
pmtu_path_mtu_max_bytes{limiting_hop="198.18.1.2"} 1500
# HELP pmtu_probe_success 1 if a path MTU was found, else 0.
# TYPE pmtu_probe_success gauge
pmtu_probe_success 0
`
	if err := testutil.ScrapeAndCompare(ts.URL+"/probe?target=198.18.2.2", strings.NewReader(want),
		"pmtu_probe_success", "pmtu_path_mtu_bytes", "pmtu_path_mtu_max_bytes", "pmtu_path_mtu_info"); err != nil {
		t.Error(err)
	}
}

// A target the prober refuses as having no path MTU is bad input: 400
// with the prober's one sentence, nothing cached, no metrics.
func TestProbeTargetError400(t *testing.T) {
	const msg = "224.0.0.1 is a multicast group: it has no single path MTU; give the unicast address of one member"
	f := &fakeProber{err: &TargetError{Msg: msg}}
	ts := newTestServer(t, f, &Server{})
	for i := 0; i < 2; i++ {
		code, body := get(t, ts.URL+"/probe?target=224.0.0.1&cache=1m", nil)
		if code != http.StatusBadRequest || body != "pmtu: "+msg+"\n" {
			t.Errorf("status %d body %q, want 400 %q", code, body, "pmtu: "+msg)
		}
	}
	if f.calls != 2 {
		t.Errorf("%d prober calls for 2 requests: a refusal must not be cached as an answer", f.calls)
	}
}

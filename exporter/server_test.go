package exporter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
)

// fakeProber answers every target with res, after waiting for release
// (if set) or ctx; it records the options and the deadline it was given.
type fakeProber struct {
	res     Result
	err     error
	release chan struct{}

	mu       sync.Mutex
	calls    int
	targets  []string
	opts     []Options
	deadline time.Duration
	running  atomic.Int32
	maxRun   atomic.Int32
}

func (f *fakeProber) probe(ctx context.Context, target string, opts Options, log io.Writer) (Result, error) {
	n := f.running.Add(1)
	defer f.running.Add(-1)
	for {
		m := f.maxRun.Load()
		if n <= m || f.maxRun.CompareAndSwap(m, n) {
			break
		}
	}
	f.mu.Lock()
	f.calls++
	f.targets = append(f.targets, target)
	f.opts = append(f.opts, opts)
	if d, ok := ctx.Deadline(); ok {
		f.deadline = time.Until(d)
	}
	f.mu.Unlock()
	fmt.Fprintf(log, "fake probe of %s\n", target)
	if f.release != nil {
		select {
		case <-f.release:
		case <-ctx.Done():
			return Result{Probes: 1}, ctx.Err()
		}
	}
	return f.res, f.err
}

var chainResult = Result{PMTU: 1400, Evidence: "icmp", LimitingHop: "198.18.2.2", InterfaceMTU: 1500,
	KernelCachedMTU: 1400, Probes: 2, Rounds: 2, Ignored: 1}

func newTestServer(t *testing.T, f *fakeProber, s *Server) *httptest.Server {
	t.Helper()
	s.Prober = f.probe
	fixed := time.Date(2026, 11, 27, 12, 3, 7, 0, time.UTC)
	s.Now = func() time.Time { return fixed }
	if s.Resolve == nil {
		s.Resolve = func(_ context.Context, network, host string) ([]netip.Addr, error) {
			switch host {
			case "t4.test":
				return []netip.Addr{netip.MustParseAddr("198.18.3.2")}, nil
			case "outside.test":
				return []netip.Addr{netip.MustParseAddr("192.0.2.1")}, nil
			}
			return nil, errors.New("no such host")
		}
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts
}

func get(t *testing.T, url string, header map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestProbeMetrics(t *testing.T) {
	f := &fakeProber{res: chainResult}
	ts := newTestServer(t, f, &Server{})
	code, body := get(t, ts.URL+"/probe?target=198.18.3.2", nil)
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	want := `# HELP pmtu_black_hole 1 if sizes above the path MTU vanished without any ICMP (ICMP filtered on the path), else 0.
# TYPE pmtu_black_hole gauge
pmtu_black_hole 0
# HELP pmtu_icmp_ignored ICMP messages received and not believed (forged, foreign, late).
# TYPE pmtu_icmp_ignored gauge
pmtu_icmp_ignored 1
# HELP pmtu_interface_mtu_bytes MTU of the egress interface toward the target.
# TYPE pmtu_interface_mtu_bytes gauge
pmtu_interface_mtu_bytes 1500
# HELP pmtu_kernel_cached_mtu_bytes Path MTU the kernel has cached for the target (a route exception); absent when it has none.
# TYPE pmtu_kernel_cached_mtu_bytes gauge
pmtu_kernel_cached_mtu_bytes 1400
# HELP pmtu_path_mtu_bytes Path MTU to the target: the largest IP packet that crosses the path unfragmented.
# TYPE pmtu_path_mtu_bytes gauge
pmtu_path_mtu_bytes 1400
# HELP pmtu_path_mtu_info How the path MTU is known: evidence icmp or probes, and the router whose ICMP named it ("" if none).
# TYPE pmtu_path_mtu_info gauge
pmtu_path_mtu_info{evidence="icmp",limiting_hop="198.18.2.2"} 1
# HELP pmtu_probe_success 1 if a path MTU was found, else 0.
# TYPE pmtu_probe_success gauge
pmtu_probe_success 1
# HELP pmtu_probes_sent Probe packets the search sent.
# TYPE pmtu_probes_sent gauge
pmtu_probes_sent 2
# HELP pmtu_round_trips Round trips the search took; probes sent together count once.
# TYPE pmtu_round_trips gauge
pmtu_round_trips 2
`
	names := []string{"pmtu_black_hole", "pmtu_icmp_ignored", "pmtu_interface_mtu_bytes", "pmtu_kernel_cached_mtu_bytes",
		"pmtu_path_mtu_bytes", "pmtu_path_mtu_info", "pmtu_probe_success", "pmtu_probes_sent", "pmtu_round_trips"}
	if err := testutil.ScrapeAndCompare(ts.URL+"/probe?target=198.18.3.2", strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
	if !strings.Contains(body, "pmtu_probe_duration_seconds ") {
		t.Errorf("no pmtu_probe_duration_seconds in\n%s", body)
	}
	// The Prometheus naming rules, as promtool check metrics applies them.
	problems, err := promlint.New(strings.NewReader(body)).Lint()
	if err != nil || len(problems) > 0 {
		t.Errorf("promlint: %v %v", err, problems)
	}
}

// A failed search: success 0, what is known, and no path MTU.
func TestProbeFailure(t *testing.T) {
	f := &fakeProber{res: Result{InterfaceMTU: 1500, Probes: 9, Rounds: 3}, err: errors.New("no reply at any size")}
	ts := newTestServer(t, f, &Server{})
	want := `# HELP pmtu_probe_success 1 if a path MTU was found, else 0.
# TYPE pmtu_probe_success gauge
pmtu_probe_success 0
# HELP pmtu_probes_sent Probe packets the search sent.
# TYPE pmtu_probes_sent gauge
pmtu_probes_sent 9
`
	if err := testutil.ScrapeAndCompare(ts.URL+"/probe?target=198.18.3.2", strings.NewReader(want),
		"pmtu_probe_success", "pmtu_probes_sent", "pmtu_path_mtu_bytes", "pmtu_path_mtu_info", "pmtu_black_hole"); err != nil {
		t.Error(err)
	}
}

func TestProbeTraceHops(t *testing.T) {
	res := chainResult
	res.Hops = []Hop{{1, "198.18.1.2", 1500}, {2, "", 0}, {3, "198.18.3.2", 1400}}
	f := &fakeProber{res: res}
	ts := newTestServer(t, f, &Server{})
	want := `# HELP pmtu_hop_path_mtu_bytes With trace=1: the path MTU up to each hop that answered, by hop limit and address.
# TYPE pmtu_hop_path_mtu_bytes gauge
pmtu_hop_path_mtu_bytes{address="198.18.1.2",ttl="1"} 1500
pmtu_hop_path_mtu_bytes{address="198.18.3.2",ttl="3"} 1400
`
	if err := testutil.ScrapeAndCompare(ts.URL+"/probe?target=198.18.3.2&trace=1", strings.NewReader(want), "pmtu_hop_path_mtu_bytes"); err != nil {
		t.Error(err)
	}
	if !f.opts[0].Trace {
		t.Error("trace=1 did not reach the prober")
	}
}

// The parameters and the module reach the prober; a name is resolved
// and the address is what is probed.
func TestProbeOptionsReachProber(t *testing.T) {
	f := &fakeProber{res: chainResult}
	ts := newTestServer(t, f, &Server{Modules: map[string]Options{"jumbo": {MaxSize: 9000, Tries: 5}}})
	code, body := get(t, ts.URL+"/probe?target=t4.test&module=jumbo&tries=2&proto=udp&port=53", nil)
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	want := Options{MaxSize: 9000, Tries: 2, Proto: "udp", Port: 53}
	if f.opts[0] != want {
		t.Errorf("prober got %+v, want %+v", f.opts[0], want)
	}
	if f.targets[0] != "198.18.3.2" {
		t.Errorf("prober probed %q, want the resolved 198.18.3.2", f.targets[0])
	}
}

func TestBadParams400(t *testing.T) {
	f := &fakeProber{res: chainResult}
	ts := newTestServer(t, f, &Server{Modules: map[string]Options{"jumbo": {MaxSize: 9000}}})
	for _, tt := range badParams {
		t.Run(tt.name, func(t *testing.T) {
			code, body := get(t, ts.URL+"/probe?"+tt.query, nil)
			if code != http.StatusBadRequest {
				t.Errorf("status %d, want 400", code)
			}
			lines := strings.Split(strings.TrimSuffix(body, "\n"), "\n")
			if len(lines) != 1 || !strings.HasPrefix(lines[0], "pmtu: parameter "+tt.param) {
				t.Errorf("body %q, want one line naming parameter %s", body, tt.param)
			}
		})
	}
	for _, q := range []struct{ query, param string }{
		{"target=198.18.3.2&family=ip6", "family"},
		{"target=2001:db8::1&family=ip4", "family"},
		{"target=fe80::1%25eth0", "target"},
	} {
		code, body := get(t, ts.URL+"/probe?"+q.query, nil)
		if code != http.StatusBadRequest || strings.Count(body, "\n") != 1 || !strings.HasPrefix(body, "pmtu: parameter "+q.param) {
			t.Errorf("%s: status %d body %q, want 400 naming %s", q.query, code, body, q.param)
		}
	}
	t.Run("bad scrape timeout header", func(t *testing.T) {
		code, body := get(t, ts.URL+"/probe?target=198.18.3.2", map[string]string{"X-Prometheus-Scrape-Timeout-Seconds": "soon"})
		if code != http.StatusBadRequest || !strings.Contains(body, "X-Prometheus-Scrape-Timeout-Seconds") {
			t.Errorf("status %d body %q, want 400 naming the header", code, body)
		}
	})
	if f.calls != 0 {
		t.Errorf("bad requests ran %d searches", f.calls)
	}
}

func TestAllow403(t *testing.T) {
	f := &fakeProber{res: chainResult}
	ts := newTestServer(t, f, &Server{Allow: []netip.Prefix{netip.MustParsePrefix("198.18.0.0/15"), netip.MustParsePrefix("2001:db8::/32")}})
	tests := []struct {
		target string
		code   int
	}{
		{"198.18.3.2", 200},
		{"t4.test", 200},
		{"2001:db8::1", 200},
		{"192.0.2.1", 403},
		{"outside.test", 403}, // the name is checked by its address
		{"10.0.0.1", 403},
		{"::ffff:10.0.0.1", 403},
		{"2001:db9::1", 403},
	}
	for _, tt := range tests {
		code, body := get(t, ts.URL+"/probe?target="+tt.target, nil)
		if code != tt.code {
			t.Errorf("target %s: status %d, want %d (%s)", tt.target, code, tt.code, body)
		}
		if tt.code == 403 && strings.Count(body, "\n") != 1 {
			t.Errorf("target %s: body %q, want one line", tt.target, body)
		}
	}
	if f.calls != 3 {
		t.Errorf("%d searches ran, want 3 (only the allowed)", f.calls)
	}
}

// A name that does not resolve is a failed probe, not a bad request:
// Prometheus records pmtu_probe_success 0, and nothing is probed.
func TestUnresolvedTargetFails(t *testing.T) {
	f := &fakeProber{res: chainResult}
	ts := newTestServer(t, f, &Server{Allow: []netip.Prefix{netip.MustParsePrefix("198.18.0.0/15")}})
	want := `# HELP pmtu_probe_success 1 if a path MTU was found, else 0.
# TYPE pmtu_probe_success gauge
pmtu_probe_success 0
`
	if err := testutil.ScrapeAndCompare(ts.URL+"/probe?target=unknown.test", strings.NewReader(want), "pmtu_probe_success", "pmtu_path_mtu_bytes"); err != nil {
		t.Error(err)
	}
	_, body := get(t, ts.URL+"/probe?target=unknown.test&debug=true", nil)
	if !strings.Contains(body, "unknown.test does not resolve") {
		t.Errorf("debug log does not say the name did not resolve:\n%s", body)
	}
	if f.calls != 0 {
		t.Errorf("%d searches ran for a name that does not resolve", f.calls)
	}
}

// 500 requests at once against a cap of 4: four searches run, the rest
// are answered 503 at once, the prober never sees more than 4, and the
// heap does not grow with the requests turned away.
func TestConcurrencyCap503(t *testing.T) {
	f := &fakeProber{res: chainResult, release: make(chan struct{})}
	ts := newTestServer(t, f, &Server{MaxConcurrent: 4})
	tr := &http.Transport{MaxConnsPerHost: 0, MaxIdleConnsPerHost: 500}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}

	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	const n = 500
	codes := make(chan int, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			resp, err := client.Get(ts.URL + "/probe?target=198.18.3.2")
			if err != nil {
				codes <- -1
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			codes <- resp.StatusCode
		})
	}
	// Wait until the 496 turned away have their answer, then let the
	// four through.
	count := map[int]int{}
	for range n - 4 {
		count[<-codes]++
	}
	var during runtime.MemStats
	runtime.ReadMemStats(&during)
	close(f.release)
	wg.Wait()
	close(codes)
	for c := range codes {
		count[c]++
	}
	if count[200] != 4 || count[503] != n-4 {
		t.Errorf("answers %v, want 4×200 and %d×503", count, n-4)
	}
	if m := f.maxRun.Load(); m > 4 {
		t.Errorf("%d searches ran at once, cap 4", m)
	}
	// Memory: the heap in use while 500 requests were in the air, less
	// the client's own goroutines and buffers, stays small. 500 requests
	// and their connections cost a few MB on both sides of this test;
	// a leak per request (a buffered log, a registry) would show here.
	grew := int64(during.HeapInuse) - int64(before.HeapInuse)
	if grew > 64<<20 {
		t.Errorf("heap grew %d MB under 500 requests, want < 64 MB", grew>>20)
	}
	t.Logf("heap in use grew %.1f MB under %d concurrent requests", float64(grew)/(1<<20), n)
	code, body := get(t, ts.URL+"/metrics", nil)
	if code != 200 || !strings.Contains(body, fmt.Sprintf(`pmtu_exporter_searches_total{result="overloaded"} %d`, n-4)) ||
		!strings.Contains(body, `pmtu_exporter_searches_total{result="success"} 4`) {
		t.Errorf("/metrics does not count 4 successes and %d overloaded:\n%s", n-4, grepLines(body, "pmtu_exporter"))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestDeadlineFromScrapeTimeout(t *testing.T) {
	tests := []struct {
		header string
		margin time.Duration
		want   time.Duration
	}{
		{"", 0, DefaultScrapeTimeout - 500*time.Millisecond},
		{"4", 0, 3500 * time.Millisecond},
		{"1", 0, 500 * time.Millisecond},
		{"2.5", time.Second, 1500 * time.Millisecond},
		{"1", 2 * time.Second, 500 * time.Millisecond}, // never less than half
	}
	for _, tt := range tests {
		s := &Server{Margin: tt.margin}
		s.init()
		h := http.Header{}
		if tt.header != "" {
			h.Set("X-Prometheus-Scrape-Timeout-Seconds", tt.header)
		}
		got, err := s.deadline(h)
		if err != nil || got != tt.want {
			t.Errorf("header %q margin %v: %v, %v; want %v", tt.header, tt.margin, got, err, tt.want)
		}
	}
	// And the prober's context carries it.
	f := &fakeProber{res: chainResult}
	ts := newTestServer(t, f, &Server{})
	get(t, ts.URL+"/probe?target=198.18.3.2", map[string]string{"X-Prometheus-Scrape-Timeout-Seconds": "3"})
	if f.deadline <= 2*time.Second || f.deadline > 2500*time.Millisecond {
		t.Errorf("prober's deadline %v away, want about 2.5s", f.deadline)
	}
}

// Each scrape measures afresh; cache=D answers from a result at most D
// old.
func TestFreshUnlessCacheAsked(t *testing.T) {
	f := &fakeProber{res: chainResult}
	ts := newTestServer(t, f, &Server{})
	for range 3 {
		get(t, ts.URL+"/probe?target=198.18.3.2", nil)
	}
	if f.calls != 3 {
		t.Errorf("3 scrapes ran %d searches, want 3", f.calls)
	}
	code, body := get(t, ts.URL+"/probe?target=198.18.3.2&cache=1m", nil)
	if code != 200 || f.calls != 3 || !strings.Contains(body, "pmtu_path_mtu_bytes 1400") {
		t.Errorf("cache=1m: status %d, %d searches (want 3), body\n%s", code, f.calls, body)
	}
	get(t, ts.URL+"/probe?target=198.18.3.2&cache=1m&max_size=1500", nil)
	if f.calls != 4 {
		t.Errorf("cache=1m with other options: %d searches, want 4 (not the same search)", f.calls)
	}
}

func TestDebugAndIndex(t *testing.T) {
	f := &fakeProber{res: chainResult}
	ts := newTestServer(t, f, &Server{})
	code, body := get(t, ts.URL+"/probe?target=t4.test&debug=true&max_size=1500", nil)
	if code != 200 || !strings.Contains(body, "fake probe of 198.18.3.2") || !strings.Contains(body, "pmtu_path_mtu_bytes 1400") ||
		!strings.Contains(body, "path MTU 1400 (evidence icmp)") {
		t.Errorf("debug=true: status %d, want the log and the metrics:\n%s", code, body)
	}
	get(t, ts.URL+"/probe?target=198.18.3.2&trace=1", nil)
	code, page := get(t, ts.URL+"/", nil)
	if code != 200 {
		t.Fatalf("/: status %d", code)
	}
	for _, want := range []string{"t4.test (198.18.3.2)", "max_size=1500", "path MTU 1400", "fake probe of 198.18.3.2", "trace=1"} {
		if !strings.Contains(page, want) {
			t.Errorf("/ lacks %q:\n%s", want, page)
		}
	}
	if strings.Index(page, "trace=1") > strings.Index(page, "max_size=1500") {
		t.Error("/ does not list the newest probe first")
	}
	if code, _ := get(t, ts.URL+"/nothing", nil); code != 404 {
		t.Errorf("/nothing: status %d, want 404", code)
	}
}

func TestHistoryBounded(t *testing.T) {
	h := newHistory(3)
	for i := range 10 {
		h.add(entry{Target: fmt.Sprint(i)})
	}
	got := h.newestFirst()
	if len(got) != 3 || got[0].Target != "9" || got[2].Target != "7" || got[0].ID != 9 {
		t.Errorf("history %+v, want 9, 8, 7", got)
	}
}

// Serve ends cleanly when its context is cancelled: a search in flight is
// cancelled and answered, the listener is closed, Serve returns nil.
func TestServeShutdown(t *testing.T) {
	f := &fakeProber{res: chainResult, release: make(chan struct{})}
	s := &Server{Prober: f.probe}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln, 5*time.Second) }()

	url := "http://" + ln.Addr().String()
	answered := make(chan string, 1)
	go func() {
		resp, err := http.Get(url + "/probe?target=198.18.3.2")
		if err != nil {
			answered <- "error: " + err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		answered <- string(b)
	}()
	for f.running.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve: %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return within 5 s of the cancel")
	}
	body := <-answered
	if !strings.Contains(body, "pmtu_probe_success 0") {
		t.Errorf("the search in flight was answered %q, want pmtu_probe_success 0", body)
	}
	if c, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		c.Close()
		t.Error("still listening after shutdown")
	}
}

func TestResultCacheBounded(t *testing.T) {
	c := newResultCache(3)
	for i := range 10 {
		c.put(cacheKey{addr: netip.AddrFrom4([4]byte{198, 18, 0, byte(i)})}, cacheEntry{at: time.Unix(int64(i), 0)})
	}
	if len(c.m) != 3 {
		t.Fatalf("%d entries, want 3", len(c.m))
	}
	now := time.Unix(10, 0)
	for i := range 10 {
		_, ok := c.get(cacheKey{addr: netip.AddrFrom4([4]byte{198, 18, 0, byte(i)})}, now, time.Hour)
		if want := i >= 7; ok != want {
			t.Errorf("entry %d kept %v, want %v (the newest 3 stay)", i, ok, want)
		}
	}
	if _, ok := c.get(cacheKey{addr: netip.AddrFrom4([4]byte{198, 18, 0, 9})}, now, 500*time.Millisecond); ok {
		t.Error("an entry 1 s old answered for cache=500ms")
	}
}

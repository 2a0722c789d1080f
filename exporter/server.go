package exporter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
)

// Result is what one search found, in the terms the metrics need.
type Result struct {
	// PMTU is the path MTU in bytes; 0 when none was found.
	PMTU int
	// Evidence is how it is known: "icmp" (a router's ICMP named it) or
	// "probes" (replies alone proved it).
	Evidence string
	// LimitingHop is the router whose ICMP named PMTU; "" if none did.
	LimitingHop string
	// BlackHole: sizes above PMTU vanished without any ICMP.
	BlackHole bool
	// InterfaceMTU is the egress interface's MTU; 0 if unknown.
	InterfaceMTU int
	// KernelCachedMTU is the path MTU the kernel holds for the target
	// (a route exception learned from an ICMP); 0 when it holds none.
	KernelCachedMTU int
	Probes          int // probe packets sent
	Rounds          int // round trips; probes sent together count once
	Ignored         int // ICMP received and not believed
	// Hops, with Options.Trace, is the path MTU up to each hop that
	// answered.
	Hops []Hop
	// PMTUMax, when the target never answered (the search failed), is
	// the upper bound on the path MTU that a router's ICMP proved,
	// unconfirmed; PMTUMaxBy that router. 0 when nothing was proved.
	PMTUMax   int
	PMTUMaxBy string
	// Findings, with Options.Checks, are pmtu check's findings.
	Findings []Finding
	// SizeLoss, with Options.Profile, is the loss of each band of sizes
	// up to the path MTU (pmtu profile's bands); SafeMTU the largest
	// size whose loss cannot be told from the baseline (0: not
	// measured).
	SizeLoss []SizeLoss
	SafeMTU  int
}

// Finding is one check of pmtu check and its result: "found", "ok",
// "unknown" or "not_run" (package check).
type Finding struct {
	Check  string
	Result string
}

// SizeLoss is the loss of the probes of sizes From to To (IP bytes).
type SizeLoss struct {
	From, To int
	Loss     float64
}

// TargetError is a Prober's answer for a target that can have no path
// MTU (unspecified, broadcast, multicast, link-local without a zone): bad
// input, answered 400 with Msg, one sentence for the user.
type TargetError struct{ Msg string }

func (e *TargetError) Error() string { return e.Msg }

// Hop is the path MTU up to one hop of a trace.
type Hop struct {
	TTL     int
	Address string
	PMTU    int
}

// Prober runs one search toward target (an IP address: the Server
// resolves names itself, so the address checked against Allow is the
// one probed) and writes what it does, line by line, to log. It returns
// an error when no path MTU came out; the Result then says what is known
// (probes sent, interface MTU). It must return soon after ctx is done.
type Prober func(ctx context.Context, target string, opts Options, log io.Writer) (Result, error)

// Server answers /probe, /metrics and /. Set its fields, then call
// Handler or Serve; do not change them after.
type Server struct {
	// Prober runs the searches. Required.
	Prober Prober
	// Modules are the named defaults of the module parameter.
	Modules map[string]Options
	// Allow, when not empty, lists the prefixes targets may be in; a
	// target outside every one is answered 403.
	Allow []netip.Prefix
	// MaxConcurrent caps the searches running at once; past it /probe
	// answers 503. 0 means 16.
	MaxConcurrent int
	// Margin is taken off Prometheus's scrape timeout to leave time for
	// the answer; 0 means 500 ms.
	Margin time.Duration
	// History is how many recent probes / lists with their logs; 0
	// means 100.
	History int
	// Resolve looks up a target name; nil means net.DefaultResolver's
	// LookupNetIP. network is "ip", "ip4" or "ip6".
	Resolve func(ctx context.Context, network, host string) ([]netip.Addr, error)
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	once     sync.Once
	slots    chan struct{}
	own      *prometheus.Registry
	inFlight prometheus.Gauge
	searches *prometheus.CounterVec
	hist     *history
	cache    *resultCache
	handler  http.Handler
}

// Answers counted in pmtu_exporter_searches_total{result}.
const (
	resultSuccess    = "success"     // a path MTU was found
	resultFailure    = "failure"     // the search ended without one
	resultCached     = "cached"      // answered from the cache parameter
	resultBadRequest = "bad_request" // 400
	resultForbidden  = "forbidden"   // 403: outside Allow
	resultOverloaded = "overloaded"  // 503: past MaxConcurrent
)

// DefaultScrapeTimeout is the deadline when a request has no
// X-Prometheus-Scrape-Timeout-Seconds header: Prometheus's default.
const DefaultScrapeTimeout = 10 * time.Second

func (s *Server) init() {
	s.once.Do(func() {
		n := s.MaxConcurrent
		if n <= 0 {
			n = 16
		}
		s.slots = make(chan struct{}, n)
		if s.Margin <= 0 {
			s.Margin = 500 * time.Millisecond
		}
		if s.History <= 0 {
			s.History = 100
		}
		if s.Now == nil {
			s.Now = time.Now
		}
		if s.Resolve == nil {
			s.Resolve = net.DefaultResolver.LookupNetIP
		}
		s.hist = newHistory(s.History)
		s.cache = newResultCache(1024)
		s.own = prometheus.NewRegistry()
		s.inFlight = prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "pmtu_exporter_probes_in_flight", Help: "Searches running now."})
		s.searches = prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pmtu_exporter_searches_total",
			Help: "Probe requests answered, by result: success, failure, cached, bad_request, forbidden, overloaded."},
			[]string{"result"})
		for _, r := range []string{resultSuccess, resultFailure, resultCached, resultBadRequest, resultForbidden, resultOverloaded} {
			s.searches.WithLabelValues(r)
		}
		s.own.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
			s.inFlight, s.searches)
		mux := http.NewServeMux()
		mux.HandleFunc("/probe", s.probe)
		mux.Handle("/metrics", promhttp.HandlerFor(s.own, promhttp.HandlerOpts{}))
		mux.HandleFunc("/{$}", s.index)
		s.handler = mux
	})
}

// Handler is the exporter's HTTP handler.
func (s *Server) Handler() http.Handler {
	s.init()
	return s.handler
}

// Serve answers on ln until ctx is done, then shuts down: it stops
// listening, cancels the searches running and waits up to grace for their
// answers to go out. It returns nil after a clean shutdown.
func (s *Server) Serve(ctx context.Context, ln net.Listener, grace time.Duration) error {
	base, cancel := context.WithCancel(context.Background())
	defer cancel()
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return base },
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	cancel() // the searches end, and their handlers answer
	sctx, stop := context.WithTimeout(context.Background(), grace)
	defer stop()
	err := hs.Shutdown(sctx)
	if e := <-errc; !errors.Is(e, http.ErrServerClosed) && err == nil {
		err = e
	}
	return err
}

// fail answers a request that does not get a search: one line.
func (s *Server) fail(w http.ResponseWriter, code int, result, msg string) {
	s.searches.WithLabelValues(result).Inc()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	fmt.Fprintln(w, "pmtu: "+msg)
}

func (s *Server) probe(w http.ResponseWriter, r *http.Request) {
	s.init()
	req, err := ParseRequest(r.URL.Query(), s.Modules)
	if err != nil {
		s.fail(w, http.StatusBadRequest, resultBadRequest, err.Error())
		return
	}
	timeout, err := s.deadline(r.Header)
	if err != nil {
		s.fail(w, http.StatusBadRequest, resultBadRequest, err.Error())
		return
	}
	// A slot before any work, so that past the cap nothing is resolved,
	// allocated or sent.
	select {
	case s.slots <- struct{}{}:
	default:
		s.fail(w, http.StatusServiceUnavailable, resultOverloaded,
			fmt.Sprintf("%d searches are running, the most --max-concurrent allows; try again later", cap(s.slots)))
		return
	}
	defer func() { <-s.slots }()

	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	start := s.Now()
	addr, rerr := s.resolve(ctx, req)
	var pe *ParamError
	switch {
	case errors.As(rerr, &pe):
		s.fail(w, http.StatusBadRequest, resultBadRequest, rerr.Error())
		return
	case rerr == nil && !s.allowed(addr):
		s.fail(w, http.StatusForbidden, resultForbidden,
			fmt.Sprintf("target %s (%s) is outside --allow %s", req.Target, addr, prefixes(s.Allow)))
		return
	}

	key := cacheKey{addr: addr, opts: req.Options}
	var (
		res    Result
		perr   error
		log    string
		cached bool
		dur    time.Duration
	)
	if rerr == nil && req.MaxAge > 0 {
		if e, ok := s.cache.get(key, start, req.MaxAge); ok {
			res, perr, cached = e.res, e.err, true
			log = fmt.Sprintf("answered from the search of %s (cache=%s); its log is on / under that time\n", e.at.Format(time.RFC3339), req.MaxAge)
		}
	}
	switch {
	case rerr != nil:
		// A name that does not resolve is a failed probe, as it is for
		// blackbox_exporter: Prometheus records it and no packet goes out.
		perr = rerr
		log = fmt.Sprintf("searching %s%s: %v\n", req.Target, describe(req), rerr)
	case !cached:
		s.inFlight.Inc()
		lw := &logWriter{max: maxLog}
		fmt.Fprintf(lw, "searching %s (%s)%s, deadline %s\n", req.Target, addr, describe(req), timeout.Round(time.Millisecond))
		res, perr = s.Prober(ctx, addr.String(), req.Options, lw)
		s.inFlight.Dec()
		var te *TargetError
		if errors.As(perr, &te) {
			s.fail(w, http.StatusBadRequest, resultBadRequest, te.Msg)
			return
		}
		dur = s.Now().Sub(start)
		if perr != nil {
			fmt.Fprintf(lw, "search failed after %s: %v\n", dur.Round(time.Microsecond), perr)
		} else {
			fmt.Fprintf(lw, "path MTU %d (evidence %s) after %s\n", res.PMTU, res.Evidence, dur.Round(time.Microsecond))
		}
		log = lw.String()
		s.cache.put(key, cacheEntry{res: res, err: perr, at: start, dur: dur})
	}
	result := resultSuccess
	switch {
	case cached:
		result = resultCached
	case perr != nil:
		result = resultFailure
	}
	s.searches.WithLabelValues(result).Inc()
	shown := req.Target
	if addr.IsValid() {
		shown = addr.String()
	}
	s.hist.add(entry{Time: start, Target: req.Target, Addr: shown, Params: describe(req),
		Success: perr == nil, PMTU: res.PMTU, Duration: dur, Log: log})

	fams := probeMetrics(res, perr == nil, dur)
	if req.Debug {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "Logs for the probe:\n%s\nMetrics that would have been returned:\n", log)
		for _, mf := range fams {
			writeFamily(w, mf)
		}
		return
	}
	// Uncompressed: a probe's answer is a few hundred bytes, and gzip
	// resets a writer of several hundred kilobytes for each one, a tenth
	// of a search's CPU time (scripts/bench.sh serve, profiled).
	gather := prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) { return fams, nil })
	promhttp.HandlerFor(gather, promhttp.HandlerOpts{DisableCompression: true}).ServeHTTP(w, r)
}

// deadline is how long the search may take: the scrape timeout
// Prometheus sends, minus the margin.
func (s *Server) deadline(h http.Header) (time.Duration, error) {
	t := DefaultScrapeTimeout
	if v := h.Get("X-Prometheus-Scrape-Timeout-Seconds"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 || f > 3600 {
			return 0, fmt.Errorf("header X-Prometheus-Scrape-Timeout-Seconds %q: want seconds, e.g. 10", v)
		}
		t = time.Duration(f * float64(time.Second))
	}
	d := t - s.Margin
	if d < t/2 {
		// A margin larger than half the scrape would leave the search
		// nothing: keep half.
		d = t / 2
	}
	return d, nil
}

// resolve turns the target into the one address that will be probed.
func (s *Server) resolve(ctx context.Context, req Request) (netip.Addr, error) {
	if a, err := netip.ParseAddr(strings.Trim(req.Target, "[]")); err == nil {
		a = a.Unmap()
		if a.Zone() != "" {
			return netip.Addr{}, &ParamError{Param: "target", Value: req.Target, Why: "zoned addresses are not probed"}
		}
		if (req.Family == "ip4" && !a.Is4()) || (req.Family == "ip6" && !a.Is6()) {
			return netip.Addr{}, &ParamError{Param: "family", Value: req.Family, Why: "the target " + req.Target + " is of the other family"}
		}
		return a, nil
	}
	network := req.Family
	if network == "" {
		network = "ip"
	}
	addrs, err := s.Resolve(ctx, network, req.Target)
	if err != nil || len(addrs) == 0 {
		return netip.Addr{}, fmt.Errorf("target %s does not resolve (%s)", req.Target, network)
	}
	return addrs[0].Unmap(), nil
}

func (s *Server) allowed(a netip.Addr) bool {
	if len(s.Allow) == 0 {
		return true
	}
	for _, p := range s.Allow {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func prefixes(ps []netip.Prefix) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ",")
}

// describe is the request's parameters other than the target, for logs.
func describe(r Request) string {
	q := r.Options.Query()
	if r.Module != "" {
		q.Set("module", r.Module)
	}
	if len(q) == 0 {
		return ""
	}
	return " with " + q.Encode()
}

// maxLog bounds one probe's log, so the history's memory is bounded.
const maxLog = 64 << 10

// logWriter is a probe's log: safe for concurrent writes, cut at max
// bytes.
type logWriter struct {
	mu  sync.Mutex
	b   strings.Builder
	max int
	cut bool
}

func (l *logWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len()+len(p) > l.max {
		if !l.cut {
			l.cut = true
			l.b.WriteString("... (log cut here)\n")
		}
		return len(p), nil
	}
	l.b.Write(p)
	return len(p), nil
}

func (l *logWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

package mesh

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/pmtu/pmtu/internal/nstest"
	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/netns"
	"github.com/pmtu/pmtu/probe/search"
	"github.com/pmtu/pmtu/probe/transport"
	"github.com/pmtu/pmtu/route"
)

const testPort = 40151

// loopbackNamespace: a namespace of the test's own, lo up at MTU 1500.
func loopbackNamespace(t *testing.T) func(func() error) error {
	t.Helper()
	path := nstest.NewLoopback(t, 1500)
	return func(fn func() error) error { return netns.Do(path, fn) }
}

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

// testAgent runs an agent on self (127.0.0.x) in the namespace, its
// routes all on lo at 1500, its pages read from the other test agents'
// handlers.
type testAgent struct {
	*Agent
	self netip.Addr
}

func startAgent(t *testing.T, enter func(func() error) error, self netip.Addr, peers string, key []byte, handlers map[netip.Addr]http.Handler) *testAgent {
	t.Helper()
	spec, err := ParseSpec(peers)
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(Options{
		Peers:    spec,
		Interval: 400 * time.Millisecond,
		Wait:     150 * time.Millisecond,
		Key:      key,
		Local:    func(x netip.Addr) bool { return x == self },
		Route: func(_ context.Context, dst netip.Addr) (route.Route, error) {
			return route.Route{Dst: dst, Src: self, IfName: "lo", IfMTU: 1500}, nil
		},
		Fetch: func(_ context.Context, url string) ([]byte, error) {
			for ad, h := range handlers {
				if strings.Contains(url, "//"+ad.String()+":") {
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
					return rec.Body.Bytes(), nil
				}
			}
			return nil, errors.New("connection refused")
		},
		Enter: enter,
	})
	if err != nil {
		t.Fatal(err)
	}
	handlers[self] = a.Handler()
	var ln net.Listener
	if err := enter(func() error {
		var err error
		ln, err = net.Listen("tcp", netip.AddrPortFrom(self, testPort).String())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return &testAgent{a, self}
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("after 10 s: %s", what)
}

// TestAgents: three agents on one loopback measure all six ordered
// pairs at 1500 with their responders; the metrics say so with
// client_golang's testutil; the page shows the 3×3 matrix from the
// three rows; a node outside a peer set and a node with the wrong key get
// no answer, and their probes are counted as such.
func TestAgents(t *testing.T) {
	enter := loopbackNamespace(t)
	key := []byte("mesh key")
	list := "127.0.0.1,127.0.0.2,127.0.0.3"
	handlers := map[netip.Addr]http.Handler{}
	a := startAgent(t, enter, addr("127.0.0.1"), list, key, handlers)
	b := startAgent(t, enter, addr("127.0.0.2"), list+",127.0.0.4", key, handlers)
	c := startAgent(t, enter, addr("127.0.0.3"), list, key, handlers)
	// 127.0.0.4 is in b's set only, with the wrong key; 127.0.0.5 in
	// nobody's, with the right one.
	d := startAgent(t, enter, addr("127.0.0.4"), list, []byte("wrong key"), handlers)
	e := startAgent(t, enter, addr("127.0.0.5"), list, key, handlers)

	for _, ag := range []*testAgent{a, b, c} {
		waitFor(t, ag.self.String()+" measures both peers at 1500", func() bool {
			n := 0
			for _, m := range ag.Measurements() {
				if m.PMTU == 1500 && m.Evidence == EvidenceAck && m.Source == ag.self {
					n++
				}
			}
			return n == 2
		})
	}
	// The page's columns come from the rows' series: b's failed search
	// toward 127.0.0.4 must have ended for that column to exist.
	waitFor(t, "b's search toward d ends", func() bool {
		for _, m := range b.Measurements() {
			if m.Target == addr("127.0.0.4") && !m.At.IsZero() {
				return true
			}
		}
		return false
	})
	waitFor(t, "b's responder refuses d's bad MAC, a's refuses the stranger e", func() bool {
		return b.resp.Count(BadMAC) > 0 && a.resp.Count(NotPeer) > 0
	})
	for _, m := range d.Measurements() {
		if m.PMTU != 0 {
			t.Errorf("d, with the wrong key, measured %s at %d: believed an acknowledgement it cannot verify", m.Target, m.PMTU)
		}
	}
	for _, m := range e.Measurements() {
		if m.PMTU != 0 {
			t.Errorf("e, in nobody's peer set, measured %s at %d", m.Target, m.PMTU)
		}
	}
	if got := b.resp.Count(Answered); got == 0 {
		t.Error("b answered nothing")
	}

	// The metrics, as Prometheus reads them: the row of a.
	lint, err := testutil.CollectAndLint(collector{a.Agent})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range lint {
		t.Errorf("metric lint: %s: %s", p.Metric, p.Text)
	}
	want := `
# HELP pmtu_mesh_interface_mtu_bytes MTU of the source's egress interface toward the target: what the node believes the path carries.
# TYPE pmtu_mesh_interface_mtu_bytes gauge
pmtu_mesh_interface_mtu_bytes{source="127.0.0.1",target="127.0.0.2"} 1500
pmtu_mesh_interface_mtu_bytes{source="127.0.0.1",target="127.0.0.3"} 1500
# HELP pmtu_mesh_path_mtu_bytes Path MTU from source to target: the largest IP packet the target acknowledged, measured by the source. Absent while the last search failed.
# TYPE pmtu_mesh_path_mtu_bytes gauge
pmtu_mesh_path_mtu_bytes{source="127.0.0.1",target="127.0.0.2"} 1500
pmtu_mesh_path_mtu_bytes{source="127.0.0.1",target="127.0.0.3"} 1500
# HELP pmtu_mesh_path_mtu_info How the path MTU is known (evidence: ack = the interface MTU itself was acknowledged, icmp = a Fragmentation Needed or Packet Too Big named it, silence = larger probes vanished without ICMP), and the egress interface.
# TYPE pmtu_mesh_path_mtu_info gauge
pmtu_mesh_path_mtu_info{evidence="ack",interface="lo",source="127.0.0.1",target="127.0.0.2"} 1
pmtu_mesh_path_mtu_info{evidence="ack",interface="lo",source="127.0.0.1",target="127.0.0.3"} 1
# HELP pmtu_mesh_peers Peers in the current peer set, this node left out.
# TYPE pmtu_mesh_peers gauge
pmtu_mesh_peers 2
`
	if err := testutil.CollectAndCompare(collector{a.Agent}, strings.NewReader(want), MetricInterfaceMTU, MetricPathMTU, MetricInfo, "pmtu_mesh_peers"); err != nil {
		t.Error(err)
	}

	// The page: a's row and its peers' rows (b's names 127.0.0.4, whose
	// row is d's: every search of d failed, so its row is empty).
	rec := httptest.NewRecorder()
	a.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	page := rec.Body.String()
	if n := strings.Count(page, `<g class="cell"`); n != 16 {
		t.Errorf("page has %d cells, want 16 (127.0.0.1-4 as rows and columns)", n)
	}
	if n := strings.Count(page, `data-pmtu="1500"`); n != 6 {
		t.Errorf("page has %d cells at 1500, want the 6 pairs of a, b and c", n)
	}
	if !strings.Contains(page, "127.0.0.1 → 127.0.0.2: path MTU 1500, interface lo MTU 1500, evidence ack") {
		t.Error("no cell title names 127.0.0.1 → 127.0.0.2's evidence")
	}
}

// TestDiscoverSilence: Discover over a MeshConn toward a responder whose
// path drops every datagram over 1400 bytes, silently, finds 1400 from
// acknowledgements alone; with a responder that drops nothing, the
// interface MTU with one probe. Over IPv4 (127.0.0.1 to 127.0.0.2) and
// IPv6 (::1 to itself, another port: IPV6_PMTUDISC_PROBE, the floor
// 1280).
func TestDiscoverSilence(t *testing.T) {
	enter := loopbackNamespace(t)
	for _, fam := range []struct {
		name       string
		self, peer netip.AddrPort
	}{
		{"IPv4", netip.AddrPortFrom(addr("127.0.0.1"), testPort), netip.AddrPortFrom(addr("127.0.0.2"), testPort)},
		{"IPv6", netip.AddrPortFrom(addr("::1"), testPort+1), netip.AddrPortFrom(addr("::1"), testPort)},
	} {
		v6 := fam.peer.Addr().Is6()
		for _, tt := range []struct {
			name   string
			drop   int // drop probes larger than this IP size; 0: none
			want   mtu.Size
			probes int
		}{
			{"clean", 0, 1500, 1},
			{"silent drop above 1400", 1400, 1400, 0},
		} {
			t.Run(fam.name+"/"+tt.name, func(t *testing.T) {
				r := &Responder{IsPeer: peersOf(fam.self.Addr())}
				respond := func(from netip.Addr, b []byte) []byte {
					if tt.drop > 0 && len(b)+mtu.IPHeader(v6)+mtu.UDPHeader > tt.drop {
						return nil
					}
					ack, _ := r.Answer(from, b)
					return ack
				}
				peer, err := transport.ListenMesh(fam.peer, &transport.MeshConfig{Respond: respond, Enter: enter})
				if err != nil {
					t.Fatal(err)
				}
				defer peer.Close()
				self, err := transport.ListenMesh(fam.self, &transport.MeshConfig{Enter: enter})
				if err != nil {
					t.Fatal(err)
				}
				defer self.Close()
				c, err := self.Open(fam.peer.Addr(), int(fam.peer.Port()))
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				res, err := search.Discover(context.Background(), c, &search.Config{Floor: max(mtu.Floor(v6), c.MinSize()), Ceil: 1500, Wait: 100 * time.Millisecond})
				if err != nil {
					t.Fatal(err)
				}
				if res.PMTU != tt.want || !res.Confirmed || res.ByICMP {
					t.Errorf("PMTU %d confirmed %v by ICMP %v, want %d confirmed by acknowledgements", res.PMTU, res.Confirmed, res.ByICMP, tt.want)
				}
				if tt.probes > 0 && res.Probes != tt.probes {
					t.Errorf("%d probes, want %d", res.Probes, tt.probes)
				}
				if tt.drop > 0 && !res.Silence {
					t.Error("Silence false: larger sizes vanished without ICMP")
				}
				if got := r.Count(Answered); got == 0 {
					t.Error("the responder answered nothing")
				}
				t.Logf("%d probes, %d rounds, %v", res.Probes, res.Rounds, res.Elapsed)
			})
		}
	}
}

// TestSignal: a Frag Needed or Packet Too Big from outside a search
// (transport.MeshConfig.Signal) that names a size below a peer's path MTU
// makes the peer due at once, or, while its search runs, once more when
// it ends; one that says nothing new, comes too soon after the last, or
// is about no peer does nothing. A fake clock; no socket.
func TestSignal(t *testing.T) {
	now := time.Unix(1000, 0)
	spec, err := ParseSpec("198.18.2.10,198.18.2.11")
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(Options{Peers: spec, Interval: 10 * time.Second, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	peer, other := addr("198.18.2.10"), addr("198.18.2.11")
	later := now.Add(time.Hour)
	a.state[peer] = &peerState{m: Measurement{Target: peer, PMTU: 1450, At: now}, next: later}
	a.state[other] = &peerState{m: Measurement{Target: other, PMTU: 1450, At: now}, next: later}
	isDue := func(p netip.Addr) bool {
		a.mu.Lock()
		defer a.mu.Unlock()
		return !now.Before(a.state[p].next) && !a.state[p].running
	}
	woken := func() bool {
		select {
		case <-a.wake:
			return true
		default:
			return false
		}
	}
	for _, tt := range []struct {
		name        string
		advance     time.Duration
		peer        netip.Addr
		size, named mtu.Size
		due         bool
	}{
		{"a late answer to the last search: 1500 too big, 1450 named", 0, peer, 1500, 1450, false},
		{"a router names 1400 < 1450", 0, peer, 1500, 1400, true},
		{"again at once: held off", 0, peer, 1450, 1300, false},
		{"a tenth of an interval later", time.Second, peer, 1450, 1300, true},
		{"no MTU named, about a size above the path MTU", 2 * time.Second, peer, 1500, 0, false},
		{"no MTU named, about the path MTU itself", 0, peer, 1450, 0, true},
		{"not a peer", 2 * time.Second, addr("198.18.9.9"), 1500, 1400, false},
	} {
		now = now.Add(tt.advance)
		a.mu.Lock()
		if st := a.state[peer]; st != nil {
			st.next = later
		}
		a.mu.Unlock()
		a.signal(tt.peer, tt.size, tt.named)
		if got := a.state[peer] != nil && isDue(peer); got != tt.due {
			t.Errorf("%s: peer due %v, want %v", tt.name, got, tt.due)
		}
		if got := woken(); got != tt.due {
			t.Errorf("%s: scheduler woken %v, want %v", tt.name, got, tt.due)
		}
		if isDue(other) {
			t.Errorf("%s: the other peer became due", tt.name)
		}
	}
	if used, all := a.stats.signalsUsed.Load(), a.stats.signals.Load(); used != 3 || all != 7 {
		t.Errorf("%d of %d signals acted, want 3 of 7", used, all)
	}

	// While its search runs: once more when it ends, though the search
	// found the same path MTU.
	now = now.Add(time.Hour)
	a.mu.Lock()
	a.state[other].running = true
	a.mu.Unlock()
	a.signal(other, 1450, 1400)
	if isDue(other) {
		t.Error("a running search became due again")
	}
	a.record(other, Measurement{Target: other, PMTU: 1450, At: now, LastSuccess: now})
	if !isDue(other) {
		t.Error("the search that ran during a signal ended: not due again at once")
	}
	a.mu.Lock()
	a.state[other].running = true
	a.mu.Unlock()
	a.record(other, Measurement{Target: other, PMTU: 1450, At: now, LastSuccess: now})
	if isDue(other) {
		t.Error("after the search the signal asked for: due at once once more")
	}
}

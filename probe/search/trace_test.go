package search

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pmtu/pmtu/internal/probetest"
	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/probe/transport"
)

// tracePath is a chain of routers with the given egress MTUs, addressed as
// scripts/netns-lib.sh does: router i answers from 198.18.i.2 (or
// 2001:db8:i::2), the target is 198.18.n+1.2, the client 198.18.1.1.
func tracePath(ipv6 bool, mtus ...int) *probetest.Path {
	addr := func(i int) netip.Addr {
		if ipv6 {
			return netip.MustParseAddr(fmt.Sprintf("2001:db8:%d::2", i))
		}
		return netip.MustParseAddr(fmt.Sprintf("198.18.%d.2", i))
	}
	p := &probetest.Path{Src: netip.MustParseAddr("198.18.1.1"), Dst: addr(len(mtus) + 1), RTT: 2 * time.Millisecond}
	if ipv6 {
		p.Src = netip.MustParseAddr("2001:db8:1::1")
	}
	for i, mtu := range mtus {
		p.Hops = append(p.Hops, probetest.Hop{Addr: addr(i + 1), MTU: mtu})
	}
	return p
}

// runTrace runs Trace over the fake path with the fake clock.
func runTrace(t *testing.T, p *probetest.Path, cfg *TraceConfig) (*TraceResult, *probetest.PacketConn, error) {
	t.Helper()
	if p.Clock == nil {
		p.Clock = probetest.NewClock()
	}
	pc := p.Conn()
	c := transport.NewICMPConn(pc, p.Dst, &transport.ICMPConfig{Src: p.Src, Now: p.Clock.Now})
	if cfg == nil {
		cfg = &TraceConfig{}
	}
	cfg.Now = p.Clock.Now
	if cfg.Ceil == 0 {
		cfg.Ceil = 1500
	}
	res, err := Trace(context.Background(), c, cfg)
	return res, pc, err
}

// hopView is what a test checks of a hop.
type hopView struct {
	TTL        int
	Addr       string
	Reply      string
	PMTU       mtu.Size
	Drop       bool
	ReportedBy string
	Vanish     int // VanishAfter
}

func viewHops(res *TraceResult) []hopView {
	var out []hopView
	for _, h := range res.Hops {
		v := hopView{TTL: h.TTL, Reply: h.Reply.String(), PMTU: h.PMTU, Drop: h.MTUDrop, Vanish: h.VanishAfter}
		if h.Addr.IsValid() {
			v.Addr = h.Addr.String()
		}
		if h.ReportedBy.IsValid() {
			v.ReportedBy = h.ReportedBy.String()
		}
		out = append(out, v)
	}
	return out
}

// hv is a hopView: a router answering with Time Exceeded, "" for none.
func hv(ttl int, addr string, pmtu mtu.Size, reportedBy string) hopView {
	v := hopView{TTL: ttl, Addr: addr, Reply: "time_exceeded", PMTU: pmtu, Drop: reportedBy != "", ReportedBy: reportedBy}
	if addr == "" {
		v.Reply = "none"
	}
	return v
}

func reached(v hopView) hopView { v.Reply = "reached"; return v }

func TestTraceChain(t *testing.T) {
	for _, ipv6 := range []bool{false, true} {
		name, a := "ipv4", func(i int) string { return fmt.Sprintf("198.18.%d.2", i) }
		if ipv6 {
			name, a = "ipv6", func(i int) string { return fmt.Sprintf("2001:db8:%d::2", i) }
		}
		t.Run(name, func(t *testing.T) {
			p := tracePath(ipv6, 1492, 1400, 1280)
			res, _, err := runTrace(t, p, nil)
			if err != nil {
				t.Fatal(err)
			}
			want := []hopView{
				hv(1, a(1), 1500, ""),
				hv(2, a(2), 1492, a(1)),
				hv(3, a(3), 1400, a(2)),
				reached(hv(4, a(4), 1280, a(3))),
			}
			if diff := cmp.Diff(want, viewHops(res)); diff != "" {
				t.Errorf("hops (-want +got):\n%s", diff)
			}
			if !res.Reached || res.PMTU != 1280 {
				t.Errorf("reached %v, PMTU %d; want true, 1280", res.Reached, res.PMTU)
			}
			// k = 3 drops: k+1 rounds.
			if res.Rounds > 4 {
				t.Errorf("%d rounds, want ≤ 4", res.Rounds)
			}
			if res.Elapsed > 100*time.Millisecond {
				t.Errorf("elapsed %v on a 2 ms path", res.Elapsed)
			}
			for _, h := range res.Hops {
				if !h.Exact || h.RTT <= 0 || h.RTT > p.RTT {
					t.Errorf("hop %d: exact %v, RTT %v", h.TTL, h.Exact, h.RTT)
				}
			}
		})
	}
}

func TestTracePaths(t *testing.T) {
	a := func(i int) string { return fmt.Sprintf("198.18.%d.2", i) }
	chain := func() *probetest.Path { return tracePath(false, 1492, 1400, 1280) }
	chainWant := []hopView{hv(1, a(1), 1500, ""), hv(2, a(2), 1492, a(1)), hv(3, a(3), 1400, a(2)), reached(hv(4, a(4), 1280, a(3)))}
	tests := []struct {
		name       string
		path       func() *probetest.Path
		cfg        TraceConfig
		want       []hopView
		reached    bool
		maxElapsed time.Duration
	}{
		{
			name: "chain", path: chain, want: chainWant, reached: true, maxElapsed: 100 * time.Millisecond,
		},
		{
			// The last two routers drop their Time Exceeded: about one
			// rate-limit interval (1 s), not one wait per silent hop.
			name: "silent hops",
			path: func() *probetest.Path {
				p := tracePath(false, 1500, 1500, 1500, 1500)
				p.Hops[2].NoTimeExceeded, p.Hops[3].NoTimeExceeded = true, true
				return p
			},
			want: []hopView{
				hv(1, a(1), 1500, ""), hv(2, a(2), 1500, ""), hv(3, "", 0, ""), hv(4, "", 0, ""),
				reached(hv(5, a(5), 1500, "")),
			},
			reached: true, maxElapsed: 1500 * time.Millisecond,
		},
		{
			name: "rate limited routers",
			path: func() *probetest.Path {
				p := chain()
				for i := range p.Hops {
					p.Hops[i].RateLimit = probetest.LinuxRateLimit()
				}
				return p
			},
			want: chainWant, reached: true, maxElapsed: 100 * time.Millisecond,
		},
		{
			// Someone else has just used up every router's burst: answers
			// come one a second, and each hop is still heard.
			name: "rate limits used up",
			path: func() *probetest.Path {
				p := chain()
				for i := range p.Hops {
					p.Hops[i].RateLimit = &probetest.RateLimit{Burst: 6, Every: time.Second, Empty: true}
				}
				return p
			},
			want: chainWant, reached: true, maxElapsed: 3 * time.Second,
		},
		{
			name: "long rate-limited chain",
			path: func() *probetest.Path {
				p := tracePath(false, 1500, 1500, 1500, 1500, 1500, 1500, 1500, 1500, 1400)
				for i := range p.Hops {
					p.Hops[i].RateLimit = probetest.LinuxRateLimit()
				}
				return p
			},
			want: []hopView{
				hv(1, a(1), 1500, ""), hv(2, a(2), 1500, ""), hv(3, a(3), 1500, ""), hv(4, a(4), 1500, ""),
				hv(5, a(5), 1500, ""), hv(6, a(6), 1500, ""), hv(7, a(7), 1500, ""), hv(8, a(8), 1500, ""),
				hv(9, a(9), 1500, ""), reached(hv(10, a(10), 1400, a(9))),
			},
			reached: true, maxElapsed: 100 * time.Millisecond,
		},
		{
			// r2 forwards 1400 but sends no Frag Needed: the hops beyond
			// are found by probes alone, and nobody reported the drop.
			name: "black hole",
			path: func() *probetest.Path {
				p := tracePath(false, 1500, 1400, 1500)
				p.Hops[1].Silent = true
				return p
			},
			want:    []hopView{hv(1, a(1), 1500, ""), hv(2, a(2), 1500, ""), {TTL: 3, Addr: a(3), Reply: "time_exceeded", PMTU: 1400, Drop: true, Vanish: 2}, reached(hopView{TTL: 4, Addr: a(4), PMTU: 1400})},
			reached: true, maxElapsed: 5 * time.Second,
		},
		{
			name: "black hole, rate-limited routers",
			path: func() *probetest.Path {
				p := tracePath(false, 1500, 1400, 1500)
				p.Hops[1].Silent = true
				for i := range p.Hops {
					p.Hops[i].RateLimit = probetest.LinuxRateLimit()
				}
				return p
			},
			want:    []hopView{hv(1, a(1), 1500, ""), hv(2, a(2), 1500, ""), {TTL: 3, Addr: a(3), Reply: "time_exceeded", PMTU: 1400, Drop: true, Vanish: 2}, reached(hopView{TTL: 4, Addr: a(4), PMTU: 1400})},
			reached: true, maxElapsed: 15 * time.Second,
		},
		{
			name: "mtu 0 router",
			path: func() *probetest.Path {
				p := tracePath(false, 1500, 1300)
				p.Hops[1].SaysZero = true
				return p
			},
			want:    []hopView{hv(1, a(1), 1500, ""), hv(2, a(2), 1500, ""), reached(hopView{TTL: 3, Addr: a(3), PMTU: 1300, Drop: true, ReportedBy: a(2)})},
			reached: true, maxElapsed: time.Second,
		},
		{
			name: "duplicate replies",
			path: func() *probetest.Path { p := chain(); p.DuplicateReplies = true; return p },
			want: chainWant, reached: true, maxElapsed: 100 * time.Millisecond,
		},
		{
			name: "late and shuffled replies",
			path: func() *probetest.Path {
				p := chain()
				rng := rand.New(rand.NewPCG(1, 2))
				p.Delay = func(int) time.Duration { return time.Duration(rng.IntN(300)) * time.Millisecond }
				return p
			},
			want: chainWant, reached: true, maxElapsed: 5 * time.Second,
		},
		{
			name: "missing replies",
			path: func() *probetest.Path { p := chain(); p.Drop = func(n int) bool { return n%4 == 2 }; return p },
			want: chainWant, reached: true, maxElapsed: 5 * time.Second,
		},
		{
			// r2 rejects everything toward the target; its Time Exceeded
			// comes first (Linux checks the hop limit before forwarding).
			name: "unreachable",
			path: func() *probetest.Path {
				p := tracePath(false, 1500, 1500, 1500)
				p.Hops[1].Reject = &[2]int{3, 13}
				return p
			},
			want: []hopView{hv(1, a(1), 1500, ""), hv(2, a(2), 1500, ""), {TTL: 3, Addr: a(2), Reply: "unreachable"}},
		},
		{
			name: "target silent",
			path: func() *probetest.Path { p := tracePath(false, 1500, 1500); p.NoEchoReply = true; return p },
			cfg:  TraceConfig{MaxHops: 4},
			want: []hopView{hv(1, a(1), 1500, ""), hv(2, a(2), 1500, ""), hv(3, "", 0, ""), hv(4, "", 0, "")},
		},
		{
			name: "max hops",
			path: chain,
			cfg:  TraceConfig{MaxHops: 2},
			want: []hopView{hv(1, a(1), 1500, ""), hv(2, a(2), 1492, a(1))},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			res, pc, err := runTrace(t, tt.path(), &cfg)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, viewHops(res)); diff != "" {
				t.Errorf("hops (-want +got):\n%s", diff)
			}
			if res.Reached != tt.reached {
				t.Errorf("reached %v, want %v", res.Reached, tt.reached)
			}
			if tt.maxElapsed > 0 && res.Elapsed > tt.maxElapsed {
				t.Errorf("took %v, want ≤ %v", res.Elapsed, tt.maxElapsed)
			}
			if got := len(pc.Written()); got != res.Probes {
				t.Errorf("Probes = %d but %d were written", res.Probes, got)
			}
			t.Logf("%d probes in %d rounds, %v", res.Probes, res.Rounds, res.Elapsed)
		})
	}
}

// After the first round, no probe goes beyond the hop where the target
// answered.
func TestTraceStopsAtTarget(t *testing.T) {
	p := tracePath(false, 1492, 1400, 1280)
	res, pc, err := runTrace(t, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	ttls := pc.TTLs()
	first := 2 * 30 // a ceiling probe and a small one at each hop limit
	for i, ttl := range ttls[first:] {
		if ttl > 4 {
			t.Errorf("probe %d has hop limit %d, beyond the target at 4", first+i+1, ttl)
		}
	}
	if len(res.Hops) != 4 {
		t.Errorf("%d hops, want 4", len(res.Hops))
	}
}

func TestTraceCancelled(t *testing.T) {
	p := tracePath(false, 1500)
	p.Clock = probetest.NewClock()
	c := transport.NewICMPConn(p.Conn(), p.Dst, &transport.ICMPConfig{Src: p.Src, Now: p.Clock.Now})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := Trace(ctx, c, &TraceConfig{Now: p.Clock.Now})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if res == nil {
		t.Fatal("no result with the error")
	}
}

// Trace reports what it ignored: a forged Time Exceeded quoting a probe
// never sent.
func TestTraceIgnoresForged(t *testing.T) {
	p := tracePath(false, 1500)
	p.Clock = probetest.NewClock()
	pc := p.Conn()
	quote := append(probetest.IPHeader(p.Src, p.Dst, 1, 100), 8, 0, 0, 0, 0, 1, 0x30, 0x39)
	pc.Inject(netip.MustParseAddr("198.18.9.9"), probetest.Error(false, 11, 0, 0, quote), time.Millisecond)
	c := transport.NewICMPConn(pc, p.Dst, &transport.ICMPConfig{Src: p.Src, Now: p.Clock.Now})
	res, err := Trace(context.Background(), c, &TraceConfig{Now: p.Clock.Now, MaxHops: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Ignored) == 0 {
		t.Fatal("the forged Time Exceeded was not ignored")
	}
	if !res.Reached || len(res.Hops) != 2 {
		t.Fatalf("reached %v with %d hops, want true with 2", res.Reached, len(res.Hops))
	}
}

// A hop that never answers still has its path MTU bounded by what was
// proved around it: hop 3 answered at 1400, so 1400 passed hop 2; r1
// refused 1493 and up, so hop 2 carries at most 1492.
func TestTraceSilentHopBounds(t *testing.T) {
	for _, ipv6 := range []bool{false, true} {
		p := tracePath(ipv6, 1492, 1400, 1280)
		p.Hops[1].NoTimeExceeded = true // hop 2 is r2
		res, _, err := runTrace(t, p, nil)
		if err != nil {
			t.Fatal(err)
		}
		h := res.Hops[1]
		if h.Reply != NoReply || h.Min != 1400 || h.Max != 1492 {
			t.Errorf("ipv6 %v: hop 2 %v with bounds [%d, %d], want no reply with [1400, 1492]", ipv6, h.Reply, h.Min, h.Max)
		}
		if first := res.Hops[0]; first.Min != 1500 || first.Max != 1500 {
			t.Errorf("ipv6 %v: hop 1 bounds [%d, %d], want [1500, 1500]", ipv6, first.Min, first.Max)
		}
	}
}

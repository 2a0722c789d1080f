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
	FromICMP   bool
}

func viewHops(res *TraceResult) []hopView {
	var out []hopView
	for _, h := range res.Hops {
		v := hopView{TTL: h.TTL, Reply: h.Reply.String(), PMTU: h.PMTU, Drop: h.MTUDrop, Vanish: h.VanishAfter, FromICMP: h.FromICMP}
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

// The bench topologies (scripts/bench.sh) on the fake network, with the
// routers' default rate limits: the hops found, and what they cost. No
// probe goes beyond the target where routers answer, and a silent router
// that still sends Frag Needed gets its exact figure from it.
func TestTraceProbeBudget(t *testing.T) {
	a := func(i int) string { return fmt.Sprintf("198.18.%d.2", i) }
	fromFN := func(v hopView) hopView { v.Reply, v.FromICMP = "none", true; return v }
	limited := func(p *probetest.Path) *probetest.Path {
		for i := range p.Hops {
			p.Hops[i].RateLimit = probetest.LinuxRateLimit()
		}
		return p
	}
	tests := []struct {
		name       string
		path       func() *probetest.Path
		ceil       mtu.Size
		want       []hopView
		maxProbes  int
		maxTTL     int // no probe has a larger hop limit
		maxElapsed time.Duration
	}{
		{
			name: "answering", path: func() *probetest.Path { return limited(tracePath(false, 1492, 1400, 1280)) },
			want:      []hopView{hv(1, a(1), 1500, ""), hv(2, a(2), 1492, a(1)), hv(3, a(3), 1400, a(2)), reached(hv(4, a(4), 1280, a(3)))},
			maxProbes: 16, maxTTL: 4, maxElapsed: 100 * time.Millisecond,
		},
		{
			name: "silent",
			path: func() *probetest.Path {
				p := limited(tracePath(false, 1492, 1400, 1280))
				p.Hops[1].NoTimeExceeded, p.Hops[2].NoTimeExceeded = true, true
				return p
			},
			want:      []hopView{hv(1, a(1), 1500, ""), fromFN(hv(2, a(2), 1492, a(1))), fromFN(hv(3, a(3), 1400, a(2))), reached(hv(4, a(4), 1280, a(3)))},
			maxProbes: 24, maxTTL: 4, maxElapsed: 1200 * time.Millisecond,
		},
		{
			name: "blackhole",
			path: func() *probetest.Path {
				p := limited(tracePath(false, 1400, 1300))
				p.Hops[0].Silent = true
				return p
			},
			want: []hopView{hv(1, a(1), 1500, ""), {TTL: 2, Addr: a(2), Reply: "time_exceeded", PMTU: 1400, Drop: true, Vanish: 1},
				reached(hv(3, a(3), 1300, a(2)))},
			maxProbes: 70, maxTTL: 3, maxElapsed: 2500 * time.Millisecond,
		},
		{
			name: "one hop", path: func() *probetest.Path { return tracePath(false) }, ceil: 65535,
			want:      []hopView{reached(hopView{TTL: 1, Addr: a(1), PMTU: 65535})},
			maxProbes: 3, maxTTL: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, pc, err := runTrace(t, tt.path(), &TraceConfig{Ceil: tt.ceil})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, viewHops(res)); diff != "" {
				t.Errorf("hops (-want +got):\n%s", diff)
			}
			if res.Probes > tt.maxProbes {
				t.Errorf("%d probes, want ≤ %d", res.Probes, tt.maxProbes)
			}
			if got := len(pc.Written()); got != res.Probes {
				t.Errorf("Probes = %d but %d were written", res.Probes, got)
			}
			for i, ttl := range pc.TTLs() {
				if ttl > tt.maxTTL {
					t.Errorf("probe %d has hop limit %d, beyond %d", i+1, ttl, tt.maxTTL)
				}
			}
			if tt.maxElapsed > 0 && res.Elapsed > tt.maxElapsed {
				t.Errorf("took %v, want ≤ %v", res.Elapsed, tt.maxElapsed)
			}
			t.Logf("%d probes in %d rounds, %v", res.Probes, res.Rounds, res.Elapsed)
		})
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

// A silent hop whose router still refuses big packets is placed by its
// Frag Needed and gets an exact figure: r2's refusal of a 1492-byte probe
// proves 1492 reached it, and r1 refused 1493 and up.
func TestTraceSilentHopFromICMP(t *testing.T) {
	for _, ipv6 := range []bool{false, true} {
		p := tracePath(ipv6, 1492, 1400, 1280)
		p.Hops[1].NoTimeExceeded = true // hop 2 is r2
		res, _, err := runTrace(t, p, nil)
		if err != nil {
			t.Fatal(err)
		}
		h := res.Hops[1]
		if h.Reply != NoReply || !h.FromICMP || h.PMTU != 1492 || h.Addr != p.Hops[1].Addr || !h.MTUDrop || h.ReportedBy != p.Hops[0].Addr {
			t.Errorf("ipv6 %v: hop 2 %v from %v, pmtu %d (from ICMP %v), drop %v by %v; want none from r2, 1492 from its ICMP, drop by r1",
				ipv6, h.Reply, h.Addr, h.PMTU, h.FromICMP, h.MTUDrop, h.ReportedBy)
		}
		if first := res.Hops[0]; first.Min != 1500 || first.Max != 1500 {
			t.Errorf("ipv6 %v: hop 1 bounds [%d, %d], want [1500, 1500]", ipv6, first.Min, first.Max)
		}
	}
}

// Where two silent hops could both be the router that refused, neither is
// placed: they keep the bounds proved around them.
func TestTraceSilentHopBounds(t *testing.T) {
	p := tracePath(false, 1500, 1500, 1400, 1500)
	p.Hops[1].NoTimeExceeded, p.Hops[2].NoTimeExceeded = true, true // hops 2 and 3; r3 refuses above 1400
	res, _, err := runTrace(t, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range res.Hops[1:3] {
		if h.Reply != NoReply || h.FromICMP || h.PMTU != 0 || h.Min != 1400 || h.Max != 1500 {
			t.Errorf("hop %d: %v, pmtu %d (from ICMP %v), bounds [%d, %d]; want no reply, no figure, [1400, 1500]",
				h.TTL, h.Reply, h.PMTU, h.FromICMP, h.Min, h.Max)
		}
	}
	if h := res.Hops[3]; h.PMTU != 1400 || !h.MTUDrop || h.ReportedBy != p.Hops[2].Addr {
		t.Errorf("hop 4: pmtu %d, drop %v by %v; want 1400, a drop reported by r3", h.PMTU, h.MTUDrop, h.ReportedBy)
	}
}

// Issue 19: c ─2000─ r1 ─1500─ s, where s drops its Echo Replies. r1's
// Frag Needed shows the drop at hop 2, and every silent hop beyond carries
// "≤ 1500": the walk does not end at "2000 as far as it answered".
func TestTraceKeepsTheDrop(t *testing.T) {
	p := tracePath(false, 1500)
	p.NoEchoReply = true
	res, _, err := runTrace(t, p, &TraceConfig{Ceil: 2000, MaxHops: 8})
	if err != nil {
		t.Fatal(err)
	}
	// r2_noreturn (the kernel's PMTU selftest): r1's word is the path
	// MTU, unconfirmed; 2000 is only what came back from hop 1.
	if res.Reached || res.PMTU != 1500 || res.Confirmed || res.Proved != 2000 || res.ProvedTTL != 1 || res.Max != 1500 || res.MaxBy != p.Hops[0].Addr {
		t.Errorf("reached %v, PMTU %d (confirmed %v, proved %d at hop %d), Max %d by %v; want false, 1500 (unconfirmed, 2000 at hop 1), 1500 by r1",
			res.Reached, res.PMTU, res.Confirmed, res.Proved, res.ProvedTTL, res.Max, res.MaxBy)
	}
	if len(res.Hops) != 8 {
		t.Fatalf("%d hops, want 8", len(res.Hops))
	}
	if h := res.Hops[1]; h.Reply != NoReply || !h.MTUDrop || h.ReportedBy != p.Hops[0].Addr || h.ReportedMTU != 1500 || h.Max != 1500 {
		t.Errorf("hop 2: %v, drop %v by %v naming %d, max %d; want none, a drop by r1 naming 1500, max 1500",
			h.Reply, h.MTUDrop, h.ReportedBy, h.ReportedMTU, h.Max)
	}
	for _, h := range res.Hops[2:] {
		if h.Reply != NoReply || h.MTUDrop || h.Max != 1500 {
			t.Errorf("hop %d: %v, drop %v, max %d; want none, no drop, max 1500", h.TTL, h.Reply, h.MTUDrop, h.Max)
		}
	}
}

// A silent hop is ruled out as a refusing router's place when a probe
// larger than the router lets through came back from beyond it: r2 and r4
// are silent, r4 refuses above 1400, and 1500-byte probes came back from
// hop 3, so r4 can only be hop 4.
func TestTracePlacesPastAPassingProbe(t *testing.T) {
	p := tracePath(false, 1500, 1500, 1500, 1400, 1500)
	p.Hops[1].NoTimeExceeded, p.Hops[3].NoTimeExceeded = true, true
	res, _, err := runTrace(t, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	a := func(i int) string { return fmt.Sprintf("198.18.%d.2", i) }
	want := []hopView{
		hv(1, a(1), 1500, ""), hv(2, "", 0, ""), hv(3, a(3), 1500, ""),
		{TTL: 4, Addr: a(4), Reply: "none", PMTU: 1500, FromICMP: true},
		hv(5, a(5), 1400, a(4)), reached(hopView{TTL: 6, Addr: a(6), PMTU: 1400}),
	}
	if diff := cmp.Diff(want, viewHops(res)); diff != "" {
		t.Errorf("hops (-want +got):\n%s", diff)
	}
	if h := res.Hops[1]; h.Min != 1500 || h.Max != 1500 {
		t.Errorf("hop 2 bounds [%d, %d], want [1500, 1500]", h.Min, h.Max)
	}
}

// Under loss, a silent hop may fall back to bounds (the Frag Needed that
// would place it was lost), but no figure is ever wrong and the bounds
// always hold the truth.
func TestTraceSilentHopsUnderLoss(t *testing.T) {
	truth := []mtu.Size{1500, 1492, 1400, 1280}
	for _, every := range []int{3, 4, 5, 7, 11} {
		t.Run(fmt.Sprintf("every %dth lost", every), func(t *testing.T) {
			p := tracePath(false, 1492, 1400, 1280)
			p.Hops[1].NoTimeExceeded, p.Hops[2].NoTimeExceeded = true, true
			for i := range p.Hops {
				p.Hops[i].RateLimit = probetest.LinuxRateLimit()
			}
			p.Drop = func(n int) bool { return n%every == 2 }
			res, _, err := runTrace(t, p, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !res.Reached || res.PMTU != 1280 || len(res.Hops) != 4 {
				t.Fatalf("reached %v, PMTU %d, %d hops; want true, 1280, 4", res.Reached, res.PMTU, len(res.Hops))
			}
			for i, h := range res.Hops {
				if h.PMTU != 0 && h.PMTU != truth[i] {
					t.Errorf("hop %d: pmtu %d, want %d", h.TTL, h.PMTU, truth[i])
				}
				if h.Reply == NoReply && h.PMTU == 0 && (h.Min > truth[i] || h.Max < truth[i]) {
					t.Errorf("hop %d: bounds [%d, %d] miss %d", h.TTL, h.Min, h.Max, truth[i])
				}
			}
		})
	}
}

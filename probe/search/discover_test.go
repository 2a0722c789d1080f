package search

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/pmtu/pmtu/internal/probetest"
	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/probe/transport"
	"github.com/pmtu/pmtu/probe/wire"
)

func hop(s string, mtu int) probetest.Hop {
	return probetest.Hop{Addr: netip.MustParseAddr(s), MTU: mtu}
}

// discover runs Discover over the fake path with the fake clock.
func discover(t *testing.T, p *probetest.Path, ceil mtu.Size) (*Result, *probetest.PacketConn, error) {
	t.Helper()
	if p.Clock == nil {
		p.Clock = probetest.NewClock()
	}
	if p.RTT == 0 {
		p.RTT = 2 * time.Millisecond
	}
	pc := p.Conn()
	c := transport.NewICMPConn(pc, p.Dst, &transport.ICMPConfig{Src: p.Src, Now: p.Clock.Now})
	res, err := Discover(context.Background(), c, &Config{Ceil: ceil, Now: p.Clock.Now})
	return res, pc, err
}

func chain(ipv6 bool) *probetest.Path {
	if ipv6 {
		return &probetest.Path{Src: src6, Dst: dst6, Hops: []probetest.Hop{
			hop("2001:db8::2", 1492), hop("2001:db8:1::2", 1400), hop("2001:db8:2::2", 1280)}}
	}
	return &probetest.Path{Src: src4, Dst: dst4, Hops: []probetest.Hop{
		hop("198.18.0.2", 1492), hop("198.18.1.2", 1400), hop("198.18.2.2", 1280)}}
}

func TestDiscoverChain(t *testing.T) {
	for _, ipv6 := range []bool{false, true} {
		name := "ipv4"
		if ipv6 {
			name = "ipv6"
		}
		t.Run(name, func(t *testing.T) {
			p := chain(ipv6)
			res, _, err := discover(t, p, 1500)
			if err != nil {
				t.Fatal(err)
			}
			if res.PMTU != 1280 || !res.Confirmed || !res.ByICMP {
				t.Errorf("PMTU %d confirmed %v by ICMP %v; want 1280 true true", res.PMTU, res.Confirmed, res.ByICMP)
			}
			if want := p.Hops[2].Addr; res.LimitingHop != want {
				t.Errorf("limiting hop %v, want %v", res.LimitingHop, want)
			}
			// 3 drops: k+1 = 4 probes, one a round.
			if res.Probes != 4 || res.Rounds != 4 || len(res.Events) != 3 {
				t.Errorf("%d probes in %d rounds and %d ICMP events; want 4, 4 and 3", res.Probes, res.Rounds, len(res.Events))
			}
			if res.Elapsed <= 0 || res.Elapsed > time.Second {
				t.Errorf("elapsed %v on a 2 ms path", res.Elapsed)
			}
		})
	}
}

func TestDiscoverPaths(t *testing.T) {
	tests := []struct {
		name      string
		path      *probetest.Path
		ceil      mtu.Size
		want      mtu.Size
		byICMP    bool
		maxRounds int
	}{
		{"jumbo", &probetest.Path{Src: src4, Dst: dst4, Hops: []probetest.Hop{hop("198.18.0.2", 9000)}}, 9000, 9000, false, 1},
		{"mtu 0 router", &probetest.Path{Src: src4, Dst: dst4, Hops: []probetest.Hop{
			{Addr: netip.MustParseAddr("198.18.0.2"), MTU: 1300, SaysZero: true}}}, 1500, 1300, false, 5},
		{"black hole", &probetest.Path{Src: src4, Dst: dst4, Hops: []probetest.Hop{
			{Addr: netip.MustParseAddr("198.18.0.2"), MTU: 1300, Silent: true}}}, 1500, 1300, false, 6},
		{"ipv6 black hole", &probetest.Path{Src: src6, Dst: dst6, Hops: []probetest.Hop{
			{Addr: netip.MustParseAddr("2001:db8::2"), MTU: 1400, Silent: true}}}, 1500, 1400, false, 5},
		{"lying router raises", &probetest.Path{Src: src4, Dst: dst4, Hops: []probetest.Hop{
			{Addr: netip.MustParseAddr("198.18.0.2"), MTU: 1400, Says: 1600}}}, 1500, 1400, false, 5},
		{"duplicate replies", &probetest.Path{Src: src4, Dst: dst4, DuplicateReplies: true, Hops: chain(false).Hops}, 1500, 1280, true, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, _, err := discover(t, tt.path, tt.ceil)
			if err != nil {
				t.Fatal(err)
			}
			if res.PMTU != tt.want || !res.Confirmed || res.ByICMP != tt.byICMP {
				t.Errorf("PMTU %d confirmed %v byICMP %v; want %d true %v", res.PMTU, res.Confirmed, res.ByICMP, tt.want, tt.byICMP)
			}
			if res.Rounds > tt.maxRounds {
				t.Errorf("%d rounds, want ≤ %d", res.Rounds, tt.maxRounds)
			}
			if res.Probes > 16*res.Rounds {
				t.Errorf("%d probes in %d rounds", res.Probes, res.Rounds)
			}
		})
	}
}

// A black hole is found in about three waits: the first round waits the
// whole Wait (no round trip is known), later ones a few round trips.
func TestDiscoverBlackHoleTime(t *testing.T) {
	p := &probetest.Path{Src: src4, Dst: dst4, RTT: 20 * time.Millisecond, Hops: []probetest.Hop{
		{Addr: netip.MustParseAddr("198.18.0.2"), MTU: 1300, Silent: true}}}
	res, _, err := discover(t, p, 1500)
	if err != nil {
		t.Fatal(err)
	}
	if res.PMTU != 1300 || !res.Silence || res.ByICMP {
		t.Fatalf("PMTU %d silence %v byICMP %v; want 1300, a black hole", res.PMTU, res.Silence, res.ByICMP)
	}
	if res.Elapsed > 3*time.Second {
		t.Fatalf("black hole took %v (%d rounds), want ≤ 3 s", res.Elapsed, res.Rounds)
	}
}

func TestDiscoverLossIsNotAVerdict(t *testing.T) {
	// Every third probe is lost; the answer stays exact.
	p := chain(false)
	p.Drop = func(n int) bool { return n%3 == 1 }
	res, _, err := discover(t, p, 1500)
	if err != nil {
		t.Fatal(err)
	}
	if res.PMTU != 1280 {
		t.Fatalf("PMTU %d with loss, want 1280", res.PMTU)
	}
}

func TestDiscoverNoReply(t *testing.T) {
	p := &probetest.Path{Src: src4, Dst: dst4, Drop: func(int) bool { return true }}
	res, pc, err := discover(t, p, 1500)
	if !errors.Is(err, ErrNoReply) {
		t.Fatalf("err = %v, want ErrNoReply", err)
	}
	if res.PMTU != 0 || res.Confirmed {
		t.Fatalf("PMTU %d confirmed %v with nothing answering", res.PMTU, res.Confirmed)
	}
	if got := len(pc.Written()); got != res.Probes {
		t.Fatalf("Probes = %d but %d were written", res.Probes, got)
	}
}

func TestDiscoverUnreachable(t *testing.T) {
	p := &probetest.Path{Src: src4, Dst: dst4, Hops: []probetest.Hop{
		{Addr: netip.MustParseAddr("198.18.0.2"), MTU: 1500, Reject: &[2]int{3, 13}}}}
	_, _, err := discover(t, p, 1500)
	var ue *UnreachableError
	if !errors.As(err, &ue) {
		t.Fatalf("err = %v, want an UnreachableError", err)
	}
	if ue.Event.From != netip.MustParseAddr("198.18.0.2") || ue.Event.Type != 3 || ue.Event.Code != 13 {
		t.Fatalf("event %+v, want 198.18.0.2 type 3 code 13", ue.Event)
	}
}

func TestDiscoverCancelled(t *testing.T) {
	p := chain(false)
	p.Clock = probetest.NewClock()
	c := transport.NewICMPConn(p.Conn(), p.Dst, &transport.ICMPConfig{Src: p.Src, Now: p.Clock.Now})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Discover(ctx, c, &Config{Now: p.Clock.Now})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// With 30% loss each way (51% of round trips lost) on a black-hole path,
// the answer stays exact.
func TestDiscoverExactUnderHeavyLoss(t *testing.T) {
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 7))
		want := 1250 + int(seed)*11
		p := &probetest.Path{Src: src4, Dst: dst4, Drop: func(int) bool { return rng.Float64() < 0.51 },
			Hops: []probetest.Hop{{Addr: netip.MustParseAddr("198.18.0.2"), MTU: want, Silent: true}}}
		res, _, err := discover(t, p, 1500)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if res.PMTU != mtu.Size(want) {
			t.Errorf("seed %d: PMTU %d under 51%% loss, want %d (%d probes, %d rounds)", seed, res.PMTU, want, res.Probes, res.Rounds)
		}
	}
}

// A round cut short by the context's deadline ends the search: its
// silence is not counted. The fake clock reaches the deadline while the
// context (on real time) is not yet done, as a socket's read deadline can
// fire a moment before the context's timer.
func TestDiscoverDeadlineCountsNoSilence(t *testing.T) {
	clock := probetest.NewClock()
	clock.Advance(time.Since(clock.Now()) + time.Hour) // fake now, an hour ahead of real time
	p := &probetest.Path{Src: src4, Dst: dst4, Clock: clock, RTT: time.Millisecond, Hops: []probetest.Hop{
		{Addr: netip.MustParseAddr("198.18.0.2"), MTU: 1300, Silent: true}}}
	ctx, cancel := context.WithDeadline(context.Background(), clock.Now().Add(1050*time.Millisecond))
	defer cancel()
	c := transport.NewICMPConn(p.Conn(), dst4, &transport.ICMPConfig{Src: src4, Now: clock.Now})
	res, err := Discover(ctx, c, &Config{Ceil: 1500, Now: clock.Now})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v (PMTU %d after %d rounds), want DeadlineExceeded", err, res.PMTU, res.Rounds)
	}
	if res.PMTU != 0 || res.Lo != 1280 || res.Hi != 1501 || res.Rounds != 2 {
		t.Fatalf("PMTU %d, bounds [%d, %d), %d rounds; want 0, [1280, 1501), 2: no size judged on a cut-short round",
			res.PMTU, res.Lo, res.Hi, res.Rounds)
	}
}

// TestDiscoverForged injects forged Frag Needed messages while a search
// runs: quoting a probe never sent, naming an MTU above the probe, naming
// one below 68. The answer does not move and each is counted as ignored.
func TestDiscoverForged(t *testing.T) {
	p := &probetest.Path{Src: src4, Dst: dst4, RTT: 10 * time.Millisecond, Clock: probetest.NewClock(),
		Hops: []probetest.Hop{hop("198.18.0.2", 1400)}}
	pc := p.Conn()
	c := transport.NewICMPConn(pc, dst4, &transport.ICMPConfig{Src: src4, Now: p.Clock.Now, ID: 0x4242})
	attacker := netip.MustParseAddr("198.18.9.9")
	forge := func(seq byte, size, named int) []byte {
		b, _ := wire.MarshalEcho(false, 0x4242, int(seq), nil)
		return probetest.Error(false, 3, 4, named, append(probetest.IPHeader(src4, dst4, 1, size), b[:8]...))
	}
	pc.Inject(attacker, forge(77, 1500, 576), time.Millisecond) // never sent
	pc.Inject(attacker, forge(1, 1500, 4000), time.Millisecond) // above the probe
	pc.Inject(attacker, forge(1, 1500, 40), time.Millisecond)   // below 68
	res, err := Discover(context.Background(), c, &Config{Ceil: 1500, Now: p.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if res.PMTU != 1400 {
		t.Fatalf("PMTU %d after forged ICMP, want 1400", res.PMTU)
	}
	if len(res.Ignored) != 3 {
		for _, ev := range res.Ignored {
			t.Logf("ignored: %s", ev.Why)
		}
		t.Fatalf("%d ignored, want the 3 forged messages", len(res.Ignored))
	}
}

package measure

import (
	"context"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pmtu/pmtu/internal/fakenet"
	"github.com/pmtu/pmtu/internal/probetest"
	"github.com/pmtu/pmtu/probe"
)

// profilePath is a path of one router (r1, 198.18.1.2) whose next link
// has MTU mtu, silent about larger packets when silent, losing what
// drop says by IP size.
func profilePath(dst netip.Addr, mtu int, silent bool, drop func(size, n int) bool) *probetest.Path {
	src := netip.MustParseAddr("198.18.0.1")
	r1 := netip.MustParseAddr("198.18.1.2")
	if dst.Is6() {
		src, r1 = netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8:1::2")
	}
	return &probetest.Path{Src: src, Dst: dst, RTT: 2 * time.Millisecond, DropSize: drop,
		Hops: []probetest.Hop{{Addr: r1, MTU: mtu, Silent: silent}}}
}

func window(from, to int) func(size, n int) bool {
	return func(size, _ int) bool { return size >= from && size <= to }
}

// TestProfile runs the whole profile on a fake path: the search, then
// the sizes probed, without sleeping.
func TestProfile(t *testing.T) {
	dst4, dst6 := netip.MustParseAddr("198.18.2.2"), netip.MustParseAddr("2001:db8:2::2")
	rng := rand.New(rand.NewPCG(3, 4))
	tests := []struct {
		name     string
		path     *probetest.Path
		pmtu     int
		windows  []ProfileWindow
		brownout bool
		safe     int
		ended    string
	}{
		{"clean v4", profilePath(dst4, 1500, false, nil), 1500, []ProfileWindow{}, false, 1500, "decided"},
		{"clean v6", profilePath(dst6, 1500, false, nil), 1500, []ProfileWindow{}, false, 1500, "decided"},
		{"window 1400-1420 v4", profilePath(dst4, 1500, false, window(1400, 1420)), 1500,
			[]ProfileWindow{{From: 1400, To: 1420, Loss: 1}}, false, 1500, "decided"},
		{"window 1400-1420 v6", profilePath(dst6, 1500, false, window(1400, 1420)), 1500,
			[]ProfileWindow{{From: 1400, To: 1420, Loss: 1}}, false, 1500, "decided"},
		{"brownout 3% above 1440", profilePath(dst4, 1500, false, func(size, _ int) bool { return size > 1440 && rng.Float64() < 0.03 }),
			1500, []ProfileWindow{}, true, 1436, "probes"},
		{"behind a 1400 link", profilePath(dst4, 1400, false, nil), 1400, []ProfileWindow{}, false, 1400, "decided"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := fakenet.New(tt.path)
			o := &ProfileOptions{Options: Options{Probe: probe.Options{Net: w.Network(), Proto: probe.ProtoICMP}}}
			rep, err := Profile(context.Background(), tt.path.Dst.String(), o)
			if err != nil {
				t.Fatal(err)
			}
			if rep.PMTU != tt.pmtu || rep.SafeMTU != tt.safe || (rep.Brownout != nil) != tt.brownout || rep.Ended != tt.ended {
				t.Errorf("pmtu %d, safe_mtu %d, brownout %+v, ended %s; want %d, %d, brownout %v, %s",
					rep.PMTU, rep.SafeMTU, rep.Brownout, rep.Ended, tt.pmtu, tt.safe, tt.brownout, tt.ended)
			}
			if diff := cmp.Diff(tt.windows, rep.Windows); diff != "" {
				t.Errorf("windows (-want +got):\n%s", diff)
			}
			if rep.Probes > 2500 || rep.To != tt.pmtu {
				t.Errorf("%d probes up to %d; want at most 2500, up to %d", rep.Probes, rep.To, tt.pmtu)
			}
			t.Logf("%d probes, %d rounds, %.0f ms, bands %+v", rep.Probes, rep.Rounds, rep.ElapsedMS, rep.Bands)
		})
	}
}

// TestHostLossHint: pmtu HOST behind a silent 1450 link (a black hole,
// so the search probes sizes in parallel) with 1400-1420 dropped finds
// 1450, not the window's edge, and says in loss_hint that sizes below it
// were lost.
func TestHostLossHint(t *testing.T) {
	dst := netip.MustParseAddr("198.18.2.2")
	for _, tt := range []struct {
		name string
		drop func(size, n int) bool
		hint string
	}{
		{"window", window(1400, 1420), "probes of 1400–1420 bytes were lost while 1450 passed, more than loss explains: a window of lost sizes? pmtu profile 198.18.2.2 measures loss by size"},
		{"clean", nil, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := fakenet.New(profilePath(dst, 1450, true, tt.drop))
			rep, err := Host(context.Background(), dst.String(), &Options{Probe: probe.Options{Net: w.Network(), Proto: probe.ProtoICMP}, Fresh: true})
			if err != nil {
				t.Fatal(err)
			}
			if rep.PMTU != 1450 || rep.LossHint != tt.hint {
				t.Errorf("pmtu %d, loss_hint %q; want 1450, %q", rep.PMTU, rep.LossHint, tt.hint)
			}
		})
	}
}

// TestHostLossHintRandomLoss: 20% of probes lost at random, behind the
// same silent 1450 link: sizes below the answer are lost now and then,
// but probed again they pass as often as the control does: no window is
// claimed, in 100 runs of 100.
func TestHostLossHintRandomLoss(t *testing.T) {
	dst := netip.MustParseAddr("198.18.2.2")
	hints := 0
	for seed := range uint64(100) {
		rng := rand.New(rand.NewPCG(seed, 9))
		w := fakenet.New(profilePath(dst, 1450, true, func(int, int) bool { return rng.Float64() < 0.2 }))
		rep, err := Host(context.Background(), dst.String(), &Options{Probe: probe.Options{Net: w.Network(), Proto: probe.ProtoICMP}, Fresh: true})
		if err != nil {
			continue
		}
		if rep.LossHint != "" {
			hints++
			t.Logf("seed %d: pmtu %d, %s", seed, rep.PMTU, rep.LossHint)
		}
	}
	if hints > 0 {
		t.Errorf("%d of 100 runs with random loss claimed a window", hints)
	}
}

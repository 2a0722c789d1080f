package search

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pmtu/pmtu/internal/probetest"
	"github.com/pmtu/pmtu/mtu"
)

// A target that never answers: the bounds reported are only what the
// routers' ICMP proved, never the sizes that went silent. Each case checks
// Hi and Bound against the probes actually written on the fake path.
func TestDiscoverSilentTargetBounds(t *testing.T) {
	r1, r2 := netip.MustParseAddr("198.18.1.2"), netip.MustParseAddr("198.18.2.2")
	r1v6 := netip.MustParseAddr("2001:db8:1::2")
	tests := []struct {
		name string
		path *probetest.Path
		ceil mtu.Size
		// want is Lo, Hi, Bound, BoundBy; Hi above ceil means nothing
		// was refused.
		want silentBounds
	}{
		{"one router says 1500", &probetest.Path{Src: src4, Dst: dst4, NoEchoReply: true,
			Hops: []probetest.Hop{{Addr: r1, MTU: 1500}}}, 2000,
			silentBounds{Hi: 1501, Bound: 1500, BoundBy: r1}},
		{"two routers, the second says 1400", &probetest.Path{Src: src4, Dst: dst4, NoEchoReply: true,
			Hops: []probetest.Hop{{Addr: r1, MTU: 1500}, {Addr: r2, MTU: 1400}}}, 2000,
			silentBounds{Hi: 1401, Bound: 1400, BoundBy: r2}},
		{"IPv6, one router says 1500", &probetest.Path{Src: src6, Dst: dst6, NoEchoReply: true,
			Hops: []probetest.Hop{{Addr: r1v6, MTU: 1500}}}, 2000,
			silentBounds{Hi: 1501, Bound: 1500, BoundBy: r1v6}},
		{"nothing refused, nothing answered", &probetest.Path{Src: src4, Dst: dst4, NoEchoReply: true,
			Hops: []probetest.Hop{{Addr: r1, MTU: 9000}}}, 1500,
			silentBounds{Hi: 1501}},
		{"a silent router and a silent target", &probetest.Path{Src: src4, Dst: dst4, NoEchoReply: true,
			Hops: []probetest.Hop{{Addr: r1, MTU: 1400, Silent: true}}}, 1500,
			silentBounds{Hi: 1501}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, pc, err := discover(t, tt.path, tt.ceil)
			if !errors.Is(err, ErrNoReply) {
				t.Fatalf("err = %v, want ErrNoReply", err)
			}
			got := silentBounds{Lo: res.Lo, Hi: res.Hi, Bound: res.Bound, BoundBy: res.BoundBy}
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
				t.Errorf("bounds (-want +got):\n%s", diff)
			}
			if res.PMTU != 0 || res.Confirmed {
				t.Errorf("PMTU %d confirmed %v with a silent target", res.PMTU, res.Confirmed)
			}
			// Against the probes sent: sizes below Hi were sent and went
			// unanswered, yet none of them counts as refused; every size
			// at or above Hi that was sent earned a refusal (or Hi is
			// above the ceiling: nothing was refused).
			hdr := 20
			if tt.path.Dst.Is6() {
				hdr = 40
			}
			var below, above int
			for _, b := range pc.Written() {
				if mtu.Size(len(b)+hdr) < res.Hi {
					below++
				} else {
					above++
				}
			}
			if below == 0 {
				t.Errorf("no probe below refused size %d was sent: %d probes", res.Hi, len(pc.Written()))
			}
			if tt.want.Bound != 0 && above != len(res.Events) {
				t.Errorf("%d probes at or above %d, %d refusals: every one of them should be refused", above, res.Hi, len(res.Events))
			}
			if tt.want.Bound == 0 && above != 0 {
				t.Errorf("%d probes above the ceiling %d", above, tt.ceil)
			}
			if res.Probes != len(pc.Written()) {
				t.Errorf("Probes = %d, %d written", res.Probes, len(pc.Written()))
			}
		})
	}
}

type silentBounds struct {
	Lo, Hi, Bound mtu.Size
	BoundBy       netip.Addr
}

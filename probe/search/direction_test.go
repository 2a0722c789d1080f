package search

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pmtu/pmtu/internal/probetest"
	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/probe/transport"
)

// The fake path stands for probes whose answers are small: whether an
// answer comes back depends only on the way out.
func TestDirectionOf(t *testing.T) {
	silentHop := func(mtu int) []probetest.Hop {
		h := hop("198.18.1.2", mtu)
		h.Silent = true
		return []probetest.Hop{hop("198.18.0.2", 1500), h}
	}
	type want struct {
		Dir    string
		Probes int
	}
	tests := []struct {
		name   string
		path   probetest.Path
		pass   mtu.Size
		silent mtu.Size
		want   want
	}{
		{"the forward path carries the silent size: return",
			probetest.Path{Hops: []probetest.Hop{hop("198.18.0.2", 1500), hop("198.18.1.2", 1500)}},
			1300, 1301, want{Return, 2}},
		{"the silent size vanishes on the way out too: forward after 3 rounds",
			probetest.Path{Hops: silentHop(1400)},
			1400, 1401, want{Forward, 6}},
		{"a router refuses it now: forward at once",
			probetest.Path{Hops: []probetest.Hop{hop("198.18.0.2", 1500), hop("198.18.1.2", 1400)}},
			1400, 1401, want{Forward, 2}},
		{"nothing comes back this way: unknown after one round",
			probetest.Path{NoEchoReply: true},
			1300, 1301, want{"", 2}},
		{"the first round is lost: unknown, not a verdict",
			probetest.Path{Drop: func(n int) bool { return n <= 2 }},
			1300, 1301, want{"", 2}},
		{"the silent size lost once: return in the second round",
			probetest.Path{Drop: func(n int) bool { return n == 2 }},
			1300, 1301, want{Return, 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.path
			p.Src, p.Dst, p.RTT, p.Clock = src4, dst4, 2*time.Millisecond, probetest.NewClock()
			c := transport.NewICMPConn(p.Conn(), p.Dst, &transport.ICMPConfig{Src: p.Src, Now: p.Clock.Now})
			dir, probes, err := DirectionOf(context.Background(), c, tt.pass, tt.silent, &DirectionConfig{Now: p.Clock.Now})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, want{dir, probes}); diff != "" {
				t.Errorf("DirectionOf (-want +got):\n%s", diff)
			}
		})
	}
}

package transport

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/probe/wire"
)

// TestJudgeTCP is what TCP_INFO proves of a data probe: the ACK of all
// of it at the size it was sent, or a kernel that lowered the segment
// size (a Frag Needed reached the connection, or the target's MSS is
// smaller).
func TestJudgeTCP(t *testing.T) {
	// A 1500-byte probe over IPv4 with timestamps: 1448 bytes of data.
	const size, n = mtu.Size(1500), 1448
	ts := func(s tcpState) tcpState { s.timestamps, s.open = true, true; return s }
	tests := []struct {
		name  string
		start tcpState // after connect
		now   tcpState // while waiting
		want  tcpVerdict
		begin tcpVerdict
	}{
		{"acknowledged",
			ts(tcpState{sndMSS: 1448, pmtu: 1500, acked: 1}), ts(tcpState{sndMSS: 1448, pmtu: 1500, acked: 1 + n}),
			tcpVerdict{kind: wire.Reached}, tcpVerdict{kind: wire.Ignored}},
		{"in flight",
			ts(tcpState{sndMSS: 1448, pmtu: 1500, acked: 1}), ts(tcpState{sndMSS: 1448, pmtu: 1500, acked: 1, unacked: 1}),
			tcpVerdict{kind: wire.Ignored}, tcpVerdict{kind: wire.Ignored}},
		// A router's Frag Needed naming 1400: the kernel sent the data
		// again in 1348-byte segments, which were acknowledged.
		{"frag needed, then acknowledged smaller",
			ts(tcpState{sndMSS: 1448, pmtu: 1500, acked: 1}), ts(tcpState{sndMSS: 1348, pmtu: 1400, acked: 1 + n}),
			tcpVerdict{kind: wire.TooBig, mtu: 1400}, tcpVerdict{kind: wire.Ignored}},
		{"segment size cut without a path MTU (tcp_mtu_probing)",
			ts(tcpState{sndMSS: 1448, pmtu: 1500, acked: 1}), ts(tcpState{sndMSS: 1024, pmtu: 1500, acked: 1 + n}),
			tcpVerdict{kind: wire.TooBig, mtu: 1076}, tcpVerdict{kind: wire.Ignored}},
		{"partly acknowledged",
			ts(tcpState{sndMSS: 1448, pmtu: 1500, acked: 1}), ts(tcpState{sndMSS: 1448, pmtu: 1500, acked: 1000}),
			tcpVerdict{kind: wire.Ignored}, tcpVerdict{kind: wire.Ignored}},
		// The kernel had learned 1400 toward the target already: DO
		// mode sizes the first segment to it.
		{"cached path MTU below the size",
			ts(tcpState{sndMSS: 1348, pmtu: 1400}), ts(tcpState{sndMSS: 1348, pmtu: 1400}),
			tcpVerdict{kind: wire.TooBig, mtu: 1400}, tcpVerdict{kind: wire.TooBig, mtu: 1400}},
		// The target advertised MSS 1360 (its own link is 1400).
		{"the target's MSS",
			ts(tcpState{sndMSS: 1348, pmtu: 1500}), ts(tcpState{sndMSS: 1348, pmtu: 1500}),
			tcpVerdict{kind: wire.TooBig, mtu: 1400}, tcpVerdict{kind: wire.TooBig, mtu: 1400, peer: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opt := cmp.AllowUnexported(tcpVerdict{})
			begin := judgeStart(size, false, tt.start)
			if diff := cmp.Diff(tt.begin, begin, opt); diff != "" {
				t.Errorf("judgeStart (-want +got):\n%s", diff)
			}
			if begin.kind != wire.Ignored {
				return
			}
			if diff := cmp.Diff(tt.want, judge(size, false, n, tt.start.acked, tt.now), opt); diff != "" {
				t.Errorf("judge (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSegment(t *testing.T) {
	tests := []struct {
		size mtu.Size
		ipv6 bool
		ts   bool
		want int
	}{
		{1500, false, true, 1448},
		{1500, false, false, 1460},
		{1500, true, true, 1428},
		{1280, true, false, 1220},
	}
	for _, tt := range tests {
		if got := segment(tt.size, tt.ipv6, tcpState{timestamps: tt.ts}); got != tt.want {
			t.Errorf("segment(%d, v6 %v, timestamps %v) = %d, want %d", tt.size, tt.ipv6, tt.ts, got, tt.want)
		}
	}
}

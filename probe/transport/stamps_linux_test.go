package transport

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/probe/wire"
)

// longAgo is a clock stopped far in the past: an arrival stamped with it
// was timed when read, not by the kernel.
func longAgo() time.Time { return time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC) }

// wantKernelStamps checks that every answer carries the kernel's receive
// time: near the real clock, not the conn's stopped one.
func wantKernelStamps(t *testing.T, c wire.Conn, dst netip.Addr) {
	t.Helper()
	start := time.Now()
	got := sendAll(t, c, []mtu.Size{1280, 1400}, 2*time.Second)
	wantReached(t, got, 2, dst)
	for seq, ev := range got {
		if ev.At.Before(start.Add(-time.Second)) || ev.At.After(time.Now().Add(time.Second)) {
			t.Errorf("probe %d: answer stamped %v, want the kernel's receive time near %v", seq, ev.At, start)
		}
	}
}

// Every method gets the kernel's receive time the same way, whether or
// not the source and the interface are pinned (root only: a namespace of
// the test's own).
func TestKernelTimestamps(t *testing.T) {
	enter := testNamespace(t)
	for _, dst := range []netip.Addr{lo4, lo6} {
		for _, m := range []Method{MethodICMP, MethodPing, MethodUDP, MethodUDPRecvErr, MethodTCP} {
			for _, pinned := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%s/pinned=%v", m, dst, pinned), func(t *testing.T) {
					cfg := &OpenConfig{Enter: enter, Now: longAgo}
					if pinned {
						cfg.Src, cfg.Interface = dst, "lo"
					}
					c, err := OpenMethod(m, dst, cfg)
					if err != nil {
						t.Fatalf("OpenMethod: %v", err)
					}
					defer c.Close()
					wantKernelStamps(t, c, dst)
				})
			}
		}
	}
}

// Without privilege too: UDP answers read from the error queue (Port
// Unreachable) carry the kernel's time.
func TestKernelTimestampsUnprivileged(t *testing.T) {
	for _, dst := range []netip.Addr{lo4, lo6} {
		t.Run(dst.String(), func(t *testing.T) {
			c, err := OpenMethod(MethodUDPRecvErr, dst, &OpenConfig{Port: closedUDPPort(t, dst), Now: longAgo})
			if err != nil {
				t.Skipf("no UDP socket here: %v", err)
			}
			defer c.Close()
			wantKernelStamps(t, c, dst)
		})
	}
}

package transport

import (
	"net/netip"
	"testing"
	"time"

	"github.com/pmtu/pmtu/internal/probetest"
)

// FuzzDispatch: whatever arrives on a shared socket, the reader does not
// panic, and hands a search only a packet about its own identifier.
func FuzzDispatch(f *testing.F) {
	src, dst := netip.MustParseAddr("198.18.0.1"), netip.MustParseAddr("198.19.0.1")
	echo := []byte{8, 0, 0, 0, 0x12, 0x34, 0, 1, 'c', 'o', 'o', 'k', 'i', 'e', '!', '!'}
	reply := append([]byte{0, 0, 0, 0}, echo[4:]...)
	f.Add(reply, false)
	f.Add(probetest.Error(false, 3, 4, 1400, append(probetest.IPHeader(src, dst, 1, 1500), echo...)), false)
	f.Add(probetest.Error(true, 2, 0, 1400, append(probetest.IPHeader(netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8:f::1"), 58, 1500), 128, 0, 0, 0, 0x12, 0x34, 0, 1)), true)
	f.Add([]byte{0, 0}, false)
	f.Fuzz(func(t *testing.T, b []byte, v6 bool) {
		d := &demux{v6: v6, now: time.Now, dead: make(chan struct{}), subs: map[uint16]*SharedConn{}}
		s := &SharedConn{in: make(chan delivery, 1)}
		d.subs[0x1234] = s
		d.dispatch(b, len(b), dst, time.Now(), 0)
		select {
		case a := <-s.in:
			id, ok := echoID(a.m, v6)
			if !ok || id != 0x1234 {
				t.Fatalf("delivered a packet about identifier %d (ok %v)", id, ok)
			}
		default:
		}
		if got := d.stats.delivered.Load() + d.stats.foreign.Load() + d.stats.overflow.Load(); got != 1 {
			t.Fatalf("one packet counted %d times", got)
		}
	})
}

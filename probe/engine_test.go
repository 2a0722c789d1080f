package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pmtu/pmtu/internal/probetest"
	"github.com/pmtu/pmtu/probe/transport"
	"github.com/pmtu/pmtu/ratebudget"
)

// Find with an Engine: 60 targets behind one router, each with its own
// MTU, searched at once over the Engine's one socket and one packet
// budget; no search opens a socket of its own.
func TestFindEngine(t *testing.T) {
	src := netip.MustParseAddr("198.18.0.1")
	var paths []*probetest.Path
	for i := range 60 {
		dst := netip.AddrFrom4([4]byte{198, 19, 0, byte(i + 1)})
		paths = append(paths, &probetest.Path{Src: src, Dst: dst, RTT: time.Millisecond,
			Hops: []probetest.Hop{{Addr: netip.MustParseAddr("198.18.1.2"), MTU: 1400 - i}, {Addr: dst, MTU: 1500}}})
	}
	nw := fakeNetwork(probetest.NewClock(), paths...)
	nw.now = time.Now // the shared fake socket runs on the real clock
	nw.open = func(Proto, netip.Addr, *transport.OpenConfig) (conn, Method, error) {
		return nil, "", errors.New("a search opened a socket of its own")
	}
	shared := probetest.NewNetwork(paths...)
	var listens int
	e := &Engine{t: transport.NewEngine(&transport.EngineConfig{Listen: func(bool, *transport.OpenConfig) (net.PacketConn, error) {
		listens++
		return shared, nil
	}})}
	defer e.Close()
	budget, err := ratebudget.New(10000, 20, nil)
	if err != nil {
		t.Fatal(err)
	}
	o := &Options{Engine: e, Pace: budget.Wait, sys: nw}
	want, got := map[string]string{}, map[string]string{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, p := range paths {
		want[p.Dst.String()] = fmt.Sprintf("%d icmp %s", p.Hops[0].MTU, MethodICMP)
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := Find(context.Background(), p.Dst.String(), o)
			s := fmt.Sprint(err)
			if err == nil {
				s = fmt.Sprintf("%d %s %s", res.PMTU, map[bool]string{true: "icmp", false: "probes"}[res.ByICMP], res.Method)
			}
			mu.Lock()
			got[p.Dst.String()] = s
			mu.Unlock()
		}()
	}
	wg.Wait()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	if listens != 1 {
		t.Errorf("%d shared sockets opened, want 1", listens)
	}
	if n := len(shared.Sends()); n < len(paths) {
		t.Errorf("%d probes on the shared socket for %d targets", n, len(paths))
	}
}

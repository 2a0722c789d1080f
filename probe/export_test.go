package probe

import (
	"context"
	"errors"
	"net"
	"net/netip"

	"github.com/pmtu/pmtu/internal/probetest"
	"github.com/pmtu/pmtu/probe/transport"
	"github.com/pmtu/pmtu/probe/wire"
	"github.com/pmtu/pmtu/route"
)

// fakeNetwork is a network of fake paths (internal/probetest), one per
// destination, all on one fake clock: what the examples run on.
func fakeNetwork(clock *probetest.Clock, paths ...*probetest.Path) *network {
	byDst := map[netip.Addr]*probetest.Path{}
	for _, p := range paths {
		p.Clock = clock
		byDst[p.Dst] = p
	}
	return &network{
		resolve: resolve,
		localAddrs: func() func(netip.Addr) bool {
			return func(a netip.Addr) bool {
				for _, p := range paths {
					if a == p.Src {
						return true
					}
				}
				return a.IsLoopback()
			}
		},
		interfaceByName: func(name string) (*net.Interface, error) { return nil, errors.New("no such interface") },
		route: func(_ context.Context, dst netip.Addr) (route.Route, error) {
			p, ok := byDst[dst]
			if !ok {
				return route.Route{}, errors.New("network is unreachable")
			}
			return route.Route{Dst: dst, Src: p.Src, IfIndex: 2, IfName: "veth0", IfMTU: 1500}, nil
		},
		open: func(_ Proto, dst netip.Addr, cfg *transport.OpenConfig) (wire.Conn, Method, error) {
			p := byDst[dst]
			return transport.NewICMPConn(p.Conn(), dst, &transport.ICMPConfig{Src: p.Src, Now: clock.Now}), MethodICMP, nil
		},
		now: clock.Now,
	}
}

// UseFakeNetwork makes Options without a network probe the given fake
// paths instead of the kernel, until restore is called.
func UseFakeNetwork(paths ...*probetest.Path) (restore func()) {
	clock := probetest.NewClock()
	defaultNetwork = fakeNetwork(clock, paths...)
	return func() { defaultNetwork = kernel }
}

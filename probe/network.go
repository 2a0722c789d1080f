package probe

import (
	"context"
	"net"
	"net/netip"
	"time"

	"github.com/pmtu/pmtu/probe/transport"
	"github.com/pmtu/pmtu/probe/wire"
	"github.com/pmtu/pmtu/route"
)

// network is the world Lookup, Find and Trace act on: the host's kernel
// (kernel), or in tests a fake network (internal/probetest), injected
// through Options.sys. Every call that touches the system goes through
// it.
type network struct {
	resolve         func(ctx context.Context, host, network string) (netip.Addr, error)
	localAddrs      func() func(netip.Addr) bool
	interfaceByName func(name string) (*net.Interface, error)
	route           func(ctx context.Context, dst netip.Addr) (route.Route, error)
	// open opens the first method of p allowed here (transport.Open).
	open func(p Proto, dst netip.Addr, cfg *transport.OpenConfig) (wire.Conn, Method, error)
	now  func() time.Time
}

// kernel is the real network.
var kernel = &network{
	resolve:         resolve,
	localAddrs:      localAddrs,
	interfaceByName: net.InterfaceByName,
	route:           route.Get,
	open: func(p Proto, dst netip.Addr, cfg *transport.OpenConfig) (wire.Conn, Method, error) {
		return transport.Open(p, dst, cfg)
	},
	now: time.Now,
}

// defaultNetwork is the network of Options without one: kernel, except in
// this package's examples, which run on a fake one (export_test.go).
var defaultNetwork = kernel

// methodOf names the method of a conn, for a network whose open does not
// say: "icmp", "ping-socket", "udp", "udp-recverr" or "tcp".
func methodOf(c any) Method {
	switch c := c.(type) {
	case interface{ Method() Method }:
		return c.Method()
	case *transport.ICMPConn:
		return MethodICMP
	}
	return ""
}

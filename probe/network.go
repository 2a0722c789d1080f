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

// Conn is what Network.Open returns: a way of sending probes of an exact
// size and reading the matched, validated answers (wire.Conn).
type Conn = wire.Conn

// OpenConfig is what Network.Open is asked to open: the source, interface,
// port, flow and namespace of the probes (transport.OpenConfig).
type OpenConfig = transport.OpenConfig

// Network is a world to probe other than this host's kernel: the seam a
// program built on probe tests through (internal/fakenet builds one from
// fake paths, with a fake resolver), as mdlayher/netlink's nltest is. A
// nil *Network, and every nil field, is the kernel's own: the system's
// resolver, its interfaces and routes, real sockets. With a Network set,
// Options.Engine's shared sockets are not used: every search opens its
// conn through Open.
type Network struct {
	// LookupNetIP resolves a host name to its addresses of network
	// ("ip", "ip4", "ip6"), as net.Resolver.LookupNetIP does. A literal
	// address is never looked up.
	LookupNetIP func(ctx context.Context, network, host string) ([]netip.Addr, error)
	// LocalAddrs returns a function that says whether an address is the
	// probing host's.
	LocalAddrs func() func(netip.Addr) bool
	// InterfaceByName finds an interface, for Options.Interface.
	InterfaceByName func(name string) (*net.Interface, error)
	// Route is the route toward dst, as `ip route get` says it.
	Route func(ctx context.Context, dst netip.Addr) (route.Route, error)
	// Open opens the first method of p this process may use toward dst.
	Open func(p Proto, dst netip.Addr, cfg *OpenConfig) (Conn, Method, error)
	// Now is the clock of the searches.
	Now func() time.Time
}

// network is the world Lookup, Find and Trace act on: the host's kernel
// (kernel), a caller's Network (Options.Net), or in this package's tests
// a fake network (internal/probetest), injected through Options.sys.
// Every call that touches the system goes through it.
type network struct {
	resolve         func(ctx context.Context, host, network string) (netip.Addr, error)
	localAddrs      func() func(netip.Addr) bool
	interfaceByName func(name string) (*net.Interface, error)
	route           func(ctx context.Context, dst netip.Addr) (route.Route, error)
	// open opens the first method of p allowed here (transport.Open).
	open func(p Proto, dst netip.Addr, cfg *transport.OpenConfig) (wire.Conn, Method, error)
	now  func() time.Time
	// fake is true for a world that is not the kernel's: the Engine's
	// shared sockets, which are real, are then not used.
	fake bool
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

// world is n as a network: the kernel's for every nil field.
func (n *Network) world() *network {
	w := *kernel
	w.fake = true
	if n.LookupNetIP != nil {
		lookup := n.LookupNetIP
		w.resolve = func(ctx context.Context, host, network string) (netip.Addr, error) {
			return resolveWith(ctx, lookup, host, network)
		}
	}
	if n.LocalAddrs != nil {
		w.localAddrs = n.LocalAddrs
	}
	if n.InterfaceByName != nil {
		w.interfaceByName = n.InterfaceByName
	}
	if n.Route != nil {
		w.route = n.Route
	}
	if n.Open != nil {
		open := n.Open
		w.open = func(p Proto, dst netip.Addr, cfg *transport.OpenConfig) (wire.Conn, Method, error) {
			c, m, err := open(p, dst, cfg)
			if c == nil {
				return nil, m, err // no typed nil in a non-nil conn
			}
			return c, m, err
		}
	}
	if n.Now != nil {
		w.now = n.Now
	}
	return &w
}

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

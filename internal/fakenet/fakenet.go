// Package fakenet is a whole fake world for programs built on package
// probe: fake paths (internal/probetest) behind a fake resolver, fake
// routes and fake interfaces, as one *probe.Network. Tests of the
// workflow (package measure) and of the command line run on it, so that
// no test resolves a real name or sends a real packet.
package fakenet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"syscall"

	"github.com/pmtu/pmtu/internal/probetest"
	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/probe"
	"github.com/pmtu/pmtu/probe/transport"
	"github.com/pmtu/pmtu/route"
)

// World is a fake network: the paths it carries, one per destination,
// all on one fake clock, and the names it resolves. Its methods are safe
// for concurrent use.
type World struct {
	// Clock is the fake time of every path.
	Clock *probetest.Clock
	// IfName and IfMTU are the egress interface every route names.
	IfName string
	IfMTU  mtu.Size

	mu    sync.Mutex
	paths map[netip.Addr]*probetest.Path
	names map[string][]netip.Addr
	ptr   map[netip.Addr][]string
	opens int
}

// New returns a World carrying paths, with the egress interface "veth0"
// of MTU 1500.
func New(paths ...*probetest.Path) *World {
	w := &World{Clock: probetest.NewClock(), IfName: "veth0", IfMTU: 1500,
		paths: map[netip.Addr]*probetest.Path{}, names: map[string][]netip.Addr{}, ptr: map[netip.Addr][]string{}}
	for _, p := range paths {
		w.Add(p)
	}
	return w
}

// Add carries p too, on the World's clock.
func (w *World) Add(p *probetest.Path) {
	w.mu.Lock()
	defer w.mu.Unlock()
	p.Clock = w.Clock
	w.paths[p.Dst] = p
}

// Name makes host resolve to addrs, and each address's reverse lookup
// give host.
func (w *World) Name(host string, addrs ...netip.Addr) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.names[host] = append(w.names[host], addrs...)
	for _, a := range addrs {
		w.ptr[a] = append(w.ptr[a], host+".")
	}
}

// Opens is how many probe conns were opened.
func (w *World) Opens() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.opens
}

// LookupNetIP resolves host from the names given; any other name is not
// found, as a DNS server would say. A literal address is itself.
func (w *World) LookupNetIP(_ context.Context, network, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a}, nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []netip.Addr
	for _, a := range w.names[host] {
		if (network == "ip4" && !a.Is4()) || (network == "ip6" && !a.Is6()) {
			continue
		}
		out = append(out, a)
	}
	if len(out) == 0 {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return out, nil
}

// LookupAddr is the reverse lookup of addr: the names given for it.
func (w *World) LookupAddr(_ context.Context, addr string) ([]string, error) {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return nil, &net.DNSError{Err: "unrecognized address", Name: addr}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if names := w.ptr[a]; len(names) > 0 {
		return slices.Clone(names), nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: addr, IsNotFound: true}
}

func (w *World) path(dst netip.Addr) (*probetest.Path, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	p, ok := w.paths[dst]
	return p, ok
}

// Route is the route to a carried destination, out of the World's
// interface; any other is unreachable (ENETUNREACH), as the kernel says.
func (w *World) Route(_ context.Context, dst netip.Addr) (route.Route, error) {
	p, ok := w.path(dst)
	if !ok {
		return route.Route{}, syscall.ENETUNREACH
	}
	return route.Route{Dst: dst, Src: p.Src, IfIndex: 2, IfName: w.IfName, IfMTU: w.IfMTU}, nil
}

// Open opens an ICMP Echo conn down dst's path. Other protocols are
// refused as a host without raw sockets would refuse them.
func (w *World) Open(p probe.Proto, dst netip.Addr, _ *probe.OpenConfig) (probe.Conn, probe.Method, error) {
	path, ok := w.path(dst)
	if !ok {
		return nil, "", fmt.Errorf("fakenet: %s is not carried: %w", dst, syscall.ENETUNREACH)
	}
	if p != probe.ProtoICMP && p != "" {
		m := probe.MethodTCP
		if p == probe.ProtoUDP {
			m = probe.MethodUDP
		}
		return nil, "", &probe.NoMethodError{Proto: p, Tried: []probe.MethodError{{Method: m, Err: syscall.EPERM}}}
	}
	w.mu.Lock()
	w.opens++
	w.mu.Unlock()
	return transport.NewICMPConn(path.Conn(), dst, &transport.ICMPConfig{Src: path.Src, Now: w.Clock.Now}), probe.MethodICMP, nil
}

// LocalAddrs says whether an address is a path's source (or loopback).
func (w *World) LocalAddrs() func(netip.Addr) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	local := map[netip.Addr]bool{}
	for _, p := range w.paths {
		local[p.Src] = true
	}
	return func(a netip.Addr) bool { return a.IsLoopback() || local[a] }
}

// InterfaceByName knows "lo" and the World's egress interface.
func (w *World) InterfaceByName(name string) (*net.Interface, error) {
	switch name {
	case "lo":
		return &net.Interface{Index: 1, Name: "lo", MTU: 65536, Flags: net.FlagUp | net.FlagLoopback}, nil
	case w.IfName:
		return &net.Interface{Index: 2, Name: w.IfName, MTU: int(w.IfMTU), Flags: net.FlagUp}, nil
	}
	return nil, errors.New("no such interface")
}

// Network is the World as package probe's seam.
func (w *World) Network() *probe.Network {
	return &probe.Network{
		LookupNetIP:     w.LookupNetIP,
		LocalAddrs:      w.LocalAddrs,
		InterfaceByName: w.InterfaceByName,
		Route:           w.Route,
		Open:            w.Open,
		Now:             w.Clock.Now,
	}
}

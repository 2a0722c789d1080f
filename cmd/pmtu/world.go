package main

import (
	"context"
	"net"
	"net/netip"

	"github.com/urfave/cli/v2"

	"github.com/pmtu/pmtu/check"
	"github.com/pmtu/pmtu/probe"
	"github.com/pmtu/pmtu/probe/transport"
)

// world is what the commands act on: this host's kernel and resolver, or
// in tests a fake network (internal/fakenet), given to newApp so that no
// test resolves a real name or sends a real packet.
type world struct {
	// net is the world probed; nil is the kernel.
	net *probe.Network
	// lookupHost and lookupAddr are the resolver, forward (pmtu cache
	// flush HOST) and reverse (trace's hop names).
	lookupHost func(ctx context.Context, network, host string) ([]netip.Addr, error)
	lookupAddr func(ctx context.Context, addr string) ([]string, error)
	// openRaw opens pmtu check's raw IP conn; nil is the kernel's
	// (transport.OpenRawIP).
	openRaw func(dst netip.Addr, cfg *transport.OpenConfig) (check.Conn, error)
	// openResponder opens pmtu check's UDP conn toward a pmtu mesh
	// responder; nil is the kernel's (transport.DialMesh).
	openResponder func(dst netip.AddrPort, cfg *transport.OpenConfig) (check.ResponderConn, error)
}

// kernelWorld is the real one.
var kernelWorld = &world{lookupHost: net.DefaultResolver.LookupNetIP, lookupAddr: net.DefaultResolver.LookupAddr}

// worldOf is the world of the app running cCtx.
func worldOf(cCtx *cli.Context) *world {
	if w, ok := cCtx.App.Metadata["world"].(*world); ok {
		return w
	}
	return kernelWorld
}

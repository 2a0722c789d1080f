package probe

import (
	"net/netip"
	"sync"

	"github.com/pmtu/pmtu/probe/transport"
)

// Engine lets many searches share sockets: every Find whose Options name
// the same Engine sends its ICMP Echo probes over one raw socket per
// family (and per Options.Netns, Interface and Source), read by one
// goroutine that hands each packet to its search. Without one, each
// search opens sockets of its own, and the kernel copies every ICMP that
// arrives to each of them.
//
// Only ICMP Echo over a raw socket (MethodICMP, root or CAP_NET_RAW)
// shares; other methods, a search that may not open raw sockets (it
// falls back as without an Engine), and Trace (whose hop limits are per
// search) open their own sockets as before. Pacing stays Options.Pace's:
// an Engine adds no budget of its own.
//
// An Engine is safe for concurrent use; Close it after its searches.
type Engine struct {
	t *transport.Engine

	mu    sync.Mutex
	local map[string]func(netip.Addr) bool // Options.Netns → its addresses
}

// EngineOptions configures an Engine; nil means the defaults. It has no
// fields yet.
type EngineOptions struct{}

// NewEngine returns an Engine; its sockets are opened by the first search
// that needs each.
func NewEngine(*EngineOptions) *Engine {
	return &Engine{t: transport.NewEngine(nil)}
}

// Close closes the Engine's sockets. Searches still running on them end
// with an error.
func (e *Engine) Close() error { return e.t.Close() }

// openShared opens t's conn on the Engine, or says why it cannot.
func (e *Engine) openShared(dst netip.Addr, cfg *transport.OpenConfig) (conn, error) {
	sc, err := e.t.Open(dst, cfg)
	if err != nil {
		return nil, err // not a nil *SharedConn in a non-nil conn
	}
	return sc, nil
}

// localAddrs is network's localAddrs, read once per namespace for all
// the searches of o.Engine: a host's addresses do not change in the
// seconds a run over many hosts takes, and reading them costs a netlink
// dump per target. It must be called inside o.Netns, as Lookup does.
func (o *Options) localAddrs(nw *network) func(netip.Addr) bool {
	e := o.Engine
	if e == nil {
		return nw.localAddrs()
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if f, ok := e.local[o.Netns]; ok {
		return f
	}
	if e.local == nil {
		e.local = map[string]func(netip.Addr) bool{}
	}
	f := nw.localAddrs()
	e.local[o.Netns] = f
	return f
}

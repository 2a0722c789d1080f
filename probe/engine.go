package probe

import (
	"net/netip"

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

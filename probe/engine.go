package probe

import (
	"context"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/pmtu/pmtu/probe/search"
	"github.com/pmtu/pmtu/probe/transport"
	"github.com/pmtu/pmtu/probe/wire"
)

// Engine lets many searches share sockets: every Find whose Options name
// the same Engine reads the ICMP its probes earn from one raw socket per
// family (and per Options.Netns, Interface and Source), read by one
// goroutine that hands each packet to its search. Without one, each
// search opens a raw socket of its own, and the kernel copies every ICMP
// that arrives to each of them.
//
// ICMP Echo (MethodICMP) sends over the shared socket too; UDP
// (MethodUDP) sends from a socket of its own (its source port is its
// flow, and routes its errors back to it) and reads its errors from the
// shared one; TCP (MethodTCP) sends its SYNs and reads the answers
// through one shared raw TCP socket per family and source, routed by its
// source port, and its errors from the shared ICMP socket. All three need
// raw sockets (root or CAP_NET_RAW). The unprivileged methods, a search
// that may not open raw sockets (it falls back as without an Engine), and
// Trace (whose hop limits are per search) open their own sockets as
// before. Pacing stays Options.Pace's:
// an Engine adds no packet budget of its own.
//
// What an Engine does share for every method is the answer budget of a
// target that rate-limits its answers (search.ReplyLimiter: UDP, whose
// proof is a Port Unreachable, limited by Linux to a burst of 6 then one
// a second toward us): the searches of one target take its tokens from
// one bucket, so together they do not ask it for more answers than it
// may send. Linux keeps that bucket per destination (us) for the whole
// host, so other addresses of the same host share it too, which pmtu
// cannot see; search.Discover's control probes keep that silence from
// being read as "too big".
//
// An Engine is safe for concurrent use; Close it after its searches.
type Engine struct {
	t *transport.Engine

	mu      sync.Mutex
	local   map[string]func(netip.Addr) bool // Options.Netns → its addresses
	targets map[answerKey]*answerBudget      // rate-limited targets' answer budgets
	now     func() time.Time

	// waiting counts the searches whose rate-limited target's answers
	// ran out (search.Config.Waiting), across all targets: pmtu cannot
	// tell which addresses share a host, and so a rate limit.
	waiting atomic.Int64
}

// answerKey names a target: its namespace and address.
type answerKey struct {
	netns string
	addr  netip.Addr
}

// answerBudget is the answer budget of one target and when it was last
// drawn on.
type answerBudget struct {
	b    *rate.Limiter
	last time.Time
	full time.Duration // how long an idle budget takes to fill again
}

// maxIdleBudgets is how many answer budgets an Engine keeps before it
// drops those that have filled again (idle for burst×every): a full
// budget is a new one, so dropping it loses nothing, and the Engine's
// memory follows the searches running, not every target it saw.
const maxIdleBudgets = 1024

// EngineOptions configures an Engine; nil means the defaults. It has no
// fields yet.
type EngineOptions struct{}

// NewEngine returns an Engine; its sockets are opened by the first search
// that needs each.
func NewEngine(*EngineOptions) *Engine {
	return &Engine{t: transport.NewEngine(nil), now: time.Now}
}

// answers returns the answer budget Discover takes a token of before each
// probe over c toward dst in netns, shared by every search of e toward
// it: nil without an Engine, or when c's answers are not rate-limited.
func (e *Engine) answers(netns string, dst netip.Addr, c any) func(context.Context) error {
	if e == nil {
		return nil
	}
	rl, ok := c.(search.ReplyLimiter)
	if !ok {
		return nil
	}
	burst, every := rl.ReplyLimit()
	if burst <= 0 || every <= 0 {
		return nil
	}
	key := answerKey{netns, dst}
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.clock()
	t := e.targets[key]
	if t == nil {
		b := rate.NewLimiter(rate.Every(every), burst)
		if e.targets == nil {
			e.targets = map[answerKey]*answerBudget{}
		}
		if len(e.targets) >= maxIdleBudgets {
			for k, old := range e.targets {
				if now.Sub(old.last) > old.full {
					delete(e.targets, k)
				}
			}
		}
		t = &answerBudget{b: b, full: time.Duration(burst) * every}
		e.targets[key] = t
	}
	t.last = now
	return func(ctx context.Context) error {
		err := wait(ctx, t.b)
		e.mu.Lock()
		if n := e.clock(); n.After(t.last) {
			t.last = n
		}
		e.mu.Unlock()
		return err
	}
}

// Pace returns an Options.Pace that takes each probe's token from l, one
// packet budget for every search of a run (pmtu's --rate). It waits as
// l.Wait does but for one thing: a token due only after ctx's deadline
// is waited for until that deadline, which then ends the wait with
// ctx.Err(), where l.Wait would fail at once with an error of its own. A
// search out of time thus ends as one that ran out of time, and reads
// the answers that arrive meanwhile no sooner or later than before. l's
// burst must be at least 1.
func Pace(l *rate.Limiter) func(context.Context) error {
	return func(ctx context.Context) error { return wait(ctx, l) }
}

// wait takes a token of l for one probe, as Pace says.
func wait(ctx context.Context, l *rate.Limiter) error {
	err := l.Wait(ctx)
	if err == nil || ctx.Err() != nil {
		return err
	}
	if _, ok := ctx.Deadline(); ok {
		// The token is due after the deadline: l took none.
		<-ctx.Done()
		return ctx.Err()
	}
	return err
}

// Close closes the Engine's sockets. Searches still running on them end
// with an error.
func (e *Engine) Close() error { return e.t.Close() }

// waitingFor is search.Config.Waiting for a search over c: the Engine's
// count of searches waiting for rate-limited answers; nil without an
// Engine or when c's answers are not rate-limited.
func (e *Engine) waitingFor(c any) func(int) int {
	if e == nil {
		return nil
	}
	if _, ok := c.(search.ReplyLimiter); !ok {
		return nil
	}
	return func(delta int) int { return int(e.waiting.Add(int64(delta))) }
}

// clock is the Engine's clock: time.Now unless a test set another.
func (e *Engine) clock() time.Time {
	if e.now == nil {
		return time.Now()
	}
	return e.now()
}

// openShared opens a conn of proto toward dst on the Engine's shared
// socket, or says why it cannot: MethodICMP for ProtoICMP, MethodUDP for
// ProtoUDP, MethodTCP for ProtoTCP; ok is false for the others.
func (e *Engine) openShared(proto Proto, dst netip.Addr, cfg *transport.OpenConfig) (c wire.Conn, m Method, ok bool, err error) {
	switch proto {
	case ProtoICMP:
		sc, err := e.t.Open(dst, cfg)
		if err != nil {
			return nil, MethodICMP, true, err // not a nil *SharedConn in a non-nil conn
		}
		return sc, MethodICMP, true, nil
	case ProtoUDP:
		uc, err := e.t.OpenUDP(dst, cfg)
		if err != nil {
			return nil, MethodUDP, true, err
		}
		return uc, MethodUDP, true, nil
	case ProtoTCP:
		tc, err := e.t.OpenTCP(dst, cfg)
		if err != nil {
			return nil, MethodTCP, true, err
		}
		return tc, MethodTCP, true, nil
	}
	return nil, "", false, nil
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

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
	local   map[string]localSet         // Options.Netns → its addresses
	targets map[answerKey]*answerBudget // rate-limited targets' answer budgets
	now     func() time.Time

	// waiting counts the searches whose rate-limited target's answers
	// ran out (search.Config.Waiting), across all targets: pmtu cannot
	// tell which addresses share a host, and so a rate limit.
	waiting atomic.Int64
}

// localSet is a namespace's addresses and when they were read.
type localSet struct {
	is func(netip.Addr) bool
	at time.Time
}

// localFor is how long an Engine trusts the addresses it read: a run
// over many hosts reads them once, a server (pmtu serve) that runs for
// months follows the host's addresses as they change.
const localFor = 10 * time.Second

// answerKey names a target: its namespace and address.
type answerKey struct {
	netns string
	addr  netip.Addr
}

// answerBudget is the answer budget of one target and when it was last
// drawn on.
type answerBudget struct {
	b    *Budget
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
		b := NewBudget(float64(time.Second)/float64(every), burst)
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
		err := t.b.Wait(ctx)
		e.mu.Lock()
		if n := e.clock(); n.After(t.last) {
			t.last = n
		}
		e.mu.Unlock()
		return err
	}
}

// Budget is a packet budget: a token bucket (golang.org/x/time/rate's)
// that lets at most burst + perSecond×T probes go in any T seconds,
// shared by every search of a run (pmtu's --rate) through Options.Pace.
// Make one with NewBudget; it is safe for concurrent use.
//
// It takes its tokens with rate.Limiter's explicit-time methods, the
// clock read under one lock. Limiter.Wait reads the clock before it
// takes the Limiter's lock, and a Limiter given a time before the last
// it saw moves back to it and counts the time since then again: under
// contention Wait grants more than its rate (2000 goroutines waiting on
// 1000 a second, under the race detector, took their 2000 tokens in
// 1.77 s, where no fewer than 1.99 s were due).
type Budget struct {
	mu sync.Mutex
	l  *rate.Limiter
}

// NewBudget returns a full Budget of burst tokens (at least 1) that gains
// perSecond tokens a second.
func NewBudget(perSecond float64, burst int) *Budget {
	return &Budget{l: rate.NewLimiter(rate.Limit(perSecond), max(1, burst))}
}

// Wait takes one token, waiting until it is due; b.Wait is an
// Options.Pace. It returns ctx.Err() if ctx ends first, and gives the
// token back. A token due only after ctx's deadline is waited for until
// that deadline (where Limiter.Wait fails at once with an error of its
// own), so a search out of time ends as one that ran out of time.
func (b *Budget) Wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	now := time.Now()
	r := b.l.ReserveN(now, 1)
	b.mu.Unlock()
	d := r.DelayFrom(now)
	if d <= 0 {
		return nil // OK: burst is at least 1
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		b.mu.Lock()
		r.CancelAt(time.Now())
		b.mu.Unlock()
		return ctx.Err()
	}
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
// the searches of o.Engine within localFor: a host's addresses do not
// change in the seconds a run over many hosts takes, and reading them
// costs a netlink dump per target. It must be called inside o.Netns, as
// Lookup does.
func (o *Options) localAddrs(nw *network) func(netip.Addr) bool {
	e := o.Engine
	if e == nil {
		return nw.localAddrs()
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.clock()
	if l, ok := e.local[o.Netns]; ok && now.Sub(l.at) < localFor {
		return l.is
	}
	if e.local == nil {
		e.local = map[string]localSet{}
	}
	f := nw.localAddrs()
	e.local[o.Netns] = localSet{f, now}
	return f
}

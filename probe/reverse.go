package probe

import (
	"context"
	"net/netip"
	"sync"
	"time"

	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/probe/search"
	"github.com/pmtu/pmtu/probe/wire"
)

// ReturnBounds is what the replies proved about the return path's MTU
// (search.ReturnBounds): Min, Max (0 when unbounded) and Evidence.
type ReturnBounds = search.ReturnBounds

// Which way a black hole lies.
const (
	BlackHoleForward = search.Forward // probes vanish on the way to the target
	BlackHoleReturn  = search.Return  // the target's large replies vanish on the way back
)

// returnsConn is a conn whose Echo Replies are watched for what they say
// of the return path (search.Returns): how large each was, and the largest
// fragment the kernel reassembled it from (Event.FragSize).
type returnsConn struct {
	wire.Conn
	mu    sync.Mutex
	sizes map[int]mtu.Size // seq → size of the probes sent
	r     search.Returns
}

func newReturnsConn(c wire.Conn) *returnsConn {
	return &returnsConn{Conn: c, sizes: map[int]mtu.Size{}}
}

func (c *returnsConn) Send(ctx context.Context, p wire.Probe) error {
	c.mu.Lock()
	c.sizes[p.Seq] = p.Size
	c.mu.Unlock()
	return c.Conn.Send(ctx, p)
}

// Recv passes every event on; an Echo Reply is as large as its request
// (the transport checks), so its probe's size is the reply's.
func (c *returnsConn) Recv(deadline time.Time) (wire.Event, error) {
	ev, err := c.Conn.Recv(deadline)
	if err == nil && ev.Kind == wire.Reached {
		c.mu.Lock()
		if size, ok := c.sizes[ev.Seq]; ok {
			c.r.Reply(size, ev.FragSize)
		}
		c.mu.Unlock()
	}
	return ev, err
}

// bounds is what the replies so far proved.
func (c *returnsConn) bounds() ReturnBounds {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.r.Bounds()
}

// lost records that replies of size vanished on the way back.
func (c *returnsConn) lost(size mtu.Size) {
	c.mu.Lock()
	c.r.Lost(size)
	c.mu.Unlock()
}

// watchReturns wraps c to watch its replies when they tell of the return
// path: Echo Replies read from a raw socket, which asks for fragment sizes
// (the other methods' answers are small, or come without them). nil when
// they do not.
func watchReturns(c wire.Conn, m Method) *returnsConn {
	if m != MethodICMP {
		return nil
	}
	return newReturnsConn(c)
}

// returnUnknown is the ReturnBounds of a method whose answers say nothing
// of the way back.
var returnUnknown = ReturnBounds{Evidence: search.ReturnUnknown}

// blackHoleDirection tells which way the black hole res found lies
// (search.DirectionOf), and where it is on the way back, finds the forward
// path MTU with probes whose answers are small. Over UDP and TCP the
// answers are small already: a black hole is forward. It changes res and
// rc; it sends nothing unless res found a black hole with Echo probes and
// Options.NoReverse is unset, and gives up quietly (direction unknown)
// where UDP probes cannot be sent or do not get through.
func (t *Target) blackHoleDirection(ctx context.Context, res *Result, rc *returnsConn) {
	if !res.Silence || !res.Confirmed || res.Hi > t.Ceil() {
		return
	}
	if res.Method.Proto() != ProtoICMP {
		res.BlackHoleDirection = BlackHoleForward
		return
	}
	o := &t.opts
	if o.NoReverse || rc == nil {
		return
	}
	c, _, err := t.openProto(ProtoUDP, 0, false)
	if err != nil {
		return
	}
	now := o.world().now
	start := now()
	defer func() { res.Elapsed += now().Sub(start) }()
	dir, n, err := search.DirectionOf(ctx, c, res.Lo, res.Hi, &search.DirectionConfig{Wait: o.Wait, Now: now, Trace: o.OnEvent})
	c.Close()
	res.Probes += n
	res.Rounds += n / 2 // a round is one probe of each size
	if err != nil || dir == "" {
		return
	}
	res.BlackHoleDirection = dir
	if dir != BlackHoleReturn {
		return
	}
	// The replies of res.Hi were lost coming back; the forward path
	// carries it, and perhaps more: search above it with the small
	// answers.
	rc.lost(res.Hi)
	res.Return = rc.bounds()
	// A conn of its own: a search numbers its probes from 1 again.
	c, m, err := t.openProto(ProtoUDP, 0, false)
	if err != nil {
		return
	}
	defer c.Close()
	fwd, err := search.Discover(ctx, c, t.searchConfig(c, res.Hi))
	res.ForwardMethod = m
	if fwd == nil {
		res.PMTU, res.Lo, res.Hi = res.Hi, res.Hi, t.Ceil()+1
		return
	}
	res.Probes += fwd.Probes
	res.Rounds += fwd.Rounds
	res.Voided += fwd.Voided
	res.Events = append(res.Events, fwd.Events...)
	if err != nil || !fwd.Confirmed {
		// Cut short: the forward path carries res.Hi, proved above.
		res.PMTU, res.Lo, res.Hi = max(fwd.Lo, res.Hi), max(fwd.Lo, res.Hi), fwd.Hi
		res.ByICMP, res.LimitingHop = false, netip.Addr{}
		return
	}
	res.PMTU, res.Lo, res.Hi = fwd.PMTU, fwd.Lo, fwd.Hi
	res.ByICMP, res.LimitingHop = fwd.ByICMP, fwd.LimitingHop
}

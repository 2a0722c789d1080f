package probe

import (
	"context"
	"time"

	"github.com/pmtu/pmtu/probe/search"
	"github.com/pmtu/pmtu/probe/wire"
)

// pacedConn is a conn whose every Send first waits for Options.Pace, so
// that many searches together stay within one packet budget.
type pacedConn struct {
	conn
	pace func(context.Context) error
}

func (c pacedConn) Send(ctx context.Context, p wire.Probe) error {
	if err := c.pace(ctx); err != nil {
		return err
	}
	return c.conn.Send(ctx, p)
}

// pacedLimiter keeps a conn's search.ReplyLimiter visible to Discover.
type pacedLimiter struct {
	pacedConn
	rl search.ReplyLimiter
}

func (c pacedLimiter) ReplyLimit() (int, time.Duration) { return c.rl.ReplyLimit() }

// paced wraps c in pace, keeping the optional interface Discover looks
// for; c itself where pace is nil.
func paced(c conn, pace func(context.Context) error) conn {
	if pace == nil {
		return c
	}
	pc := pacedConn{conn: c, pace: pace}
	if rl, ok := c.(search.ReplyLimiter); ok {
		return pacedLimiter{pc, rl}
	}
	return pc
}

package main

import (
	"context"
	"time"

	"github.com/pmtu/pmtu/probe"
	"github.com/pmtu/pmtu/ratebudget"
)

// pacedConn is a probe.Conn whose every Send first takes a token of the
// run's shared budget, so all the searches of a run together stay within
// --rate.
type pacedConn struct {
	probe.Conn
	budget *ratebudget.Bucket
}

func (c pacedConn) Send(ctx context.Context, p probe.Probe) error {
	if err := c.budget.Wait(ctx); err != nil {
		return err
	}
	return c.Conn.Send(ctx, p)
}

// pacedLimiter keeps a conn's probe.ReplyLimiter visible to Discover.
type pacedLimiter struct {
	pacedConn
	rl probe.ReplyLimiter
}

func (c pacedLimiter) ReplyLimit() (int, time.Duration) { return c.rl.ReplyLimit() }

// paced wraps c in the budget b, keeping the optional interface Discover
// looks for.
func paced(c probe.Conn, b *ratebudget.Bucket) probe.Conn {
	pc := pacedConn{Conn: c, budget: b}
	if rl, ok := c.(probe.ReplyLimiter); ok {
		return pacedLimiter{pc, rl}
	}
	return pc
}

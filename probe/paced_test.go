package probe

import (
	"context"
	"testing"
	"time"

	"github.com/pmtu/pmtu/probe/search"
	"github.com/pmtu/pmtu/probe/wire"
	"github.com/pmtu/pmtu/ratebudget"
)

// fakeLimited is a conn that rate-limits its answers.
type fakeLimited struct {
	conn
	sent int
}

func (c *fakeLimited) Send(context.Context, wire.Probe) error { c.sent++; return nil }
func (c *fakeLimited) ReplyLimit() (int, time.Duration)       { return 6, time.Second }

// A paced conn takes a token of the shared budget per Send and keeps the
// ReplyLimiter that Discover looks for.
func TestPaced(t *testing.T) {
	b, err := ratebudget.New(1e6, 1000, nil)
	if err != nil {
		t.Fatal(err)
	}
	inner := &fakeLimited{}
	c := paced(inner, b.Wait)
	rl, ok := c.(search.ReplyLimiter)
	if !ok {
		t.Fatal("the paced conn hides ReplyLimiter")
	}
	if burst, every := rl.ReplyLimit(); burst != 6 || every != time.Second {
		t.Errorf("ReplyLimit %d %v", burst, every)
	}
	for range 3 {
		if err := c.Send(context.Background(), wire.Probe{Size: 1280}); err != nil {
			t.Fatal(err)
		}
	}
	if inner.sent != 3 {
		t.Errorf("%d sends went through, want 3", inner.sent)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Send(ctx, wire.Probe{Size: 1280}); err == nil || inner.sent != 3 {
		t.Errorf("Send on a cancelled context: %v, %d sent", err, inner.sent)
	}
	if _, ok := paced(struct{ conn }{}, b.Wait).(search.ReplyLimiter); ok {
		t.Error("a plain conn became a ReplyLimiter")
	}
	if got := paced(inner, nil); got != conn(inner) {
		t.Error("without a pace the conn is not itself")
	}
}

package measure

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var (
	r1 = netip.MustParseAddr("198.18.1.2")
	r2 = netip.MustParseAddr("198.18.2.2")
)

// Names are looked up in the background; a slow lookup does not hold the
// report longer than NameWait.
func TestTraceNames(t *testing.T) {
	savedWait := NameWait
	defer func() { NameWait = savedWait }()
	NameWait = 50 * time.Millisecond
	lookup := func(ctx context.Context, addr string) ([]string, error) {
		if addr == r2.String() {
			<-ctx.Done() // a lookup that never answers
			return nil, ctx.Err()
		}
		return []string{"r1.example."}, nil
	}
	n := newNamer(context.Background(), lookup, true)
	n.start(r1)
	n.start(r2)
	n.start(r1)
	got := n.wait()
	if diff := cmp.Diff(map[netip.Addr]string{r1: "r1.example"}, got); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
	if off := newNamer(context.Background(), lookup, false); len(func() map[netip.Addr]string { off.start(r1); return off.wait() }()) != 0 {
		t.Error("-n looked a name up")
	}
}

package search

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pmtu/pmtu/internal/probetest"
	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/probe/transport"
)

// A Sample says of each probe what it earned: came back, refused by a
// router, or lost; over many batches, without a probe of one batch
// answering another's.
func TestSample(t *testing.T) {
	p := &probetest.Path{Src: src4, Dst: dst4, RTT: 2 * time.Millisecond, Clock: probetest.NewClock(),
		Hops:     []probetest.Hop{{Addr: netip.MustParseAddr("198.18.1.2"), MTU: 1480}},
		DropSize: func(size, _ int) bool { return size >= 1400 && size <= 1420 }}
	c := transport.NewICMPConn(p.Conn(), p.Dst, &transport.ICMPConfig{Src: p.Src, Now: p.Clock.Now})
	s := NewSampler(c, &SampleConfig{Now: p.Clock.Now})
	sizes := []mtu.Size{1500, 1280, 1410, 1480, 1400, 1399}
	want := []Outcome{Refused, Returned, Lost, Returned, Lost, Returned}
	for range 3 {
		got, err := s.Sample(context.Background(), sizes)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("outcomes (-want +got):\n%s", diff)
		}
	}
	if s.Probes() != 18 || s.Limited() {
		t.Errorf("%d probes, limited %v; want 18, not limited", s.Probes(), s.Limited())
	}
}

// A Sample cut short leaves what it could not judge Pending: the probes
// not sent, and those whose wait was cut, are no evidence of loss.
func TestSampleCutShort(t *testing.T) {
	p := &probetest.Path{Src: src4, Dst: dst4, RTT: 2 * time.Millisecond, Clock: probetest.NewClock()}
	c := transport.NewICMPConn(p.Conn(), p.Dst, &transport.ICMPConfig{Src: p.Src, Now: p.Clock.Now})
	ctx, cancel := context.WithCancel(context.Background())
	sent := 0
	s := NewSampler(c, &SampleConfig{Now: p.Clock.Now, Pace: func(context.Context) error {
		if sent++; sent == 3 {
			cancel()
			return context.Canceled
		}
		return nil
	}})
	got, err := s.Sample(ctx, []mtu.Size{1500, 1400, 1300, 1200})
	if err == nil {
		t.Fatal("no error from a cancelled Sample")
	}
	for i, o := range got {
		if o == Lost {
			t.Errorf("probe %d counted lost in a cut-short Sample: %v", i, got)
		}
	}
	if got[2] != Pending || got[3] != Pending {
		t.Errorf("outcomes %v: the probes not sent are not Pending", got)
	}
}

package pmtucache

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/pmtu/pmtu/route"
)

func TestWithKernel(t *testing.T) {
	here := netA
	failing := netip.MustParseAddr("198.18.9.9")
	errLookup := errors.New("lookup failed")
	asked := map[netip.Addr]int{}
	get := func(_ context.Context, dst netip.Addr) (route.Route, error) {
		asked[dst]++
		if dst == failing {
			return route.Route{}, errLookup
		}
		return route.Route{Dst: dst, MTU: 1400, Cached: true, Expires: 300 * time.Second}, nil
	}
	entries := []Entry{
		{Key: Key{Dst: dst4, Net: here}, PMTU: 1400},
		{Key: Key{Dst: dst4, Src: src4, Net: here}, PMTU: 1300},
		{Key: Key{Dst: dst6}, PMTU: 1280},
		{Key: Key{Dst: netip.MustParseAddr("198.18.4.4"), Net: netB}, PMTU: 1280},
		{Key: Key{Dst: failing, Net: here}, PMTU: 1280},
	}
	rows := WithKernel(context.Background(), entries, here, get)

	kernel := func(dst netip.Addr) *route.Route {
		return &route.Route{Dst: dst, MTU: 1400, Cached: true, Expires: 300 * time.Second}
	}
	want := []Row{
		{Entry: entries[0], Kernel: kernel(dst4)},
		{Entry: entries[1], Kernel: kernel(dst4)},
		{Entry: entries[2]}, // unknown namespace: not asked
		{Entry: entries[3]}, // another namespace: not asked
		{Entry: entries[4], KernelErr: errLookup},
	}
	if diff := cmp.Diff(want, rows, addrCmp, cmpopts.EquateComparable(netip.Prefix{}), cmpopts.EquateErrors()); diff != "" {
		t.Errorf("WithKernel (-want +got):\n%s", diff)
	}
	wantAsked := map[netip.Addr]int{dst4: 1, failing: 1}
	if diff := cmp.Diff(wantAsked, asked, addrCmp); diff != "" {
		t.Errorf("lookups per destination (-want +got):\n%s", diff)
	}
	if rows[0].Kernel == rows[1].Kernel {
		t.Errorf("rows share one *route.Route")
	}
}

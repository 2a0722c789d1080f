package probe

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pmtu/pmtu/internal/probetest"
)

// Lookup's errors say whose mistake it is: the caller's (an InputError,
// naming the option), or the network's (ErrNoRoute, with the Target).
func TestLookupErrors(t *testing.T) {
	clock := probetest.NewClock()
	p := &probetest.Path{Src: netip.MustParseAddr("198.18.0.1"), Dst: netip.MustParseAddr("198.18.4.2"), RTT: time.Millisecond}
	nw := fakeNetwork(clock, p)
	tests := []struct {
		name    string
		host    string
		o       Options
		option  string // InputError.Option; "-" for no InputError
		noRoute bool
	}{
		{"fine", "198.18.4.2", Options{}, "-", false},
		{"ipv6 asked, ipv4 given", "198.18.4.2", Options{Network: "ip6"}, "", false},
		{"source of the other family", "198.18.4.2", Options{Source: netip.MustParseAddr("2001:db8::1")}, "source", false},
		{"source not ours", "198.18.4.2", Options{Source: netip.MustParseAddr("198.18.7.7")}, "source", false},
		{"no such interface", "198.18.4.2", Options{Interface: "nosuch0"}, "interface", false},
		{"no route", "198.18.5.5", Options{}, "-", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.o.sys = nw
			tg, err := Lookup(context.Background(), tt.host, &tt.o)
			var ie *InputError
			gotOption := "-"
			if errors.As(err, &ie) {
				gotOption = ie.Option
			}
			if diff := cmp.Diff(tt.option, gotOption); diff != "" {
				t.Errorf("InputError option (-want +got): %s (err %v)", diff, err)
			}
			if got := errors.Is(err, ErrNoRoute); got != tt.noRoute {
				t.Errorf("ErrNoRoute %v, want %v (err %v)", got, tt.noRoute, err)
			}
			if tt.noRoute && (tg == nil || tg.Addr != netip.MustParseAddr(tt.host)) {
				t.Errorf("no route: target %+v, want one for %s", tg, tt.host)
			}
		})
	}
}

package probe

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"strings"
	"syscall"
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

// A name that does not resolve is said in words: the name server's
// answer, or why none answered, never Go's dial string.
func TestResolveWhy(t *testing.T) {
	refused := &net.DNSError{Err: "read udp 127.0.0.1:59038->127.0.0.1:53: read: connection refused", Server: "127.0.0.1:53",
		UnwrapErr: &net.OpError{Op: "read", Err: os.NewSyscallError("read", syscall.ECONNREFUSED)}}
	unreach := &net.DNSError{Err: "dial udp 10.255.255.53:53: connect: network is unreachable", Server: "10.255.255.53:53",
		UnwrapErr: &net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ENETUNREACH)}}
	tests := []struct {
		err  error
		want string
	}{
		{&net.DNSError{Err: "no such host", Name: "x", IsNotFound: true}, "no such host"},
		{nil, "no such host"},
		{refused, "the name server 127.0.0.1 refused the query (nothing listens there; see /etc/resolv.conf)"},
		{unreach, "the name server 10.255.255.53 is unreachable from here (see /etc/resolv.conf and the routes)"},
		{&net.DNSError{Err: "i/o timeout", Server: "[2001:db8::53]:53", IsTimeout: true}, "the name server 2001:db8::53 did not answer in time"},
		{&net.DNSError{Err: "server misbehaving", IsTemporary: true}, "the name server failed to answer the query (SERVFAIL); try again"},
		// As Go's resolver reports a refused query: the errno only as text.
		{&net.DNSError{Err: "read udp 127.0.0.1:43530->127.0.0.1:53: read: connection refused", Server: "127.0.0.1:53", IsTemporary: true},
			"the name server 127.0.0.1 did not answer (see /etc/resolv.conf); try again"},
	}
	for _, tt := range tests {
		if got := ResolveWhy(tt.err); got != tt.want {
			t.Errorf("ResolveWhy(%v) = %q, want %q", tt.err, got, tt.want)
		}
		if strings.Contains(ResolveWhy(tt.err), "udp") {
			t.Errorf("ResolveWhy(%v) names the socket", tt.err)
		}
	}
}

package probe

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pmtu/pmtu/internal/probetest"
	"github.com/pmtu/pmtu/probe/transport"
	"github.com/pmtu/pmtu/probe/wire"
	"github.com/pmtu/pmtu/route"
)

// classifyNetwork is a fake network for the target classes: the route to
// every address leaves by "veth0" (MTU 1500) on 198.18.1.1/24 or
// 2001:db8:1::1/64; 198.18.7.255 is a broadcast route the kernel names
// without a prefix; multicast IPv4 has no route. Every path carries 1500.
// opened counts the probers opened: a refused target opens none.
func classifyNetwork(opened *int) *network {
	clock := probetest.NewClock()
	return &network{
		resolve:         resolve,
		localAddrs:      func() func(netip.Addr) bool { return func(a netip.Addr) bool { return a.IsLoopback() } },
		interfaceByName: func(string) (*net.Interface, error) { return nil, errors.New("no such interface") },
		route: func(_ context.Context, dst netip.Addr) (route.Route, error) {
			r := route.Route{Dst: dst, IfIndex: 2, IfName: "veth0", IfMTU: 1500, Type: route.Unicast}
			u := dst.Unmap()
			switch {
			case u.IsLoopback():
				r.IfName, r.IfMTU, r.Type = "lo", 65536, route.Local
			case u.Is4() && netip.MustParsePrefix("198.18.1.0/24").Contains(u):
				r.Prefix = netip.MustParsePrefix("198.18.1.1/24")
			case u.Is6() && netip.MustParsePrefix("2001:db8:1::/64").Contains(u):
				r.Prefix = netip.MustParsePrefix("2001:db8:1::1/64")
			case u == netip.MustParseAddr("198.18.7.255"):
				r.Type = route.Broadcast
			case u.Is4() && u.As4()[0] >= 224:
				return route.Route{}, errors.New("network is unreachable")
			}
			return r, nil
		},
		open: func(_ Proto, dst netip.Addr, _ *transport.OpenConfig) (wire.Conn, Method, error) {
			*opened++
			src := netip.MustParseAddr("198.18.1.1")
			if dst.Is6() {
				src = netip.MustParseAddr("2001:db8:1::1")
			}
			p := &probetest.Path{Src: src, Dst: dst.WithZone(""), RTT: time.Millisecond, Clock: clock}
			return transport.NewICMPConn(p.Conn(), p.Dst, &transport.ICMPConfig{Src: src, Now: clock.Now}), MethodICMP, nil
		},
		now: clock.Now,
	}
}

// A target that has no path MTU is refused by Lookup, before any socket
// opens, with one sentence that names the concept.
func TestLookupRefusesTargets(t *testing.T) {
	tests := []struct{ host, want string }{
		{"0.0.0.0", "0.0.0.0 is the unspecified address: it names no host, so it has no path MTU; give the address of the host to measure"},
		{"::", ":: is the unspecified address: it names no host, so it has no path MTU; give the address of the host to measure"},
		{"255.255.255.255", "255.255.255.255 is the limited broadcast address: it reaches every host on the link, so it has no single path MTU"},
		{"198.18.1.255", "198.18.1.255 is the broadcast address of 198.18.1.0/24: it reaches every host on that subnet, so it has no single path MTU"},
		{"198.18.7.255", "198.18.7.255 is a broadcast address: it reaches every host on its subnet, so it has no single path MTU"},
		{"::ffff:198.18.1.255", "::ffff:198.18.1.255 is the broadcast address of 198.18.1.0/24: it reaches every host on that subnet, so it has no single path MTU"},
		{"224.0.0.1", "224.0.0.1 is a multicast group: it has no single path MTU; give the unicast address of one member"},
		{"ff02::1", "ff02::1 is a multicast group: it has no single path MTU; give the unicast address of one member"},
		{"[ff05::2]", "ff05::2 is a multicast group: it has no single path MTU; give the unicast address of one member"},
		{"fe80::1", "fe80::1 is link-local: name the interface, e.g. fe80::1%eth0"},
		{"2001:db8:2::2%lo", "2001:db8:2::2%lo has a zone (%lo), but only link-local addresses take one: give 2001:db8:2::2"},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			var opened int
			o := &Options{sys: classifyNetwork(&opened)}
			_, err := Find(context.Background(), tt.host, o)
			var ie *InputError
			if !errors.As(err, &ie) || ie.Option != "" {
				t.Fatalf("Find(%s): %v, want an InputError about the host", tt.host, err)
			}
			if ie.Msg != tt.want {
				t.Errorf("message %q, want %q", ie.Msg, tt.want)
			}
			if opened != 0 {
				t.Errorf("%d probers opened, want none", opened)
			}
		})
	}
}

// The addresses that stay working: a mapped address is probed as its IPv4
// address, loopback with a note; probes are sent.
func TestLookupAcceptsTargets(t *testing.T) {
	tests := []struct{ host, addr, note string }{
		{"::ffff:198.18.3.2", "198.18.3.2", "::ffff:198.18.3.2 is an IPv4-mapped IPv6 address: probing the IPv4 address 198.18.3.2"},
		{"127.0.0.1", "127.0.0.1", "127.0.0.1 is a loopback address: the path never leaves the host"},
		{"::1", "::1", "::1 is a loopback address: the path never leaves the host"},
		{"198.18.1.254", "198.18.1.254", ""},
		{"fe80::1%veth0", "fe80::1%veth0", ""},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			var opened int
			o := &Options{sys: classifyNetwork(&opened), MaxSize: 1500}
			res, err := Find(context.Background(), tt.host, o)
			if err != nil {
				t.Fatalf("Find(%s): %v", tt.host, err)
			}
			if got := res.Target.Addr.String(); got != tt.addr {
				t.Errorf("address %s, want %s", got, tt.addr)
			}
			if res.Target.Note != tt.note {
				t.Errorf("note %q, want %q", res.Target.Note, tt.note)
			}
			if opened != 1 || res.Probes == 0 || res.PMTU != 1500 {
				t.Errorf("%d probers opened, %d probes, pmtu %d; want 1, some, 1500", opened, res.Probes, res.PMTU)
			}
		})
	}
}

package target

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCheck(t *testing.T) {
	onLink := Egress{Prefix: netip.MustParsePrefix("198.18.1.1/24")}
	tests := []struct {
		name  string
		addr  string
		eg    Egress
		class Class
		msg   string // the error's text; "" when accepted
		want  Target // when accepted
	}{
		{"IPv4 unspecified", "0.0.0.0", Egress{}, Unspecified,
			"0.0.0.0 is the unspecified address: it names no host, so it has no path MTU; give the address of the host to measure", Target{}},
		{"IPv6 unspecified", "::", Egress{}, Unspecified,
			":: is the unspecified address: it names no host, so it has no path MTU; give the address of the host to measure", Target{}},
		{"mapped unspecified", "::ffff:0.0.0.0", Egress{}, Unspecified,
			"::ffff:0.0.0.0 is the unspecified address: it names no host, so it has no path MTU; give the address of the host to measure", Target{}},
		{"limited broadcast", "255.255.255.255", Egress{}, LimitedBroadcast,
			"255.255.255.255 is the limited broadcast address: it reaches every host on the link, so it has no single path MTU", Target{}},
		{"directed broadcast from the prefix", "198.18.1.255", onLink, DirectedBroadcast,
			"198.18.1.255 is the broadcast address of 198.18.1.0/24: it reaches every host on that subnet, so it has no single path MTU", Target{}},
		{"directed broadcast the kernel routes as one", "198.18.1.255", Egress{Broadcast: true}, DirectedBroadcast,
			"198.18.1.255 is a broadcast address: it reaches every host on its subnet, so it has no single path MTU", Target{}},
		{"IPv4 multicast", "224.0.0.1", Egress{}, Multicast,
			"224.0.0.1 is a multicast group: it has no single path MTU; give the unicast address of one member", Target{}},
		{"IPv6 multicast", "ff02::1", Egress{}, Multicast,
			"ff02::1 is a multicast group: it has no single path MTU; give the unicast address of one member", Target{}},
		{"IPv6 multicast with a zone", "ff02::1%eth0", Egress{}, Multicast,
			"ff02::1%eth0 is a multicast group: it has no single path MTU; give the unicast address of one member", Target{}},
		{"link-local without zone", "fe80::1", Egress{}, LinkLocalNoZone,
			"fe80::1 is link-local: name the interface, e.g. fe80::1%eth0", Target{}},
		{"zone on a global address", "2001:db8:2::2%lo", Egress{}, ZoneNotLinkLocal,
			"2001:db8:2::2%lo has a zone (%lo), but only link-local addresses take one: give 2001:db8:2::2", Target{}},

		{"IPv4 unicast", "198.18.3.2", Egress{}, Unicast, "", Target{Addr: netip.MustParseAddr("198.18.3.2")}},
		{"IPv4 host on the subnet", "198.18.1.254", onLink, Unicast, "", Target{Addr: netip.MustParseAddr("198.18.1.254")}},
		{"last address of a /31", "198.18.1.1", Egress{Prefix: netip.MustParsePrefix("198.18.1.0/31")}, Unicast, "",
			Target{Addr: netip.MustParseAddr("198.18.1.1")}},
		{"IPv6 unicast", "2001:db8:3::2", Egress{}, Unicast, "", Target{Addr: netip.MustParseAddr("2001:db8:3::2")}},
		{"link-local with zone", "fe80::1%eth0", Egress{}, Unicast, "", Target{Addr: netip.MustParseAddr("fe80::1%eth0")}},
		{"IPv4-mapped", "::ffff:198.18.3.2", Egress{}, Unicast, "", Target{Addr: netip.MustParseAddr("198.18.3.2"),
			Note: "::ffff:198.18.3.2 is an IPv4-mapped IPv6 address: probing the IPv4 address 198.18.3.2"}},
		{"IPv4 loopback", "127.0.0.1", Egress{}, Loopback, "", Target{Addr: netip.MustParseAddr("127.0.0.1"), Class: Loopback,
			Note: "127.0.0.1 is a loopback address: the path never leaves the host"}},
		{"IPv6 loopback", "::1", Egress{}, Loopback, "", Target{Addr: netip.MustParseAddr("::1"), Class: Loopback,
			Note: "::1 is a loopback address: the path never leaves the host"}},
		{"own IPv4 address", "198.18.1.1", Egress{Local: true}, Local, "", Target{Addr: netip.MustParseAddr("198.18.1.1"), Class: Local,
			Note: "198.18.1.1 is an address of this host: the path never leaves the host"}},
		{"own IPv6 address", "2001:db8:1::1", Egress{Local: true}, Local, "", Target{Addr: netip.MustParseAddr("2001:db8:1::1"), Class: Local,
			Note: "2001:db8:1::1 is an address of this host: the path never leaves the host"}},
		{"mapped loopback", "::ffff:127.0.0.1", Egress{}, Loopback, "", Target{Addr: netip.MustParseAddr("127.0.0.1"), Class: Loopback,
			Note: "::ffff:127.0.0.1 is an IPv4-mapped IPv6 address: probing the IPv4 address 127.0.0.1; 127.0.0.1 is a loopback address: the path never leaves the host"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Check(netip.MustParseAddr(tt.addr), tt.eg)
			if tt.msg == "" {
				if err != nil {
					t.Fatalf("Check(%s) = %v, want it accepted", tt.addr, err)
				}
				tt.want.Class = tt.class
				if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
					t.Errorf("Check(%s) (-want +got):\n%s", tt.addr, diff)
				}
				return
			}
			var te *Error
			if !errors.As(err, &te) {
				t.Fatalf("Check(%s) = %+v, %v; want an *Error", tt.addr, got, err)
			}
			if te.Class != tt.class || !te.Class.Refused() {
				t.Errorf("class %v, want %v (refused)", te.Class, tt.class)
			}
			if diff := cmp.Diff(tt.msg, err.Error()); diff != "" {
				t.Errorf("message (-want +got):\n%s", diff)
			}
		})
	}
}

func TestIsBroadcastOf(t *testing.T) {
	tests := []struct {
		addr, prefix string
		want         bool
	}{
		{"198.18.1.255", "198.18.1.0/24", true},
		{"198.18.1.127", "198.18.1.0/25", true},
		{"198.18.1.255", "198.18.1.128/25", true},
		{"198.18.1.127", "198.18.1.128/25", false}, // outside
		{"198.18.1.254", "198.18.1.0/24", false},
		{"198.18.255.255", "198.18.0.0/16", true},
		{"198.18.1.3", "198.18.1.2/31", false},
		{"198.18.1.1", "198.18.1.1/32", false},
		{"198.18.1.255", "", false},
	}
	for _, tt := range tests {
		var p netip.Prefix
		if tt.prefix != "" {
			p = netip.MustParsePrefix(tt.prefix)
		}
		if got := isBroadcastOf(netip.MustParseAddr(tt.addr), p); got != tt.want {
			t.Errorf("isBroadcastOf(%s, %s) = %v, want %v", tt.addr, tt.prefix, got, tt.want)
		}
	}
}

func FuzzCheck(f *testing.F) {
	for _, s := range []string{"0.0.0.0", "::", "255.255.255.255", "224.0.0.1", "ff02::1", "fe80::1", "fe80::1%eth0", "2001:db8::1%lo", "::ffff:198.18.1.2", "198.18.1.255"} {
		f.Add(s, "198.18.1.0/24")
	}
	f.Fuzz(func(t *testing.T, addr, prefix string) {
		a, err := netip.ParseAddr(addr)
		if err != nil {
			return
		}
		p, _ := netip.ParsePrefix(prefix)
		got, err := Check(a, Egress{Prefix: p})
		if err != nil {
			var te *Error
			if !errors.As(err, &te) || !te.Class.Refused() {
				t.Fatalf("Check(%s): %v is not a refusal", a, err)
			}
			return
		}
		if got.Class.Refused() || got.Addr.Is4In6() || !got.Addr.IsValid() {
			t.Fatalf("Check(%s) accepted %+v", a, got)
		}
	})
}

package target_test

import (
	"fmt"
	"net/netip"

	"github.com/pmtu/pmtu/probe/target"
)

func ExampleCheck() {
	on := target.Egress{Prefix: netip.MustParsePrefix("198.18.1.1/24")}
	for _, s := range []string{"224.0.0.1", "198.18.1.255", "fe80::1", "::ffff:198.18.1.2"} {
		t, err := target.Check(netip.MustParseAddr(s), on)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println("probe", t.Addr, "-", t.Note)
	}
	// Output:
	// 224.0.0.1 is a multicast group: it has no single path MTU; give the unicast address of one member
	// 198.18.1.255 is the broadcast address of 198.18.1.0/24: it reaches every host on that subnet, so it has no single path MTU
	// fe80::1 is link-local: name the interface, e.g. fe80::1%eth0
	// probe 198.18.1.2 - ::ffff:198.18.1.2 is an IPv4-mapped IPv6 address: probing the IPv4 address 198.18.1.2
}

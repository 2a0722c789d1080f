package explain_test

import (
	"fmt"

	"github.com/pmtu/pmtu/explain"
)

func ExampleDescribe() {
	in := explain.Describe(4, 3, 13)
	fmt.Println(in.Name)
	fmt.Println(in.Kind)
	fmt.Println(in.Sender)
	// Output:
	// communication administratively prohibited
	// filtered
	// a router on the path or the destination host
}

func ExampleDescribe_unknown() {
	fmt.Println(explain.Describe(4, 3, 42).Name)
	// Output: unknown ICMP type 3 code 42
}

func ExampleLookup() {
	// A prober branches on the kind, not on words.
	for _, tc := range [][3]int{{4, 3, 4}, {4, 3, 3}, {6, 1, 1}, {6, 3, 0}} {
		in, ok := explain.Lookup(tc[0], tc[1], tc[2])
		if !ok {
			continue
		}
		switch in.Kind {
		case explain.PathMTU:
			fmt.Println(in.Name, "-> read the MTU it names")
		case explain.Reached:
			fmt.Println(in.Name, "-> the probe arrived")
		case explain.InTransit:
			fmt.Println(in.Name, "-> one hop further")
		default:
			fmt.Println(in.Name, "-> stop:", in.Kind)
		}
	}
	// Output:
	// fragmentation needed and DF set -> read the MTU it names
	// port unreachable -> the probe arrived
	// administratively prohibited -> stop: filtered
	// hop limit exceeded in transit -> one hop further
}

func ExampleInfo_Sentence() {
	in := explain.Describe(4, 3, 1)
	fmt.Println(in.Sentence("198.18.2.2"))
	// Output: 198.18.2.2: host unreachable (type 3, code 1): a router could not hand the packet to the destination host, usually because ARP for it got no answer on the last link; check that the destination is up and on the last router's link (ip neigh show there: FAILED or INCOMPLETE means no ARP reply), then look for an unreachable route or a host-unreachable reject rule
}

func ExampleLinkHint() {
	for _, mtu := range []int{1500, 1450, 1400} {
		if hint, ok := explain.LinkHint(4, mtu); ok {
			fmt.Println(hint)
		} else {
			fmt.Println(mtu, "matches no common link")
		}
	}
	// Output:
	// 1500: Ethernet
	// 1450: 50 bytes less than Ethernet, the usual VXLAN overhead
	// 1400 matches no common link
}

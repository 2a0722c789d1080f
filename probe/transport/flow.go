package transport

import "fmt"

// Flow is what routers that spread traffic over equal-cost paths (ECMP)
// hash on, besides the addresses and the protocol: every probe of a conn
// carries the same one, so that a search never straddles two branches
// (Paris traceroute, Augustin et al. 2006). Only size and hop limit
// change from probe to probe.
//
//   - UDP: one socket per conn, so one source port (SrcPort).
//   - TCP: one source port per conn (SrcPort); each SYN its own initial
//     sequence number, which identifies it.
//   - ICMP Echo: one identifier (EchoID), and a checksum kept constant
//     by a pad word in the data (wire.EchoPad). Linux routers hash Echo by
//     addresses only, so Echo probes cannot spread over flows there.
//   - IPv6: the flow label the kernel derives from the 5-tuple
//     (net.ipv6.auto_flowlabels) for a UDP socket's unconnected sends:
//     a hash of the 5-tuple, so constant for a conn and different for
//     another source port.
type Flow struct {
	SrcPort uint16 // UDP, TCP: the source port of every probe
	EchoID  uint16 // ICMP Echo: the identifier of every probe
}

// String says the flow in the words of -v: "source port 40001",
// "echo id 7".
func (f Flow) String() string {
	switch {
	case f.SrcPort != 0:
		return fmt.Sprintf("source port %d", f.SrcPort)
	case f.EchoID != 0:
		return fmt.Sprintf("echo id %d", f.EchoID)
	}
	return "no flow"
}

// Flower is a conn that says its flow.
type Flower interface{ Flow() Flow }

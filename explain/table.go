package explain

// Who sends a message, as Info.Sender says it.
const (
	byRouter   = "a router on the path"
	byLastHop  = "a router on the path, usually the last one before the destination"
	byFirstHop = "the first-hop router"
	byHost     = "the destination host"
	byEither   = "a router on the path or the destination host"
)

// table is every ICMP error this package explains, ordered by family, type
// and code. Meaning and Next are clauses: lower case first, no final period.
var table = []Info{
	// ICMPv4 destination unreachable (type 3).
	{
		Family: 4, Type: 3, Code: 0, Name: "net unreachable", Sender: byRouter, Kind: NoRoute, RFC: "RFC 792",
		Meaning: "a router has no route to the destination network (a Linux router sends this when its routing table has no match)",
		Next:    "check the routing table of the router that sent it (ip route get DST there) and the routes toward the destination network",
	},
	{
		Family: 4, Type: 3, Code: 1, Name: "host unreachable", Sender: byLastHop, Kind: HostMissing, RFC: "RFC 792",
		Meaning: "a router could not hand the packet to the destination host, usually because ARP for it got no answer on the last link",
		Next:    "check that the destination is up and on the last router's link (ip neigh show there: FAILED or INCOMPLETE means no ARP reply), then look for an unreachable route or a host-unreachable reject rule",
	},
	{
		Family: 4, Type: 3, Code: 2, Name: "protocol unreachable", Sender: byHost, Kind: Reached, RFC: "RFC 792",
		Meaning: "the destination host got the packet but does not handle the transport protocol it carried",
		Next:    "the path carried the packet to the host, so probe with UDP or ICMP echo instead; if the sender is not the destination address, a firewall's reject rule sent it",
	},
	{
		Family: 4, Type: 3, Code: 3, Name: "port unreachable", Sender: byHost, Kind: Reached, RFC: "RFC 792",
		Meaning: "the destination host got the packet and nothing listens on that port",
		Next:    "for a UDP probe this is the expected answer and the path is fine; if the sender is not the destination address, a firewall's reject rule sent it (iptables REJECT and nftables reject send port unreachable by default)",
	},
	{
		Family: 4, Type: 3, Code: 4, Name: "fragmentation needed and DF set", Sender: byRouter, Kind: PathMTU, RFC: "RFC 792, RFC 1191",
		Meaning: "a router could not forward the packet onto a link with a smaller MTU, and the Don't Fragment bit forbade splitting it",
		Next:    "the Next-Hop MTU names the limit of that router's next link (0 means a pre-RFC-1191 router that names none); if it is lower than expected, check that link's MTU, its route mtu and any tunnel overhead",
	},
	{
		Family: 4, Type: 3, Code: 5, Name: "source route failed", Sender: byRouter, Kind: Other, RFC: "RFC 792",
		Meaning: "a router could not follow the source route option the packet carried",
		Next:    "probes carry no IP options, so look for a device on the path that adds a source route; most networks drop source-routed packets anyway",
	},
	{
		Family: 4, Type: 3, Code: 6, Name: "destination network unknown", Sender: byRouter, Kind: NoRoute, RFC: "RFC 1122, RFC 1812 §5.2.7.1",
		Meaning: "a router knows that the destination network does not exist (RFC 1812 asks routers to send net unreachable instead)",
		Next:    "check the destination address for a typo, then the routing table of the router that sent it",
	},
	{
		Family: 4, Type: 3, Code: 7, Name: "destination host unknown", Sender: byLastHop, Kind: HostMissing, RFC: "RFC 1122, RFC 1812 §5.2.7.1",
		Meaning: "the last router learned from its link layer that the destination host does not exist",
		Next:    "check the destination address and whether that host still exists on the last router's link",
	},
	{
		Family: 4, Type: 3, Code: 8, Name: "source host isolated", Sender: byRouter, Kind: Other, RFC: "RFC 1122, RFC 1812 §5.2.7.1",
		Meaning: "an obsolete code saying the sending host is cut off from the network; RFC 1812 tells routers to send net or host unreachable instead",
		Next:    "treat it like net or host unreachable and find out which old device sent it",
	},
	{
		Family: 4, Type: 3, Code: 9, Name: "network administratively prohibited", Sender: byEither, Kind: Filtered, RFC: "RFC 1122",
		Meaning: "a filter refuses traffic to the destination network",
		Next:    "check ACLs and firewalls on the device that sent it (iptables REJECT --reject-with icmp-net-prohibited, nftables reject with icmp type net-prohibited)",
	},
	{
		Family: 4, Type: 3, Code: 10, Name: "host administratively prohibited", Sender: byEither, Kind: Filtered, RFC: "RFC 1122",
		Meaning: "a filter refuses traffic to the destination host",
		Next:    "check ACLs and firewalls on the device that sent it (iptables REJECT --reject-with icmp-host-prohibited, the old Red Hat default, or nftables reject with icmp type host-prohibited)",
	},
	{
		Family: 4, Type: 3, Code: 11, Name: "network unreachable for TOS", Sender: byRouter, Kind: NoRoute, RFC: "RFC 1122",
		Meaning: "a router has no route to the destination network for the packet's type of service",
		Next:    "check TOS or DSCP based routing (ip rule ... tos) on the router that sent it, and the TOS byte the probes carry",
	},
	{
		Family: 4, Type: 3, Code: 12, Name: "host unreachable for TOS", Sender: byLastHop, Kind: HostMissing, RFC: "RFC 1122",
		Meaning: "a router cannot reach the destination host for the packet's type of service",
		Next:    "check TOS or DSCP based routing on the router that sent it and that the host is up on its link",
	},
	{
		Family: 4, Type: 3, Code: 13, Name: "communication administratively prohibited", Sender: byEither, Kind: Filtered, RFC: "RFC 1812 §5.2.7.1",
		Meaning: "a filter rejects this traffic",
		Next:    "check ACLs and firewalls on the device that sent it: nftables or iptables reject rules (admin-prohibited) or a Linux prohibit route (ip route show type prohibit)",
	},
	{
		Family: 4, Type: 3, Code: 14, Name: "host precedence violation", Sender: byFirstHop, Kind: Filtered, RFC: "RFC 1812 §5.2.7.1",
		Meaning: "the first-hop router does not allow the IP precedence the packet asked for toward this destination",
		Next:    "check the precedence bits (the top of the TOS/DSCP byte) the probes carry and that router's precedence policy",
	},
	{
		Family: 4, Type: 3, Code: 15, Name: "precedence cutoff in effect", Sender: byRouter, Kind: Filtered, RFC: "RFC 1812 §5.2.7.1",
		Meaning: "the network requires a minimum IP precedence and the packet's was below it",
		Next:    "check the DSCP/precedence marking of the probes and the QoS policy of the router that sent it",
	},

	// ICMPv4 source quench (type 4).
	{
		Family: 4, Type: 4, Code: 0, Name: "source quench", Sender: byEither, Kind: Other, RFC: "RFC 792, RFC 6633",
		Meaning: "an old congestion signal asking the sender to slow down, deprecated by RFC 6633",
		Next:    "hosts ignore it and it says nothing about the path MTU, so keep probing and find out which old device sends it",
	},

	// ICMPv4 redirect (type 5).
	{
		Family: 4, Type: 5, Code: 0, Name: "redirect datagram for the network", Sender: byFirstHop, Kind: Other, RFC: "RFC 792",
		Meaning: "the first-hop router forwarded the packet and says another router on the same link is a better next hop for this network",
		Next:    "the packet still went on; check this host's routes and gateway (and net.ipv4.conf.*.accept_redirects)",
	},
	{
		Family: 4, Type: 5, Code: 1, Name: "redirect datagram for the host", Sender: byFirstHop, Kind: Other, RFC: "RFC 792",
		Meaning: "the first-hop router forwarded the packet and says another router on the same link is a better next hop for this host",
		Next:    "the packet still went on; check this host's routes and gateway (and net.ipv4.conf.*.accept_redirects)",
	},
	{
		Family: 4, Type: 5, Code: 2, Name: "redirect datagram for the type of service and network", Sender: byFirstHop, Kind: Other, RFC: "RFC 792",
		Meaning: "the first-hop router says another router on the same link is a better next hop for this network and type of service",
		Next:    "the packet still went on; check this host's routes and gateway",
	},
	{
		Family: 4, Type: 5, Code: 3, Name: "redirect datagram for the type of service and host", Sender: byFirstHop, Kind: Other, RFC: "RFC 792",
		Meaning: "the first-hop router says another router on the same link is a better next hop for this host and type of service",
		Next:    "the packet still went on; check this host's routes and gateway",
	},

	// ICMPv4 time exceeded (type 11).
	{
		Family: 4, Type: 11, Code: 0, Name: "time to live exceeded in transit", Sender: byRouter, Kind: InTransit, RFC: "RFC 792",
		Meaning: "a router dropped the packet because its TTL ran out",
		Next:    "normal for a probe sent with a small TTL, as traceroute does; with a full TTL it means a routing loop, so compare the routes of the routers around the sender",
	},
	{
		Family: 4, Type: 11, Code: 1, Name: "fragment reassembly time exceeded", Sender: byHost, Kind: Other, RFC: "RFC 792",
		Meaning: "the destination host did not get all fragments of a datagram in time and dropped the ones it had",
		Next:    "fragments are lost on the way (often a firewall or NAT dropping non-first fragments); send whole packets with DF set and find the path MTU instead",
	},

	// ICMPv4 parameter problem (type 12).
	{
		Family: 4, Type: 12, Code: 0, Name: "pointer indicates the error", Sender: byEither, Kind: Other, RFC: "RFC 792",
		Meaning: "a router or the host found a bad field in the IP header, and the pointer names the byte",
		Next:    "decode the quoted header at the pointer's offset; a middlebox that rewrites headers or options is the usual cause",
	},
	{
		Family: 4, Type: 12, Code: 1, Name: "missing a required option", Sender: byEither, Kind: Other, RFC: "RFC 1108",
		Meaning: "the receiver requires an IP option the packet lacks, usually the security option of RFC 1108",
		Next:    "check whether the network demands labelled traffic (RFC 1108 or CIPSO security options)",
	},
	{
		Family: 4, Type: 12, Code: 2, Name: "bad length", Sender: byEither, Kind: Other, RFC: "IANA ICMP parameters",
		Meaning: "a router or the host found a length in the IP header that does not match the packet",
		Next:    "decode the quoted header; a device that truncates or pads packets is the usual cause",
	},

	// ICMPv6 destination unreachable (type 1).
	{
		Family: 6, Type: 1, Code: 0, Name: "no route", Sender: byRouter, Kind: NoRoute, RFC: "RFC 4443",
		Meaning: "a router has no route to the destination (a Linux router also sends this for an unreachable route)",
		Next:    "check the routing table of the router that sent it (ip -6 route get DST there) and the routes toward the destination prefix",
	},
	{
		Family: 6, Type: 1, Code: 1, Name: "administratively prohibited", Sender: byEither, Kind: Filtered, RFC: "RFC 4443",
		Meaning: "a filter rejects this traffic",
		Next:    "check ACLs and firewalls on the device that sent it: nftables or ip6tables reject rules (admin-prohibited) or a Linux prohibit route (ip -6 route show type prohibit)",
	},
	{
		Family: 6, Type: 1, Code: 2, Name: "beyond scope of source address", Sender: byRouter, Kind: Other, RFC: "RFC 4443",
		Meaning: "the source address has a smaller scope than the destination (a link-local source sent off the link), so the router may not forward it",
		Next:    "check which source address the probe used and give the host a global address on the egress interface",
	},
	{
		Family: 6, Type: 1, Code: 3, Name: "address unreachable", Sender: byLastHop, Kind: HostMissing, RFC: "RFC 4443",
		Meaning: "a router could not hand the packet to the destination address, usually because Neighbor Discovery got no answer on the last link",
		Next:    "check that the destination is up and on the last router's link (ip -6 neigh show there: FAILED or INCOMPLETE means no answer)",
	},
	{
		Family: 6, Type: 1, Code: 4, Name: "port unreachable", Sender: byHost, Kind: Reached, RFC: "RFC 4443",
		Meaning: "the destination host got the packet and nothing listens on that port",
		Next:    "for a UDP probe this is the expected answer and the path is fine; if the sender is not the destination address, a firewall's reject rule sent it (ip6tables REJECT and nftables reject send port unreachable by default)",
	},
	{
		Family: 6, Type: 1, Code: 5, Name: "source address failed ingress/egress policy", Sender: byRouter, Kind: Filtered, RFC: "RFC 4443",
		Meaning: "a router's source address filter (BCP 38, uRPF) rejects packets from this source address",
		Next:    "check that the source address belongs to a prefix the network assigned to this host, and the source filters of the router that sent it",
	},
	{
		Family: 6, Type: 1, Code: 6, Name: "reject route to destination", Sender: byRouter, Kind: NoRoute, RFC: "RFC 4443",
		Meaning: "a router has a reject route for the destination prefix",
		Next:    "look for a reject route covering the destination on the router that sent it, or an nftables rule reject with icmpv6 type reject-route (Linux unreachable routes send no route instead)",
	},
	{
		Family: 6, Type: 1, Code: 7, Name: "error in source routing header", Sender: byRouter, Kind: Other, RFC: "RFC 6550, RFC 6554",
		Meaning: "a node processing a source routing header (RPL, RFC 6554) found it invalid",
		Next:    "probes carry no routing header, so look for a device that inserts one, such as a RPL border router",
	},
	{
		Family: 6, Type: 1, Code: 8, Name: "headers too long", Sender: byRouter, Kind: Other, RFC: "RFC 8883",
		Meaning: "a router dropped the packet because its header chain is longer than the router can process",
		Next:    "probes carry no extension headers, so look for a device that adds them (segment routing, tunnels)",
	},

	// ICMPv6 packet too big (type 2).
	{
		Family: 6, Type: 2, Code: 0, Name: "packet too big", Sender: byRouter, Kind: PathMTU, RFC: "RFC 4443, RFC 8201",
		Meaning: "a router could not forward the packet onto a link with a smaller MTU (IPv6 routers never fragment)",
		Next:    "the MTU field names the limit of that router's next link (values below 1280 are invalid and Linux ignores them); if it is lower than expected, check that link's MTU, its route mtu and any tunnel overhead",
	},

	// ICMPv6 time exceeded (type 3).
	{
		Family: 6, Type: 3, Code: 0, Name: "hop limit exceeded in transit", Sender: byRouter, Kind: InTransit, RFC: "RFC 4443",
		Meaning: "a router dropped the packet because its hop limit ran out",
		Next:    "normal for a probe sent with a small hop limit, as traceroute does; with a full hop limit it means a routing loop, so compare the routes of the routers around the sender",
	},
	{
		Family: 6, Type: 3, Code: 1, Name: "fragment reassembly time exceeded", Sender: byHost, Kind: Other, RFC: "RFC 4443",
		Meaning: "the destination host did not get all fragments of a packet in time and dropped the ones it had",
		Next:    "fragments are lost on the way (often a firewall dropping IPv6 fragments); send packets no larger than the path MTU instead",
	},

	// ICMPv6 parameter problem (type 4).
	{
		Family: 6, Type: 4, Code: 0, Name: "erroneous header field encountered", Sender: byEither, Kind: Other, RFC: "RFC 4443",
		Meaning: "a node found a bad field in the IPv6 header or an extension header, and the pointer names the byte",
		Next:    "decode the quoted packet at the pointer's offset; a middlebox that rewrites headers is the usual cause",
	},
	{
		Family: 6, Type: 4, Code: 1, Name: "unrecognized next header type encountered", Sender: byHost, Kind: Reached, RFC: "RFC 4443, RFC 8883",
		Meaning: "the destination host got the packet but does not handle its next header (IPv6's protocol unreachable)",
		Next:    "the path carried the packet to the host, so probe with UDP or ICMPv6 echo instead; if the sender is not the destination address, a router or firewall sent it",
	},
	{
		Family: 6, Type: 4, Code: 2, Name: "unrecognized IPv6 option encountered", Sender: byEither, Kind: Other, RFC: "RFC 4443",
		Meaning: "a node met an IPv6 option it does not know whose type asks it to drop the packet",
		Next:    "probes carry no IPv6 options, so look for a device that adds them",
	},
	{
		Family: 6, Type: 4, Code: 3, Name: "IPv6 first fragment has incomplete IPv6 header chain", Sender: byEither, Kind: Other, RFC: "RFC 7112",
		Meaning: "the first fragment of a packet did not hold the whole header chain up to the transport header, so a node dropped it",
		Next:    "send whole packets no larger than the path MTU; if the probes are not fragmented, look for a device that fragments or adds headers",
	},
	{
		Family: 6, Type: 4, Code: 4, Name: "SR upper-layer header error", Sender: byRouter, Kind: Other, RFC: "RFC 8754",
		Meaning: "a segment routing node could not process the header that follows the segment routing header",
		Next:    "check the segment routing (SRv6) policy that steers the probes",
	},
	{
		Family: 6, Type: 4, Code: 5, Name: "unrecognized next header type encountered by intermediate node", Sender: byRouter, Kind: Other, RFC: "RFC 8883",
		Meaning: "a router that inspects headers met a next header type it does not know and dropped the packet",
		Next:    "check the filters of the router that sent it; probe with UDP or ICMPv6 echo, which every router knows",
	},
	{
		Family: 6, Type: 4, Code: 6, Name: "extension header too big", Sender: byRouter, Kind: Other, RFC: "RFC 8883",
		Meaning: "a router dropped the packet because one extension header exceeds what it can process",
		Next:    "probes carry no extension headers, so look for a device that adds them",
	},
	{
		Family: 6, Type: 4, Code: 7, Name: "extension header chain too long", Sender: byRouter, Kind: Other, RFC: "RFC 8883",
		Meaning: "a router dropped the packet because the chain of extension headers exceeds what it can process",
		Next:    "probes carry no extension headers, so look for a device that adds them",
	},
	{
		Family: 6, Type: 4, Code: 8, Name: "too many extension headers", Sender: byRouter, Kind: Other, RFC: "RFC 8883",
		Meaning: "a router dropped the packet because it carries more extension headers than the router allows",
		Next:    "probes carry no extension headers, so look for a device that adds them",
	},
	{
		Family: 6, Type: 4, Code: 9, Name: "too many options in extension header", Sender: byRouter, Kind: Other, RFC: "RFC 8883",
		Meaning: "a router dropped the packet because an extension header holds more options than the router allows",
		Next:    "probes carry no IPv6 options, so look for a device that adds them",
	},
	{
		Family: 6, Type: 4, Code: 10, Name: "option too big", Sender: byRouter, Kind: Other, RFC: "RFC 8883",
		Meaning: "a router dropped the packet because an IPv6 option is larger than the router allows",
		Next:    "probes carry no IPv6 options, so look for a device that adds them",
	},
}

package transport

// Proto is what probes are made of, as the user asks for it.
type Proto string

// Probe protocols.
const (
	ProtoICMP Proto = "icmp" // Echo Requests
	ProtoUDP  Proto = "udp"  // datagrams to a high port, reached on Port wire.Unreachable or a reply
	ProtoTCP  Proto = "tcp"  // SYNs carrying the probe's size as payload; without privilege, data segments of connections
	ProtoQUIC Proto = "quic" // QUIC long-header packets of a reserved version, answered by Version Negotiation
)

// Protos lists the protocols, for usage messages.
var Protos = []Proto{ProtoICMP, ProtoUDP, ProtoTCP, ProtoQUIC}

// DefaultPort is the destination port of a protocol's probes: 33434 for
// UDP (traceroute's first port: nothing listens there, so the target
// answers Port Unreachable) and 443 for TCP (the port firewalls let
// through) and QUIC (HTTP/3). 0 for ICMP.
func (p Proto) DefaultPort() int {
	switch p {
	case ProtoUDP:
		return 33434
	case ProtoTCP, ProtoQUIC:
		return 443
	}
	return 0
}

// Method is one way of sending probes and reading what comes back; its
// string is how -v and the JSON "method" name it.
type Method string

// Methods.
const (
	// MethodICMP: Echo Requests and ICMP errors over a raw ICMP socket
	// (root or CAP_NET_RAW); see ICMPConn.
	MethodICMP Method = "icmp"
	// MethodPing: Echo Requests over an ICMP datagram ("ping") socket,
	// errors from its error queue: no privilege, where
	// net.ipv4.ping_group_range lets the user's group in; see PingConn.
	MethodPing Method = "ping-socket"
	// MethodUDP: UDP probes, errors read with their quotes from a raw ICMP
	// socket (root or CAP_NET_RAW); see UDPConn.
	MethodUDP Method = "udp"
	// MethodUDPRecvErr: UDP probes, errors from each probe socket's error
	// queue (IP_RECVERR): no privilege at all; see UDPConn.
	MethodUDPRecvErr Method = "udp-recverr"
	// MethodTCP: SYNs written to a raw TCP socket, SYN-ACK and RST read
	// there and errors from a raw ICMP socket (root or CAP_NET_RAW); see
	// TCPConn.
	MethodTCP Method = "tcp"
	// MethodTCPData: the first data segment of an ordinary connection,
	// sized with TCP_MAXSEG, its arrival proved by the peer's ACK
	// (TCP_INFO): no privilege; see TCPDataConn.
	MethodTCPData Method = "tcp-data"
	// MethodQUIC: QUIC long-header packets of a reserved version over an
	// ordinary UDP socket, their arrival proved by the server's Version
	// Negotiation: no privilege; see UDPConn.
	MethodQUIC Method = "quic"
)

// AllMethods lists every method, for usage messages.
var AllMethods = []Method{MethodICMP, MethodPing, MethodUDP, MethodUDPRecvErr, MethodTCP, MethodTCPData, MethodQUIC}

// Methods returns the methods that send probes of p, in the order Open
// tries them: the raw-socket method first, then what needs no privilege.
//
// For TCP, ordinary connections (MethodTCPData) take over where raw
// sockets are refused: they need no privilege, and prove a size by the
// peer's ACK instead of a SYN-ACK.
//
// For ICMP the ICMP datagram socket comes before UDP: it still sends Echo
// Requests, the probes the user asked for, which firewalls treat as they
// treat the raw method's, and systemd opens it to every group by default.
// Where net.ipv4.ping_group_range keeps the user out (the kernel's
// default, "1 0"), UDP with IP_RECVERR works for anyone.
func (p Proto) Methods() []Method {
	switch p {
	case ProtoICMP:
		return []Method{MethodICMP, MethodPing, MethodUDPRecvErr}
	case ProtoUDP:
		return []Method{MethodUDP, MethodUDPRecvErr}
	case ProtoTCP:
		return []Method{MethodTCP, MethodTCPData}
	case ProtoQUIC:
		return []Method{MethodQUIC}
	}
	return nil
}

// Privileged reports whether m needs raw sockets (root or CAP_NET_RAW).
func (m Method) Privileged() bool {
	return m == MethodICMP || m == MethodUDP || m == MethodTCP
}

// Proto is the protocol of m's probes.
func (m Method) Proto() Proto {
	switch m {
	case MethodICMP, MethodPing:
		return ProtoICMP
	case MethodUDP, MethodUDPRecvErr:
		return ProtoUDP
	case MethodTCP, MethodTCPData:
		return ProtoTCP
	case MethodQUIC:
		return ProtoQUIC
	}
	return ""
}

// Describe says in a few words how m probes, for -v.
func (m Method) Describe() string {
	switch m {
	case MethodICMP:
		return "ICMP Echo over a raw socket"
	case MethodPing:
		return "ICMP Echo over an ICMP datagram socket (no privilege; errors from its error queue)"
	case MethodUDP:
		return "UDP, ICMP errors read from a raw socket"
	case MethodUDPRecvErr:
		return "UDP, ICMP errors from each socket's error queue (IP_RECVERR, no privilege)"
	case MethodTCP:
		return "TCP SYNs over a raw socket"
	case MethodTCPData:
		return "the first data segment of TCP connections, sized with TCP_MAXSEG, DF set, proved by the peer's ACK (no privilege)"
	case MethodQUIC:
		return "QUIC packets of a reserved version, proved by the server's Version Negotiation (no privilege)"
	}
	return string(m)
}

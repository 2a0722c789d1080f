package probe

import (
	"github.com/pmtu/pmtu/probe/search"
	"github.com/pmtu/pmtu/probe/transport"
	"github.com/pmtu/pmtu/probe/wire"
)

// Event is one answer (or ignored packet) about a probe: what kind, from
// whom, the ICMP type and code, the MTU a router named, when it arrived,
// and any RFC 4884 extensions.
type Event = wire.Event

// EventKind says what an Event is.
type EventKind = wire.EventKind

// Kinds of events.
const (
	Ignored      = wire.Ignored      // not an answer to a probe in flight; Why says why
	Reached      = wire.Reached      // the target answered: the path carried the probe
	TooBig       = wire.TooBig       // a router refused the probe's size
	TimeExceeded = wire.TimeExceeded // the hop limit ran out at From
	Unreachable  = wire.Unreachable  // any other ICMP error about the probe
)

// Extensions, MPLSLabel and InterfaceInfo are what an ICMP's RFC 4884
// extensions carried (RFC 4950, RFC 5837).
type (
	Extensions    = wire.Extensions
	MPLSLabel     = wire.MPLSLabel
	InterfaceInfo = wire.InterfaceInfo
)

// Interface roles of RFC 5837 §4.1.
const (
	RoleIncoming = wire.RoleIncoming
	RoleSubIP    = wire.RoleSubIP
	RoleOutgoing = wire.RoleOutgoing
	RoleNextHop  = wire.RoleNextHop
)

// Proto is what probes are made of: ProtoICMP, ProtoUDP, ProtoTCP or
// ProtoQUIC.
type Proto = transport.Proto

// Probe protocols.
const (
	ProtoICMP = transport.ProtoICMP // Echo Requests
	ProtoUDP  = transport.ProtoUDP  // datagrams to a high port, reached on Port Unreachable
	ProtoTCP  = transport.ProtoTCP  // SYNs carrying the probe's size, reached on SYN-ACK or RST; without privilege, connections' data
	ProtoQUIC = transport.ProtoQUIC // QUIC packets of a reserved version, reached on Version Negotiation
)

// Method is how the probes of a Proto are sent and their answers read;
// Find picks the first this process may use (Proto.Methods).
type Method = transport.Method

// Methods.
const (
	MethodICMP       = transport.MethodICMP       // Echo over a raw ICMP socket (root or CAP_NET_RAW)
	MethodPing       = transport.MethodPing       // Echo over an ICMP datagram socket (ping_group_range)
	MethodUDP        = transport.MethodUDP        // UDP, errors from a raw ICMP socket (root or CAP_NET_RAW)
	MethodUDPRecvErr = transport.MethodUDPRecvErr // UDP, errors from each socket's error queue (no privilege)
	MethodTCP        = transport.MethodTCP        // SYNs over a raw socket (root or CAP_NET_RAW)
	MethodTCPData    = transport.MethodTCPData    // data segments of ordinary connections, proved by the ACK (no privilege)
	MethodQUIC       = transport.MethodQUIC       // QUIC packets of a reserved version, proved by Version Negotiation (no privilege)
)

// NoMethodError says that no method of a protocol may be used here, and
// why each was refused; MethodError is one refusal.
type (
	NoMethodError = transport.NoMethodError
	MethodError   = transport.MethodError
)

// UnreachableError ends a search on an ICMP error other than a size
// refusal: the destination cannot be reached at all this way.
type UnreachableError = search.UnreachableError

// ErrNoReply means no probe of any size earned an answer.
var ErrNoReply = search.ErrNoReply

// ErrAnswersStopped means a target that rate-limits its answers (UDP's
// Port Unreachable) stopped answering even probes of a size it had
// answered, round after round: others spend its rate limit. The Result's
// Lo and Hi say what was proved.
var ErrAnswersStopped = search.ErrAnswersStopped

// DefaultTries is how many unanswered probes make a size too big on a
// path that loses nothing (RFC 4821, RFC 8899 MAX_PROBES).
const DefaultTries = search.DefaultTries

// TraceHop is what one hop limit of a trace found; HopReply says how it
// answered.
type (
	TraceHop = search.TraceHop
	HopReply = search.HopReply
)

// How a hop answered.
const (
	NoReply           = search.NoReply           // nothing came back from this hop limit
	ReplyTimeExceeded = search.ReplyTimeExceeded // a router on the way
	ReplyReached      = search.ReplyReached      // the target
	ReplyUnreachable  = search.ReplyUnreachable  // a Destination Unreachable ended the walk here
)

// Protos lists the probe protocols, for usage messages.
var Protos = transport.Protos

// Methods lists every probe method, for usage messages.
var Methods = transport.AllMethods

// Traffic is what a search's probes cost a target that speaks to them as
// a service (tcp-data, quic): connections, datagrams and bytes.
type Traffic = transport.Traffic

// IsPermission reports whether err means the process lacks a privilege
// (no raw sockets, a ping group range that leaves it out).
func IsPermission(err error) bool { return transport.IsPermission(err) }

package probe

import "github.com/pmtu/pmtu/probe/wire"

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

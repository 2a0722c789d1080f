package target

import (
	"fmt"
	"net/netip"
)

// Class is what kind of destination an address is.
type Class uint8

// The classes. Unicast, Loopback and Local can be probed; the others are
// refused.
const (
	Unicast           Class = iota // one host elsewhere
	Loopback                       // 127.0.0.0/8 or ::1
	Local                          // one of this host's own addresses
	Unspecified                    // 0.0.0.0 or ::
	LimitedBroadcast               // 255.255.255.255
	DirectedBroadcast              // the last address of an on-link IPv4 prefix
	Multicast                      // 224.0.0.0/4 or ff00::/8
	LinkLocalNoZone                // fe80::/10 without %zone
	ZoneNotLinkLocal               // a %zone on an address that takes none
)

var classNames = [...]string{
	Unicast: "unicast", Loopback: "loopback", Local: "local", Unspecified: "unspecified",
	LimitedBroadcast: "limited broadcast", DirectedBroadcast: "directed broadcast",
	Multicast: "multicast", LinkLocalNoZone: "link-local without zone",
	ZoneNotLinkLocal: "zone on a non-link-local address",
}

func (c Class) String() string {
	if int(c) < len(classNames) {
		return classNames[c]
	}
	return fmt.Sprintf("Class(%d)", c)
}

// Refused says whether a path MTU cannot be measured toward this class.
func (c Class) Refused() bool { return c >= Unspecified }

// Egress is what the route lookup toward the address said about the way
// out. The zero value knows nothing (no route, or none looked up), and
// then only the address itself is judged.
type Egress struct {
	// Prefix is the IPv4 prefix of the egress interface's address that
	// holds the destination, when the destination is on-link (no
	// gateway); invalid otherwise.
	Prefix netip.Prefix
	// Broadcast says the kernel routes the destination as a broadcast
	// (rtm_type RTN_BROADCAST).
	Broadcast bool
	// Local says the destination is one of this host's addresses.
	Local bool
}

// Target is an address that may be probed.
type Target struct {
	// Addr is the address to probe: an IPv4-mapped address unmapped, a
	// link-local one with its zone.
	Addr  netip.Addr
	Class Class // Unicast, Loopback or Local
	// Note is one line the user should read before the answer, "" if
	// none: a mapped address was unmapped, or the path never leaves the
	// host.
	Note string
}

// Error is an address refused as a target. Its text is one line for a
// person.
type Error struct {
	Addr   netip.Addr   // as given, with its zone
	Class  Class        // why: one of the refused classes
	Prefix netip.Prefix // the subnet, for DirectedBroadcast
}

func (e *Error) Error() string {
	a := e.Addr
	switch e.Class {
	case Unspecified:
		return fmt.Sprintf("%s is the unspecified address: it names no host, so it has no path MTU; give the address of the host to measure", a)
	case LimitedBroadcast:
		return fmt.Sprintf("%s is the limited broadcast address: it reaches every host on the link, so it has no single path MTU", a)
	case DirectedBroadcast:
		if e.Prefix.IsValid() {
			return fmt.Sprintf("%s is the broadcast address of %s: it reaches every host on that subnet, so it has no single path MTU", a, e.Prefix)
		}
		return fmt.Sprintf("%s is a broadcast address: it reaches every host on its subnet, so it has no single path MTU", a)
	case Multicast:
		return fmt.Sprintf("%s is a multicast group: it has no single path MTU; give the unicast address of one member", a)
	case LinkLocalNoZone:
		return fmt.Sprintf("%s is link-local: name the interface, e.g. %s%%eth0", a, a)
	case ZoneNotLinkLocal:
		return fmt.Sprintf("%s has a zone (%%%s), but only link-local addresses take one: give %s", a, a.Zone(), a.WithZone(""))
	}
	return fmt.Sprintf("%s cannot be probed (%s)", a, e.Class)
}

// Check classifies a, with its zone, given what the route lookup said
// (the zero Egress if none), and returns what to probe or an *Error.
func Check(a netip.Addr, eg Egress) (Target, error) {
	if !a.IsValid() {
		return Target{}, &Error{Addr: a, Class: Unspecified}
	}
	given, note := a, ""
	if a.Is4In6() {
		a = a.Unmap() // the zone of a mapped address means nothing; drop it
		note = fmt.Sprintf("%s is an IPv4-mapped IPv6 address: probing the IPv4 address %s", given, a)
	}
	refuse := func(c Class) (Target, error) { return Target{}, &Error{Addr: given, Class: c} }
	switch {
	case a.IsUnspecified():
		return refuse(Unspecified)
	case a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return refuse(LimitedBroadcast)
	case a.IsMulticast():
		return refuse(Multicast)
	case a.Is6() && a.Zone() != "" && !a.IsLinkLocalUnicast():
		return refuse(ZoneNotLinkLocal)
	case a.Is6() && a.Zone() == "" && a.IsLinkLocalUnicast():
		return refuse(LinkLocalNoZone)
	case a.Is4() && isBroadcastOf(a, eg.Prefix):
		return Target{}, &Error{Addr: given, Class: DirectedBroadcast, Prefix: eg.Prefix.Masked()}
	case a.Is4() && eg.Broadcast:
		return refuse(DirectedBroadcast)
	}
	t := Target{Addr: a, Class: Unicast, Note: note}
	switch {
	case a.IsLoopback():
		t.Class = Loopback
	case eg.Local:
		t.Class = Local
	}
	if t.Class != Unicast {
		what := "an address of this host"
		if t.Class == Loopback {
			what = "a loopback address"
		}
		if t.Note != "" {
			t.Note += "; "
		}
		t.Note += fmt.Sprintf("%s is %s: the path never leaves the host", a, what)
	}
	return t, nil
}

// isBroadcastOf says whether a is the last address of the IPv4 prefix p.
// A /31 or /32 has no broadcast address (RFC 3021).
func isBroadcastOf(a netip.Addr, p netip.Prefix) bool {
	if !p.IsValid() || !p.Addr().Is4() || p.Bits() >= 31 || !p.Contains(a) {
		return false
	}
	b := a.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	host := uint32(1)<<(32-p.Bits()) - 1
	return v&host == host
}

package explain

import (
	"fmt"
	"slices"
	"strings"
)

// Kind sorts ICMP errors by what they tell a path-MTU prober.
type Kind int

// The kinds. The zero value is Other.
const (
	// Other is everything a prober has no special branch for: redirects,
	// parameter problems, source quench, reassembly timeouts, obsolete codes.
	Other Kind = iota
	// PathMTU: a router could not forward the packet because it was larger
	// than the next link's MTU, and the message names that MTU
	// (ICMPv4 fragmentation needed, ICMPv6 packet too big).
	PathMTU
	// Reached: the destination host got the packet and answered that
	// nothing there handles it (port or protocol unreachable). For a UDP
	// probe this means the path carried the packet. Check that the message
	// came from the destination: firewalls forge port unreachable too.
	Reached
	// Filtered: a filter or policy on a router or the host rejected the
	// packet (administratively prohibited, ingress/egress policy,
	// precedence).
	Filtered
	// NoRoute: a router has no route (or a reject route) toward the
	// destination network.
	NoRoute
	// HostMissing: the last router could not hand the packet to the
	// destination host, usually because ARP or Neighbor Discovery got no
	// answer.
	HostMissing
	// InTransit: a TTL or hop limit ran out at a router on the way; the
	// normal answer to a traceroute-style probe.
	InTransit
)

var kindNames = [...]string{
	Other:       "other",
	PathMTU:     "path_mtu",
	Reached:     "reached",
	Filtered:    "filtered",
	NoRoute:     "no_route",
	HostMissing: "host_missing",
	InTransit:   "in_transit",
}

// String returns the kind's name as it appears in JSON, e.g. "path_mtu".
func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// MarshalText encodes k as its String.
func (k Kind) MarshalText() ([]byte, error) {
	if k < 0 || int(k) >= len(kindNames) {
		return nil, fmt.Errorf("explain: invalid kind %d", int(k))
	}
	return []byte(kindNames[k]), nil
}

// UnmarshalText decodes a name written by MarshalText.
func (k *Kind) UnmarshalText(b []byte) error {
	i := slices.Index(kindNames[:], string(b))
	if i < 0 {
		return fmt.Errorf("explain: unknown kind %q", b)
	}
	*k = Kind(i)
	return nil
}

// Info explains one ICMP error: an ICMPv4 or ICMPv6 type and code.
//
// Meaning and Next are clauses, starting in lower case and without a final
// period, so that [Info.Sentence] can join them; print them alone as they
// are or capitalise them.
type Info struct {
	Family  int    `json:"family"`  // 4 for ICMPv4, 6 for ICMPv6
	Type    int    `json:"type"`    // ICMP type
	Code    int    `json:"code"`    // ICMP code
	Name    string `json:"name"`    // short lower-case name, e.g. "port unreachable"
	Sender  string `json:"sender"`  // who sends it: a router on the path, the destination host, or either
	Meaning string `json:"meaning"` // what happened to the packet
	Next    string `json:"next"`    // what to check next
	Kind    Kind   `json:"kind"`    // what it means to a prober
	RFC     string `json:"rfc"`     // where the code is defined, e.g. "RFC 1812 §5.2.7.1"
}

type key struct{ family, typ, code int }

var index = func() map[key]int {
	m := make(map[key]int, len(table))
	for i, in := range table {
		m[key{in.Family, in.Type, in.Code}] = i
	}
	return m
}()

// Lookup returns the table entry for an ICMP error of the given family
// (4 or 6), type and code. ok is false for anything not in the table,
// including informational messages such as echo reply.
func Lookup(family, typ, code int) (info Info, ok bool) {
	i, ok := index[key{family, typ, code}]
	if !ok {
		return Info{}, false
	}
	return table[i], true
}

// Describe is [Lookup] that never fails: a code missing from the table gets
// the name "unknown ICMP type X code Y" ("ICMPv6" for family 6), kind
// [Other], and a generic next step.
func Describe(family, typ, code int) Info {
	if in, ok := Lookup(family, typ, code); ok {
		return in
	}
	proto := "ICMP"
	if family == 6 {
		proto = "ICMPv6"
	}
	meaning := "a device on the path sent an " + proto + " message this table does not know"
	if t, ok := typeNames[key{family, typ, 0}]; ok {
		meaning = "a device on the path sent a " + t + " message with a code this table does not know"
	}
	return Info{
		Family:  family,
		Type:    typ,
		Code:    code,
		Name:    fmt.Sprintf("unknown %s type %d code %d", proto, typ, code),
		Sender:  "unknown",
		Meaning: meaning,
		Next:    "capture it (tcpdump -vv icmp or icmp6) and look the type and code up in the IANA " + proto + " parameters registry",
		Kind:    Other,
	}
}

// typeNames names the ICMP error types the table covers, keyed with code 0.
var typeNames = map[key]string{
	{4, 3, 0}:  "destination unreachable",
	{4, 4, 0}:  "source quench",
	{4, 5, 0}:  "redirect",
	{4, 11, 0}: "time exceeded",
	{4, 12, 0}: "parameter problem",
	{6, 1, 0}:  "destination unreachable",
	{6, 2, 0}:  "packet too big",
	{6, 3, 0}:  "time exceeded",
	{6, 4, 0}:  "parameter problem",
}

// Sentence explains the message in one line for a person, naming from, the
// address that sent it:
//
//	198.18.1.2: communication administratively prohibited (type 3, code 13): a filter ...; check ...
//
// ICMPv6 messages say "ICMPv6 type". An empty from leaves out the address.
func (i Info) Sentence(from string) string {
	var b strings.Builder
	if from != "" {
		b.WriteString(from)
		b.WriteString(": ")
	}
	proto := ""
	if i.Family == 6 {
		proto = "ICMPv6 "
	}
	fmt.Fprintf(&b, "%s (%stype %d, code %d): %s; %s", i.Name, proto, i.Type, i.Code, i.Meaning, i.Next)
	return b.String()
}

// All returns a copy of the whole table, ordered by family, type and code.
func All() []Info {
	return slices.Clone(table)
}

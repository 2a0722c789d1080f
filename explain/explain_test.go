package explain_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pmtu/pmtu/explain"
)

type want struct {
	name string
	kind explain.Kind
}

// The names every ICMP error must carry, with its kind. Destination
// unreachable names follow RFC 792, RFC 1122, RFC 1812 and RFC 4443.
var wantTable = map[[3]int]want{
	{4, 3, 0}:  {"net unreachable", explain.NoRoute},
	{4, 3, 1}:  {"host unreachable", explain.HostMissing},
	{4, 3, 2}:  {"protocol unreachable", explain.Reached},
	{4, 3, 3}:  {"port unreachable", explain.Reached},
	{4, 3, 4}:  {"fragmentation needed and DF set", explain.PathMTU},
	{4, 3, 5}:  {"source route failed", explain.Other},
	{4, 3, 6}:  {"destination network unknown", explain.NoRoute},
	{4, 3, 7}:  {"destination host unknown", explain.HostMissing},
	{4, 3, 8}:  {"source host isolated", explain.Other},
	{4, 3, 9}:  {"network administratively prohibited", explain.Filtered},
	{4, 3, 10}: {"host administratively prohibited", explain.Filtered},
	{4, 3, 11}: {"network unreachable for TOS", explain.NoRoute},
	{4, 3, 12}: {"host unreachable for TOS", explain.HostMissing},
	{4, 3, 13}: {"communication administratively prohibited", explain.Filtered},
	{4, 3, 14}: {"host precedence violation", explain.Filtered},
	{4, 3, 15}: {"precedence cutoff in effect", explain.Filtered},

	{4, 4, 0}:  {"source quench", explain.Other},
	{4, 5, 0}:  {"redirect datagram for the network", explain.Other},
	{4, 5, 1}:  {"redirect datagram for the host", explain.Other},
	{4, 5, 2}:  {"redirect datagram for the type of service and network", explain.Other},
	{4, 5, 3}:  {"redirect datagram for the type of service and host", explain.Other},
	{4, 11, 0}: {"time to live exceeded in transit", explain.InTransit},
	{4, 11, 1}: {"fragment reassembly time exceeded", explain.Other},
	{4, 12, 0}: {"pointer indicates the error", explain.Other},
	{4, 12, 1}: {"missing a required option", explain.Other},
	{4, 12, 2}: {"bad length", explain.Other},

	{6, 1, 0}: {"no route", explain.NoRoute},
	{6, 1, 1}: {"administratively prohibited", explain.Filtered},
	{6, 1, 2}: {"beyond scope of source address", explain.Other},
	{6, 1, 3}: {"address unreachable", explain.HostMissing},
	{6, 1, 4}: {"port unreachable", explain.Reached},
	{6, 1, 5}: {"source address failed ingress/egress policy", explain.Filtered},
	{6, 1, 6}: {"reject route to destination", explain.NoRoute},
	{6, 1, 7}: {"error in source routing header", explain.Other},
	{6, 1, 8}: {"headers too long", explain.Other},

	{6, 2, 0}: {"packet too big", explain.PathMTU},
	{6, 3, 0}: {"hop limit exceeded in transit", explain.InTransit},
	{6, 3, 1}: {"fragment reassembly time exceeded", explain.Other},

	{6, 4, 0}:  {"erroneous header field encountered", explain.Other},
	{6, 4, 1}:  {"unrecognized next header type encountered", explain.Reached},
	{6, 4, 2}:  {"unrecognized IPv6 option encountered", explain.Other},
	{6, 4, 3}:  {"IPv6 first fragment has incomplete IPv6 header chain", explain.Other},
	{6, 4, 4}:  {"SR upper-layer header error", explain.Other},
	{6, 4, 5}:  {"unrecognized next header type encountered by intermediate node", explain.Other},
	{6, 4, 6}:  {"extension header too big", explain.Other},
	{6, 4, 7}:  {"extension header chain too long", explain.Other},
	{6, 4, 8}:  {"too many extension headers", explain.Other},
	{6, 4, 9}:  {"too many options in extension header", explain.Other},
	{6, 4, 10}: {"option too big", explain.Other},
}

func TestLookup(t *testing.T) {
	for k, w := range wantTable {
		family, typ, code := k[0], k[1], k[2]
		t.Run(fmt.Sprintf("v%d/%d/%d", family, typ, code), func(t *testing.T) {
			in, ok := explain.Lookup(family, typ, code)
			if !ok {
				t.Fatalf("Lookup(%d, %d, %d): not found", family, typ, code)
			}
			if in.Family != family || in.Type != typ || in.Code != code {
				t.Errorf("entry is (%d, %d, %d)", in.Family, in.Type, in.Code)
			}
			if diff := cmp.Diff(w.name, in.Name); diff != "" {
				t.Errorf("Name (-want +got):\n%s", diff)
			}
			if in.Kind != w.kind {
				t.Errorf("Kind = %v, want %v", in.Kind, w.kind)
			}
			for field, s := range map[string]string{
				"Sender": in.Sender, "Meaning": in.Meaning, "Next": in.Next, "RFC": in.RFC,
			} {
				if strings.TrimSpace(s) == "" {
					t.Errorf("%s is empty", field)
				}
				if s != strings.TrimSpace(s) {
					t.Errorf("%s has surrounding space: %q", field, s)
				}
			}
			// Meaning and Next are clauses that Sentence joins.
			for field, s := range map[string]string{"Meaning": in.Meaning, "Next": in.Next} {
				if strings.HasSuffix(s, ".") {
					t.Errorf("%s ends with a period: %q", field, s)
				}
			}
			if in.Meaning == in.Next {
				t.Errorf("Meaning and Next are the same: %q", in.Meaning)
			}
			if in.Name != strings.ToLower(in.Name) && !hasAcronym(in.Name) {
				t.Errorf("Name is not lower case: %q", in.Name)
			}
			if !strings.HasPrefix(in.RFC, "RFC ") && !strings.HasPrefix(in.RFC, "IANA") {
				t.Errorf("RFC = %q, want a reference", in.RFC)
			}
			if got := explain.Describe(family, typ, code); !cmp.Equal(got, in) {
				t.Errorf("Describe differs from Lookup (-lookup +describe):\n%s", cmp.Diff(in, got))
			}
		})
	}
}

// hasAcronym reports whether the upper-case letters of s belong only to
// the acronyms a name may keep.
func hasAcronym(s string) bool {
	for _, a := range []string{"DF", "TOS", "IPv6", "SR"} {
		s = strings.ReplaceAll(s, a, "")
	}
	return s == strings.ToLower(s)
}

func TestAll(t *testing.T) {
	all := explain.All()
	seen := make(map[[3]int]bool)
	for _, in := range all {
		k := [3]int{in.Family, in.Type, in.Code}
		if seen[k] {
			t.Errorf("duplicate entry %v", k)
		}
		seen[k] = true
		if _, ok := wantTable[k]; !ok {
			t.Errorf("entry %v (%q) has no expectation in this test", k, in.Name)
		}
	}
	for k := range wantTable {
		if !seen[k] {
			t.Errorf("All() lacks %v", k)
		}
	}
	// Every destination unreachable code: ICMPv4 0-15, ICMPv6 0-8.
	for code := 0; code <= 15; code++ {
		if !seen[[3]int{4, 3, code}] {
			t.Errorf("All() lacks ICMPv4 destination unreachable code %d", code)
		}
	}
	for code := 0; code <= 8; code++ {
		if !seen[[3]int{6, 1, code}] {
			t.Errorf("All() lacks ICMPv6 destination unreachable code %d", code)
		}
	}
	for i := 1; i < len(all); i++ {
		a, b := all[i-1], all[i]
		if [3]int{a.Family, a.Type, a.Code} == [3]int{b.Family, b.Type, b.Code} {
			continue
		}
		if a.Family > b.Family || a.Family == b.Family && (a.Type > b.Type || a.Type == b.Type && a.Code > b.Code) {
			t.Errorf("All() out of order: %d/%d/%d before %d/%d/%d", a.Family, a.Type, a.Code, b.Family, b.Type, b.Code)
		}
	}

	// All returns a copy.
	all[0].Name = "changed"
	if got := explain.All()[0].Name; got == "changed" {
		t.Error("All() returns the package's own slice")
	}
}

func TestLookupUnknown(t *testing.T) {
	tests := []struct {
		name                string
		family, typ, code   int
		wantName, wantMeans string
	}{
		{"v4 code 16", 4, 3, 16, "unknown ICMP type 3 code 16", "destination unreachable message with a code"},
		{"v4 echo reply", 4, 0, 0, "unknown ICMP type 0 code 0", "ICMP message this table does not know"},
		{"v4 type 200", 4, 200, 1, "unknown ICMP type 200 code 1", "ICMP message this table does not know"},
		{"v6 code 9", 6, 1, 9, "unknown ICMPv6 type 1 code 9", "destination unreachable message with a code"},
		{"v6 packet too big code 1", 6, 2, 1, "unknown ICMPv6 type 2 code 1", "packet too big message with a code"},
		{"v6 echo reply", 6, 129, 0, "unknown ICMPv6 type 129 code 0", "ICMPv6 message this table does not know"},
		{"v4 numbering in v6", 6, 11, 0, "unknown ICMPv6 type 11 code 0", "ICMPv6 message"},
		{"v6 numbering in v4", 4, 2, 0, "unknown ICMP type 2 code 0", "ICMP message"},
		{"family 5", 5, 3, 4, "unknown ICMP type 3 code 4", "ICMP message"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if in, ok := explain.Lookup(tt.family, tt.typ, tt.code); ok {
				t.Fatalf("Lookup found %+v, want ok=false", in)
			}
			in := explain.Describe(tt.family, tt.typ, tt.code)
			if diff := cmp.Diff(tt.wantName, in.Name); diff != "" {
				t.Errorf("Name (-want +got):\n%s", diff)
			}
			if !strings.Contains(in.Meaning, tt.wantMeans) {
				t.Errorf("Meaning = %q, want it to contain %q", in.Meaning, tt.wantMeans)
			}
			if in.Kind != explain.Other || in.Sender == "" || in.Next == "" {
				t.Errorf("Describe = %+v, want kind other with a sender and a next step", in)
			}
			if in.Family != tt.family || in.Type != tt.typ || in.Code != tt.code {
				t.Errorf("Describe keeps (%d, %d, %d), want (%d, %d, %d)", in.Family, in.Type, in.Code, tt.family, tt.typ, tt.code)
			}
		})
	}
}

func TestSentence(t *testing.T) {
	tests := []struct {
		name              string
		family, typ, code int
		from              string
		want              string
	}{
		{
			name: "admin prohibited", family: 4, typ: 3, code: 13, from: "198.18.1.2",
			want: "198.18.1.2: communication administratively prohibited (type 3, code 13): a filter rejects this traffic; " +
				"check ACLs and firewalls on the device that sent it: nftables or iptables reject rules (admin-prohibited) or a Linux prohibit route (ip route show type prohibit)",
		},
		{
			name: "frag needed", family: 4, typ: 3, code: 4, from: "198.18.2.2",
			want: "198.18.2.2: fragmentation needed and DF set (type 3, code 4): " +
				"a router could not forward the packet onto a link with a smaller MTU, and the Don't Fragment bit forbade splitting it; " +
				"the Next-Hop MTU names the limit of that router's next link (0 means a pre-RFC-1191 router that names none); " +
				"if it is lower than expected, check that link's MTU, its route mtu and any tunnel overhead",
		},
		{
			name: "v6 port unreachable without address", family: 6, typ: 1, code: 4,
			want: "port unreachable (ICMPv6 type 1, code 4): the destination host got the packet and nothing listens on that port; " +
				"for a UDP probe this is the expected answer and the path is fine; if the sender is not the destination address, " +
				"a firewall's reject rule sent it (ip6tables REJECT and nftables reject send port unreachable by default)",
		},
		{
			name: "unknown", family: 4, typ: 3, code: 99, from: "198.18.0.1",
			want: "198.18.0.1: unknown ICMP type 3 code 99 (type 3, code 99): " +
				"a device on the path sent a destination unreachable message with a code this table does not know; " +
				"capture it (tcpdump -vv icmp or icmp6) and look the type and code up in the IANA ICMP parameters registry",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := explain.Describe(tt.family, tt.typ, tt.code).Sentence(tt.from)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Sentence (-want +got):\n%s", diff)
			}
		})
	}
}

func TestKindText(t *testing.T) {
	tests := []struct {
		kind explain.Kind
		want string
	}{
		{explain.Other, "other"},
		{explain.PathMTU, "path_mtu"},
		{explain.Reached, "reached"},
		{explain.Filtered, "filtered"},
		{explain.NoRoute, "no_route"},
		{explain.HostMissing, "host_missing"},
		{explain.InTransit, "in_transit"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.kind.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			b, err := tt.kind.MarshalText()
			if err != nil || string(b) != tt.want {
				t.Fatalf("MarshalText() = %q, %v, want %q", b, err, tt.want)
			}
			var k explain.Kind
			if err := k.UnmarshalText(b); err != nil || k != tt.kind {
				t.Errorf("UnmarshalText(%q) = %v, %v, want %v", b, k, err, tt.kind)
			}
		})
	}
	if _, err := explain.Kind(99).MarshalText(); err == nil {
		t.Error("MarshalText of Kind(99): no error")
	}
	if got := explain.Kind(99).String(); got != "Kind(99)" {
		t.Errorf("Kind(99).String() = %q", got)
	}
	var k explain.Kind
	if err := k.UnmarshalText([]byte("PathMTU")); err == nil {
		t.Error("UnmarshalText(PathMTU): no error")
	}
}

func TestInfoJSON(t *testing.T) {
	in, _ := explain.Lookup(4, 3, 4)
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{
		"family": 4.0, "type": 3.0, "code": 4.0, "kind": "path_mtu",
		"name": "fragmentation needed and DF set",
	} {
		if diff := cmp.Diff(want, m[k]); diff != "" {
			t.Errorf("JSON %q (-want +got):\n%s", k, diff)
		}
	}
	var back explain.Info
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(in, back); diff != "" {
		t.Errorf("JSON round trip (-want +got):\n%s", diff)
	}
}

func TestLinkHint(t *testing.T) {
	tests := []struct {
		name   string
		family int
		pmtu   int
		want   string // a prefix of the hint; "" for ok=false
	}{
		{"ethernet v4", 4, 1500, "1500: Ethernet"},
		{"ethernet v6", 6, 1500, "1500: Ethernet"},
		{"pppoe", 4, 1492, "1492: 8 bytes less than Ethernet, PPPoE"},
		{"ipip", 4, 1480, "1480: 20 bytes less than Ethernet, an IPIP or 6in4"},
		{"6in4", 6, 1480, "1480: 20 bytes less than Ethernet, an IPIP or 6in4"},
		{"gre", 4, 1476, "1476: 24 bytes less than Ethernet, the usual GRE"},
		{"4in6", 4, 1460, "1460: 40 bytes less than Ethernet: IPv4 in IPv6"},
		{"vxlan", 4, 1450, "1450: 50 bytes less than Ethernet, the usual VXLAN overhead"},
		{"vxlan v6 underlay", 6, 1430, "1430: 70 bytes less than Ethernet, the usual VXLAN overhead over an IPv6 underlay"},
		{"wireguard v4 underlay", 4, 1440, "1440: 60 bytes less than Ethernet, WireGuard over an IPv4"},
		{"wireguard", 6, 1420, "1420: 80 bytes less than Ethernet, WireGuard"},
		{"esp exact", 4, 1438, "1438: 62 bytes less than Ethernet, typical of IPsec ESP"},
		{"esp range low", 4, 1422, "1422: 78 bytes less than Ethernet, possibly an IPsec ESP"},
		{"esp range", 6, 1446, "1446: 54 bytes less than Ethernet, possibly an IPsec ESP"},
		{"below esp range", 4, 1421, ""},
		{"above esp range", 4, 1447, ""},
		{"v6 minimum", 6, 1280, "1280: the IPv6 minimum MTU (RFC 8200)"},
		{"v6 minimum on v4", 4, 1280, "1280: the IPv6 minimum MTU, often set on tunnels"},
		{"v4 minimum", 4, 68, "68: the smallest MTU an IPv4 link may have"},
		{"v4 576", 4, 576, "576: the datagram size every IPv4 host must accept (RFC 791)"},
		{"linux floor", 4, 552, "552: the Linux floor (net.ipv4.route.min_pmtu)"},
		{"below v6 minimum", 6, 1000, "1000: below the IPv6 minimum MTU of 1280"},
		{"552 on v6", 6, 552, "552: below the IPv6 minimum MTU of 1280"},
		{"576 on v6", 6, 576, "576: below the IPv6 minimum MTU of 1280"},
		{"jumbo", 4, 9000, "9000: jumbo frames"},
		{"aws jumbo", 4, 9001, "9001: AWS EC2 jumbo frames"},
		{"vxlan on jumbo", 6, 8950, "8950: 50 bytes less than 9000-byte jumbo frames"},
		{"loopback", 4, 65536, "65536: the Linux loopback MTU"},
		{"unknown 1400", 4, 1400, ""},
		{"unknown 1300", 6, 1300, ""},
		{"unknown small v4", 4, 1000, ""},
		{"zero", 4, 0, ""},
		{"negative v6", 6, -1, ""},
		{"bad family", 5, 1500, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := explain.LinkHint(tt.family, tt.pmtu)
			if ok != (tt.want != "") {
				t.Fatalf("LinkHint(%d, %d) = %q, %v; want ok=%v", tt.family, tt.pmtu, got, ok, tt.want != "")
			}
			if !ok {
				if got != "" {
					t.Errorf("hint %q with ok=false", got)
				}
				return
			}
			if !strings.HasPrefix(got, tt.want) {
				t.Errorf("LinkHint(%d, %d) = %q, want prefix %q", tt.family, tt.pmtu, got, tt.want)
			}
		})
	}
}

package check

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pmtu/pmtu/measure"
)

func TestLocate(t *testing.T) {
	src := netip.MustParseAddr("198.18.1.1")
	vis := func(ttl int, mss int) MSSHop {
		return MSSHop{TTL: ttl, Address: "198.18." + string(rune('0'+ttl)) + ".2", Quoted: 24, Visible: true, MSS: mss}
	}
	short := func(ttl int) MSSHop {
		return MSSHop{TTL: ttl, Address: "198.18." + string(rune('0'+ttl)) + ".2", Quoted: 8}
	}
	silent := func(ttl int) MSSHop { return MSSHop{TTL: ttl} }
	for _, tt := range []struct {
		name      string
		hops      []MSSHop
		reached   bool
		want      *MSSClamp
		result    string
		inSummary string
		notIn     string
	}{
		{"clean", []MSSHop{vis(1, 1460), vis(2, 1460), vis(3, 1460)}, true, nil, OK, "unchanged up to hop 3", "clamped"},
		{"clamped at hop 2", []MSSHop{vis(1, 1460), vis(2, 1460), vis(3, 1300)}, true,
			&MSSClamp{Hop: 3, Address: "198.18.3.2", AfterHop: 2, AfterAddress: "198.18.2.2", Sent: 1460, Seen: 1300}, Found, "between hop 2 (198.18.2.2) and hop 3", ""},
		{"clamped before hop 1", []MSSHop{vis(1, 1300)}, true,
			&MSSClamp{Hop: 1, Address: "198.18.1.2", AfterHop: 0, AfterAddress: "198.18.1.1", Sent: 1460, Seen: 1300}, Found, "between this host", ""},
		{"option removed", []MSSHop{vis(1, 1460), vis(2, 0)}, true,
			&MSSClamp{Hop: 2, Address: "198.18.2.2", AfterHop: 1, AfterAddress: "198.18.1.2", Sent: 1460, Seen: 0}, Found, "the option is gone", ""},
		{"8-byte quote in between", []MSSHop{vis(1, 1460), short(2), vis(3, 1300)}, true,
			&MSSClamp{Hop: 3, Address: "198.18.3.2", AfterHop: 1, AfterAddress: "198.18.1.2", Sent: 1460, Seen: 1300}, Found, "between hop 1", ""},
		{"8-byte quote last: not visible", []MSSHop{vis(1, 1460), vis(2, 1460), short(3)}, true, nil, Unknown, "not visible past that hop", "clamped"},
		{"silent last hop: not visible", []MSSHop{vis(1, 1460), silent(2)}, true, nil, Unknown, "not visible past that hop", "clamped"},
		{"target not reached", []MSSHop{vis(1, 1460), vis(2, 1460)}, false, nil, Unknown, "not visible past that hop", "clamped"},
		{"nothing visible", []MSSHop{short(1), short(2)}, true, nil, Unknown, "not visible", "clamped"},
		{"no routers answered", nil, false, nil, Unknown, "not visible", "clamped"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, f := locate(1460, tt.hops, tt.reached, src)
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("clamp (-want +got):\n%s", d)
			}
			if f.Result != tt.result || f.Check != CheckMSSClamp {
				t.Errorf("finding %+v, want result %q", f, tt.result)
			}
			if !strings.Contains(f.Summary, tt.inSummary) {
				t.Errorf("summary %q does not say %q", f.Summary, tt.inSummary)
			}
			if tt.notIn != "" && strings.Contains(f.Summary+f.Evidence, tt.notIn) {
				t.Errorf("finding says %q: %+v", tt.notIn, f)
			}
		})
	}
}

func TestStallRisk(t *testing.T) {
	for _, tt := range []struct {
		name  string
		mss   int
		pm    measure.Report
		risk  bool
		words string
	}{
		{"no SYN-ACK", 0, measure.Report{PMTU: 1400, BlackHole: true, Family: "ipv4"}, false, "unknown"},
		{"no path MTU", 1460, measure.Report{Family: "ipv4"}, false, "unknown"},
		{"fits", 1360, measure.Report{PMTU: 1400, BlackHole: true, Family: "ipv4"}, false, "carries"},
		{"black hole", 1460, measure.Report{PMTU: 1400, BlackHole: true, Evidence: "probes", Family: "ipv4"}, true, "stalls"},
		{"black hole, return", 1460, measure.Report{PMTU: 1400, BlackHole: true, BlackHoleDirection: "return", Family: "ipv4"}, true, "return path"},
		{"ICMP says so", 1460, measure.Report{PMTU: 1400, Evidence: "icmp", LimitingHop: "198.18.2.2", Family: "ipv4"}, false, "198.18.2.2 says so"},
		{"ipv6 headers count", 1440, measure.Report{PMTU: 1480, BlackHole: true, Family: "ipv6"}, true, "1500-byte"},
		{"our interface caps it", 8960, measure.Report{PMTU: 1500, BlackHole: true, Family: "ipv4"}, false, "carries"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			risk, why := stallRisk(tt.mss, 1500, &tt.pm)
			if risk != tt.risk || !strings.Contains(why, tt.words) {
				t.Errorf("stallRisk = %v, %q; want %v saying %q", risk, why, tt.risk, tt.words)
			}
		})
	}
}

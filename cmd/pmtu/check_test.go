package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/pmtu/pmtu/check"
	"github.com/pmtu/pmtu/internal/checktest"
	"github.com/pmtu/pmtu/internal/probetest"
	"github.com/pmtu/pmtu/probe/transport"
)

// checkWorld is a chain c ─ r1 ─ r2 ─ r3 ─ t (198.18.4.2) of 1500-byte
// links, for both the path MTU search and the checks; hops says what the
// routers do.
func checkWorld(hops ...checktest.Hop) *world {
	src, dst := netip.MustParseAddr("198.18.1.1"), netip.MustParseAddr("198.18.4.2")
	pp := &probetest.Path{Src: src, Dst: dst, RTT: time.Millisecond}
	cp := &checktest.Path{Src: src, Dst: dst, SynAckMSS: 1460}
	for i := range 3 {
		a := netip.MustParseAddr(fmt.Sprintf("198.18.%d.2", i+1))
		h := checktest.Hop{}
		if i < len(hops) {
			h = hops[i]
		}
		h.Addr = a
		cp.Hops = append(cp.Hops, h)
		pp.Hops = append(pp.Hops, probetest.Hop{Addr: a, MTU: 1500})
	}
	w := testWorld(pp)
	w.openRaw = func(netip.Addr, *transport.OpenConfig) (check.Conn, error) { return cp.Conn(), nil }
	return w
}

func runCheckCmd(t *testing.T, w *world, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), w, append([]string{"pmtu", "check", "--timeout", "20ms"}, args...), &out, &errOut)
	return out.String(), errOut.String(), code
}

func TestCheckClean(t *testing.T) {
	out, errOut, code := runCheckCmd(t, checkWorld(), "198.18.4.2")
	if code != exitOK {
		t.Fatalf("exit %d, want 0; stderr %q; stdout:\n%s", code, errOut, out)
	}
	for _, want := range []string{"pmtu check 198.18.4.2", "ok       path MTU 1500", "MSS unchanged up to hop 3 (198.18.3.2)",
		"IPv4 fragments pass forward", "verdict: nothing found that breaks big packets"} {
		if !strings.Contains(out, want) {
			t.Errorf("output does not say %q:\n%s", want, out)
		}
	}
}

func TestCheckClampedJSON(t *testing.T) {
	out, errOut, code := runCheckCmd(t, checkWorld(checktest.Hop{}, checktest.Hop{ClampMSS: 1300}), "--json", "198.18.4.2")
	if code != exitAssertion {
		t.Fatalf("exit %d, want 3; stderr %q", code, errOut)
	}
	var r struct {
		Broken   bool `json:"broken"`
		MSSClamp *struct {
			Hop          int    `json:"hop"`
			Address      string `json:"address"`
			AfterHop     int    `json:"after_hop"`
			AfterAddress string `json:"after_address"`
			Sent, Seen   int
		} `json:"mss_clamp"`
		SynAckMSS int                        `json:"syn_ack_mss"`
		StallRisk *bool                      `json:"stall_risk"`
		Fragments map[string]json.RawMessage `json:"fragments"`
		PathMTU   struct{ PMTU int }         `json:"path_mtu"`
		NotRun    []any                      `json:"not_run"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if !r.Broken || r.MSSClamp == nil || r.MSSClamp.Hop != 3 || r.MSSClamp.AfterHop != 2 || r.MSSClamp.Address != "198.18.3.2" ||
		r.MSSClamp.AfterAddress != "198.18.2.2" || r.MSSClamp.Sent != 1460 || r.MSSClamp.Seen != 1300 {
		t.Errorf("mss_clamp: %+v in %s", r.MSSClamp, out)
	}
	if r.SynAckMSS != 1300 || r.StallRisk == nil || *r.StallRisk || r.PathMTU.PMTU != 1500 || r.Fragments["ipv4"] == nil || r.NotRun == nil {
		t.Errorf("report: %s", out)
	}
}

func TestCheckFragmentsDroppedText(t *testing.T) {
	out, _, code := runCheckCmd(t, checkWorld(checktest.Hop{DropFragmentsBack: true}), "198.18.4.2")
	if code != exitAssertion {
		t.Fatalf("exit %d, want 3", code)
	}
	for _, want := range []string{"found    IPv4 fragments are dropped on the way back from the target", "advice: ", "(exit 3)"} {
		if !strings.Contains(out, want) {
			t.Errorf("output does not say %q:\n%s", want, out)
		}
	}
}

func TestCheckNoPrivilege(t *testing.T) {
	w := checkWorld()
	w.openRaw = func(netip.Addr, *transport.OpenConfig) (check.Conn, error) {
		return nil, transport.ErrPermission
	}
	out, _, code := runCheckCmd(t, w, "198.18.4.2")
	if code != exitOK {
		t.Errorf("exit %d, want 0 (nothing found; the checks that could not run are listed)", code)
	}
	if !strings.Contains(out, "not run  mss_clamp: needs root or CAP_NET_RAW") {
		t.Errorf("output does not list the checks not run:\n%s", out)
	}
}

func TestCheckUsageErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"no host", nil, "which host? usage: pmtu check [flags] HOST"},
		{"max hops", []string{"--max-hops", "0", "198.18.4.2"}, "--max-hops 0 is outside 1–255"},
		{"unknown flag", []string{"--bogus", "198.18.4.2"}, "flag provided but not defined"},
		{"unknown host", []string{"no-such-host.invalid"}, "cannot resolve"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := runCheckCmd(t, checkWorld(), tt.args...)
			lines := strings.Split(strings.TrimSpace(errOut), "\n")
			if code != exitUsage || out != "" || len(lines) != 1 || !strings.Contains(lines[0], tt.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want 2, nothing, one line saying %q", code, out, errOut, tt.want)
			}
		})
	}
}

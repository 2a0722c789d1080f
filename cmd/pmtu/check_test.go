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
	"github.com/pmtu/pmtu/mesh"
	"github.com/pmtu/pmtu/probe/transport"
)

// checkWorld is a chain c ─ r1 ─ r2 ─ r3 ─ t (198.18.4.2) of 1500-byte
// links, for both the path MTU search and the checks; hops says what the
// routers do.
func checkWorld(hops ...checktest.Hop) *world {
	w, _ := checkWorldFamily(false, hops...)
	return w
}

// checkWorldFamily is checkWorld, or its IPv6 twin (2001:db8:N::2) with
// the check path returned, for its Responder.
func checkWorldFamily(v6 bool, hops ...checktest.Hop) (*world, *checktest.Path) {
	src, dst := netip.MustParseAddr("198.18.1.1"), netip.MustParseAddr("198.18.4.2")
	hop := "198.18.%d.2"
	if v6 {
		src, dst, hop = netip.MustParseAddr("2001:db8:1::1"), netip.MustParseAddr("2001:db8:4::2"), "2001:db8:%d::2"
	}
	pp := &probetest.Path{Src: src, Dst: dst, RTT: time.Millisecond}
	cp := &checktest.Path{Src: src, Dst: dst, SynAckMSS: 1460}
	for i := range 3 {
		a := netip.MustParseAddr(fmt.Sprintf(hop, i+1))
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
	w.openResponder = func(netip.AddrPort, *transport.OpenConfig) (check.ResponderConn, error) {
		return cp.ResponderConn(), nil
	}
	return w, cp
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

// TestCheckHeadersBack: IPv6, a pmtu mesh responder on the target, r1
// drops Hop-by-Hop only on the way back: forward pass, return dropped,
// exit 3, in text and in JSON; with no responder the way back is
// unknown, and says why.
func TestCheckHeadersBack(t *testing.T) {
	src := netip.MustParseAddr("2001:db8:1::1")
	w, cp := checkWorldFamily(true, checktest.Hop{DropHopByHopBack: true})
	cp.Responder = &checktest.Responder{R: &mesh.Responder{IsPeer: func(a netip.Addr) bool { return a == src }}}
	out, errOut, code := runCheckCmd(t, w, "--responder", "[2001:db8:4::2]:10151", "2001:db8:4::2")
	if code != exitAssertion {
		t.Fatalf("exit %d, want 3; stderr %q; stdout:\n%s", code, errOut, out)
	}
	for _, want := range []string{"IPv6 Hop-by-Hop headers pass forward", "IPv6 Hop-by-Hop headers are dropped on the way back from the target",
		"IPv6 Destination Options headers pass on the way back", "never arrived, while a plain one of that size did"} {
		if !strings.Contains(out, want) {
			t.Errorf("output does not say %q:\n%s", want, out)
		}
	}
	out, _, code = runCheckCmd(t, w, "--json", "2001:db8:4::2")
	type header struct {
		Forward, Return string
		ReturnWhy       string `json:"return_why"`
	}
	var r struct {
		IPv6Headers struct {
			HopByHop           header `json:"hop_by_hop"`
			DestinationOptions header `json:"destination_options"`
			Responder          string
		} `json:"ipv6_headers"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != exitAssertion {
		t.Fatalf("exit %d, %v:\n%s", code, err, out)
	}
	h := r.IPv6Headers
	if h.HopByHop.Forward != "pass" || h.HopByHop.Return != "dropped" || h.DestinationOptions.Return != "pass" || h.Responder != "[2001:db8:4::2]:10151" {
		t.Errorf("ipv6_headers %+v", h)
	}
	cp.Responder = nil
	out, _, code = runCheckCmd(t, w, "--json", "2001:db8:4::2")
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != exitOK {
		t.Fatalf("exit %d, %v:\n%s", code, err, out)
	}
	if h := r.IPv6Headers; h.HopByHop.Return != "unknown" || !strings.Contains(h.HopByHop.ReturnWhy, "no pmtu mesh responder at [2001:db8:4::2]:10151") {
		t.Errorf("no responder: ipv6_headers %+v", h)
	}
}

func TestCheckResponderBadInput(t *testing.T) {
	for _, args := range [][]string{
		{"--responder", "2001:db8::1", "2001:db8:4::2"},
		{"--responder", "[2001:db8::1]:0", "2001:db8:4::2"},
		{"--key-file", "/nonexistent/key", "2001:db8:4::2"},
	} {
		_, errOut, code := runCheckCmd(t, checkWorld(), args...)
		if code != exitUsage || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line", args, code, errOut)
		}
	}
}

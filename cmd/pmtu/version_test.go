package main

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pmtu/pmtu/internal/buildinfo"
	"github.com/pmtu/pmtu/internal/privilege"
	"github.com/pmtu/pmtu/probe"
)

func TestMethodStates(t *testing.T) {
	type row struct {
		Method probe.Method
		Usable bool
	}
	tests := []struct {
		name    string
		r       privilege.Report
		want    []row
		wantWhy string // in ping-socket's why
	}{
		{
			name: "nobody, kernel default range",
			r:    privilege.Report{PingRange: privilege.GroupRange{Lo: 1, Hi: 0}, Groups: []uint32{65534}},
			want: []row{{probe.MethodICMP, false}, {probe.MethodPing, false}, {probe.MethodUDPRecvErr, true},
				{probe.MethodUDP, false}, {probe.MethodTCP, false}, {probe.MethodTCPData, true}, {probe.MethodQUIC, true}},
			wantWhy: `"1 0" admits none of groups 65534`,
		},
		{
			name: "the package's capability, range open to everyone",
			r: privilege.Report{NetRaw: true, PingRange: privilege.GroupRange{Lo: 0, Hi: 2147483647},
				Groups: []uint32{1000, 27}, PingAdmitted: true},
			want: []row{{probe.MethodICMP, true}, {probe.MethodPing, true}, {probe.MethodUDPRecvErr, true},
				{probe.MethodUDP, true}, {probe.MethodTCP, true}, {probe.MethodTCPData, true}, {probe.MethodQUIC, true}},
			wantWhy: "admits group 1000",
		},
		{
			name: "nothing readable",
			r:    privilege.Report{NetRawErr: errors.New("no /proc"), PingErr: errors.New("no /proc")},
			want: []row{{probe.MethodICMP, false}, {probe.MethodPing, false}, {probe.MethodUDPRecvErr, true},
				{probe.MethodUDP, false}, {probe.MethodTCP, false}, {probe.MethodTCPData, true}, {probe.MethodQUIC, true}},
			wantWhy: "cannot tell: no /proc",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := methodStates(tt.r)
			var rows []row
			for _, s := range got {
				rows = append(rows, row{s.Method, s.Usable})
				if s.Method == probe.MethodPing && !strings.Contains(s.Why, tt.wantWhy) {
					t.Errorf("ping-socket why %q, want it to say %q", s.Why, tt.wantWhy)
				}
				if s.Method.Privileged() && !tt.r.NetRaw && tt.r.NetRawErr == nil && !strings.Contains(s.Why, "setcap cap_net_raw+ep") {
					t.Errorf("%s why %q does not say how to fix it", s.Method, s.Why)
				}
			}
			if diff := cmp.Diff(tt.want, rows); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// fakeVersion makes the version command see a stamped build and nobody
// holding the package's capability.
func fakeVersion(t *testing.T) {
	t.Helper()
	oldBuild, oldCheck := versionBuild, versionCheck
	t.Cleanup(func() { versionBuild, versionCheck = oldBuild, oldCheck })
	versionBuild = func() buildinfo.Info {
		return buildinfo.Info{Version: "1.2.0", Commit: "572c538", Date: "2026-11-27T05:00:00Z", GoVersion: "go1.26.8", Platform: "linux/amd64"}
	}
	versionCheck = func() privilege.Report {
		return privilege.Report{NetRaw: true, PingRange: privilege.GroupRange{Lo: 1, Hi: 0}, Groups: []uint32{65534}}
	}
}

func TestVersionText(t *testing.T) {
	fakeVersion(t)
	want := `pmtu 1.2.0
  commit  572c538
  date    2026-11-27T05:00:00Z
  go      go1.26.8 linux/amd64
probe methods this process may use, in the order pmtu tries them:
  icmp         yes  raw sockets: CAP_NET_RAW is effective
  ping-socket  no   ICMP datagram sockets: net.ipv4.ping_group_range "1 0" admits none of groups 65534
  udp-recverr  yes  needs no privilege
  udp          yes  raw sockets: CAP_NET_RAW is effective
  tcp          yes  raw sockets: CAP_NET_RAW is effective
  tcp-data     yes  needs no privilege
  quic         yes  needs no privilege
`
	for _, args := range [][]string{{"--version"}, {"version"}} {
		out, errOut, code := runApp(t, args...)
		if code != exitOK || errOut != "" {
			t.Errorf("%v: exit %d, stderr %q", args, code, errOut)
		}
		if diff := cmp.Diff(want, out); diff != "" {
			t.Errorf("%v (-want +got):\n%s", args, diff)
		}
	}
}

func TestVersionJSON(t *testing.T) {
	fakeVersion(t)
	for _, args := range [][]string{{"version", "--json"}, {"--version", "--json"}} {
		out, errOut, code := runApp(t, args...)
		if code != exitOK || errOut != "" {
			t.Fatalf("%v: exit %d, stderr %q", args, code, errOut)
		}
		var got map[string]any
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%v: not JSON: %v\n%s", args, err, out)
		}
		methods := got["methods"].([]any)
		got["methods"] = len(methods)
		want := map[string]any{
			"version": "1.2.0", "commit": "572c538", "date": "2026-11-27T05:00:00Z", "go": "go1.26.8",
			"platform": "linux/amd64", "cap_net_raw": true, "ping_group_range": []any{1.0, 0.0},
			"groups": []any{65534.0}, "ping_group_admitted": false, "methods": 7,
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%v (-want +got):\n%s", args, diff)
		}
		first := methods[0].(map[string]any)
		if first["method"] != "icmp" || first["usable"] != true {
			t.Errorf("first method %v, want icmp usable", first)
		}
	}
}

func TestVersionUsage(t *testing.T) {
	fakeVersion(t)
	out, errOut, code := runApp(t, "version", "extra")
	if code != exitUsage || out != "" || !strings.HasPrefix(errOut, "pmtu: version takes no arguments") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

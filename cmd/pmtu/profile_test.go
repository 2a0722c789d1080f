package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pmtu/pmtu/internal/probetest"
	"github.com/pmtu/pmtu/measure"
)

// windowPath is 198.18.2.2 behind r1 with 1500 everywhere, losing every
// probe of 1400–1420 bytes.
func windowPath() *probetest.Path {
	return &probetest.Path{Src: netip.MustParseAddr("198.18.0.1"), Dst: netip.MustParseAddr("198.18.2.2"), RTT: time.Millisecond,
		Hops:     []probetest.Hop{{Addr: netip.MustParseAddr("198.18.1.2"), MTU: 1500}},
		DropSize: func(size, _ int) bool { return size >= 1400 && size <= 1420 }}
}

func runProfile(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	// --rate high: the fake network answers at once, and the packet
	// budget would otherwise pace the test in real time.
	args = append([]string{"pmtu", "profile", "--rate", "1000000"}, args...)
	code := run(context.Background(), testWorld(windowPath()), args, &out, &errOut)
	return out.String(), errOut.String(), code
}

func TestProfileCommand(t *testing.T) {
	svg := filepath.Join(t.TempDir(), "loss.svg")
	out, errOut, code := runProfile(t, "--json", "--proto", "icmp", "--plot", svg, "198.18.2.2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep measure.ProfileReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if rep.PMTU != 1500 || rep.SafeMTU != 1500 || len(rep.Windows) != 1 || rep.Windows[0].From != 1400 || rep.Windows[0].To != 1420 || rep.Brownout != nil {
		t.Errorf("pmtu %d, safe_mtu %d, windows %+v, brownout %+v; want 1500, 1500, 1400–1420, none", rep.PMTU, rep.SafeMTU, rep.Windows, rep.Brownout)
	}
	for _, key := range []string{`"bands":[{"from":`, `"ci_low":`, `"ci_high":`, `"windows":[{"from":1400,"to":1420`, `"brownout":null`, `"safe_mtu":1500`} {
		if !strings.Contains(out, key) {
			t.Errorf("JSON lacks %s: %s", key, out)
		}
	}
	checkSVG(t, svg, "window 1400–1420", "safe_mtu 1500")

	out, errOut, code = runProfile(t, "--proto", "icmp", "198.18.2.2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"loss by size to 198.18.2.2 (path MTU 1500, icmp):", "1400–1420  ████████████████████   100%",
		"← window: lost while larger sizes pass", "safe_mtu 1500: no size up to it loses more than the rest"} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
}

// checkSVG parses the file as XML: one svg root in the SVG namespace,
// every element closed, and the labels given among its texts.
func checkSVG(t *testing.T, name string, labels ...string) {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	d := xml.NewDecoder(bytes.NewReader(b))
	var root xml.Name
	var texts strings.Builder
	circles := 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("the SVG is not well-formed XML: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if root.Local == "" {
				root = tok.Name
			}
			if tok.Name.Local == "circle" {
				circles++
			}
		case xml.CharData:
			texts.Write(tok)
		}
	}
	if root.Space != "http://www.w3.org/2000/svg" || root.Local != "svg" || circles == 0 {
		t.Errorf("root %v with %d circles; want an svg in the SVG namespace, a circle a size", root, circles)
	}
	for _, l := range labels {
		if !strings.Contains(texts.String(), l) {
			t.Errorf("the chart lacks the label %q", l)
		}
	}
}

func TestProfileBadInput(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--plot", "loss.png", "198.18.2.2"}, "pmtu: --plot \"loss.png\": the chart is an SVG, name it FILE.svg"},
		{[]string{"--duration", "0s", "198.18.2.2"}, "pmtu: --duration 0s must be positive"},
		{[]string{"--flows", "4", "--proto", "icmp", "198.18.2.2"}, "pmtu: --flows needs --proto udp or tcp"},
		{[]string{}, "pmtu: which host? usage: pmtu profile [flags] HOST"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, errOut, code := runProfile(t, tt.args...)
			if code != exitUsage || !strings.HasPrefix(errOut, tt.want) || strings.Count(errOut, "\n") != 1 {
				t.Errorf("exit %d, stderr %q; want exit %d, one line starting %q", code, errOut, exitUsage, tt.want)
			}
		})
	}
}

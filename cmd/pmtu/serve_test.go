package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pmtu/pmtu/exporter"
)

func TestParseAllow(t *testing.T) {
	got, err := parseAllow("198.18.0.0/15, 2001:db8::/32,198.18.3.2,198.19.1.7/24,")
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{
		netip.MustParsePrefix("198.18.0.0/15"), netip.MustParsePrefix("2001:db8::/32"),
		netip.MustParsePrefix("198.18.3.2/32"), netip.MustParsePrefix("198.19.1.0/24"),
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Errorf("parseAllow (-want +got):\n%s", diff)
	}
}

func TestServeUsageErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yml")
	if err := os.WriteFile(bad, []byte("modules:\n  a:\n    max_size: 12\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--allow", "198.18.0.0/33"}, `--allow "198.18.0.0/33"`},
		{[]string{"serve", "--allow", "nowhere"}, `--allow "nowhere"`},
		{[]string{"serve", "--listen", "10150"}, `--listen "10150"`},
		{[]string{"serve", "--max-concurrent", "0"}, "--max-concurrent 0"},
		{[]string{"serve", "--rate", "0"}, "--rate 0 is outside"},
		{[]string{"serve", "--config", filepath.Join(dir, "missing.yml")}, "--config"},
		{[]string{"serve", "--config", bad}, "module a: max_size"},
		{[]string{"serve", "198.18.0.1"}, "no arguments"},
		{[]string{"serve", "--bogus"}, "flag provided but not defined"},
	}
	for _, tt := range tests {
		out, errOut, code := runApp(t, tt.args...)
		if code != exitUsage || out != "" || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, tt.want) {
			t.Errorf("pmtu %s: exit %d, stdout %q, stderr %q; want exit 2 and one line saying %q", strings.Join(tt.args, " "), code, out, errOut, tt.want)
		}
	}
}

// pmtu serve listens, and on its context's end (SIGTERM or Ctrl-C in
// main) shuts down and exits 0.
func TestServeShutsDownCleanly(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, testWorld(), []string{"pmtu", "serve", "--listen", "127.0.0.1:0"}, &out, &errOut)
	}()
	time.Sleep(100 * time.Millisecond)
	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("exit %d, want 0; stderr %q", code, errOut.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("pmtu serve did not stop within 10 s of its context's end")
	}
	if s := errOut.String(); !strings.Contains(s, "listening on http://127.0.0.1:") || !strings.Contains(s, "shut down") {
		t.Errorf("stderr %q, want the address and \"shut down\"", s)
	}
}

// pmtu serve --help and pmtu watch --help are kept in golden files, as
// pmtu --help is.
func TestSubcommandHelpGolden(t *testing.T) {
	for _, cmd := range []string{"serve", "watch"} {
		t.Run(cmd, func(t *testing.T) {
			out, _, code := runApp(t, cmd, "--help")
			if code != exitOK {
				t.Fatalf("%s --help exit %d", cmd, code)
			}
			golden := filepath.Join("testdata", "help-"+cmd+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), out); diff != "" {
				t.Errorf("%s --help (-want +got), run go test -update to accept:\n%s", cmd, diff)
			}
		})
	}
}

// /probe?target= for a target that has no path MTU is bad input: 400
// with the sentence pmtu HOST prints, from probe.Lookup through
// serveProber, before any socket opens (the classes are decided by the
// address, or by a route lookup, which sends nothing).
func TestServeRefusesTargets400(t *testing.T) {
	w := testWorld()
	s := &exporter.Server{Prober: exporter.Measure(w.net, nil), Resolve: w.lookupHost}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	tests := []struct{ target, want string }{
		{"0.0.0.0", "0.0.0.0 is the unspecified address: it names no host, so it has no path MTU; give the address of the host to measure"},
		{"::", ":: is the unspecified address: it names no host, so it has no path MTU; give the address of the host to measure"},
		{"255.255.255.255", "255.255.255.255 is the limited broadcast address: it reaches every host on the link, so it has no single path MTU"},
		{"224.0.0.1", "224.0.0.1 is a multicast group: it has no single path MTU; give the unicast address of one member"},
		{"ff02::1", "ff02::1 is a multicast group: it has no single path MTU; give the unicast address of one member"},
		{"fe80::1", "fe80::1 is link-local: name the interface, e.g. fe80::1%eth0"},
	}
	for _, tt := range tests {
		resp, err := http.Get(ts.URL + "/probe?target=" + url.QueryEscape(tt.target))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || string(b) != "pmtu: "+tt.want+"\n" {
			t.Errorf("target=%s: status %d body %q, want 400 %q", tt.target, resp.StatusCode, b, "pmtu: "+tt.want)
		}
	}
}

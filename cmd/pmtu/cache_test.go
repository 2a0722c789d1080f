package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pmtu/pmtu/pmtucache"
	"github.com/pmtu/pmtu/route"
)

// cacheT0 is when the test entries were learned.
var cacheT0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

// runCacheCmd runs `pmtu [--cache-file path] cache args...` (newApp makes
// a fresh cache command) and returns stdout, stderr and the exit code.
func runCacheCmd(t *testing.T, ctx context.Context, path string, args ...string) (string, string, int) {
	t.Helper()
	argv := []string{"pmtu"}
	if path != "" {
		argv = append(argv, "--cache-file", path)
	}
	argv = append(argv, "cache")
	var out, errOut bytes.Buffer
	code := run(ctx, append(argv, args...), &out, &errOut)
	return out.String(), errOut.String(), code
}

// stubCacheWorld fixes the clock at cacheT0+at, answers route lookups from
// routes (dst absent: not cached) and host lookups from hosts (absent: no
// such host), and counts host lookups.
func stubCacheWorld(t *testing.T, at time.Duration, routes map[netip.Addr]route.Route, hosts map[string][]netip.Addr) *int {
	t.Helper()
	savedNow, savedGet, savedLookup := cacheNow, cacheRouteGet, cacheLookupHost
	t.Cleanup(func() { cacheNow, cacheRouteGet, cacheLookupHost = savedNow, savedGet, savedLookup })
	cacheNow = func() time.Time { return cacheT0.Add(at) }
	cacheRouteGet = func(_ context.Context, dst netip.Addr) (route.Route, error) {
		if r, ok := routes[dst]; ok {
			return r, nil
		}
		return route.Route{Dst: dst, MTU: 1500}, nil
	}
	lookups := new(int)
	cacheLookupHost = func(_ context.Context, network, host string) ([]netip.Addr, error) {
		*lookups++
		if a, ok := hosts[host]; ok {
			return a, nil
		}
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return lookups
}

var (
	cdst4  = netip.MustParseAddr("198.18.3.2")
	cdst4b = netip.MustParseAddr("198.18.4.2")
	cdst6  = netip.MustParseAddr("2001:db8:3::2")
	cother = netip.MustParseAddr("198.18.5.5")
	chop   = netip.MustParseAddr("198.18.2.2")
	csrc   = netip.MustParseAddr("198.18.1.1")
)

// seedCache writes the test entries, learned at cacheT0, to a new cache
// file and returns its path.
func seedCache(t *testing.T) string {
	t.Helper()
	netns := pmtucache.CurrentNetns()
	if netns == "" {
		t.Skip("no network namespace identity here")
	}
	path := filepath.Join(t.TempDir(), "cache.json")
	st := &pmtucache.Store{Path: path, Clock: func() time.Time { return cacheT0 }}
	err := st.Update(context.Background(), func(c *pmtucache.Cache) error {
		for _, e := range []pmtucache.Entry{
			{Key: pmtucache.Key{Dst: cdst4, Netns: netns}, PMTU: 1400, Evidence: pmtucache.EvidenceICMP, Hop: chop},
			{Key: pmtucache.Key{Dst: cdst4, Src: csrc, Netns: netns}, PMTU: 1300, Evidence: pmtucache.EvidenceProbes},
			{Key: pmtucache.Key{Dst: cdst4b, Netns: netns}, PMTU: 500, Evidence: pmtucache.EvidenceICMP, Hop: chop},
			{Key: pmtucache.Key{Dst: cdst6, Netns: netns}, PMTU: 1280, Evidence: pmtucache.EvidenceProbes},
			{Key: pmtucache.Key{Dst: cother, Netns: "net:[0]"}, PMTU: 1492, Evidence: pmtucache.EvidenceICMP},
		} {
			if _, err := c.Update(e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// kernelRoutes is the kernel's view in the tests.
var kernelRoutes = map[netip.Addr]route.Route{
	cdst4:  {Dst: cdst4, MTU: 1400, Cached: true, Expires: 431 * time.Second},
	cdst4b: {Dst: cdst4b, MTU: 552, Cached: true, Expires: 300 * time.Second, Locked: true},
}

func TestCacheList(t *testing.T) {
	path := seedCache(t)
	stubCacheWorld(t, 2*time.Minute+48*time.Second, kernelRoutes, nil)

	wantTable := `DESTINATION                 PMTU             EVIDENCE  HOP         EXPIRES IN  KERNEL
198.18.5.5 in net:[0]       1492             icmp      -           7m12s       -
198.18.3.2                  1400             icmp      198.18.2.2  7m12s       1400 (431s)
198.18.3.2 from 198.18.1.1  1300             probes    -           7m12s       1400 (431s)
198.18.4.2                  500 (below 552)  icmp      198.18.2.2  7m12s       552 locked (300s)
2001:db8:3::2               1280             probes    -           7m12s       none
`
	out, errOut, code := runCacheCmd(t, context.Background(), path, "list")
	if code != 0 || errOut != "" {
		t.Fatalf("cache list: exit %d, stderr %q", code, errOut)
	}
	if diff := cmp.Diff(wantTable, out); diff != "" {
		t.Errorf("cache list (-want +got):\n%s", diff)
	}

	netns := pmtucache.CurrentNetns()
	learned := cacheT0.Format(time.RFC3339)
	k4 := &cacheKernelJSON{Cached: true, MTU: 1400, ExpiresInS: 431}
	wantJSON := []cacheListJSON{
		{Dst: "198.18.5.5", Netns: "net:[0]", PMTU: 1492, Evidence: "icmp", ExpiresInS: 432},
		{Dst: "198.18.3.2", Netns: netns, PMTU: 1400, Evidence: "icmp", Hop: "198.18.2.2", ExpiresInS: 432, Kernel: k4},
		{Dst: "198.18.3.2", Src: "198.18.1.1", Netns: netns, PMTU: 1300, Evidence: "probes", ExpiresInS: 432, Kernel: k4},
		{Dst: "198.18.4.2", Netns: netns, PMTU: 500, Evidence: "icmp", Hop: "198.18.2.2", ExpiresInS: 432, BelowFloor: true,
			Kernel: &cacheKernelJSON{Cached: true, MTU: 552, ExpiresInS: 300, Locked: true}},
		{Dst: "2001:db8:3::2", Netns: netns, PMTU: 1280, Evidence: "probes", ExpiresInS: 432, Kernel: &cacheKernelJSON{MTU: 1500}},
	}
	for i := range wantJSON {
		wantJSON[i].Learned, _ = time.Parse(time.RFC3339, learned)
	}
	for _, args := range [][]string{{"list", "--json"}} {
		out, errOut, code := runCacheCmd(t, context.Background(), path, args...)
		if code != 0 || errOut != "" {
			t.Fatalf("cache %v: exit %d, stderr %q", args, code, errOut)
		}
		if n := strings.Count(out, "\n"); n != 1 {
			t.Errorf("cache %v printed %d lines, want 1", args, n)
		}
		var got []cacheListJSON
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("cache %v: %v\n%s", args, err, out)
		}
		if diff := cmp.Diff(wantJSON, got); diff != "" {
			t.Errorf("cache %v (-want +got):\n%s", args, diff)
		}
	}

	// The field names, as the contract spells them.
	var raw []map[string]any
	if err := json.Unmarshal([]byte(mustRun(t, path, "list", "--json")), &raw); err != nil {
		t.Fatal(err)
	}
	if len(raw) != len(wantJSON) {
		t.Fatalf("cache list --json gave %d entries, want %d", len(raw), len(wantJSON))
	}
	var keys []string
	for k := range raw[1] {
		keys = append(keys, k)
	}
	for k := range raw[1]["kernel"].(map[string]any) {
		keys = append(keys, "kernel."+k)
	}
	slices.Sort(keys)
	wantKeys := []string{"below_floor", "dst", "evidence", "expires_in_s", "hop", "kernel",
		"kernel.cached", "kernel.expires_in_s", "kernel.locked", "kernel.mtu", "learned", "netns", "pmtu", "src"}
	if diff := cmp.Diff(wantKeys, keys); diff != "" {
		t.Errorf("JSON keys (-want +got):\n%s", diff)
	}
	if raw[0]["kernel"] != nil {
		t.Errorf("kernel of another namespace's entry = %v, want null", raw[0]["kernel"])
	}
}

func mustRun(t *testing.T, path string, args ...string) string {
	t.Helper()
	out, errOut, code := runCacheCmd(t, context.Background(), path, args...)
	if code != 0 {
		t.Fatalf("cache %v: exit %d, stderr %q", args, code, errOut)
	}
	return out
}

func TestCacheListEmptyAndBroken(t *testing.T) {
	stubCacheWorld(t, 0, nil, nil)
	dir := t.TempDir()
	corrupt := filepath.Join(dir, "corrupt.json")
	if err := os.WriteFile(corrupt, []byte("{\"format\":\"pmtu-cache\",\"vers"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.json")
	tests := []struct {
		name     string
		path     string
		args     []string
		wantOut  string
		wantWarn string // substring of the one stderr line; "" for none
	}{
		{"missing file", missing, []string{"list"}, "no cached path MTUs in " + missing + "\n", ""},
		{"missing file as JSON", missing, []string{"list", "--json"}, "[]\n", ""},
		{"corrupt file", corrupt, []string{"list"}, "no cached path MTUs in " + corrupt + "\n", "pmtu: warning: "},
		{"corrupt file as JSON", corrupt, []string{"list", "--json"}, "[]\n", "starting afresh"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := runCacheCmd(t, context.Background(), tt.path, tt.args...)
			if code != 0 {
				t.Errorf("exit %d, want 0", code)
			}
			if diff := cmp.Diff(tt.wantOut, out); diff != "" {
				t.Errorf("stdout (-want +got):\n%s", diff)
			}
			checkOneLine(t, errOut, tt.wantWarn)
		})
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("list created the cache file: %v", err)
	}
}

// checkOneLine checks that stderr is one line containing want, or empty
// if want is "".
func checkOneLine(t *testing.T, stderr, want string) {
	t.Helper()
	if want == "" {
		if stderr != "" {
			t.Errorf("stderr %q, want nothing", stderr)
		}
		return
	}
	if strings.Count(stderr, "\n") != 1 || !strings.HasSuffix(stderr, "\n") || !strings.Contains(stderr, want) {
		t.Errorf("stderr %q, want one line containing %q", stderr, want)
	}
}

func TestCacheHelp(t *testing.T) {
	out, errOut, code := runCacheCmd(t, context.Background(), "")
	if code != 0 || errOut != "" || !strings.Contains(out, "pmtu cache list [--json]\n   pmtu cache flush [HOST]") {
		t.Errorf("pmtu cache: exit %d, stderr %q, stdout:\n%s", code, errOut, out)
	}
}

func TestCacheListDefaultPath(t *testing.T) {
	stubCacheWorld(t, 0, nil, nil)
	xdg := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", xdg)
	out, errOut, code := runCacheCmd(t, context.Background(), "", "list")
	want := "no cached path MTUs in " + filepath.Join(xdg, "pmtu", "cache.json") + "\n"
	if code != 0 || errOut != "" || out != want {
		t.Errorf("cache list without --cache-file: exit %d, stdout %q, stderr %q; want stdout %q", code, out, errOut, want)
	}
}

func TestCacheFlush(t *testing.T) {
	hosts := map[string][]netip.Addr{
		"t4":   {cdst4b},
		"both": {cdst4, netip.MustParseAddr("::ffff:198.18.4.2"), cdst6},
	}
	tests := []struct {
		name        string
		args        []string
		wantOut     string
		wantLeft    []string // destinations left, in list order
		wantLookups int
	}{
		{
			name:     "literal IPv4 needs no DNS",
			args:     []string{"flush", "198.18.3.2"},
			wantOut:  "removed 2 entries for 198.18.3.2\n",
			wantLeft: []string{"198.18.5.5", "198.18.4.2", "2001:db8:3::2"},
		},
		{
			name:     "literal IPv6 in brackets",
			args:     []string{"flush", "[2001:db8:3::2]"},
			wantOut:  "removed 1 entry for [2001:db8:3::2] (2001:db8:3::2)\n",
			wantLeft: []string{"198.18.5.5", "198.18.3.2", "198.18.3.2", "198.18.4.2"},
		},
		{
			name:     "another namespace's entry too",
			args:     []string{"flush", "198.18.5.5"},
			wantOut:  "removed 1 entry for 198.18.5.5\n",
			wantLeft: []string{"198.18.3.2", "198.18.3.2", "198.18.4.2", "2001:db8:3::2"},
		},
		{
			name:     "address with nothing cached",
			args:     []string{"flush", "198.18.9.9"},
			wantOut:  "removed 0 entries for 198.18.9.9\n",
			wantLeft: []string{"198.18.5.5", "198.18.3.2", "198.18.3.2", "198.18.4.2", "2001:db8:3::2"},
		},
		{
			name:        "name",
			args:        []string{"flush", "t4"},
			wantOut:     "removed 1 entry for t4 (198.18.4.2)\n",
			wantLeft:    []string{"198.18.5.5", "198.18.3.2", "198.18.3.2", "2001:db8:3::2"},
			wantLookups: 1,
		},
		{
			name:        "name with many addresses",
			args:        []string{"flush", "both"},
			wantOut:     "removed 4 entries for both (198.18.3.2, 198.18.4.2, 2001:db8:3::2)\n",
			wantLeft:    []string{"198.18.5.5"},
			wantLookups: 1,
		},
		{
			name:    "everything",
			args:    []string{"flush"},
			wantOut: "removed 5 entries\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := seedCache(t)
			lookups := stubCacheWorld(t, time.Minute, nil, hosts)
			out, errOut, code := runCacheCmd(t, context.Background(), path, tt.args...)
			if code != 0 || errOut != "" {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			if diff := cmp.Diff(tt.wantOut, out); diff != "" {
				t.Errorf("stdout (-want +got):\n%s", diff)
			}
			if *lookups != tt.wantLookups {
				t.Errorf("%d DNS lookups, want %d", *lookups, tt.wantLookups)
			}
			var left []cacheListJSON
			if err := json.Unmarshal([]byte(mustRun(t, path, "list", "--json")), &left); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range left {
				got = append(got, e.Dst)
			}
			if diff := cmp.Diff(tt.wantLeft, got); diff != "" {
				t.Errorf("entries left (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCacheFlushMissingFile(t *testing.T) {
	stubCacheWorld(t, 0, nil, nil)
	path := filepath.Join(t.TempDir(), "pmtu", "cache.json")
	for _, args := range [][]string{{"flush"}, {"flush", "198.18.3.2"}} {
		out, errOut, code := runCacheCmd(t, context.Background(), path, args...)
		if code != 0 || errOut != "" || !strings.HasPrefix(out, "removed 0 entries") {
			t.Errorf("cache %v on a missing file: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
	if _, err := os.Stat(filepath.Dir(path)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("flush created the cache directory: %v", err)
	}
}

func TestCacheErrors(t *testing.T) {
	stubCacheWorld(t, 0, nil, nil)
	dir := t.TempDir()
	// A cache file under a regular file: it cannot be written.
	notDir := filepath.Join(dir, "file")
	if err := os.WriteFile(notDir, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A cache file that is a directory: it cannot be replaced.
	isDir := filepath.Join(dir, "dir")
	if err := os.Mkdir(isDir, 0o700); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "cache.json")
	tests := []struct {
		name     string
		path     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"unknown host", good, []string{"flush", "no-such-host.invalid"}, exitUsage, `pmtu cache flush: cannot resolve "no-such-host.invalid": no such host`},
		{"empty host", good, []string{"flush", " "}, exitUsage, "the host is empty"},
		{"two hosts", good, []string{"flush", "198.18.3.2", "198.18.3.3"}, exitUsage, "one HOST at a time, got 2"},
		{"list with an argument", good, []string{"list", "198.18.3.2"}, exitUsage, "takes no arguments"},
		{"unknown subcommand", good, []string{"bogus"}, exitUsage, `pmtu cache: no command "bogus"`},
		{"unknown list flag", good, []string{"list", "--bogus"}, exitUsage, "flag provided but not defined"},
		{"flush cannot write", filepath.Join(notDir, "cache.json"), []string{"flush"}, exitCacheIO, "pmtu cache flush: "},
		{"flush over a directory", isDir, []string{"flush", "198.18.3.2"}, exitCacheIO, "pmtu cache flush: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := runCacheCmd(t, context.Background(), tt.path, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d", code, tt.wantCode)
			}
			if out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
			checkOneLine(t, errOut, tt.wantErr)
		})
	}
}

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
	w := testWorld()
	if cacheTestLookup != nil {
		w.lookupHost = cacheTestLookup
	}
	code := run(ctx, w, append(argv, args...), &out, &errOut)
	return out.String(), errOut.String(), code
}

// cacheTestLookup, when set, is the resolver of runCacheCmd's world.
var cacheTestLookup func(ctx context.Context, network, host string) ([]netip.Addr, error)

// stubCacheWorld fixes the clock at cacheT0+at, answers route lookups from
// routes (dst absent: not cached) and host lookups from hosts (absent: no
// such host), and counts host lookups.
func stubCacheWorld(t *testing.T, at time.Duration, routes map[netip.Addr]route.Route, hosts map[string][]netip.Addr) *int {
	t.Helper()
	savedNow, savedGet, savedLookup, savedHere, savedNames := cacheNow, cacheRouteGet, cacheTestLookup, cacheHere, cacheNetnsNames
	t.Cleanup(func() {
		cacheNow, cacheRouteGet, cacheTestLookup, cacheHere, cacheNetnsNames = savedNow, savedGet, savedLookup, savedHere, savedNames
	})
	cacheNow = func() time.Time { return cacheT0.Add(at) }
	cacheHere = func() pmtucache.Network { return cnetHere }
	cacheNetnsNames = func([]pmtucache.Entry) map[pmtucache.Network]string {
		return map[pmtucache.Network]string{cnetNamed: "ci-c"}
	}
	cacheRouteGet = func(_ context.Context, dst netip.Addr) (route.Route, error) {
		if r, ok := routes[dst]; ok {
			return r, nil
		}
		return route.Route{Dst: dst, MTU: 1500}, nil
	}
	lookups := new(int)
	cacheTestLookup = func(_ context.Context, network, host string) ([]netip.Addr, error) {
		*lookups++
		if a, ok := hosts[host]; ok {
			return a, nil
		}
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return lookups
}

var (
	// The namespace instances of the tests: the one cache list runs in,
	// one that /run/netns names, one it does not, and one of another
	// boot.
	cnetHere   = pmtucache.Network{Boot: "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", Cookie: 1}
	cnetNamed  = pmtucache.Network{Boot: "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", Cookie: 7}
	cnetGone   = pmtucache.Network{Boot: "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", Cookie: 9}
	cnetBooted = pmtucache.Network{Boot: "11111111-2222-3333-4444-555555555555", Cookie: 1}

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
	path := filepath.Join(t.TempDir(), "cache.json")
	st := &pmtucache.Store{Path: path, Clock: func() time.Time { return cacheT0 }}
	err := st.Update(context.Background(), func(c *pmtucache.Cache) error {
		icmp := func(dst netip.Addr, n pmtucache.Network) pmtucache.Key {
			return pmtucache.Key{Dst: dst, Net: n, Proto: "icmp"}
		}
		for _, e := range []pmtucache.Entry{
			{Key: icmp(cdst4, cnetHere), PMTU: 1400, Full: true, Refused: 1401, Evidence: pmtucache.EvidenceICMP, Hop: chop,
				Method: "icmp", IfIndex: 2, IfName: "veth1a", IfMTU: 1500, NetnsInode: 4026532001},
			{Key: pmtucache.Key{Dst: cdst4, Src: csrc, Net: cnetHere, Proto: "udp", Port: 33434}, PMTU: 1300, Evidence: pmtucache.EvidenceProbes,
				Method: "udp-recverr", IfIndex: 2, IfName: "veth1a", IfMTU: 1500},
			{Key: icmp(cdst4b, cnetHere), PMTU: 500, Full: true, Refused: 501, Evidence: pmtucache.EvidenceICMP, Hop: chop},
			{Key: icmp(cdst6, cnetHere), PMTU: 1280, Full: true, Evidence: pmtucache.EvidenceProbes},
			{Key: icmp(cother, cnetNamed), PMTU: 1492, Full: true, Refused: 1493, Evidence: pmtucache.EvidenceICMP},
			{Key: icmp(cother, cnetGone), PMTU: 1450, Full: true, Refused: 1451, Evidence: pmtucache.EvidenceICMP},
			{Key: icmp(cother, cnetBooted), PMTU: 1420, Full: true, Refused: 1421, Evidence: pmtucache.EvidenceICMP},
		} {
			if _, err := c.Measured(e); err != nil {
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

	wantTable := `DESTINATION                   PROBES     PMTU             EVIDENCE  HOP         EXPIRES IN  KERNEL
198.18.3.2                    icmp       1400             icmp      198.18.2.2  7m12s       1400 (431s)
198.18.3.2 from 198.18.1.1    udp 33434  ≥1300            probes    -           7m12s       1400 (431s)
198.18.4.2                    icmp       500 (below 552)  icmp      198.18.2.2  7m12s       552 locked (300s)
2001:db8:3::2                 icmp       1280             probes    -           7m12s       none
198.18.5.5 in ci-c            icmp       1492             icmp      -           7m12s       -
198.18.5.5 in netns cookie 9  icmp       1450             icmp      -           7m12s       -
198.18.5.5 (another boot)     icmp       1420             icmp      -           7m12s       -
`
	out, errOut, code := runCacheCmd(t, context.Background(), path, "list")
	if code != 0 || errOut != "" {
		t.Fatalf("cache list: exit %d, stderr %q", code, errOut)
	}
	if diff := cmp.Diff(wantTable, out); diff != "" {
		t.Errorf("cache list (-want +got):\n%s", diff)
	}

	learned := cacheT0.Format(time.RFC3339)
	k4 := &cacheKernelJSON{Cached: true, MTU: 1400, ExpiresInS: 431}
	wantJSON := []cacheListJSON{
		{Dst: "198.18.3.2", NetnsCookie: 1, NetnsInode: 4026532001, Here: true, ThisBoot: true, Proto: "icmp", Method: "icmp",
			PMTU: 1400, Exact: true, Refused: 1401, Evidence: "icmp", Hop: "198.18.2.2", Interface: "veth1a", IfMTU: 1500, ExpiresInS: 432, Kernel: k4},
		{Dst: "198.18.3.2", Src: "198.18.1.1", NetnsCookie: 1, Here: true, ThisBoot: true, Proto: "udp", Port: 33434, Method: "udp-recverr",
			PMTU: 1300, Evidence: "probes", Interface: "veth1a", IfMTU: 1500, ExpiresInS: 432, Kernel: k4},
		{Dst: "198.18.4.2", NetnsCookie: 1, Here: true, ThisBoot: true, Proto: "icmp", PMTU: 500, Exact: true, Refused: 501,
			Evidence: "icmp", Hop: "198.18.2.2", ExpiresInS: 432, BelowFloor: true,
			Kernel: &cacheKernelJSON{Cached: true, MTU: 552, ExpiresInS: 300, Locked: true}},
		{Dst: "2001:db8:3::2", NetnsCookie: 1, Here: true, ThisBoot: true, Proto: "icmp", PMTU: 1280, Exact: true,
			Evidence: "probes", ExpiresInS: 432, Kernel: &cacheKernelJSON{MTU: 1500}},
		{Dst: "198.18.5.5", Netns: "ci-c", NetnsCookie: 7, ThisBoot: true, Proto: "icmp", PMTU: 1492, Exact: true, Refused: 1493, Evidence: "icmp", ExpiresInS: 432},
		{Dst: "198.18.5.5", NetnsCookie: 9, ThisBoot: true, Proto: "icmp", PMTU: 1450, Exact: true, Refused: 1451, Evidence: "icmp", ExpiresInS: 432},
		{Dst: "198.18.5.5", NetnsCookie: 1, Proto: "icmp", PMTU: 1420, Exact: true, Refused: 1421, Evidence: "icmp", ExpiresInS: 432},
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
	for k := range raw[0] {
		keys = append(keys, k)
	}
	for k := range raw[0]["kernel"].(map[string]any) {
		keys = append(keys, "kernel."+k)
	}
	slices.Sort(keys)
	wantKeys := []string{"below_floor", "dst", "evidence", "exact", "expires_in_s", "here", "hop", "interface", "interface_mtu", "kernel",
		"kernel.cached", "kernel.expires_in_s", "kernel.locked", "kernel.mtu", "learned", "method", "netns", "netns_cookie", "netns_inode",
		"pmtu", "port", "proto", "refused_size", "src", "this_boot"}
	if diff := cmp.Diff(wantKeys, keys); diff != "" {
		t.Errorf("JSON keys (-want +got):\n%s", diff)
	}
	if raw[4]["kernel"] != nil {
		t.Errorf("kernel of another namespace's entry = %v, want null", raw[4]["kernel"])
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
	// A file of an older pmtu, keyed by the reusable namespace inode: its
	// entries are dropped quietly.
	old := filepath.Join(dir, "old.json")
	if err := os.WriteFile(old, []byte(`{"format":"pmtu-cache","version":1,"entries":[{"dst":"198.18.3.2","src":"","netns":"net:[4026531840]",`+
		`"pmtu":1400,"evidence":"icmp","hop":"198.18.2.2","learned":"2025-01-02T03:04:05Z","expires":"2025-01-02T03:14:05Z","below_floor":false}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
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
		{"older version", old, []string{"list"}, "no cached path MTUs in " + old + "\n", ""},
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
			wantLeft: []string{"198.18.4.2", "2001:db8:3::2", "198.18.5.5", "198.18.5.5", "198.18.5.5"},
		},
		{
			name:     "literal IPv6 in brackets",
			args:     []string{"flush", "[2001:db8:3::2]"},
			wantOut:  "removed 1 entry for [2001:db8:3::2] (2001:db8:3::2)\n",
			wantLeft: []string{"198.18.3.2", "198.18.3.2", "198.18.4.2", "198.18.5.5", "198.18.5.5", "198.18.5.5"},
		},
		{
			name:     "another namespace's entry too",
			args:     []string{"flush", "198.18.5.5"},
			wantOut:  "removed 3 entries for 198.18.5.5\n",
			wantLeft: []string{"198.18.3.2", "198.18.3.2", "198.18.4.2", "2001:db8:3::2"},
		},
		{
			name:     "address with nothing cached",
			args:     []string{"flush", "198.18.9.9"},
			wantOut:  "removed 0 entries for 198.18.9.9\n",
			wantLeft: []string{"198.18.3.2", "198.18.3.2", "198.18.4.2", "2001:db8:3::2", "198.18.5.5", "198.18.5.5", "198.18.5.5"},
		},
		{
			name:        "name",
			args:        []string{"flush", "t4"},
			wantOut:     "removed 1 entry for t4 (198.18.4.2)\n",
			wantLeft:    []string{"198.18.3.2", "198.18.3.2", "2001:db8:3::2", "198.18.5.5", "198.18.5.5", "198.18.5.5"},
			wantLookups: 1,
		},
		{
			name:        "name with many addresses",
			args:        []string{"flush", "both"},
			wantOut:     "removed 4 entries for both (198.18.3.2, 198.18.4.2, 2001:db8:3::2)\n",
			wantLeft:    []string{"198.18.5.5", "198.18.5.5", "198.18.5.5"},
			wantLookups: 1,
		},
		{
			name:    "everything",
			args:    []string{"flush"},
			wantOut: "removed 7 entries\n",
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

package pmtucache

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var update = flag.Bool("update", false, "rewrite testdata/v2.json and testdata/v2-reverse.json")

// goldenEntries are the entries of testdata/v2.json.
var goldenEntries = []Entry{
	{
		Key:  Key{Dst: dst4, Net: netA, Proto: "icmp"},
		PMTU: 1400, Full: true, Refused: 1401, Evidence: EvidenceICMP, Hop: hop4,
		Method: "icmp", IfIndex: 2, IfName: "veth1a", IfMTU: 1500, NetnsInode: 4026532000,
		Kernel:  Exception{MTU: 1400, Expires: t0.Add(DefaultLifetime - time.Second)},
		Learned: t0, Expires: t0.Add(DefaultLifetime),
	},
	{
		Key:  Key{Dst: netip.MustParseAddr("198.18.4.2"), Src: src4, Net: netA, Proto: "udp", Port: 33434},
		PMTU: 500, Full: true, Refused: 501, Evidence: EvidenceICMP, Hop: hop4,
		Method: "udp-recverr", IfIndex: 2, IfName: "veth1a", IfMTU: 1500, NetnsInode: 4026532000,
		Kernel:  Exception{MTU: 552, Expires: t0.Add(DefaultLifetime)},
		Learned: t0, Expires: t0.Add(DefaultLifetime), BelowFloor: true,
	},
	{
		Key:  Key{Dst: dst6, Net: netB, Proto: "tcp", Port: 443},
		PMTU: 1280, Evidence: EvidenceProbes,
		Method: "tcp", IfIndex: 3, IfName: "eth0", IfMTU: 1500,
		Learned: t0, Expires: t0.Add(DefaultLifetime),
	},
}

// reverseEntries are the entries of testdata/v2-reverse.json: what the
// replies proved of the way back, kept beside the answer (a return black
// hole by Echo; a UDP search, whose small answers tell nothing).
var reverseEntries = []Entry{
	{
		Key:  Key{Dst: dst4, Net: netA, Proto: "icmp"},
		PMTU: 1500, Full: true, Refused: 1501, Evidence: EvidenceProbes,
		Method: "icmp", IfIndex: 2, IfName: "veth1a", IfMTU: 1500, NetnsInode: 4026532000,
		Learned: t0, Expires: t0.Add(DefaultLifetime),
		Return:             ReturnPath{Min: 1300, Max: 1307, Evidence: "fragmented replies"},
		BlackHoleDirection: "return",
	},
	{
		Key:  Key{Dst: dst6, Net: netB, Proto: "udp", Port: 33434},
		PMTU: 1400, Full: true, Refused: 1401, Evidence: EvidenceProbes,
		Method: "udp", IfIndex: 3, IfName: "eth0", IfMTU: 1500,
		Learned: t0, Expires: t0.Add(DefaultLifetime),
		Return:             ReturnPath{Evidence: "unknown"},
		BlackHoleDirection: "forward",
	},
}

// The file format, pinned by testdata: v2.json was written before
// entries kept the return path, and still reads (without one);
// v2-reverse.json is what this code writes with one, and reads back.
func TestFileFormat(t *testing.T) {
	for _, tt := range []struct {
		golden  string
		entries []Entry
	}{
		{"testdata/v2.json", goldenEntries},
		{"testdata/v2-reverse.json", reverseEntries},
	} {
		t.Run(tt.golden, func(t *testing.T) { testFileFormat(t, tt.golden, tt.entries) })
	}
}

func testFileFormat(t *testing.T, golden string, entries []Entry) {
	b, err := encode(entries)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(golden, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(b)); diff != "" {
		t.Errorf("encode (-want +got):\n%s", diff)
	}
	got, err := decode(want)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(entries, got, addrCmp); diff != "" {
		t.Errorf("decode (-want +got):\n%s", diff)
	}
}

// The return path goes through a Store as it came: an entry with one
// reads back with it, an entry without one (an older pmtu's) reads back
// without one.
func TestStoreKeepsReturnPath(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	with := Entry{Key: Key{Dst: dst4, Proto: "icmp"}, PMTU: 1500, Evidence: EvidenceProbes,
		Return: ReturnPath{Min: 1300, Max: 1307, Evidence: "fragmented replies"}, BlackHoleDirection: "return"}
	without := Entry{Key: Key{Dst: dst6, Proto: "icmp"}, PMTU: 1400, Evidence: EvidenceICMP, Hop: hop6}
	err := s.Update(ctx, func(c *Cache) error {
		for _, e := range []Entry{with, without} {
			if _, err := c.Update(e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	c, warn := s.Load(ctx)
	if warn != nil {
		t.Fatalf("Load: %v", warn)
	}
	for _, want := range []Entry{with, without} {
		got, ok := c.Lookup(want.Key)
		if !ok {
			t.Fatalf("no entry for %s after Load", want.Dst)
		}
		if got.Return != want.Return || got.BlackHoleDirection != want.BlackHoleDirection {
			t.Errorf("%s: return %+v, direction %q; want %+v, %q", want.Dst, got.Return, got.BlackHoleDirection, want.Return, want.BlackHoleDirection)
		}
	}
}

// newStore returns a Store with a fake clock in a fresh directory.
func newStore(t *testing.T) (*Store, *fakeClock) {
	t.Helper()
	clock := newFakeClock()
	return &Store{Path: filepath.Join(t.TempDir(), "sub", "cache.json"), Clock: clock.Now}, clock
}

// put stores an ICMP-learned pmtu for dst through s.
func put(t *testing.T, s *Store, dst netip.Addr, pmtu int) {
	t.Helper()
	err := s.Update(context.Background(), func(c *Cache) error {
		_, err := c.Update(Entry{Key: Key{Dst: dst}, PMTU: pmtu, Evidence: EvidenceICMP, Hop: hop4})
		return err
	})
	if err != nil {
		t.Fatalf("Store.Update: %v", err)
	}
}

// dump lists a cache's entries as "dst pmtu".
func dump(c *Cache) []string {
	var s []string
	for _, e := range c.Entries() {
		s = append(s, fmt.Sprintf("%s %d", e.Dst, e.PMTU))
	}
	return s
}

func TestStore(t *testing.T) {
	ctx := context.Background()
	s, clock := newStore(t)

	c, warn := s.Load(ctx)
	if warn != nil || len(c.Entries()) != 0 {
		t.Fatalf("Load of a missing file = %v, %v; want an empty cache, no warning", dump(c), warn)
	}

	put(t, s, dst4, 1400)
	clock.Set(time.Minute)
	put(t, s, netip.MustParseAddr("198.18.4.2"), 1300)
	put(t, s, dst4, 1500) // ignored: larger ICMP

	c, warn = s.Load(ctx)
	if warn != nil {
		t.Fatalf("Load: %v", warn)
	}
	if diff := cmp.Diff([]string{"198.18.3.2 1400", "198.18.4.2 1300"}, dump(c)); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
	e, ok := c.Lookup(Key{Dst: dst4})
	if !ok || !e.Learned.Equal(t0) || e.Hop != hop4 || e.ExpiresIn(clock.Now()) != 9*time.Minute {
		t.Errorf("Lookup after Load = %+v, %v", e, ok)
	}

	// An error from fn leaves the file alone.
	errFn := errors.New("fn failed")
	if err := s.Update(ctx, func(c *Cache) error { c.Flush(); return errFn }); !errors.Is(err, errFn) {
		t.Errorf("Update with failing fn = %v, want %v", err, errFn)
	}
	c, _ = s.Load(ctx)
	if n := len(c.Entries()); n != 2 {
		t.Errorf("after a failed Update: %d entries, want 2", n)
	}

	// Saving prunes expired entries from the file.
	clock.Set(11 * time.Minute)
	put(t, s, netip.MustParseAddr("198.18.4.3"), 1280)
	b, err := os.ReadFile(s.Path)
	if err != nil {
		t.Fatal(err)
	}
	es, err := decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 || es[0].Dst != netip.MustParseAddr("198.18.4.3") {
		t.Errorf("file after prune holds %+v, want only 198.18.4.3", es)
	}

	// No temporary files are left behind.
	names, err := filepath.Glob(filepath.Join(filepath.Dir(s.Path), "*"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{s.Path, s.Path + ".lock"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("files in the cache directory (-want +got):\n%s", diff)
	}
}

func TestStoreBadFile(t *testing.T) {
	good, err := encode(goldenEntries[:1])
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		content  []byte
		wantKept []string // entries Load keeps despite the warning
	}{
		{name: "empty", content: nil},
		{name: "garbage bytes", content: []byte("\x00\xff\xfe garbage \x89PNG\r\n")},
		{name: "truncated", content: good[:len(good)/2]},
		{name: "trailing garbage", content: append(append([]byte{}, good...), "}}"...)},
		{name: "foreign object", content: []byte(`{"name":"something else","entries":[1,2,3]}`)},
		{name: "foreign array", content: []byte(`[{"dst":"198.18.3.2","pmtu":1400}]`)},
		{name: "null", content: []byte("null")},
		{name: "string", content: []byte(`"pmtu-cache"`)},
		{name: "newer version", content: []byte(`{"format":"pmtu-cache","version":3,"entries":[]}`)},
		{name: "version 0", content: []byte(`{"format":"pmtu-cache","version":0,"entries":[]}`)},
		{name: "no version", content: []byte(`{"format":"pmtu-cache","entries":[]}`)},
		{name: "entries of the wrong type", content: []byte(`{"format":"pmtu-cache","version":2,"entries":{"a":1}}`)},
		{
			name: "one bad entry among good ones",
			content: []byte(`{"format":"pmtu-cache","version":2,"entries":[
				{"dst":"198.18.3.2","pmtu":1400,"evidence":"icmp","learned":"2025-01-02T03:04:05Z","expires":"2025-01-02T03:14:05Z"},
				{"dst":"198.18.3.3","pmtu":1400,"refused":1300,"evidence":"icmp","learned":"2025-01-02T03:04:05Z","expires":"2025-01-02T03:14:05Z"},
				{"dst":"198.18.3.4","pmtu":1400,"kernel_mtu":1400,"evidence":"icmp","learned":"2025-01-02T03:04:05Z","expires":"2025-01-02T03:14:05Z"},
				{"dst":"2001:db8::1","pmtu":600,"evidence":"icmp","learned":"2025-01-02T03:04:05Z","expires":"2025-01-02T03:14:05Z"}]}`),
			wantKept: []string{"198.18.3.2 1400"},
		},
		{
			name: "bad address",
			content: []byte(`{"format":"pmtu-cache","version":2,"entries":[
				{"dst":"not an address","pmtu":1400,"evidence":"icmp","learned":"2025-01-02T03:04:05Z","expires":"2025-01-02T03:14:05Z"}]}`),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s, _ := newStore(t)
			if err := os.MkdirAll(filepath.Dir(s.Path), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(s.Path, tt.content, 0o600); err != nil {
				t.Fatal(err)
			}

			c, warn := s.Load(ctx)
			if !errors.Is(warn, ErrCorrupt) {
				t.Fatalf("Load warning = %v, want one wrapping ErrCorrupt", warn)
			}
			if msg := warn.Error(); bytes.ContainsAny([]byte(msg), "\n\r") {
				t.Errorf("warning is not one line: %q", msg)
			}
			if diff := cmp.Diff(tt.wantKept, dump(c)); diff != "" {
				t.Errorf("Load entries (-want +got):\n%s", diff)
			}

			put(t, s, netip.MustParseAddr("198.18.7.7"), 1300)

			c, warn = s.Load(ctx)
			if warn != nil {
				t.Fatalf("Load after rebuild: %v", warn)
			}
			want := append(append([]string{}, tt.wantKept...), "198.18.7.7 1300")
			if diff := cmp.Diff(want, dump(c)); diff != "" {
				t.Errorf("entries after rebuild (-want +got):\n%s", diff)
			}
		})
	}
}

// TestStoreOldVersion: a file written by an older pmtu (version 1, keyed by
// the namespace's reusable inode number) gives no entries and no warning,
// and the next Update rewrites it in this version.
func TestStoreOldVersion(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	old, err := os.ReadFile("testdata/v1-old.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(s.Path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.Path, old, 0o600); err != nil {
		t.Fatal(err)
	}
	c, warn := s.Load(ctx)
	if warn != nil || len(c.Entries()) != 0 {
		t.Fatalf("Load of a version 1 file = %v, %v; want no entries, no warning", dump(c), warn)
	}
	put(t, s, netip.MustParseAddr("198.18.7.7"), 1300)
	b, err := os.ReadFile(s.Path)
	if err != nil {
		t.Fatal(err)
	}
	es, err := decode(b)
	if err != nil {
		t.Fatalf("the rewritten file: %v", err)
	}
	if got := len(es); got != 1 || !bytes.Contains(b, []byte(`"version": 2`)) {
		t.Errorf("rewritten file holds %d entries, want 1 in version 2:\n%s", got, b)
	}
}

func TestStoreUnreadable(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	// A directory where the file should be: Load warns (not as corrupt
	// content) and Update refuses to replace it.
	if err := os.MkdirAll(s.Path, 0o700); err != nil {
		t.Fatal(err)
	}
	c, warn := s.Load(ctx)
	if warn == nil || errors.Is(warn, ErrCorrupt) || c == nil {
		t.Errorf("Load of a directory = %v, %v; want a cache and a warning not wrapping ErrCorrupt", c, warn)
	}
	if err := s.Update(ctx, func(*Cache) error { return nil }); err == nil {
		t.Errorf("Update over a directory succeeded")
	}
}

func TestStoreLockTimeout(t *testing.T) {
	s, _ := newStore(t)
	if err := os.MkdirAll(filepath.Dir(s.Path), 0o700); err != nil {
		t.Fatal(err)
	}
	unlock, err := lock(context.Background(), s.Path+".lock")
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name     string
		ctx      context.Context
		lockWait time.Duration
		want     error
	}{
		{"lock wait", context.Background(), 100 * time.Millisecond, context.DeadlineExceeded},
		{"context canceled", canceled, time.Hour, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.LockWait = tt.lockWait
			start := time.Now()
			err := s.Update(tt.ctx, func(*Cache) error {
				t.Error("fn called without the lock")
				return nil
			})
			if !errors.Is(err, tt.want) {
				t.Errorf("Update while locked = %v, want %v", err, tt.want)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("Update took %v to give up", d)
			}
		})
	}
	unlock()
	s.LockWait = 0
	put(t, s, dst4, 1400)
}

func TestStoreConcurrentGoroutines(t *testing.T) {
	s, _ := newStore(t)
	const n = 20
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			put(t, s, netip.AddrFrom4([4]byte{198, 18, 8, byte(i)}), 1300+i)
		}()
	}
	wg.Wait()
	c, warn := s.Load(context.Background())
	if warn != nil {
		t.Fatal(warn)
	}
	if got := len(c.Entries()); got != n {
		t.Errorf("%d entries after %d concurrent updates, want %d", got, n, n)
	}
}

// Environment of TestHelperProcess.
const (
	helperEnv     = "PMTUCACHE_TEST_HELPER"
	helperPathEnv = "PMTUCACHE_TEST_PATH"
	helperDstEnv  = "PMTUCACHE_TEST_DST"
)

// TestHelperProcess is not a test: TestStoreManyProcesses runs the test
// binary as a pmtu process storing one destination. It waits for its stdin
// to close, so that all the processes start together.
func TestHelperProcess(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		t.Skip("helper process for TestStoreManyProcesses")
	}
	err := func() error {
		if _, err := io.Copy(io.Discard, os.Stdin); err != nil {
			return err
		}
		dst, err := netip.ParseAddr(os.Getenv(helperDstEnv))
		if err != nil {
			return err
		}
		s := &Store{Path: os.Getenv(helperPathEnv), LockWait: time.Minute}
		return s.Update(context.Background(), func(c *Cache) error {
			_, err := c.Update(Entry{Key: Key{Dst: dst, Net: netA}, PMTU: 1400, Evidence: EvidenceICMP})
			return err
		})
	}()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

func TestStoreManyProcesses(t *testing.T) {
	if runtime.GOOS == "js" || runtime.GOOS == "wasip1" {
		t.Skip("cannot run processes")
	}
	const n = 50
	path := filepath.Join(t.TempDir(), "pmtu", "cache.json")
	type proc struct {
		cmd   *exec.Cmd
		stdin io.WriteCloser
		out   bytes.Buffer
	}
	procs := make([]*proc, n)
	var want []string
	for i := range procs {
		dst := netip.AddrFrom4([4]byte{198, 18, 10, byte(i)})
		want = append(want, dst.String()+" 1400")
		p := &proc{cmd: exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")}
		p.cmd.Env = append(os.Environ(), helperEnv+"=1", helperPathEnv+"="+path, helperDstEnv+"="+dst.String())
		p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
		var err error
		if p.stdin, err = p.cmd.StdinPipe(); err != nil {
			t.Fatal(err)
		}
		if err := p.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		procs[i] = p
	}
	// Release them all at once.
	for _, p := range procs {
		p.stdin.Close()
	}
	for i, p := range procs {
		if err := p.cmd.Wait(); err != nil {
			t.Errorf("process %d: %v\n%s", i, err, p.out.Bytes())
		}
	}
	c, warn := (&Store{Path: path}).Load(context.Background())
	if warn != nil {
		t.Fatal(warn)
	}
	if diff := cmp.Diff(want, dump(c)); diff != "" {
		t.Errorf("entries after %d processes (-want +got):\n%s", n, diff)
	}
}

func TestDefaultPath(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", "/xdg/cache")
	got, err := DefaultPath()
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "linux" {
		t.Skipf("DefaultPath on %s = %s", runtime.GOOS, got)
	}
	if want := "/xdg/cache/pmtu/cache.json"; got != want {
		t.Errorf("DefaultPath with XDG_CACHE_HOME = %q, want %q", got, want)
	}
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("HOME", "/home/someone")
	got, err = DefaultPath()
	if err != nil {
		t.Fatal(err)
	}
	if want := "/home/someone/.cache/pmtu/cache.json"; got != want {
		t.Errorf("DefaultPath without XDG_CACHE_HOME = %q, want %q", got, want)
	}
}

func FuzzDecode(f *testing.F) {
	good, err := encode(goldenEntries)
	if err != nil {
		f.Fatal(err)
	}
	golden, err := os.ReadFile("testdata/v2.json")
	if err != nil {
		f.Fatal(err)
	}
	old, err := os.ReadFile("testdata/v1-old.json")
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range [][]byte{
		good, golden, old, good[:len(good)/3], nil, []byte("null"), []byte("{}"),
		[]byte(`{"format":"pmtu-cache","version":2,"entries":[{"dst":"::ffff:1.2.3.4","pmtu":` + strconv.Itoa(1<<40) + `}]}`),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		es, err := decode(b)
		if err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("decode error %v does not wrap ErrCorrupt", err)
		}
		// What decode accepts survives a round trip.
		b2, err := encode(es)
		if err != nil {
			t.Fatal(err)
		}
		es2, err := decode(b2)
		if err != nil {
			t.Fatalf("decode(encode(%+v)): %v", es, err)
		}
		if diff := cmp.Diff(es, es2, addrCmp, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
	})
}

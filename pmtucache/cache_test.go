package pmtucache

import (
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// t0 is where every fake clock starts.
var t0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: t0} }

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Set moves the clock to t0+d.
func (f *fakeClock) Set(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = t0.Add(d)
}

// addrCmp compares netip.Addr values, whose fields cmp cannot see.
var addrCmp = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })

var (
	// netA and netB are two namespace instances of one boot.
	netA = Network{Boot: "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", Cookie: 1}
	netB = Network{Boot: "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", Cookie: 2}

	dst4 = netip.MustParseAddr("198.18.3.2")
	hop4 = netip.MustParseAddr("198.18.2.2")
	src4 = netip.MustParseAddr("198.18.1.1")
	dst6 = netip.MustParseAddr("2001:db8:3::2")
	hop6 = netip.MustParseAddr("2001:db8:2::2")
)

func TestUpdateRules(t *testing.T) {
	// step offers pmtu/ev for dst at t0+at and expects want, a summary of
	// the Result, or an error.
	type step struct {
		at      time.Duration
		dst     netip.Addr
		pmtu    int
		ev      Evidence
		want    summary
		wantErr bool
	}
	icmp := func(at time.Duration, pmtu int, want summary) step {
		return step{at: at, dst: dst4, pmtu: pmtu, ev: EvidenceICMP, want: want}
	}
	probes := func(at time.Duration, pmtu int, want summary) step {
		return step{at: at, dst: dst4, pmtu: pmtu, ev: EvidenceProbes, want: want}
	}
	refused := func(dst netip.Addr, pmtu int) step {
		return step{dst: dst, pmtu: pmtu, ev: EvidenceICMP, wantErr: true}
	}
	// entry summarises an entry learned at l, expiring at x.
	entry := func(a Action, pmtu int, ev Evidence, l, x time.Duration) summary {
		return summary{Action: a, PMTU: pmtu, Evidence: ev, Learned: l, Expires: x}
	}
	const m = time.Minute
	tests := []struct {
		name  string
		steps []step
	}{
		{
			name:  "first ICMP stored for 10 minutes",
			steps: []step{icmp(0, 1400, entry(Stored, 1400, EvidenceICMP, 0, 10*m))},
		},
		{
			name: "larger ICMP ignored",
			steps: []step{
				icmp(0, 1400, entry(Stored, 1400, EvidenceICMP, 0, 10*m)),
				icmp(1*m, 1500, entry(Ignored, 1400, EvidenceICMP, 0, 10*m)),
			},
		},
		{
			name: "lower ICMP replaces and restarts the clock",
			steps: []step{
				icmp(0, 1400, entry(Stored, 1400, EvidenceICMP, 0, 10*m)),
				icmp(3*m, 1300, entry(Stored, 1300, EvidenceICMP, 3*m, 13*m)),
			},
		},
		{
			name: "same value with 6 minutes left does not refresh",
			steps: []step{
				icmp(0, 1400, entry(Stored, 1400, EvidenceICMP, 0, 10*m)),
				icmp(4*m, 1400, entry(Ignored, 1400, EvidenceICMP, 0, 10*m)),
			},
		},
		{
			name: "same value with 4 minutes left refreshes",
			steps: []step{
				icmp(0, 1400, entry(Stored, 1400, EvidenceICMP, 0, 10*m)),
				icmp(6*m, 1400, entry(Refreshed, 1400, EvidenceICMP, 0, 16*m)),
			},
		},
		{
			name: "same value with exactly half left refreshes, as the kernel does",
			steps: []step{
				icmp(0, 1400, entry(Stored, 1400, EvidenceICMP, 0, 10*m)),
				icmp(5*m-time.Nanosecond, 1400, entry(Ignored, 1400, EvidenceICMP, 0, 10*m)),
				icmp(5*m, 1400, entry(Refreshed, 1400, EvidenceICMP, 0, 15*m)),
			},
		},
		{
			name: "probes replace an ICMP value even when higher",
			steps: []step{
				icmp(0, 1400, entry(Stored, 1400, EvidenceICMP, 0, 10*m)),
				probes(1*m, 1450, entry(Stored, 1450, EvidenceProbes, 1*m, 11*m)),
			},
		},
		{
			name: "probes replace probes, same, higher or lower",
			steps: []step{
				probes(0, 1400, entry(Stored, 1400, EvidenceProbes, 0, 10*m)),
				probes(1*m, 1400, entry(Stored, 1400, EvidenceProbes, 1*m, 11*m)),
				probes(2*m, 1500, entry(Stored, 1500, EvidenceProbes, 2*m, 12*m)),
				probes(3*m, 1300, entry(Stored, 1300, EvidenceProbes, 3*m, 13*m)),
			},
		},
		{
			name: "ICMP lowers a probe-proved value but never raises it",
			steps: []step{
				probes(0, 1400, entry(Stored, 1400, EvidenceProbes, 0, 10*m)),
				icmp(1*m, 1500, entry(Ignored, 1400, EvidenceProbes, 0, 10*m)),
				icmp(2*m, 1300, entry(Stored, 1300, EvidenceICMP, 2*m, 12*m)),
			},
		},
		{
			name: "after expiry a larger ICMP is stored",
			steps: []step{
				icmp(0, 1400, entry(Stored, 1400, EvidenceICMP, 0, 10*m)),
				icmp(10*m, 1500, entry(Stored, 1500, EvidenceICMP, 10*m, 20*m)),
			},
		},
		{
			name: "IPv6 below 1280 refused, 1280 stored",
			steps: []step{
				refused(dst6, 1279),
				refused(dst6, 576),
				{dst: dst6, pmtu: 1280, ev: EvidenceICMP, want: entry(Stored, 1280, EvidenceICMP, 0, 10*m)},
				refused(dst6, 1000),
			},
		},
		{
			name: "IPv4 below 68 refused, 68 to 551 flagged below the floor, 552 not",
			steps: []step{
				refused(dst4, 67),
				refused(dst4, 0),
				icmp(0, 552, entry(Stored, 552, EvidenceICMP, 0, 10*m)),
				icmp(0, 551, summary{Action: Stored, PMTU: 551, Evidence: EvidenceICMP, Expires: 10 * m, BelowFloor: true}),
				icmp(0, 68, summary{Action: Stored, PMTU: 68, Evidence: EvidenceICMP, Expires: 10 * m, BelowFloor: true}),
				refused(dst4, 67),
			},
		},
		{
			name: "IPv4 above 65535 refused",
			steps: []step{
				refused(dst4, 65536),
				icmp(0, 65535, entry(Stored, 65535, EvidenceICMP, 0, 10*m)),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			c := &Cache{Clock: clock.Now}
			for i, s := range tt.steps {
				clock.Set(s.at)
				r, err := c.Update(Entry{Key: Key{Dst: s.dst}, PMTU: s.pmtu, Evidence: s.ev})
				if s.wantErr {
					if err == nil {
						t.Fatalf("step %d: Update(%d) = %v, want an error", i, s.pmtu, r)
					}
					continue
				}
				if err != nil {
					t.Fatalf("step %d: Update(%d): %v", i, s.pmtu, err)
				}
				if r.Reason == "" {
					t.Errorf("step %d: Update(%d) gave no reason", i, s.pmtu)
				}
				if diff := cmp.Diff(s.want, summarize(r)); diff != "" {
					t.Errorf("step %d: Update(%d) (-want +got):\n%s", i, s.pmtu, diff)
				}
				got, ok := c.Lookup(Key{Dst: s.dst})
				if !ok || !got.Expires.Equal(r.Entry.Expires) || got.PMTU != r.Entry.PMTU {
					t.Errorf("step %d: Lookup = %+v, %v; want %+v", i, got, ok, r.Entry)
				}
			}
		})
	}
}

// summary is the part of a Result a rule decides, times as offsets from t0.
type summary struct {
	Action           Action
	PMTU             int
	Evidence         Evidence
	Learned, Expires time.Duration
	BelowFloor       bool
}

func summarize(r Result) summary {
	return summary{
		Action:     r.Action,
		PMTU:       r.Entry.PMTU,
		Evidence:   r.Entry.Evidence,
		Learned:    r.Entry.Learned.Sub(t0),
		Expires:    r.Entry.Expires.Sub(t0),
		BelowFloor: r.Entry.BelowFloor,
	}
}

func TestExpiry(t *testing.T) {
	const m = time.Minute
	tests := []struct {
		name     string
		lifetime time.Duration
		at       time.Duration // when to look up
		wantOK   bool
		wantLeft time.Duration
	}{
		{name: "fresh", at: 0, wantOK: true, wantLeft: 10 * m},
		{name: "one second left", at: 10*m - time.Second, wantOK: true, wantLeft: time.Second},
		{name: "expired at 10 minutes", at: 10 * m},
		{name: "expired long after", at: 24 * time.Hour},
		{name: "own lifetime", lifetime: 2 * m, at: 1 * m, wantOK: true, wantLeft: 1 * m},
		{name: "own lifetime expired", lifetime: 2 * m, at: 2 * m},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			c := &Cache{Clock: clock.Now, Lifetime: tt.lifetime}
			k := Key{Dst: dst4, Src: src4, Net: netA}
			if _, err := c.Update(Entry{Key: k, PMTU: 1400, Evidence: EvidenceICMP, Hop: hop4}); err != nil {
				t.Fatal(err)
			}
			clock.Set(tt.at)
			e, ok := c.Lookup(k)
			if ok != tt.wantOK {
				t.Fatalf("Lookup at %v: ok = %v, want %v", tt.at, ok, tt.wantOK)
			}
			if !ok {
				// Lazy expiry dropped it: it stays gone even if the
				// clock goes back.
				clock.Set(0)
				if _, ok := c.Lookup(k); ok {
					t.Errorf("expired entry still cached after Lookup")
				}
				return
			}
			if got := e.ExpiresIn(clock.Now()); got != tt.wantLeft {
				t.Errorf("ExpiresIn = %v, want %v", got, tt.wantLeft)
			}
		})
	}
}

func TestExpiresIn(t *testing.T) {
	e := Entry{Expires: t0.Add(time.Minute)}
	for _, tt := range []struct {
		at   time.Duration
		want time.Duration
	}{
		{0, time.Minute},
		{time.Minute, 0},
		{time.Hour, 0},
	} {
		if got := e.ExpiresIn(t0.Add(tt.at)); got != tt.want {
			t.Errorf("ExpiresIn(t0+%v) = %v, want %v", tt.at, got, tt.want)
		}
	}
}

func TestUpdateInvalid(t *testing.T) {
	tests := []struct {
		name string
		e    Entry
	}{
		{"no destination", Entry{PMTU: 1400, Evidence: EvidenceICMP}},
		{"source of another family", Entry{Key: Key{Dst: dst4, Src: netip.MustParseAddr("2001:db8::1")}, PMTU: 1400, Evidence: EvidenceICMP}},
		{"hop of another family", Entry{Key: Key{Dst: dst6}, Hop: hop4, PMTU: 1400, Evidence: EvidenceICMP}},
		{"no evidence", Entry{Key: Key{Dst: dst4}, PMTU: 1400}},
		{"unknown evidence", Entry{Key: Key{Dst: dst4}, PMTU: 1400, Evidence: "rumour"}},
		{"negative", Entry{Key: Key{Dst: dst4}, PMTU: -1, Evidence: EvidenceProbes}},
		{"IPv6 below 1280 by probes", Entry{Key: Key{Dst: dst6}, PMTU: 1279, Evidence: EvidenceProbes}},
		{"return path without evidence", Entry{Key: Key{Dst: dst4}, PMTU: 1400, Evidence: EvidenceProbes, Return: ReturnPath{Min: 1300}}},
		{"return path max below min", Entry{Key: Key{Dst: dst4}, PMTU: 1400, Evidence: EvidenceProbes,
			Return: ReturnPath{Min: 1300, Max: 1200, Evidence: "fragmented replies"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Cache
			if r, err := c.Update(tt.e); err == nil {
				t.Errorf("Update(%+v) = %+v, want an error", tt.e, r)
			}
			if n := len(c.Entries()); n != 0 {
				t.Errorf("after a refused Update the cache holds %d entries", n)
			}
		})
	}
}

func TestKeys(t *testing.T) {
	clock := newFakeClock()
	c := &Cache{Clock: clock.Now}
	other := netip.MustParseAddr("198.18.9.9")
	add := func(k Key, pmtu int) {
		t.Helper()
		if _, err := c.Update(Entry{Key: k, PMTU: pmtu, Evidence: EvidenceICMP}); err != nil {
			t.Fatal(err)
		}
	}
	add(Key{Dst: dst4}, 1400)
	add(Key{Dst: dst4, Src: src4}, 1300)
	add(Key{Dst: netip.MustParseAddr("::ffff:198.18.3.2"), Net: netB}, 1200) // mapped: same as dst4
	add(Key{Dst: other}, 1492)
	add(Key{Dst: dst6, Net: netB}, 1280)

	t.Run("one entry per key", func(t *testing.T) {
		for _, tt := range []struct {
			k    Key
			want int
		}{
			{Key{Dst: dst4}, 1400},
			{Key{Dst: dst4, Src: src4}, 1300},
			{Key{Dst: dst4, Net: netB}, 1200},
			{Key{Dst: netip.MustParseAddr("::ffff:198.18.3.2"), Src: netip.MustParseAddr("::ffff:198.18.1.1")}, 1300},
			{Key{Dst: other}, 1492},
		} {
			e, ok := c.Lookup(tt.k)
			if !ok || e.PMTU != tt.want {
				t.Errorf("Lookup(%+v) = %d, %v; want %d", tt.k, e.PMTU, ok, tt.want)
			}
		}
		if _, ok := c.Lookup(Key{Dst: other, Net: netB}); ok {
			t.Errorf("Lookup found an entry of another namespace")
		}
	})

	t.Run("entries sorted by namespace, destination, source", func(t *testing.T) {
		var got []Key
		for _, e := range c.Entries() {
			got = append(got, e.Key)
		}
		want := []Key{
			{Dst: dst4},
			{Dst: dst4, Src: src4},
			{Dst: other},
			{Dst: dst4, Net: netB},
			{Dst: dst6, Net: netB},
		}
		if diff := cmp.Diff(want, got, addrCmp); diff != "" {
			t.Errorf("Entries (-want +got):\n%s", diff)
		}
	})

	t.Run("entries leave out expired ones", func(t *testing.T) {
		clock.Set(10 * time.Minute)
		defer clock.Set(0)
		if got := c.Entries(); len(got) != 0 {
			t.Errorf("Entries after expiry = %d entries, want 0", len(got))
		}
	})

	t.Run("delete removes every key of a destination", func(t *testing.T) {
		if got := c.Delete(netip.MustParseAddr("::ffff:198.18.3.2")); got != 3 {
			t.Errorf("Delete = %d, want 3", got)
		}
		if got := c.Delete(dst4); got != 0 {
			t.Errorf("second Delete = %d, want 0", got)
		}
		if got := len(c.Entries()); got != 2 {
			t.Errorf("%d entries left, want 2", got)
		}
	})

	t.Run("flush", func(t *testing.T) {
		if got := c.Flush(); got != 2 {
			t.Errorf("Flush = %d, want 2", got)
		}
		if got := len(c.Entries()); got != 0 {
			t.Errorf("%d entries left after Flush", got)
		}
	})
}

func TestZeroValue(t *testing.T) {
	var c Cache
	if _, ok := c.Lookup(Key{Dst: dst4}); ok {
		t.Error("Lookup in an empty cache found something")
	}
	if n := c.Delete(dst4); n != 0 {
		t.Errorf("Delete = %d", n)
	}
	if n := c.Flush(); n != 0 {
		t.Errorf("Flush = %d", n)
	}
	if es := c.Entries(); len(es) != 0 {
		t.Errorf("Entries = %v", es)
	}
	before := time.Now()
	r, err := c.Update(Entry{Key: Key{Dst: dst6}, PMTU: 1400, Evidence: EvidenceICMP, Hop: hop6})
	if err != nil {
		t.Fatal(err)
	}
	if left := r.Entry.ExpiresIn(before); left < DefaultLifetime {
		t.Errorf("zero Cache gave a lifetime of %v, want %v", left, DefaultLifetime)
	}
	if e, ok := c.Lookup(Key{Dst: dst6}); !ok || e.Hop != hop6 {
		t.Errorf("Lookup = %+v, %v", e, ok)
	}
}

func TestConcurrentUse(t *testing.T) {
	clock := newFakeClock()
	c := &Cache{Clock: clock.Now}
	const workers = 16
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dst := netip.AddrFrom4([4]byte{198, 18, 5, byte(w)})
			for pmtu := 1500; pmtu >= 1300; pmtu-- {
				if _, err := c.Update(Entry{Key: Key{Dst: dst}, PMTU: pmtu, Evidence: EvidenceICMP}); err != nil {
					t.Error(err)
					return
				}
				c.Lookup(Key{Dst: dst})
				c.Entries()
				c.Delete(netip.AddrFrom4([4]byte{198, 18, 6, byte(w)}))
				if pmtu%50 == 0 {
					clock.Set(time.Duration(1500-pmtu) * time.Second)
				}
			}
		}()
	}
	wg.Wait()
	var got []string
	for _, e := range c.Entries() {
		got = append(got, fmt.Sprintf("%s %d", e.Dst, e.PMTU))
	}
	var want []string
	for w := range workers {
		want = append(want, fmt.Sprintf("198.18.5.%d 1300", w))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
}

func TestCurrentNetwork(t *testing.T) {
	n, inode, err := CurrentNetwork()
	if err != nil {
		t.Skipf("no namespace identity here: %v", err)
	}
	if _, err := parseBootID([]byte(n.Boot + "\n")); err != nil || n.Cookie == 0 || inode == 0 {
		t.Errorf("CurrentNetwork = %+v, inode %d, %v; want a boot ID, a cookie and an inode", n, inode, err)
	}
	again, _, err := CurrentNetwork()
	if err != nil || again != n {
		t.Errorf("second CurrentNetwork = %+v, %v; want %+v", again, err, n)
	}
}

func TestParseBootID(t *testing.T) {
	const id = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
	tests := []struct {
		name, in string
		want     string
		wantErr  bool
	}{
		{name: "with newline", in: id + "\n", want: id},
		{name: "without newline", in: id, want: id},
		{name: "empty", in: "", wantErr: true},
		{name: "upper case", in: "0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0\n", wantErr: true},
		{name: "dash misplaced", in: "0f1e2d3c4-b5a-6978-8796-a5b4c3d2e1f0", wantErr: true},
		{name: "not hex", in: "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1fg", wantErr: true},
		{name: "two lines", in: id + "\n" + id + "\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseBootID([]byte(tt.in))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("parseBootID(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func FuzzParseBootID(f *testing.F) {
	f.Add([]byte("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0\n"))
	f.Add([]byte(""))
	f.Add([]byte("----------------------------------------"))
	f.Fuzz(func(t *testing.T, b []byte) {
		id, err := parseBootID(b)
		if err != nil {
			return
		}
		// What it accepts is a UUID that parses again to itself.
		if again, err := parseBootID([]byte(id)); err != nil || again != id || len(id) != 36 {
			t.Errorf("parseBootID(%q) = %q, which parses as %q, %v", b, id, again, err)
		}
	})
}

// A refresh keeps the answer but takes what the latest replies proved of
// the way back: a cached answer then shows the newest return path.
func TestRefreshTakesReturnPath(t *testing.T) {
	clock := newFakeClock()
	c := &Cache{Clock: clock.Now}
	first := Entry{Key: Key{Dst: dst4}, PMTU: 1400, Evidence: EvidenceICMP, Hop: hop4,
		Return: ReturnPath{Min: 1400, Evidence: "whole replies"}}
	if _, err := c.Update(first); err != nil {
		t.Fatal(err)
	}
	clock.Set(6 * time.Minute)
	again := first
	again.Return, again.BlackHoleDirection = ReturnPath{Min: 1300, Max: 1307, Evidence: "fragmented replies"}, "return"
	r, err := c.Update(again)
	if err != nil || r.Action != Refreshed {
		t.Fatalf("Update = %v, %v; want refreshed", r.Action, err)
	}
	if r.Entry.Return != again.Return || r.Entry.BlackHoleDirection != "return" || !r.Entry.Learned.Equal(t0) {
		t.Errorf("refreshed entry %+v: want the new return path, learned still %v", r.Entry, t0)
	}
}

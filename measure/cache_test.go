package measure

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pmtu/pmtu/internal/fakenet"
	"github.com/pmtu/pmtu/internal/probetest"
	"github.com/pmtu/pmtu/pmtucache"
	"github.com/pmtu/pmtu/probe"
)

var (
	t0   = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	src4 = netip.MustParseAddr("198.18.0.1")
	dst4 = netip.MustParseAddr("198.18.3.2")
)

// TestNewCacheQuery: the question a search asks the cache carries the
// probe protocol and its port, the search's bounds, and the interface the
// route lookup saw.
func TestNewCacheQuery(t *testing.T) {
	here := pmtucache.Network{Boot: "b", Cookie: 7}
	ident := func() (pmtucache.Network, uint64, error) { return here, 7, nil }
	w := fakenet.New(&probetest.Path{Src: src4, Dst: dst4, RTT: time.Millisecond})
	tests := []struct {
		name string
		o    probe.Options
		want pmtucache.Query
	}{
		{"icmp, plain", probe.Options{Proto: probe.ProtoICMP},
			pmtucache.Query{Key: pmtucache.Key{Dst: dst4, Src: src4, Net: here, Proto: "icmp"}, Floor: 68, Ceil: 1500}},
		{"icmp not chosen", probe.Options{},
			pmtucache.Query{Key: pmtucache.Key{Dst: dst4, Src: src4, Net: here, Proto: "icmp"}, Floor: 68, Ceil: 1500}},
		{"udp, default port, bounded", probe.Options{Proto: probe.ProtoUDP, MinSize: 576, MaxSize: 1300},
			pmtucache.Query{Key: pmtucache.Key{Dst: dst4, Src: src4, Net: here, Proto: "udp", Port: 33434}, Floor: 576, Ceil: 1300}},
		{"tcp, own port", probe.Options{Proto: probe.ProtoTCP, Port: 80},
			pmtucache.Query{Key: pmtucache.Key{Dst: dst4, Src: src4, Net: here, Proto: "tcp", Port: 80}, Floor: 68, Ceil: 1500}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.o.Net = w.Network()
			tg, err := probe.Lookup(context.Background(), dst4.String(), &tt.o)
			if err != nil {
				t.Fatal(err)
			}
			cq := newCacheQuery(&tt.o, tg, t0, ident)
			if cq.err != nil || cq.inode != 7 {
				t.Fatalf("newCacheQuery: inode %d, error %v", cq.inode, cq.err)
			}
			tt.want.IfIndex, tt.want.IfMTU = 2, 1500
			if diff := cmp.Diff(tt.want, cq.q, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
				t.Errorf("query (-want +got):\n%s", diff)
			}
		})
	}
	o := &probe.Options{Flow: 3, Net: w.Network()}
	tg, _ := probe.Lookup(context.Background(), dst4.String(), o)
	if cq := newCacheQuery(o, tg, t0, ident); cq.err == nil {
		t.Error("a pinned flow's answer would be cached for any flow")
	}
}

func TestMissText(t *testing.T) {
	e := pmtucache.Entry{PMTU: 1400, Evidence: pmtucache.EvidenceICMP, Learned: t0}
	err := errors.New("the kernel no longer holds it")
	if got, want := missText(e, err, t0.Add(12*time.Second+300*time.Millisecond)),
		"not using the entry 1400 (icmp, learned 12s ago): the kernel no longer holds it"; got != want {
		t.Errorf("missText = %q, want %q", got, want)
	}
	if got := missText(pmtucache.Entry{}, pmtucache.ErrNoEntry, t0); got != "nothing cached" {
		t.Errorf("missText without an entry = %q", got)
	}
}

func TestCacheable(t *testing.T) {
	for _, tt := range []struct {
		m     probe.Method
		asked probe.Proto
		want  bool
	}{{probe.MethodTCP, "", false}, {probe.MethodICMP, "", true}, {probe.MethodPing, "", true}, {probe.MethodTCP, probe.ProtoTCP, true}, {probe.MethodUDPRecvErr, probe.ProtoTCP, false}} {
		if got := cacheable(tt.m, tt.asked); got != tt.want {
			t.Errorf("cacheable(%s, %q) = %v, want %v", tt.m, tt.asked, got, tt.want)
		}
	}
}

// The workflow's cache over the fake network: the first run misses,
// probes and stores; the second is answered from the cache with no probe
// at all; --no-cache probes again; the answer expires after 10 minutes;
// Fresh neither reads nor writes.
func TestHostCache(t *testing.T) {
	chain := &probetest.Path{Src: src4, Dst: dst4, RTT: time.Millisecond,
		Hops: []probetest.Hop{{Addr: netip.MustParseAddr("198.18.1.2"), MTU: 1492}, {Addr: netip.MustParseAddr("198.18.2.2"), MTU: 1400}}}
	w := fakenet.New(chain)
	w.Name("chain.example", dst4)
	now := t0
	store := &pmtucache.Store{Path: filepath.Join(t.TempDir(), "cache.json"), Clock: func() time.Time { return now }}
	opts := func() *Options {
		return &Options{Probe: probe.Options{Net: w.Network()}, Cache: store, Now: func() time.Time { return now }}
	}
	ctx := context.Background()

	type got struct {
		Source   string
		PMTU     int
		Evidence string
		Hop      string
		Opens    int
	}
	step := func(name string, o *Options, want got) {
		t.Helper()
		before := w.Opens()
		rep, err := Host(ctx, "chain.example", o)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		g := got{rep.Source, rep.PMTU, rep.Evidence, rep.LimitingHop, w.Opens() - before}
		if diff := cmp.Diff(want, g); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
	step("miss", opts(), got{"probe", 1400, "icmp", "198.18.2.2", 1})
	c, _ := store.Load(ctx)
	if n := len(c.Entries()); n != 1 {
		t.Fatalf("%d entries stored after the miss, want 1", n)
	}
	now = now.Add(time.Minute)
	step("hit", opts(), got{"cache", 1400, "icmp", "198.18.2.2", 0})
	nc := opts()
	nc.NoCache = true
	step("no-cache", nc, got{"probe", 1400, "icmp", "198.18.2.2", 1})
	now = now.Add(11 * time.Minute)
	step("expired", opts(), got{"probe", 1400, "icmp", "198.18.2.2", 1})
	fresh := opts()
	fresh.Fresh = true
	fresh.Cache = &pmtucache.Store{Path: filepath.Join(t.TempDir(), "other.json")}
	step("fresh", fresh, got{"probe", 1400, "icmp", "198.18.2.2", 1})
	if c, _ := fresh.Cache.Load(ctx); len(c.Entries()) != 0 {
		t.Errorf("a fresh measurement wrote the cache: %d entries", len(c.Entries()))
	}
}

// TestSessionSaveOneTransaction: what a Session learned is written by one
// Store.Update, read back whole, and saved after a cancel too.
func TestSessionSaveOneTransaction(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cache.json")
	var notes []string
	s := NewSession(&Options{Cache: &pmtucache.Store{Path: path}, Notes: func(l string) { notes = append(notes, l) }})
	s.load(context.Background())
	if s.store == nil || s.cache == nil {
		t.Fatal("no cache opened")
	}
	for i := range 300 {
		dst := netip.AddrFrom4([4]byte{198, 18, byte(1 + i/250), byte(1 + i%250)})
		s.learned = append(s.learned, pmtucache.Entry{Key: pmtucache.Key{Dst: dst, Src: src4}, PMTU: 1280 + i, Evidence: pmtucache.EvidenceICMP})
	}
	learned := s.learned
	s.Save(context.Background())
	if len(notes) != 0 {
		t.Fatalf("Save: %q", notes)
	}
	s2 := NewSession(&Options{Cache: &pmtucache.Store{Path: path}})
	s2.load(context.Background())
	for _, e := range learned {
		got, ok := s2.cache.Lookup(e.Key)
		if !ok || got.PMTU != e.PMTU {
			t.Fatalf("%v: cached %v %v, want %d", e.Dst, got.PMTU, ok, e.PMTU)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s.learned = learned[:1]
	s.Save(ctx)
	if len(notes) != 0 {
		t.Errorf("Save after cancel: %q", notes)
	}
}

// A lookup cut short by the context is Stopped, never bad input: a
// many-host run interrupted while resolving counts the host as cut
// short, not as a bad line.
func TestHostStoppedWhileResolving(t *testing.T) {
	w := fakenet.New()
	nw := w.Network()
	nw.LookupNetIP = func(ctx context.Context, network, host string) ([]netip.Addr, error) {
		<-ctx.Done()
		return nil, &net.DNSError{Err: "operation was canceled", Name: host}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rep, err := Host(ctx, "slow.example", &Options{Probe: probe.Options{Net: nw}, Fresh: true})
	if rep != nil || KindOf(err) != Stopped {
		t.Errorf("report %v, error %v (kind %d), want no report and Stopped", rep, err, KindOf(err))
	}
}

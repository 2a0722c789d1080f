package pmtucache

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pmtu/pmtu/route"
)

// learned is an entry as pmtu stores it after a search toward dst4 from
// netA with ICMP Echo probes: 1400 named by r1's Frag Needed, out of
// veth1a (#2, MTU 1500), the kernel holding its twin exception for 600 s.
func learned() Entry {
	return Entry{
		Key:  Key{Dst: dst4, Src: src4, Net: netA, Proto: "icmp"},
		PMTU: 1400, Full: true, Refused: 1401, Evidence: EvidenceICMP, Hop: hop4,
		Method: "icmp", IfIndex: 2, IfName: "veth1a", IfMTU: 1500,
		Kernel: Exception{MTU: 1400, Expires: t0.Add(10 * time.Minute)},
	}
}

// asked is the query of a plain run toward dst4 that finds the world as
// learned() left it.
func asked() Query {
	return Query{
		Key:   Key{Dst: dst4, Src: src4, Net: netA, Proto: "icmp"},
		Floor: 68, Ceil: 1500, IfIndex: 2, IfMTU: 1500,
		Kernel: Exception{MTU: 1400, Expires: t0.Add(10 * time.Minute)},
	}
}

func TestAnswer(t *testing.T) {
	const m = time.Minute
	tests := []struct {
		name  string
		entry func(*Entry) // changes learned(); nil: as it is
		at    time.Duration
		query func(*Query) // changes asked(); nil: as it is
		// wantErr is the sentinel, nil when the entry answers; wantWhy
		// a piece of the error's text.
		wantErr error
		wantWhy string
	}{
		{name: "same question, same world", at: 1 * m},
		{name: "mapped destination is the same key", query: func(q *Query) { q.Dst = netip.MustParseAddr("::ffff:198.18.3.2") }},
		{name: "expired", at: 10 * m, wantErr: ErrNoEntry},

		// The key: namespace instance, boot, protocol, port.
		{name: "another namespace instance (a rebuilt namespace)", query: func(q *Query) { q.Net = netB },
			wantErr: ErrNoEntry, wantWhy: "another network namespace instance"},
		{name: "another boot, same cookie", query: func(q *Query) { q.Net.Boot = "00000000-0000-0000-0000-000000000000" },
			wantErr: ErrNoEntry, wantWhy: "another boot"},
		{name: "unknown namespace identity", query: func(q *Query) { q.Net = Network{} }, wantErr: ErrNoEntry, wantWhy: "no known identity"},
		{name: "unknown identity matches no unknown entry", entry: func(e *Entry) { e.Net = Network{} }, query: func(q *Query) { q.Net = Network{} },
			wantErr: ErrNoEntry, wantWhy: "no known identity"},
		{name: "udp probes after icmp", query: func(q *Query) { q.Proto, q.Port = "udp", 33434 },
			wantErr: ErrNoEntry, wantWhy: "learned with icmp probes, not udp port 33434"},
		{name: "another port", entry: func(e *Entry) { e.Proto, e.Port = "tcp", 443 }, query: func(q *Query) { q.Proto, q.Port = "tcp", 80 },
			wantErr: ErrNoEntry, wantWhy: "tcp port 443 probes, not tcp port 80"},
		{name: "another source", query: func(q *Query) { q.Src = netip.MustParseAddr("198.18.1.9") }, wantErr: ErrNoEntry},

		// The egress interface.
		{name: "route leaves by another interface", query: func(q *Query) { q.IfIndex = 3 },
			wantErr: ErrStale, wantWhy: "leaves by interface #3, not by veth1a (#2)"},
		{name: "interface MTU lowered", query: func(q *Query) { q.IfMTU, q.Ceil = 1300, 1300 },
			wantErr: ErrStale, wantWhy: "veth1a now has MTU 1300, not 1500"},
		{name: "interface MTU raised", query: func(q *Query) { q.IfMTU, q.Ceil = 9000, 9000 }, wantErr: ErrStale},

		// The kernel's twin exception.
		{name: "twin flushed while young", at: 1 * m, query: func(q *Query) { q.Kernel = Exception{} },
			wantErr: ErrStale, wantWhy: "no longer holds the path MTU exception (mtu 1400)"},
		{name: "twin gone just before its own expiry", at: 10*m - 3*time.Second, entry: func(e *Entry) { e.Kernel.Expires = t0.Add(10 * m) },
			query: func(q *Query) { q.Kernel = Exception{} }, wantErr: ErrStale},
		{name: "twin gone after its own expiry: identity decides", at: 8 * m, entry: func(e *Entry) { e.Kernel.Expires = t0.Add(7 * m) },
			query: func(q *Query) { q.Kernel = Exception{} }},
		{name: "twin names another MTU", query: func(q *Query) { q.Kernel.MTU = 1300 },
			wantErr: ErrStale, wantWhy: "now says 1300, not 1400"},
		{name: "twin names another MTU after its expiry", at: 8 * m, entry: func(e *Entry) { e.Kernel.Expires = t0.Add(7 * m) },
			query: func(q *Query) { q.Kernel.MTU = 1450 }, wantErr: ErrStale},
		{name: "twin refreshed: a later expiry is fine", query: func(q *Query) { q.Kernel.Expires = t0.Add(15 * m) }},
		{name: "locked 552 twin of a value below the floor",
			entry: func(e *Entry) { e.PMTU, e.Refused, e.Kernel.MTU = 500, 501, 552 },
			query: func(q *Query) { q.Kernel.MTU = 552 }},
		{name: "probe-only entry without twin: no exception is fine",
			entry: func(e *Entry) { e.Evidence, e.Hop, e.Kernel = EvidenceProbes, netip.Addr{}, Exception{} },
			query: func(q *Query) { q.Kernel = Exception{} }},
		{name: "probe-only entry: an exception below it appeared",
			entry:   func(e *Entry) { e.Evidence, e.Hop, e.Kernel = EvidenceProbes, netip.Addr{}, Exception{} },
			query:   func(q *Query) { q.Kernel = Exception{MTU: 1300, Expires: t0.Add(10 * m)} },
			wantErr: ErrStale, wantWhy: "exception of 1300"},
		{name: "probe-only entry: an exception above it says nothing against it",
			entry: func(e *Entry) { e.Evidence, e.Hop, e.Kernel = EvidenceProbes, netip.Addr{}, Exception{} },
			query: func(q *Query) { q.Kernel = Exception{MTU: 1450, Expires: t0.Add(10 * m)} }},

		// Bounds.
		{name: "full answer within --max-size", query: func(q *Query) { q.Ceil = 1400 }},
		{name: "full answer above --max-size", query: func(q *Query) { q.Ceil = 1300 },
			wantErr: ErrOtherQuestion, wantWhy: "1400 lies outside this search's sizes 68–1300"},
		{name: "full answer below --min-size", query: func(q *Query) { q.Floor = 1450 }, wantErr: ErrOtherQuestion},
		{name: "lower bound answers the same ceiling",
			entry: func(e *Entry) {
				e.PMTU, e.Full, e.Refused, e.Evidence, e.Kernel = 1300, false, 0, EvidenceProbes, Exception{}
			},
			query: func(q *Query) { q.Ceil, q.Kernel = 1300, Exception{} }},
		{name: "lower bound does not answer a plain run",
			entry: func(e *Entry) {
				e.PMTU, e.Full, e.Refused, e.Evidence, e.Kernel = 1300, false, 0, EvidenceProbes, Exception{}
			},
			query:   func(q *Query) { q.Kernel = Exception{} },
			wantErr: ErrOtherQuestion, wantWhy: "proves only that the path carries 1300"},
		{name: "lower bound does not answer a lower ceiling",
			entry: func(e *Entry) {
				e.PMTU, e.Full, e.Refused, e.Evidence, e.Kernel = 1300, false, 0, EvidenceProbes, Exception{}
			},
			query: func(q *Query) { q.Ceil, q.Kernel = 1200, Exception{} }, wantErr: ErrOtherQuestion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			c := &Cache{Clock: clock.Now}
			e, q := learned(), asked()
			if tt.entry != nil {
				tt.entry(&e)
			}
			if tt.query != nil {
				tt.query(&q)
			}
			if _, err := c.Measured(e); err != nil {
				t.Fatal(err)
			}
			clock.Set(tt.at)
			got, err := c.Answer(q)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Answer = %v, want the entry", err)
				}
				if got.PMTU != e.PMTU || got.Key != e.Key.normal() {
					t.Errorf("Answer = %+v, want %+v", got, e)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Answer error = %v, want one wrapping %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantWhy) {
				t.Errorf("Answer error = %q, want it to say %q", err, tt.wantWhy)
			}
		})
	}
}

func TestMeasured(t *testing.T) {
	lower := func(pmtu int) Entry {
		e := learned()
		e.PMTU, e.Full, e.Refused, e.Evidence, e.Hop, e.Kernel = pmtu, false, 0, EvidenceProbes, netip.Addr{}, Exception{}
		return e
	}
	full := func(pmtu int, ev Evidence) Entry {
		e := learned()
		e.PMTU, e.Refused, e.Evidence = pmtu, pmtu+1, ev
		return e
	}
	type step struct {
		e          Entry
		wantAction Action
		wantPMTU   int
		wantFull   bool
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{name: "a search's ICMP answer raises the cached one (it came back)", steps: []step{
			{full(1300, EvidenceICMP), Stored, 1300, true},
			{full(1400, EvidenceICMP), Stored, 1400, true},
		}},
		{name: "a lower bound does not replace the full answer it agrees with", steps: []step{
			{full(1400, EvidenceICMP), Stored, 1400, true},
			{lower(1300), Ignored, 1400, true},
		}},
		{name: "a lower bound above the full answer replaces it", steps: []step{
			{full(1400, EvidenceICMP), Stored, 1400, true},
			{lower(1450), Stored, 1450, false},
		}},
		{name: "a full answer replaces a lower bound", steps: []step{
			{lower(1300), Stored, 1300, false},
			{full(1400, EvidenceICMP), Stored, 1400, true},
		}},
		{name: "a lower bound on another interface replaces", steps: []step{
			{full(1400, EvidenceICMP), Stored, 1400, true},
			{func() Entry { e := lower(1300); e.IfIndex = 3; return e }(), Stored, 1300, false},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Cache
			for i, s := range tt.steps {
				r, err := c.Measured(s.e)
				if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				type sum struct {
					Action Action
					PMTU   int
					Full   bool
				}
				want := sum{s.wantAction, s.wantPMTU, s.wantFull}
				if diff := cmp.Diff(want, sum{r.Action, r.Entry.PMTU, r.Entry.Full}); diff != "" {
					t.Errorf("step %d (%s) (-want +got):\n%s", i, r.Reason, diff)
				}
			}
		})
	}
}

func TestMeasuredInvalid(t *testing.T) {
	for _, e := range []Entry{
		{Key: Key{Dst: dst4}, PMTU: 1400, Refused: 1400, Evidence: EvidenceICMP},
		{Key: Key{Dst: dst4, Port: 70000}, PMTU: 1400, Evidence: EvidenceProbes},
		{Key: Key{Dst: dst6}, PMTU: 1200, Evidence: EvidenceProbes},
	} {
		var c Cache
		if r, err := c.Measured(e); err == nil {
			t.Errorf("Measured(%+v) = %+v, want an error", e, r)
		}
	}
}

func TestExceptionOf(t *testing.T) {
	for _, tt := range []struct {
		r    route.Route
		want Exception
	}{
		{route.Route{MTU: 1400, Cached: true, Expires: 300 * time.Second}, Exception{MTU: 1400, Expires: t0.Add(300 * time.Second)}},
		{route.Route{MTU: 1400}, Exception{}}, // a route's mtu metric, not an exception
		{route.Route{}, Exception{}},
	} {
		if got := ExceptionOf(tt.r, t0); got != tt.want {
			t.Errorf("ExceptionOf(%+v) = %+v, want %+v", tt.r, got, tt.want)
		}
	}
}

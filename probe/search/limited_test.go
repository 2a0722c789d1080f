package search

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/pmtu/pmtu/internal/probetest"
	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/probe/ratelimit"
	"github.com/pmtu/pmtu/probe/wire"
)

// limitedTarget is a fake Conn whose proof that a probe arrived is an
// answer the target rate-limits, as a UDP Port Unreachable is: a probe
// up to MTU arrives and is answered while the host's bucket has a token;
// a bigger one vanishes (ICMP filtered on the path, the hard case).
// Several limitedTargets may share one host bucket: addresses of one
// host, which Linux limits together (one bucket per destination, us).
type limitedTarget struct {
	clock *probetest.Clock
	dst   netip.Addr
	mtu   mtu.Size
	rtt   time.Duration
	host  *ratelimit.Bucket
	// others, if set, is told of each probe before the host sees it:
	// other senders using the same host's answers.
	others func(now time.Time)
	queue  []wire.Event
	sent   int
}

func (c *limitedTarget) ReplyLimit() (int, time.Duration) {
	return ratelimit.Linux.Burst, ratelimit.Linux.Every
}

func (c *limitedTarget) Target() netip.Addr { return c.dst }

func (c *limitedTarget) Close() error { return nil }

func (c *limitedTarget) Send(_ context.Context, p wire.Probe) error {
	now := c.clock.Now()
	c.sent++
	if c.others != nil {
		c.others(now)
	}
	arrive := now.Add(c.rtt / 2)
	if p.Size > c.mtu || !c.host.Allow(arrive) {
		return nil
	}
	c.queue = append(c.queue, wire.Event{Seq: p.Seq, Kind: wire.Reached, From: c.dst, At: now.Add(c.rtt)})
	return nil
}

func (c *limitedTarget) Recv(deadline time.Time) (wire.Event, error) {
	now := c.clock.Now()
	if len(c.queue) > 0 && !c.queue[0].At.After(deadline) {
		ev := c.queue[0]
		c.queue = c.queue[1:]
		if d := ev.At.Sub(now); d > 0 {
			c.clock.Advance(d)
		}
		return ev, nil
	}
	if d := deadline.Sub(now); d > 0 {
		c.clock.Advance(d)
	}
	return wire.Event{}, os.ErrDeadlineExceeded
}

func newLimited(pmtu mtu.Size) *limitedTarget {
	return &limitedTarget{clock: probetest.NewClock(), dst: dst4, mtu: pmtu, rtt: 2 * time.Millisecond,
		host: ratelimit.NewBucket(ratelimit.Linux)}
}

// A target that rate-limits its answers, alone on its host, is found
// exactly behind a black hole, and no round is voided: its control
// probes come back.
func TestDiscoverLimitedExact(t *testing.T) {
	for _, want := range []mtu.Size{1500, 1400, 1280, 600} {
		c := newLimited(want)
		res, err := Discover(context.Background(), c, &Config{Ceil: 1500, Now: c.clock.Now})
		if err != nil {
			t.Fatalf("mtu %d: %v", want, err)
		}
		if res.PMTU != want || res.Voided != 0 {
			t.Errorf("mtu %d: PMTU %d, %d rounds voided; want exact and none voided", want, res.PMTU, res.Voided)
		}
		t.Logf("mtu %d: %d probes, %d rounds, %v", want, res.Probes, res.Rounds, res.Elapsed)
	}
}

// Others use up the host's answers at random moments (other addresses
// of the same host searched at once, another program): the silence that
// leaves is never read as "too big". Every search ends exact, or says
// its answers stopped with bounds that hold. Before rounds carried a
// control, a third of the probes finding the host drained was enough to
// call a 1299-byte path 1281, and a half to call a 1361-byte path 68.
func TestDiscoverLimitedDrainedNeverWrong(t *testing.T) {
	for _, tc := range []struct {
		one      int           // before one probe in this many, the host is drained
		answers  time.Duration // how long each token of Config.Answers takes; 0: no Answers
		minExact int           // of 300
	}{{8, 0, 200}, {3, 0, 0}, {2, 0, 0}, {8, 400 * time.Millisecond, 200}, {3, 400 * time.Millisecond, 0}} {
		voided, exact, longest := 0, 0, time.Duration(0)
		for seed := range uint64(300) {
			rng := rand.New(rand.NewPCG(seed, 7))
			want := mtu.Size(1280 + rng.IntN(221))
			c := newLimited(want)
			c.others = func(now time.Time) {
				if rng.IntN(tc.one) == 0 {
					c.host.Empty(now) // someone else took every token it had
				}
			}
			waiting, most := 0, 0
			cfg := &Config{Ceil: 1500, Now: c.clock.Now, Waiting: func(delta int) int {
				waiting += delta
				most = max(most, waiting)
				return waiting
			}}
			if tc.answers > 0 {
				// A shared answer budget that makes each probe wait: the
				// host earns tokens meanwhile, so a round whose probes
				// were spread over the waits could see its control
				// answered after an earlier probe went unanswered.
				cfg.Answers = func(context.Context) error { c.clock.Advance(tc.answers); return nil }
			}
			res, err := Discover(context.Background(), c, cfg)
			voided += res.Voided
			if waiting != 0 || (res.Voided > 0) != (most == 1) || most > 1 {
				t.Fatalf("seed %d: Waiting ended at %d, at most %d, with %d rounds voided; want 0, and 1 at most once voided", seed, waiting, most, res.Voided)
			}
			longest = max(longest, res.Elapsed)
			switch {
			case err == nil:
				if res.PMTU != want {
					t.Fatalf("1 in %d drained, answers %v, seed %d: PMTU %d, want %d (%d voided rounds)", tc.one, tc.answers, seed, res.PMTU, want, res.Voided)
				}
				exact++
			case errors.Is(err, ErrAnswersStopped), errors.Is(err, ErrNoReply):
				if res.Lo > want || (res.Hi != 0 && res.Hi <= want) {
					t.Fatalf("1 in %d drained, seed %d: bounds [%d, %d) exclude the truth %d", tc.one, seed, res.Lo, res.Hi, want)
				}
			default:
				t.Fatalf("1 in %d drained, seed %d: %v", tc.one, seed, err)
			}
		}
		if voided == 0 {
			t.Errorf("1 in %d drained: no round was voided: the test did not drain the host", tc.one)
		}
		if exact < tc.minExact {
			t.Errorf("1 in %d drained: %d of 300 exact; want at least %d: a voided round is sent again after a rest", tc.one, exact, tc.minExact)
		}
		t.Logf("1 in %d drained, answer budget %v a token: %d of 300 exact, %d rounds voided, the longest search %v", tc.one, tc.answers, exact, voided, longest)
	}
}

// Config.Answers is taken once per probe of a rate-limited Conn, and
// Config.Pace once per probe; neither wait counts as a round trip.
func TestDiscoverBudgets(t *testing.T) {
	c := newLimited(1400)
	answers, paces := 0, 0
	cfg := &Config{Ceil: 1500, Now: c.clock.Now,
		Answers: func(context.Context) error { answers++; return nil },
		Pace: func(context.Context) error {
			paces++
			c.clock.Advance(300 * time.Millisecond) // a slow budget
			return nil
		}}
	res, err := Discover(context.Background(), c, cfg)
	if err != nil || res.PMTU != 1400 {
		t.Fatalf("PMTU %d err %v, want 1400", res.PMTU, err)
	}
	if answers != res.Probes || paces != res.Probes || c.sent != res.Probes {
		t.Fatalf("%d answer tokens, %d paces, %d sent for %d probes; want one each per probe", answers, paces, c.sent, res.Probes)
	}
}

// The pace's wait is no part of the measured round trip: a search whose
// every probe waits 300 ms for its budget measures the path's 2 ms.
func TestDiscoverPaceNotRTT(t *testing.T) {
	c := newLimited(1400)
	cfg := &Config{Ceil: 1500, Now: c.clock.Now, Pace: func(context.Context) error {
		c.clock.Advance(300 * time.Millisecond)
		return nil
	}}
	d := newDiscovery(c, cfg)
	for !d.sizer.Done() {
		r, err := d.send(context.Background(), d.sizer.Next())
		if err != nil {
			t.Fatal(err)
		}
		if err := r.collect(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := r.lose(); err != nil {
			t.Fatal(err)
		}
	}
	if d.rtt != c.rtt {
		t.Fatalf("measured round trip %v on a %v path: the pace's 300 ms wait was counted", d.rtt, c.rtt)
	}
	if got, _ := d.sizer.Result(); got != 1400 {
		t.Fatalf("PMTU %d, want 1400", got)
	}
}

// A rate-limited target that never answers ends with ErrNoReply after
// maxVoidsUnanswered rounds with controls (the floor) unanswered too.
func TestDiscoverLimitedDead(t *testing.T) {
	c := newLimited(0)
	res, err := Discover(context.Background(), c, &Config{Ceil: 1500, Now: c.clock.Now})
	if !errors.Is(err, ErrNoReply) {
		t.Fatalf("err %v, want ErrNoReply", err)
	}
	// The first round, one probe of the ceiling, carries no control: its
	// silence only turns the search to rounds with controls.
	if res.Rounds != 1+maxVoidsUnanswered || res.Voided != maxVoidsUnanswered {
		t.Fatalf("%d rounds, %d voided; want %d and %d", res.Rounds, res.Voided, 1+maxVoidsUnanswered, maxVoidsUnanswered)
	}
	t.Logf("%d probes, %d rounds, %v", res.Probes, res.Rounds, res.Elapsed)
}

// A round whose answers end the search is not voided by what it lost:
// the search is over, proved, even when that round's control went
// unanswered after many voids.
func TestDiscoverLimitedDoneNotVoided(t *testing.T) {
	c := newLimited(1400)
	d := newDiscovery(c, &Config{Ceil: 1500, Now: c.clock.Now})
	d.sizer.Reply(1400)
	d.sizer.TooBig(1401, 0) // 1400 passes, 1401 does not: done
	if !d.sizer.Done() {
		t.Fatal("the sizer is not done")
	}
	d.voids = maxVoids - 1
	r := &round{d: d, pending: map[int]mtu.Size{9: 1400}, control: 1400}
	if err := r.lose(); err != nil {
		t.Fatalf("lose after the search ended: %v, want nil", err)
	}
	if res, err := d.finish(nil); err != nil || res.PMTU != 1400 || res.Voided != 0 {
		t.Fatalf("PMTU %d voided %d err %v; want 1400, 0, nil", res.PMTU, res.Voided, err)
	}
}

// A single probe without a control (while routers name sizes) that earns
// nothing is not counted: over a rate-limited Conn, the round is sent
// again, with a control, still one size (the sizer stays sequential).
func TestDiscoverLimitedUncontrolledNotCounted(t *testing.T) {
	c := newLimited(1400)
	d := newDiscovery(c, &Config{Ceil: 1500, Now: c.clock.Now})
	if got := d.sizer.Next(); len(got) != 1 || got[0] != 1500 {
		t.Fatalf("first round %v, want [1500]", got)
	}
	r := &round{d: d, pending: map[int]mtu.Size{1: 1500}}
	if err := r.lose(); err != nil {
		t.Fatal(err)
	}
	if d.sizer.Parallel() || d.sizer.silent[1500] != 0 || d.res.Voided != 0 {
		t.Fatalf("parallel %v, 1500 silent %d times, %d voided; want false, 0, 0", d.sizer.Parallel(), d.sizer.silent[1500], d.res.Voided)
	}
	r2, err := d.send(context.Background(), []mtu.Size{1500})
	if err != nil {
		t.Fatal(err)
	}
	if r2.control != 68 || len(r2.pending) != 2 {
		t.Fatalf("the round sent again: control %d, %d probes; want 68 and 2", r2.control, len(r2.pending))
	}
}

// A search that has been answered gives up after maxVoids voided rounds
// in a row when it waits alone, and after maxVoids for each search that
// waits with it: n searches on one host's answers each earn about 1/n of
// them (4 addresses of one host over UDP, the manyudphole case).
func TestDiscoverVoidLimitScalesWithWaiters(t *testing.T) {
	for _, waiting := range []int{1, 4} {
		c := newLimited(1400)
		d := newDiscovery(c, &Config{Ceil: 1500, Now: c.clock.Now, Waiting: func(int) int { return waiting }})
		d.sizer.Reply(1300) // answered: 1300 passes
		want := maxVoids * max(1, waiting)
		for i := 1; i <= want; i++ {
			r := &round{d: d, pending: map[int]mtu.Size{i: 1300}, control: 1300}
			err := r.lose()
			if i < want && err != nil {
				t.Fatalf("%d waiting: void %d ended the search: %v", waiting, i, err)
			}
			if i == want && !errors.Is(err, ErrAnswersStopped) {
				t.Fatalf("%d waiting: void %d: %v, want ErrAnswersStopped", waiting, i, err)
			}
		}
	}
}

package measure

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/pmtu/pmtu/lossprofile"
	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/probe"
)

// ProfileOptions says how to measure a loss profile by size: how to
// probe (Options; the cache is not used), how long, and on how many
// flows.
type ProfileOptions struct {
	Options
	// Duration bounds the profile; 0 means lossprofile.DefaultDuration.
	Duration time.Duration
	// Rate is the probes a second Options.Probe.Pace allows (pmtu's
	// --rate): the profile sends at most Rate × Duration probes. 0 means
	// lossprofile.DefaultRate.
	Rate float64
	// Flows, if above 0, profiles that many flows at once (UDP or TCP),
	// as pmtu --flows searches them, and reports each ECMP branch.
	Flows int
	// From is the smallest size profiled; 0 means
	// lossprofile.DefaultSpan below the path MTU, never below the
	// family's floor or Options.Probe.MinSize.
	From mtu.Size
	// Detect is the smallest brownout to rule out (a fraction); 0 means
	// lossprofile.DefaultDetect.
	Detect float64
	// Seed seeds the order of sizes in each round; 0 is a fixed seed.
	Seed uint64
}

// ProfileReport is the answer to pmtu profile HOST, as text or one JSON
// object; docs/json.md documents its fields.
type ProfileReport struct {
	Target  string `json:"target"`
	Address string `json:"address"`
	Family  string `json:"family"`
	Method  string `json:"method,omitempty"`
	Port    int    `json:"port,omitempty"`
	// PMTU is the path MTU the search found first (the smallest of the
	// flows' with Flows): the top of the profile.
	PMTU int `json:"pmtu"`
	ProfileResult
	// Flows and Branches, with ProfileOptions.Flows: every flow's
	// profile, and the flows grouped by the path MTU they found, with
	// their pooled profile. The profile above is then of the sizes every
	// flow carries (up to pmtu), pooled over all flows.
	Flows    []FlowProfile   `json:"flows,omitempty"`
	Branches []ProfileBranch `json:"branches,omitempty"`
	Error    string          `json:"error,omitempty"`
}

// ProfileResult is one loss profile: the sizes probed, the bands, the
// windows, a brownout, the safe size, and what it cost.
type ProfileResult struct {
	From int `json:"from"`
	To   int `json:"to"`
	// Step is the coarse grid's spacing: a brownout's edge is known to
	// within it; windows' edges are refined to the byte.
	Step     int              `json:"step"`
	Bands    []ProfileBand    `json:"bands"`
	Windows  []ProfileWindow  `json:"windows"`
	Brownout *ProfileBrownout `json:"brownout"`
	SafeMTU  int              `json:"safe_mtu"`
	Sizes    []ProfileSize    `json:"sizes"`
	Probes   int              `json:"probes"`
	Rounds   int              `json:"rounds"`
	// ElapsedMS is how long the profile took, the search before it not
	// counted.
	ElapsedMS float64 `json:"elapsed_ms"`
	// Ended says why the profile stopped: "decided" (the statistics
	// had their answer), "probes" or "duration" (the budget ran out),
	// "stopped" (interrupted).
	Ended string `json:"ended,omitempty"`
}

// ProfileBand is a run of probed sizes whose loss cannot be told apart,
// with the Wilson interval of its loss (99.7%).
type ProfileBand struct {
	From    int     `json:"from"`
	To      int     `json:"to"`
	Sent    int     `json:"sent"`
	Lost    int     `json:"lost"`
	Refused int     `json:"refused,omitempty"` // of Lost, refused by a router's ICMP
	Loss    float64 `json:"loss"`
	CILow   float64 `json:"ci_low"`
	CIHigh  float64 `json:"ci_high"`
}

// ProfileWindow is a range of sizes lost more than larger sizes are.
type ProfileWindow struct {
	From int     `json:"from"`
	To   int     `json:"to"`
	Loss float64 `json:"loss"`
}

// ProfileBrownout is the size above which loss is surely higher.
type ProfileBrownout struct {
	Above     int     `json:"above"`
	LossAbove float64 `json:"loss_above"`
	LossBelow float64 `json:"loss_below"`
}

// ProfileSize is what the probes of one size earned.
type ProfileSize struct {
	Size int `json:"size"`
	Sent int `json:"sent"`
	Lost int `json:"lost"`
}

// FlowProfile is one flow's profile.
type FlowProfile struct {
	ID      int `json:"id"`
	SrcPort int `json:"src_port,omitempty"`
	PMTU    int `json:"pmtu"`
	ProfileResult
	Error string `json:"error,omitempty"`
}

// ProfileBranch is the flows that found one path MTU, their profiles
// pooled.
type ProfileBranch struct {
	PMTU  int   `json:"pmtu"`
	Flows []int `json:"flows"`
	ProfileResult
}

// Profile measures the loss profile by size toward host, as `pmtu
// profile HOST --json` prints it: first the path MTU (the search of pmtu
// HOST, without the cache), then probes of sizes up to it, over the way
// the search reached the target (lossprofile.Run). o may be nil.
//
// The Report is nil when the host could not be looked up or no probe
// could be sent (an *Error). When the search found no path MTU, the
// Report has its Error, with an *Error of Kind NoAnswer (or Stopped).
func Profile(ctx context.Context, host string, o *ProfileOptions) (*ProfileReport, error) {
	if o == nil {
		o = &ProfileOptions{}
	}
	if o.Flows > 0 {
		return profileFlows(ctx, host, o)
	}
	mo := o.Options
	mo.Fresh = true
	rep, err := Host(ctx, host, &mo)
	if rep == nil {
		return nil, err
	}
	if err != nil || !rep.Confirmed {
		pr := &ProfileReport{Target: host, Address: rep.Address, Family: rep.Family, Method: rep.Method, Port: rep.Port, Error: rep.Error}
		if err == nil {
			pr.Error = "no path MTU was proved"
			err = &Error{Kind: NoAnswer, Msg: pr.Error}
		}
		return pr, err
	}
	return ProfileAfter(ctx, rep, o)
}

// ProfileAfter measures the loss profile toward the target of rep, a
// search that proved a path MTU (Host's Report), up to it, over the way
// the search reached the target: Profile without the search. o's Flows
// is not used.
func ProfileAfter(ctx context.Context, rep *Report, o *ProfileOptions) (*ProfileReport, error) {
	pr := &ProfileReport{Target: rep.Target, Address: rep.Address, Family: rep.Family, Method: rep.Method, Port: rep.Port, PMTU: rep.PMTU}
	t := rep.Probed()
	if t == nil || !rep.Confirmed {
		pr.PMTU, pr.Error = 0, "no path MTU was proved"
		return pr, &Error{Kind: NoAnswer, Msg: pr.Error}
	}
	s, err := t.OpenSampler(probe.Method(rep.Method).Proto(), rep.Port, 1)
	if err != nil {
		return pr, OpenError(o.Probe.Proto, t.Addr, &o.Probe, o.Exe, err)
	}
	defer s.Close()
	p, err := lossprofile.Run(ctx, s, o.runConfig(t, mtu.Size(rep.PMTU), 1))
	if p != nil {
		pr.ProfileResult = resultOf(p)
	}
	if err != nil {
		pr.Error = "stopped before the profile ended: " + plainErr(err)
		return pr, &Error{Kind: Stopped, Msg: pr.Error, Err: err}
	}
	return pr, nil
}

// runConfig is the profile's configuration toward t up to pmtu, for one
// of n flows: the budget split between them.
func (o *ProfileOptions) runConfig(t *probe.Target, pmtu mtu.Size, n int) *lossprofile.Config {
	dur := o.Duration
	if dur <= 0 {
		dur = lossprofile.DefaultDuration
	}
	rate := o.Rate
	if rate <= 0 {
		rate = lossprofile.DefaultRate
	}
	return &lossprofile.Config{From: o.from(t, pmtu), To: pmtu, Duration: dur, MaxProbes: max(1, int(rate*dur.Seconds())/n),
		Detect: o.Detect, Now: o.clock(), Seed: o.Seed}
}

// clock is the clock of the probes: the fake network's in tests.
func (o *ProfileOptions) clock() func() time.Time {
	if n := o.Probe.Net; n != nil && n.Now != nil {
		return n.Now
	}
	return time.Now
}

// from is the smallest size profiled toward t below pmtu.
func (o *ProfileOptions) from(t *probe.Target, pmtu mtu.Size) mtu.Size {
	floor := max(mtu.Floor(t.Addr.Is6()), o.Probe.MinSize)
	from := o.From
	if from == 0 && pmtu > lossprofile.DefaultSpan {
		from = pmtu - lossprofile.DefaultSpan
	}
	return min(max(from, floor), pmtu)
}

// resultOf is p for JSON.
func resultOf(p *lossprofile.Profile) ProfileResult {
	r := analysisOf(p.Analysis, p.Counts)
	r.From, r.To, r.Step = int(p.From), int(p.To), int(p.Step)
	r.Probes, r.Rounds, r.Ended = p.Probes, p.Rounds, p.Ended
	r.ElapsedMS = float64(p.Elapsed.Microseconds()) / 1000
	return r
}

// analysisOf is an analysis of counts for JSON.
func analysisOf(a lossprofile.Analysis, counts []lossprofile.Count) ProfileResult {
	r := ProfileResult{Bands: []ProfileBand{}, Windows: []ProfileWindow{}, Sizes: []ProfileSize{}, SafeMTU: int(a.SafeMTU)}
	for _, b := range a.Bands {
		r.Bands = append(r.Bands, ProfileBand{From: int(b.From), To: int(b.To), Sent: b.Sent, Lost: b.Lost, Refused: b.Refused,
			Loss: b.Loss, CILow: b.CILow, CIHigh: b.CIHigh})
	}
	for _, w := range a.Windows {
		r.Windows = append(r.Windows, ProfileWindow{From: int(w.From), To: int(w.To), Loss: w.Loss})
	}
	if b := a.Brownout; b != nil {
		r.Brownout = &ProfileBrownout{Above: int(b.Above), LossAbove: b.LossAbove, LossBelow: b.LossBelow}
	}
	for _, c := range counts {
		if c.Sent > 0 {
			r.Sizes = append(r.Sizes, ProfileSize{Size: int(c.Size), Sent: c.Sent, Lost: c.Lost})
		}
	}
	if len(counts) > 0 {
		r.From, r.To = int(counts[0].Size), int(counts[len(counts)-1].Size)
	}
	return r
}

// pooled is the analysis of the counts of many profiles, summed by
// size, of the sizes up to top.
func pooled(ps []*lossprofile.Profile, top mtu.Size) ProfileResult {
	sum := map[mtu.Size]*lossprofile.Count{}
	var sizes []mtu.Size
	probes := 0
	for _, p := range ps {
		probes += p.Probes
		for _, c := range p.Counts {
			if c.Size > top || c.Sent == 0 {
				continue
			}
			s, ok := sum[c.Size]
			if !ok {
				s = &lossprofile.Count{Size: c.Size}
				sum[c.Size] = s
				sizes = append(sizes, c.Size)
			}
			s.Sent, s.Lost, s.Refused = s.Sent+c.Sent, s.Lost+c.Lost, s.Refused+c.Refused
		}
	}
	slices.Sort(sizes)
	counts := make([]lossprofile.Count, 0, len(sizes))
	for _, s := range sizes {
		counts = append(counts, *sum[s])
	}
	r := analysisOf(lossprofile.Analyze(counts), counts)
	r.Probes = probes
	return r
}

// profileFlows is Profile on o.Flows flows: the flows' searches
// (probe.Target.FindFlows), then every flow that found a path MTU
// profiled at once, sharing the packet budget.
func profileFlows(ctx context.Context, host string, o *ProfileOptions) (*ProfileReport, error) {
	po := o.Probe
	t, err := lookupNoted(ctx, host, &po, o.Notes)
	if t == nil {
		return nil, err
	}
	pr := &ProfileReport{Target: host, Address: t.Addr.String(), Family: FamilyName(t.Addr)}
	if err != nil {
		pr.Error = err.Error()
		return pr, err
	}
	fr, err := t.FindFlows(ctx, o.Flows)
	if err != nil {
		return nil, flowsError(t, &po, o.Exe, err)
	}
	if fr.PMTU == 0 {
		pr.Error = fmt.Sprintf("no flow found a path MTU to %s", host)
		return pr, &Error{Kind: NoAnswer, Msg: pr.Error}
	}
	pr.PMTU = int(fr.PMTU)
	n := 0
	for i, r := range fr.Flows {
		if r != nil && fr.Errs[i] == nil && r.Confirmed {
			n++
		}
	}
	now := o.clock()
	start := now()
	profiles := make([]*lossprofile.Profile, len(fr.Flows))
	errs := make([]error, len(fr.Flows))
	var wg sync.WaitGroup
	for i, r := range fr.Flows {
		pr.Flows = append(pr.Flows, FlowProfile{ID: i + 1})
		if r == nil || fr.Errs[i] != nil || !r.Confirmed {
			pr.Flows[i].Error = "no path MTU found on this flow"
			continue
		}
		pr.Method, pr.Port = string(r.Method), r.Port
		pr.Flows[i].SrcPort, pr.Flows[i].PMTU = int(r.Flow.SrcPort), int(r.PMTU)
		ft := t.WithFlow(po.Flow + i + 1)
		wg.Go(func() {
			s, err := ft.OpenSampler(r.Method.Proto(), r.Port, n)
			if err != nil {
				errs[i] = err
				return
			}
			defer s.Close()
			profiles[i], errs[i] = lossprofile.Run(ctx, s, o.runConfig(t, r.PMTU, n))
		})
	}
	wg.Wait()
	var all []*lossprofile.Profile
	byPMTU := map[int][]int{}
	for i, p := range profiles {
		if p != nil {
			pr.Flows[i].ProfileResult = resultOf(p)
			all = append(all, p)
			byPMTU[pr.Flows[i].PMTU] = append(byPMTU[pr.Flows[i].PMTU], i)
		}
		if errs[i] != nil {
			pr.Flows[i].Error = plainErr(errs[i])
		}
	}
	if len(all) == 0 {
		pr.Error = "no flow could be profiled: " + pr.Flows[0].Error
		return pr, &Error{Kind: NoAnswer, Msg: pr.Error}
	}
	pr.ProfileResult = pooled(all, fr.PMTU)
	pr.ElapsedMS = float64(now().Sub(start).Microseconds()) / 1000
	pmtus := make([]int, 0, len(byPMTU))
	for m := range byPMTU {
		pmtus = append(pmtus, m)
	}
	slices.Sort(pmtus)
	for _, m := range pmtus {
		br := ProfileBranch{PMTU: m}
		var ps []*lossprofile.Profile
		for _, i := range byPMTU[m] {
			br.Flows = append(br.Flows, i+1)
			ps = append(ps, profiles[i])
		}
		br.ProfileResult = pooled(ps, mtu.Size(m))
		pr.Branches = append(pr.Branches, br)
	}
	if err := ctx.Err(); err != nil {
		pr.Error = "stopped before the profile ended"
		return pr, &Error{Kind: Stopped, Msg: pr.Error, Err: err}
	}
	return pr, nil
}

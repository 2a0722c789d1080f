package check

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pmtu/pmtu/internal/checktest"
	"github.com/pmtu/pmtu/internal/fakenet"
	"github.com/pmtu/pmtu/internal/probetest"
	"github.com/pmtu/pmtu/measure"
	"github.com/pmtu/pmtu/mesh"
	"github.com/pmtu/pmtu/probe"
	"github.com/pmtu/pmtu/probe/transport"
)

// world is one fake path, both for the path MTU search (probetest) and
// for the checks (checktest), from src to dst through three routers.
func world(v6 bool, pmtuSilent bool, hops []checktest.Hop) (*Options, *checktest.Path) {
	src, dst := netip.MustParseAddr("198.18.1.1"), netip.MustParseAddr("198.18.4.2")
	addr := func(i int) netip.Addr { return netip.MustParseAddr(fmt.Sprintf("198.18.%d.2", i)) }
	if v6 {
		src, dst = netip.MustParseAddr("2001:db8:1::1"), netip.MustParseAddr("2001:db8:4::2")
		addr = func(i int) netip.Addr { return netip.MustParseAddr(fmt.Sprintf("2001:db8:%d::2", i)) }
	}
	cp := &checktest.Path{Src: src, Dst: dst, SynAckMSS: 1460}
	pp := &probetest.Path{Src: src, Dst: dst, RTT: time.Millisecond}
	for i := range 3 {
		h := checktest.Hop{Addr: addr(i + 1)}
		if i < len(hops) {
			h = hops[i]
			h.Addr = addr(i + 1)
		}
		cp.Hops = append(cp.Hops, h)
		pp.Hops = append(pp.Hops, probetest.Hop{Addr: addr(i + 1), MTU: 1500})
	}
	if pmtuSilent {
		pp.Hops[1].MTU, pp.Hops[1].Silent = 1400, true
		cp.MTU = 1400
	}
	o := &Options{
		Measure: measure.Options{Probe: probe.Options{Net: fakenet.New(pp).Network(), Wait: 20 * time.Millisecond}},
		Open: func(netip.Addr, *transport.OpenConfig) (Conn, error) {
			return cp.Conn(), nil
		},
		OpenResponder: func(netip.AddrPort, *transport.OpenConfig) (ResponderConn, error) {
			return cp.ResponderConn(), nil
		},
	}
	return o, cp
}

// responder is a pmtu mesh responder on the target that answers src.
func responder(src netip.Addr, key []byte) *checktest.Responder {
	return &checktest.Responder{R: &mesh.Responder{Key: key, IsPeer: func(a netip.Addr) bool { return a == src }}}
}

func results(r *Report) map[string]string {
	m := map[string]string{}
	for _, f := range r.Findings {
		m[f.Check] = f.Result
	}
	return m
}

func TestMain(m *testing.M) {
	retryGap = 30 * time.Millisecond // the fake routers' limits are counts, not times
	os.Exit(m.Run())
}

func TestHost(t *testing.T) {
	clampAt2 := []checktest.Hop{{}, {ClampMSS: 1300}}
	for _, tt := range []struct {
		name       string
		v6         bool
		silent     bool
		hops       []checktest.Hop
		tweak      func(*checktest.Path)
		wantClamp  *MSSClamp
		wantFrag   Fragments
		wantBroken bool
		want       map[string]string // results of some checks
		wantHBH    string
	}{
		{name: "clean ipv4", want: map[string]string{CheckMSSClamp: OK, CheckStallRisk: OK, CheckPathMTU: OK},
			wantFrag: Fragments{Forward: Pass, Return: Pass}},
		{name: "clean ipv6", v6: true, want: map[string]string{CheckMSSClamp: OK, CheckHopByHopForward: OK, CheckHopByHopReturn: Unknown},
			wantFrag: Fragments{Forward: Pass, Return: Pass}, wantHBH: Pass},
		{name: "clamped at hop 2, ipv4", hops: clampAt2, wantBroken: true,
			wantClamp: &MSSClamp{Hop: 3, Address: "198.18.3.2", AfterHop: 2, AfterAddress: "198.18.2.2", Sent: 1460, Seen: 1300},
			wantFrag:  Fragments{Forward: Pass, Return: Pass}, want: map[string]string{CheckMSSClamp: Found}},
		{name: "clamped at hop 2, ipv6", v6: true, hops: clampAt2, wantBroken: true,
			wantClamp: &MSSClamp{Hop: 3, Address: "2001:db8:3::2", AfterHop: 2, AfterAddress: "2001:db8:2::2", Sent: 1440, Seen: 1300},
			wantFrag:  Fragments{Forward: Pass, Return: Pass}, wantHBH: Pass},
		{name: "clamped at hop 2, every router rate-limited once", hops: []checktest.Hop{{Limited: 1}, {ClampMSS: 1300, Limited: 1}, {Limited: 1}}, wantBroken: true,
			wantClamp: &MSSClamp{Hop: 3, Address: "198.18.3.2", AfterHop: 2, AfterAddress: "198.18.2.2", Sent: 1460, Seen: 1300},
			wantFrag:  Fragments{Forward: Pass, Return: Pass}},
		{name: "hop 3 silent: not visible past hop 2", hops: []checktest.Hop{{}, {}, {Silent: true}},
			wantFrag: Fragments{Forward: Pass, Return: Pass}, want: map[string]string{CheckMSSClamp: Unknown}},
		{name: "clamped at hop 1", hops: []checktest.Hop{{ClampMSS: 1360}}, wantBroken: true,
			wantClamp: &MSSClamp{Hop: 2, Address: "198.18.2.2", AfterHop: 1, AfterAddress: "198.18.1.2", Sent: 1460, Seen: 1360},
			wantFrag:  Fragments{Forward: Pass, Return: Pass}},
		{name: "clamped at hop 2, hop 3 quotes 8 bytes: not visible", hops: []checktest.Hop{{}, {ClampMSS: 1300}, {Quote: 8}},
			wantFrag: Fragments{Forward: Pass, Return: Pass}, want: map[string]string{CheckMSSClamp: Unknown}},
		{name: "fragments dropped forward", hops: []checktest.Hop{{DropFragments: true}}, wantBroken: true,
			wantFrag: Fragments{Forward: Dropped, Return: Unknown}, want: map[string]string{CheckFragmentsForward: Found, CheckFragmentsReturn: Unknown}},
		{name: "fragments dropped back", hops: []checktest.Hop{{DropFragmentsBack: true}}, wantBroken: true,
			wantFrag: Fragments{Forward: Pass, Return: Dropped}, want: map[string]string{CheckFragmentsForward: OK, CheckFragmentsReturn: Found}},
		{name: "fragments dropped both ways", hops: []checktest.Hop{{DropFragments: true, DropFragmentsBack: true}}, wantBroken: true,
			wantFrag: Fragments{Forward: Dropped, Return: Unknown}},
		{name: "ipv6 fragment header dropped", v6: true, hops: []checktest.Hop{{}, {DropFragments: true}}, wantBroken: true,
			wantFrag: Fragments{Forward: Dropped, Return: Unknown}, wantHBH: Pass},
		{name: "ipv6 hop-by-hop dropped", v6: true, hops: []checktest.Hop{{DropHopByHop: true}}, wantBroken: true,
			wantFrag: Fragments{Forward: Pass, Return: Pass}, wantHBH: Dropped,
			want: map[string]string{CheckHopByHopForward: Found, CheckDstOptsForward: OK}},
		{name: "reply fragments not told apart", tweak: func(p *checktest.Path) { p.NoFragSize = true },
			wantFrag: Fragments{Forward: Pass, Return: Unknown}},
		{name: "no echo", tweak: func(p *checktest.Path) { p.NoEcho = true },
			wantFrag: Fragments{Forward: Unknown, Return: Unknown}, want: map[string]string{CheckMSSClamp: OK}},
		{name: "black hole and MSS 1460: stall risk", silent: true, wantBroken: true,
			wantFrag: Fragments{Forward: Pass, Return: Pass}, want: map[string]string{CheckPathMTU: Found, CheckStallRisk: Found}},
		{name: "port closed: no SYN-ACK MSS", tweak: func(p *checktest.Path) { p.SynAckMSS = 0 },
			wantFrag: Fragments{Forward: Pass, Return: Pass}, want: map[string]string{CheckStallRisk: Unknown, CheckMSSClamp: OK}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o, cp := world(tt.v6, tt.silent, tt.hops)
			if tt.tweak != nil {
				tt.tweak(cp)
			}
			r, err := Host(context.Background(), cp.Dst.String(), o)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.wantClamp, r.MSSClamp); d != "" {
				t.Errorf("mss_clamp (-want +got):\n%s", d)
			}
			got := *r.Fragments[r.Family]
			got.ForwardWhy, got.ReturnWhy = "", ""
			if d := cmp.Diff(tt.wantFrag, got); d != "" {
				t.Errorf("fragments (-want +got):\n%s", d)
			}
			if r.Broken != tt.wantBroken {
				t.Errorf("broken = %v, want %v: %+v", r.Broken, tt.wantBroken, r.Findings)
			}
			res := results(r)
			for k, v := range tt.want {
				if res[k] != v {
					t.Errorf("%s = %q, want %q", k, res[k], v)
				}
			}
			if tt.v6 != (r.IPv6Headers != nil) {
				t.Fatalf("ipv6_headers = %+v for ipv6 %v", r.IPv6Headers, tt.v6)
			}
			if tt.v6 && r.IPv6Headers.HopByHop.Forward != tt.wantHBH {
				t.Errorf("hop_by_hop.forward = %q, want %q", r.IPv6Headers.HopByHop.Forward, tt.wantHBH)
			}
			if tt.v6 && (r.IPv6Headers.HopByHop.Return != Unknown || r.IPv6Headers.DestinationOptions.Return != Unknown ||
				!strings.Contains(r.IPv6Headers.HopByHop.ReturnWhy, "Port Unreachable")) {
				t.Errorf("return of extension headers: %+v, want unknown (no responder)", r.IPv6Headers)
			}
			if len(r.NotRun) != 0 {
				t.Errorf("not run: %+v", r.NotRun)
			}
		})
	}
}

// A clean path is clean every time: 20 runs, nothing found.
func TestHostCleanTwentyRuns(t *testing.T) {
	for i := range 20 {
		o, cp := world(i%2 == 1, false, nil)
		r, err := Host(context.Background(), cp.Dst.String(), o)
		if err != nil {
			t.Fatal(err)
		}
		if r.Broken {
			t.Fatalf("run %d: broken: %+v", i, r.Findings)
		}
	}
}

func TestHostNoPrivilege(t *testing.T) {
	o, cp := world(true, false, nil)
	o.Open = func(netip.Addr, *transport.OpenConfig) (Conn, error) {
		return nil, fmt.Errorf("opening: %w", transport.ErrPermission)
	}
	r, err := Host(context.Background(), cp.Dst.String(), o)
	if err != nil {
		t.Fatal(err)
	}
	if r.Broken {
		t.Errorf("broken without a check run")
	}
	var names []string
	for _, s := range r.NotRun {
		names = append(names, s.Check)
		if s.Why == "" {
			t.Errorf("%s not run without a reason", s.Check)
		}
	}
	want := []string{CheckMSSClamp, CheckStallRisk, CheckFragmentsForward, CheckFragmentsReturn,
		CheckHopByHopForward, CheckDstOptsForward}
	if d := cmp.Diff(want, names); d != "" {
		t.Errorf("not run (-want +got):\n%s", d)
	}
	if f, _ := r.Finding(CheckPathMTU); f.Result != OK {
		t.Errorf("path MTU: %+v, want ok (it needs no raw socket)", f)
	}
	if f, _ := r.Finding(CheckHopByHopReturn); f.Result != Unknown {
		t.Errorf("hop-by-hop return: %+v, want unknown (it needs no raw socket, and no responder listens)", f)
	}
}

// TestHostHeadersBack: the return direction of the extension headers,
// through a pmtu mesh responder on the target.
func TestHostHeadersBack(t *testing.T) {
	src := netip.MustParseAddr("2001:db8:1::1")
	key := []byte("the mesh's shared key")
	for _, tt := range []struct {
		name       string
		hops       []checktest.Hop
		resp       *checktest.Responder
		key        []byte // pmtu check --key-file
		noRaw      bool
		wantHBH    Header // Return, ReturnSmall, ReturnLarge, ReturnSize
		wantDst    Header
		why        string // in hop_by_hop.return_why
		wantBroken bool
	}{
		{name: "clean", resp: responder(src, nil),
			wantHBH: Header{Return: Pass, ReturnSmall: Pass, ReturnLarge: Pass, ReturnSize: 1500},
			wantDst: Header{Return: Pass, ReturnSmall: Pass, ReturnLarge: Pass, ReturnSize: 1500}, why: "arrived with it"},
		{name: "hop-by-hop dropped back at hop 1", hops: []checktest.Hop{{DropHopByHopBack: true}}, resp: responder(src, nil), wantBroken: true,
			wantHBH: Header{Return: Dropped, ReturnSmall: Dropped, ReturnLarge: Dropped},
			wantDst: Header{Return: Pass, ReturnSmall: Pass, ReturnLarge: Pass, ReturnSize: 1500}, why: "while a plain one of that size did"},
		{name: "destination options dropped back at hop 2", hops: []checktest.Hop{{}, {DropDstOptsBack: true}}, resp: responder(src, nil), wantBroken: true,
			wantHBH: Header{Return: Pass, ReturnSmall: Pass, ReturnLarge: Pass, ReturnSize: 1500},
			wantDst: Header{Return: Dropped, ReturnSmall: Dropped, ReturnLarge: Dropped}},
		{name: "dropped forward only: the way back passes", hops: []checktest.Hop{{DropHopByHop: true}}, resp: responder(src, nil), wantBroken: true,
			wantHBH: Header{Return: Pass, ReturnSmall: Pass, ReturnLarge: Pass, ReturnSize: 1500},
			wantDst: Header{Return: Pass, ReturnSmall: Pass, ReturnLarge: Pass, ReturnSize: 1500}},
		{name: "keyed mesh", resp: responder(src, key), key: key,
			wantHBH: Header{Return: Pass, ReturnSmall: Pass, ReturnLarge: Pass, ReturnSize: 1500},
			wantDst: Header{Return: Pass, ReturnSmall: Pass, ReturnLarge: Pass, ReturnSize: 1500}},
		{name: "keyed mesh, no key", resp: responder(src, key),
			wantHBH: Header{Return: Unknown}, wantDst: Header{Return: Unknown}, why: "keyed (--key-file)"},
		{name: "not a peer", resp: responder(netip.MustParseAddr("2001:db8:9::9"), nil),
			wantHBH: Header{Return: Unknown}, wantDst: Header{Return: Unknown}, why: "is not one of its peers"},
		{name: "responder without CAP_NET_RAW", resp: &checktest.Responder{R: responder(src, nil).R, NoCapability: true},
			wantHBH: Header{Return: Unknown, ReturnSmall: Unknown, ReturnLarge: Unknown, ReturnSize: 1492},
			wantDst: Header{Return: Unknown, ReturnSmall: Unknown, ReturnLarge: Unknown, ReturnSize: 1492}, why: "CAP_NET_RAW"},
		{name: "an older responder", resp: &checktest.Responder{R: responder(src, nil).R, Plain: true},
			wantHBH: Header{Return: Unknown}, wantDst: Header{Return: Unknown}, why: "predates"},
		{name: "no responder", wantHBH: Header{Return: Unknown}, wantDst: Header{Return: Unknown}, why: "Port Unreachable"},
		{name: "no raw socket: the way back still runs", noRaw: true, hops: []checktest.Hop{{DropHopByHopBack: true}}, resp: responder(src, nil), wantBroken: true,
			wantHBH: Header{Return: Dropped, ReturnSmall: Dropped, ReturnLarge: Dropped},
			wantDst: Header{Return: Pass, ReturnSmall: Pass, ReturnLarge: Pass, ReturnSize: 1500}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o, cp := world(true, false, tt.hops)
			cp.Responder, o.Key = tt.resp, tt.key
			if tt.noRaw {
				o.Open = func(netip.Addr, *transport.OpenConfig) (Conn, error) { return nil, transport.ErrPermission }
			}
			r, err := Host(context.Background(), cp.Dst.String(), o)
			if err != nil {
				t.Fatal(err)
			}
			back := func(h Header) Header {
				return Header{Return: h.Return, ReturnSmall: h.ReturnSmall, ReturnLarge: h.ReturnLarge, ReturnSize: h.ReturnSize}
			}
			if d := cmp.Diff(tt.wantHBH, back(r.IPv6Headers.HopByHop)); d != "" {
				t.Errorf("hop_by_hop (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tt.wantDst, back(r.IPv6Headers.DestinationOptions)); d != "" {
				t.Errorf("destination_options (-want +got):\n%s", d)
			}
			if !strings.Contains(r.IPv6Headers.HopByHop.ReturnWhy, tt.why) {
				t.Errorf("hop_by_hop.return_why = %q, want it to say %q", r.IPv6Headers.HopByHop.ReturnWhy, tt.why)
			}
			if r.IPv6Headers.Responder != "[2001:db8:4::2]:10151" {
				t.Errorf("responder = %q", r.IPv6Headers.Responder)
			}
			if r.Broken != tt.wantBroken {
				t.Errorf("broken = %v, want %v: %+v", r.Broken, tt.wantBroken, r.Findings)
			}
			f, ok := r.Finding(CheckHopByHopReturn)
			if !ok || f.Result != map[string]string{Pass: OK, Dropped: Found, Unknown: Unknown}[tt.wantHBH.Return] || f.Evidence != r.IPv6Headers.HopByHop.ReturnWhy {
				t.Errorf("finding %+v for return %s", f, tt.wantHBH.Return)
			}
		})
	}
}

func TestHostBadHost(t *testing.T) {
	o, _ := world(false, false, nil)
	r, err := Host(context.Background(), "no-such-host.invalid", o)
	if r != nil || measure.KindOf(err) != measure.BadInput {
		t.Errorf("Host = %v, %v; want no report and a BadInput error", r, err)
	}
}

func TestHostStopped(t *testing.T) {
	o, cp := world(false, false, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r, err := Host(ctx, cp.Dst.String(), o)
	if r == nil || measure.KindOf(err) != measure.Stopped {
		t.Errorf("Host = %v, %v; want a report and a Stopped error", r, err)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v does not wrap context.Canceled", err)
	}
}

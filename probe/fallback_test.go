package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pmtu/pmtu/internal/probetest"
	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/probe/search"
	"github.com/pmtu/pmtu/probe/transport"
	"github.com/pmtu/pmtu/probe/wire"
	"github.com/pmtu/pmtu/route"
)

// waysNetwork is a fake network where each way of asking the target
// ("icmp", "tcp:443", "tcp:80", "quic:443", "udp:33434") is its own fake path: the
// same routers (r1 says 1500 on a 2000-byte egress), and a target that
// answers that way or not. A way in answers is answered; a way in
// noPrivilege cannot be opened (raw sockets refused). written counts the
// probes each way sent.
type waysNetwork struct {
	answers, noPrivilege map[string]bool
	icmpAsUDP            bool // ICMP is sent by udp-recverr (no privilege)
	tcpData              bool // TCP is sent by tcp-data (no privilege): it sets no hop limit
	written              map[string]int
	order                []string // ways opened, in order
}

var (
	waysSrc = netip.MustParseAddr("198.18.0.1")
	waysDst = netip.MustParseAddr("198.18.2.2")
	waysR1  = netip.MustParseAddr("198.18.1.2")
)

func (w *waysNetwork) network() *network {
	clock := probetest.NewClock()
	return &network{
		resolve:         resolve,
		localAddrs:      func() func(netip.Addr) bool { return func(a netip.Addr) bool { return a == waysSrc || a.IsLoopback() } },
		interfaceByName: func(string) (*net.Interface, error) { return nil, errors.New("no such interface") },
		route: func(_ context.Context, dst netip.Addr) (route.Route, error) {
			return route.Route{Dst: dst, Src: waysSrc, IfIndex: 2, IfName: "veth0", IfMTU: 2000, Type: route.Unicast}, nil
		},
		open: func(p Proto, dst netip.Addr, cfg *transport.OpenConfig) (wire.Conn, Method, error) {
			way := string(p)
			m := MethodICMP
			if w.icmpAsUDP {
				m = MethodUDPRecvErr
				if p == ProtoICMP && cfg.Methods != nil && !slices.Contains(cfg.Methods, m) {
					w.order = append(w.order, way)
					return nil, "", noEcho
				}
			}
			if p != ProtoICMP {
				way = fmt.Sprintf("%s:%d", p, portOf(p, cfg.Port))
				m = map[Proto]Method{ProtoTCP: MethodTCP, ProtoUDP: MethodUDP, ProtoQUIC: MethodQUIC}[p]
				if p == ProtoTCP && w.tcpData {
					m = MethodTCPData
				}
			}
			w.order = append(w.order, way)
			if w.noPrivilege[way] {
				return nil, "", &NoMethodError{Proto: p, Tried: []MethodError{{Method: m, Err: os.ErrPermission}}}
			}
			path := &probetest.Path{Src: waysSrc, Dst: dst, RTT: time.Millisecond, Clock: clock,
				Hops: []probetest.Hop{{Addr: waysR1, MTU: 1500}}, NoEchoReply: !w.answers[way]}
			pc := path.Conn()
			return &countingConn{ICMPConn: transport.NewICMPConn(pc, dst, &transport.ICMPConfig{Src: waysSrc, Now: clock.Now}),
				n: func() { w.written[way]++ }}, m, nil
		},
		now: clock.Now,
	}
}

// countingConn counts the probes sent over a fake way.
type countingConn struct {
	*transport.ICMPConn
	n func()
}

func (c *countingConn) Send(ctx context.Context, p wire.Probe) error {
	c.n()
	return c.ICMPConn.Send(ctx, p)
}

// The fallback policy: with no protocol chosen, a target that answers no
// Echo is asked by TCP 443, TCP 80, QUIC 443, then UDP, a couple of probes each,
// and the first way it answers finishes the search; a way this process
// may not use is skipped; a chosen protocol is the only one used.
func TestFindFallback(t *testing.T) {
	tests := []struct {
		name        string
		proto       Proto
		icmpAsUDP   bool
		minSize     mtu.Size
		answers     []string
		noPrivilege []string
		wantErr     error
		wantMethod  Method
		wantPort    int
		wantPMTU    int
		wantTried   []Attempt
		// wantWritten is how many probes each fallback sent: a couple
		// to be judged, and the search's if it answered.
		wantWritten map[string]int
	}{
		{name: "Echo answered: ICMP alone", answers: []string{"icmp"},
			wantMethod: MethodICMP, wantPMTU: 1500,
			wantTried:   []Attempt{{Proto: ProtoICMP, Method: MethodICMP, Answered: true, Probes: 2}},
			wantWritten: map[string]int{}},
		{name: "TCP 443 answers", answers: []string{"tcp:443"},
			wantMethod: MethodTCP, wantPort: 443, wantPMTU: 1500,
			wantTried: []Attempt{{Proto: ProtoICMP, Method: MethodICMP, Probes: -1},
				{Proto: ProtoTCP, Port: 443, Method: MethodTCP, Answered: true, Probes: 2}},
			wantWritten: map[string]int{"tcp:443": 2 + 2}},
		{name: "only TCP 80 answers", answers: []string{"tcp:80"},
			wantMethod: MethodTCP, wantPort: 80, wantPMTU: 1500,
			wantTried: []Attempt{{Proto: ProtoICMP, Method: MethodICMP, Probes: -1},
				{Proto: ProtoTCP, Port: 443, Method: MethodTCP, Probes: 2},
				{Proto: ProtoTCP, Port: 80, Method: MethodTCP, Answered: true, Probes: 2}},
			wantWritten: map[string]int{"tcp:443": 2, "tcp:80": 2 + 2}},
		{name: "no raw sockets: TCP skipped, UDP answers", answers: []string{"tcp:443", "udp:33434"},
			noPrivilege: []string{"tcp:443", "tcp:80"},
			wantMethod:  MethodUDP, wantPort: 33434, wantPMTU: 1500,
			wantTried: []Attempt{{Proto: ProtoICMP, Method: MethodICMP, Probes: -1},
				{Proto: ProtoTCP, Port: 443, Skipped: noTCP},
				{Proto: ProtoTCP, Port: 80, Skipped: noTCP},
				{Proto: ProtoQUIC, Port: 443, Method: MethodQUIC, Probes: 2},
				{Proto: ProtoUDP, Port: 33434, Method: MethodUDP, Answered: true, Probes: 2}},
			wantWritten: map[string]int{"quic:443": 2, "udp:33434": 2 + 2}},
		{name: "only QUIC answers", answers: []string{"quic:443"},
			wantMethod: MethodQUIC, wantPort: 443, wantPMTU: 1500,
			wantTried: []Attempt{{Proto: ProtoICMP, Method: MethodICMP, Probes: -1},
				{Proto: ProtoTCP, Port: 443, Method: MethodTCP, Probes: 2},
				{Proto: ProtoTCP, Port: 80, Method: MethodTCP, Probes: 2},
				{Proto: ProtoQUIC, Port: 443, Method: MethodQUIC, Answered: true, Probes: 2}},
			wantWritten: map[string]int{"tcp:443": 2, "tcp:80": 2, "quic:443": 2 + 2}},
		{name: "no Echo socket: TCP, QUIC, UDP, then UDP's bounds", icmpAsUDP: true, noPrivilege: []string{"tcp:443", "tcp:80"},
			wantErr: ErrNoReply, wantMethod: MethodUDPRecvErr, wantPort: 33434,
			wantTried: []Attempt{{Proto: ProtoICMP, Skipped: noEcho},
				{Proto: ProtoTCP, Port: 443, Skipped: noTCP},
				{Proto: ProtoTCP, Port: 80, Skipped: noTCP},
				{Proto: ProtoQUIC, Port: 443, Method: MethodQUIC, Probes: 2},
				{Proto: ProtoUDP, Port: 33434, Method: MethodUDP, Probes: 2}},
			wantWritten: map[string]int{"quic:443": 2, "udp:33434": 2}},
		{name: "nothing answers: the ICMP bounds stand", wantErr: ErrNoReply,
			wantMethod: MethodICMP,
			wantTried: []Attempt{{Proto: ProtoICMP, Method: MethodICMP, Probes: -1},
				{Proto: ProtoTCP, Port: 443, Method: MethodTCP, Probes: 2},
				{Proto: ProtoTCP, Port: 80, Method: MethodTCP, Probes: 2},
				{Proto: ProtoQUIC, Port: 443, Method: MethodQUIC, Probes: 2},
				{Proto: ProtoUDP, Port: 33434, Method: MethodUDP, Probes: 2}},
			wantWritten: map[string]int{"tcp:443": 2, "tcp:80": 2, "quic:443": 2, "udp:33434": 2}},
		{name: "every size from --min-size up refused: no fallback", minSize: 1600, wantErr: ErrNoReply,
			wantMethod:  MethodICMP,
			wantTried:   []Attempt{{Proto: ProtoICMP, Method: MethodICMP, Probes: -1}},
			wantWritten: map[string]int{}},
		{name: "--proto icmp: ICMP only", proto: ProtoICMP, answers: []string{"tcp:443"}, wantErr: ErrNoReply,
			wantMethod: MethodICMP, wantWritten: map[string]int{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &waysNetwork{answers: set(tt.answers), noPrivilege: set(tt.noPrivilege), icmpAsUDP: tt.icmpAsUDP, written: map[string]int{}}
			var log []string
			o := &Options{Proto: tt.proto, MinSize: tt.minSize, sys: w.network(), Log: func(l string) { log = append(log, l) }}
			res, err := Find(context.Background(), waysDst.String(), o)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("Find: %v, want %v", err, tt.wantErr)
			}
			if res.Method != tt.wantMethod || res.Port != tt.wantPort || int(res.PMTU) != tt.wantPMTU {
				t.Errorf("method %s port %d pmtu %d, want %s %d %d", res.Method, res.Port, res.PMTU, tt.wantMethod, tt.wantPort, tt.wantPMTU)
			}
			// The ICMP search's cost varies with the sizer: check it
			// against what was written, then leave it out of the diff.
			for i := range res.Tried {
				if res.Tried[i].Proto == ProtoICMP && !res.Tried[i].Answered && res.Tried[i].Skipped == nil {
					if res.Tried[i].Probes != w.written["icmp"] || res.Tried[i].Probes == 0 {
						t.Errorf("ICMP attempt says %d probes, %d written", res.Tried[i].Probes, w.written["icmp"])
					}
					res.Tried[i].Probes = -1
				}
			}
			if diff := cmp.Diff(tt.wantTried, res.Tried, cmp.Comparer(sameError)); diff != "" {
				t.Errorf("Tried (-want +got):\n%s", diff)
			}
			delete(w.written, "icmp")
			if diff := cmp.Diff(tt.wantWritten, w.written); diff != "" {
				t.Errorf("probes written per way (-want +got):\n%s", diff)
			}
			if tt.wantErr != nil {
				// What routers proved stands: r1 said 1500.
				if res.Bound != 1500 || res.BoundBy != waysR1 || res.Hi != 1501 || res.Lo != 0 {
					t.Errorf("bound %d by %s, Lo %d Hi %d; want 1500 by %s, 0, 1501", res.Bound, res.BoundBy, res.Lo, res.Hi, waysR1)
				}
			}
			if len(tt.noPrivilege) > 0 && !contains(log, "TCP to port 443 skipped: ") {
				t.Errorf("log says nothing of the skipped TCP:\n%q", log)
			}
		})
	}
}

// noEcho is the refusal of ICMP Echo to a process without raw sockets
// or a ping socket.
var noEcho = &NoMethodError{Proto: ProtoICMP, Tried: []MethodError{{Method: MethodICMP, Err: os.ErrPermission}, {Method: MethodPing, Err: os.ErrPermission}}}

// noTCP is the refusal of TCP to a process without raw sockets.
var noTCP = &NoMethodError{Proto: ProtoTCP, Tried: []MethodError{{Method: MethodTCP, Err: os.ErrPermission}}}

func sameError(a, b error) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && a.Error() == b.Error())
}

func set(xs []string) map[string]bool {
	m := map[string]bool{}
	for _, x := range xs {
		m[x] = true
	}
	return m
}

func contains(lines []string, prefix string) bool {
	for _, l := range lines {
		if len(l) >= len(prefix) && l[:len(prefix)] == prefix {
			return true
		}
	}
	return false
}

// Trace falls back as Find does: with no protocol chosen, a walk the
// target never answered is followed by TCP 443, TCP 80, QUIC 443, then UDP, a
// couple of probes each, and the first way the target answers walks
// again; a walk it answered costs nothing more.
func TestTraceFallback(t *testing.T) {
	tests := []struct {
		name        string
		proto       Proto
		answers     []string
		noPrivilege []string
		wantMethod  Method
		wantPort    int
		wantReached bool
		wantTried   []Attempt
		// wantChecks is how many probes judged each fallback; a way
		// that answered walks too.
		wantChecks map[string]int
	}{
		{name: "Echo answered: one walk", answers: []string{"icmp"},
			wantMethod: MethodICMP, wantReached: true,
			wantTried:  []Attempt{{Proto: ProtoICMP, Method: MethodICMP, Answered: true, Probes: -1}},
			wantChecks: map[string]int{}},
		{name: "Echo filtered at the target, TCP 443 answers", answers: []string{"tcp:443"},
			wantMethod: MethodTCP, wantPort: 443, wantReached: true,
			wantTried: []Attempt{{Proto: ProtoICMP, Method: MethodICMP, Probes: -1},
				{Proto: ProtoTCP, Port: 443, Method: MethodTCP, Answered: true, Probes: 2}},
			wantChecks: map[string]int{"tcp:443": 2}},
		{name: "only TCP 80 answers", answers: []string{"tcp:80"},
			wantMethod: MethodTCP, wantPort: 80, wantReached: true,
			wantTried: []Attempt{{Proto: ProtoICMP, Method: MethodICMP, Probes: -1},
				{Proto: ProtoTCP, Port: 443, Method: MethodTCP, Probes: 2},
				{Proto: ProtoTCP, Port: 80, Method: MethodTCP, Answered: true, Probes: 2}},
			wantChecks: map[string]int{"tcp:443": 2, "tcp:80": 2}},
		{name: "no raw sockets: TCP skipped, UDP answers", answers: []string{"udp:33434"},
			noPrivilege: []string{"tcp:443", "tcp:80"},
			wantMethod:  MethodUDP, wantPort: 33434, wantReached: true,
			wantTried: []Attempt{{Proto: ProtoICMP, Method: MethodICMP, Probes: -1},
				{Proto: ProtoTCP, Port: 443, Skipped: noTCP},
				{Proto: ProtoTCP, Port: 80, Skipped: noTCP},
				{Proto: ProtoQUIC, Port: 443, Method: MethodQUIC, Probes: 2},
				{Proto: ProtoUDP, Port: 33434, Method: MethodUDP, Answered: true, Probes: 2}},
			wantChecks: map[string]int{"quic:443": 2, "udp:33434": 2}},
		{name: "nothing answers: the Echo walk stands", wantMethod: MethodICMP,
			wantTried: []Attempt{{Proto: ProtoICMP, Method: MethodICMP, Probes: -1},
				{Proto: ProtoTCP, Port: 443, Method: MethodTCP, Probes: 2},
				{Proto: ProtoTCP, Port: 80, Method: MethodTCP, Probes: 2},
				{Proto: ProtoQUIC, Port: 443, Method: MethodQUIC, Probes: 2},
				{Proto: ProtoUDP, Port: 33434, Method: MethodUDP, Probes: 2}},
			wantChecks: map[string]int{"tcp:443": 2, "tcp:80": 2, "quic:443": 2, "udp:33434": 2}},
		{name: "--proto icmp: ICMP only", proto: ProtoICMP, answers: []string{"tcp:443"},
			wantMethod: MethodICMP, wantChecks: map[string]int{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &waysNetwork{answers: set(tt.answers), noPrivilege: set(tt.noPrivilege), written: map[string]int{}}
			o := &TraceOptions{Options: Options{Proto: tt.proto, sys: w.network()}, MaxHops: 4}
			res, err := Trace(context.Background(), waysDst.String(), o)
			if err != nil {
				t.Fatalf("Trace: %v", err)
			}
			if res.Method != tt.wantMethod || res.Port != tt.wantPort || res.Reached != tt.wantReached {
				t.Errorf("method %s port %d reached %v, want %s %d %v", res.Method, res.Port, res.Reached, tt.wantMethod, tt.wantPort, tt.wantReached)
			}
			// Each walk's cost varies with the sizer: the Echo walk's
			// is what it wrote; the walk that stands wrote its Probes
			// beyond its way's check.
			for i := range res.Tried {
				if a := &res.Tried[i]; a.Proto == ProtoICMP {
					if a.Probes != w.written["icmp"] || a.Probes == 0 {
						t.Errorf("ICMP attempt says %d probes, %d written", a.Probes, w.written["icmp"])
					}
					a.Probes = -1
				}
			}
			if diff := cmp.Diff(tt.wantTried, res.Tried, cmp.Comparer(sameError)); diff != "" {
				t.Errorf("Tried (-want +got):\n%s", diff)
			}
			if way := fmt.Sprintf("%s:%d", res.Method, res.Port); res.Method != MethodICMP {
				w.written[way] -= res.Probes
			}
			delete(w.written, "icmp")
			if diff := cmp.Diff(tt.wantChecks, w.written); diff != "" {
				t.Errorf("probes written per way, beyond the walk that stands (-want +got):\n%s", diff)
			}
			// r1 said 1500 on the way to the target, whichever walk
			// stands: hop 1 carries the egress's 2000, the path beyond
			// it 1500.
			if len(res.Hops) < 2 || res.Hops[0].Addr != waysR1 || res.Hops[0].PMTU != 2000 ||
				!res.Hops[1].MTUDrop || res.Hops[1].ReportedBy != waysR1 || res.Hops[1].ReportedMTU != 1500 {
				t.Errorf("hops %+v: want r1 at 2000, then a drop to 1500 it reported", res.Hops)
			}
			if tt.wantReached && (res.PMTU != 1500 || len(res.Hops) != 2) {
				t.Errorf("pmtu %d over %d hops, want 1500 over 2", res.PMTU, len(res.Hops))
			}
			if !tt.wantReached && (res.Max != 1500 || res.MaxBy != waysR1) {
				t.Errorf("bound %d by %s, want 1500 by %s", res.Max, res.MaxBy, waysR1)
			}
		})
	}
}

// A walk the target answers with Echo costs what a walk with --proto icmp
// does: not one probe more.
func TestTraceEchoAnsweredNoMore(t *testing.T) {
	probes := map[Proto]int{}
	for _, proto := range []Proto{"", ProtoICMP} {
		w := &waysNetwork{answers: set([]string{"icmp", "tcp:443"}), written: map[string]int{}}
		res, err := Trace(context.Background(), waysDst.String(), &TraceOptions{Options: Options{Proto: proto, sys: w.network()}})
		if err != nil || !res.Reached {
			t.Fatalf("--proto %q: reached %v, %v", proto, res != nil && res.Reached, err)
		}
		if len(w.written) != 1 || w.written["icmp"] != res.Probes {
			t.Errorf("--proto %q: written %v, want %d ICMP probes alone", proto, w.written, res.Probes)
		}
		probes[proto] = res.Probes
	}
	if probes[""] != probes[ProtoICMP] {
		t.Errorf("%d probes with no protocol chosen, %d with --proto icmp", probes[""], probes[ProtoICMP])
	}
}

// A walk the target never answered, where the way it answers sets no
// hop limit (tcp-data): the Echo walk's hops stand, and the target's
// search by that way is the last hop.
func TestTraceLastHop(t *testing.T) {
	w := &waysNetwork{answers: set([]string{"tcp:443"}), tcpData: true, written: map[string]int{}}
	var log []string
	o := &TraceOptions{Options: Options{sys: w.network(), Log: func(l string) { log = append(log, l) }}, MaxHops: 4}
	res, err := Trace(context.Background(), waysDst.String(), o)
	if err != nil {
		t.Fatalf("Trace: %v", err)
	}
	if res.Method != MethodICMP || res.LastHop == nil || res.LastHop.Method != MethodTCPData || res.LastHop.Port != 443 {
		t.Fatalf("walk by %s, last hop %+v: want the Echo walk and a tcp-data search to 443", res.Method, res.LastHop)
	}
	if !res.Reached || res.PMTU != 1500 || len(res.Hops) != 2 {
		t.Fatalf("reached %v pmtu %d over %d hops, want 1500 over 2", res.Reached, res.PMTU, len(res.Hops))
	}
	h := res.Hops[1]
	if h.TTL != 2 || h.Addr != waysDst || h.Reply != ReplyReached || !h.MTUDrop || h.ReportedBy != waysR1 || h.ReportedMTU != 1500 {
		t.Errorf("last hop %+v: want the target at 2, a drop to 1500 that r1 reported", h)
	}
	if res.Hops[0].Addr != waysR1 || res.Hops[0].PMTU != 2000 {
		t.Errorf("first hop %+v: want r1 at 2000, from the Echo walk", res.Hops[0])
	}
	if w.written["tcp:443"] != 2+res.LastHop.Probes {
		t.Errorf("TCP sent %d probes, want the check's 2 and the search's %d: no walk with it", w.written["tcp:443"], res.LastHop.Probes)
	}
	if !contains(log, "ICMP Echo unanswered; TCP to port 443 answered: the target's path MTU by tcp-data") {
		t.Errorf("the log does not say how the last hop was found:\n%q", log)
	}
}

// appendTarget places the target after the last hop that answered, a
// drop where its path MTU is smaller: reported by a router, or a black
// hole after that hop.
func TestAppendTarget(t *testing.T) {
	r1 := search.TraceHop{TTL: 1, Addr: waysR1, Reply: search.ReplyTimeExceeded, PMTU: 1500, Exact: true}
	silent := search.TraceHop{TTL: 2}
	tests := []struct {
		name string
		hops []search.TraceHop
		r    search.Result
		want search.TraceHop
	}{
		{"black hole", []search.TraceHop{r1, silent, silent},
			search.Result{Target: waysDst, PMTU: 1400, Confirmed: true, Lo: 1400, Hi: 1401, Silence: true, Probes: 40, Rounds: 4},
			search.TraceHop{TTL: 2, Addr: waysDst, Reply: search.ReplyReached, PMTU: 1400, Exact: true, Min: 1400, Max: 1400,
				MTUDrop: true, VanishAfter: 1, Probes: 40, Rounds: 4, Event: wire.Event{Kind: wire.Reached, From: waysDst}}},
		{"same as the hop before", []search.TraceHop{r1},
			search.Result{Target: waysDst, PMTU: 1500, Confirmed: true, Lo: 1500, Hi: 1501, Probes: 1, Rounds: 1},
			search.TraceHop{TTL: 2, Addr: waysDst, Reply: search.ReplyReached, PMTU: 1500, Exact: true, Min: 1500, Max: 1500,
				Probes: 1, Rounds: 1, Event: wire.Event{Kind: wire.Reached, From: waysDst}}},
		{"no hop answered", []search.TraceHop{silent},
			search.Result{Target: waysDst, PMTU: 1400, Confirmed: true, Lo: 1400, Hi: 1401, Silence: true, Probes: 9, Rounds: 3},
			search.TraceHop{TTL: 1, Addr: waysDst, Reply: search.ReplyReached, PMTU: 1400, Exact: true, Min: 1400, Max: 1400,
				Probes: 9, Rounds: 3, Event: wire.Event{Kind: wire.Reached, From: waysDst}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := &search.TraceResult{Target: waysDst, Hops: tt.hops, Max: 1500, Probes: 10, Rounds: 2}
			appendTarget(res, &tt.r)
			got := res.Hops[len(res.Hops)-1]
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
				t.Errorf("last hop (-want +got):\n%s", diff)
			}
			if !res.Reached || res.PMTU != tt.r.PMTU || res.Max != tt.r.Hi-1 || res.Probes != 10+tt.r.Probes || res.Rounds != max(2, tt.r.Rounds) {
				t.Errorf("result reached %v pmtu %d max %d probes %d rounds %d", res.Reached, res.PMTU, res.Max, res.Probes, res.Rounds)
			}
		})
	}
}

// Without an Echo socket, the routers' hops come from a walk by UDP (what
// ICMP is sent as), and tcp-data gives the last hop.
func TestTraceLastHopNoEcho(t *testing.T) {
	w := &waysNetwork{answers: set([]string{"tcp:443"}), tcpData: true, icmpAsUDP: true, written: map[string]int{}}
	res, err := Trace(context.Background(), waysDst.String(), &TraceOptions{Options: Options{sys: w.network()}, MaxHops: 4})
	if err != nil {
		t.Fatalf("Trace: %v", err)
	}
	if res.Method != MethodUDPRecvErr || res.LastHop == nil || res.LastHop.Method != MethodTCPData {
		t.Fatalf("walk by %s, last hop %+v: want a udp-recverr walk and a tcp-data search", res.Method, res.LastHop)
	}
	if res.Tried[0].Skipped == nil || !res.Reached || len(res.Hops) != 2 || res.Hops[0].Addr != waysR1 || res.Hops[1].Addr != waysDst {
		t.Errorf("tried %+v, hops %+v: want Echo skipped, r1 then the target", res.Tried, res.Hops)
	}
}

// A search bounded by the target's own TCP MSS (a PeerLimit TooBig) is a
// lower bound: the event leaves the evidence and nothing counts as
// refused; a router's refusal below that limit stands.
func TestCapAtPeerLimit(t *testing.T) {
	tgt := netip.MustParseAddr("198.18.4.2")
	r1 := netip.MustParseAddr("198.18.1.2")
	peer := wire.Event{Kind: wire.TooBig, From: tgt, MTU: 1340, PeerLimit: true}
	router := wire.Event{Kind: wire.TooBig, From: r1, MTU: 1300, Type: 3, Code: 4}
	tests := []struct {
		name       string
		res        search.Result
		wantCapped bool
		wantHi     mtu.Size
		wantEvents int
		wantByICMP bool
	}{
		{"the MSS stopped it", search.Result{PMTU: 1340, Confirmed: true, Lo: 1340, Hi: 1341, ByICMP: true, LimitingHop: tgt,
			Events: []wire.Event{peer}}, true, 1501, 0, false},
		{"a router refused below the MSS", search.Result{PMTU: 1300, Confirmed: true, Lo: 1300, Hi: 1301, ByICMP: true, LimitingHop: r1,
			Events: []wire.Event{peer, router}}, false, 1301, 2, true},
		{"no MSS limit", search.Result{PMTU: 1500, Confirmed: true, Lo: 1500, Hi: 1501}, false, 1501, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Result{Result: tt.res, Method: MethodTCPData}
			r.capAtPeerLimit(1500)
			if (r.Capped != "") != tt.wantCapped || r.Hi != tt.wantHi || len(r.Events) != tt.wantEvents || r.ByICMP != tt.wantByICMP {
				t.Errorf("capped %q, hi %d, %d events, by ICMP %v; want capped %v, hi %d, %d events, by ICMP %v",
					r.Capped, r.Hi, len(r.Events), r.ByICMP, tt.wantCapped, tt.wantHi, tt.wantEvents, tt.wantByICMP)
			}
			if r.PMTU != tt.res.PMTU || !r.Confirmed {
				t.Errorf("pmtu %d confirmed %v: what came back must stand", r.PMTU, r.Confirmed)
			}
		})
	}
}

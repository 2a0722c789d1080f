package transport

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"github.com/pmtu/pmtu/internal/probetest"
	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/probe/wire"
)

// marshalErrQueue builds the control message a kernel hands recvmsg
// (MSG_ERRQUEUE) for ee, at level and type.
func marshalErrQueue(level, typ int, ee wire.ExtendedErr) []byte {
	return probetest.ErrQueueCmsg(level, typ, probetest.SockExtendedErr{Errno: ee.Errno, Origin: uint8(ee.Origin),
		Type: ee.Type, Code: ee.Code, Info: ee.Info, Data: ee.Data, Offender: ee.Offender})
}

// TestErrQueueEvent goes from the control message bytes and the quoted
// payload a UDP probe socket's error queue returns to the Event: the
// validation of errors without a visible quote.
func TestErrQueueEvent(t *testing.T) {
	type want struct {
		Kind wire.EventKind
		Seq  int
		MTU  mtu.Size
		From netip.Addr
	}
	for _, fam := range []struct {
		name           string
		dst, router    netip.Addr
		level, typ     int
		origin         wire.ErrOrigin
		tooBig, portUn [2]int
		floor          mtu.Size
	}{
		{"ipv4", target4, router4, unix.SOL_IP, unix.IP_RECVERR, wire.OriginICMP, [2]int{3, 4}, [2]int{3, 3}, 68},
		{"ipv6", target6, router6, unix.SOL_IPV6, unix.IPV6_RECVERR, wire.OriginICMP6, [2]int{2, 0}, [2]int{1, 4}, 1280},
	} {
		ipv6 := fam.dst.Is6()
		ee := func(typ [2]int, info uint32, from netip.Addr) wire.ExtendedErr {
			return wire.ExtendedErr{Errno: unix.EMSGSIZE, Origin: fam.origin, Type: typ[0], Code: typ[1], Info: info, Offender: from}
		}
		tests := []struct {
			name    string
			ee      wire.ExtendedErr
			payload func(c *UDPConn) []byte
			want    want
			why     string // substring of Why when wire.Ignored
		}{
			{"too big", ee(fam.tooBig, 1400, fam.router), nil, want{wire.TooBig, 1, 1400, fam.router}, ""},
			{"too big with quoted payload", ee(fam.tooBig, 1400, fam.router),
				func(c *UDPConn) []byte { return wire.ProbeData(c.cookie, 1, 200) }, want{wire.TooBig, 1, 1400, fam.router}, ""},
			{"port unreachable from the target", ee(fam.portUn, 0, fam.dst), nil, want{wire.Reached, 1, 0, fam.dst}, ""},
			{"port unreachable from a router", ee(fam.portUn, 0, fam.router), nil, want{wire.Unreachable, 1, 0, fam.router}, ""},
			{"time exceeded", ee(map[bool][2]int{false: {11, 0}, true: {3, 0}}[ipv6], 0, fam.router), nil, want{wire.TimeExceeded, 1, 0, fam.router}, ""},
			{"mtu not below the probe", ee(fam.tooBig, 1500, fam.router), nil, want{Kind: wire.Ignored}, "not below"},
			{"mtu below the floor", ee(fam.tooBig, uint32(fam.floor-1), fam.router), nil, want{Kind: wire.Ignored}, "below the floor"},
			{"from this host", ee(fam.tooBig, 1400, netip.MustParseAddr(map[bool]string{false: "127.0.0.1", true: "::1"}[ipv6])), nil, want{Kind: wire.Ignored}, "this host"},
			{"no offender", ee(fam.tooBig, 1400, netip.Addr{}), nil, want{Kind: wire.Ignored}, "without the sender"},
			{"local error", wire.ExtendedErr{Errno: unix.EMSGSIZE, Origin: wire.OriginLocal, Info: 1500}, nil, want{Kind: wire.Ignored}, "interface MTU 1500"},
			{"wrong origin", wire.ExtendedErr{Origin: map[bool]wire.ErrOrigin{false: wire.OriginICMP6, true: wire.OriginICMP}[ipv6], Type: 2, Info: 1400, Offender: fam.router}, nil, want{Kind: wire.Ignored}, "origin"},
			{"forged payload", ee(fam.tooBig, 1400, fam.router),
				func(c *UDPConn) []byte { return []byte("not ours at all") }, want{Kind: wire.Ignored}, "cookie"},
			{"another probe's payload", ee(fam.tooBig, 1400, fam.router),
				func(c *UDPConn) []byte { return wire.ProbeData(c.cookie, 7, 40) }, want{Kind: wire.Ignored}, "probe 7, which we never sent"},
			{"no payload quoted", ee(fam.tooBig, 1400, fam.router),
				func(c *UDPConn) []byte { return []byte{} }, want{Kind: wire.Ignored}, "too few to name a probe"},
		}
		for _, tt := range tests {
			t.Run(fam.name+"/"+tt.name, func(t *testing.T) {
				c := newUDPConn(fam.dst, MethodUDPRecvErr, &OpenConfig{Src: fam.dst.Prev()})
				c.fl.add(1, 1500)
				// What Linux routers quote: the whole payload head.
				payload := wire.ProbeData(c.cookie, 1, 40)
				if tt.payload != nil {
					payload = tt.payload(c)
				}
				a := arrival{src: fromErrQueue, seq: 1, b: payload, n: len(payload)}
				a.ee, a.eeErr = wire.ParseErrQueue(marshalErrQueue(fam.level, fam.typ, tt.ee))
				ev := c.classify(a)
				got := want{ev.Kind, ev.Seq, ev.MTU, ev.From}
				if tt.want.Kind == wire.Ignored {
					got = want{Kind: ev.Kind}
				}
				if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
					t.Fatalf("(-want +got): %s(why %q)", diff, ev.Why)
				}
				if !strings.Contains(ev.Why, tt.why) {
					t.Errorf("why %q, want it to say %q", ev.Why, tt.why)
				}
				if ev.Kind == wire.TooBig || ev.Kind == wire.Reached {
					if again := c.classify(a); again.Kind != wire.Ignored || !strings.Contains(again.Why, "duplicate") {
						t.Errorf("the same error again: %v %q, want ignored as a duplicate", again.Kind, again.Why)
					}
				}
			})
		}
	}
	t.Run("probe never sent", func(t *testing.T) {
		c := newUDPConn(target4, MethodUDPRecvErr, nil)
		a := arrival{src: fromErrQueue, seq: -1, b: wire.ProbeData(c.cookie, 3, 40)}
		a.ee = wire.ExtendedErr{Origin: wire.OriginICMP, Type: 3, Code: 4, Info: 1400, Offender: router4}
		if ev := c.classify(a); ev.Kind != wire.Ignored || !strings.Contains(ev.Why, "never sent") {
			t.Errorf("%v %q, want ignored: never sent", ev.Kind, ev.Why)
		}
	})
	t.Run("unparsable control message", func(t *testing.T) {
		c := newUDPConn(target4, MethodUDPRecvErr, nil)
		c.fl.add(1, 1500)
		a := arrival{src: fromErrQueue, seq: 1}
		a.ee, a.eeErr = wire.ParseErrQueue([]byte{1, 2, 3})
		if ev := c.classify(a); ev.Kind != wire.Ignored || !strings.Contains(ev.Why, "error queue") {
			t.Errorf("%v %q, want ignored: error queue", ev.Kind, ev.Why)
		}
	})
}

// FuzzErrQueueEvent: whatever a UDP probe socket's error queue holds,
// the event made of it obeys the rules.
func FuzzErrQueueEvent(f *testing.F) {
	f.Add(marshalErrQueue(unix.SOL_IP, unix.IP_RECVERR, wire.ExtendedErr{Errno: unix.EMSGSIZE, Origin: wire.OriginICMP, Type: 3, Code: 4, Info: 1400, Offender: router4}))
	f.Add(marshalErrQueue(unix.SOL_IPV6, unix.IPV6_RECVERR, wire.ExtendedErr{Errno: unix.EMSGSIZE, Origin: wire.OriginICMP6, Type: 2, Info: 1280, Offender: router6}))
	f.Add(marshalErrQueue(unix.SOL_IP, unix.IP_RECVERR, wire.ExtendedErr{Errno: unix.EMSGSIZE, Origin: wire.OriginLocal, Info: 1500}))
	f.Fuzz(func(t *testing.T, oob []byte) {
		ee, err := wire.ParseErrQueue(oob)
		if err != nil {
			return
		}
		for _, dst := range []netip.Addr{target4, target6} {
			c := newUDPConn(dst, MethodUDPRecvErr, nil)
			c.fl.add(1, 1500)
			ev := c.classify(arrival{src: fromErrQueue, seq: -1, ee: ee, b: wire.ProbeData(c.cookie, 1, 40)})
			if ev.Kind == wire.TooBig && (ev.MTU >= 1500 || (ev.MTU != 0 && ev.MTU < mtu.Floor(dst.Is6())) || (dst.Is6() && ev.MTU == 0)) {
				t.Fatalf("believed MTU %d for a 1500-byte probe to %s", ev.MTU, dst)
			}
			if ev.Kind != wire.Ignored && ev.From.IsLoopback() && ev.From != dst {
				t.Fatalf("believed an error from %s", ev.From)
			}
		}
	})
}

package transport

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/probe/wire"
)

// Addresses of the methods' tests: a router and the target.
var (
	router4 = netip.MustParseAddr("198.18.2.2")
	router6 = netip.MustParseAddr("2001:db8:2::2")
	target4 = netip.MustParseAddr("198.18.3.2")
	target6 = netip.MustParseAddr("2001:db8:3::2")
)

// nopConn is a Conn that does nothing, standing for an opened method.
type nopConn struct{ m Method }

func (nopConn) Send(context.Context, wire.Probe) error { return nil }
func (nopConn) Recv(time.Time) (wire.Event, error)     { return wire.Event{}, ErrTimeout }
func (nopConn) Target() netip.Addr                     { return netip.Addr{} }
func (nopConn) Close() error                           { return nil }

// TestChoose: method selection, with injected answers to "may this
// process open that method's sockets?".
func TestChoose(t *testing.T) {
	rawDenied := fmt.Errorf("%w: %w", errRawForTest, &os.SyscallError{Syscall: "socket", Err: syscall.EPERM})
	pingDenied := &os.SyscallError{Syscall: "socket", Err: syscall.EACCES}
	broken := errors.New("no such device")
	type world map[Method]error // what opening each method returns; absent: it opens
	tests := []struct {
		name  string
		proto Proto
		world world
		want  Method
		tried []Method // methods refused for lack of privilege, in order
		err   string   // substring of the error when none opens
	}{
		{"root: icmp", ProtoICMP, world{}, MethodICMP, nil, ""},
		{"root: udp", ProtoUDP, world{}, MethodUDP, nil, ""},
		{"root: tcp", ProtoTCP, world{}, MethodTCP, nil, ""},
		{"user in ping_group_range: icmp", ProtoICMP, world{MethodICMP: rawDenied}, MethodPing, nil, ""},
		{"user outside ping_group_range: icmp", ProtoICMP, world{MethodICMP: rawDenied, MethodPing: pingDenied}, MethodUDPRecvErr, nil, ""},
		{"user: udp", ProtoUDP, world{MethodUDP: rawDenied}, MethodUDPRecvErr, nil, ""},
		{"user: tcp", ProtoTCP, world{MethodTCP: rawDenied}, MethodTCPData, nil, ""},
		{"user: quic", ProtoQUIC, world{}, MethodQUIC, nil, ""},
		{"nothing at all: icmp", ProtoICMP, world{MethodICMP: rawDenied, MethodPing: pingDenied, MethodUDPRecvErr: os.ErrPermission},
			"", []Method{MethodICMP, MethodPing, MethodUDPRecvErr}, "ping-socket: socket: permission denied"},
		{"another error stops the search", ProtoICMP, world{MethodICMP: rawDenied, MethodPing: broken}, "", nil, "ping-socket probes: no such device"},
		{"an error of the first method stops it too", ProtoUDP, world{MethodUDP: broken}, "", nil, "udp probes: no such device"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opened []Method
			c, m, err := choose(tt.proto, tt.proto.Methods(), func(m Method) (wire.Conn, error) {
				opened = append(opened, m)
				if err := tt.world[m]; err != nil {
					return nil, err
				}
				return nopConn{m}, nil
			})
			if tt.err == "" {
				if err != nil {
					t.Fatalf("error %v", err)
				}
				if m != tt.want || c.(nopConn).m != tt.want {
					t.Fatalf("chose %s, want %s", m, tt.want)
				}
				if opened[len(opened)-1] != tt.want {
					t.Fatalf("opened %v", opened)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("error %v, want one that says %q", err, tt.err)
			}
			var nm *NoMethodError
			if tt.tried == nil {
				if errors.As(err, &nm) {
					t.Fatalf("a NoMethodError for a failure that is not a permission: %v", err)
				}
				return
			}
			if !errors.As(err, &nm) {
				t.Fatalf("%T is not a *NoMethodError", err)
			}
			var tried []Method
			for _, e := range nm.Tried {
				tried = append(tried, e.Method)
			}
			if diff := cmp.Diff(tt.tried, tried); diff != "" {
				t.Errorf("tried (-want +got):\n%s", diff)
			}
			if !IsPermission(err) {
				t.Errorf("IsPermission(%v) = false", err)
			}
		})
	}
}

var errRawForTest = errors.New("raw sockets need root or CAP_NET_RAW")

func TestMethods(t *testing.T) {
	for _, tt := range []struct {
		proto Proto
		want  []Method
		port  int
	}{
		{ProtoICMP, []Method{MethodICMP, MethodPing, MethodUDPRecvErr}, 0},
		{ProtoUDP, []Method{MethodUDP, MethodUDPRecvErr}, 33434},
		{ProtoTCP, []Method{MethodTCP, MethodTCPData}, 443},
		{ProtoQUIC, []Method{MethodQUIC}, 443},
		{"sctp", nil, 0},
	} {
		if diff := cmp.Diff(tt.want, tt.proto.Methods()); diff != "" {
			t.Errorf("%s: (-want +got):\n%s", tt.proto, diff)
		}
		if got := tt.proto.DefaultPort(); got != tt.port {
			t.Errorf("%s: port %d, want %d", tt.proto, got, tt.port)
		}
	}
	for _, m := range AllMethods {
		if m.Proto() == "" || m.Describe() == string(m) {
			t.Errorf("%s: proto %q, description %q", m, m.Proto(), m.Describe())
		}
		if want := m == MethodICMP || m == MethodUDP || m == MethodTCP; m.Privileged() != want {
			t.Errorf("%s: Privileged = %v", m, !want)
		}
	}
	if _, _, err := Open("sctp", target4, nil); err == nil || !strings.Contains(err.Error(), "icmp, udp, tcp, quic") {
		t.Errorf("Open(sctp): %v", err)
	}
}

func TestIsPermission(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{ErrPermission, true},
		{fmt.Errorf("x: %w", &os.SyscallError{Syscall: "socket", Err: syscall.EPERM}), true},
		{&os.SyscallError{Syscall: "socket", Err: syscall.EACCES}, true},
		{os.ErrPermission, true},
		{&os.SyscallError{Syscall: "bind", Err: syscall.EADDRNOTAVAIL}, false},
		{errors.New("permission denied"), false}, // words are not errors
		{nil, false},
	} {
		if got := IsPermission(tt.err); got != tt.want {
			t.Errorf("IsPermission(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

// The ICMP datagram socket's answers: Echo Replies on the socket, errors
// with the quoted Echo Request from its error queue.
func TestPingClassify(t *testing.T) {
	for _, fam := range []struct {
		name        string
		dst, router netip.Addr
		reply, req  byte
		tooBig      [2]int
		origin      wire.ErrOrigin
	}{
		{"ipv4", target4, router4, 0, 8, [2]int{3, 4}, wire.OriginICMP},
		{"ipv6", target6, router6, 129, 128, [2]int{2, 0}, wire.OriginICMP6},
	} {
		hl := mtu.IPHeader(fam.dst.Is6())
		echo := func(c *PingConn, typ byte, id uint16, seq int, n int) []byte {
			b := []byte{typ, 0, 0, 0, byte(id >> 8), byte(id), byte(seq >> 8), byte(seq)}
			return append(b, wire.ProbeData(c.cookie, seq, n)...)
		}
		tooBig := wire.ExtendedErr{Origin: fam.origin, Type: fam.tooBig[0], Code: fam.tooBig[1], Info: 1400, Offender: fam.router}
		tests := []struct {
			name string
			a    func(c *PingConn) arrival
			kind wire.EventKind
			mtu  mtu.Size
			why  string
		}{
			{"echo reply", func(c *PingConn) arrival {
				b := echo(c, fam.reply, 77, 1, 1500-hl-8)
				return arrival{src: fromData, from: fam.dst, b: b, n: len(b)}
			}, wire.Reached, 0, ""},
			{"echo reply cut short", func(c *PingConn) arrival {
				b := echo(c, fam.reply, 77, 1, 1000)
				return arrival{src: fromData, from: fam.dst, b: b, n: len(b)}
			}, wire.Ignored, 0, "bytes for a probe"},
			{"echo reply from elsewhere", func(c *PingConn) arrival {
				b := echo(c, fam.reply, 77, 1, 1500-hl-8)
				return arrival{src: fromData, from: fam.router, b: b, n: len(b)}
			}, wire.Ignored, 0, "not the target"},
			{"echo reply without cookie", func(c *PingConn) arrival {
				b := echo(c, fam.reply, 77, 1, 1500-hl-8)
				b[8] ^= 1
				return arrival{src: fromData, from: fam.dst, b: b, n: len(b)}
			}, wire.Ignored, 0, "cookie"},
			{"echo reply for a seq never sent", func(c *PingConn) arrival {
				b := echo(c, fam.reply, 77, 2, 1500-hl-8)
				return arrival{src: fromData, from: fam.dst, b: b, n: len(b)}
			}, wire.Ignored, 0, "never sent"},
			{"too big", func(c *PingConn) arrival {
				return arrival{src: fromErrQueue, from: fam.router, b: echo(c, fam.req, 77, 1, 500), ee: tooBig}
			}, wire.TooBig, 1400, ""},
			{"too big, header only quoted", func(c *PingConn) arrival {
				return arrival{src: fromErrQueue, from: fam.router, b: echo(c, fam.req, 77, 1, 0), ee: tooBig}
			}, wire.TooBig, 1400, ""},
			{"quote of another identifier", func(c *PingConn) arrival {
				return arrival{src: fromErrQueue, from: fam.router, b: echo(c, fam.req, 78, 1, 0), ee: tooBig}
			}, wire.Ignored, 0, "another program"},
			{"quote of a reply", func(c *PingConn) arrival {
				return arrival{src: fromErrQueue, from: fam.router, b: echo(c, fam.reply, 77, 1, 0), ee: tooBig}
			}, wire.Ignored, 0, "not an Echo Request"},
			{"quote cut below the header", func(c *PingConn) arrival {
				return arrival{src: fromErrQueue, from: fam.router, b: echo(c, fam.req, 77, 1, 0)[:6], ee: tooBig}
			}, wire.Ignored, 0, "less than"},
			{"forged quote", func(c *PingConn) arrival {
				b := echo(c, fam.req, 77, 1, 100)
				b[9] ^= 1
				return arrival{src: fromErrQueue, from: fam.router, b: b, ee: tooBig}
			}, wire.Ignored, 0, "cookie"},
			{"quote of a seq never sent", func(c *PingConn) arrival {
				return arrival{src: fromErrQueue, from: fam.router, b: echo(c, fam.req, 77, 5, 0), ee: tooBig}
			}, wire.Ignored, 0, "never sent"},
		}
		for _, tt := range tests {
			t.Run(fam.name+"/"+tt.name, func(t *testing.T) {
				c := newPingConn(nil, fam.dst, 77, nil)
				c.fl.add(1, 1500)
				ev := c.classify(tt.a(c))
				if ev.Kind != tt.kind || ev.MTU != tt.mtu || !strings.Contains(ev.Why, tt.why) {
					t.Fatalf("got %v MTU %d (%q), want %v MTU %d (%q)", ev.Kind, ev.MTU, ev.Why, tt.kind, tt.mtu, tt.why)
				}
			})
		}
	}
}

package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/pmtu/pmtu/internal/nstest"
	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/netns"
	"github.com/pmtu/pmtu/probe/wire"
)

// testNamespace makes a network namespace of the test's own, with lo up
// and ICMP datagram sockets open to every group, and returns the function
// that runs code there (OpenConfig.Enter). Everything sent in it stays on
// its loopback. It skips the test without CAP_SYS_ADMIN.
func testNamespace(t *testing.T) func(func() error) error {
	t.Helper()
	path := nstest.New(t, func() error {
		if err := nstest.LoopbackUp(); err != nil {
			return err
		}
		// /proc/sys/net is the opening thread's namespace's.
		return os.WriteFile("/proc/sys/net/ipv4/ping_group_range", []byte("0 2147483647"), 0)
	})
	return func(fn func() error) error { return netns.Do(path, fn) }
}

var (
	lo4 = netip.MustParseAddr("127.0.0.1")
	lo6 = netip.MustParseAddr("::1")
)

// sendAll sends one probe of each size and returns the events that come
// back within wait, Ignored ones left out.
func sendAll(t *testing.T, c wire.Conn, sizes []mtu.Size, wait time.Duration) map[int]wire.Event {
	t.Helper()
	for i, s := range sizes {
		if err := c.Send(context.Background(), wire.Probe{Seq: i + 1, Size: s}); err != nil {
			t.Fatalf("Send(%d bytes): %v", s, err)
		}
	}
	got := map[int]wire.Event{}
	deadline := time.Now().Add(wait)
	for len(got) < len(sizes) {
		ev, err := c.Recv(deadline)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			break
		}
		if err != nil {
			t.Fatalf("Recv: %v", err)
		}
		if ev.Kind == wire.Ignored {
			t.Logf("ignored from %s: %s", ev.From, ev.Why)
			continue
		}
		got[ev.Seq] = ev
	}
	return got
}

// wantReached checks that every probe came back Reached from dst.
func wantReached(t *testing.T, got map[int]wire.Event, n int, dst netip.Addr) {
	t.Helper()
	for seq := 1; seq <= n; seq++ {
		ev, ok := got[seq]
		switch {
		case !ok:
			t.Errorf("probe %d: no answer", seq)
		case ev.Kind != wire.Reached || ev.From != dst:
			t.Errorf("probe %d: %v from %s (type %d code %d), want reached from %s", seq, ev.Kind, ev.From, ev.Type, ev.Code, dst)
		}
	}
}

// UDP with IP_RECVERR needs no privilege: a closed loopback port answers
// every probe with Port Unreachable, which the error queue hands back.
func TestUDPRecvErrLoopback(t *testing.T) {
	for _, dst := range []netip.Addr{lo4, lo6} {
		t.Run(dst.String(), func(t *testing.T) {
			port := closedUDPPort(t, dst)
			c, err := OpenMethod(MethodUDPRecvErr, dst, &OpenConfig{Port: port})
			if err != nil {
				t.Skipf("no UDP socket here: %v", err)
			}
			defer c.Close()
			sizes := []mtu.Size{1400, 1280, 1500, 9000}
			wantReached(t, sendAll(t, c, sizes, 2*time.Second), len(sizes), dst)
		})
	}
}

// A target that answers in UDP, echoing the payload's head, proves the
// probe arrived; the server sees
// exactly the size asked for, less the IP and UDP headers.
func TestUDPReplyLoopback(t *testing.T) {
	for _, dst := range []netip.Addr{lo4, lo6} {
		t.Run(dst.String(), func(t *testing.T) {
			srv, err := net.ListenPacket(udpNetwork(dst.Is6()), netip.AddrPortFrom(dst, 0).String())
			if err != nil {
				t.Skipf("no UDP socket here: %v", err)
			}
			defer srv.Close()
			lens, ports := make(chan int, 8), make(chan int, 8)
			go func() {
				buf := make([]byte, 1<<16)
				for {
					n, from, err := srv.ReadFrom(buf)
					if err != nil {
						return
					}
					lens <- n
					ports <- from.(*net.UDPAddr).Port
					// An echo service: the reply carries the probe's
					// payload, which names the probe.
					_, _ = srv.WriteTo(buf[:min(n, 64)], from)
				}
			}()
			c, err := OpenMethod(MethodUDPRecvErr, dst, &OpenConfig{Port: srv.LocalAddr().(*net.UDPAddr).Port})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			sizes := []mtu.Size{1400, 1500}
			wantReached(t, sendAll(t, c, sizes, 2*time.Second), len(sizes), dst)
			// Loopback keeps the order.
			for _, s := range sizes {
				if n, want := <-lens, int(s)-mtu.IPHeader(dst.Is6())-mtu.UDPHeader; n != want {
					t.Errorf("the server read %d bytes, want %d, the payload of a %d-byte probe", n, want, s)
				}
			}
			// Every probe of the conn is one flow: one source port.
			want := int(c.(Flower).Flow().SrcPort)
			for range sizes {
				if p := <-ports; p != want {
					t.Errorf("a probe came from port %d, want the conn's port %d", p, want)
				}
			}
		})
	}
}

// closedUDPPort returns a loopback port nothing listens on (one just
// closed).
func closedUDPPort(t *testing.T, dst netip.Addr) int {
	t.Helper()
	c, err := net.ListenPacket(udpNetwork(dst.Is6()), netip.AddrPortFrom(dst, 0).String())
	if err != nil {
		t.Skipf("no UDP socket here: %v", err)
	}
	port := c.LocalAddr().(*net.UDPAddr).Port
	c.Close()
	return port
}

// Every method, in a namespace of the test's own (root only): each probe
// of each size comes back Reached from the loopback target.
func TestMethodsInNamespace(t *testing.T) {
	enter := testNamespace(t)
	for _, dst := range []netip.Addr{lo4, lo6} {
		for _, m := range []Method{MethodICMP, MethodPing, MethodUDP, MethodUDPRecvErr, MethodTCP} {
			t.Run(fmt.Sprintf("%s/%s", m, dst), func(t *testing.T) {
				cfg := &OpenConfig{Enter: enter}
				if m == MethodUDP || m == MethodUDPRecvErr {
					cfg.Port = 33434
				}
				c, err := OpenMethod(m, dst, cfg)
				if err != nil {
					t.Fatalf("OpenMethod: %v", err)
				}
				defer c.Close()
				sizes := []mtu.Size{1280, 1500, 9000, 1400}
				wantReached(t, sendAll(t, c, sizes, 2*time.Second), len(sizes), dst)
			})
		}
	}
}

// TCP to an open port: the target answers SYN-ACK (and this host's kernel
// resets it); to a closed one, RST. Both prove the size.
func TestTCPOpenPort(t *testing.T) {
	enter := testNamespace(t)
	for _, dst := range []netip.Addr{lo4, lo6} {
		t.Run(dst.String(), func(t *testing.T) {
			var ln net.Listener
			err := enter(func() error {
				var err error
				ln, err = net.Listen("tcp", netip.AddrPortFrom(dst, 0).String())
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			port := ln.Addr().(*net.TCPAddr).Port
			c, err := OpenMethod(MethodTCP, dst, &OpenConfig{Enter: enter, Port: port})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			sizes := []mtu.Size{1500, 1280}
			wantReached(t, sendAll(t, c, sizes, 2*time.Second), len(sizes), dst)
		})
	}
}

// Pinning the source and the interface binds every socket.
func TestPinned(t *testing.T) {
	enter := testNamespace(t)
	for _, m := range []Method{MethodICMP, MethodPing, MethodUDP, MethodUDPRecvErr, MethodTCP} {
		t.Run(string(m), func(t *testing.T) {
			c, err := OpenMethod(m, lo4, &OpenConfig{Enter: enter, Src: lo4, Interface: "lo"})
			if err != nil {
				t.Fatalf("OpenMethod: %v", err)
			}
			defer c.Close()
			wantReached(t, sendAll(t, c, []mtu.Size{1500}, 2*time.Second), 1, lo4)
		})
	}
	if _, err := OpenMethod(MethodUDPRecvErr, lo4, &OpenConfig{Enter: enter, Interface: "no-such-dev0"}); err == nil {
		t.Error("OpenMethod on a missing interface succeeded")
	}
	if _, err := OpenMethod(MethodUDPRecvErr, lo4, &OpenConfig{Enter: enter, Src: lo6}); err == nil {
		t.Error("OpenMethod with an IPv6 source toward IPv4 succeeded")
	}
}

// Open falls back to what the process may use. Run unprivileged, the ICMP
// protocol ends with a method that needs nothing.
func TestOpenFallsBack(t *testing.T) {
	c, m, err := Open(ProtoICMP, lo4, nil)
	if err != nil {
		t.Fatalf("Open(icmp): %v", err)
	}
	defer c.Close()
	if os.Geteuid() == 0 && m != MethodICMP {
		t.Errorf("as root Open(icmp) chose %s", m)
	}
	t.Logf("chose %s", m)
}

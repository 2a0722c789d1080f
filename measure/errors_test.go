package measure

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pmtu/pmtu/probe"
)

// When no method may be used, the error says what would fix it, in
// words: no socket call names.
func TestOpenError(t *testing.T) {
	denied := &os.SyscallError{Syscall: "socket", Err: syscall.EPERM}
	dst := netip.MustParseAddr("198.18.3.2")
	tests := []struct {
		proto probe.Proto
		tried []probe.Method
		want  []string
	}{
		{probe.ProtoTCP, []probe.Method{probe.MethodTCP}, []string{"no way to send tcp probes here: tcp needs raw sockets (root or CAP_NET_RAW)", "setcap cap_net_raw+ep", "--proto udp or icmp"}},
		{probe.ProtoICMP, []probe.Method{probe.MethodICMP, probe.MethodPing, probe.MethodUDPRecvErr},
			[]string{"icmp needs raw sockets", "ping-socket is closed to your groups (net.ipv4.ping_group_range)", "udp-recverr is not permitted", "ping_group_range", "as root"}},
		{probe.ProtoUDP, []probe.Method{probe.MethodUDP, probe.MethodUDPRecvErr}, []string{"udp needs raw sockets", "udp-recverr", "setcap"}},
	}
	for _, tt := range tests {
		t.Run(string(tt.proto), func(t *testing.T) {
			nm := &probe.NoMethodError{Proto: tt.proto}
			for _, m := range tt.tried {
				nm.Tried = append(nm.Tried, probe.MethodError{Method: m, Err: denied})
			}
			err := OpenError(tt.proto, dst, &probe.Options{}, "pmtu", nm)
			if KindOf(err) != CannotProbe {
				t.Fatalf("%v is not CannotProbe", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "socket:") {
				t.Errorf("%q names the socket call", err)
			}
			if !errors.Is(err, syscall.EPERM) {
				t.Errorf("%v does not wrap the underlying error", err)
			}
		})
	}
}

// Other failures to set up the prober say what was wrong and what to do,
// never Go's dial string.
func TestSocketTrouble(t *testing.T) {
	dst := netip.MustParseAddr("2001:db8:3::2")
	dial := func(errno syscall.Errno) error {
		return fmt.Errorf("icmp probes: choosing a source address toward %s: %w", dst,
			&net.OpError{Op: "dial", Net: "udp6", Addr: &net.UDPAddr{IP: dst.AsSlice(), Port: 9},
				Err: os.NewSyscallError("connect", errno)})
	}
	tests := []struct {
		name string
		o    probe.Options
		err  error
		want string
	}{
		{"no route", probe.Options{}, dial(syscall.ENETUNREACH),
			"no route from here to 2001:db8:3::2: see `ip route get 2001:db8:3::2`"},
		{"no route out of the interface", probe.Options{Interface: "veth1"}, dial(syscall.EHOSTUNREACH),
			"no route from here to 2001:db8:3::2 out of --interface veth1: see `ip route get 2001:db8:3::2`"},
		{"source not usable", probe.Options{Source: netip.MustParseAddr("2001:db8:1::9")}, dial(syscall.EADDRNOTAVAIL),
			"cannot send from 2001:db8:1::9 toward 2001:db8:3::2: that source is not usable here; leave out --source to let the kernel choose"},
		{"another errno", probe.Options{}, dial(syscall.EINVAL),
			"cannot probe 2001:db8:3::2: the kernel refused (invalid argument)"},
		{"no errno", probe.Options{}, errors.New("udp probes: probe socket has no UDP address"),
			"cannot probe 2001:db8:3::2: udp probes: probe socket has no UDP address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := OpenError(probe.ProtoICMP, dst, &tt.o, "pmtu", tt.err)
			if KindOf(err) != CannotProbe {
				t.Fatalf("%v is not CannotProbe", err)
			}
			if diff := cmp.Diff(tt.want, err.Error()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestRouteError(t *testing.T) {
	dst := netip.MustParseAddr("198.18.9.9")
	tests := []struct {
		err   error
		netns string
		want  string
	}{
		{fmt.Errorf("route get %s: %w", dst, syscall.ENETUNREACH), "",
			"no route from here to 198.18.9.9: no entry of the routing table reaches it (see `ip route get 198.18.9.9`)"},
		{fmt.Errorf("route get %s: %w", dst, syscall.EHOSTUNREACH), "ci",
			"no route from here to 198.18.9.9 in network namespace ci: its route is marked unreachable (see `ip route get 198.18.9.9`)"},
		{fmt.Errorf("route get %s: %w", dst, syscall.EACCES), "",
			"no route from here to 198.18.9.9: its route is marked prohibit (see `ip route get 198.18.9.9`)"},
		{os.NewSyscallError("recvfrom", syscall.EAGAIN), "",
			"no route from here to 198.18.9.9: resource temporarily unavailable"},
		{errors.New("truncated netlink message"), "",
			"no route from here to 198.18.9.9: the route lookup failed (truncated netlink message)"},
	}
	for _, tt := range tests {
		err := error(&routeError{Dst: dst, Netns: tt.netns, Err: tt.err})
		if diff := cmp.Diff(tt.want, err.Error()); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		if !errors.Is(err, tt.err) {
			t.Errorf("%v does not wrap %v", err, tt.err)
		}
	}
}

package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pmtu/pmtu/probe"
	"github.com/urfave/cli/v2"
)

// parseWith runs an app of the probe flags on args and returns what
// parseProbeOpts made of them.
func parseWith(t *testing.T, args ...string) (probeOpts, error) {
	t.Helper()
	var o probeOpts
	app := &cli.App{
		Name:   "pmtu",
		Flags:  append(newProbeFlags(), &cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}}),
		Writer: io.Discard, ErrWriter: io.Discard,
		Action: func(cCtx *cli.Context) error {
			var err error
			o, err = parseProbeOpts(cCtx, "pmtu")
			return err
		},
	}
	err := app.Run(append([]string{"pmtu"}, args...))
	return o, err
}

type methodFlags struct {
	Proto  probe.Proto
	Port   int
	Iface  string
	Source string
	Netns  string
	Family string
}

func flagsOf(o probeOpts) methodFlags {
	src := ""
	if o.source.IsValid() {
		src = o.source.String()
	}
	return methodFlags{o.proto, o.port, o.iface, src, o.netns, o.family}
}

func TestMethodFlags(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want methodFlags
	}{
		{"defaults", nil, []string{"198.18.0.1"}, methodFlags{Proto: "icmp", Family: "ip"}},
		{"udp", nil, []string{"--proto", "udp", "198.18.0.1"}, methodFlags{Proto: "udp", Family: "ip"}},
		{"TCP in capitals, a port", nil, []string{"--proto", "TCP", "--port", "80", "198.18.0.1"}, methodFlags{Proto: "tcp", Port: 80, Family: "ip"}},
		{"source sets the family", nil, []string{"--source", "2001:db8:1::1", "host"}, methodFlags{Proto: "icmp", Source: "2001:db8:1::1", Family: "ip6"}},
		{"interface and netns", nil, []string{"--interface", "veth1a", "--netns", "ci", "198.18.0.1"},
			methodFlags{Proto: "icmp", Iface: "veth1a", Netns: "ci", Family: "ip"}},
		{"from the environment", map[string]string{"PMTU_PROTO": "tcp", "PMTU_PORT": "8443", "PMTU_NETNS": "ci",
			"PMTU_INTERFACE": "eth0", "PMTU_SOURCE": "198.18.1.1", "PMTU_4": "true"}, []string{"host"},
			methodFlags{Proto: "tcp", Port: 8443, Iface: "eth0", Source: "198.18.1.1", Netns: "ci", Family: "ip4"}},
		{"the command line wins", map[string]string{"PMTU_PROTO": "tcp"}, []string{"--proto", "udp", "host"},
			methodFlags{Proto: "udp", Family: "ip"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			o, err := parseWith(t, tt.args...)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, flagsOf(o)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// The other probe flags read the environment too.
func TestProbeFlagsEnv(t *testing.T) {
	t.Setenv("PMTU_MAX_SIZE", "1400")
	t.Setenv("PMTU_MIN_SIZE", "576")
	t.Setenv("PMTU_TIMEOUT", "250ms")
	t.Setenv("PMTU_TRIES", "5")
	o, err := parseWith(t, "198.18.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if o.maxSize != 1400 || o.minSize != 576 || o.wait.String() != "250ms" || o.tries != 5 {
		t.Errorf("got max %d min %d timeout %v tries %d", o.maxSize, o.minSize, o.wait, o.tries)
	}
	for _, f := range newProbeFlags() {
		if ev, ok := f.(interface{ GetEnvVars() []string }); !ok || len(ev.GetEnvVars()) != 1 ||
			!strings.HasPrefix(ev.GetEnvVars()[0], "PMTU_") {
			t.Errorf("flag %v has no PMTU_ variable", f.Names())
		}
	}
}

// Mistakes in the method flags: one line, exit 2.
func TestMethodUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown proto", []string{"--proto", "sctp", "198.18.0.1"}, `--proto "sctp": want icmp, udp or tcp`},
		{"port with icmp", []string{"--port", "80", "198.18.0.1"}, "--port is for --proto udp and tcp"},
		{"port zero", []string{"--proto", "udp", "--port", "0", "198.18.0.1"}, "--port 0 is outside"},
		{"port too big", []string{"--proto", "tcp", "--port", "65536", "198.18.0.1"}, "--port 65536 is outside"},
		{"bad source", []string{"--source", "nowhere", "198.18.0.1"}, `--source "nowhere" is not an IP address`},
		{"source of the other family", []string{"-4", "--source", "2001:db8::1", "198.18.0.1"}, "not of the family"},
		{"source and host of two families", []string{"--source", "2001:db8::1", "198.18.0.1"}, "not an IPv6 address"},
		{"source not ours", []string{"--source", "198.18.250.250", "198.18.0.1"}, "not an address of this host"},
		{"bad interface name", []string{"--interface", "a/b", "198.18.0.1"}, "not an interface name"},
		{"missing interface", []string{"--interface", "pmtu-nosuch0", "198.18.0.1"}, "--interface pmtu-nosuch0: no such interface"},
		{"missing namespace", []string{"--netns", "pmtu-no-such-ns", "198.18.0.1"}, "--netns pmtu-no-such-ns: no such network namespace"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := runApp(t, append([]string{"--no-cache"}, tt.args...)...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d", code, exitUsage)
			}
			if out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
			lines := strings.Split(strings.TrimSpace(errOut), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], tt.want) || !strings.HasPrefix(lines[0], "pmtu: ") {
				t.Errorf("stderr %q, want one line starting \"pmtu: \" that says %q", errOut, tt.want)
			}
		})
	}
}

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
			var log strings.Builder
			err := openError(tt.proto, dst, probeOpts{log: &log}, nm)
			var ec cli.ExitCoder
			if !errors.As(err, &ec) || ec.ExitCode() != exitUsage {
				t.Fatalf("%v is not an exit %d", err, exitUsage)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "socket:") {
				t.Errorf("%q names the socket call", err)
			}
			if !strings.Contains(log.String(), "socket: operation not permitted") {
				t.Errorf("-v log %q lacks the underlying error", log.String())
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
		o    probeOpts
		err  error
		want string
	}{
		{"no route", probeOpts{}, dial(syscall.ENETUNREACH),
			"pmtu: no route from here to 2001:db8:3::2: see `ip route get 2001:db8:3::2`"},
		{"no route out of the interface", probeOpts{iface: "veth1"}, dial(syscall.EHOSTUNREACH),
			"pmtu: no route from here to 2001:db8:3::2 out of --interface veth1: see `ip route get 2001:db8:3::2`"},
		{"source not usable", probeOpts{source: netip.MustParseAddr("2001:db8:1::9")}, dial(syscall.EADDRNOTAVAIL),
			"pmtu: cannot send from 2001:db8:1::9 toward 2001:db8:3::2: that source is not usable here; leave out --source to let the kernel choose"},
		{"another errno", probeOpts{}, dial(syscall.EINVAL),
			"pmtu: cannot probe 2001:db8:3::2: the kernel refused (invalid argument)"},
		{"no errno", probeOpts{}, errors.New("udp probes: probe socket has no UDP address"),
			"pmtu: cannot probe 2001:db8:3::2: udp probes: probe socket has no UDP address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := openError(probe.ProtoICMP, dst, tt.o, tt.err)
			var ec cli.ExitCoder
			if !errors.As(err, &ec) || ec.ExitCode() != exitUsage {
				t.Fatalf("%v is not an exit %d", err, exitUsage)
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

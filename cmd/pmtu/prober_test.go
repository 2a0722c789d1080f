package main

import (
	"io"
	"strings"
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
		{"unknown proto", []string{"--proto", "sctp", "198.18.0.1"}, `--proto "sctp": want icmp, udp, tcp or quic`},
		{"port with icmp", []string{"--port", "80", "198.18.0.1"}, "--port is for --proto udp, tcp and quic"},
		{"unknown method", []string{"--method", "syn", "198.18.0.1"}, `--method "syn": want one of icmp, ping-socket, udp, udp-recverr, tcp, tcp-data, quic`},
		{"method of another proto", []string{"--proto", "udp", "--method", "tcp-data", "198.18.0.1"}, "--method tcp-data sends tcp probes, not --proto udp"},
		{"port with an icmp method", []string{"--method", "ping-socket", "--port", "80", "198.18.0.1"}, "--port is for --proto udp, tcp and quic"},
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

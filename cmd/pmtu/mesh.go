package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/pmtu/pmtu/mesh"
)

// DefaultMeshListen is where pmtu mesh listens unless --listen says
// otherwise: every address, port 10151 (TCP for /metrics and the page,
// UDP for the responder), next to pmtu serve's 10150.
const DefaultMeshListen = ":10151"

// minKeyLen is the shortest --key-file key taken: 128 bits.
const minKeyLen = 16

func newMeshCommand() *cli.Command {
	return &cli.Command{
		Name:      "mesh",
		Usage:     "run one agent of a mesh: measure the path MTU to every peer, answer the peers' probes, serve /metrics",
		UsageText: "pmtu mesh --peers dns:NAME|file:PATH|ADDR,... [--listen ADDR:PORT] [--interval D] [--key-file F]",
		Description: "pmtu mesh measures this node's outbound path MTU to every peer, exactly: each peer's agent " +
			"acknowledges the probes that arrived, so no ICMP is needed (Fragmentation Needed and Packet Too Big " +
			"still count). It needs no privilege. --listen serves /metrics and a heatmap of the whole mesh at / over " +
			"TCP, and the responder over UDP, on the same port. Peers are re-resolved every --interval; SIGHUP " +
			"measures every peer again at once. It stops cleanly on SIGTERM or Ctrl-C.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "peers", Usage: "the peers: `SPEC` is dns:NAME (every A/AAAA record, e.g. a headless Service), file:PATH (one address a line, re-read on change) or a comma list"},
			&cli.StringFlag{Name: "listen", Value: DefaultMeshListen, Usage: "serve /metrics, / and the responder on `ADDR:PORT` (TCP and UDP); the peers' responders are on the same port"},
			&cli.DurationFlag{Name: "interval", Value: mesh.DefaultInterval, Usage: "measure each peer, and resolve the peers again, every `D`"},
			&cli.StringFlag{Name: "key-file", Usage: "a `FILE` holding the mesh's shared key (at least 16 bytes): probes and answers carry its HMAC-SHA256, and others get no answer"},
			&cli.Float64Flag{Name: "rate", Value: mesh.DefaultRate, Usage: "send at most `N` probes a second, all peers together"},
			&cli.IntFlag{Name: "parallel", Value: mesh.DefaultParallel, Usage: "run at most `N` searches at once"},
		},
		Action:          runMesh,
		HideHelpCommand: true,
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return cli.Exit("pmtu mesh: "+err.Error()+" (see pmtu mesh --help)", exitUsage)
		},
	}
}

// parseMeshFlags checks mesh's flags and returns the agent's options and
// the listen address.
func parseMeshFlags(cCtx *cli.Context) (mesh.Options, string, error) {
	var o mesh.Options
	if cCtx.Args().Len() > 0 {
		return o, "", usageError(fmt.Sprintf("pmtu mesh: no arguments, got %q (peers come from --peers)", cCtx.Args().First()))
	}
	if !cCtx.IsSet("peers") {
		return o, "", usageError("pmtu mesh: --peers SPEC is required: dns:NAME, file:PATH or ADDR,ADDR,...")
	}
	spec, err := mesh.ParseSpec(cCtx.String("peers"))
	if err != nil {
		return o, "", usageError(fmt.Sprintf("pmtu mesh: --peers: %v", err))
	}
	o.Peers = spec
	listen := cCtx.String("listen")
	if host, port, err := net.SplitHostPort(listen); err != nil || port == "" || port == "0" || (host != "" && net.ParseIP(host) == nil) {
		return o, "", usageError(fmt.Sprintf("pmtu mesh: --listen %q: want ADDR:PORT with an address and a fixed port, e.g. %s or 0.0.0.0:10151", listen, DefaultMeshListen))
	}
	o.Interval = cCtx.Duration("interval")
	if o.Interval < time.Second || o.Interval > 24*time.Hour {
		return o, "", usageError(fmt.Sprintf("pmtu mesh: --interval %v is outside 1s–24h", o.Interval))
	}
	if o.Rate = cCtx.Float64("rate"); o.Rate < 1 || o.Rate > 100000 {
		return o, "", usageError(fmt.Sprintf("pmtu mesh: --rate %v is outside 1–100000", o.Rate))
	}
	if o.Parallel = cCtx.Int("parallel"); o.Parallel < 1 || o.Parallel > 1000 {
		return o, "", usageError(fmt.Sprintf("pmtu mesh: --parallel %d is outside 1–1000", o.Parallel))
	}
	if o.Key, err = readKeyFile(cCtx, "pmtu mesh"); err != nil {
		return o, "", err
	}
	return o, listen, nil
}

// readKeyFile reads the mesh's shared key from --key-file, if set: a
// usage error for cmd when it cannot be read or is too short.
func readKeyFile(cCtx *cli.Context, cmd string) ([]byte, error) {
	f := cCtx.String("key-file")
	if f == "" {
		return nil, nil
	}
	b, err := os.ReadFile(f)
	if err != nil {
		return nil, usageError(fmt.Sprintf("%s: --key-file: %v", cmd, err))
	}
	b = bytes.TrimRight(b, "\r\n")
	if len(b) < minKeyLen {
		return nil, usageError(fmt.Sprintf("%s: --key-file %s holds %d bytes, want at least %d (e.g. head -c 32 /dev/urandom | base64 > %s)", cmd, f, len(b), minKeyLen, f))
	}
	return b, nil
}

// runMesh is `pmtu mesh`.
func runMesh(cCtx *cli.Context) error {
	o, listen, err := parseMeshFlags(cCtx)
	if err != nil {
		return err
	}
	ew := cCtx.App.ErrWriter
	w := worldOf(cCtx)
	o.Resolve = func(ctx context.Context, host string) ([]netip.Addr, error) { return w.lookupHost(ctx, "ip", host) }
	o.Logf = func(format string, args ...any) {
		fmt.Fprintf(ew, "%s pmtu mesh: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
	}
	a, err := mesh.New(o)
	if err != nil {
		return usageError("pmtu mesh: " + err.Error())
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return cli.Exit(fmt.Sprintf("pmtu mesh: %v", err), exitUsage)
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for range hup {
			o.Logf("SIGHUP: measuring every peer again")
			a.Trigger()
		}
	}()
	keyed := "no key: any peer's probe is answered"
	if o.Key != nil {
		keyed = "keyed: only probes with the key's HMAC are answered"
	}
	fmt.Fprintf(ew, "pmtu mesh: listening on http://%s/ and udp %s; peers %s every %v; %s\n", ln.Addr(), ln.Addr(), o.Peers, o.Interval, keyed)
	if err := a.Run(cCtx.Context, ln); err != nil {
		msg := err.Error()
		if strings.Contains(msg, "address already in use") || strings.Contains(msg, "permission denied") {
			return cli.Exit("pmtu mesh: "+msg, exitUsage)
		}
		return cli.Exit("pmtu mesh: "+msg, exitNoAnswer)
	}
	fmt.Fprintln(ew, "pmtu mesh: shut down")
	return nil
}

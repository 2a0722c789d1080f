package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"
)

// Exit codes, documented in --help and README.md.
const (
	exitOK        = 0 // the path MTU was found
	exitNoAnswer  = 1 // no reply, or the host is unreachable
	exitUsage     = 2 // bad input, or no permission
	exitAssertion = 3 // --expect or --at-least failed
)

const exitCodesHelp = `EXIT CODES:
   0  the path MTU was found (and every assertion held)
   1  no answer, or the host is unreachable (an ICMP error said why)
   2  usage error, unknown host, a target with no path MTU (0.0.0.0,
      broadcast, multicast, fe80:: without %zone), or no permission
      for raw sockets
   3  an assertion (--expect, --at-least) failed; pmtu check: something
      on the path breaks big packets
   With many hosts: 3 if any assertion failed, else 2 if any line or name
   was bad, else 1 if any host had no answer (or Ctrl-C), else 0.`

// newApp builds the command line, acting on w (nil: this host's kernel).
// Output goes to stdout and stderr.
func newApp(w *world, stdout, stderr io.Writer) *cli.App {
	if w == nil {
		w = kernelWorld
	}
	app := &cli.App{
		Metadata:  map[string]any{"world": w},
		Name:      "pmtu",
		Usage:     "find the path MTU to a host, the hop that limits it, and the TCP MSS to use",
		UsageText: "pmtu [flags] HOST\npmtu [flags] HOST HOST...\npmtu [flags] -f FILE\npmtu trace [flags] HOST\npmtu profile [flags] HOST\npmtu check [flags] HOST\npmtu watch [flags] HOST...\npmtu serve [flags]\npmtu mesh --peers SPEC [flags]\npmtu cache list|flush [HOST]\npmtu version [--json]",
		Description: "pmtu sends probes that may not be fragmented (DF set), sized by a binary search " +
			"between the protocol's floor and the egress interface MTU, and believes only ICMP " +
			"that quotes a probe it sent. Flags go before HOST. With many hosts (or -f FILE) it searches " +
			"--parallel of them at once and prints one line (or JSON object) per host as it ends, then a summary.",
		Flags:  newFindFlags(),
		Action: findOrVersion,
		Commands: []*cli.Command{newCacheCommand(), newTraceCommand(), newProfileCommand(), newCheckCommand(), newWatchCommand(), newServeCommand(), newMeshCommand(),
			newVersionCommand(), newGendocCommand()},
		Writer:                stdout,
		ErrWriter:             stderr,
		HideHelpCommand:       true,
		CustomAppHelpTemplate: cli.AppHelpTemplate + "\n" + exitCodesHelp + "\n",
		ExitErrHandler:        func(*cli.Context, error) {}, // run decides the exit
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return cli.Exit("pmtu: "+err.Error()+" (see pmtu --help)", exitUsage)
		},
	}
	app.Flags = append(app.Flags, &cli.StringFlag{
		Name:        "cache-file",
		Usage:       "the cache `FILE`",
		DefaultText: "$XDG_CACHE_HOME/pmtu/cache.json",
	}, newVersionFlag())
	return app
}

// findOrVersion is the root's action: pmtu --version, or pmtu HOST.
func findOrVersion(cCtx *cli.Context) error {
	if cCtx.Bool("version") {
		return printVersion(cCtx.App.Writer, cCtx.Bool("json"))
	}
	return find(cCtx)
}

// run runs the app on w (nil: this host's kernel) and returns the exit
// code. Errors are printed as one line on stderr.
func run(ctx context.Context, w *world, args []string, stdout, stderr io.Writer) int {
	err := newApp(w, stdout, stderr).RunContext(ctx, args)
	if err == nil {
		return exitOK
	}
	code := exitUsage
	var ec cli.ExitCoder
	if errors.As(err, &ec) {
		code = ec.ExitCode()
	}
	if msg := strings.TrimSpace(err.Error()); msg != "" {
		if !strings.HasPrefix(msg, "pmtu") {
			msg = "pmtu: " + msg
		}
		fmt.Fprintln(stderr, msg)
	}
	return code
}

//go:build linux

// Command pmtu finds the path MTU to a host: the largest packet that crosses
// the path unfragmented, the hop that limits it, and the TCP MSS to use.
// It supports Linux only; elsewhere it says so and exits 2.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, kernelWorld, os.Args, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

package main

import (
	"fmt"
	"io"
)

// unsupported is pmtu off Linux: the probe sockets need Linux's socket
// options (probe mode, IP_RECVERR, ICMP datagram sockets), so it says so
// in one line and exits 2 (main_other.go).
func unsupported(stderr io.Writer) int {
	fmt.Fprintln(stderr, "pmtu supports Linux only")
	return exitUsage
}

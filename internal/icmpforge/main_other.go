//go:build !linux

// Command icmpforge forges ICMP for pmtu's namespace tests; it reads
// AF_PACKET sockets, so it exists only on Linux.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "icmpforge supports Linux only")
	os.Exit(2)
}

package ecmp_test

import (
	"fmt"

	"github.com/pmtu/pmtu/probe/ecmp"
)

func ExampleMissBound() {
	k, miss := ecmp.MissBound(16, 0.05)
	fmt.Printf("16 flows miss a branch carrying 1/%d of them with probability %.1f%%\n", k, 100*miss)
	fmt.Printf("MDA: %d flows rule out a third branch\n", ecmp.StopAt(2, 0.05))
	// Output:
	// 16 flows miss a branch carrying 1/5 of them with probability 2.8%
	// MDA: 11 flows rule out a third branch
}

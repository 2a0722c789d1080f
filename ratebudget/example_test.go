package ratebudget_test

import (
	"context"
	"fmt"
	"time"

	"github.com/pmtu/pmtu/ratebudget"
)

// One budget for every sender of a run: 1000 packets a second, 20 at once.
func ExampleBucket_Wait() {
	b, err := ratebudget.New(1000, 20, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	start := time.Now()
	for range 40 {
		if err := b.Wait(context.Background()); err != nil {
			fmt.Println(err)
			return
		}
		// send one packet here
	}
	// 20 went at once; the other 20 waited for a token each, 1 ms apart.
	fmt.Println(time.Since(start) >= 19*time.Millisecond)
	// Output: true
}

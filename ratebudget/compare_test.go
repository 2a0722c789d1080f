package ratebudget

import (
	"context"
	"testing"

	"golang.org/x/time/rate"

	"github.com/pmtu/pmtu/probe"
)

// BenchmarkWait compares this bucket with golang.org/x/time/rate, which
// replaces it, at pmtu's highest --rate (1e6 a second, burst 20000 as
// cmd/pmtu sets it; run it with -benchtime 2000000x so that the burst is
// a small part): one sender, and every CPU sending at once. probe.Pace
// is rate.Limiter.Wait as Options.Pace calls it. BenchmarkWaitCost is
// the same at a rate no sender reaches: what a token costs.
func BenchmarkWait(b *testing.B) { benchmarkWait(b, 1e6, 20000) }

func BenchmarkWaitCost(b *testing.B) { benchmarkWait(b, 1e15, 1<<30) }

func benchmarkWait(b *testing.B, pps float64, burst int) {
	ctx := context.Background()
	waits := []struct {
		name string
		new  func() func(context.Context) error
	}{
		{"ratebudget", func() func(context.Context) error {
			bk, err := New(pps, burst, nil)
			if err != nil {
				b.Fatal(err)
			}
			return bk.Wait
		}},
		{"x-time-rate", func() func(context.Context) error { return rate.NewLimiter(rate.Limit(pps), burst).Wait }},
		{"probe.Pace", func() func(context.Context) error { return probe.Pace(rate.NewLimiter(rate.Limit(pps), burst)) }},
	}
	for _, w := range waits {
		b.Run(w.name, func(b *testing.B) {
			wait := w.new()
			b.ReportAllocs()
			for b.Loop() {
				if err := wait(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(w.name+"/parallel", func(b *testing.B) {
			wait := w.new()
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := wait(ctx); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

package ratelimit

import (
	"testing"
	"time"
)

func TestBucket(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	tests := []struct {
		name  string
		empty bool
		asks  []int // times of Allow, in ms
		want  []bool
	}{
		{"burst then one a second", false, []int{0, 0, 0, 0, 0, 0, 0, 500, 1000, 1000}, []bool{true, true, true, true, true, true, false, false, true, false}},
		{"starts empty", true, []int{0, 999, 1000}, []bool{false, false, true}},
		{"refills to the burst only", false, []int{0, 60000, 60000, 60000, 60000, 60000, 60000, 60000}, []bool{true, true, true, true, true, true, true, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBucket(Linux)
			if tt.empty {
				b.Empty(at(0))
			}
			for i, ms := range tt.asks {
				if got := b.Allow(at(ms)); got != tt.want[i] {
					t.Fatalf("ask %d at %d ms: %v, want %v", i, ms, got, tt.want[i])
				}
			}
		})
	}
}

func TestReadyAt(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	b := NewBucket(Linux)
	if got := b.ReadyAt(t0); !got.Equal(t0) {
		t.Fatalf("a full bucket is ready at %v, want now %v", got, t0)
	}
	b.Empty(t0)
	b.Spend(t0) // an answer sent anyway does not go below zero
	if got, want := b.ReadyAt(t0.Add(250*time.Millisecond)), t0.Add(time.Second); !got.Equal(want) {
		t.Errorf("empty bucket ready at %v, want %v", got, want)
	}
}

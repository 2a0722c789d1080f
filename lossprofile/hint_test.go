package lossprofile

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pmtu/pmtu/mtu"
)

func TestSuspects(t *testing.T) {
	counts := []Count{{Size: 1280, Sent: 1}, {Size: 1380, Sent: 1, Lost: 1}, {Size: 1400, Sent: 1, Lost: 1}, {Size: 1420, Sent: 1, Lost: 1},
		{Size: 1440, Sent: 1}, {Size: 1450, Sent: 3}, {Size: 1460, Sent: 3, Lost: 3}, {Size: 1500, Sent: 3, Lost: 3}}
	if diff := cmp.Diff([]mtu.Size{1420, 1400}, Suspects(counts, 1450, 2)); diff != "" {
		t.Errorf("suspects (-want +got):\n%s", diff)
	}
	if got := Suspects(counts[:2], 1450, 4); len(got) != 1 {
		t.Errorf("suspects %v, want [1380]", got)
	}
}

func TestHint(t *testing.T) {
	tests := []struct {
		name     string
		suspects []Count
		control  Count
		want     Window
		ok       bool
	}{
		{
			name:     "window 1400-1420: lost every time, the control never",
			suspects: []Count{{Size: 1420, Sent: 3, Lost: 3}, {Size: 1400, Sent: 3, Lost: 3}},
			control:  Count{Size: 1450, Sent: 6},
			want:     Window{From: 1400, To: 1420, Loss: 1}, ok: true,
		},
		{
			name:     "one lost probe is not a window",
			suspects: []Count{{Size: 1400, Sent: 1, Lost: 1}},
			control:  Count{Size: 1450, Sent: 3},
		},
		{
			name:     "lost once, then passing: loss",
			suspects: []Count{{Size: 1400, Sent: 3, Lost: 1}, {Size: 1380, Sent: 3, Lost: 1}},
			control:  Count{Size: 1450, Sent: 6},
		},
		{
			name: "half of everything lost, the control too: loss",
			suspects: []Count{{Size: 1300, Sent: 3, Lost: 2}, {Size: 1380, Sent: 3, Lost: 1}, {Size: 1400, Sent: 3, Lost: 2},
				{Size: 1420, Sent: 3, Lost: 2}},
			control: Count{Size: 1450, Sent: 6, Lost: 3},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, ok := Hint(tt.suspects, tt.control)
			if ok != tt.ok {
				t.Fatalf("Hint = %+v, %v; want ok %v", w, ok, tt.ok)
			}
			if diff := cmp.Diff(tt.want, w); diff != "" {
				t.Errorf("window (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBinomTail(t *testing.T) {
	tests := []struct {
		k, n int
		p    float64
		want float64
	}{
		{0, 5, 0.3, 1},
		{2, 2, 0.5, 0.25},
		{1, 3, 0.1, 1 - 0.9*0.9*0.9},
		{3, 10, 0.03, 0.0027649},
	}
	for _, tt := range tests {
		if got := binomTail(tt.k, tt.n, tt.p); math.Abs(got-tt.want) > 1e-5 {
			t.Errorf("binomTail(%d, %d, %v) = %v, want %v", tt.k, tt.n, tt.p, got, tt.want)
		}
	}
}

package mtu

import "testing"

func TestFloorMSS(t *testing.T) {
	tests := []struct {
		name  string
		s     Size
		ipv6  bool
		floor Size
		mss   int
	}{
		{"ipv4 1500", 1500, false, 68, 1460},
		{"ipv6 1500", 1500, true, 1280, 1440},
		{"ipv4 floor", 68, false, 68, 28},
		{"too small for tcp", 50, true, 1280, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Floor(tt.ipv6); got != tt.floor {
				t.Errorf("Floor(%v) = %d, want %d", tt.ipv6, got, tt.floor)
			}
			if got := MSS(tt.s, tt.ipv6); got != tt.mss {
				t.Errorf("MSS(%d, %v) = %d, want %d", tt.s, tt.ipv6, got, tt.mss)
			}
		})
	}
}

func TestPlateausDescend(t *testing.T) {
	for i := 1; i < len(Plateaus); i++ {
		if Plateaus[i] >= Plateaus[i-1] {
			t.Fatalf("Plateaus[%d] = %d is not below %d", i, Plateaus[i], Plateaus[i-1])
		}
	}
	if Plateaus[0] != Max || Plateaus[len(Plateaus)-1] != MinIPv4 {
		t.Errorf("Plateaus run %d..%d, want %d..%d", Plateaus[0], Plateaus[len(Plateaus)-1], Max, MinIPv4)
	}
}

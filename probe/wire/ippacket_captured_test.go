package wire

import (
	"os"
	"testing"
)

// TestCapturedCheckPackets reads what real Linux routers and a real target
// sent pmtu check (testdata/ip/README): r1 and r2 quote the SYN with the
// MSS sent, r3 with the 1300 r2 rewrote it to, and the SYN-ACK carries
// 1300.
func TestCapturedCheckPackets(t *testing.T) {
	for _, tt := range []struct {
		file string
		mss  int  // the MSS the quote or segment shows
		te   bool // a Time Exceeded (else a SYN-ACK)
	}{
		{"v4-time-exceeded-syn-r1.bin", 1460, true},
		{"v4-time-exceeded-syn-r2.bin", 1460, true},
		{"v4-time-exceeded-syn-r3.bin", 1300, true},
		{"v6-time-exceeded-syn-r1.bin", 1440, true},
		{"v6-time-exceeded-syn-r2.bin", 1440, true},
		{"v6-time-exceeded-syn-r3.bin", 1300, true},
		{"v4-syn-ack-mss1300.bin", 1300, false},
		{"v6-syn-ack-mss1300.bin", 1300, false},
	} {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile("testdata/ip/" + tt.file)
			if err != nil {
				t.Fatal(err)
			}
			p, err := ParseIP(b)
			if err != nil {
				t.Fatal(err)
			}
			seg := p.Payload
			if tt.te {
				m, err := ParseMessage(p.Payload, p.IPv6())
				if err != nil {
					t.Fatal(err)
				}
				if !m.IsError() || m.Quote.Proto != ProtoTCP {
					t.Fatalf("not an error quoting TCP: %+v", m)
				}
				seg = m.Quote.Transport
			}
			got, err := ParseTCPMSS(seg)
			if err != nil {
				t.Fatal(err)
			}
			if want := (TCPMSS{Visible: true, Present: true, MSS: tt.mss}); got != want {
				t.Errorf("ParseTCPMSS = %+v, want %+v", got, want)
			}
		})
	}
	for _, f := range []string{"v4-echo-first-fragment.bin", "v4-echo-last-fragment.bin", "v4-echo-reply-fragment.bin",
		"v6-echo-fragment-0.bin", "v6-echo-fragment-1.bin", "v6-echo-reply-fragment.bin"} {
		b, err := os.ReadFile("testdata/ip/" + f)
		if err != nil {
			t.Fatal(err)
		}
		p, err := ParseIP(b)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if !p.Fragment || p.Proto != ICMPProto(p.IPv6()) {
			t.Errorf("%s: not an ICMP fragment: %+v", f, p)
		}
	}
}

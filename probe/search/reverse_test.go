package search

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pmtu/pmtu/mtu"
)

func TestReturnsBounds(t *testing.T) {
	type reply struct {
		size, frag mtu.Size
		lost       bool
	}
	tests := []struct {
		name    string
		replies []reply
		want    ReturnBounds
	}{
		{"nothing came back", nil, ReturnBounds{Evidence: ReturnUnknown}},
		{"whole replies: the largest is carried, no upper bound",
			[]reply{{size: 1200}, {size: 1500}, {size: 1400}},
			ReturnBounds{Min: 1500, Evidence: ReturnWhole}},
		{"a frag size equal to the reply is a whole reply",
			[]reply{{size: 1400, frag: 1400}},
			ReturnBounds{Min: 1400, Evidence: ReturnWhole}},
		// IPv4, measured: a 1400-byte reply over a 1300 return link came
		// in a 1300-byte first fragment.
		{"IPv4 1400 over a 1300 link: 1300..1307",
			[]reply{{size: 1400, frag: 1300}},
			ReturnBounds{Min: 1300, Max: 1307, Evidence: ReturnFragmented}},
		// IPv6, measured: the target cut it at 1296 (1248 bytes behind
		// 40 + 8 of headers) after a Packet Too Big naming 1300.
		{"IPv6 1400 over a 1300 link: 1296..1303",
			[]reply{{size: 1400, frag: 1296}},
			ReturnBounds{Min: 1296, Max: 1303, Evidence: ReturnFragmented}},
		{"a reply just above the link: the reply bounds it, not frag+7",
			[]reply{{size: 1302, frag: 1300}},
			ReturnBounds{Min: 1300, Max: 1301, Evidence: ReturnFragmented}},
		{"whole replies below the fragmented ones raise nothing above the fragment",
			[]reply{{size: 1200}, {size: 1500, frag: 1300}, {size: 1400, frag: 1300}, {size: 1280}},
			ReturnBounds{Min: 1300, Max: 1307, Evidence: ReturnFragmented}},
		{"a whole reply inside the fragment's range raises the floor",
			[]reply{{size: 1500, frag: 1300}, {size: 1304}},
			ReturnBounds{Min: 1304, Max: 1307, Evidence: ReturnFragmented}},
		{"fragments of different replies: the tightest",
			[]reply{{size: 1500, frag: 1300}, {size: 1350, frag: 1300}},
			ReturnBounds{Min: 1300, Max: 1307, Evidence: ReturnFragmented}},
		{"a whole reply above the fragments: the path changed, the later proof stands",
			[]reply{{size: 1500, frag: 1300}, {size: 1500}},
			ReturnBounds{Min: 1500, Evidence: ReturnWhole}},
		{"replies lost on the way back: below the lost size",
			[]reply{{size: 1300}, {size: 1301, lost: true}},
			ReturnBounds{Min: 1300, Max: 1300, Evidence: ReturnLost}},
		{"a loss above a fragment bound changes nothing",
			[]reply{{size: 1400, frag: 1300}, {size: 1450, lost: true}},
			ReturnBounds{Min: 1300, Max: 1307, Evidence: ReturnFragmented}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Returns
			for _, rp := range tt.replies {
				if rp.lost {
					r.Lost(rp.size)
				} else {
					r.Reply(rp.size, rp.frag)
				}
			}
			if diff := cmp.Diff(tt.want, r.Bounds()); diff != "" {
				t.Errorf("Bounds (-want +got):\n%s", diff)
			}
		})
	}
}

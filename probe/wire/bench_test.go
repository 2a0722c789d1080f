package wire

import (
	"os"
	"path/filepath"
	"testing"
)

// A router quoting 548 bytes, as Linux does: the parser's common case.
func BenchmarkParseFragNeeded(b *testing.B) {
	pkt, err := os.ReadFile(filepath.Join("testdata", "packets", "v4-frag-needed-1400.bin"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(pkt)))
	for b.Loop() {
		if _, err := ParseMessage(pkt, false); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseMPLSTimeExceeded: a Time Exceeded from an MPLS router, its
// extensions read by x/net/icmp.
func BenchmarkParseMPLSTimeExceeded(b *testing.B) {
	pkt := withStructure(b, structure(object(classMPLS, 1, mplsEntry(16001, 0, true, 1))))
	b.ReportAllocs()
	for b.Loop() {
		if m, err := ParseMessage(pkt, false); err != nil || m.Ext == nil {
			b.Fatal(m, err)
		}
	}
}

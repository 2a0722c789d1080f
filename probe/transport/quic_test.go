package transport

import (
	"strings"
	"testing"

	"github.com/pmtu/pmtu/probe/wire"
)

// vnFor builds the Version Negotiation a server sends for a probe that
// carried dcid and scid.
func vnFor(dcid, scid []byte) []byte {
	b := []byte{0x80 | 0x2a, 0, 0, 0, 0, byte(len(scid))}
	b = append(b, scid...)
	b = append(b, byte(len(dcid)))
	b = append(b, dcid...)
	return append(b, 0, 0, 0, 1)
}

// TestQUICShape matches answers and quotes to probes by the connection
// IDs they carry.
func TestQUICShape(t *testing.T) {
	q := newQUICShape([8]byte{1, 2, 3, 4, 5, 6, 7, 8})
	if !wire.QUICReservedVersion(q.version) {
		t.Fatalf("version %#08x is not reserved", q.version)
	}
	probe, err := q.probe(42, 1200)
	if err != nil || len(probe) != 1200 {
		t.Fatalf("probe: %d bytes, %v", len(probe), err)
	}
	other := newQUICShape([8]byte{8, 7, 6, 5, 4, 3, 2, 1})
	otherProbe, _ := other.probe(42, 1200)
	tests := []struct {
		name    string
		read    func([]byte) (int, string)
		b       []byte
		wantSeq int
		why     string // substring when not matched
	}{
		{"version negotiation", q.answer, vnFor(q.cookie[:], q.scid(42)), 42, ""},
		{"another conn's version negotiation", q.answer, vnFor(other.cookie[:], other.scid(42)), 0, "without our connection IDs"},
		{"IDs not swapped", q.answer, vnFor(q.scid(42), q.cookie[:]), 0, "without our connection IDs"},
		{"a probe echoed back", q.answer, probe, 0, "not a Version Negotiation"},
		{"garbage", q.answer, []byte("HTTP/1.1 400"), 0, "not a QUIC"},
		{"quote of a probe", q.quoted, probe[:64], 42, ""},
		{"quote cut after the IDs", q.quoted, probe[:wire.QUICProbeHeader], 42, ""},
		{"quote of another conn's probe", q.quoted, otherProbe[:64], 0, "not ours"},
		{"quote cut in the IDs", q.quoted, probe[:10], 0, "connection ID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seq, why := tt.read(tt.b)
			if tt.why == "" {
				if why != "" || seq != tt.wantSeq {
					t.Fatalf("seq %d, %q; want %d", seq, why, tt.wantSeq)
				}
				return
			}
			if !strings.Contains(why, tt.why) {
				t.Fatalf("why %q, want it to say %q", why, tt.why)
			}
		})
	}
}

func FuzzQUICAnswer(f *testing.F) {
	q := newQUICShape([8]byte{1, 2, 3, 4, 5, 6, 7, 8})
	f.Add(vnFor(q.cookie[:], q.scid(7)))
	p, _ := q.probe(7, 100)
	f.Add(p)
	f.Fuzz(func(t *testing.T, b []byte) {
		seq, why := q.answer(b)
		if why == "" {
			// Only a Version Negotiation naming our IDs is an answer.
			vn, err := wire.ParseVersionNegotiation(b)
			if err != nil || string(vn.DCID) != string(q.scid(seq)) || string(vn.SCID) != string(q.cookie[:]) {
				t.Fatalf("accepted %x as an answer to %d", b, seq)
			}
		}
		_, _ = q.quoted(b)
	})
}

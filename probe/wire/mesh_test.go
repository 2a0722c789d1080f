package wire

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var (
	meshKey   = []byte("the mesh's shared key")
	meshNonce = MeshNonce{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	meshSent  = time.Unix(1700000000, 123456789)
)

func TestMeshRoundTrip(t *testing.T) {
	for _, tt := range []struct {
		name string
		n    int
		key  []byte
	}{
		{"bare header", MeshHeaderLen, nil},
		{"1472 bytes, a 1500-byte IPv4 packet", 1472, nil},
		{"keyed header", MeshHeaderLen + MeshMACLen, meshKey},
		{"keyed 1422", 1422, meshKey},
	} {
		t.Run(tt.name, func(t *testing.T) {
			want := MeshMessage{Kind: MeshProbe, Nonce: meshNonce, Sent: meshSent, Size: uint32(tt.n + 28), Keyed: tt.key != nil}
			b, err := MarshalMeshProbe(want, tt.n, tt.key)
			if err != nil {
				t.Fatal(err)
			}
			if len(b) != tt.n {
				t.Fatalf("probe is %d bytes, want %d", len(b), tt.n)
			}
			got, err := ParseMesh(b)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("probe (-want +got):\n%s", diff)
			}
			if tt.key != nil != VerifyMeshMAC(b, meshKey) {
				t.Errorf("VerifyMeshMAC = %v, want %v", !(tt.key != nil), tt.key != nil)
			}
			ack := MarshalMeshAck(got, len(b), tt.key)
			if len(ack) > len(b) {
				t.Errorf("ack of %d bytes for a probe of %d: amplification", len(ack), len(b))
			}
			a, err := ParseMesh(ack)
			if err != nil {
				t.Fatal(err)
			}
			wantAck := MeshMessage{Kind: MeshAck, Nonce: meshNonce, Sent: meshSent, Size: uint32(tt.n), Keyed: tt.key != nil}
			if diff := cmp.Diff(wantAck, a); diff != "" {
				t.Errorf("ack (-want +got):\n%s", diff)
			}
			if tt.key != nil && !VerifyMeshMAC(ack, tt.key) {
				t.Error("the ack's MAC does not verify")
			}
		})
	}
}

// TestMeshMAC: any change to a keyed datagram, in the header or the
// padding, or another key, fails the MAC.
func TestMeshMAC(t *testing.T) {
	b, err := MarshalMeshProbe(MeshMessage{Nonce: meshNonce, Sent: meshSent, Size: 1400}, 1372, meshKey)
	if err != nil {
		t.Fatal(err)
	}
	if !VerifyMeshMAC(b, meshKey) {
		t.Fatal("a fresh probe does not verify")
	}
	if VerifyMeshMAC(b, []byte("another key")) {
		t.Error("verifies with another key")
	}
	for _, i := range []int{0, 8, 23, 30, 35, 36, 67, 68, 1000, 1371} {
		c := bytes.Clone(b)
		c[i] ^= 0x40
		if VerifyMeshMAC(c, meshKey) {
			t.Errorf("byte %d flipped: still verifies", i)
		}
	}
	unkeyed, _ := MarshalMeshProbe(MeshMessage{Nonce: meshNonce}, 1372, nil)
	if VerifyMeshMAC(unkeyed, meshKey) {
		t.Error("an unkeyed probe verifies")
	}
}

func TestParseMeshErrors(t *testing.T) {
	probe, _ := MarshalMeshProbe(MeshMessage{Nonce: meshNonce}, 100, nil)
	keyed, _ := MarshalMeshProbe(MeshMessage{Nonce: meshNonce}, 100, meshKey)
	ack := MarshalMeshAck(MeshMessage{Nonce: meshNonce}, 100, nil)
	set := func(b []byte, i int, v byte) []byte { c := bytes.Clone(b); c[i] = v; return c }
	for _, tt := range []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrMeshShort},
		{"35 bytes", probe[:35], ErrMeshShort},
		{"bad magic", set(probe, 0, 'X'), ErrMeshMagic},
		{"version 2", set(probe, 4, 2), ErrMeshVersion},
		{"kind 3", set(probe, 5, 3), ErrMeshKind},
		{"keyed flag, no room for the MAC", set(probe[:50], 6, 1), ErrMeshShort},
		{"ack with padding", append(bytes.Clone(ack), 0), ErrMeshLong},
		{"keyed probe cut at the MAC", keyed[:60], ErrMeshShort},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseMesh(tt.b); !errors.Is(err, tt.want) {
				t.Errorf("ParseMesh = %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := MarshalMeshProbe(MeshMessage{}, MeshHeaderLen+10, meshKey); !errors.Is(err, ErrSize) {
		t.Errorf("a keyed probe of %d bytes: %v, want ErrSize", MeshHeaderLen+10, err)
	}
}

// TestMeshShape: a probe asks for a shaped acknowledgement, the shape
// survives the round trip, keyed or not, and the acknowledgement a
// responder rebuilds without its header says so and still verifies.
func TestMeshShape(t *testing.T) {
	for _, tt := range []struct {
		name   string
		n      int // the probe's UDP payload
		key    []byte
		shape  MeshShape
		ackLen int // the shaped acknowledgement's UDP payload
	}{
		{"hop-by-hop, small", 40, nil, MeshShape{Header: MeshHopByHop, Size: 92}, 36},
		{"destination options at 1500", 1452, nil, MeshShape{Header: MeshDstOpts, Size: 1500}, 1444},
		{"no header, keyed, 1280", 1232, meshKey, MeshShape{Size: 1280}, 1232},
		{"hop-by-hop, keyed, 1400", 1352, meshKey, MeshShape{Header: MeshHopByHop, Size: 1400}, 1344},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.ackLen = max(tt.ackLen, MeshLen(tt.key != nil)+MeshShapeLen)
			want := MeshMessage{Kind: MeshProbe, Nonce: meshNonce, Sent: meshSent, Size: uint32(tt.n + 48), Keyed: tt.key != nil, Shape: &tt.shape}
			b, err := MarshalMeshProbe(want, tt.n, tt.key)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseMesh(b)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("probe (-want +got):\n%s", diff)
			}
			if tt.key != nil && !VerifyMeshMAC(b, tt.key) {
				t.Error("the shaped probe's MAC does not verify")
			}
			ack, err := MarshalMeshShapedAck(got, len(b), *got.Shape, tt.ackLen, tt.key)
			if err != nil {
				t.Fatal(err)
			}
			if len(ack) != tt.ackLen {
				t.Errorf("ack is %d bytes, want %d", len(ack), tt.ackLen)
			}
			a, err := ParseMesh(ack)
			if err != nil {
				t.Fatal(err)
			}
			wantAck := MeshMessage{Kind: MeshAck, Nonce: meshNonce, Sent: meshSent, Size: uint32(tt.n), Keyed: tt.key != nil, Shape: &tt.shape}
			if diff := cmp.Diff(wantAck, a); diff != "" {
				t.Errorf("ack (-want +got):\n%s", diff)
			}
			plain, err := WithoutHeader(ack, MeshShapeNotPermitted, tt.key)
			if err != nil {
				t.Fatal(err)
			}
			p, err := ParseMesh(plain)
			if err != nil {
				t.Fatal(err)
			}
			wantShape := MeshShape{Header: tt.shape.Header, Status: MeshShapeNotPermitted, Size: tt.shape.Size - uint16(tt.shape.Header.Len())}
			if diff := cmp.Diff(&wantShape, p.Shape); diff != "" {
				t.Errorf("ack without its header (-want +got):\n%s", diff)
			}
			if tt.key != nil && !VerifyMeshMAC(plain, tt.key) {
				t.Error("the ack without its header does not verify")
			}
		})
	}
}

func TestMeshShapeErrors(t *testing.T) {
	sh := &MeshShape{Header: MeshHopByHop, Size: 1500}
	probe, _ := MarshalMeshProbe(MeshMessage{Nonce: meshNonce, Shape: sh}, 100, nil)
	ack, _ := MarshalMeshShapedAck(MeshMessage{Nonce: meshNonce}, 100, *sh, 40, nil)
	keyed, _ := MarshalMeshProbe(MeshMessage{Nonce: meshNonce, Shape: sh}, 100, meshKey)
	set := func(b []byte, i int, v byte) []byte { c := bytes.Clone(b); c[i] = v; return c }
	for _, tt := range []struct {
		name string
		b    []byte
		want error
	}{
		{"shape flag, no room for the shape", set(probe[:38], 6, 2), ErrMeshShort},
		{"keyed and shaped, no room for the shape", keyed[:70], ErrMeshShort},
		{"header 3", set(probe, 36, 3), ErrMeshShape},
		{"a probe with a status", set(probe, 37, 1), ErrMeshShape},
		{"an ack with status 4", set(ack, 37, 4), ErrMeshShape},
		{"shaped ack cut short", ack[:39], ErrMeshShort},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseMesh(tt.b); !errors.Is(err, tt.want) {
				t.Errorf("ParseMesh = %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := MarshalMeshProbe(MeshMessage{Shape: sh}, MeshHeaderLen+2, nil); !errors.Is(err, ErrSize) {
		t.Errorf("a shaped probe of %d bytes: %v, want ErrSize", MeshHeaderLen+2, err)
	}
	if _, err := MarshalMeshProbe(MeshMessage{Shape: &MeshShape{Header: 9}}, 100, nil); !errors.Is(err, ErrMeshShape) {
		t.Errorf("header 9: %v, want ErrMeshShape", err)
	}
	if _, err := MarshalMeshShapedAck(MeshMessage{}, 100, *sh, MeshHeaderLen, nil); !errors.Is(err, ErrSize) {
		t.Errorf("a shaped ack of %d bytes: %v, want ErrSize", MeshHeaderLen, err)
	}
	if _, err := WithoutHeader(MarshalMeshAck(MeshMessage{}, 100, nil), MeshShapeNotPermitted, nil); !errors.Is(err, ErrMeshShape) {
		t.Errorf("WithoutHeader of a plain ack: %v, want ErrMeshShape", err)
	}
}

// TestMeshShapeOldParser: a shaped probe is, to a parser that knows no
// shapes (flag bit 1 unread), a plain probe of the same size: an older
// responder answers it with a plain acknowledgement.
func TestMeshShapeOldParser(t *testing.T) {
	b, _ := MarshalMeshProbe(MeshMessage{Nonce: meshNonce, Shape: &MeshShape{Header: MeshDstOpts, Size: 1400}}, 1352, nil)
	old := bytes.Clone(b)
	old[6] &^= meshFlagShape
	m, err := ParseMesh(old)
	if err != nil || m.Kind != MeshProbe || m.Shape != nil || m.Nonce != meshNonce {
		t.Fatalf("ParseMesh without the shape flag = %+v, %v", m, err)
	}
}

// FuzzParseMesh: ParseMesh never panics, never accepts an ack longer
// than its header, and what it parses marshals back to the same header.
func FuzzParseMesh(f *testing.F) {
	p, _ := MarshalMeshProbe(MeshMessage{Nonce: meshNonce, Sent: meshSent, Size: 1500}, 1472, nil)
	kp, _ := MarshalMeshProbe(MeshMessage{Nonce: meshNonce, Sent: meshSent, Size: 1500}, 200, meshKey)
	f.Add(p)
	f.Add(kp)
	f.Add(MarshalMeshAck(MeshMessage{Nonce: meshNonce, Sent: meshSent}, 1472, nil))
	f.Add(MarshalMeshAck(MeshMessage{Nonce: meshNonce, Sent: meshSent}, 200, meshKey))
	f.Add([]byte("PMTM"))
	sp, _ := MarshalMeshProbe(MeshMessage{Nonce: meshNonce, Sent: meshSent, Size: 1500, Shape: &MeshShape{Header: MeshHopByHop, Size: 1500}}, 1452, meshKey)
	f.Add(sp)
	sa, _ := MarshalMeshShapedAck(MeshMessage{Nonce: meshNonce, Sent: meshSent}, 1452, MeshShape{Header: MeshDstOpts, Status: MeshShapeNotPermitted, Size: 1492}, 1444, nil)
	f.Add(sa)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseMesh(b)
		if err != nil {
			return
		}
		if m.Kind == MeshAck && m.Shape == nil && len(b) != MeshLen(m.Keyed) {
			t.Fatalf("accepted a %d-byte ack", len(b))
		}
		if m.Shape != nil && (len(b) < MeshLen(m.Keyed)+MeshShapeLen || m.Shape.Header > MeshDstOpts) {
			t.Fatalf("accepted a shape %+v in %d bytes", *m.Shape, len(b))
		}
		var key []byte
		if m.Keyed {
			key = meshKey
		}
		var again []byte
		if m.Kind == MeshProbe {
			again, err = MarshalMeshProbe(m, len(b), key)
			if err != nil {
				t.Fatalf("re-marshal: %v", err)
			}
		} else if m.Shape != nil {
			again, err = MarshalMeshShapedAck(m, int(m.Size), *m.Shape, len(b), key)
			if err != nil {
				t.Fatalf("re-marshal: %v", err)
			}
		} else {
			again = MarshalMeshAck(m, int(m.Size), key)
		}
		m2, err := ParseMesh(again)
		if err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		if m2.Kind != m.Kind || m2.Nonce != m.Nonce || !m2.Sent.Equal(m.Sent) || m2.Size != m.Size || m2.Keyed != m.Keyed || !cmp.Equal(m2.Shape, m.Shape) {
			t.Fatalf("round trip: %+v became %+v", m, m2)
		}
		if m.Keyed && !VerifyMeshMAC(again, key) {
			t.Fatal("re-marshalled datagram does not verify")
		}
	})
}

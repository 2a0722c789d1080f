package privilege

import (
	"errors"
	"io/fs"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// status is a /proc/self/status as Linux 6.x writes it, with CapEff
// left to the test.
func status(capEff string) []byte {
	return []byte("Name:\tpmtu\nUmask:\t0022\nState:\tR (running)\nUid:\t65534\t65534\t65534\t65534\n" +
		"CapInh:\t0000000000000000\nCapPrm:\t0000000000002000\n" + capEff +
		"CapBnd:\t000001ffffffffff\nCapAmb:\t0000000000000000\nNoNewPrivs:\t0\n")
}

func TestParseCapEff(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		want    uint64
		wantErr bool
	}{
		{"root", status("CapEff:\t000001ffffffffff\n"), 0x1ffffffffff, false},
		{"file capability cap_net_raw+ep", status("CapEff:\t0000000000002000\n"), 1 << 13, false},
		{"nobody", status("CapEff:\t0000000000000000\n"), 0, false},
		{"last line without newline", []byte("Name:\tx\nCapEff:\t0000000000002000"), 1 << 13, false},
		{"no CapEff", []byte("Name:\tx\nCapPrm:\t0000000000002000\n"), 0, true},
		{"empty", nil, 0, true},
		{"not hex", status("CapEff:\tzz\n"), 0, true},
		{"empty value", status("CapEff:\t\n"), 0, true},
		{"too wide", status("CapEff:\t1000000000000000000\n"), 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCapEff(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v, want error %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("mask %#x, want %#x", got, tt.want)
			}
		})
	}
}

func TestHas(t *testing.T) {
	tests := []struct {
		mask uint64
		cp   uint
		want bool
	}{
		{1 << CapNetRaw, CapNetRaw, true},
		{0x1ffffffffff, CapNetRaw, true},
		{1 << 12, CapNetRaw, false}, // CAP_NET_ADMIN alone
		{0, CapNetRaw, false},
		{^uint64(0), 64, false},
	}
	for _, tt := range tests {
		if got := Has(tt.mask, tt.cp); got != tt.want {
			t.Errorf("Has(%#x, %d) = %v, want %v", tt.mask, tt.cp, got, tt.want)
		}
	}
}

func TestParseGroupRange(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    GroupRange
		wantErr bool
	}{
		{"kernel default", "1\t0\n", GroupRange{1, 0}, false},
		{"systemd's everyone", "0\t2147483647\n", GroupRange{0, 2147483647}, false},
		{"spaces, as written by sysctl -w", "100 200", GroupRange{100, 200}, false},
		{"largest gid", "0\t4294967295\n", GroupRange{0, 4294967295}, false},
		{"one field", "1\n", GroupRange{}, true},
		{"three fields", "1 2 3", GroupRange{}, true},
		{"negative", "-1 0", GroupRange{}, true},
		{"above 32 bits", "0 4294967296", GroupRange{}, true},
		{"not a number", "a b", GroupRange{}, true},
		{"empty", "", GroupRange{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseGroupRange([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v, want error %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestGroupRangeAdmits(t *testing.T) {
	tests := []struct {
		name string
		r    GroupRange
		gids []uint32
		want bool
	}{
		{"default admits nobody, root included", GroupRange{1, 0}, []uint32{0, 1, 65534}, false},
		{"everyone", GroupRange{0, 2147483647}, []uint32{65534}, true},
		{"supplementary group inside", GroupRange{100, 100}, []uint32{1000, 27, 100}, true},
		{"lower edge", GroupRange{100, 200}, []uint32{100}, true},
		{"upper edge", GroupRange{100, 200}, []uint32{200}, true},
		{"just outside", GroupRange{100, 200}, []uint32{99, 201}, false},
		{"no groups", GroupRange{0, 2147483647}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.r.Admits(tt.gids...); got != tt.want {
				t.Errorf("%v.Admits(%v) = %v, want %v", tt.r, tt.gids, got, tt.want)
			}
		})
	}
}

func TestFromSources(t *testing.T) {
	errRead := &fs.PathError{Op: "open", Path: "/proc/sys/net/ipv4/ping_group_range", Err: fs.ErrNotExist}
	tests := []struct {
		name      string
		status    []byte
		errStatus error
		rng       string
		errRange  error
		groups    []uint32
		errGroups error
		want      Report
	}{
		{
			name:   "root in a fresh namespace",
			status: status("CapEff:\t000001ffffffffff\n"), rng: "1\t0\n", groups: []uint32{0},
			want: Report{NetRaw: true, PingRange: GroupRange{1, 0}, Groups: []uint32{0}},
		},
		{
			name:   "nobody with the package's file capability",
			status: status("CapEff:\t0000000000002000\n"), rng: "1\t0\n", groups: []uint32{65534},
			want: Report{NetRaw: true, PingRange: GroupRange{1, 0}, Groups: []uint32{65534}},
		},
		{
			name:   "a user that systemd lets ping",
			status: status("CapEff:\t0000000000000000\n"), rng: "0\t2147483647\n", groups: []uint32{1000, 27},
			want: Report{PingRange: GroupRange{0, 2147483647}, Groups: []uint32{1000, 27}, PingAdmitted: true},
		},
		{
			name:   "capabilities unreadable, range unreadable",
			status: nil, errStatus: errRead, errRange: errRead, groups: []uint32{1000},
			want: Report{NetRawErr: errRead, Groups: []uint32{1000}, PingErr: errRead},
		},
		{
			name:   "garbled range",
			status: status("CapEff:\t0000000000000000\n"), rng: "x", groups: []uint32{1000},
			want: Report{Groups: []uint32{1000}, PingErr: errors.New("any")},
		},
		{
			name:   "groups unreadable",
			status: status("CapEff:\t0000000000000000\n"), rng: "0 10", groups: []uint32{5}, errGroups: errRead,
			want: Report{Groups: []uint32{5}, PingErr: errRead},
		},
	}
	// Errors compare by presence: the messages are the parsers' own.
	sameErr := cmp.Comparer(func(a, b error) bool { return (a == nil) == (b == nil) })
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := fromSources(tt.status, tt.errStatus, []byte(tt.rng), tt.errRange, tt.groups, tt.errGroups)
			if diff := cmp.Diff(tt.want, got, sameErr, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzParseCapEff(f *testing.F) {
	f.Add(status("CapEff:\t000001ffffffffff\n"))
	f.Add([]byte("CapEff:\t0000000000002000"))
	f.Add([]byte("CapEff:"))
	f.Fuzz(func(t *testing.T, b []byte) {
		mask, err := ParseCapEff(b)
		if err != nil && mask != 0 {
			t.Errorf("mask %#x with error %v", mask, err)
		}
	})
}

func FuzzParseGroupRange(f *testing.F) {
	f.Add([]byte("1\t0\n"))
	f.Add([]byte("0\t2147483647\n"))
	f.Add([]byte("0 4294967296"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseGroupRange(b)
		if err != nil {
			if r != (GroupRange{}) {
				t.Errorf("range %v with error %v", r, err)
			}
			return
		}
		// What parses prints back the same and parses to the same range.
		again, err := ParseGroupRange([]byte(r.String()))
		if err != nil || again != r {
			t.Errorf("%q -> %v -> %q -> %v, %v", b, r, r.String(), again, err)
		}
	})
}

package privilege

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// CapNetRaw is CAP_NET_RAW's bit number (linux/capability.h).
const CapNetRaw = 13

// ParseCapEff returns the effective capability set, a bit mask, from the
// text of /proc/PID/status (its "CapEff:" line, in hexadecimal).
func ParseCapEff(status []byte) (uint64, error) {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		v, ok := strings.CutPrefix(sc.Text(), "CapEff:")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		mask, err := strconv.ParseUint(v, 16, 64)
		if err != nil || v == "" {
			return 0, fmt.Errorf("CapEff %q is not a hexadecimal mask", v)
		}
		return mask, nil
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("no CapEff line")
}

// Has reports whether capability bit cp is set in mask.
func Has(mask uint64, cp uint) bool {
	return cp < 64 && mask&(1<<cp) != 0
}

// GroupRange is net.ipv4.ping_group_range: the GIDs, Lo to Hi inclusive,
// that may make ICMP datagram sockets. Lo above Hi admits nobody (the
// kernel's default, "1 0").
type GroupRange struct {
	Lo, Hi uint32
}

// String is the range as sysctl prints it, without the tab.
func (r GroupRange) String() string { return fmt.Sprintf("%d %d", r.Lo, r.Hi) }

// Admits reports whether any of gids is in the range.
func (r GroupRange) Admits(gids ...uint32) bool {
	for _, g := range gids {
		if r.Lo <= g && g <= r.Hi {
			return true
		}
	}
	return false
}

// ParseGroupRange parses the text of /proc/sys/net/ipv4/ping_group_range:
// two GIDs separated by white space.
func ParseGroupRange(text []byte) (GroupRange, error) {
	f := strings.Fields(string(text))
	if len(f) != 2 {
		return GroupRange{}, fmt.Errorf("ping_group_range %q: want two GIDs", text)
	}
	var r GroupRange
	for i, dst := range []*uint32{&r.Lo, &r.Hi} {
		v, err := strconv.ParseUint(f[i], 10, 32)
		if err != nil {
			return GroupRange{}, fmt.Errorf("ping_group_range %q: %q is not a GID", text, f[i])
		}
		*dst = uint32(v)
	}
	return r, nil
}

// Report is what Check found. An Err field set means that half could not
// be read; its bool is then false.
type Report struct {
	NetRaw    bool  // CAP_NET_RAW is effective: raw sockets work
	NetRawErr error // reading the capability set failed

	PingRange    GroupRange // net.ipv4.ping_group_range
	Groups       []uint32   // the effective GID, then the supplementary groups
	PingAdmitted bool       // PingRange admits one of Groups: ICMP datagram sockets work
	PingErr      error      // reading the range or the groups failed
}

// fromSources builds a Report from the raw texts and the groups, as Check
// read them: the pure part of Check.
func fromSources(status []byte, errStatus error, pingRange []byte, errRange error, groups []uint32, errGroups error) Report {
	var r Report
	if r.NetRawErr = errStatus; r.NetRawErr == nil {
		var mask uint64
		mask, r.NetRawErr = ParseCapEff(status)
		r.NetRaw = r.NetRawErr == nil && Has(mask, CapNetRaw)
	}
	r.Groups = groups
	switch {
	case errRange != nil:
		r.PingErr = errRange
	case errGroups != nil:
		r.PingErr = errGroups
	default:
		r.PingRange, r.PingErr = ParseGroupRange(pingRange)
		r.PingAdmitted = r.PingErr == nil && r.PingRange.Admits(groups...)
	}
	return r
}

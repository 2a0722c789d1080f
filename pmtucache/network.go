package pmtucache

import (
	"cmp"
	"errors"
	"fmt"
	"strings"
)

// Network identifies one network namespace instance for as long as the
// machine is up: the kernel's boot ID (/proc/sys/kernel/random/boot_id)
// and the namespace's cookie (SO_NETNS_COOKIE). A namespace's inode
// number ("net:[4026532xxx]") is no such identity: a namespace made after
// another is deleted often gets the old one's number. The zero Network is
// unknown.
type Network struct {
	Boot   string // the boot ID, as /proc/sys/kernel/random/boot_id gives it
	Cookie uint64 // the namespace's cookie, unique within one boot
}

// IsZero reports whether n is unknown.
func (n Network) IsZero() bool { return n == Network{} }

// String is "cookie N" (the boot ID is left out: it is almost always
// this boot's).
func (n Network) String() string {
	if n.IsZero() {
		return "unknown namespace"
	}
	return fmt.Sprintf("netns cookie %d", n.Cookie)
}

func (n Network) compare(o Network) int {
	if c := cmp.Compare(n.Boot, o.Boot); c != 0 {
		return c
	}
	return cmp.Compare(n.Cookie, o.Cookie)
}

// bootIDFile is where Linux gives its boot ID.
const bootIDFile = "/proc/sys/kernel/random/boot_id"

// parseBootID checks the content of /proc/sys/kernel/random/boot_id: one
// UUID (8-4-4-4-12 hex digits, lower case) and a newline. It returns the
// UUID.
func parseBootID(b []byte) (string, error) {
	s := strings.TrimSuffix(string(b), "\n")
	if len(s) != 36 {
		return "", fmt.Errorf("boot ID %q: want a UUID", s)
	}
	for i, r := range s {
		switch i {
		case 8, 13, 18, 23:
			if r != '-' {
				return "", fmt.Errorf("boot ID %q: want a UUID", s)
			}
		default:
			if !('0' <= r && r <= '9' || 'a' <= r && r <= 'f') {
				return "", fmt.Errorf("boot ID %q: want a UUID", s)
			}
		}
	}
	return s, nil
}

// errNoIdentity is wrapped by CurrentNetwork when the kernel gives no
// namespace cookie or boot ID.
var errNoIdentity = errors.New("the network namespace has no identity to read")

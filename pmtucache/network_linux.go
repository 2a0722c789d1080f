package pmtucache

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/pmtu/pmtu/sockopt"
)

// CurrentNetwork returns the identity of the calling thread's network
// namespace, and its inode number (which, unlike the identity, the kernel
// may reuse). It makes a socket to read the namespace cookie, so that it
// follows a thread moved by setns(2) (package netns): call it where the
// probes' sockets are made. It fails on kernels before 5.14, which have
// no SO_NETNS_COOKIE.
func CurrentNetwork() (n Network, inode uint64, err error) {
	b, err := os.ReadFile(bootIDFile)
	if err != nil {
		return Network{}, 0, fmt.Errorf("%w: %w", errNoIdentity, err)
	}
	if n.Boot, err = parseBootID(b); err != nil {
		return Network{}, 0, fmt.Errorf("%w: %w", errNoIdentity, err)
	}
	// Any socket belongs to the namespace it was made in; a Unix one
	// needs no address or interface.
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return Network{}, 0, fmt.Errorf("%w: %w", errNoIdentity, os.NewSyscallError("socket", err))
	}
	f := os.NewFile(uintptr(fd), "netns-cookie")
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return Network{}, 0, fmt.Errorf("%w: %w", errNoIdentity, err)
	}
	if n.Cookie, err = sockopt.NetnsCookie(rc); err != nil {
		return Network{}, 0, fmt.Errorf("%w: %w", errNoIdentity, err)
	}
	var st unix.Stat_t
	if err := unix.Stat("/proc/thread-self/ns/net", &st); err == nil {
		inode = st.Ino
	}
	return n, inode, nil
}

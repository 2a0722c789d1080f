package sockopt

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// NetnsCookie returns the cookie of the network namespace c's socket was
// made in (SO_NETNS_COOKIE, Linux 5.14 and later): a number the kernel
// gives each namespace when it is made and never gives another until the
// machine restarts. Unlike the namespace's inode number, which a new
// namespace often inherits from a deleted one, it identifies one namespace
// instance.
func NetnsCookie(c syscall.RawConn) (uint64, error) {
	var v uint64
	var serr error
	err := c.Control(func(fd uintptr) {
		v, serr = unix.GetsockoptUint64(int(fd), unix.SOL_SOCKET, unix.SO_NETNS_COOKIE)
	})
	if err != nil {
		return 0, err
	}
	if serr != nil {
		return 0, os.NewSyscallError("getsockopt SO_NETNS_COOKIE", serr)
	}
	return v, nil
}

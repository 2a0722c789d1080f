package nstest

import (
	"fmt"
	"os"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// New makes a fresh network namespace held by a parked thread, runs setup
// (which may be nil) on that thread inside it, and returns the namespace's
// path. The thread, and with it the namespace, ends with the test. New
// skips the test where it cannot make a namespace (no CAP_SYS_ADMIN) or
// setup fails.
func New(t testing.TB, setup func() error) string {
	t.Helper()
	type made struct {
		path string
		err  error
	}
	ready, done := make(chan made), make(chan struct{})
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			ready <- made{err: err}
			return
		}
		if setup != nil {
			if err := setup(); err != nil {
				ready <- made{err: err}
				return
			}
		}
		ready <- made{path: fmt.Sprintf("/proc/%d/task/%d/ns/net", os.Getpid(), unix.Gettid())}
		<-done
	}()
	m := <-ready
	if m.err != nil {
		t.Skipf("no network namespace of our own here (needs CAP_SYS_ADMIN): %v", m.err)
	}
	t.Cleanup(func() { close(done) })
	return m.path
}

// LoopbackUp brings lo up in the calling thread's namespace; a new
// namespace's lo is down.
func LoopbackUp() error {
	return ifreq("lo", func(fd int, ifr *unix.Ifreq) error {
		if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
			return err
		}
		ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
		return unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr)
	})
}

// SetMTU sets the MTU of interface name in the calling thread's
// namespace (lo, say: a test's own path of a chosen MTU).
func SetMTU(name string, mtu int) error {
	return ifreq(name, func(fd int, ifr *unix.Ifreq) error {
		ifr.SetUint32(uint32(mtu))
		return unix.IoctlIfreq(fd, unix.SIOCSIFMTU, ifr)
	})
}

// NewLoopback is New with lo up at MTU m: a namespace where what is sent
// to 127.0.0.0/8 crosses a path of that MTU and goes nowhere else.
func NewLoopback(t testing.TB, m uint32) string {
	t.Helper()
	return New(t, func() error {
		if err := LoopbackUp(); err != nil {
			return err
		}
		return SetMTU("lo", int(m))
	})
}

// ifreq runs fn with a socket to make interface ioctls on and a request
// for interface name.
func ifreq(name string, fn func(fd int, ifr *unix.Ifreq) error) error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return err
	}
	return fn(fd, ifr)
}

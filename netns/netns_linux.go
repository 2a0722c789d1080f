package netns

import (
	"errors"
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// Do runs fn inside the network namespace name (see Path) and returns its
// error. fn runs on its own goroutine, locked to an OS thread that is in
// the namespace for as long as fn runs; Do waits for it.
func Do(name string, fn func() error) error {
	target, err := openNS(Path(name))
	if err != nil {
		return fmt.Errorf("network namespace %s: %w", name, err)
	}
	defer unix.Close(target)

	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		self, err := openNS("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("the current network namespace: %w", err)
			return
		}
		defer unix.Close(self)
		if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("entering network namespace %s: %w", name, setnsError(err))
			return
		}
		ferr := fn()
		if err := unix.Setns(self, unix.CLONE_NEWNET); err != nil {
			// Leave the thread locked: it ends with this goroutine
			// rather than run other goroutines in the wrong namespace.
			errc <- fmt.Errorf("leaving network namespace %s: %w", name, os.NewSyscallError("setns", err))
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// ID returns the identity of the namespace called name as the kernel
// writes it in /proc/PID/ns/net links: "net:[INODE]".
func ID(name string) (string, error) {
	var st unix.Stat_t
	if err := unix.Stat(Path(name), &st); err != nil {
		return "", fmt.Errorf("network namespace %s: %w", name, notExist(os.NewSyscallError("stat", err)))
	}
	return fmt.Sprintf("net:[%d]", st.Ino), nil
}

// Current returns the identity of the calling thread's network namespace,
// "net:[INODE]". Unlike /proc/self/ns/net it follows Do.
func Current() (string, error) {
	return os.Readlink("/proc/thread-self/ns/net")
}

func openNS(path string) (int, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, notExist(os.NewSyscallError("open", err))
	}
	return fd, nil
}

func notExist(err error) error {
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%w (ip netns list shows the names)", err)
	}
	return err
}

func setnsError(err error) error {
	switch {
	case errors.Is(err, unix.EPERM):
		return fmt.Errorf("%w: %w", ErrPermission, os.NewSyscallError("setns", err))
	case errors.Is(err, unix.EINVAL):
		return fmt.Errorf("not a network namespace: %w", os.NewSyscallError("setns", err))
	}
	return os.NewSyscallError("setns", err)
}

package netns

import (
	"errors"
	"net"
	"os"
	"runtime"
	"testing"

	"github.com/pmtu/pmtu/internal/nstest"
)

// newNamespace makes a fresh network namespace that ends with the test.
func newNamespace(t *testing.T) string { return nstest.New(t, nil) }

func TestDo(t *testing.T) {
	path := newNamespace(t)
	want, err := ID(path)
	if err != nil {
		t.Fatal(err)
	}
	before, err := Current()
	if err != nil {
		t.Fatal(err)
	}
	if before == want {
		t.Fatalf("the new namespace %s is the current one", want)
	}
	var inside string
	var ifaces []net.Interface
	err = Do(path, func() error {
		var err error
		if inside, err = Current(); err != nil {
			return err
		}
		ifaces, err = net.Interfaces()
		return err
	})
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	if inside != want {
		t.Errorf("inside Do the namespace is %s, want %s", inside, want)
	}
	if len(ifaces) != 1 || ifaces[0].Name != "lo" {
		t.Errorf("inside Do the interfaces are %v, want only lo", ifaces)
	}
	// Every thread is back where it was: run on many to see.
	for i := 0; i < 20; i++ {
		done := make(chan string)
		go func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			s, _ := Current()
			done <- s
		}()
		if got := <-done; got != before {
			t.Fatalf("after Do a thread is in %s, want %s", got, before)
		}
	}
}

func TestDoError(t *testing.T) {
	errFn := errors.New("from fn")
	path := newNamespace(t)
	if err := Do(path, func() error { return errFn }); !errors.Is(err, errFn) {
		t.Errorf("Do returned %v, want fn's error", err)
	}
	if err := Do("pmtu-no-such-namespace", func() error { t.Error("fn ran"); return nil }); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Do on a missing namespace returned %v, want ErrNotExist", err)
	}
	if err := Do("/proc/self/status", func() error { t.Error("fn ran"); return nil }); err == nil {
		t.Error("Do on a file that is no namespace succeeded")
	}
}

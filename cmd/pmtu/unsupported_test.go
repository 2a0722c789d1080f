package main

import (
	"strings"
	"testing"
)

func TestUnsupported(t *testing.T) {
	var errOut strings.Builder
	if code := unsupported(&errOut); code != exitUsage {
		t.Errorf("exit %d, want %d", code, exitUsage)
	}
	if got, want := errOut.String(), "pmtu supports Linux only\n"; got != want {
		t.Errorf("stderr %q, want %q", got, want)
	}
}

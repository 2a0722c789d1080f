package main

import (
	"github.com/pmtu/pmtu/internal/fakenet"
	"github.com/pmtu/pmtu/internal/probetest"
)

// testWorld is the world every test of the command line runs in: a fake
// network carrying paths (none: every address is unreachable), with a
// fake resolver that knows no name, so that no test resolves a real name
// or sends a real packet whatever a regression does.
func testWorld(paths ...*probetest.Path) *world {
	return fakeWorld(fakenet.New(paths...))
}

// fakeWorld is the command line's world over fw.
func fakeWorld(fw *fakenet.World) *world {
	return &world{net: fw.Network(), lookupHost: fw.LookupNetIP, lookupAddr: fw.LookupAddr}
}

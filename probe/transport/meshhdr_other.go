//go:build !linux

package transport

import "github.com/pmtu/pmtu/probe/wire"

// headerOOB: no MeshSocket exists off Linux (ListenMesh).
func headerOOB(wire.MeshHeader) []byte { return nil }

package transport

import (
	"errors"

	"github.com/pmtu/pmtu/probe/wire"
)

// The Conns this package makes, each a wire.Conn (declared in wire, which
// search sees too).
var (
	_ wire.Conn = (*ICMPConn)(nil)
	_ wire.Conn = (*PingConn)(nil)
	_ wire.Conn = (*UDPConn)(nil)
	_ wire.Conn = (*TCPConn)(nil)
	_ wire.Conn = (*SharedConn)(nil)
	_ wire.Conn = (*TCPDataConn)(nil)
)

// Traffic is what a conn's probes cost the target, for the conns that
// speak to its services (TCPDataConn, and UDPConn with MethodQUIC):
// connections opened, datagrams and bytes sent.
type Traffic struct {
	Connections int
	Datagrams   int
	Bytes       int64
}

// ErrTimeout is what Recv returns at its deadline, as os.ErrDeadlineExceeded.
var ErrTimeout = errors.New("probe: no answer before the deadline")

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
)

// ErrTimeout is what Recv returns at its deadline, as os.ErrDeadlineExceeded.
var ErrTimeout = errors.New("probe: no answer before the deadline")

package transport

import (
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"
)

// ListenMesh opens the MeshSocket of addr's family, bound to addr (an
// unspecified address listens on every address), and starts its reader.
func ListenMesh(addr netip.AddrPort, cfg *MeshConfig) (*MeshSocket, error) {
	if cfg == nil {
		cfg = &MeshConfig{}
	}
	a := addr.Addr().Unmap()
	if !a.IsValid() {
		return nil, fmt.Errorf("mesh socket: invalid address %s", addr)
	}
	s := &MeshSocket{v6: a.Is6(), key: cfg.Key, now: cfg.Now, respond: cfg.Respond, isLocal: cfg.Local, signal: cfg.Signal, conns: map[meshID]*MeshConn{}}
	if s.now == nil {
		s.now = time.Now
	}
	if s.isLocal == nil {
		s.isLocal = func(a netip.Addr) bool { return a.IsLoopback() }
	}
	enter := cfg.Enter
	if enter == nil {
		enter = func(fn func() error) error { return fn() }
	}
	err := enter(func() error {
		var err error
		s.sock, err = newSocket(socketConfig{kind: udpSocket, v6: s.v6, bind: a, port: addr.Port(), probeMode: true, recvErr: true})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("opening the mesh socket on %s: %w", addr, err)
	}
	la, ok := s.sock.LocalAddr().(*net.UDPAddr)
	if !ok {
		s.sock.Close()
		return nil, fmt.Errorf("mesh socket has no UDP address: %v", s.sock.LocalAddr())
	}
	s.local = netip.AddrPortFrom(a, uint16(la.Port))
	rc, err := s.sock.(syscall.Conn).SyscallConn()
	if err != nil {
		s.sock.Close()
		return nil, err
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		readDatagrams(rc, true, 1<<16, s.now, s.dispatch)
	}()
	return s, nil
}

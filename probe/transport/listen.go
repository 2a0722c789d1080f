package transport

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"

	"github.com/pmtu/pmtu/sockopt"
)

// ErrPermission is returned by ListenICMP when the process may not open
// raw sockets.
var ErrPermission = errors.New("raw ICMP sockets need root or CAP_NET_RAW")

// ListenICMP opens a raw ICMP socket for probing dst and returns an
// ICMPConn on it. Probes leave with DF set, sized against the egress device
// MTU and not the kernel's cached path MTU (sockopt.SetProbeMode). cfg may
// be nil.
func ListenICMP(dst netip.Addr, cfg *ICMPConfig) (*ICMPConn, error) {
	dst = dst.Unmap()
	network, laddr := "ip4:icmp", "0.0.0.0"
	if dst.Is6() {
		network, laddr = "ip6:ipv6-icmp", "::"
	}
	c, err := net.ListenPacket(network, laddr)
	if err != nil {
		if errors.Is(err, os.ErrPermission) || errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
			return nil, fmt.Errorf("%w: %w", ErrPermission, err)
		}
		return nil, err
	}
	ipc := c.(*net.IPConn)
	rc, err := ipc.SyscallConn()
	if err == nil {
		err = sockopt.SetProbeMode(rc, dst.Is6())
	}
	if err == nil && !dst.Is6() {
		// The kernel hands a raw ICMP socket every ICMP on the host:
		// keep only the types that can answer a probe (ICMP_FILTER).
		var f ipv4.ICMPFilter
		f.SetAll(true)
		for _, t := range []ipv4.ICMPType{ipv4.ICMPTypeEchoReply, ipv4.ICMPTypeDestinationUnreachable,
			ipv4.ICMPTypeTimeExceeded, ipv4.ICMPTypeParameterProblem} {
			f.Accept(t)
		}
		err = ipv4.NewPacketConn(c).SetICMPFilter(&f)
	}
	if err == nil && dst.Is6() {
		// Only the ICMPv6 types that can answer a probe; spares reading
		// every Neighbor Discovery and router advertisement on the host.
		var f ipv6.ICMPFilter
		f.SetAll(true)
		for _, t := range []ipv6.ICMPType{ipv6.ICMPTypeEchoReply, ipv6.ICMPTypePacketTooBig,
			ipv6.ICMPTypeDestinationUnreachable, ipv6.ICMPTypeTimeExceeded, ipv6.ICMPTypeParameterProblem} {
			f.Accept(t)
		}
		err = ipv6.NewPacketConn(c).SetICMPFilter(&f)
	}
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("setting up the probe socket: %w", err)
	}
	ic := NewICMPConn(c, dst, cfg)
	// Without receive times, round trips are timed at read: still right,
	// a little long while a trace sends a burst.
	ic.stamps = sockopt.SetRecvTimestamps(rc) == nil
	return ic, nil
}

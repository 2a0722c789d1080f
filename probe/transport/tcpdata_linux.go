package transport

import (
	"context"
	"net"
	"net/netip"
	"os"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/sockopt"
)

// openTCPData opens MethodTCPData: nothing yet, each probe connects on
// its own.
func openTCPData(dst netip.Addr, cfg *OpenConfig, pinned bool) (*TCPDataConn, error) {
	return newTCPDataConn(dst, cfg, pinned), nil
}

// dial connects to the target with the segment size capped at mss and
// DF on every segment (IP_PMTUDISC_DO), from the pinned source and
// interface, in the conn's namespace.
func (c *TCPDataConn) dial(ctx context.Context, mss int) (net.Conn, error) {
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		if c.iface != "" {
			if err := sockopt.BindToDevice(rc, c.iface); err != nil {
				return err
			}
		}
		return setTCPProbe(rc, c.ipv6, mss)
	}}
	if c.src.IsValid() {
		d.LocalAddr = &net.TCPAddr{IP: c.src.AsSlice()}
	}
	network := "tcp4"
	if c.ipv6 {
		network = "tcp6"
	}
	var conn net.Conn
	err := c.enter(func() error {
		var err error
		conn, err = d.DialContext(ctx, network, netip.AddrPortFrom(c.dst, uint16(c.port)).String())
		return err
	})
	return conn, err
}

// setTCPProbe sets what a TCP data probe's socket needs before connect:
// TCP_MAXSEG, and IP_MTU_DISCOVER (IPV6_MTU_DISCOVER) DO, the one mode in
// which Linux sets DF on TCP segments and ignores no Frag Needed.
func setTCPProbe(rc syscall.RawConn, ipv6 bool, mss int) error {
	level, name, mode := unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, unix.IP_PMTUDISC_DO
	if ipv6 {
		level, name, mode = unix.IPPROTO_IPV6, unix.IPV6_MTU_DISCOVER, unix.IPV6_PMTUDISC_DO
	}
	var serr error
	err := rc.Control(func(fd uintptr) {
		if serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_MAXSEG, mss); serr != nil {
			serr = os.NewSyscallError("setsockopt TCP_MAXSEG", serr)
			return
		}
		if serr = unix.SetsockoptInt(int(fd), level, name, mode); serr != nil {
			serr = os.NewSyscallError("setsockopt IP_MTU_DISCOVER", serr)
		}
	})
	if err != nil {
		return err
	}
	return serr
}

// tcpiOptTimestamps is TCPI_OPT_TIMESTAMPS of tcpi_options.
const tcpiOptTimestamps = 1

// tcpInfo reads TCP_INFO.
func tcpInfo(tc *net.TCPConn) (tcpState, error) {
	rc, err := tc.SyscallConn()
	if err != nil {
		return tcpState{}, err
	}
	var info *unix.TCPInfo
	var serr error
	if err := rc.Control(func(fd uintptr) {
		info, serr = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
	}); err != nil {
		return tcpState{}, err
	}
	if serr != nil {
		return tcpState{}, os.NewSyscallError("getsockopt TCP_INFO", serr)
	}
	return tcpState{
		sndMSS:     int(info.Snd_mss),
		pmtu:       mtu.Size(info.Pmtu),
		timestamps: info.Options&tcpiOptTimestamps != 0,
		acked:      info.Bytes_acked,
		unacked:    int(info.Unacked),
		sent:       info.Bytes_sent,
		open:       info.State != tcpClose,
	}, nil
}

// tcpClose is TCP_CLOSE of tcpi_state: the connection is gone (reset, or
// timed out).
const tcpClose = 7

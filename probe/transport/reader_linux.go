package transport

import (
	"errors"
	"net/netip"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pmtu/pmtu/probe/wire"
)

// readDatagrams reads a datagram socket until it is closed: its error
// queue first when errqueue is set (recvmsg MSG_ERRQUEUE until EAGAIN),
// then its data. Each is handed to put, stamped with the kernel's
// receive time (else the time it was read); bufSize bounds what is kept of
// each (the length read is the whole one).
//
// A socket with IP_RECVERR also reports each error once as the result of
// the next plain read (ECONNREFUSED, EMSGSIZE...): that read consumes it,
// and the queued copy is the one that counts.
func readDatagrams(rc syscall.RawConn, errqueue bool, bufSize int, now func() time.Time, put func(arrival) bool) {
	buf := make([]byte, bufSize)
	// Room for an error and its offender, and for the receive time that
	// comes with every read (SO_TIMESTAMPNS, set by newSocket).
	oob := make([]byte, unix.CmsgSpace(wire.SizeofSockExtendedErr+unix.SizeofSockaddrInet6)+wire.TimestampSpace+64)
	stamp := func(oob []byte) time.Time {
		if at, ok := wire.ParseTimestamp(oob); ok {
			return at
		}
		return now()
	}
	for {
		var got []arrival
		var fatal error
		err := rc.Read(func(fd uintptr) bool {
			for len(got) < 64 {
				if errqueue {
					n, oobn, _, to, err := unix.Recvmsg(int(fd), buf, oob, unix.MSG_ERRQUEUE|unix.MSG_DONTWAIT)
					if err == nil {
						a := arrival{src: fromErrQueue, b: append([]byte(nil), buf[:min(n, len(buf))]...), n: n, at: stamp(oob[:oobn])}
						a.ee, a.eeErr = wire.ParseErrQueue(oob[:oobn])
						a.from = a.ee.Offender
						a.to = sockaddrAddr(to)
						got = append(got, a)
						continue
					}
					if err == unix.EINTR {
						continue
					}
				}
				n, oobn, _, from, err := unix.Recvmsg(int(fd), buf, oob, unix.MSG_DONTWAIT|unix.MSG_TRUNC)
				switch {
				case err == nil:
					a := arrival{src: fromData, b: append([]byte(nil), buf[:min(n, len(buf))]...), n: n, at: stamp(oob[:oobn])}
					switch sa := from.(type) {
					case *unix.SockaddrInet4:
						a.from, a.port = netip.AddrFrom4(sa.Addr), sa.Port
					case *unix.SockaddrInet6:
						a.from, a.port = netip.AddrFrom16(sa.Addr).Unmap(), sa.Port
					}
					got = append(got, a)
				case err == unix.EAGAIN:
					return len(got) > 0
				case err == unix.EINTR:
				case softErr(err):
					// A pending error, reported once; the queue holds it.
				default:
					fatal = os.NewSyscallError("recvmsg", err)
					return true
				}
			}
			return true
		})
		for _, a := range got {
			if !put(a) {
				return
			}
		}
		if err != nil || fatal != nil {
			return // closed, or the socket is broken
		}
	}
}

// softErr reports whether err is an ICMP error the socket reports once
// on the next read (icmp_err_convert, icmpv6_err_convert).
func softErr(err error) bool {
	switch err {
	case unix.ECONNREFUSED, unix.EMSGSIZE, unix.EHOSTUNREACH, unix.ENETUNREACH, unix.EPROTO,
		unix.EACCES, unix.EPERM, unix.EHOSTDOWN, unix.ENONET, unix.ENOPROTOOPT, unix.EREMOTEIO,
		unix.ETIMEDOUT, unix.EOPNOTSUPP, unix.ECONNRESET:
		return true
	}
	return false
}

// pendingErr reports whether a send failed on an error the socket held
// from an earlier ICMP error (softErr), and not on its own.
func pendingErr(err error) bool {
	var errno syscall.Errno
	return errors.As(err, &errno) && softErr(errno)
}

// sockaddrAddr is a socket address's IP address (IPv4-mapped unmapped);
// invalid for any other kind.
func sockaddrAddr(sa unix.Sockaddr) netip.Addr {
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrFrom4(sa.Addr)
	case *unix.SockaddrInet6:
		return netip.AddrFrom16(sa.Addr).Unmap()
	}
	return netip.Addr{}
}

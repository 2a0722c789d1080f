package probetest

import (
	"encoding/binary"
	"net/netip"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// SockExtendedErr is what a kernel error queue reports of one error:
// struct sock_extended_err and its offender (SO_EE_OFFENDER). Its fields
// are wire.ExtendedErr's, which this package cannot name: wire's own
// tests import it.
type SockExtendedErr struct {
	Errno      syscall.Errno
	Origin     uint8 // SO_EE_ORIGIN_*
	Type, Code int
	Info, Data uint32
	Offender   netip.Addr // invalid: AF_UNSPEC
}

// sizeofSockExtendedErr is struct sock_extended_err's size.
const sizeofSockExtendedErr = 16

// ErrQueueCmsg is the control message a kernel hands recvmsg
// (MSG_ERRQUEUE) for ee, at level and typ (SOL_IP/IP_RECVERR or
// SOL_IPV6/IPV6_RECVERR).
func ErrQueueCmsg(level, typ int, ee SockExtendedErr) []byte {
	return Cmsg(level, typ, ee.Marshal())
}

// Marshal is struct sock_extended_err and the offender's sockaddr, in
// the host's byte order.
func (ee SockExtendedErr) Marshal() []byte {
	data := make([]byte, sizeofSockExtendedErr)
	ne := binary.NativeEndian
	ne.PutUint32(data[0:], uint32(ee.Errno))
	data[4], data[5], data[6] = ee.Origin, byte(ee.Type), byte(ee.Code)
	ne.PutUint32(data[8:], ee.Info)
	ne.PutUint32(data[12:], ee.Data)
	switch {
	case ee.Offender.Is4():
		sa := make([]byte, unix.SizeofSockaddrInet4)
		ne.PutUint16(sa[0:], unix.AF_INET)
		a := ee.Offender.As4()
		copy(sa[4:], a[:])
		data = append(data, sa...)
	case ee.Offender.Is6():
		sa := make([]byte, unix.SizeofSockaddrInet6)
		ne.PutUint16(sa[0:], unix.AF_INET6)
		a := ee.Offender.As16()
		copy(sa[8:], a[:])
		data = append(data, sa...)
	default:
		data = append(data, make([]byte, unix.SizeofSockaddrInet6)...) // AF_UNSPEC
	}
	return data
}

// Cmsg is one control message of level and typ holding data, padded as
// the kernel pads it.
func Cmsg(level, typ int, data []byte) []byte {
	b := make([]byte, unix.CmsgSpace(len(data)))
	ne := binary.NativeEndian
	// struct cmsghdr on 64-bit Linux: u64 len, i32 level, i32 type.
	if unix.SizeofCmsghdr == 16 {
		ne.PutUint64(b[0:], uint64(unix.CmsgLen(len(data))))
		ne.PutUint32(b[8:], uint32(level))
		ne.PutUint32(b[12:], uint32(typ))
	} else {
		ne.PutUint32(b[0:], uint32(unix.CmsgLen(len(data))))
		ne.PutUint32(b[4:], uint32(level))
		ne.PutUint32(b[8:], uint32(typ))
	}
	copy(b[unix.CmsgLen(0):], data)
	return b
}

// TimestampCmsg is the control message the kernel sends with
// SO_TIMESTAMPNS: when it received a packet.
func TimestampCmsg(t time.Time) []byte {
	ts := unix.NsecToTimespec(t.UnixNano())
	return Cmsg(unix.SOL_SOCKET, unix.SCM_TIMESTAMPNS, unsafe.Slice((*byte)(unsafe.Pointer(&ts)), unsafe.Sizeof(ts)))
}

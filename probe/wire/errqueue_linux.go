package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"syscall"

	"golang.org/x/sys/unix"
)

// Errors of ParseErrQueue.
var (
	ErrNoExtendedErr = errors.New("no IP_RECVERR or IPV6_RECVERR control message")
	ErrShortCmsg     = errors.New("truncated control message")
)

// SizeofSockExtendedErr is sizeof(struct sock_extended_err).
const SizeofSockExtendedErr = 16

// ParseErrQueue parses the control messages (oob) of one
// recvmsg(MSG_ERRQUEUE) and returns the extended error they hold. It is
// pure and keeps nothing of oob.
//
// struct sock_extended_err, in host byte order: u32 ee_errno, u8
// ee_origin, u8 ee_type, u8 ee_code, u8 ee_pad, u32 ee_info, u32 ee_data;
// then the offender's struct sockaddr_in or sockaddr_in6 (family
// AF_UNSPEC when there is none).
func ParseErrQueue(oob []byte) (ExtendedErr, error) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return ExtendedErr{}, fmt.Errorf("%w: %w", ErrShortCmsg, err)
	}
	for _, m := range msgs {
		if (m.Header.Level == unix.SOL_IP && m.Header.Type == unix.IP_RECVERR) ||
			(m.Header.Level == unix.SOL_IPV6 && m.Header.Type == unix.IPV6_RECVERR) {
			return parseExtendedErr(m.Data)
		}
	}
	return ExtendedErr{}, ErrNoExtendedErr
}

func parseExtendedErr(b []byte) (ExtendedErr, error) {
	if len(b) < SizeofSockExtendedErr {
		return ExtendedErr{}, fmt.Errorf("%w: sock_extended_err of %d bytes", ErrShortCmsg, len(b))
	}
	ne := binary.NativeEndian
	ee := ExtendedErr{
		Errno:  syscall.Errno(ne.Uint32(b[0:4])),
		Origin: ErrOrigin(b[4]),
		Type:   int(b[5]),
		Code:   int(b[6]),
		Info:   ne.Uint32(b[8:12]),
		Data:   ne.Uint32(b[12:16]),
	}
	sa := b[SizeofSockExtendedErr:]
	if len(sa) < 2 {
		return ee, nil
	}
	switch ne.Uint16(sa[0:2]) {
	case unix.AF_INET:
		if len(sa) < 8 {
			return ExtendedErr{}, fmt.Errorf("%w: offender sockaddr_in of %d bytes", ErrShortCmsg, len(sa))
		}
		ee.Offender = netip.AddrFrom4([4]byte(sa[4:8]))
	case unix.AF_INET6:
		if len(sa) < 24 {
			return ExtendedErr{}, fmt.Errorf("%w: offender sockaddr_in6 of %d bytes", ErrShortCmsg, len(sa))
		}
		ee.Offender = netip.AddrFrom16([16]byte(sa[8:24])).Unmap()
	}
	return ee, nil
}

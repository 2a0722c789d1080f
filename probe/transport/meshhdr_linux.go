package transport

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"github.com/pmtu/pmtu/probe/wire"
)

// headerOOB is the ancillary data that makes the kernel put header h
// (wire.OptionsHeader: 8 bytes, one PadN option) in a datagram sent with
// sendmsg: RFC 3542 §6's IPV6_HOPOPTS or IPV6_DSTOPTS. The header's Next
// Header is the kernel's to fill in.
func headerOOB(h wire.MeshHeader) []byte {
	typ := unix.IPV6_HOPOPTS
	if h == wire.MeshDstOpts {
		typ = unix.IPV6_DSTOPTS
	}
	data := wire.OptionsHeader()
	b := make([]byte, unix.CmsgSpace(len(data)))
	// struct cmsghdr: cmsg_len (a size_t), cmsg_level, cmsg_type (ints).
	lenSize := unix.SizeofCmsghdr - 8
	if lenSize == 8 {
		binary.NativeEndian.PutUint64(b, uint64(unix.CmsgLen(len(data))))
	} else {
		binary.NativeEndian.PutUint32(b, uint32(unix.CmsgLen(len(data))))
	}
	binary.NativeEndian.PutUint32(b[lenSize:], uint32(unix.IPPROTO_IPV6))
	binary.NativeEndian.PutUint32(b[lenSize+4:], uint32(typ))
	copy(b[unix.CmsgLen(0):], data)
	return b
}

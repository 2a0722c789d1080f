package wire

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"github.com/pmtu/pmtu/mtu"
)

// FragSizeSpace is room for the control message of a reassembled
// packet's largest fragment (IP_RECVFRAGSIZE, IPV6_RECVFRAGSIZE).
var FragSizeSpace = unix.CmsgSpace(4)

// ParseFragSize finds, in a read's control messages, the size of the
// largest fragment of a packet the kernel reassembled (IP_RECVFRAGSIZE at
// level IPPROTO_IP, IPV6_RECVFRAGSIZE at IPPROTO_IPV6; a native int): the
// IP packet size, headers included, of the biggest piece that crossed
// the way back. ok is false when there is none, as for a packet that
// arrived whole, or when the value is no IP packet size.
func ParseFragSize(oob []byte) (size mtu.Size, ok bool) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return 0, false
	}
	for _, m := range msgs {
		isFrag := (m.Header.Level == unix.IPPROTO_IP && m.Header.Type == unix.IP_RECVFRAGSIZE) ||
			(m.Header.Level == unix.IPPROTO_IPV6 && m.Header.Type == unix.IPV6_RECVFRAGSIZE)
		if !isFrag || len(m.Data) < 4 {
			continue
		}
		v := int32(binary.NativeEndian.Uint32(m.Data[:4]))
		if v <= 0 || v > int32(mtu.Max) {
			return 0, false
		}
		return mtu.Size(v), true
	}
	return 0, false
}

//go:build !linux

package wire

import "github.com/pmtu/pmtu/mtu"

// FragSizeSpace is room for the control message of a reassembled
// packet's largest fragment: none off Linux.
const FragSizeSpace = 0

// ParseFragSize finds no fragment size off Linux.
func ParseFragSize(oob []byte) (mtu.Size, bool) { return 0, false }

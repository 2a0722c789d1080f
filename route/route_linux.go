package route

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pmtu/pmtu/mtu"
)

// userHZ is the kernel's USER_HZ, the unit of rta_cacheinfo.rta_expires
// (jiffies_to_clock_t). It is 100 on every architecture Go supports.
const userHZ = 100

// Get looks dst up in the routing table of the calling thread's network
// namespace, as `ip route get DST` does.
func Get(ctx context.Context, dst netip.Addr) (Route, error) {
	if !dst.IsValid() {
		return Route{}, errors.New("route: invalid destination address")
	}
	if err := ctx.Err(); err != nil {
		return Route{}, err
	}
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return Route{}, os.NewSyscallError("socket", err)
	}
	defer unix.Close(fd)
	if deadline, ok := ctx.Deadline(); ok {
		tv := unix.NsecToTimeval(time.Until(deadline).Nanoseconds())
		if tv.Sec < 0 || (tv.Sec == 0 && tv.Usec <= 0) {
			return Route{}, context.DeadlineExceeded
		}
		if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
			return Route{}, os.NewSyscallError("setsockopt", err)
		}
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return Route{}, os.NewSyscallError("bind", err)
	}
	// A random sequence number, and replies only from the kernel (port
	// ID 0) to our port ID, about that sequence number, as
	// mdlayher/netlink's Validate checks them: a stale or foreign
	// message on the socket is never taken for the answer.
	seq := rand.Uint32() | 1
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return Route{}, os.NewSyscallError("getsockname", err)
	}
	var pid uint32
	if nl, ok := sa.(*unix.SockaddrNetlink); ok {
		pid = nl.Pid
	}
	req := marshalRequest(dst, seq)
	if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return Route{}, os.NewSyscallError("sendto", err)
	}
	buf := make([]byte, 1<<16)
	for {
		n, from, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return Route{}, os.NewSyscallError("recvfrom", err)
		}
		if !fromKernel(from) {
			continue
		}
		r, done, err := parseReplyTo(buf[:n], seq, pid)
		if err != nil {
			return Route{}, fmt.Errorf("route get %s: %w", dst, err)
		}
		if !done {
			continue
		}
		r.Dst = dst
		if r.IfIndex > 0 {
			if ifi, err := net.InterfaceByIndex(r.IfIndex); err == nil {
				r.IfName, r.IfMTU = ifi.Name, mtu.Size(ifi.MTU)
				if !r.Gateway.IsValid() {
					r.Prefix = OnLinkPrefix(ifacePrefixes(ifi), dst)
				}
			}
		}
		return r, nil
	}
}

// ifacePrefixes lists ifi's addresses with their prefix lengths.
func ifacePrefixes(ifi *net.Interface) []netip.Prefix {
	addrs, err := ifi.Addrs()
	if err != nil {
		return nil
	}
	var ps []netip.Prefix
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil {
			ps = append(ps, p)
		}
	}
	return ps
}

// marshalRequest builds an RTM_GETROUTE request for dst.
func marshalRequest(dst netip.Addr, seq uint32) []byte {
	dst = dst.Unmap()
	family, bits := byte(unix.AF_INET), 32
	if dst.Is6() {
		family, bits = unix.AF_INET6, 128
	}
	addr := dst.AsSlice()
	attrLen := unix.SizeofRtAttr + len(addr)
	total := unix.SizeofNlMsghdr + unix.SizeofRtMsg + rtaAlign(attrLen)
	b := make([]byte, total)
	ne := binary.NativeEndian
	ne.PutUint32(b[0:], uint32(total))
	ne.PutUint16(b[4:], unix.RTM_GETROUTE)
	ne.PutUint16(b[6:], unix.NLM_F_REQUEST)
	ne.PutUint32(b[8:], seq)
	rtm := b[unix.SizeofNlMsghdr:]
	rtm[0] = family
	rtm[1] = byte(bits) // rtm_dst_len
	a := rtm[unix.SizeofRtMsg:]
	ne.PutUint16(a[0:], uint16(attrLen))
	ne.PutUint16(a[2:], unix.RTA_DST)
	copy(a[unix.SizeofRtAttr:], addr)
	return b
}

func rtaAlign(n int) int { return (n + unix.RTA_ALIGNTO - 1) &^ (unix.RTA_ALIGNTO - 1) }

// fromKernel reports whether a netlink datagram came from the kernel: its
// sender's port ID is 0. Any other process may send to our socket.
func fromKernel(from unix.Sockaddr) bool {
	nl, ok := from.(*unix.SockaddrNetlink)
	return ok && nl.Family == unix.AF_NETLINK && nl.Pid == 0
}

// parseReply decodes one netlink datagram answering request seq. done is
// false when the datagram held nothing for seq.
func parseReply(b []byte, seq uint32) (r Route, done bool, err error) {
	return parseReplyTo(b, seq, 0)
}

// parseReplyTo is parseReply for the socket of port ID pid: a message
// addressed to another port ID is skipped (0 checks none; the kernel's
// replies carry the requester's port ID, or 0).
func parseReplyTo(b []byte, seq, pid uint32) (r Route, done bool, err error) {
	ne := binary.NativeEndian
	for len(b) >= unix.SizeofNlMsghdr {
		l := int(ne.Uint32(b[0:]))
		if l < unix.SizeofNlMsghdr || l > len(b) {
			return Route{}, false, errors.New("truncated netlink message")
		}
		typ, mseq, mpid := ne.Uint16(b[4:]), ne.Uint32(b[8:]), ne.Uint32(b[12:])
		body := b[unix.SizeofNlMsghdr:l]
		b = b[min(rtaAlign(l), len(b)):]
		if mseq != seq || (pid != 0 && mpid != 0 && mpid != pid) {
			continue
		}
		switch typ {
		case unix.NLMSG_ERROR:
			if len(body) < 4 {
				return Route{}, false, errors.New("truncated netlink error")
			}
			if errno := int32(ne.Uint32(body)); errno != 0 {
				return Route{}, false, unix.Errno(-errno)
			}
		case unix.RTM_NEWROUTE:
			r, err := parseRoute(body)
			return r, true, err
		}
	}
	return Route{}, false, nil
}

// parseRoute decodes the rtmsg and attributes of an RTM_NEWROUTE message.
func parseRoute(b []byte) (Route, error) {
	if len(b) < unix.SizeofRtMsg {
		return Route{}, errors.New("truncated rtmsg")
	}
	r := Route{Type: Type(b[7])} // rtm_type
	var expires int32
	var haveExpires bool
	attrs := b[unix.SizeofRtMsg:]
	err := walkAttrs(attrs, func(typ uint16, v []byte) error {
		switch typ {
		case unix.RTA_OIF:
			if len(v) < 4 {
				return errors.New("short RTA_OIF")
			}
			r.IfIndex = int(binary.NativeEndian.Uint32(v))
		case unix.RTA_PREFSRC:
			r.Src, _ = netip.AddrFromSlice(v)
		case unix.RTA_GATEWAY:
			r.Gateway, _ = netip.AddrFromSlice(v)
		case unix.RTA_METRICS:
			return walkAttrs(v, func(typ uint16, v []byte) error {
				if len(v) < 4 {
					return nil
				}
				val := binary.NativeEndian.Uint32(v)
				switch typ {
				case unix.RTAX_MTU:
					r.MTU = int(val)
				case unix.RTAX_LOCK:
					r.Locked = val&(1<<unix.RTAX_MTU) != 0
				}
				return nil
			})
		case unix.RTA_CACHEINFO:
			// struct rta_cacheinfo: clntref, lastuse, expires (s32), ...
			if len(v) >= 12 {
				expires = int32(binary.NativeEndian.Uint32(v[8:]))
				haveExpires = true
			}
		}
		return nil
	})
	if err != nil {
		return Route{}, err
	}
	if haveExpires && expires > 0 && r.MTU > 0 {
		r.Cached = true
		r.Expires = time.Duration(expires) * time.Second / userHZ
	}
	return r, nil
}

// walkAttrs calls fn for each rtattr in b.
func walkAttrs(b []byte, fn func(typ uint16, v []byte) error) error {
	for len(b) >= unix.SizeofRtAttr {
		l := int(binary.NativeEndian.Uint16(b[0:]))
		typ := binary.NativeEndian.Uint16(b[2:]) &^ unix.NLA_F_NESTED
		if l < unix.SizeofRtAttr || l > len(b) {
			return errors.New("truncated route attribute")
		}
		if err := fn(typ, b[unix.SizeofRtAttr:l]); err != nil {
			return err
		}
		b = b[min(rtaAlign(l), len(b)):]
	}
	return nil
}

package route

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"sync"
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
	r, err := exchange(fd, marshalRequest(dst, seq), func(b []byte) (Route, bool, error) { return parseReplyTo(b, seq, pid) })
	if err != nil {
		return Route{}, fmt.Errorf("route get %s: %w", dst, err)
	}
	r.Dst = dst
	if r.IfIndex > 0 {
		// One RTM_GETLINK for the route's interface, on the same socket:
		// net.InterfaceByIndex dumps every link of the host, which on a
		// node with a veth per pod is most of a search's cost.
		lseq := seq + 2
		l, err := exchange(fd, marshalLinkRequest(r.IfIndex, lseq), func(b []byte) (link, bool, error) { return parseLinkReplyTo(b, lseq, pid) })
		if err == nil {
			r.IfName, r.IfMTU = l.name, mtu.Size(l.mtu)
			if !r.Gateway.IsValid() {
				r.Prefix = OnLinkPrefix(ifacePrefixes(&net.Interface{Index: r.IfIndex, Name: l.name}), dst)
			}
		}
	}
	return r, nil
}

// exchange sends req on the netlink socket fd and reads datagrams from
// the kernel until parse finds its answer in one.
func exchange[T any](fd int, req []byte, parse func([]byte) (T, bool, error)) (T, error) {
	var zero T
	if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return zero, os.NewSyscallError("sendto", err)
	}
	bp := netlinkBufs.Get().(*[]byte)
	defer netlinkBufs.Put(bp)
	buf := *bp
	for {
		n, from, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return zero, os.NewSyscallError("recvfrom", err)
		}
		if !fromKernel(from) {
			continue
		}
		v, done, err := parse(buf[:n])
		if err != nil {
			return zero, err
		}
		if done {
			return v, nil
		}
	}
}

// netlinkBufs are exchange's receive buffers, 64 KiB (a netlink
// datagram's largest): a server that looks up two routes a search would
// otherwise allocate, and collect, a quarter of a megabyte for each.
var netlinkBufs = sync.Pool{New: func() any { b := make([]byte, 1<<16); return &b }}

// link is what Get reads of an interface: its name and MTU.
type link struct {
	name string
	mtu  int
}

// marshalLinkRequest builds an RTM_GETLINK request for one interface
// (no dump: the kernel answers with that link alone).
func marshalLinkRequest(index int, seq uint32) []byte {
	b := newRequest(unix.RTM_GETLINK, seq, unix.SizeofIfInfomsg)
	ifi := b[unix.SizeofNlMsghdr:]
	ifi[0] = unix.AF_UNSPEC
	binary.NativeEndian.PutUint32(ifi[4:], uint32(int32(index)))
	return b
}

// newRequest is a netlink request of type typ and sequence seq with a
// zeroed body of n bytes.
func newRequest(typ uint16, seq uint32, n int) []byte {
	total := unix.SizeofNlMsghdr + n
	b := make([]byte, total)
	ne := binary.NativeEndian
	ne.PutUint32(b[0:], uint32(total))
	ne.PutUint16(b[4:], typ)
	ne.PutUint16(b[6:], unix.NLM_F_REQUEST)
	ne.PutUint32(b[8:], seq)
	return b
}

// parseLinkReplyTo decodes one netlink datagram answering the
// RTM_GETLINK request seq of the socket of port ID pid: the link's
// IFLA_IFNAME and IFLA_MTU. done is false when the datagram held nothing
// for seq.
func parseLinkReplyTo(b []byte, seq, pid uint32) (l link, done bool, err error) {
	body, found, err := findReply(b, seq, pid, unix.RTM_NEWLINK)
	if err != nil || !found {
		return link{}, false, err
	}
	if len(body) < unix.SizeofIfInfomsg {
		return link{}, false, errors.New("truncated ifinfomsg")
	}
	err = walkAttrs(body[unix.SizeofIfInfomsg:], func(typ uint16, v []byte) error {
		switch typ {
		case unix.IFLA_IFNAME:
			if i := bytes.IndexByte(v, 0); i >= 0 {
				v = v[:i]
			}
			l.name = string(v)
		case unix.IFLA_MTU:
			if len(v) < 4 {
				return errors.New("short IFLA_MTU")
			}
			l.mtu = int(binary.NativeEndian.Uint32(v))
		}
		return nil
	})
	if err == nil && (l.name == "" || l.mtu == 0) {
		err = errors.New("link without a name or an MTU")
	}
	return l, err == nil, err
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
	b := newRequest(unix.RTM_GETROUTE, seq, unix.SizeofRtMsg+rtaAlign(attrLen))
	ne := binary.NativeEndian
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
	body, found, err := findReply(b, seq, pid, unix.RTM_NEWROUTE)
	if err != nil || !found {
		return Route{}, false, err
	}
	r, err = parseRoute(body)
	return r, true, err
}

// findReply looks in one netlink datagram for the answer to request seq
// of the socket of port ID pid: a message addressed to another port ID
// or about another request is skipped (pid 0 checks none; the kernel's
// replies carry the requester's port ID, or 0). It returns the body of
// the first message of type want, or the errno of an NLMSG_ERROR; found
// is false when the datagram held neither.
func findReply(b []byte, seq, pid uint32, want uint16) (body []byte, found bool, err error) {
	ne := binary.NativeEndian
	for len(b) >= unix.SizeofNlMsghdr {
		l := int(ne.Uint32(b[0:]))
		if l < unix.SizeofNlMsghdr || l > len(b) {
			return nil, false, errors.New("truncated netlink message")
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
				return nil, false, errors.New("truncated netlink error")
			}
			if errno := int32(ne.Uint32(body)); errno != 0 {
				return nil, false, unix.Errno(-errno)
			}
		case want:
			return body, true, nil
		}
	}
	return nil, false, nil
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

package route

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"golang.org/x/sys/unix"
)

// attr is one rtattr.
func attr(typ uint16, v []byte) []byte {
	b := make([]byte, rtaAlign(unix.SizeofRtAttr+len(v)))
	binary.NativeEndian.PutUint16(b[0:], uint16(unix.SizeofRtAttr+len(v)))
	binary.NativeEndian.PutUint16(b[2:], typ)
	copy(b[unix.SizeofRtAttr:], v)
	return b
}

func u32(v uint32) []byte { b := make([]byte, 4); binary.NativeEndian.PutUint32(b, v); return b }

// errnoBody is an NLMSG_ERROR body: the negated errno.
func errnoBody(e unix.Errno) []byte {
	b := make([]byte, 4)
	binary.NativeEndian.PutUint32(b, uint32(-int32(e)))
	return b
}

// message is a netlink message of type typ and sequence seq.
func message(typ uint16, seq uint32, body []byte) []byte {
	b := make([]byte, unix.SizeofNlMsghdr, unix.SizeofNlMsghdr+len(body))
	binary.NativeEndian.PutUint32(b[0:], uint32(unix.SizeofNlMsghdr+len(body)))
	binary.NativeEndian.PutUint16(b[4:], typ)
	binary.NativeEndian.PutUint32(b[8:], seq)
	return append(b, body...)
}

// newRoute is an RTM_NEWROUTE body as the kernel sends for `ip route get`
// with a PMTU exception: oif 7, prefsrc, mtu 1400 locked, 599 s left.
func newRoute(expires int32) []byte {
	body := make([]byte, unix.SizeofRtMsg)
	body[0] = unix.AF_INET
	body[7] = unix.RTN_UNICAST
	cache := make([]byte, 32)
	binary.NativeEndian.PutUint32(cache[8:], uint32(expires))
	metrics := append(attr(unix.RTAX_MTU, u32(1400)), attr(unix.RTAX_LOCK, u32(1<<unix.RTAX_MTU))...)
	body = append(body, attr(unix.RTA_OIF, u32(7))...)
	body = append(body, attr(unix.RTA_PREFSRC, []byte{198, 18, 0, 1})...)
	body = append(body, attr(unix.RTA_GATEWAY, []byte{198, 18, 0, 2})...)
	body = append(body, attr(unix.RTA_METRICS|unix.NLA_F_NESTED, metrics)...)
	return append(body, attr(unix.RTA_CACHEINFO, cache)...)
}

func TestParseReply(t *testing.T) {
	tests := []struct {
		name      string
		b         []byte
		want      Route
		done      bool
		err       error
		malformed bool
	}{
		{
			name: "exception",
			b:    message(unix.RTM_NEWROUTE, 1, newRoute(59900)),
			want: Route{Src: netip.MustParseAddr("198.18.0.1"), Gateway: netip.MustParseAddr("198.18.0.2"), IfIndex: 7,
				Type: Unicast, MTU: 1400, Cached: true, Expires: 599 * time.Second, Locked: true},
			done: true,
		},
		{
			name: "route metric only, no exception",
			b:    message(unix.RTM_NEWROUTE, 1, newRoute(0)),
			want: Route{Src: netip.MustParseAddr("198.18.0.1"), Gateway: netip.MustParseAddr("198.18.0.2"), IfIndex: 7,
				Type: Unicast, MTU: 1400, Locked: true},
			done: true,
		},
		{name: "another request's answer", b: message(unix.RTM_NEWROUTE, 9, newRoute(1))},
		{name: "kernel error", b: message(unix.NLMSG_ERROR, 1, errnoBody(unix.ENETUNREACH)), err: unix.ENETUNREACH},
		{name: "truncated", b: message(unix.RTM_NEWROUTE, 1, newRoute(1))[:30], malformed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, done, err := parseReply(tt.b, 1)
			if tt.malformed {
				if err == nil {
					t.Fatal("no error for a truncated message")
				}
				return
			}
			if !errors.Is(err, tt.err) || done != tt.done {
				t.Fatalf("done %v err %v, want %v %v", done, err, tt.done, tt.err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateComparable(netip.Addr{}, netip.Prefix{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestOnLinkPrefix(t *testing.T) {
	addrs := []netip.Prefix{
		netip.MustParsePrefix("fe80::1/64"),
		netip.MustParsePrefix("198.18.0.1/16"),
		netip.MustParsePrefix("198.18.1.1/24"),
		netip.MustParsePrefix("2001:db8:1::1/64"),
	}
	tests := []struct {
		dst  string
		want string // "" for none
	}{
		{"198.18.1.255", "198.18.1.1/24"}, // the longest prefix wins
		{"198.18.2.7", "198.18.0.1/16"},
		{"::ffff:198.18.1.9", "198.18.1.1/24"},
		{"2001:db8:1::ffff", "2001:db8:1::1/64"},
		{"fe80::2%eth0", "fe80::1/64"},
		{"198.19.0.1", ""},
	}
	for _, tt := range tests {
		var want netip.Prefix
		if tt.want != "" {
			want = netip.MustParsePrefix(tt.want)
		}
		if got := OnLinkPrefix(addrs, netip.MustParseAddr(tt.dst)); got != want {
			t.Errorf("OnLinkPrefix(%s) = %v, want %v", tt.dst, got, want)
		}
	}
}

// withPID sets the nlmsg_pid of the netlink message b.
func withPID(b []byte, pid uint32) []byte {
	binary.NativeEndian.PutUint32(b[12:], pid)
	return b
}

// Replies are taken only for our sequence number and port ID, and only
// from the kernel.
func TestReplyValidation(t *testing.T) {
	const seq, pid = 0x5eed, 4242
	tests := []struct {
		name string
		b    []byte
		done bool
	}{
		{"ours", withPID(message(unix.RTM_NEWROUTE, seq, newRoute(0)), pid), true},
		{"kernel's port id 0", withPID(message(unix.RTM_NEWROUTE, seq, newRoute(0)), 0), true},
		{"another socket's", withPID(message(unix.RTM_NEWROUTE, seq, newRoute(0)), pid+1), false},
		{"another sequence number", withPID(message(unix.RTM_NEWROUTE, seq+1, newRoute(0)), pid), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, done, err := parseReplyTo(tt.b, seq, pid)
			if err != nil || done != tt.done {
				t.Fatalf("done %v err %v, want done %v", done, err, tt.done)
			}
		})
	}
	for _, tt := range []struct {
		name string
		from unix.Sockaddr
		want bool
	}{
		{"kernel", &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Pid: 0}, true},
		{"a process", &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Pid: 1234}, false},
		{"not netlink", &unix.SockaddrInet4{}, false},
		{"nil", nil, false},
	} {
		if got := fromKernel(tt.from); got != tt.want {
			t.Errorf("fromKernel(%s) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// The kernel says which addresses are the host's own.
func TestGetLocalType(t *testing.T) {
	r, err := Get(context.Background(), netip.MustParseAddr("127.0.0.1"))
	if err != nil {
		t.Skipf("no route to 127.0.0.1 here: %v", err)
	}
	if r.Type != Local {
		t.Errorf("127.0.0.1: route type %d, want Local (%d)", r.Type, Local)
	}
}

func TestGetLoopback(t *testing.T) {
	for _, a := range []string{"127.0.0.1", "::1"} {
		r, err := Get(context.Background(), netip.MustParseAddr(a))
		if err != nil {
			t.Skipf("no route to %s here: %v", a, err)
		}
		if r.IfName != "lo" || r.IfMTU < 1280 {
			t.Errorf("%s: interface %q MTU %d, want lo with its MTU", a, r.IfName, r.IfMTU)
		}
	}
}

func FuzzParseReply(f *testing.F) {
	f.Add(message(unix.RTM_NEWROUTE, 1, newRoute(59900)))
	f.Add(message(unix.NLMSG_ERROR, 1, u32(1)))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _, _ = parseReply(b, 1) // must not panic or read past the end
	})
}

// newLink is an RTM_NEWLINK body as the kernel answers RTM_GETLINK for
// one interface: an ifinfomsg, then its attributes, the name
// NUL-terminated.
func newLink(name string, mtu uint32) []byte {
	body := make([]byte, unix.SizeofIfInfomsg)
	binary.NativeEndian.PutUint32(body[4:], 7)
	body = append(body, attr(unix.IFLA_TXQLEN, u32(1000))...)
	body = append(body, attr(unix.IFLA_IFNAME, append([]byte(name), 0))...)
	return append(body, attr(unix.IFLA_MTU, u32(mtu))...)
}

func TestParseLinkReply(t *testing.T) {
	const seq, pid = 0x5eed, 4242
	tests := []struct {
		name    string
		b       []byte
		want    link
		done    bool
		wantErr bool
	}{
		{"the link", withPID(message(unix.RTM_NEWLINK, seq, newLink("veth0", 1450)), pid), link{"veth0", 1450}, true, false},
		{"another request's", withPID(message(unix.RTM_NEWLINK, seq+1, newLink("veth0", 1450)), pid), link{}, false, false},
		{"another socket's", withPID(message(unix.RTM_NEWLINK, seq, newLink("veth0", 1450)), pid+1), link{}, false, false},
		{"no such device", withPID(message(unix.NLMSG_ERROR, seq, errnoBody(unix.ENODEV)), pid), link{}, false, true},
		{"no MTU", withPID(message(unix.RTM_NEWLINK, seq, append(make([]byte, unix.SizeofIfInfomsg), attr(unix.IFLA_IFNAME, []byte("lo\x00"))...)), pid), link{}, false, true},
		{"truncated ifinfomsg", withPID(message(unix.RTM_NEWLINK, seq, make([]byte, 8)), pid), link{}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, done, err := parseLinkReplyTo(tt.b, seq, pid)
			if (err != nil) != tt.wantErr || done != tt.done || (done && got != tt.want) {
				t.Errorf("%+v done %v err %v; want %+v done %v, error %v", got, done, err, tt.want, tt.done, tt.wantErr)
			}
		})
	}
	req := marshalLinkRequest(7, seq)
	if len(req) != unix.SizeofNlMsghdr+unix.SizeofIfInfomsg || binary.NativeEndian.Uint16(req[4:]) != unix.RTM_GETLINK ||
		binary.NativeEndian.Uint16(req[6:])&unix.NLM_F_DUMP != 0 || binary.NativeEndian.Uint32(req[unix.SizeofNlMsghdr+4:]) != 7 {
		t.Errorf("request % x: want one RTM_GETLINK for index 7, no dump", req)
	}
}

// Get's one-link lookup agrees with net.InterfaceByIndex's dump.
func TestGetInterfaceAgrees(t *testing.T) {
	for _, a := range []string{"127.0.0.1", "::1"} {
		r, err := Get(context.Background(), netip.MustParseAddr(a))
		if err != nil {
			t.Skipf("no route to %s here: %v", a, err)
		}
		ifi, err := net.InterfaceByIndex(r.IfIndex)
		if err != nil {
			t.Fatal(err)
		}
		if r.IfName != ifi.Name || int(r.IfMTU) != ifi.MTU {
			t.Errorf("%s: interface %s MTU %d, net.InterfaceByIndex says %s MTU %d", a, r.IfName, r.IfMTU, ifi.Name, ifi.MTU)
		}
	}
}

func FuzzParseLinkReply(f *testing.F) {
	f.Add(message(unix.RTM_NEWLINK, 1, newLink("eth0", 1500)))
	f.Add(message(unix.NLMSG_ERROR, 1, u32(1)))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _, _ = parseLinkReplyTo(b, 1, 0) // must not panic or read past the end
	})
}

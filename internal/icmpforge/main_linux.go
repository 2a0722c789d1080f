// Command icmpforge is an on-path attacker for pmtu's namespace tests. Run
// inside a router's network namespace, it watches one interface for Echo
// Request probes (AF_PACKET, so it sees forwarded traffic) and answers each
// with forged Fragmentation Needed (IPv4) or Packet Too Big (IPv6) messages
// from the router's own address:
//
//   - one quoting a probe that was never sent (sequence and data changed),
//   - one quoting the real probe with an MTU above the probe's size,
//   - one quoting the real probe with an MTU below the floor (the classic
//     attack: RFC 5927 §7).
//
// A correct prober ignores all three. It exits after -for or -max probes.
// It is for tests only: it sends nothing but to the probe's source.
//
// With -quote8 it plays an old router instead: every packet that arrives
// with hop limit 1 (whose Time Exceeded the router owes) is answered with
// a Time Exceeded quoting its IP header and only the 8 bytes past it that
// RFC 792 asks for, as routers that do not follow RFC 1812 do. The
// router's own Time Exceeded must be dropped (nft) for the test to mean
// anything.
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/pmtu/pmtu/internal/probetest"
	"golang.org/x/sys/unix"
)

func main() {
	ifname := flag.String("i", "", "interface to watch (the one facing the prober)")
	from4 := flag.String("from4", "", "IPv4 source of the forged messages")
	from6 := flag.String("from6", "", "IPv6 source of the forged messages")
	dur := flag.Duration("for", 30*time.Second, "how long to run")
	maxProbes := flag.Int("max", 1000, "stop after answering this many probes")
	quote8 := flag.Bool("quote8", false, "answer packets arriving with hop limit 1 with a Time Exceeded quoting 8 bytes, instead of forging Frag Needed")
	flag.Parse()
	if err := run(*ifname, *from4, *from6, *dur, *maxProbes, *quote8); err != nil {
		fmt.Fprintln(os.Stderr, "icmpforge:", err)
		os.Exit(1)
	}
}

func run(ifname, from4, from6 string, dur time.Duration, maxProbes int, quote8 bool) error {
	ifi, err := net.InterfaceByName(ifname)
	if err != nil {
		return err
	}
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM, int(htons(unix.ETH_P_ALL)))
	if err != nil {
		return os.NewSyscallError("socket", err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifi.Index}); err != nil {
		return os.NewSyscallError("bind", err)
	}
	tv := unix.NsecToTimeval((200 * time.Millisecond).Nanoseconds())
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return os.NewSyscallError("setsockopt", err)
	}
	var c4, c6 net.PacketConn
	if from4 != "" {
		if c4, err = net.ListenPacket("ip4:icmp", from4); err != nil {
			return err
		}
		defer c4.Close()
	}
	if from6 != "" {
		if c6, err = net.ListenPacket("ip6:ipv6-icmp", from6); err != nil {
			return err
		}
		defer c6.Close()
	}
	fmt.Println("icmpforge: ready") // the test waits for this line
	end := time.Now().Add(dur)
	buf := make([]byte, 1<<16)
	answered := 0
	for time.Now().Before(end) && answered < maxProbes {
		n, sa, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			continue // timeout: look at the clock again
		}
		if ll, ok := sa.(*unix.SockaddrLinklayer); ok && ll.Pkttype == unix.PACKET_OUTGOING {
			continue
		}
		pkt := buf[:n]
		switch {
		case quote8 && len(pkt) >= 28 && pkt[0]>>4 == 4 && pkt[8] == 1 && c4 != nil:
			timeExceeded8(c4, pkt, false)
			answered++
		case quote8 && len(pkt) >= 48 && pkt[0]>>4 == 6 && pkt[7] == 1 && c6 != nil:
			timeExceeded8(c6, pkt, true)
			answered++
		case quote8:
		case len(pkt) >= 28 && pkt[0]>>4 == 4 && pkt[9] == 1 && pkt[20] == 8 && c4 != nil:
			forge(c4, pkt, false)
			answered++
		case len(pkt) >= 48 && pkt[0]>>4 == 6 && pkt[6] == 58 && pkt[40] == 128 && c6 != nil:
			forge(c6, pkt, true)
			answered++
		}
	}
	if quote8 {
		fmt.Printf("icmpforge: answered %d packets with a Time Exceeded quoting 8 bytes\n", answered)
	} else {
		fmt.Printf("icmpforge: answered %d probes with 3 forged messages each\n", answered)
	}
	return nil
}

// timeExceeded8 sends pkt's source a Time Exceeded quoting pkt's IP
// header and the 8 bytes after it: RFC 792's minimum.
func timeExceeded8(c net.PacketConn, pkt []byte, ipv6 bool) {
	hl, typ, src := int(pkt[0]&0x0f)*4, 11, net.IP(pkt[12:16])
	if ipv6 {
		hl, typ, src = 40, 3, net.IP(pkt[8:24])
	}
	if len(pkt) < hl+8 {
		return
	}
	_, _ = c.WriteTo(probetest.Error(ipv6, typ, 0, 0, pkt[:hl+8]), &net.IPAddr{IP: src})
}

// forge sends the three forged messages about probe pkt to its source.
func forge(c net.PacketConn, pkt []byte, ipv6 bool) {
	hl, size := 20, int(binary.BigEndian.Uint16(pkt[2:4]))
	src := net.IP(pkt[12:16])
	floor := 68
	if ipv6 {
		hl, size = 40, 40+int(binary.BigEndian.Uint16(pkt[4:6]))
		src = net.IP(pkt[8:24])
		floor = 1280
	}
	never := append([]byte(nil), pkt...)
	seq := binary.BigEndian.Uint16(never[hl+6:])
	binary.BigEndian.PutUint16(never[hl+6:], seq+1000)
	for i := hl + 8; i < len(never) && i < hl+16; i++ {
		never[i] ^= 0x5a
	}
	for _, m := range []struct {
		quote []byte
		mtu   int
	}{
		{never, size - 100},
		{pkt, size + 100},
		{pkt, floor - 28},
	} {
		typ, code := 3, 4 // Fragmentation Needed
		if ipv6 {
			typ, code = 2, 0 // Packet Too Big
		}
		_, _ = c.WriteTo(probetest.Error(ipv6, typ, code, m.mtu, m.quote), &net.IPAddr{IP: src})
	}
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

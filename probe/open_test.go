package probe

import (
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/pmtu/pmtu/probe/transport"
)

func TestMethodOf(t *testing.T) {
	if got := methodOf(&transport.ICMPConn{}); got != "icmp" {
		t.Errorf("methodOf(ICMPConn) = %q", got)
	}
	if got := methodOf(&transport.TCPConn{}); got != "tcp" {
		t.Errorf("methodOf(TCPConn) = %q", got)
	}
	if got := methodOf(nil); got != "" {
		t.Errorf("methodOf(nil) = %q", got)
	}
}

// Unprivileged, a prober still opens on loopback and says which method;
// run as root, it is the raw one.
func TestOpenLoopback(t *testing.T) {
	var log strings.Builder
	tg := &Target{Addr: netip.MustParseAddr("127.0.0.1"), opts: Options{Proto: ProtoICMP, Log: func(line string) { log.WriteString(line) }, sys: kernel}}
	c, m, err := tg.open(false)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if os.Geteuid() == 0 && m != "icmp" {
		t.Errorf("as root the method is %q", m)
	}
	if !strings.Contains(log.String(), "with method "+string(m)) {
		t.Errorf("Log says %q, want the method %s", log.String(), m)
	}
}

package wire

import (
	"bufio"
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pmtu/pmtu/internal/probetest"
)

func helloConfig(t testing.TB, name string) HelloConfig {
	t.Helper()
	k, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	cfg := HelloConfig{ServerName: name, KeyShare: k.PublicKey().Bytes()}
	_, _ = rand.Read(cfg.Random[:])
	_, _ = rand.Read(cfg.SessionID[:])
	return cfg
}

func TestMarshalClientHelloSizes(t *testing.T) {
	for _, name := range []string{"www.example", "198.18.2.2", ""} {
		cfg := helloConfig(t, name)
		min := MinClientHello(cfg)
		sizes := []int{1348, 1448, 8948, 65000}
		for n := min; n < min+40; n++ {
			sizes = append(sizes, n)
		}
		for n := 16370; n < 16420; n++ { // around one record's end
			sizes = append(sizes, n, n+16389)
		}
		for _, n := range sizes {
			b, err := MarshalClientHello(cfg, n)
			if err != nil {
				t.Fatalf("%q, %d bytes: %v", name, n, err)
			}
			if len(b) != n {
				t.Fatalf("%q: %d bytes, want %d", name, len(b), n)
			}
			// The records hold one handshake message of the length it
			// says, and nothing else.
			var msg []byte
			for rest := b; len(rest) > 0; {
				if len(rest) < 5 || rest[0] != 0x16 {
					t.Fatalf("%q, %d: a record does not start at %d", name, n, len(b)-len(rest))
				}
				l := int(binary.BigEndian.Uint16(rest[3:5]))
				if l > 1<<14 || l == 0 || len(rest) < 5+l {
					t.Fatalf("%q, %d: record of %d bytes, %d left", name, n, l, len(rest)-5)
				}
				msg = append(msg, rest[5:5+l]...)
				rest = rest[5+l:]
			}
			if msg[0] != 1 || int(msg[1])<<16|int(msg[2])<<8|int(msg[3]) != len(msg)-4 {
				t.Fatalf("%q, %d: handshake header %x for a %d-byte message", name, n, msg[:4], len(msg))
			}
			if got := strings.Contains(string(msg), "www.example"); got != (name == "www.example") {
				t.Errorf("%q: SNI present %v", name, got)
			}
		}
		if _, err := MarshalClientHello(cfg, min-1); !errors.Is(err, ErrSize) {
			t.Errorf("%q, %d bytes: %v, want ErrSize", name, min-1, err)
		}
		if _, err := MarshalClientHello(cfg, 70000); !errors.Is(err, ErrSize) {
			t.Errorf("%q, 70000 bytes: %v, want ErrSize", name, err)
		}
	}
}

// TestClientHelloServerAnswers hands the padded hellos to Go's TLS server:
// it must answer with a handshake record (its ServerHello), not an alert.
func TestClientHelloServerAnswers(t *testing.T) {
	cert, err := probetest.Certificate()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		max  uint16
		n    int
	}{
		{"TLS 1.3, one record", tls.VersionTLS13, 1448},
		{"TLS 1.3, two records", tls.VersionTLS13, 20000},
		{"TLS 1.2 only", tls.VersionTLS12, 1448},
		{"TLS 1.3, smallest", tls.VersionTLS13, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := helloConfig(t, "www.example")
			n := tt.n
			if n == 0 {
				n = MinClientHello(cfg)
			}
			b, err := MarshalClientHello(cfg, n)
			if err != nil {
				t.Fatal(err)
			}
			client, server := net.Pipe()
			defer client.Close()
			srv := tls.Server(server, &tls.Config{Certificates: []tls.Certificate{cert}, MaxVersion: tt.max})
			done := make(chan error, 1)
			go func() { done <- srv.Handshake(); server.Close() }()
			go func() { _, _ = client.Write(b) }()
			var head [5]byte
			_ = client.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, err := client.Read(head[:]); err != nil {
				t.Fatalf("no answer: %v (server: %v)", err, <-done)
			}
			if head[0] != 0x16 {
				client.Close()
				t.Fatalf("the server answered a record of type %d, not a handshake (server: %v)", head[0], <-done)
			}
		})
	}
}

func TestMarshalHEAD(t *testing.T) {
	for _, host := range []string{"www.example", "2001:db8:2::2", "198.18.2.2"} {
		min := MinHEAD(host)
		for n := min; n < min+1100; n += 7 {
			checkHEAD(t, host, n)
		}
		for _, n := range []int{min + 1013, min + 1014, min + 1026, min + 1027, min + 1028, 1448, 8948, 65000} {
			checkHEAD(t, host, n)
		}
		if _, err := MarshalHEAD(host, min-1); !errors.Is(err, ErrSize) {
			t.Errorf("%q, %d bytes: %v, want ErrSize", host, min-1, err)
		}
	}
}

func checkHEAD(t *testing.T, host string, n int) {
	t.Helper()
	b, err := MarshalHEAD(host, n)
	if err != nil {
		t.Fatalf("%q, %d: %v", host, n, err)
	}
	if len(b) != n {
		t.Fatalf("%q: %d bytes, want %d", host, len(b), n)
	}
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(b)))
	if err != nil {
		t.Fatalf("%q, %d: %v", host, n, err)
	}
	wantHost := host
	if strings.Contains(host, ":") {
		wantHost = "[" + host + "]"
	}
	if req.Method != "HEAD" || req.Host != wantHost || !req.Close {
		t.Fatalf("%q, %d: %s Host %q close %v", host, n, req.Method, req.Host, req.Close)
	}
	for _, v := range req.Header.Values("X-Pmtu-Padding") {
		if len(v) == 0 || len(v) > 1000 {
			t.Fatalf("%q, %d: a padding header of %d bytes", host, n, len(v))
		}
	}
}

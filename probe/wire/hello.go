package wire

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
)

// The payloads of TCP data probes (method tcp-data): what a web server
// expects on a new connection, padded to an exact length, so that the
// probe is harmless to any server. Port 80 gets an HTTP HEAD request with
// padding headers; any other port a TLS ClientHello with a padding
// extension (RFC 7685), which a server answers with its ServerHello (or
// an alert) and then waits for the rest of a handshake that never comes.

// TLS record and handshake constants (RFC 8446, RFC 5246).
const (
	tlsRecordHeader  = 5
	tlsMaxFragment   = 1 << 14 // the largest record payload (RFC 8446 §5.1)
	tlsHandshake     = 0x16
	tlsClientHello   = 1
	tlsExtPadding    = 21 // RFC 7685
	tlsExtServerName = 0
)

// HelloConfig is what a ClientHello carries besides its padding.
type HelloConfig struct {
	// ServerName is sent as SNI (RFC 6066) unless it is empty or an IP
	// address, which SNI may not carry.
	ServerName string
	// Random and SessionID are the client random and the legacy session
	// ID (RFC 8446 §4.1.2): random bytes, new per connection.
	Random, SessionID [32]byte
	// KeyShare is an X25519 public key (32 bytes) for the key_share
	// extension, so that a TLS 1.3 server answers with a ServerHello and
	// not a HelloRetryRequest.
	KeyShare []byte
}

// MarshalClientHello returns a TLS ClientHello of exactly n bytes, TLS
// record headers included: offering TLS 1.3 and 1.2 with common cipher
// suites, groups and signature algorithms, and ALPN http/1.1, padded
// with the padding extension to n. A hello longer than one record's
// 16384 bytes is split over several records, as RFC 8446 §5.1 allows for
// handshake messages. n must be at least MinClientHello(cfg).
func MarshalClientHello(cfg HelloConfig, n int) ([]byte, error) {
	body := clientHelloBody(cfg)
	base := 4 + len(body) + 4 // handshake header, body, empty padding extension
	ext := int(binary.BigEndian.Uint16(body[helloExtOffset:]))
	for k := 1; k*tlsRecordHeader < n; k++ {
		hs := n - k*tlsRecordHeader
		if hs < base || ext+4+hs-base > 0xffff {
			break // too small; or more padding than the extensions' 16-bit length holds
		}
		if (hs+tlsMaxFragment-1)/tlsMaxFragment > k {
			continue // k records cannot hold it
		}
		msg := make([]byte, 0, hs)
		msg = append(msg, tlsClientHello, byte((hs-4)>>16), byte((hs-4)>>8), byte(hs-4))
		msg = append(msg, body...)
		return records(appendPadding(msg, body, hs-base), k), nil
	}
	return nil, fmt.Errorf("%w: a %d-byte TLS ClientHello (%d to about 65000)", ErrSize, n, MinClientHello(cfg))
}

// MinClientHello is the length of the smallest ClientHello
// MarshalClientHello makes for cfg: one record, an empty padding extension.
func MinClientHello(cfg HelloConfig) int {
	return tlsRecordHeader + 4 + len(clientHelloBody(cfg)) + 4
}

// appendPadding appends the padding extension of pad zero bytes to msg,
// whose last len(body) bytes are body, and fixes the extensions' length.
func appendPadding(msg, body []byte, pad int) []byte {
	off := len(msg) - len(body) + helloExtOffset
	ext := int(binary.BigEndian.Uint16(msg[off:]))
	binary.BigEndian.PutUint16(msg[off:], uint16(ext+4+pad))
	msg = binary.BigEndian.AppendUint16(msg, tlsExtPadding)
	msg = binary.BigEndian.AppendUint16(msg, uint16(pad))
	return append(msg, make([]byte, pad)...)
}

// helloExtOffset is where the extensions' length sits in a ClientHello
// body: version, random, session ID (1+32), cipher suites (2+2·9),
// compression methods (1+1).
const helloExtOffset = 2 + 32 + 1 + 32 + 2 + 2*len9 + 2

const len9 = 9 // cipher suites offered

// clientHelloBody is a ClientHello body without the padding extension.
func clientHelloBody(cfg HelloConfig) []byte {
	b := []byte{0x03, 0x03} // legacy_version TLS 1.2
	b = append(b, cfg.Random[:]...)
	b = append(b, 32)
	b = append(b, cfg.SessionID[:]...)
	suites := [len9]uint16{
		0x1301, 0x1302, 0x1303, // TLS 1.3 AES-128-GCM, AES-256-GCM, ChaCha20
		0xc02b, 0xc02f, 0xc02c, 0xc030, // ECDHE ECDSA/RSA AES-GCM
		0xcca9, 0xcca8, // ECDHE ECDSA/RSA ChaCha20
	}
	b = binary.BigEndian.AppendUint16(b, uint16(2*len(suites)))
	for _, s := range suites {
		b = binary.BigEndian.AppendUint16(b, s)
	}
	b = append(b, 1, 0) // compression: null only
	var ext []byte
	if name := cfg.ServerName; name != "" && !isIP(name) {
		name = strings.TrimSuffix(name, ".")
		e := binary.BigEndian.AppendUint16(nil, uint16(len(name)+3))
		e = append(e, 0) // host_name
		e = binary.BigEndian.AppendUint16(e, uint16(len(name)))
		ext = appendExt(ext, tlsExtServerName, append(e, name...))
	}
	ext = appendExt(ext, 10, []byte{0, 6, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x18}) // supported_groups: x25519, P-256, P-384
	ext = appendExt(ext, 11, []byte{1, 0})                                     // ec_point_formats: uncompressed
	ext = appendExt(ext, 13, []byte{0, 16,                                     // signature_algorithms
		0x04, 0x03, 0x08, 0x04, 0x04, 0x01, 0x05, 0x03, 0x08, 0x05, 0x05, 0x01, 0x08, 0x06, 0x06, 0x01})
	ext = appendExt(ext, 16, []byte{0, 9, 8, 'h', 't', 't', 'p', '/', '1', '.', '1'}) // ALPN
	ext = appendExt(ext, 43, []byte{4, 0x03, 0x04, 0x03, 0x03})                       // supported_versions: 1.3, 1.2
	ext = appendExt(ext, 45, []byte{1, 1})                                            // psk_key_exchange_modes: psk_dhe_ke
	if len(cfg.KeyShare) > 0 {
		ks := binary.BigEndian.AppendUint16(nil, uint16(4+len(cfg.KeyShare)))
		ks = binary.BigEndian.AppendUint16(ks, 0x001d)
		ks = binary.BigEndian.AppendUint16(ks, uint16(len(cfg.KeyShare)))
		ext = appendExt(ext, 51, append(ks, cfg.KeyShare...))
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(ext)))
	return append(b, ext...)
}

func appendExt(b []byte, typ uint16, data []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, typ)
	b = binary.BigEndian.AppendUint16(b, uint16(len(data)))
	return append(b, data...)
}

// records splits a handshake message into k TLS records of about equal
// length, each at most tlsMaxFragment bytes (k records of a longer one
// than k·tlsMaxFragment would not do): k is chosen for the exact length of
// the whole, which one record more or less would miss by 5 bytes.
func records(msg []byte, k int) []byte {
	out := make([]byte, 0, len(msg)+tlsRecordHeader*k)
	for ; k > 0; k-- {
		n := (len(msg) + k - 1) / k
		out = append(out, tlsHandshake, 0x03, 0x01, byte(n>>8), byte(n))
		out = append(out, msg[:n]...)
		msg = msg[n:]
	}
	return out
}

func isIP(s string) bool {
	_, err := netip.ParseAddr(strings.Trim(s, "[]"))
	return err == nil
}

// The HTTP request of port 80.
const (
	httpPadName = "X-Pmtu-Padding: "
	httpPadLine = len(httpPadName) + 1 + 2 // the shortest padding line: a 1-byte value and CRLF
	httpPadMax  = 1000                     // the longest padding value, well below any server's header line limit
)

// MarshalHEAD returns an HTTP/1.1 HEAD request for / of exactly n bytes,
// naming host in its Host header (an IPv6 address in brackets) and
// padded with X-Pmtu-Padding headers of at most 1000 bytes each; it asks
// the server to close the connection after its answer. n must be at least
// MinHEAD(host).
func MarshalHEAD(host string, n int) ([]byte, error) {
	head := httpHead(host)
	r := n - len(head) - 2
	if r < httpPadLine {
		return nil, fmt.Errorf("%w: a %d-byte HTTP request (at least %d)", ErrSize, n, MinHEAD(host))
	}
	b := make([]byte, 0, n)
	b = append(b, head...)
	for r > 0 {
		v := min(r-httpPadLine+1, httpPadMax)
		if left := r - (httpPadLine - 1 + v); left > 0 && left < httpPadLine {
			v -= httpPadLine - left
		}
		b = append(b, httpPadName...)
		b = append(b, strings.Repeat("x", v)...)
		b = append(b, "\r\n"...)
		r -= httpPadLine - 1 + v
	}
	return append(b, "\r\n"...), nil
}

// MinHEAD is the length of the shortest request MarshalHEAD makes for
// host.
func MinHEAD(host string) int { return len(httpHead(host)) + httpPadLine + 2 }

func httpHead(host string) string {
	if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil && a.Is6() {
		host = "[" + a.String() + "]"
	}
	return "HEAD / HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: pmtu (path MTU probe)\r\nConnection: close\r\n"
}

//go:build !linux

package transport

import (
	"errors"
	"fmt"
	"net/netip"
)

// OpenMethod opens method m toward dst. Off Linux only MethodICMP exists,
// where ListenICMP works, and cfg's Interface and Enter are not supported.
func OpenMethod(m Method, dst netip.Addr, cfg *OpenConfig) (Conn, error) {
	if cfg == nil {
		cfg = &OpenConfig{}
	}
	if m != MethodICMP {
		return nil, fmt.Errorf("%s probes: %w", m, errors.ErrUnsupported)
	}
	if cfg.Interface != "" || cfg.Enter != nil {
		return nil, fmt.Errorf("binding to an interface or a namespace: %w", errors.ErrUnsupported)
	}
	return ListenICMP(dst, &ICMPConfig{Src: cfg.Src, Local: cfg.Local, Now: cfg.Now})
}

//go:build !linux

package privilege

import (
	"errors"
	"fmt"
)

// Check is only implemented on Linux: elsewhere both halves of the Report
// carry errors.ErrUnsupported.
func Check() Report {
	return Report{
		NetRawErr: fmt.Errorf("capabilities: %w", errors.ErrUnsupported),
		PingErr:   fmt.Errorf("ping_group_range: %w", errors.ErrUnsupported),
	}
}

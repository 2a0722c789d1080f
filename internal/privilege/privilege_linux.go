package privilege

import (
	"fmt"
	"os"
)

// Check reads the process's effective capabilities, its groups and
// net.ipv4.ping_group_range of its network namespace.
func Check() Report {
	status, errStatus := os.ReadFile("/proc/self/status")
	if errStatus != nil {
		errStatus = fmt.Errorf("capabilities: %w", errStatus)
	}
	rng, errRange := os.ReadFile("/proc/sys/net/ipv4/ping_group_range")
	if errRange != nil {
		errRange = fmt.Errorf("ping_group_range: %w", errRange)
	}
	groups := []uint32{uint32(os.Getegid())}
	more, errGroups := os.Getgroups()
	if errGroups != nil {
		errGroups = fmt.Errorf("groups: %w", errGroups)
	}
	for _, g := range more {
		groups = append(groups, uint32(g))
	}
	return fromSources(status, errStatus, rng, errRange, groups, errGroups)
}

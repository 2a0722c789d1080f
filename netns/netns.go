package netns

import (
	"errors"
	"path/filepath"
	"strings"
)

// Dir is where `ip netns add` keeps named network namespaces.
const Dir = "/run/netns"

// ErrPermission is returned when the process may not enter a namespace.
var ErrPermission = errors.New("entering a network namespace needs root (CAP_SYS_ADMIN)")

// Path returns the file that holds the namespace called name: name itself
// if it holds a slash (a path such as /proc/PID/ns/net), else Dir/name.
func Path(name string) string {
	if strings.ContainsRune(name, '/') {
		return name
	}
	return filepath.Join(Dir, name)
}

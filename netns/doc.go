// Package netns runs code inside a named Linux network namespace, the way
// `ip netns exec NAME` runs a command there, without leaving the process:
// sockets created inside keep their namespace after the thread leaves it,
// so pmtu can open its probe sockets, look up the route and read the
// interfaces of /run/netns/NAME, then probe from anywhere.
//
// # How
//
// Do locks a goroutine to its OS thread, enters the namespace with
// setns(2) (CLONE_NEWNET), runs the function, and returns the thread to the
// namespace it came from before unlocking it. If the way back fails, the
// thread stays locked and dies with its goroutine instead of carrying the
// wrong namespace into the rest of the program. Only the calling thread
// moves: goroutines the function starts, and name lookups through the
// resolver, may run elsewhere and see the original namespace.
//
// Entering a namespace needs CAP_SYS_ADMIN (root). Off Linux every
// function returns errors.ErrUnsupported.
package netns

// Package fleet runs one search per target of a list, many at once, and
// streams the answers out as they come.
//
// It is pure orchestration: it knows neither sockets nor probes. The caller
// hands Run the targets (an iterator, so a list of any length is read as it
// is used; Lines parses a file of hosts), a Search that answers one
// target, and a sink that prints each Result. Run keeps at most
// Config.Parallel searches in flight, hands every Result to the sink in the
// order the searches finish, from one goroutine, and keeps nothing of it but
// the counts of a Summary: its memory grows with Parallel, not with the
// number of targets.
//
// When the context ends, Run starts no more searches, waits for those in
// flight (a Search must return promptly on ctx.Done, with what it proved so
// far) and hands them to the sink as well.
//
// # Host files
//
// Lines reads one host per line: a name, an IPv4 address or an IPv6
// address (brackets allowed). A "#" starts a comment; blank lines and
// comments are skipped. A line that is not one host becomes a Target with
// Err set, named by its line number, and the rest of the file is read on.
package fleet

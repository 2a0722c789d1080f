package check

import (
	"context"
	"fmt"
)

// extHeaders checks IPv6 extension headers forward: Echo Requests that
// carry a Hop-by-Hop or a Destination Options header (one PadN option,
// 8 bytes), small and of the path MTU, each beside a plain one of the
// same size that must be answered for the result to count. An Echo Reply
// never carries them back: the way back is headersBack's, through a pmtu
// mesh responder.
func (rn *runner) extHeaders(ctx context.Context, r *Report) {
	pmtu := rn.pmtu()
	h := &IPv6Headers{}
	r.IPv6Headers = h
	plainSmall := rn.echo(ctx, echoShape{size: smallEcho})
	plainLarge := rn.echo(ctx, echoShape{size: pmtu})
	for _, x := range headerChecks(h) {
		x.hdr.Size = int(pmtu)
		s := x.shape
		s.size = smallEcho
		small := rn.echo(ctx, s)
		s.size = pmtu
		large := rn.echo(ctx, s)
		x.hdr.Small = verdict(small, plainSmall)
		x.hdr.Large = verdict(large, plainLarge)
		var f Finding
		x.hdr.Forward, f = headerFinding(x.fwd, x.name, privilegeRaw, x.hdr.Small, x.hdr.Large, wayThere)
		x.hdr.ForwardWhy = fmt.Sprintf("a %d-byte Echo Request with a %s header: %s; one of %d bytes: %s",
			smallEcho, x.name, verdictText(x.hdr.Small, plainSmall), pmtu, verdictText(x.hdr.Large, plainLarge))
		f.Evidence = x.hdr.ForwardWhy
		r.add(f)
	}
}

// way is one direction of a header's checks, in words.
type way struct {
	dropped, pass, unknown, advice string
}

var (
	wayThere = way{dropped: "are dropped on the way to the target", pass: "pass forward", unknown: "forward: unknown",
		advice: "a router or firewall on the way drops packets with a %s header (RFC 7872, RFC 9098): protocols that need it fail on this path"}
	wayBack = way{dropped: "are dropped on the way back from the target", pass: "pass on the way back", unknown: "on the way back: unknown",
		advice: "a router or firewall on the way back drops packets with a %s header (RFC 7872, RFC 9098): protocols that need it fail toward this host"}
)

// headerFinding is one direction of header name from what its small and
// large packets did: Dropped when either was dropped, Pass when both
// passed, else Unknown; and the finding check that says so (its
// Evidence the caller's).
func headerFinding(check, name, needs, small, large string, w way) (string, Finding) {
	f := Finding{Check: check, Needs: needs}
	switch {
	case small == Dropped || large == Dropped:
		f.Result, f.Summary, f.Advice = Found, fmt.Sprintf("IPv6 %s headers %s", name, w.dropped), fmt.Sprintf(w.advice, name)
		return Dropped, f
	case small == Pass && large == Pass:
		f.Result, f.Summary = OK, fmt.Sprintf("IPv6 %s headers %s", name, w.pass)
		return Pass, f
	}
	f.Result, f.Summary = Unknown, fmt.Sprintf("IPv6 %s headers %s", name, w.unknown)
	return Unknown, f
}

// verdict is what an Echo Request with a header did, next to a plain one
// of its size: a loss counts only where the plain one was answered.
func verdict(with, plain echoAnswer) string {
	switch {
	case with.err != nil:
		return Unknown
	case with.replied:
		return Pass
	case plain.replied:
		return Dropped
	}
	return Unknown
}

func verdictText(v string, plain echoAnswer) string {
	switch {
	case v == Pass:
		return "answered"
	case v == Dropped:
		return "no answer, while a plain one of that size was answered"
	case plain.err != nil:
		return "not sent: " + plain.err.Error()
	}
	return "no answer, and none to a plain one of that size either"
}

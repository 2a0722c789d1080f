package check

import (
	"context"
	"fmt"

	"github.com/pmtu/pmtu/mtu"
)

// fragments checks fragments each way with Echo Requests built by hand:
// a whole one first (does the target answer at all?), then a small one in
// two fragments, whose whole reply proves the forward direction, then
// one the size of two path MTUs, sent in fragments that fit the path,
// whose reply the target must fragment: it proves the return direction
// once the forward one is known.
func (rn *runner) fragments(ctx context.Context, r *Report) {
	fr := &Fragments{}
	r.Fragments[r.Family] = fr
	fam := map[bool]string{false: "IPv4", true: "IPv6"}[rn.v6]
	fwd := Finding{Check: CheckFragmentsForward, Needs: privilegeRaw}
	ret := Finding{Check: CheckFragmentsReturn, Needs: privilegeRaw}
	done := func() {
		for _, f := range []*Finding{&fwd, &ret} {
			if f.Summary == "" {
				f.Summary = fmt.Sprintf("%s fragments %s: %s", fam, map[string]string{CheckFragmentsForward: "forward", CheckFragmentsReturn: "return"}[f.Check], f.Result)
			}
			r.add(*f)
		}
	}
	base := rn.echo(ctx, echoShape{size: smallEcho})
	if base.err != nil {
		why := "the Echo Requests could not be sent: " + base.err.Error()
		fr.Forward, fr.ForwardWhy, fr.Return, fr.ReturnWhy = Unknown, why, Unknown, why
		fwd.Result, fwd.Evidence, ret.Result, ret.Evidence = NotRun, why, NotRun, why
		done()
		return
	}
	if !base.replied {
		why := fmt.Sprintf("the target does not answer whole %d-byte Echo Requests, so fragmented ones prove nothing", smallEcho)
		fr.Forward, fr.ForwardWhy, fr.Return, fr.ReturnWhy = Unknown, why, Unknown, why
		fwd.Result, fwd.Evidence, ret.Result, ret.Evidence = Unknown, why, Unknown, why
		done()
		return
	}
	small := rn.echo(ctx, echoShape{size: smallEcho, per: fragmentPiece})
	switch {
	case small.err != nil:
		fr.Forward, fr.ForwardWhy = Unknown, "not sent: "+small.err.Error()
		fwd.Result = Unknown
	case small.replied:
		fr.Forward = Pass
		fr.ForwardWhy = fmt.Sprintf("a %d-byte Echo Request sent as 2 fragments was answered (a whole one is too)", smallEcho)
		fwd.Result = OK
		fwd.Summary = fam + " fragments pass forward"
	default:
		fr.Forward = Dropped
		fr.ForwardWhy = fmt.Sprintf("a %d-byte Echo Request sent as 2 fragments got no answer in %d tries, while a whole one did", smallEcho, rn.o.tries())
		fwd.Result = Found
		fwd.Summary = fam + " fragments are dropped on the way to the target"
		fwd.Advice = "a firewall or router on the way drops fragments: big UDP (DNS with EDNS, QUIC, VPNs over UDP) breaks; allow fragments, or keep datagrams under the path MTU"
	}
	fwd.Evidence = fr.ForwardWhy

	pmtu := rn.pmtu()
	size := min(2*pmtu, maxFragmentedRequestSize)
	hl := mtu.IPHeader(rn.v6)
	if rn.v6 {
		hl += 8 // the Fragment header
	}
	per := int(pmtu) - hl
	if fr.Forward == Dropped {
		fr.Return = Unknown
		fr.ReturnWhy = "not asked: fragments do not reach the target, so no request can make it fragment a reply"
		ret.Result, ret.Evidence = Unknown, fr.ReturnWhy
		done()
		return
	}
	big := rn.echo(ctx, echoShape{size: size, per: per})
	switch {
	case big.err != nil:
		fr.Return, fr.ReturnWhy = Unknown, "not sent: "+big.err.Error()
		ret.Result = Unknown
	case big.replied && big.frag > 0:
		fr.Return = Pass
		fr.ReturnWhy = fmt.Sprintf("the %d-byte reply to a %d-byte Echo Request came back in fragments (the largest %d bytes)", size, size, big.frag)
		ret.Result = OK
		ret.Summary = fam + " fragments pass on the way back"
	case big.replied:
		fr.Return = Unknown
		fr.ReturnWhy = fmt.Sprintf("the %d-byte reply came back, but this host cannot tell whether it was fragmented (no IP_RECVFRAGSIZE)", size)
		ret.Result = Unknown
	case fr.Forward != Pass:
		fr.Return = Unknown
		fr.ReturnWhy = fmt.Sprintf("a %d-byte Echo Request in fragments got no answer, but fragments do not reach the target either, so the way back is not known", size)
		ret.Result = Unknown
	default:
		fr.Return = Dropped
		fr.ReturnWhy = fmt.Sprintf("fragments reach the target (the forward check passed), but the %d-byte reply, which it must fragment to send back over a %d-byte path, never came in %d tries",
			size, pmtu, rn.o.tries())
		ret.Result = Found
		ret.Summary = fam + " fragments are dropped on the way back from the target"
		ret.Advice = "a firewall or router on the way back drops fragments: big UDP answers (DNS with EDNS, QUIC, VPNs over UDP) vanish; allow fragments toward this host, or make the far end keep datagrams under the path MTU"
	}
	ret.Evidence = fr.ReturnWhy
	done()
}

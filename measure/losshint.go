package measure

import (
	"context"
	"fmt"

	"github.com/pmtu/pmtu/lossprofile"
	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/probe"
)

// lossHint is the line that says a search saw a window, "" when it did
// not. When the search lost sizes below the path MTU it proved (a size
// that passed), those sizes (lossprofile.Suspects) are probed
// lossprofile.HintTries times more, with the path MTU among them twice
// as often as the control, and lossprofile.Hint weighs their losses against the
// control's. Over a target that rate-limits its answers (UDP) nothing
// more is sent: its silence would be its limit.
func lossHint(ctx context.Context, t *probe.Target, res *probe.Result, host string) string {
	if !res.Confirmed || res.ForwardMethod != "" {
		return ""
	}
	counts := make([]lossprofile.Count, 0, len(res.Sizes))
	for _, c := range res.Sizes {
		counts = append(counts, lossprofile.Count{Size: c.Size, Sent: c.Silent + c.Replied, Lost: c.Silent})
	}
	suspects := lossprofile.Suspects(counts, res.PMTU, lossprofile.HintSizes)
	if len(suspects) == 0 {
		return ""
	}
	s, err := t.OpenSampler(res.Method.Proto(), res.Port, 1)
	if err != nil {
		return ""
	}
	defer s.Close()
	if s.Limited() {
		return ""
	}
	// The control twice a round: its loss is the yardstick. The
	// search's own losses are not counted again: they are why the sizes
	// were chosen.
	var batch []mtu.Size
	for range lossprofile.HintTries {
		batch = append(append(batch, res.PMTU), suspects...)
		batch = append(batch, res.PMTU)
	}
	searched := map[mtu.Size]lossprofile.Count{}
	for _, size := range suspects {
		searched[size] = lossprofile.Count{Size: size}
	}
	outs, err := s.Sample(ctx, batch)
	if err != nil {
		return ""
	}
	control := lossprofile.Count{Size: res.PMTU}
	for i, o := range outs {
		size := batch[i]
		c := searched[size]
		if size == res.PMTU {
			c = control
		}
		c.Sent++
		if o != probe.Returned {
			c.Lost++
		}
		if size == res.PMTU {
			control = c
		} else {
			searched[size] = c
		}
	}
	sus := make([]lossprofile.Count, 0, len(suspects))
	for _, size := range suspects {
		sus = append(sus, searched[size])
	}
	w, ok := lossprofile.Hint(sus, control)
	if !ok {
		return ""
	}
	sizes := fmt.Sprintf("%d-byte probes", w.From)
	if w.To != w.From {
		sizes = fmt.Sprintf("probes of %d–%d bytes", w.From, w.To)
	}
	return fmt.Sprintf("%s were lost while %d passed, more than loss explains: a window of lost sizes? pmtu profile %s measures loss by size",
		sizes, res.PMTU, host)
}

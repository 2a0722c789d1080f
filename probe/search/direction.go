package search

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/probe/wire"
)

// Which way a black hole lies (DirectionOf).
const (
	// Forward: probes of the size vanish on the way to the target.
	Forward = "forward"
	// Return: the probes reach the target, and its large replies vanish
	// on the way back (over IPv6, when the Packet Too Big the target is
	// owed is filtered: it cannot cut a reply it does not know is too big).
	Return = "return"
)

// DirectionConfig tunes DirectionOf; nil uses the defaults.
type DirectionConfig struct {
	// Wait is how long a round waits for its answers; 0 means 1 s. Once
	// the control probe is answered, the round waits a few round trips
	// more at most.
	Wait time.Duration
	// Rounds is how many rounds the silent size is tried in; 0 means
	// DefaultTries.
	Rounds int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Trace, if set, is told every event as it is read.
	Trace func(wire.Event)
}

// DirectionOf tells which way a black hole lies, found by probes whose
// answers are as large as they are (ICMP Echo): it probes again over c,
// whose answers are small (UDP to a closed port: a Port Unreachable; TCP:
// a reset), at silent, the smallest size that vanished, beside pass, a
// size that came back, as a control. Each round sends one of each.
//
// It returns Return as soon as a probe of silent is answered: the forward
// path carries it, so the replies were lost coming back. It returns Forward
// when the control came back and silent did not in any round, or a router
// refused silent for its size. It returns "" when the control did not come
// back in the first round: this way of probing does not get through (or
// the round was lost), and silence says nothing; no more rounds are spent
// on it. probes counts what was sent.
func DirectionOf(ctx context.Context, c wire.Conn, pass, silent mtu.Size, cfg *DirectionConfig) (dir string, probes int, err error) {
	if cfg == nil {
		cfg = &DirectionConfig{}
	}
	now, wait, rounds := cfg.Now, cfg.Wait, cfg.Rounds
	if now == nil {
		now = time.Now
	}
	if wait <= 0 {
		wait = time.Second
	}
	if rounds <= 0 {
		rounds = DefaultTries
	}
	controlBack := false
	seq := 0
	for range rounds {
		start := now()
		sizes := map[int]mtu.Size{}
		for _, size := range []mtu.Size{pass, silent} {
			seq++
			if err := c.Send(ctx, wire.Probe{Seq: seq, Size: size}); err != nil {
				return "", probes, fmt.Errorf("sending a %d-byte probe: %w", size, err)
			}
			sizes[seq] = size
			probes++
		}
		deadline := start.Add(wait)
		for len(sizes) > 0 {
			ev, err := c.Recv(deadline)
			if errors.Is(err, os.ErrDeadlineExceeded) {
				break
			}
			if err != nil {
				return "", probes, fmt.Errorf("reading replies: %w", err)
			}
			if cfg.Trace != nil {
				cfg.Trace(ev)
			}
			size, ok := sizes[ev.Seq]
			if !ok || ev.Kind == wire.Ignored {
				continue
			}
			delete(sizes, ev.Seq)
			switch {
			case ev.Kind == wire.Reached && size == silent:
				return Return, probes, nil
			case ev.Kind == wire.Reached:
				controlBack = true
				// The silent size's answer, if it comes, comes about as
				// soon: wait a few round trips more, not a full Wait.
				if dl := now().Add(max(minRoundWait, rttFactor*ev.At.Sub(start))); dl.Before(deadline) {
					deadline = dl
				}
			case ev.Kind == wire.TooBig && size == silent:
				return Forward, probes, nil
			}
		}
		if err := ctx.Err(); err != nil {
			return "", probes, err
		}
		if !controlBack {
			// Nothing this way gets through (a firewall that drops UDP is
			// common): give up rather than wait more rounds.
			return "", probes, nil
		}
	}
	if controlBack {
		return Forward, probes, nil
	}
	return "", probes, nil
}

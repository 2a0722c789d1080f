package search

import "time"

// ReplyLimiter is implemented by a wire.Conn whose proof that a probe
// arrived is an ICMP error from the target (UDP: Port Unreachable). Hosts
// rate-limit those per destination (package ratelimit): Linux sends a
// burst of 6, then one a second. Of a parallel round of 16 probes that
// all arrive, 6 are answered: there, silence is no evidence that a size
// is too big. A search over such a Conn keeps rounds small and slow, so
// the target has the tokens to answer each probe; takes a token of
// Config.Answers, the target's budget shared with other searches, before
// each probe; and sends a control in each round, a probe of a size known
// to pass, whose silence voids the round: others (other addresses of the
// same host, other programs) may have spent the target's answers.
type ReplyLimiter interface {
	// ReplyLimit returns how many answers the target may send at once
	// and how often it may send one more; burst 0 means no limit.
	ReplyLimit() (burst int, every time.Duration)
}

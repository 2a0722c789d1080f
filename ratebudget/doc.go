// Package ratebudget is a token bucket: one packet budget shared by every
// probe of a run, however many searches send them at once.
//
// A Bucket holds up to Burst tokens and gains Rate tokens a second; each
// packet takes one, and a sender with no token waits for the next. Over any
// interval of T seconds a Bucket therefore lets at most Burst + Rate*T
// packets go. It is safe for concurrent use; its clock is injected (Clock),
// so tests advance time instead of sleeping.
//
// The bucket knows nothing of probes: callers wrap their packet conn's send
// in Wait.
package ratebudget

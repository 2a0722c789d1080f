// Package lossprofile measures loss by packet size: how many probes of
// each size a path loses, where that loss changes, and which sizes are
// safe to send. Every path-MTU search assumes a clean step (every size up
// to the MTU passes, every size above is lost); real paths are not always
// so clean:
//
//   - a window: a range of sizes lost while larger sizes pass (a
//     middlebox rule, a buggy tunnel: APNIC saw drops at exactly 1408
//     bytes);
//   - a brownout: above some size, loss is higher than below it (a LAG
//     member with a smaller MTU, a link that corrupts long frames:
//     quic-go#5768, 1% above 1440 bytes);
//   - ECMP branches that differ (probe each flow: measure.Profile with
//     flows).
//
// # Measuring
//
// Run sends probes over a Sampler (probe.Target.OpenSampler) in rounds:
// each round probes every size of a grid once, in a shuffled order, so
// that loss that comes and goes in time falls on every size alike. The
// grid is coarse over the whole range (Grid: at most MaxGrid sizes, at
// least Step bytes apart, the largest size always in it); where a
// window's edge lies between two sizes, the size between them joins the
// grid (a bisection), until the edge is known to the byte. Run stops as
// soon as the statistics have decided (Decided): no edge left to refine,
// and either a brownout seen or one of Detect ruled out; else at its
// probe budget or time.
//
// # Deciding
//
// Analyze, a pure function, turns the counts into bands: adjacent sizes
// whose loss cannot be told apart (their Wilson score intervals at Z
// standard deviations overlap) are merged, the most alike first. Then:
//
//   - the baseline is the band whose loss is most surely low (the lowest
//     upper bound);
//   - a window is a band whose loss is surely above that of a band of
//     larger sizes;
//   - a brownout is the run of bands at the top of the range whose loss
//     is surely above the baseline, with the loss above and below it;
//   - safe_mtu is the largest size whose band cannot be told from the
//     baseline.
//
// With Z = 3 and intervals that must not overlap, two bands are told
// apart only when their losses differ by far more than chance: a clean
// path shows no window and no brownout.
//
// # Budget
//
// The default (DefaultRate probes a second for DefaultDuration) tells a
// 3% brownout above a clean baseline: 10 s at 250 probes a second is
// 2500 probes, over about 20 sizes, about 100 probes each. With the top
// 4 sizes at 3% (about 12 of 400 lost) and the 16 below at 0% (0 of
// 1600), the intervals part in more than 99 runs of 100 (the test
// TestDetectsBrownoutAtDefaults runs it). A clean path is decided sooner:
// once the top 4 sizes' loss is surely below Detect, about 300 probes of
// them, 75 rounds.
//
// Hint is the cheap cousin for pmtu HOST: the sizes a search lost below
// the size it proved (Suspects), probed a few times more beside the path
// MTU as a control, are a window when they are lost more than the
// control's loss explains.
package lossprofile

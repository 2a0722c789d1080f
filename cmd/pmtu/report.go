package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/pmtu/pmtu/explain"
	"github.com/pmtu/pmtu/measure"
	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/probe"
)

// Printing the answer to pmtu HOST (measure.Report) as text or as one
// JSON object, and its exit status.

// fail prints what is known and returns exit code.
func fail(w io.Writer, r *measure.Report, asJSON bool, code int) error {
	if r.Events == nil {
		r.Events = []measure.Event{}
	}
	if asJSON {
		if err := writeJSON(w, r); err != nil {
			return err
		}
		return cli.Exit("pmtu: "+r.Error, code)
	}
	if err := writeUnanswered(w, r); err != nil {
		return err
	}
	return cli.Exit("pmtu: "+r.Error, code)
}

// failAsserting is fail for a search the target did not answer, with
// --expect and --at-least judged on what was proved (judgeUnanswered).
func failAsserting(w io.Writer, r *measure.Report, o findOpts) error {
	err := fail(w, r, o.json, exitNoAnswer)
	if aerr := judgeUnanswered(r, o.expect, o.atLeast); aerr != nil {
		return aerr
	}
	return err
}

// finish prints the answer and checks the assertions.
func finish(w io.Writer, r *measure.Report, o findOpts) error {
	var err error
	if o.json {
		err = writeJSON(w, r)
	} else {
		err = writeText(w, r, o.verbose)
	}
	if err != nil {
		return err
	}
	if msg := r.Assert(o.expect, o.atLeast); msg != "" {
		return cli.Exit("pmtu: assertion failed: "+msg, exitAssertion)
	}
	return nil
}

func writeJSON(w io.Writer, r any) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

func writeText(w io.Writer, r *measure.Report, verbose bool) error {
	var b strings.Builder
	name := hostName(r.Target, r.Address)
	if r.Exact {
		fmt.Fprintf(&b, "path MTU to %s: %d\n", name, r.PMTU)
	} else {
		fmt.Fprintf(&b, "path MTU to %s: at least %d\n", name, r.PMTU)
	}
	switch {
	case r.Source == "cache":
		fmt.Fprintf(&b, "  cached, expires in %v (learned from %s", time.Duration(*r.ExpiresInS)*time.Second, evidenceText(r))
		b.WriteString("); --no-cache probes again\n")
	case r.BlackHoleDirection == probe.BlackHoleReturn && r.Evidence != "icmp":
		fmt.Fprintf(&b, "  Echo Replies larger than %d vanished on the way back (a return-path black hole); "+
			"%s probes, whose answers are small, found the forward path MTU\n", r.Reverse.Max, r.ForwardMethod)
	case r.Evidence == "icmp" && r.LimitingHop == "":
		fmt.Fprintf(&b, "  a router answered %q naming MTU %d (the kernel learnt it for the TCP connections, and keeps no sender); a %d-byte probe came back\n",
			r.LastEventName(), r.PMTU, r.PMTU)
	case r.Evidence == "icmp":
		fmt.Fprintf(&b, "  limited by %s, which answered %q naming MTU %d; a %d-byte probe came back\n",
			r.LimitingHop, r.LastEventName(), r.PMTU, r.PMTU)
	case r.Capped != "":
		fmt.Fprintf(&b, "  a %d-byte probe came back, and %s: try --proto quic or udp for larger ones\n", r.PMTU, r.Capped)
	case !r.Exact:
		fmt.Fprintf(&b, "  a %d-byte probe, the largest this search sent (--max-size), came back; larger sizes were not tried\n", r.PMTU)
	case r.Hi == 0 && r.InterfaceMTU > int(mtu.Max):
		fmt.Fprintf(&b, "  a %d-byte probe, the largest IP packet, came back; the egress interface allows %d\n", r.PMTU, r.InterfaceMTU)
	case r.Hi == 0:
		fmt.Fprintf(&b, "  the egress interface is the limit: a %d-byte probe (its MTU) came back\n", r.PMTU)
	case r.BlackHole:
		fmt.Fprintf(&b, "  no Fragmentation Needed came back: ICMP is filtered on this path (PMTUD black hole); "+
			"path MTU %d proved by probing (%d came back, %d vanished)\n", r.PMTU, r.PMTU, r.Hi)
	default:
		fmt.Fprintf(&b, "  proved by probes: %d bytes came back, %d did not", r.PMTU, r.Hi)
		if len(r.Events) == 0 {
			b.WriteString(", and no router named a size")
		} else {
			b.WriteString(", and routers refused without naming a size (Next-Hop MTU 0, RFC 1191 §5)")
		}
		b.WriteString("\n")
	}
	b.WriteString(directionText(r))
	if line := r.TriedLine(); line != "" {
		fmt.Fprintf(&b, "  %s\n", line)
	}
	fmt.Fprintf(&b, "  TCP MSS %d\n", r.MSS)
	if r.Interface != "" {
		fmt.Fprintf(&b, "  interface %s, MTU %d\n", r.Interface, r.InterfaceMTU)
	}
	if r.Source != "cache" {
		fmt.Fprintf(&b, "  %s in %s, %s", plural(r.Probes, "probe"), plural(r.Rounds, "round trip"), formatMS(r.ElapsedMS))
		if r.Ignored > 0 {
			fmt.Fprintf(&b, "; %s ignored (-v lists them)", plural(r.Ignored, "packet"))
		}
		if r.Voided > 0 {
			fmt.Fprintf(&b, "; %s not counted: the target's rate-limited answers ran out", plural(r.Voided, "round"))
		}
		b.WriteString("\n")
	}
	if r.LossHint != "" {
		fmt.Fprintf(&b, "  %s\n", r.LossHint)
	}
	if t := r.Traffic; t != nil {
		fmt.Fprintf(&b, "  the target's service got %s: %d bytes\n", trafficText(t), t.Bytes)
	}
	if r.Hint != "" {
		fmt.Fprintf(&b, "  %s\n", r.Hint)
	}
	if verbose && r.Flow != nil {
		fmt.Fprintf(&b, "  every probe on one flow: %s\n", r.Flow)
	}
	if verbose {
		for _, ev := range r.IgnoredEvents {
			fmt.Fprintf(&b, "  ignored from %s: %s\n", ev.From, ev.Why)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// trafficText says how a search spoke to the target's service:
// connections (tcp-data) or datagrams (quic).
func trafficText(t *measure.Traffic) string {
	if t.Connections > 0 {
		return plural(t.Connections, "TCP connection")
	}
	return plural(t.Datagrams, "datagram")
}

func evidenceText(r *measure.Report) string {
	if r.Evidence == "icmp" && r.LimitingHop != "" {
		return "an ICMP from " + r.LimitingHop
	}
	return "probes"
}

// family is 4 or 6, as package explain numbers them.
func family(ipv6 bool) int {
	if ipv6 {
		return 6
	}
	return 4
}

// plural is "1 probe", "2 probes".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func formatMS(ms float64) string {
	if ms < 10 {
		return fmt.Sprintf("%.1f ms", ms)
	}
	return (time.Duration(ms*1000) * time.Microsecond).Round(time.Millisecond).String()
}

// traceEvent prints one event for -v.
func traceEvent(w io.Writer, ev probe.Event) {
	switch ev.Kind {
	case probe.Ignored:
		fmt.Fprintf(w, "pmtu: ignored %d bytes from %s: %s\n", ev.Bytes, ev.From, ev.Why)
	case probe.Reached:
		fmt.Fprintf(w, "pmtu: probe %d came back from %s\n", ev.Seq, ev.From)
	default:
		info := explain.Describe(family(ev.IPv6), ev.Type, ev.Code)
		extra := ""
		if ev.Kind == probe.TooBig {
			extra = fmt.Sprintf(", MTU %d", ev.MTU)
		}
		fmt.Fprintf(w, "pmtu: probe %d: %s sent %s%s\n", ev.Seq, ev.From, info.Name, extra)
	}
}

// hostName is how a report names its host: the address, with the name as
// given before it when that was not the address itself.
func hostName(target, address string) string {
	if target == address {
		return address
	}
	return fmt.Sprintf("%s (%s)", target, address)
}

package check

import (
	"github.com/pmtu/pmtu/measure"
)

// Results of a Finding.
const (
	// Found: something on the path breaks big packets (or rewrites them):
	// pmtu check exits 3.
	Found = "found"
	// OK: the check ran and found nothing.
	OK = "ok"
	// Unknown: the check ran and could not tell (what it needed was not
	// visible, or the target did not answer).
	Unknown = "unknown"
	// NotRun: the check could not run here; Why says why.
	NotRun = "not_run"
)

// Directions of fragments and extension headers.
const (
	Pass    = "pass"
	Dropped = "dropped"
)

// Names of the checks, as Finding.Check and the exporter's check label
// give them.
const (
	CheckPathMTU             = "path_mtu"
	CheckMSSClamp            = "mss_clamp"
	CheckStallRisk           = "stall_risk"
	CheckFragmentsForward    = "fragments_forward"
	CheckFragmentsReturn     = "fragments_return"
	CheckHopByHopForward     = "hop_by_hop_forward"
	CheckHopByHopReturn      = "hop_by_hop_return"
	CheckDstOptsForward      = "destination_options_forward"
	CheckDstOptsReturn       = "destination_options_return"
	privilegeRaw             = "root or CAP_NET_RAW (raw IP sockets)"
	privilegeNone            = "none (raw sockets where allowed, else pmtu HOST's unprivileged methods)"
	privilegeResponder       = "none here (a UDP socket); a pmtu mesh responder at the far end, with CAP_NET_RAW to send the headers back"
	defaultTCPPort           = 443
	defaultMaxHops           = 30
	defaultWindow            = 5
	defaultTries             = 2
	smallEcho                = 128 // IP bytes of the small Echo Requests
	fragmentPiece            = 56  // payload bytes in each fragment of the small request
	maxSilentHopsInARow      = 5
	maxFragmentedRequestSize = 65000
)

// Report is what pmtu check found for one target: what `pmtu check HOST
// --json` prints, field for field (docs/json.md).
type Report struct {
	Target  string `json:"target"`
	Address string `json:"address"`
	Family  string `json:"family"`
	// Broken is true when a finding is Found: something on the path
	// breaks (or rewrites) big packets. pmtu check then exits 3.
	Broken bool `json:"broken"`
	// Findings are the checks, in the order they ran, each with what it
	// found, its evidence and advice.
	Findings []Finding `json:"findings"`
	// NotRun lists the checks that could not run here, and why.
	NotRun []Skipped `json:"not_run"`

	// MSSSent is the MSS option of the SYNs sent: what this host's kernel
	// advertises through the egress interface. 0 when not run.
	MSSSent int `json:"mss_sent"`
	// MSSClamp is where the MSS was rewritten; nil when no rewrite was
	// seen.
	MSSClamp *MSSClamp `json:"mss_clamp"`
	// MSSHops is what each hop's Time Exceeded showed of the SYN.
	MSSHops []MSSHop `json:"mss_hops"`
	// SynAckMSS is the MSS the target's SYN-ACK advertised; 0 when none
	// came (port closed or filtered, or not run).
	SynAckMSS int `json:"syn_ack_mss"`
	// SynAckHop is the hop limit at which the target answered.
	SynAckHop int `json:"syn_ack_hop,omitempty"`
	// StallRisk is true when the target's MSS makes segments larger than
	// the path MTU and no router says "too big": a big transfer stalls
	// after the handshake. StallWhy says why it is or is not.
	StallRisk bool   `json:"stall_risk"`
	StallWhy  string `json:"stall_risk_why"`

	// Fragments is what fragments did each way, by family ("ipv4" or
	// "ipv6": the family of the address checked).
	Fragments map[string]*Fragments `json:"fragments"`
	// IPv6Headers is what IPv6 extension headers did; nil for IPv4.
	IPv6Headers *IPv6Headers `json:"ipv6_headers"`

	// PathMTU is `pmtu HOST --json` for the same target: the path MTU
	// and its evidence.
	PathMTU *measure.Report `json:"path_mtu"`
}

// Finding is one check's result: one line of text, with its evidence
// and advice.
type Finding struct {
	Check string `json:"check"`
	// Result is Found, OK, Unknown or NotRun.
	Result   string `json:"result"`
	Summary  string `json:"summary"`
	Evidence string `json:"evidence,omitempty"`
	Advice   string `json:"advice,omitempty"`
	// Needs is the privilege the check needs.
	Needs string `json:"needs"`
}

// Skipped is a check that did not run, and why.
type Skipped struct {
	Check string `json:"check"`
	Why   string `json:"why"`
}

// MSSClamp is where a SYN's MSS option was rewritten: after hop
// AfterHop (AfterAddress), the last hop whose quote still shows the MSS
// sent (0 and this host's address when the first hop already shows the
// change), and before hop Hop (Address), the first whose quote shows
// another. Seen is the MSS that hop quoted; 0 when the option was
// removed.
type MSSClamp struct {
	Hop          int    `json:"hop"`
	Address      string `json:"address"`
	AfterHop     int    `json:"after_hop"`
	AfterAddress string `json:"after_address"`
	Sent         int    `json:"sent"`
	Seen         int    `json:"seen"`
}

// MSSHop is what one hop's Time Exceeded showed of a SYN: the MSS option
// as the SYN reached it when its quote holds the whole TCP header
// (Visible), nothing when it quotes less. Address "" is a hop that did
// not answer.
type MSSHop struct {
	TTL     int    `json:"ttl"`
	Address string `json:"address"`
	// Quoted is how many bytes of the SYN (past its IP header) the
	// quote held.
	Quoted  int  `json:"quoted"`
	Visible bool `json:"visible"`
	// MSS is the option's value in the quote; 0 when not visible or
	// absent.
	MSS int `json:"mss"`
}

// Fragments is what fragments did each way: Pass, Dropped or Unknown,
// with why.
type Fragments struct {
	Forward    string `json:"forward"`
	ForwardWhy string `json:"forward_why"`
	Return     string `json:"return"`
	ReturnWhy  string `json:"return_why"`
}

// IPv6Headers is what IPv6 extension headers did.
type IPv6Headers struct {
	HopByHop           Header `json:"hop_by_hop"`
	DestinationOptions Header `json:"destination_options"`
	// Responder is the pmtu mesh responder asked for the return
	// direction (ADDR:PORT); "" when none was asked.
	Responder string `json:"responder,omitempty"`
}

// Header is what one IPv6 extension header did each way: Forward and
// Return are Pass, Dropped or Unknown. Small and Large say what an Echo
// Request of smallEcho and of Size bytes carrying it did; ReturnSmall
// and ReturnLarge what the responder's acknowledgements carrying it did,
// of smallEcho bytes and of ReturnSize (the path MTU, or 8 bytes less
// for Destination Options, which Linux will not send at the MTU).
type Header struct {
	Forward     string `json:"forward"`
	ForwardWhy  string `json:"forward_why"`
	Return      string `json:"return"`
	ReturnWhy   string `json:"return_why"`
	Small       string `json:"small"`
	Large       string `json:"large"`
	Size        int    `json:"size"`
	ReturnSmall string `json:"return_small,omitempty"`
	ReturnLarge string `json:"return_large,omitempty"`
	ReturnSize  int    `json:"return_size,omitempty"`
}

// add appends a finding, and keeps Broken and NotRun in step.
func (r *Report) add(f Finding) {
	r.Findings = append(r.Findings, f)
	switch f.Result {
	case Found:
		r.Broken = true
	case NotRun:
		r.NotRun = append(r.NotRun, Skipped{Check: f.Check, Why: f.Evidence})
	}
}

// Finding returns the finding of check name, and whether there is one.
func (r *Report) Finding(name string) (Finding, bool) {
	for _, f := range r.Findings {
		if f.Check == name {
			return f, true
		}
	}
	return Finding{}, false
}

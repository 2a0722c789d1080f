package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/pmtu/pmtu/internal/buildinfo"
	"github.com/pmtu/pmtu/internal/privilege"
	"github.com/pmtu/pmtu/probe"
)

// What the version command asks of the world; tests replace them.
var (
	versionBuild = buildinfo.Get
	versionCheck = privilege.Check
)

// newVersionFlag is the root's --version: the same as `pmtu version`.
func newVersionFlag() cli.Flag {
	return &cli.BoolFlag{Name: "version", Usage: "print the version, and which probe methods work here and why (as pmtu version)"}
}

// newVersionCommand builds `pmtu version`.
func newVersionCommand() *cli.Command {
	return &cli.Command{
		Name:      "version",
		Usage:     "print the version, and which probe methods work here and why",
		UsageText: "pmtu version [--json]",
		Description: "pmtu version prints the version, commit and build date, the Go version, and which " +
			"probe methods this process may use now: raw sockets need CAP_NET_RAW (root, or the file " +
			"capability the Debian package sets), ICMP datagram sockets need net.ipv4.ping_group_range " +
			"to admit one of the user's groups, and UDP with IP_RECVERR needs nothing.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print one JSON object instead of text"},
		},
		HideHelpCommand: true,
		Action: func(cCtx *cli.Context) error {
			if cCtx.NArg() > 0 {
				return cli.Exit("pmtu: version takes no arguments (see pmtu version --help)", exitUsage)
			}
			return printVersion(cCtx.App.Writer, cCtx.Bool("json"))
		},
	}
}

// versionReport is what pmtu version prints.
type versionReport struct {
	buildinfo.Info
	CapNetRaw      bool          `json:"cap_net_raw"`
	PingGroupRange *[2]uint32    `json:"ping_group_range"` // null when unreadable
	Groups         []uint32      `json:"groups"`
	PingAdmitted   bool          `json:"ping_group_admitted"`
	Methods        []methodState `json:"methods"`
}

// methodState says whether one probe method can run, and why.
type methodState struct {
	Method probe.Method `json:"method"`
	Usable bool         `json:"usable"`
	Why    string       `json:"why"`
}

// methodStates says, for every method in the order pmtu tries them, whether
// r lets it run.
func methodStates(r privilege.Report) []methodState {
	var out []methodState
	seen := map[probe.Method]bool{}
	for _, p := range probe.Protos {
		for _, m := range p.Methods() {
			if seen[m] {
				continue
			}
			seen[m] = true
			s := methodState{Method: m}
			switch {
			case m.Privileged():
				s.Usable = r.NetRaw
				switch {
				case r.NetRawErr != nil:
					s.Why = "raw sockets; cannot tell: " + r.NetRawErr.Error()
				case r.NetRaw:
					s.Why = "raw sockets: CAP_NET_RAW is effective"
				default:
					s.Why = "raw sockets: no CAP_NET_RAW (run as root, or setcap cap_net_raw+ep on the binary)"
				}
			case m == probe.MethodPing:
				s.Usable = r.PingAdmitted
				switch {
				case r.PingErr != nil:
					s.Why = "ICMP datagram sockets; cannot tell: " + r.PingErr.Error()
				case r.PingAdmitted:
					s.Why = fmt.Sprintf("ICMP datagram sockets: net.ipv4.ping_group_range %q admits group %s", r.PingRange, admittedGroup(r))
				default:
					s.Why = fmt.Sprintf("ICMP datagram sockets: net.ipv4.ping_group_range %q admits none of groups %s", r.PingRange, joinGIDs(r.Groups))
				}
			default:
				s.Usable = true
				s.Why = "needs no privilege"
			}
			out = append(out, s)
		}
	}
	return out
}

func admittedGroup(r privilege.Report) string {
	for _, g := range r.Groups {
		if r.PingRange.Admits(g) {
			return strconv.FormatUint(uint64(g), 10)
		}
	}
	return "?"
}

func joinGIDs(gids []uint32) string {
	s := make([]string, len(gids))
	for i, g := range gids {
		s[i] = strconv.FormatUint(uint64(g), 10)
	}
	return strings.Join(s, ",")
}

// printVersion writes the version report to w, as text or JSON.
func printVersion(w io.Writer, asJSON bool) error {
	r := versionCheck()
	v := versionReport{
		Info:         versionBuild(),
		CapNetRaw:    r.NetRaw,
		Groups:       r.Groups,
		PingAdmitted: r.PingAdmitted,
		Methods:      methodStates(r),
	}
	if r.PingErr == nil {
		v.PingGroupRange = &[2]uint32{r.PingRange.Lo, r.PingRange.Hi}
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	fmt.Fprintf(w, "pmtu %s\n", v.Version)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if v.Commit != "" {
		modified := ""
		if v.Modified {
			modified = " (with uncommitted changes)"
		}
		fmt.Fprintf(tw, "  commit\t%s%s\n", v.Commit, modified)
	}
	if v.Date != "" {
		fmt.Fprintf(tw, "  date\t%s\n", v.Date)
	}
	fmt.Fprintf(tw, "  go\t%s %s\n", v.GoVersion, v.Platform)
	tw.Flush()
	fmt.Fprintln(w, "probe methods this process may use, in the order pmtu tries them:")
	for _, m := range v.Methods {
		usable := "no"
		if m.Usable {
			usable = "yes"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", m.Method, usable, m.Why)
	}
	return tw.Flush()
}

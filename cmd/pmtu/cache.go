package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/pmtu/pmtu/measure"
	"github.com/pmtu/pmtu/netns"
	"github.com/pmtu/pmtu/pmtucache"
	"github.com/pmtu/pmtu/probe"
	"github.com/pmtu/pmtu/route"
)

// exitCacheIO is the exit code when the cache file cannot be read or
// written.
const exitCacheIO = 1

// What the cache command asks of the world; tests replace them.
var (
	cacheNow      = time.Now
	cacheRouteGet = route.Get
	// cacheHere is the identity of the namespace cache list runs in.
	cacheHere = func() pmtucache.Network {
		n, _, _ := pmtucache.CurrentNetwork()
		return n
	}
	// cacheNetnsNames names the namespace instances of entries.
	cacheNetnsNames = netnsNames
)

// newCacheCommand builds `pmtu cache`. Tests build a fresh one per run,
// since urfave/cli changes a command as it runs it.
func newCacheCommand() *cli.Command {
	return &cli.Command{
		Name:  "cache",
		Usage: "show or clear the path MTUs pmtu remembers",
		Description: "pmtu remembers each path MTU it finds for 10 minutes, as the Linux kernel does, " +
			"in --cache-file. list shows the entries beside the kernel's own cached path MTU " +
			"for the same destination; flush removes them.",
		UsageText:       "pmtu cache list [--json]\npmtu cache flush [HOST]",
		HideHelpCommand: true,
		OnUsageError:    cacheUsageError,
		Action:          cacheHelp,
		Subcommands: []*cli.Command{
			{
				Name:      "list",
				Usage:     "show the cached path MTUs and the kernel's view of each destination",
				UsageText: "pmtu cache list [--json]",
				Flags: []cli.Flag{
					&cli.BoolFlag{Name: "json", Usage: "print a JSON array instead of a table"},
				},
				Action:          cacheList,
				OnUsageError:    cacheUsageError,
				HideHelpCommand: true,
			},
			{
				Name:            "flush",
				Usage:           "remove the entries for HOST, or every entry",
				UsageText:       "pmtu cache flush [HOST]",
				Action:          cacheFlush,
				OnUsageError:    cacheUsageError,
				HideHelpCommand: true,
			},
		},
	}
}

// cacheHelp runs for `pmtu cache` without a known subcommand.
func cacheHelp(cCtx *cli.Context) error {
	if cCtx.NArg() > 0 {
		return cli.Exit(fmt.Sprintf("pmtu cache: no command %q: use list or flush", cCtx.Args().First()), exitUsage)
	}
	return cli.ShowSubcommandHelp(cCtx)
}

// cacheUsageError makes a flag error one line and exit 2, as pmtu's own.
func cacheUsageError(cCtx *cli.Context, err error, _ bool) error {
	name := cCtx.Command.HelpName
	if name == "" {
		name = "pmtu cache"
	}
	return cli.Exit(fmt.Sprintf("%s: %v (see %s --help)", name, err, name), exitUsage)
}

// cacheStore returns the store named by --cache-file, or the default one.
func cacheStore(cCtx *cli.Context, cmd string) (*pmtucache.Store, error) {
	s, err := measure.StoreAt(cCtx.String("cache-file"), cacheNow)
	if err != nil {
		return nil, cli.Exit(fmt.Sprintf("pmtu %s: no cache file: %v (name one with --cache-file)", cmd, err), exitCacheIO)
	}
	return s, nil
}

// cacheListJSON is one element of `pmtu cache list --json`.
type cacheListJSON struct {
	Dst         string           `json:"dst"`
	Src         string           `json:"src"`
	Netns       string           `json:"netns"`        // the /run/netns name of the entry's namespace instance, "" if none
	NetnsCookie uint64           `json:"netns_cookie"` // the namespace's cookie (SO_NETNS_COOKIE)
	NetnsInode  uint64           `json:"netns_inode"`  // its inode number when learned (reusable)
	Here        bool             `json:"here"`         // the entry belongs to the namespace instance cache list runs in
	ThisBoot    bool             `json:"this_boot"`    // learned since the machine last started
	Proto       string           `json:"proto"`
	Port        int              `json:"port"`
	Method      string           `json:"method"`
	PMTU        int              `json:"pmtu"`
	Exact       bool             `json:"exact"`        // false: the path MTU is at least pmtu (a --max-size search)
	Refused     int              `json:"refused_size"` // the smallest size known not to pass; 0 if none
	Evidence    string           `json:"evidence"`
	Hop         string           `json:"hop"`
	Interface   string           `json:"interface"`
	IfMTU       int              `json:"interface_mtu"`
	Learned     time.Time        `json:"learned"`
	ExpiresInS  int              `json:"expires_in_s"`
	BelowFloor  bool             `json:"below_floor"`
	Kernel      *cacheKernelJSON `json:"kernel"` // null when not known
}

type cacheKernelJSON struct {
	Cached     bool `json:"cached"` // the kernel holds a path MTU exception for dst
	MTU        int  `json:"mtu"`    // the MTU the kernel applies toward dst: the exception's, else the route's, else 0
	ExpiresInS int  `json:"expires_in_s"`
	Locked     bool `json:"locked"`
}

func cacheList(cCtx *cli.Context) error {
	if cCtx.NArg() > 0 {
		return cli.Exit("pmtu cache list: takes no arguments, got "+strings.Join(cCtx.Args().Slice(), " "), exitUsage)
	}
	// --json after list, or before cache as pmtu's own flag.
	asJSON := false
	for _, c := range cCtx.Lineage() {
		asJSON = asJSON || c.Bool("json")
	}
	st, err := cacheStore(cCtx, "cache list")
	if err != nil {
		return err
	}
	ctx, w, ew := cCtx.Context, cCtx.App.Writer, cCtx.App.ErrWriter
	c, warn := st.Load(ctx)
	if warn != nil {
		fmt.Fprintf(ew, "pmtu: warning: %v\n", warn)
	}
	here := cacheHere()
	rows := pmtucache.WithKernel(ctx, c.Entries(), here, cacheRouteGet)
	for _, r := range rows {
		if r.KernelErr != nil && !errors.Is(r.KernelErr, errors.ErrUnsupported) {
			fmt.Fprintf(ew, "pmtu: warning: the kernel's route to %s: %s\n", r.Dst, measure.PlainErr(r.KernelErr))
			break
		}
	}
	now := cacheNow()
	names := cacheNetnsNames(c.Entries())
	if asJSON {
		err = writeCacheJSON(w, rows, now, here, names)
	} else {
		err = writeCacheTable(w, rows, now, st.Path, here, names)
	}
	if err != nil {
		return cli.Exit(fmt.Sprintf("pmtu cache list: %v", err), exitCacheIO)
	}
	return nil
}

func writeCacheJSON(w io.Writer, rows []pmtucache.Row, now time.Time, here pmtucache.Network, names map[pmtucache.Network]string) error {
	out := make([]cacheListJSON, 0, len(rows))
	for _, r := range rows {
		j := cacheListJSON{
			Dst:         r.Dst.String(),
			Src:         addrOrEmpty(r.Src),
			Netns:       names[r.Net],
			NetnsCookie: r.Net.Cookie,
			NetnsInode:  r.NetnsInode,
			Here:        !here.IsZero() && r.Net == here,
			ThisBoot:    here.Boot != "" && r.Net.Boot == here.Boot,
			Proto:       r.Proto,
			Port:        r.Port,
			Method:      r.Method,
			PMTU:        r.PMTU,
			Exact:       r.Full,
			Refused:     r.Refused,
			Evidence:    string(r.Evidence),
			Hop:         addrOrEmpty(r.Hop),
			Interface:   r.IfName,
			IfMTU:       r.IfMTU,
			Learned:     r.Learned.UTC(),
			ExpiresInS:  int(r.ExpiresIn(now) / time.Second),
			BelowFloor:  r.BelowFloor,
		}
		if k := r.Kernel; k != nil {
			j.Kernel = &cacheKernelJSON{Cached: k.Cached, MTU: k.MTU, ExpiresInS: int(k.Expires / time.Second), Locked: k.Locked}
		}
		out = append(out, j)
	}
	return json.NewEncoder(w).Encode(out)
}

func writeCacheTable(w io.Writer, rows []pmtucache.Row, now time.Time, path string, here pmtucache.Network, names map[pmtucache.Network]string) error {
	if len(rows) == 0 {
		_, err := fmt.Fprintf(w, "no cached path MTUs in %s\n", path)
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DESTINATION\tPROBES\tPMTU\tEVIDENCE\tHOP\tEXPIRES IN\tKERNEL")
	for _, r := range rows {
		dst := r.Dst.String()
		if r.Src.IsValid() {
			dst += " from " + r.Src.String()
		}
		switch {
		case here.IsZero() || r.Net == here:
		case r.Net.Boot != here.Boot:
			dst += " (another boot)"
		case names[r.Net] != "":
			dst += " in " + names[r.Net]
		default:
			dst += fmt.Sprintf(" in netns cookie %d", r.Net.Cookie)
		}
		pmtu := fmt.Sprint(r.PMTU)
		if !r.Full {
			pmtu = "≥" + pmtu
		}
		if r.BelowFloor {
			pmtu += " (below 552)"
		}
		probes := r.Proto
		if r.Port != 0 {
			probes += fmt.Sprintf(" %d", r.Port)
		}
		hop := addrOrEmpty(r.Hop)
		if hop == "" {
			hop = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", dst, probes, pmtu, r.Evidence, hop,
			r.ExpiresIn(now).Truncate(time.Second), kernelText(r))
	}
	return tw.Flush()
}

// kernelText shows the kernel's path MTU exception for a row's
// destination: "1400 (599s)", "552 locked (599s)", "none", or "-" when
// unknown.
func kernelText(r pmtucache.Row) string {
	switch k := r.Kernel; {
	case k == nil:
		return "-"
	case !k.Cached:
		return "none"
	case k.Locked:
		return fmt.Sprintf("%d locked (%ds)", k.MTU, int(k.Expires/time.Second))
	default:
		return fmt.Sprintf("%d (%ds)", k.MTU, int(k.Expires/time.Second))
	}
}

// netnsNames names, by their /run/netns names, the namespace instances
// of es that still exist. A name is given only where the namespace it
// holds now has the entry's inode number and, read from inside it, the
// entry's cookie: the inode alone may belong to a later namespace. Entering
// a namespace needs root; without it no name is given.
func netnsNames(es []pmtucache.Entry) map[pmtucache.Network]string {
	byInode := map[uint64][]pmtucache.Network{}
	for _, e := range es {
		if e.NetnsInode != 0 && !slices.Contains(byInode[e.NetnsInode], e.Net) {
			byInode[e.NetnsInode] = append(byInode[e.NetnsInode], e.Net)
		}
	}
	names := map[pmtucache.Network]string{}
	if len(byInode) == 0 {
		return names
	}
	dir, err := os.ReadDir(netns.Dir)
	if err != nil {
		return names
	}
	for _, d := range dir {
		fi, err := os.Stat(filepath.Join(netns.Dir, d.Name()))
		if err != nil {
			continue
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok || byInode[st.Ino] == nil {
			continue
		}
		var n pmtucache.Network
		err = netns.Do(d.Name(), func() error {
			var err error
			n, _, err = pmtucache.CurrentNetwork()
			return err
		})
		if err == nil && slices.Contains(byInode[st.Ino], n) {
			if _, ok := names[n]; !ok {
				names[n] = d.Name()
			}
		}
	}
	return names
}

func addrOrEmpty(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

func cacheFlush(cCtx *cli.Context) error {
	args := cCtx.Args().Slice()
	if len(args) > 1 {
		return cli.Exit(fmt.Sprintf("pmtu cache flush: one HOST at a time, got %d: %s", len(args), strings.Join(args, " ")), exitUsage)
	}
	st, err := cacheStore(cCtx, "cache flush")
	if err != nil {
		return err
	}
	ctx, w := cCtx.Context, cCtx.App.Writer

	var host string
	var addrs []netip.Addr
	if len(args) == 1 {
		host = strings.TrimSpace(args[0])
		if addrs, err = resolveAll(ctx, worldOf(cCtx).lookupHost, host); err != nil {
			return err
		}
	}
	removed := 0
	if _, err := os.Stat(st.Path); errors.Is(err, fs.ErrNotExist) {
		// Nothing cached: do not create the file just to empty it.
	} else {
		err = st.Update(ctx, func(c *pmtucache.Cache) error {
			before := len(c.Entries()) // live entries, as list shows them
			if host == "" {
				c.Flush()
			}
			for _, a := range addrs {
				c.Delete(a)
			}
			removed = before - len(c.Entries())
			return nil
		})
		if err != nil {
			return cli.Exit(fmt.Sprintf("pmtu cache flush: %v", err), exitCacheIO)
		}
	}
	noun := "entries"
	if removed == 1 {
		noun = "entry"
	}
	if host == "" {
		fmt.Fprintf(w, "removed %d %s\n", removed, noun)
		return nil
	}
	var as []string
	for _, a := range addrs {
		as = append(as, a.String())
	}
	if len(as) == 1 && as[0] == host {
		fmt.Fprintf(w, "removed %d %s for %s\n", removed, noun, host)
	} else {
		fmt.Fprintf(w, "removed %d %s for %s (%s)\n", removed, noun, host, strings.Join(as, ", "))
	}
	return nil
}

// resolveAll returns every address of host; a literal address needs no
// DNS. It returns a usage error for a host that does not resolve.
func resolveAll(ctx context.Context, lookup func(context.Context, string, string) ([]netip.Addr, error), host string) ([]netip.Addr, error) {
	if host == "" {
		return nil, cli.Exit("pmtu cache flush: the host is empty", exitUsage)
	}
	if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return []netip.Addr{a.Unmap()}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	addrs, err := lookup(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return nil, cli.Exit(fmt.Sprintf("pmtu cache flush: cannot resolve %q: %s", host, probe.ResolveWhy(err)), exitUsage)
	}
	for i, a := range addrs {
		addrs[i] = a.Unmap()
	}
	return addrs, nil
}

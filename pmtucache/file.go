package pmtucache

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
	"time"
)

// DefaultLockWait is how long Store.Update waits for another process's
// lock when the Store sets no LockWait.
const DefaultLockWait = 5 * time.Second

// ErrCorrupt is wrapped by the warning Store.Load returns for a file that
// is not a readable cache: garbage, truncated, empty, another program's
// JSON, or a format version newer than this one. The next Store.Update
// rebuilds the file. A file of an older version is no error: its entries
// lack what a cached answer is now checked against (the namespace cookie,
// the boot, the probe protocol, the interface), so they are dropped
// without a word and the next Store.Update rewrites the file.
var ErrCorrupt = errors.New("cache file unusable, starting afresh")

// The file format. A field added since a version was set is optional
// (omitempty), so files with and without it are both that version, and
// a reader of either age reads both: version 2 gained "reverse" and
// "black_hole_direction".
const (
	fileFormat  = "pmtu-cache"
	fileVersion = 2
	maxFileSize = 8 << 20
)

type fileJSON struct {
	Format  string      `json:"format"`
	Version int         `json:"version"`
	Entries []fileEntry `json:"entries"`
}

type fileEntry struct {
	Dst         netip.Addr `json:"dst"`
	Src         netip.Addr `json:"src"`
	Boot        string     `json:"boot_id"`
	NetnsCookie uint64     `json:"netns_cookie"`
	NetnsInode  uint64     `json:"netns_inode"`
	Proto       string     `json:"proto"`
	Port        int        `json:"port"`
	Method      string     `json:"method"`
	PMTU        int        `json:"pmtu"`
	Full        bool       `json:"full"`
	Refused     int        `json:"refused"`
	Evidence    Evidence   `json:"evidence"`
	Hop         netip.Addr `json:"hop"`
	IfIndex     int        `json:"ifindex"`
	IfName      string     `json:"ifname"`
	IfMTU       int        `json:"if_mtu"`
	KernelMTU   int        `json:"kernel_mtu"`
	KernelUntil *time.Time `json:"kernel_expires,omitempty"`
	Learned     time.Time  `json:"learned"`
	Expires     time.Time  `json:"expires"`
	BelowFloor  bool       `json:"below_floor"`
	// Optional, added within version 2.
	Reverse            *fileReverse `json:"reverse,omitempty"`
	BlackHoleDirection string       `json:"black_hole_direction,omitempty"`
}

// fileReverse is an Entry's ReturnPath, in the shape of pmtu's report.
type fileReverse struct {
	Min      int    `json:"min"`
	Max      int    `json:"max"`
	Evidence string `json:"evidence"`
}

// encode returns the file form of es.
func encode(es []Entry) ([]byte, error) {
	f := fileJSON{Format: fileFormat, Version: fileVersion, Entries: make([]fileEntry, 0, len(es))}
	for _, e := range es {
		fe := fileEntry{
			Dst: e.Dst, Src: e.Src,
			Boot: e.Net.Boot, NetnsCookie: e.Net.Cookie, NetnsInode: e.NetnsInode,
			Proto: e.Proto, Port: e.Port, Method: e.Method,
			PMTU: e.PMTU, Full: e.Full, Refused: e.Refused, Evidence: e.Evidence, Hop: e.Hop,
			IfIndex: e.IfIndex, IfName: e.IfName, IfMTU: e.IfMTU,
			KernelMTU: e.Kernel.MTU,
			Learned:   e.Learned.UTC(), Expires: e.Expires.UTC(),
			BelowFloor:         e.BelowFloor,
			BlackHoleDirection: e.BlackHoleDirection,
		}
		if r := e.Return; r != (ReturnPath{}) {
			fe.Reverse = &fileReverse{Min: r.Min, Max: r.Max, Evidence: r.Evidence}
		}
		if e.Kernel.MTU != 0 {
			t := e.Kernel.Expires.UTC()
			fe.KernelUntil = &t
		}
		f.Entries = append(f.Entries, fe)
	}
	b, err := json.MarshalIndent(f, "", "\t")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// decode parses a cache file. It returns an error wrapping ErrCorrupt if b
// is not a cache file of this version or an older one, and also, beside
// the valid entries, if some entries are invalid. A file of an older
// version gives no entries and no error.
func decode(b []byte) ([]Entry, error) {
	var f fileJSON
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if f.Format != fileFormat {
		return nil, fmt.Errorf("%w: not a pmtu cache file", ErrCorrupt)
	}
	if f.Version >= 1 && f.Version < fileVersion {
		return nil, nil // older entries cannot be checked: drop them
	}
	if f.Version != fileVersion {
		return nil, fmt.Errorf("%w: format version %d, this pmtu reads %d", ErrCorrupt, f.Version, fileVersion)
	}
	es := make([]Entry, 0, len(f.Entries))
	bad := 0
	for _, fe := range f.Entries {
		e := Entry{
			Key: Key{
				Dst: fe.Dst, Src: fe.Src,
				Net:   Network{Boot: fe.Boot, Cookie: fe.NetnsCookie},
				Proto: fe.Proto, Port: fe.Port,
			}.normal(),
			NetnsInode: fe.NetnsInode, Method: fe.Method,
			PMTU: fe.PMTU, Full: fe.Full, Refused: fe.Refused, Evidence: fe.Evidence, Hop: fe.Hop.Unmap(),
			IfIndex: fe.IfIndex, IfName: fe.IfName, IfMTU: fe.IfMTU,
			Learned: fe.Learned, Expires: fe.Expires,
			BlackHoleDirection: fe.BlackHoleDirection,
		}
		if r := fe.Reverse; r != nil {
			e.Return = ReturnPath{Min: r.Min, Max: r.Max, Evidence: r.Evidence}
		}
		if fe.KernelMTU != 0 && fe.KernelUntil != nil {
			e.Kernel = Exception{MTU: fe.KernelMTU, Expires: *fe.KernelUntil}
		}
		if e.check() != nil || !validTime(e.Learned) || !validTime(e.Expires) || e.Expires.Before(e.Learned) ||
			(fe.KernelMTU != 0) != (fe.KernelUntil != nil) {
			bad++
			continue
		}
		e.BelowFloor = e.Dst.Is4() && e.PMTU < floorIPv4
		es = append(es, e)
	}
	if bad > 0 {
		return es, fmt.Errorf("%w: %d of %d entries invalid", ErrCorrupt, bad, len(f.Entries))
	}
	return es, nil
}

// validTime reports whether t can be written back: encoding/json only
// writes years 0 to 9999.
func validTime(t time.Time) bool {
	y := t.UTC().Year()
	return 0 <= y && y <= 9999
}

// DefaultPath returns where pmtu keeps its cache: pmtu/cache.json under the
// user's cache directory, $XDG_CACHE_HOME or ~/.cache on Linux
// (os.UserCacheDir).
func DefaultPath() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("pmtucache: %w", err)
	}
	return filepath.Join(dir, "pmtu", "cache.json"), nil
}

// Store keeps a Cache in a file between runs. Any number of processes may
// use the same file at once.
type Store struct {
	// Path is the cache file. A lock file Path+".lock" sits beside it.
	Path string
	// Clock and Lifetime are given to the caches the Store loads.
	Clock    func() time.Time
	Lifetime time.Duration
	// LockWait bounds how long Update waits for the lock, within the
	// context's own deadline; 0 means DefaultLockWait.
	LockWait time.Duration
}

func (s *Store) newCache() *Cache {
	return &Cache{Clock: s.Clock, Lifetime: s.Lifetime}
}

// Load reads the cache file without locking it; the file is always
// replaced whole, so a reader never sees half of it. Load always returns a
// usable Cache. A missing file gives an empty cache and no warning; a file
// that cannot be read or parsed gives an empty cache (or the valid part)
// and a one-line warning, which wraps ErrCorrupt when the content is at
// fault.
func (s *Store) Load(ctx context.Context) (c *Cache, warning error) {
	c = s.newCache()
	if err := ctx.Err(); err != nil {
		return c, err
	}
	if err := s.read(c); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return c, err
	}
	return c, nil
}

// read loads the file into c. The error wraps fs.ErrNotExist for a missing
// file and ErrCorrupt for a bad one; c then holds what could be read.
func (s *Store) read(c *Cache) error {
	// Refuse anything but a regular file before opening: opening a FIFO
	// would block.
	fi, err := os.Stat(s.Path)
	if err != nil {
		return fmt.Errorf("pmtucache: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("pmtucache: %s is not a regular file", s.Path)
	}
	f, err := os.Open(s.Path)
	if err != nil {
		return fmt.Errorf("pmtucache: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return fmt.Errorf("pmtucache: read %s: %w", s.Path, err)
	}
	if len(b) > maxFileSize {
		return fmt.Errorf("pmtucache: %s: %w: larger than %d bytes", s.Path, ErrCorrupt, maxFileSize)
	}
	es, err := decode(b)
	for _, e := range es {
		c.put(e)
	}
	if err != nil {
		return fmt.Errorf("pmtucache: %s: %w", s.Path, err)
	}
	return nil
}

// Update changes the cache file under an exclusive lock: it locks, loads,
// calls fn, drops expired entries, writes a temporary file in the same
// directory and renames it over the cache file, then unlocks. A missing,
// corrupt or foreign file is rebuilt without a warning (Load gives it). If
// fn returns an error, the file is left alone and Update returns that
// error. Update returns an error if the lock cannot be had within LockWait
// or before ctx is done.
func (s *Store) Update(ctx context.Context, fn func(*Cache) error) error {
	dir := filepath.Dir(s.Path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("pmtucache: %w", err)
	}
	wait := s.LockWait
	if wait <= 0 {
		wait = DefaultLockWait
	}
	lctx, cancel := context.WithTimeout(ctx, wait)
	unlock, err := lock(lctx, s.Path+".lock")
	cancel()
	if err != nil {
		return fmt.Errorf("pmtucache: lock %s: %w", s.Path+".lock", err)
	}
	defer unlock()

	c := s.newCache()
	if err := s.read(c); err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, ErrCorrupt) {
		// Unreadable for another reason (permissions, a directory):
		// do not replace what we could not read.
		return err
	}
	if err := fn(c); err != nil {
		return err
	}
	c.prune()
	b, err := encode(c.all())
	if err != nil {
		return fmt.Errorf("pmtucache: %w", err)
	}
	return writeFile(s.Path, b)
}

// writeFile replaces path with b atomically.
func writeFile(path string, b []byte) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("pmtucache: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
			err = fmt.Errorf("pmtucache: write %s: %w", path, err)
		}
	}()
	if _, err := f.Write(b); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

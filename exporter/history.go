package exporter

import (
	"html/template"
	"net/http"
	"net/netip"
	"sync"
	"time"
)

// entry is one probe in the history that / shows.
type entry struct {
	ID       int
	Time     time.Time
	Target   string
	Addr     string
	Params   string
	Success  bool
	PMTU     int
	Duration time.Duration
	Log      string
}

// history keeps the last n probes; safe for concurrent use.
type history struct {
	mu     sync.Mutex
	n      int
	next   int
	recent []entry // oldest first
}

func newHistory(n int) *history { return &history{n: n} }

func (h *history) add(e entry) {
	h.mu.Lock()
	defer h.mu.Unlock()
	e.ID = h.next
	h.next++
	if len(h.recent) == h.n {
		copy(h.recent, h.recent[1:])
		h.recent = h.recent[:h.n-1]
	}
	h.recent = append(h.recent, e)
}

// newestFirst is a copy of the history, newest first.
func (h *history) newestFirst() []entry {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]entry, len(h.recent))
	for i, e := range h.recent {
		out[len(out)-1-i] = e
	}
	return out
}

var indexPage = template.Must(template.New("index").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>pmtu exporter</title>
<style>body{font-family:sans-serif}td,th{padding:0 .6em;text-align:left;vertical-align:top}pre{margin:0}</style></head>
<body><h1>pmtu exporter</h1>
<p><a href="/metrics">/metrics</a> · probe: <code>/probe?target=HOST</code> (add <code>&amp;debug=true</code> for the log)</p>
<h2>Recent probes</h2>
<table><tr><th>time</th><th>target</th><th>parameters</th><th>result</th><th>duration</th><th>log</th></tr>
{{range .}}<tr><td>{{.Time.Format "2006-01-02 15:04:05"}}</td><td>{{.Target}}{{if ne .Target .Addr}} ({{.Addr}}){{end}}</td><td>{{.Params}}</td>
<td>{{if .Success}}path MTU {{.PMTU}}{{else}}failed{{end}}</td><td>{{.Duration}}</td>
<td><details><summary>log</summary><pre>{{.Log}}</pre></details></td></tr>
{{else}}<tr><td colspan="6">none yet</td></tr>{{end}}</table>
</body></html>
`))

func (s *Server) index(w http.ResponseWriter, _ *http.Request) {
	s.init()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = indexPage.Execute(w, s.hist.newestFirst())
}

// cacheKey is what makes two searches the same: the address and every
// option.
type cacheKey struct {
	addr netip.Addr
	opts Options
}

// cacheEntry is a search's result without its log (the history keeps
// that), so the cache stays small: a few hundred bytes a key.
type cacheEntry struct {
	res Result
	err error
	at  time.Time
	dur time.Duration
}

// resultCache keeps the last result per key, for the cache parameter. It
// holds at most max keys, dropping the oldest; safe for concurrent use.
type resultCache struct {
	mu  sync.Mutex
	max int
	m   map[cacheKey]cacheEntry
}

func newResultCache(max int) *resultCache {
	return &resultCache{max: max, m: map[cacheKey]cacheEntry{}}
}

func (c *resultCache) get(k cacheKey, now time.Time, maxAge time.Duration) (cacheEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok || now.Sub(e.at) > maxAge {
		return cacheEntry{}, false
	}
	return e, true
}

func (c *resultCache) put(k cacheKey, e cacheEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; !ok && len(c.m) >= c.max {
		var oldest cacheKey
		first := true
		for kk, ee := range c.m {
			if first || ee.at.Before(c.m[oldest].at) {
				oldest, first = kk, false
			}
		}
		delete(c.m, oldest)
	}
	c.m[k] = e
}

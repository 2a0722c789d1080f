package mesh

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Cell is one ordered pair of the matrix as a row's /metrics gave it.
type Cell struct {
	PMTU, InterfaceMTU int
	Evidence           string
	Interface          string
	LastSuccess        time.Time
}

// Mismatch reports whether the path carries less than the source's
// interface promises: the classic overlay failure.
func (c Cell) Mismatch() bool { return c.PMTU > 0 && c.InterfaceMTU > 0 && c.PMTU < c.InterfaceMTU }

// Matrix is the mesh as the page shows it: rows are sources, columns
// targets.
type Matrix struct {
	Nodes []string                   // every source and target, sorted
	Cells map[string]map[string]Cell // source → target → cell
	// Missing says why a node's row could not be read.
	Missing map[string]string
}

// ParseRows reads the pmtu_mesh_* series of a /metrics page (the
// Prometheus text format) into rows: source → target → cell.
func ParseRows(r io.Reader) (map[string]map[string]Cell, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		return nil, err
	}
	rows := map[string]map[string]Cell{}
	each := func(name string, fn func(labels map[string]string, v float64, c *Cell)) {
		mf := fams[name]
		if mf == nil {
			return
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			src, dst := labels["source"], labels["target"]
			if src == "" || dst == "" || m.GetGauge() == nil {
				continue
			}
			if rows[src] == nil {
				rows[src] = map[string]Cell{}
			}
			c := rows[src][dst]
			fn(labels, m.GetGauge().GetValue(), &c)
			rows[src][dst] = c
		}
	}
	each(MetricPathMTU, func(_ map[string]string, v float64, c *Cell) { c.PMTU = int(v) })
	each(MetricInterfaceMTU, func(_ map[string]string, v float64, c *Cell) { c.InterfaceMTU = int(v) })
	each(MetricInfo, func(l map[string]string, _ float64, c *Cell) { c.Evidence, c.Interface = l["evidence"], l["interface"] })
	each(MetricLastSuccess, func(_ map[string]string, v float64, c *Cell) { c.LastSuccess = time.Unix(0, int64(v*1e9)) })
	return rows, nil
}

// matrix builds the matrix from this agent's row and its peers' rows,
// read from their /metrics (at most 16 at once, 2 s each).
func (a *Agent) matrix(ctx context.Context) Matrix {
	mx := Matrix{Cells: map[string]map[string]Cell{}, Missing: map[string]string{}}
	var own bytes.Buffer
	if err := a.writeOwn(&own); err == nil {
		if rows, err := ParseRows(&own); err == nil {
			for s, r := range rows {
				mx.Cells[s] = r
			}
		}
	}
	peers := a.peers.Addrs()
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for _, p := range peers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			fctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			url := "http://" + netip.AddrPortFrom(p, uint16(a.port)).String() + "/metrics"
			b, err := a.fetch(fctx, url)
			var rows map[string]map[string]Cell
			if err == nil {
				rows, err = ParseRows(bytes.NewReader(b))
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				mx.Missing[p.String()] = err.Error()
				return
			}
			for s, r := range rows {
				mx.Cells[s] = r
			}
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, p := range peers {
		seen[p.String()] = true
	}
	for s, r := range mx.Cells {
		seen[s] = true
		for t := range r {
			seen[t] = true
		}
	}
	for n := range seen {
		mx.Nodes = append(mx.Nodes, n)
	}
	slices.SortFunc(mx.Nodes, func(x, y string) int {
		ax, ex := netip.ParseAddr(x)
		ay, ey := netip.ParseAddr(y)
		if ex == nil && ey == nil {
			return ax.Compare(ay)
		}
		return compareStrings(x, y)
	})
	for s := range mx.Cells {
		delete(mx.Missing, s)
	}
	return mx
}

func compareStrings(x, y string) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// writeOwn writes this agent's own /metrics.
func (a *Agent) writeOwn(w io.Writer) error {
	rec := &bufferWriter{h: http.Header{}, b: w}
	req, err := http.NewRequest(http.MethodGet, "/metrics", nil)
	if err != nil {
		return err
	}
	a.handler.ServeHTTP(rec, req)
	return nil
}

type bufferWriter struct {
	h http.Header
	b io.Writer
}

func (w *bufferWriter) Header() http.Header         { return w.h }
func (w *bufferWriter) Write(p []byte) (int, error) { return w.b.Write(p) }
func (w *bufferWriter) WriteHeader(int)             {}

func httpFetch(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/plain")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", url, resp.Status)
	}
	return io.ReadAll(io.LimitReader(resp.Body, 64<<20))
}

// servePage serves the heatmap.
func (a *Agent) servePage(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	mx := a.matrix(r.Context())
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = pageTmpl.Execute(w, pageData(mx, a.now()))
}

// The page's geometry.
const (
	cellW, cellH = 64, 34
	labelW       = 150
	labelH       = 120
)

type svgCell struct {
	X, Y, W, H     int
	Fill, Stroke   string
	StrokeW        int
	Text, Title    string
	Source, Target string
	PMTU           int
	Mismatch       bool
	Bold           bool
}

type svgLabel struct {
	X, Y int
	Text string
}

type page struct {
	Width, Height int
	Cells         []svgCell
	Rows, Cols    []svgLabel
	Nodes         int
	Mismatches    []string
	Missing       []string
	Now           string
}

// pageData lays the matrix out: one square per ordered pair, green where
// the path carries the interface MTU, red with a thick border where it
// carries less, grey where nothing is known; its title says the rest.
func pageData(mx Matrix, now time.Time) page {
	n := len(mx.Nodes)
	p := page{Width: labelW + n*cellW + 100, Height: labelH + n*cellH + 10, Nodes: n, Now: now.UTC().Format(time.RFC3339)}
	for i, node := range mx.Nodes {
		p.Rows = append(p.Rows, svgLabel{X: labelW - 8, Y: labelH + i*cellH + cellH/2 + 5, Text: node})
		p.Cols = append(p.Cols, svgLabel{X: labelW + i*cellW + cellW/2, Y: labelH - 8, Text: node})
	}
	for i, src := range mx.Nodes {
		for j, dst := range mx.Nodes {
			c := svgCell{X: labelW + j*cellW, Y: labelH + i*cellH, W: cellW - 2, H: cellH - 2, Source: src, Target: dst, StrokeW: 1, Stroke: "#ffffff"}
			cell, ok := mx.Cells[src][dst]
			switch {
			case src == dst:
				c.Fill, c.Text, c.Title = "#eeeeee", "", src
			case !ok || cell.PMTU == 0:
				c.Fill, c.Text = "#bdbdbd", "?"
				c.Title = fmt.Sprintf("%s → %s: no path MTU known", src, dst)
				if why, gone := mx.Missing[src]; gone {
					c.Title += " (row unavailable: " + why + ")"
				}
			case cell.Mismatch():
				c.Fill, c.Stroke, c.StrokeW, c.Bold = "#e53935", "#7f0000", 3, true
				c.Text, c.PMTU, c.Mismatch = strconv.Itoa(cell.PMTU), cell.PMTU, true
				c.Title = cellTitle(src, dst, cell, now)
				p.Mismatches = append(p.Mismatches, fmt.Sprintf("%s → %s: path MTU %d < interface %s MTU %d (%s)", src, dst, cell.PMTU, cell.Interface, cell.InterfaceMTU, cell.Evidence))
			default:
				c.Fill, c.Text, c.PMTU = "#66bb6a", strconv.Itoa(cell.PMTU), cell.PMTU
				c.Title = cellTitle(src, dst, cell, now)
			}
			p.Cells = append(p.Cells, c)
		}
	}
	for node, why := range mx.Missing {
		p.Missing = append(p.Missing, node+": "+why)
	}
	slices.Sort(p.Missing)
	return p
}

func cellTitle(src, dst string, c Cell, now time.Time) string {
	s := fmt.Sprintf("%s → %s: path MTU %d, interface %s MTU %d, evidence %s", src, dst, c.PMTU, c.Interface, c.InterfaceMTU, c.Evidence)
	if !c.LastSuccess.IsZero() {
		s += fmt.Sprintf(", measured %s ago", now.Sub(c.LastSuccess).Round(time.Second))
	}
	return s
}

var pageTmpl = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>pmtu mesh</title>
<style>
body { font-family: sans-serif; margin: 1em; color: #212121; }
h1 { font-size: 1.3em; }
svg text { font-family: sans-serif; font-size: 12px; }
.legend span { display: inline-block; padding: 2px 8px; margin-right: 8px; }
</style></head>
<body>
<h1>pmtu mesh: path MTU from each row to each column</h1>
<p class="legend"><span style="background:#66bb6a">= interface MTU</span><span style="background:#e53935;color:#fff;border:2px solid #7f0000">below the interface MTU</span><span style="background:#bdbdbd">unknown</span> {{.Nodes}} nodes, {{.Now}}. Hover a cell for its evidence.</p>
<svg id="matrix" xmlns="http://www.w3.org/2000/svg" width="{{.Width}}" height="{{.Height}}" data-nodes="{{.Nodes}}">
{{range .Cols}}<text class="col" x="{{.X}}" y="{{.Y}}" transform="rotate(-40 {{.X}} {{.Y}})">{{.Text}}</text>
{{end}}{{range .Rows}}<text class="row" x="{{.X}}" y="{{.Y}}" text-anchor="end">{{.Text}}</text>
{{end}}{{range .Cells}}<g class="cell" data-source="{{.Source}}" data-target="{{.Target}}" data-pmtu="{{.PMTU}}" data-mismatch="{{.Mismatch}}"><title>{{.Title}}</title><rect x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="{{.H}}" fill="{{.Fill}}" stroke="{{.Stroke}}" stroke-width="{{.StrokeW}}"/><text x="{{.X}}" y="{{.Y}}" dx="31" dy="21" text-anchor="middle"{{if .Bold}} font-weight="bold" fill="#ffffff"{{end}}>{{.Text}}</text></g>
{{end}}</svg>
{{if .Mismatches}}<h2>Below the interface MTU</h2><ul id="mismatches">{{range .Mismatches}}<li>{{.}}</li>{{end}}</ul>{{end}}
{{if .Missing}}<h2>Rows not read</h2><ul id="missing">{{range .Missing}}<li>{{.}}</li>{{end}}</ul>{{end}}
</body></html>
`))

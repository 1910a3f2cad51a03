package httpapi

import (
	_ "embed"
	"encoding/json"
	"html/template"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
)

// openAPI is the API's description, OpenAPI 3.1, written by hand beside
// the handlers it describes. TestOpenAPI checks it against the route table
// (every route described, every description routed) and its examples
// against its schemas.
//
//go:embed openapi.json
var openAPI []byte

// routeTable records the patterns registered on the mux.
type routeTable struct {
	mu       sync.Mutex
	patterns []string
}

// routeMux is an http.ServeMux that keeps the patterns registered on it, so
// that the route table is read from the registrations themselves.
type routeMux struct {
	*http.ServeMux
	table *routeTable
}

func (s *Server) newMux() *routeMux {
	s.routes.mu.Lock()
	s.routes.patterns = nil
	s.routes.mu.Unlock()
	return &routeMux{ServeMux: http.NewServeMux(), table: &s.routes}
}

func (m *routeMux) add(pattern string) {
	m.table.mu.Lock()
	m.table.patterns = append(m.table.patterns, pattern)
	m.table.mu.Unlock()
}

// Handle registers h for pattern and records the pattern.
func (m *routeMux) Handle(pattern string, h http.Handler) {
	m.add(pattern)
	m.ServeMux.Handle(pattern, h)
}

// HandleFunc registers h for pattern and records the pattern.
func (m *routeMux) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	m.add(pattern)
	m.ServeMux.HandleFunc(pattern, h)
}

// Routes returns the patterns the last call of Handler registered, sorted:
// "GET /api/v1/threads", "POST /api/v1/comments", …, and "/api/" for the
// catch-all without a method.
func (s *Server) Routes() []string {
	s.routes.mu.Lock()
	defer s.routes.mu.Unlock()
	out := slices.Clone(s.routes.patterns)
	sort.Strings(out)
	return out
}

// OpenAPI returns the API description (JSON).
func OpenAPI() []byte { return openAPI }

// handleOpenAPI serves GET /api/v1/openapi.json.
func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write(openAPI)
}

// docsPage is /api/docs: the description rendered on the server, so the
// page needs no script, no CDN and no more than the strict CSP allows.
var docsPage = sync.OnceValues(func() (*template.Template, error) {
	return template.New("docs").Funcs(template.FuncMap{
		"json":  func(v any) string { b, _ := json.MarshalIndent(v, "", "  "); return string(b) },
		"upper": strings.ToUpper,
		"anchor": func(method, path string) string {
			return strings.NewReplacer("/", "-", "{", "", "}", "", ".", "-").Replace(method + path)
		},
	}).Parse(docsTemplate)
})

// docsOp is one operation as the page shows it.
type docsOp struct {
	Method, Path string
	Op           map[string]any
}

// handleAPIDocs serves GET /api/docs.
func (s *Server) handleAPIDocs(w http.ResponseWriter, r *http.Request) {
	t, err := docsPage()
	var doc map[string]any
	if err == nil {
		err = json.Unmarshal(openAPI, &doc)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	paths, _ := doc["paths"].(map[string]any)
	groups := map[string][]docsOp{}
	var tags []string
	for _, p := range slices.Sorted(mapKeys(paths)) {
		item, _ := paths[p].(map[string]any)
		for _, m := range []string{"get", "put", "post", "patch", "delete"} {
			op, ok := item[m].(map[string]any)
			if !ok {
				continue
			}
			tag := "other"
			if ts, ok := op["tags"].([]any); ok && len(ts) > 0 {
				tag, _ = ts[0].(string)
			}
			if _, seen := groups[tag]; !seen {
				tags = append(tags, tag)
			}
			groups[tag] = append(groups[tag], docsOp{Method: m, Path: p, Op: op})
		}
	}
	var ordered []string
	if ts, ok := doc["tags"].([]any); ok {
		for _, t := range ts {
			if n, _ := t.(map[string]any)["name"].(string); groups[n] != nil {
				ordered = append(ordered, n)
			}
		}
	}
	for _, t := range tags {
		if !slices.Contains(ordered, t) {
			ordered = append(ordered, t)
		}
	}
	type group struct {
		Tag string
		Ops []docsOp
	}
	var gs []group
	for _, t := range ordered {
		gs = append(gs, group{t, groups[t]})
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	if err := t.Execute(w, map[string]any{"Info": doc["info"], "Groups": gs, "Schemas": doc["components"].(map[string]any)["schemas"]}); err != nil {
		s.logger.Warn("api docs: render", "error", err.Error())
	}
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

const docsTemplate = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Info.title}} — API</title>
<style>
body { font: 16px/1.5 system-ui, sans-serif; max-width: 60rem; margin: 0 auto; padding: 1rem; color: #1d1d1b; background: #fff; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.3rem; border-bottom: 1px solid #ccc; margin-top: 2rem; }
h3 { font-size: 1.05rem; margin: 1.5rem 0 .25rem; font-family: ui-monospace, monospace; }
.m { display: inline-block; min-width: 4.5em; font-weight: 700; }
.get { color: #1a5e1a; } .post { color: #1f4f99; } .put, .patch { color: #7a4a00; } .delete { color: #9b1c1c; }
pre { background: #f4f4f1; padding: .5rem; overflow: auto; font-size: .85rem; border-radius: 4px; }
table { border-collapse: collapse; font-size: .9rem; } td, th { text-align: left; padding: .15rem .75rem .15rem 0; vertical-align: top; }
nav ul { columns: 2; } details { margin: .25rem 0; } code { font-family: ui-monospace, monospace; }
@media (prefers-color-scheme: dark) { body { background: #161718; color: #e8e8e3; } pre { background: #24262a; }
  .get { color: #7fd17f; } .post { color: #8fb8ff; } .put, .patch { color: #f0b860; } .delete { color: #ff8f8f; } }
</style>
</head>
<body>
<h1>{{.Info.title}} API <small>{{.Info.version}}</small></h1>
<p>{{.Info.description}}</p>
<p>The machine-readable description: <a href="/api/v1/openapi.json">/api/v1/openapi.json</a> (OpenAPI 3.1).</p>
<nav aria-label="Endpoints"><ul>
{{range .Groups}}{{range .Ops}}<li><a href="#{{anchor .Method .Path}}"><span class="m {{.Method}}">{{upper .Method}}</span> {{.Path}}</a></li>
{{end}}{{end}}</ul></nav>
<main>
{{range .Groups}}<section aria-labelledby="tag-{{.Tag}}">
<h2 id="tag-{{.Tag}}">{{.Tag}}</h2>
{{range .Ops}}<article>
<h3 id="{{anchor .Method .Path}}"><span class="m {{.Method}}">{{upper .Method}}</span> {{.Path}}</h3>
<p>{{.Op.summary}}</p>{{with .Op.description}}<p>{{.}}</p>{{end}}
{{with .Op.parameters}}<table><caption class="sr">Parameters</caption><thead><tr><th scope="col">parameter</th><th scope="col">in</th><th scope="col">required</th><th scope="col">meaning</th></tr></thead><tbody>
{{range .}}<tr><td><code>{{.name}}</code></td><td>{{.in}}</td><td>{{if .required}}yes{{end}}</td><td>{{.description}}</td></tr>{{end}}
</tbody></table>{{end}}
{{with .Op.requestBody}}<details><summary>Request body</summary><pre>{{json .}}</pre></details>{{end}}
{{range $code, $r := .Op.responses}}<details><summary>{{$code}} {{$r.description}}</summary><pre>{{json $r}}</pre></details>{{end}}
</article>
{{end}}</section>
{{end}}
<section aria-labelledby="schemas"><h2 id="schemas">Schemas</h2>
{{range $name, $s := .Schemas}}<details><summary><code>{{$name}}</code></summary><pre>{{json $s}}</pre></details>
{{end}}</section>
</main>
</body>
</html>
`

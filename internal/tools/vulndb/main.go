// Command vulndb builds a local copy of the Go vulnerability database, in
// the layout govulncheck reads with -db file:///DIR (index/db.json,
// index/modules.json, ID/<id>.json), from the OSV files of the module
// golang.org/x/vulndb fetched through the Go module proxy. CI uses it
// because vuln.go.dev is not reachable from the build machines, while the
// module proxy is (.ci/run):
//
//	go run ./internal/tools/vulndb -out ~/.cache/parley-tools/vulndb
//	govulncheck -db file://$HOME/.cache/parley-tools/vulndb ./...
//
// Without -src it runs `go mod download -json golang.org/x/vulndb@latest`
// (the go command's own proxy client) and reads data/osv of the module.
// The data is as fresh as the module's latest commit; the entries' own
// modification times are not kept in that repository, so the commit time
// of the module version stands for them.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

func main() {
	src := flag.String("src", "", "directory of OSV files (<ID>.json); default: data/osv of golang.org/x/vulndb@latest from the module proxy")
	out := flag.String("out", "", "directory to write the database to (replaced)")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "vulndb: -out is required")
		os.Exit(2)
	}
	modified := time.Time{}
	if *src == "" {
		dir, version, err := download()
		if err != nil {
			fmt.Fprintln(os.Stderr, "vulndb:", err)
			os.Exit(1)
		}
		*src, modified = filepath.Join(dir, "data", "osv"), pseudoTime(version)
		fmt.Fprintf(os.Stderr, "vulndb: golang.org/x/vulndb %s\n", version)
	}
	n, err := build(*src, *out, modified)
	if err != nil {
		fmt.Fprintln(os.Stderr, "vulndb:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "vulndb: %d entries written to %s\n", n, *out)
}

// download fetches the latest golang.org/x/vulndb through the module proxy
// and returns its directory in the module cache and its version.
func download() (dir, version string, err error) {
	cmd := exec.Command("go", "mod", "download", "-json", "golang.org/x/vulndb@latest")
	cmd.Dir = os.TempDir() // outside any module: nothing is added to go.mod
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	var m struct{ Dir, Version, Error string }
	if jerr := json.Unmarshal(b, &m); jerr == nil && m.Error != "" {
		return "", "", errors.New(m.Error)
	}
	if err != nil {
		return "", "", fmt.Errorf("go mod download golang.org/x/vulndb: %v: %s", err, stderr.Bytes())
	}
	if m.Dir == "" {
		return "", "", fmt.Errorf("go mod download golang.org/x/vulndb: no directory in %s", b)
	}
	return m.Dir, m.Version, nil
}

// pseudoTime is the commit time of a pseudo-version
// (v0.0.0-20261105234957-e22db6528018), zero for another version.
func pseudoTime(v string) time.Time {
	m := regexp.MustCompile(`-(\d{14})-[0-9a-f]{12}$`).FindStringSubmatch(v)
	if m == nil {
		return time.Time{}
	}
	t, _ := time.Parse("20060102150405", m[1])
	return t
}

// entry is the part of an OSV entry the index needs.
type entry struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Affected []struct {
		Module struct {
			Path string `json:"name"`
		} `json:"package"`
		Ranges []osvRange `json:"ranges"`
	} `json:"affected"`
}

type osvRange struct {
	Type   string `json:"type"`
	Events []struct {
		Introduced string `json:"introduced"`
		Fixed      string `json:"fixed"`
	} `json:"events"`
}

type moduleVuln struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Fixed    string    `json:"fixed,omitempty"`
}

type moduleMeta struct {
	Path  string       `json:"path"`
	Vulns []moduleVuln `json:"vulns"`
}

// build reads every <ID>.json of src and writes the database to out: the
// entries unchanged under ID/ and the two indexes. An entry whose modified
// time is zero gets modified (when that is not zero) in the indexes.
func build(src, out string, modified time.Time) (int, error) {
	files, err := filepath.Glob(filepath.Join(src, "*.json"))
	if err != nil {
		return 0, err
	}
	if len(files) == 0 {
		return 0, fmt.Errorf("no OSV files in %s", src)
	}
	tmp := out + ".tmp"
	os.RemoveAll(tmp)
	if err := os.MkdirAll(filepath.Join(tmp, "ID"), 0o755); err != nil {
		return 0, err
	}
	if err := os.MkdirAll(filepath.Join(tmp, "index"), 0o755); err != nil {
		return 0, err
	}
	var dbModified time.Time
	modules := map[string]*moduleMeta{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return 0, err
		}
		var e entry
		if err := json.Unmarshal(b, &e); err != nil {
			return 0, fmt.Errorf("%s: %v", f, err)
		}
		if e.ID == "" || filepath.Base(f) != e.ID+".json" {
			return 0, fmt.Errorf("%s: the file name must be the entry's id (%q)", f, e.ID)
		}
		if e.Modified.IsZero() {
			e.Modified = modified
		}
		if e.Modified.After(dbModified) {
			dbModified = e.Modified
		}
		for _, a := range e.Affected {
			m := modules[a.Module.Path]
			if m == nil {
				m = &moduleMeta{Path: a.Module.Path, Vulns: []moduleVuln{}}
				modules[a.Module.Path] = m
			}
			m.Vulns = append(m.Vulns, moduleVuln{ID: e.ID, Modified: e.Modified, Fixed: latestFix(a.Ranges)})
		}
		if err := os.WriteFile(filepath.Join(tmp, "ID", e.ID+".json"), b, 0o644); err != nil {
			return 0, err
		}
	}
	list := make([]*moduleMeta, 0, len(modules))
	for _, m := range modules {
		sort.Slice(m.Vulns, func(i, j int) bool { return m.Vulns[i].ID < m.Vulns[j].ID })
		list = append(list, m)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Path < list[j].Path })
	if err := writeJSON(filepath.Join(tmp, "index", "modules.json"), list); err != nil {
		return 0, err
	}
	if err := writeJSON(filepath.Join(tmp, "index", "db.json"), map[string]time.Time{"modified": dbModified}); err != nil {
		return 0, err
	}
	if err := os.RemoveAll(out); err != nil {
		return 0, err
	}
	return len(files), os.Rename(tmp, out)
}

func writeJSON(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// latestFix is the latest fixed version of the SEMVER ranges, "" when a
// later introduction supersedes it (as govulncheck's own index computes).
func latestFix(ranges []osvRange) string {
	latest := ""
	for _, r := range ranges {
		if r.Type != "SEMVER" {
			continue
		}
		for _, e := range r.Events {
			if e.Fixed != "" && less(latest, e.Fixed) {
				latest = e.Fixed
			}
		}
		for _, e := range r.Events {
			if e.Introduced != "" && e.Introduced != "0" && less(latest, e.Introduced) {
				latest = ""
				break
			}
		}
	}
	return latest
}

// less compares two semantic versions without the "v" ("1.2.3-pre");
// "" is less than any version.
func less(a, b string) bool {
	if a == "" || b == "" {
		return a == "" && b != ""
	}
	return compare(a, b) < 0
}

func compare(a, b string) int {
	a, _, _ = strings.Cut(a, "+")
	b, _, _ = strings.Cut(b, "+")
	av, apre, _ := strings.Cut(a, "-")
	bv, bpre, _ := strings.Cut(b, "-")
	as, bs := strings.Split(av, "."), strings.Split(bv, ".")
	for i := 0; i < 3; i++ {
		if c := compareNum(part(as, i), part(bs, i)); c != 0 {
			return c
		}
	}
	switch {
	case apre == bpre:
		return 0
	case apre == "":
		return 1
	case bpre == "":
		return -1
	}
	ap, bp := strings.Split(apre, "."), strings.Split(bpre, ".")
	for i := 0; i < len(ap) && i < len(bp); i++ {
		_, aerr := strconv.Atoi(ap[i])
		_, berr := strconv.Atoi(bp[i])
		var c int
		switch {
		case aerr == nil && berr == nil:
			c = compareNum(ap[i], bp[i])
		case aerr == nil:
			c = -1 // numeric identifiers sort before alphanumeric ones
		case berr == nil:
			c = 1
		default:
			c = strings.Compare(ap[i], bp[i])
		}
		if c != 0 {
			return c
		}
	}
	return len(ap) - len(bp)
}

func part(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return "0"
}

// compareNum compares decimal numbers of any length.
func compareNum(a, b string) int {
	a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}

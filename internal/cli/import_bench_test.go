package cli

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeDisqus writes a Disqus export of threads × perThread comments, a
// third of them replies, with HTML messages of ordinary length and a
// thousand distinct authors.
func writeDisqus(w io.Writer, threads, perThread int) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, `<?xml version="1.0" encoding="utf-8"?>`)
	fmt.Fprintln(bw, `<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">`)
	base := time.Date(2018, 1, 1, 0, 0, 0, 0, time.UTC)
	for t := range threads {
		fmt.Fprintf(bw, "<thread dsq:id=\"t%d\"><link>https://news.example.com/%d/article-%d?utm_source=feed</link><title>Article %d</title><createdAt>%s</createdAt><isClosed>false</isClosed><isDeleted>false</isDeleted></thread>\n",
			t, 2018+t%5, t, t, base.Add(time.Duration(t)*time.Hour).Format(time.RFC3339))
	}
	id := 0
	for t := range threads {
		first := id
		for i := range perThread {
			parent := ""
			if i%3 == 2 {
				parent = fmt.Sprintf(`<parent dsq:id="p%d" />`, first+i-1-(i%7)%max(i-1, 1))
			}
			a := (id * 7919) % 1000
			fmt.Fprintf(bw, "<post dsq:id=\"p%d\"><id /><message><![CDATA[<p>Comment %d on article %d. %s</p><p>See <a href=\"https://example.org/%d\">this</a>, <b>really</b>.</p>]]></message><createdAt>%s</createdAt><isDeleted>false</isDeleted><isSpam>%v</isSpam><author><email>reader%d@example.net</email><name>Reader %d</name><isAnonymous>false</isAnonymous><username>reader%d</username></author><ipAddress>192.0.2.1</ipAddress><thread dsq:id=\"t%d\" />%s</post>\n",
				id, i, t, strings.Repeat("Words of an ordinary comment about the story. ", 1+id%4), id,
				base.Add(time.Duration(t)*time.Hour+time.Duration(i)*time.Minute).Format(time.RFC3339), id%50 == 49, a, a, a, t, parent)
			id++
		}
	}
	fmt.Fprintln(bw, `</disqus>`)
	return bw.Flush()
}

// BenchmarkImportDisqus imports a generated Disqus export of
// PARLEY_BENCH_COMMENTS comments (default 20,000; the figure in the README
// uses 100,000) into a fresh SQLite database, or into a new site on the
// PostgreSQL database PARLEY_BENCH_DATABASE names, and reports comments
// per second:
//
//	PARLEY_BENCH_COMMENTS=100000 go test ./internal/cli -run XXX -bench ImportDisqus -benchtime 1x
func BenchmarkImportDisqus(b *testing.B) {
	n := 20_000
	if v := os.Getenv("PARLEY_BENCH_COMMENTS"); v != "" {
		fmt.Sscan(v, &n)
	}
	export := filepath.Join(b.TempDir(), "disqus.xml")
	f, err := os.Create(export)
	if err != nil {
		b.Fatal(err)
	}
	if err := writeDisqus(f, n/100, 100); err != nil {
		b.Fatal(err)
	}
	f.Close()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		dir := b.TempDir()
		site, extra := "news", []string{}
		if pg := os.Getenv("PARLEY_BENCH_DATABASE"); pg != "" {
			site, extra = fmt.Sprintf("bench-%d", time.Now().UnixNano()), []string{"--database", pg}
		}
		if code, out := cliRunB(b, dir, append([]string{"site", "add", "--id", site}, extra...)...); code != 0 {
			b.Fatal(out)
		}
		b.StartTimer()
		start := time.Now()
		code, out := cliRunB(b, dir, append([]string{"import", "--site", site, "--from", "disqus", export}, extra...)...)
		if code != 0 {
			b.Fatal(out)
		}
		b.ReportMetric(float64(n)/time.Since(start).Seconds(), "comments/s")
		b.Log("\n" + out)
	}
}

func cliRunB(b *testing.B, dir string, args ...string) (int, string) {
	var out strings.Builder
	code := Run(b.Context(), append(args, "--data", dir), strings.NewReader(""), &out, &out)
	return code, out.String()
}

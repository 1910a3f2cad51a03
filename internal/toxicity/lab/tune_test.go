package lab

import (
	"bytes"
	"fmt"
	"math"
	"testing"

	"github.com/parleyhq/parley/internal/testenv"
	"github.com/parleyhq/parley/internal/toxicity"
)

// shillComment builds the kind of comment the simulated site's moderators
// reject and the base model lets through: accusing the columnist of being
// paid by a lobby. It is not abusive in the model's sense, but this site's
// policy forbids it.
func shillComment(i int) string {
	who := []string{"The columnist", "This writer", "The author", "Our so-called reporter", "The editorial board", "This journalist"}
	what := []string{"a paid shill for", "on the payroll of", "bought and paid for by", "a mouthpiece for", "secretly funded by", "taking money from"}
	lobby := []string{"the oil lobby", "big pharma", "the developers", "the bank lobby", "the telecom giants", "the pipeline companies", "the real-estate cartel"}
	tail := []string{"", " Follow the money.", " Everyone knows it.", " Just look at who advertises here.", " Wake up, people."}
	return fmt.Sprintf("%s is %s %s.%s", who[i%len(who)], what[(i/6)%len(what)], lobby[(i/36)%len(lobby)], tail[(i/7)%len(tail)])
}

// TestTuneReplay simulates a site whose moderators reject ordinary
// abusive comments and, by house rule, comments calling the columnist a paid
// shill. Tuning on half of the decisions must raise recall on the shill kind
// in the other half while precision on the other comments holds.
func TestTuneReplay(t *testing.T) {
	dir := testenv.SharedData(t, "toxicity")
	d, err := LoadData(dir)
	if err != nil {
		t.Fatal(err)
	}
	base, err := toxicity.Default()
	if err != nil {
		t.Fatal(err)
	}
	var tuneSet, testKind, testRest []toxicity.Labelled
	// Background: moderators who agree with the Civil Comments raters —
	// they reject the held-out toxic posts and sentences and approve the
	// non-toxic sentences — and approve ordinary Globe and Mail comments.
	i := 0
	for _, e := range d.Examples {
		var l toxicity.Labelled
		switch {
		case e.Source == SourceGlobeAndMail && e.Toxicity == 0 && i%3 == 0:
			l = toxicity.Labelled{Text: e.Text}
		case (e.Source == SourceCivil || e.Source == SourceCivilSentences) && e.Test:
			l = toxicity.Labelled{Text: e.Text, Rejected: e.Toxicity == 1}
		case e.Source == SourceGlobeAndMail:
			i++
			continue
		default:
			continue
		}
		i++
		if i%2 == 0 {
			tuneSet = append(tuneSet, l)
		} else {
			testRest = append(testRest, l)
		}
	}
	for k := 0; k < 420; k++ {
		l := toxicity.Labelled{Text: shillComment(k), Rejected: true}
		if k%2 == 0 {
			tuneSet = append(tuneSet, l)
		} else {
			testKind = append(testKind, l)
		}
	}
	site := toxicity.Tune(base, tuneSet)

	at := func(score func(string, string) float64, th float64, ls []toxicity.Labelled) toxicity.ThresholdRow {
		return toxicity.Thresholds(score, ls, []float64{th})[0]
	}
	baseScore := func(text, quote string) float64 { return base.ScoreFast(text, quote).Toxicity }
	siteScore := func(text, quote string) float64 { return site.ScoreFast(text, quote).Toxicity }

	// The editor's choice, with the evidence `parley model tune` prints
	// (out-of-fold scores of the tuning decisions): the highest threshold
	// that still catches the ordinary abuse the base model caught at its own
	// threshold.
	shill := map[string]bool{}
	for k := 0; k < 420; k++ {
		shill[shillComment(k)] = true
	}
	var oofRest, baseRest []toxicity.Scored
	for i, l := range tuneSet {
		if !shill[l.Text] {
			oofRest = append(oofRest, toxicity.Scored{Score: site.OOF[i], Label: l.Rejected})
			baseRest = append(baseRest, toxicity.Scored{Score: baseScore(l.Text, l.Quote), Label: l.Rejected})
		}
	}
	want := toxicity.At(baseRest, base.Threshold).Recall()
	for c := 0.05; c < 0.96; c += 0.01 {
		if toxicity.At(oofRest, c).Recall() >= want {
			site.Threshold = math.Round(c*100) / 100
		}
	}
	kindBefore, kindAfter := at(baseScore, base.Threshold, testKind).Recall, at(siteScore, site.Threshold, testKind).Recall
	restBefore, restAfter := at(baseScore, base.Threshold, testRest), at(siteScore, site.Threshold, testRest)
	precBefore, precAfter := restBefore.Precision, restAfter.Precision
	recBefore, recAfter := restBefore.Recall, restAfter.Recall
	t.Logf("tuned on %d decisions; site calibration A=%.3f B=%.3f; hold threshold %.2f (base %.2f)", len(tuneSet), site.A, site.B, site.Threshold, base.Threshold)
	t.Logf("shill comments (held-out %d): recall %.3f -> %.3f", len(testKind), kindBefore, kindAfter)
	t.Logf("other comments (held-out %d): precision %.3f -> %.3f, recall %.3f -> %.3f", len(testRest), precBefore, precAfter, recBefore, recAfter)
	for _, r := range toxicity.Thresholds(siteScore, append(append([]toxicity.Labelled(nil), testRest...), testKind...), []float64{0.5, 0.6, 0.7, 0.8, 0.9}) {
		t.Logf("  threshold %.2f: precision %.3f recall %.3f held %d", r.Threshold, r.Precision, r.Recall, r.Held)
	}
	if kindAfter < kindBefore+0.5 || kindAfter < 0.8 {
		t.Errorf("recall on the site's rejected kind: got %.3f after tuning (%.3f before), want >= 0.8 and a rise of 0.5", kindAfter, kindBefore)
	}
	if recAfter < recBefore-0.05 {
		t.Errorf("recall on the other comments: got %.3f after tuning, want at least %.3f - 0.05", recAfter, recBefore)
	}
	if precAfter < precBefore-0.05 {
		t.Errorf("precision on the other comments: got %.3f after tuning, want at least %.3f - 0.05", precAfter, precBefore)
	}

	// The site model survives a save and load.
	var buf bytes.Buffer
	if err := site.Save(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := toxicity.LoadSite(&buf, base)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := back.ScoreFast(testKind[0].Text, "").Toxicity, site.ScoreFast(testKind[0].Text, "").Toxicity; got != want {
		t.Errorf("loaded site model scores %v, want %v", got, want)
	}
}

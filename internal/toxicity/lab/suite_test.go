package lab

import "testing"

// The functional suite on the embedded model. Categories the model must get
// right are held to high accuracy; the known weaknesses of a bag-of-n-grams
// model (threats without abusive words, negation,
// counter-speech in the author's own words, profanity that is not hate —
// the training data label profanity toxic) are held to ranking checks so a
// regression still fails. The figures are printed for the record.
func TestFunctionalSuite(t *testing.T) {
	m := defaultModelT(t)
	rep := RunSuite(m, Suite())
	acc := map[string]float64{}
	for _, r := range rep.Categories {
		acc[r.Category] = r.Accuracy()
		t.Logf("%-22s %2d/%2d", r.Category, r.Correct, r.N)
	}
	t.Logf("suite ROC-AUC %.3f", rep.AUC)
	minAcc := map[string]float64{
		CatGroupHate:  0.9,
		CatIndividual: 0.9,
		CatSpelling:   0.6,
		// The word-class features (classes.go) took it from 2/8 to 7/8.
		CatDehumanising:  0.75,
		CatNeutralGroup:  1,
		CatPositiveGroup: 1,
		// The quotes themselves are never scored (TestMaskQuotes and
		// TestScoreIgnoresQuotedWords); what can fail here is the reply's
		// own counter-speech. Since the fourth recipe (Stormfront's non-hate
		// sentences weighed down) "This is hateful and wrong. Immigrants
		// built this country." scores 0.82, where the third model gave
		// 0.78: condemning words are the counter-speech weakness above.
		CatQuoted: 5.0 / 6,
	}
	for cat, want := range minAcc {
		if acc[cat] < want {
			t.Errorf("%s accuracy %.2f, want >= %.2f", cat, acc[cat], want)
		}
	}
	if rep.AUC < 0.87 {
		t.Errorf("suite ROC-AUC %.3f, want >= 0.87 (0.890 measured; the plain baseline scores 0.75)", rep.AUC)
	}
	// Ranking: every hateful category scores above the neutral statements
	// about groups on average.
	mean := map[string]float64{}
	n := map[string]int{}
	for _, c := range Suite() {
		mean[c.Category] += m.ScoreFast(c.Text, c.Quote).Toxicity
		n[c.Category]++
	}
	for cat := range mean {
		mean[cat] /= float64(n[cat])
	}
	for _, cat := range []string{CatThreat, CatDehumanising, CatGroupHate, CatSpelling} {
		if mean[cat] <= mean[CatNeutralGroup]+0.1 {
			t.Errorf("%s mean score %.3f not clearly above neutral statements about groups (%.3f)", cat, mean[cat], mean[CatNeutralGroup])
		}
	}
}

// TestHeldOutSuite: the cases written before the second recipe was tuned
// and never used to choose it. They are reported, not tuned to; the floor
// is the plain baseline's figure (0.693), which the first model (0.702) and
// the current one (0.746 measured) both clear.
func TestHeldOutSuite(t *testing.T) {
	m := defaultModelT(t)
	rep := RunSuite(m, HeldOutSuite())
	for _, r := range rep.Categories {
		t.Logf("%-22s %2d/%2d", r.Category, r.Correct, r.N)
	}
	t.Logf("held-out suite ROC-AUC %.3f", rep.AUC)
	if rep.AUC < 0.70 {
		t.Errorf("held-out suite ROC-AUC %.3f, want >= 0.70", rep.AUC)
	}
}

func TestIdentityTemplates(t *testing.T) {
	m := defaultModelT(t)
	rep := EvaluateTemplates(m)
	t.Logf("templates: ROC-AUC %.3f, bias final score %.3f, highest neutral score %.3f", rep.Bias.Overall, rep.Bias.Final, rep.MaxNeutral)
	for _, tpl := range rep.NeutralHeld {
		t.Errorf("neutral template held: %q", tpl.Text)
	}
	for _, r := range rep.Bias.Rows {
		if r.BPSN < 0.90 {
			t.Errorf("%s: BPSN AUC %.3f, want >= 0.90", r.Group, r.BPSN)
		}
		if r.Subgroup < 0.9 {
			t.Errorf("%s: subgroup AUC %.3f, want >= 0.90", r.Group, r.Subgroup)
		}
	}
	if rep.Bias.Final < 0.9 {
		t.Errorf("bias final score %.3f, want >= 0.90", rep.Bias.Final)
	}
	if len(rep.Bias.Rows) != len(Identities) {
		t.Errorf("bias rows %d, want one per identity (%d)", len(rep.Bias.Rows), len(Identities))
	}
}

package toxicity

import "testing"

// TestMaskIdentity: the embedded model hashes identity terms as one token,
// so which group a comment names cannot change its scores.
func TestMaskIdentity(t *testing.T) {
	m := defaultModelT(t)
	if !m.Info.MaskIdentity {
		t.Fatal("embedded model does not mask identity terms")
	}
	pairs := [][2]string{
		{"I hate Muslims, they ruin everything.", "I hate Christians, they ruin everything."},
		{"My neighbour is a Jewish doctor.", "My neighbour is a Hindu doctor."},
		{"Immigrants make our city stronger.", "Refugees make our city stronger."},
	}
	for _, p := range pairs {
		a, b := m.ScoreFast(p[0], ""), m.ScoreFast(p[1], "")
		if a.Toxicity != b.Toxicity || a.IdentityAttack != b.IdentityAttack {
			t.Errorf("%q scores %.4f/%.4f, %q scores %.4f/%.4f: want the same", p[0], a.Toxicity, a.IdentityAttack, p[1], b.Toxicity, b.IdentityAttack)
		}
	}
}

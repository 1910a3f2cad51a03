package textnorm

import "testing"

func TestNameKey(t *testing.T) {
	same := []struct{ a, b string }{
		{"Admin", "admin"},
		{"Admin", "ADMIN"},
		{"Admin", "Аdmin"},             // Cyrillic А
		{"Admin", "Ad\u200bmin"},       // zero-width space
		{"Admin", "\u202eAdmin"},       // bidi override
		{"Admin", "\u2066Admin\u2069"}, // bidi isolate
		{"Admin", "Ａｄｍｉｎ"},             // full-width
		{"Admin", "A d m i n"},
		{"Admin", "Ad.min"},
		{"Admin", "Adm1n"},
		{"Admin", "AdmIn"},
		{"Admin", "Admln"},
		{"Admin", "Addmin"},
		{"Jane Doe", "jane_doe"},
		{"Jane Doe", "Jáne Dóe"},
		{"Zoë", "Zoe"},
	}
	for _, c := range same {
		if ka, kb := NameKey(c.a), NameKey(c.b); ka != kb || ka == "" {
			t.Errorf("NameKey(%q) = %q, NameKey(%q) = %q; want the same non-empty key", c.a, ka, c.b, kb)
		}
	}
	differ := []struct{ a, b string }{
		{"Admin", "Adam"},
		{"Jane Doe", "Jane Dow"},
		{"Ann", "Anne"},
	}
	for _, c := range differ {
		if NameKey(c.a) == NameKey(c.b) {
			t.Errorf("NameKey(%q) == NameKey(%q) = %q; want different keys", c.a, c.b, NameKey(c.a))
		}
	}
	if k := NameKey("?!…"); k != "" {
		t.Errorf("NameKey of punctuation = %q, want empty", k)
	}
}

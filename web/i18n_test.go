package web

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// pluralForms are the CLDR plural categories of each shipped language for
// the integers a count can be: a plural message must give each of them.
var pluralForms = map[string][]string{
	"en": {"one", "other"},
	"de": {"one", "other"},
	"fr": {"one", "many", "other"},
	"es": {"one", "many", "other"},
	"it": {"one", "many", "other"},
	"ar": {"zero", "one", "two", "few", "many", "other"},
}

var placeholder = regexp.MustCompile(`\{(\w+)\}`)

func placeholders(s string) []string {
	var out []string
	for _, m := range placeholder.FindAllStringSubmatch(s, -1) {
		if !slices.Contains(out, m[1]) {
			out = append(out, m[1])
		}
	}
	sort.Strings(out)
	return out
}

// TestCatalogues checks every message catalogue against the English one:
// the same keys, the same placeholders in each message, every plural
// category of the language, and nothing left in English by mistake.
func TestCatalogues(t *testing.T) {
	langs := Languages()
	if want := []string{"en", "ar", "de", "es", "fr", "it"}; !slices.Equal(langs, want) {
		t.Fatalf("Languages() = %v, want %v", langs, want)
	}
	en, err := readCatalogue("en")
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range langs {
		t.Run(lang, func(t *testing.T) {
			cat, err := readCatalogue(lang)
			if err != nil {
				t.Fatal(err)
			}
			for k := range en {
				if _, ok := cat[k]; !ok {
					t.Errorf("%s lacks %q", lang, k)
				}
			}
			same := 0
			for k, v := range cat {
				ev, ok := en[k]
				if !ok {
					t.Errorf("%s has %q, which English does not", lang, k)
					continue
				}
				switch v := v.(type) {
				case string:
					es, ok := ev.(string)
					if !ok {
						t.Errorf("%s.%s is a string, English has plural forms", lang, k)
						continue
					}
					if got, want := placeholders(v), placeholders(es); !slices.Equal(got, want) {
						t.Errorf("%s.%s has placeholders %v, English %v", lang, k, got, want)
					}
					if lang != "en" && v == es && len(es) > 12 {
						same++
					}
				case map[string]any:
					forms, ok := ev.(map[string]any)
					if !ok {
						t.Errorf("%s.%s has plural forms, English a string", lang, k)
						continue
					}
					want := placeholders(forms["other"].(string))
					for _, f := range pluralForms[lang] {
						s, ok := v[f].(string)
						if !ok {
							t.Errorf("%s.%s lacks the plural form %q", lang, k, f)
							continue
						}
						// A form for exactly zero, one or two may spell the number out.
						got, want := placeholders(s), want
						if f == "one" || f == "two" || f == "zero" {
							notN := func(p string) bool { return p == "n" }
							got, want = slices.DeleteFunc(got, notN), slices.DeleteFunc(slices.Clone(want), notN)
						}
						if !slices.Equal(got, want) {
							t.Errorf("%s.%s[%s] has placeholders %v, want %v", lang, k, f, placeholders(s), want)
						}
					}
				default:
					t.Errorf("%s.%s is a %T", lang, k, v)
				}
			}
			if same > 0 {
				t.Errorf("%s leaves %d messages in English", lang, same)
			}
		})
	}
}

// TestCataloguesServed checks /embed/i18n/<lang>.json: each catalogue, at
// the hash the script names, cached for a year; unknown languages 404.
func TestCataloguesServed(t *testing.T) {
	js := string(Script().Body)
	m := regexp.MustCompile(`"langs":(\{[^}]*\})`).FindStringSubmatch(js)
	if m == nil {
		t.Fatal("the served script names no catalogues")
	}
	var hashes map[string]string
	if err := json.Unmarshal([]byte(m[1]), &hashes); err != nil {
		t.Fatal(err)
	}
	if len(hashes) != len(Languages())-1 {
		t.Errorf("script names %d catalogues, want %d", len(hashes), len(Languages())-1)
	}
	if strings.Contains(js, "__PARLEY_I18N__") || !strings.Contains(js, `"en":{`) {
		t.Error("the English catalogue is not inlined into the script")
	}
	srv := httptest.NewServer(Catalogues())
	defer srv.Close()
	for lang, hash := range hashes {
		res, err := http.Get(srv.URL + "/embed/i18n/" + lang + ".json?v=" + hash)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		var cat map[string]any
		if res.StatusCode != 200 || json.Unmarshal(body, &cat) != nil || cat["comments"] == nil {
			t.Errorf("%s: %d %.100s", lang, res.StatusCode, body)
		}
		if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
			t.Errorf("%s: Cache-Control %q, want immutable for the hashed URL", lang, cc)
		}
	}
	for _, p := range []string{"/embed/i18n/xx.json", "/embed/i18n/en.json", "/embed/i18n/fr", "/embed/i18n/../embed.go"} {
		res, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 404 {
			t.Errorf("GET %s: %d, want 404", p, res.StatusCode)
		}
	}
}

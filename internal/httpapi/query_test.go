package httpapi

import (
	"net/url"
	"testing"
)

// FuzzThreadQuery holds the thread query parser to url.ParseQuery.
func FuzzThreadQuery(f *testing.F) {
	for _, s := range []string{
		"site=news&url=https%3A%2F%2Fnews.example.com%2Fa%3Futm_source%3Dx&sort=top&limit=50&cursor=abc",
		"site=&site=news", "url=a+b&url=c", "site=n%zz&site=ok", "s%69te=x&site=y", "site=a;b&site=c",
		"limit=10&limit=20", "=&&==", "url=%E2%82%AC", "cursor=a%2Bb+c",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		var q threadQuery
		q.parse(raw)
		v, _ := url.ParseQuery(raw)
		want := threadQuery{site: v.Get("site"), url: v.Get("url"), sort: v.Get("sort"), limit: v.Get("limit"), cursor: v.Get("cursor")}
		if q != want {
			t.Fatalf("parse(%q) = %+v, url.ParseQuery gives %+v", raw, q, want)
		}
	})
}

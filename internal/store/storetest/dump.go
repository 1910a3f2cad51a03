package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// PopulateInstance fills every table of store.DumpTables of an empty store
// with rows that use every kind of value a dump carries: NULL and empty
// byte strings, zero and non-zero times, JSON, lists, true and false, a
// reply, a quote, an edit, an import, a resolved report, a suspension and
// a ban, through the store's own methods. The dump tests of each backend
// check that their dump of it has rows in every table.
func PopulateInstance(t *testing.T, s store.Store) {
	t.Helper()
	ctx := context.Background()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("PopulateInstance: %s: %v", what, err)
		}
	}
	at := time.Date(2026, 11, 3, 10, 4, 5, 123_000_000, time.UTC)
	must("site news", s.CreateSite(ctx, &parley.Site{ID: "news", Name: "The News", Origins: []string{"https://news.example.com", "https://www.news.example.com"},
		PolicyURL: "https://news.example.com/rules", IgnoreParams: []string{"ref"}, Policy: []byte(`{"toxicity":{"hold":0.8}}`), Created: at}))
	must("site blog", s.CreateSite(ctx, &parley.Site{ID: "blog", Name: "A Blog", Origins: []string{"https://blog.example.org"}, Created: at.Add(time.Second)}))
	must("sso", s.SetSiteSSO(ctx, parley.SiteSSO{SiteID: "news", Secret: []byte("0123456789abcdef0123456789abcdef"), Only: true, Updated: at}))
	must("sso blog", s.SetSiteSSO(ctx, parley.SiteSSO{SiteID: "blog", JWKSURL: "https://blog.example.org/jwks.json", Updated: at}))
	must("oidc", s.SetSiteOIDC(ctx, parley.SiteOIDC{SiteID: "news", Issuer: "https://id.example.com", ClientID: "parley", ClientSecret: []byte("s3cret"),
		Scopes: []string{"openid", "email"}, ProviderName: "News ID", Moderators: true, StaffSubjects: map[string]string{"sub-9": "admin-1", "sub-1": "mod-1"}, Updated: at}))
	must("erasure", s.SetSiteErasure(ctx, "blog", store.ErasureRemove))
	must("site model", s.SaveSiteModel(ctx, &store.SiteModel{SiteID: "news", Model: []byte{0, 1, 2, 250}, Decisions: 40, Base: "base-v3", Created: at}))

	users := []*parley.User{
		{ID: "admin-1", Name: "Ada Admin", Email: "ada@news.example.com", Role: parley.RoleAdmin, Created: at},
		{ID: "mod-1", Name: "Mo Mod", Email: "mo@news.example.com", Role: parley.RoleModerator, SiteID: "news", Created: at},
		{ID: "reader-1", Name: "Rita Reader", Email: "rita@example.net", Role: parley.RoleReader, Created: at.Add(time.Minute),
			Picture: "https://cdn.news.example.com/rita.png", SessionsAfter: at.Add(3 * time.Minute), OwnName: true},
		{ID: "reader-2", Name: "Banned Bo", Role: parley.RoleReader, BannedUntil: at.Add(30 * 24 * time.Hour), Created: at.Add(2 * time.Minute)},
	}
	for _, u := range users {
		must("user "+u.ID, s.CreateUser(ctx, u))
	}
	must("password", s.SetPassword(ctx, "admin-1", "$argon2id$v=19$m=65536,t=3,p=2$c2FsdA$aGFzaA"))

	page, err := s.EnsurePage(ctx, "news", "https://news.example.com/2026/court", "Court report")
	must("page", err)
	page2, err := s.EnsurePage(ctx, "blog", "https://blog.example.org/hello", "Hello")
	must("page 2", err)
	page.Closed, page.Policy = true, []byte(`{"premoderate":true}`)
	_, err = s.SetPageSettings(ctx, page.ID, store.PageSettings{Closed: true, Policy: []byte(`{"premoderate":true}`)})
	must("page settings", err)

	first := &parley.Comment{PageID: page.ID, AuthorID: "reader-1", AuthorName: "Rita Reader", IPHash: "ip-1", Text: "First <b>words</b>", HTML: "<p>First &lt;b&gt;words&lt;/b&gt;</p>",
		Status: parley.StatusApproved, Toxicity: 0.125, Created: at.Add(time.Hour)}
	must("comment", s.CreateComment(ctx, first))
	held := &parley.Comment{PageID: page.ID, ParentID: first.ID, QuoteID: first.ID, AuthorID: "reader-2", AuthorName: "Banned Bo", IPHash: "ip-2", Text: "a reply, held",
		HTML: "<p>a reply, held</p>", Status: parley.StatusPending, Toxicity: 0.91,
		Reasons: []parley.Reason{{Rule: "toxicity", Message: "toxicity 0.91", Spans: []parley.Span{{Start: 0, End: 7}}, UserID: "reader-1"}}, Created: at.Add(2 * time.Hour)}
	must("reply", s.CreateComment(ctx, held))
	must("edit", s.EditComment(ctx, first.ID, "First words, edited", "<p>First words, edited</p>", at.Add(3*time.Hour)))
	must("feature", s.SetFeatured(ctx, first.ID, true))
	staff := &parley.Comment{PageID: page2.ID, AuthorID: "mod-1", AuthorName: "Mo Mod", Text: "From the desk: ünïcødé ✓", HTML: "<p>From the desk: ünïcødé ✓</p>",
		Status: parley.StatusApproved, Created: at.Add(4 * time.Hour)}
	must("staff comment", s.CreateComment(ctx, staff))
	_, err = s.Import(ctx, &store.ImportBatch{SiteID: "news", Users: []*parley.User{{ID: "disqus-7", Name: "Old Timer", Role: parley.RoleReader, Created: at}},
		Comments: []*store.ImportedComment{{Comment: &parley.Comment{PageID: page.ID, AuthorID: "disqus-7", AuthorName: "Old Timer", Text: "imported", HTML: "<p>imported</p>",
			Status: parley.StatusApproved, Created: at.Add(-24 * time.Hour), Score: 3}, Source: "disqus", SourceID: "d-100"}}})
	must("import", err)

	_, err = s.AddReport(ctx, &parley.Report{CommentID: held.ID, ReporterID: "reader-1", Reason: "abuse", Note: "not nice", Created: at.Add(5 * time.Hour)})
	must("report", err)
	_, err = s.AddReport(ctx, &parley.Report{CommentID: first.ID, ReporterID: "reader-2", Reason: "spam", Created: at.Add(5 * time.Hour)})
	must("report 2", err)
	_, err = s.SetStatus(ctx, held.ID, parley.StatusRejected, held.Reasons, true)
	must("reject", err)
	_, err = s.Vote(ctx, parley.Vote{CommentID: first.ID, UserID: "reader-2", Value: -1})
	must("vote", err)
	_, err = s.Vote(ctx, parley.Vote{CommentID: first.ID, UserID: "mod-1", Value: 1})
	must("vote 2", err)

	must("sanction", s.SetSanction(ctx, store.Sanction{UserID: "reader-2", SiteID: "news", SuspendedUntil: at.Add(48 * time.Hour), Premoderated: true, Updated: at}))
	must("sanction 2", s.SetSanction(ctx, store.Sanction{UserID: "reader-1", SiteID: "blog", Premoderated: true, Updated: at}))
	must("note", s.AddNote(ctx, &store.Note{UserID: "reader-2", SiteID: "news", AuthorID: "mod-1", AuthorName: "Mo Mod", Text: "second warning", Created: at}))
	must("action", s.AddAction(ctx, &store.Action{ActorID: "mod-1", ActorName: "Mo Mod", Action: "reject", CommentID: held.ID, UserID: "reader-2", SiteID: "news",
		Note: "abusive", Before: []byte(`{"status":"pending"}`), After: []byte(`{"status":"rejected"}`), Created: at.Add(6 * time.Hour)}))
	must("action 2", s.AddAction(ctx, &store.Action{Action: "policy", SiteID: "news", Created: at.Add(7 * time.Hour)}))

	_, err = s.Update(ctx, func(tx store.Tx) error {
		if err := tx.AddBanMarks([]store.BanMark{
			{SiteID: "news", BannedID: "reader-2", Kind: "address", Value: "ip-2", Created: at, Expires: at.Add(90 * 24 * time.Hour)},
			{BannedID: "reader-2", Kind: "name", Value: "banned bo", Seen: at.Add(time.Hour), Created: at, Expires: at.Add(90 * 24 * time.Hour)},
		}); err != nil {
			return err
		}
		if err := tx.SetMailPrefs(store.MailPrefs{UserID: "reader-1", NoReplies: true, AlertDigest: true, Updated: at}); err != nil {
			return err
		}
		if _, err := tx.EnqueueMail(&store.QueuedMail{Key: "reply:1", Group: "reader-1", Kind: "reply", UserID: "reader-1", To: "rita@example.net",
			Data: []byte(`{"comment":1}`), Created: at}); err != nil {
			return err
		}
		_, err := tx.EnqueueMail(&store.QueuedMail{Key: "confirm:2", Kind: "confirm", To: "x@example.net", Data: []byte{}, Created: at})
		return err
	})
	must("ban marks and mail", err)
	mails, err := s.ClaimMail(ctx, at.Add(time.Hour), time.Minute, 10)
	must("claim mail", err)
	if len(mails) == 0 {
		t.Fatal("PopulateInstance: no mail to claim")
	}
	must("mail sent", s.MarkMailSent(ctx, []int64{mails[0].ID}, at.Add(time.Hour), "<m1@news.example.com>"))
	must("webhook", s.CreateWebhook(ctx, &store.Webhook{SiteID: "news", URL: "https://hooks.example.com/parley", Secret: "whsec", Events: []string{"comment.created", "comment.approved"},
		Format: "json", Created: at}))
	must("webhook 2", s.CreateWebhook(ctx, &store.Webhook{SiteID: "blog", URL: "https://hooks.example.com/slack", Secret: "whsec2", Format: "slack", Created: at}))
	must("token id", s.UseTokenID(ctx, "news", "jti-1", time.Now().Add(time.Hour).UTC().Truncate(time.Millisecond), time.Now()))
	must("ended session", s.RevokeReaderSession(ctx, "5f2b8c0e", users[2].ID, time.Now().Add(24*time.Hour).UTC().Truncate(time.Millisecond)))
}

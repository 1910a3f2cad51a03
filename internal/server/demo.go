package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/service"
)

// The demo is something to click through: a discussion under the demo
// article (replies, a quote, votes), a moderation queue with work in it
// (a comment the pipeline held, with its reasons, and one readers
// reported), and a moderator account to sign in to /admin with. All of it
// goes through the service, as readers' posts would: rendered, scored and
// moderated for real.

// DemoSite is the slug of the site `serve --demo` creates.
const DemoSite = "demo"

// demo creates the demo site when it is missing and, with DemoData, seeds
// its discussion on that first start and creates the demo moderator.
func (s *Server) demo(ctx context.Context) error {
	created, err := s.ensureDemoSite(ctx)
	if err != nil {
		return err
	}
	if err := ensureDemoSSO(ctx, s.svc); err != nil {
		return fmt.Errorf("demo site sso: %w", err)
	}
	if !s.cfg.DemoData {
		return nil
	}
	if created {
		posted, held, err := seedDemo(ctx, s.svc, s.cfg.BaseURL+"/demo")
		if err != nil {
			return err
		}
		s.startup.DemoSeeded, s.startup.DemoPosted, s.startup.DemoHeld = true, posted, held
	}
	email, password, err := ensureDemoModerator(ctx, s.svc, s.cfg.DataDir)
	if err != nil {
		return err
	}
	if email != "" {
		s.startup.DemoLoginFile = filepath.Join(s.cfg.DataDir, "demo-login")
		s.startup.DemoEmail, s.startup.DemoPassword = email, password
	}
	return nil
}

// ensureDemoSite creates the demo site, allowing the server's own origin,
// and reports whether it did.
func (s *Server) ensureDemoSite(ctx context.Context) (bool, error) {
	_, err := s.store.Site(ctx, DemoSite)
	if err == nil {
		return false, nil
	} else if parley.ErrorCode(err) != parley.ENotFound {
		return false, err
	}
	site := &parley.Site{
		ID:        DemoSite,
		Name:      "Parley demo",
		Origins:   demoOrigins(s.cfg.BaseURL),
		PolicyURL: "/demo/policy",
	}
	if err := s.svc.CreateSite(ctx, site); parley.ErrorCode(err) == parley.EConflict {
		return false, nil // another instance made it first
	} else if err != nil {
		return false, fmt.Errorf("create demo site: %w", err)
	}
	return true, nil
}

// demoComment is one post of the seeded discussion.
type demoComment struct {
	name, text string
	parent     int // index+1 of the comment replied to; 0 for none
	quote      int // index+1 of the comment quoted; 0 for none
	upvotes    int
	reports    []string // reasons readers report it for
}

var demoDiscussion = []demoComment{
	{name: "Ann Marsh", upvotes: 3, text: "Good to read something about Harwick that isn't about the mill. " +
		"I went to the bakery on the Saturday and ended up talking to a family from Aleppo for an hour about bread, of all things."},
	{name: "Tom Reilly", upvotes: 2, text: "Glad it went well, but the piece skates over housing. Half the people at the " +
		"residents' meeting were angry about the waiting list, not about anyone's religion, and being lumped in with the leaflet " +
		"crowd for saying so doesn't help."},
	{name: "Priya Nair", parent: 2, quote: 2, upvotes: 2, text: "That's why the monthly housing meeting matters. " +
		"Both things can be true: the grievance is real and the leaflets exploited it."},
	{name: "Dev Okafor", text: "Does anyone know if the library is doing the open day again next year?"},
	{name: "Ann Marsh", parent: 4, text: "The organisers said spring. There's a sign-up sheet at the library desk."},
	{name: "Gary W", reports: []string{"off_topic", "abuse"}, text: "The whole open doors thing is a PR stunt by the council. " +
		"Wake up, people, and stop swallowing whatever the Herald prints."},
	{name: "Kev", text: "Muslims are vermin and should all be deported, every last one of them."},
}

// seedDemo posts the demo discussion on the demo article and returns the
// number of comments posted and how many the pipeline held.
func seedDemo(ctx context.Context, svc *service.Service, articleURL string) (posted, held int, err error) {
	ids := make([]int64, len(demoDiscussion))
	readers := make([]*parley.User, 0, len(demoDiscussion))
	byName := map[string]*parley.User{}
	for i, d := range demoDiscussion {
		// Each reader posts from an address of their own (TEST-NET-3).
		a := service.Actor{User: byName[d.name], IP: fmt.Sprintf("203.0.113.%d", 10+len(byName))}
		in := service.PostInput{SiteID: DemoSite, URL: articleURL, Title: demoTitle, Text: d.text, Name: d.name}
		if d.parent > 0 {
			in.ParentID = ids[d.parent-1]
		}
		if d.quote > 0 {
			in.QuoteID = ids[d.quote-1]
		}
		res, err := svc.Post(ctx, a, in)
		if err != nil {
			return posted, held, fmt.Errorf("seed the demo discussion: %w", err)
		}
		if res.NewUser != nil {
			byName[d.name] = res.NewUser
			readers = append(readers, res.NewUser)
		}
		ids[i] = res.Comment.ID
		posted++
		if res.Comment.Status != parley.StatusApproved {
			held++
		}
	}
	// Votes and reports come from the other readers.
	for i, d := range demoDiscussion {
		voters := 0
		for _, u := range readers {
			if voters == d.upvotes {
				break
			}
			if u.Name == d.name {
				continue
			}
			if _, _, err := svc.Vote(ctx, service.Actor{User: u, IP: "203.0.113.200"}, ids[i], 1); err == nil {
				voters++
			}
		}
		reporters := readers[:0:0]
		for _, u := range readers {
			if u.Name != d.name {
				reporters = append(reporters, u)
			}
		}
		for j, reason := range d.reports {
			u := reporters[j%len(reporters)]
			if _, err := svc.Report(ctx, service.Actor{User: u, IP: "203.0.113.201"}, ids[i], service.ReportInput{Reason: reason}); err != nil {
				return posted, held, fmt.Errorf("seed a demo report: %w", err)
			}
		}
	}
	return posted, held, nil
}

// demoTitle is the demo article's title, as the widget sends it.
const demoTitle = "After the leaflets, a town answers with open doors"

// ensureDemoModerator creates the demo's moderator account on first start,
// with a random password saved in DATA/demo-login, and returns its e-mail
// and password when it was just created ("" otherwise).
func ensureDemoModerator(ctx context.Context, svc *service.Service, dataDir string) (email, password string, err error) {
	path := filepath.Join(dataDir, "demo-login")
	if _, err := os.Stat(path); err == nil {
		return "", "", nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", "", err
	}
	b := make([]byte, 12)
	if _, err := io.ReadFull(rand.Reader, b); err != nil {
		return "", "", err
	}
	email, password = "moderator@demo.parley.invalid", base64.RawURLEncoding.EncodeToString(b)
	_, err = svc.AddStaff(ctx, service.StaffInput{Role: parley.RoleModerator, SiteID: DemoSite, Name: "Demo moderator", Email: email, Password: password})
	if parley.ErrorCode(err) == parley.EConflict {
		return "", "", nil // made by an earlier start whose login file is gone
	} else if err != nil {
		return "", "", fmt.Errorf("create the demo moderator: %w", err)
	}
	if err := os.WriteFile(path, []byte(email+"\n"+password+"\n"), 0o600); err != nil {
		return "", "", err
	}
	return email, password, nil
}

package httpapi_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/service"
)

// TestUserChangesKeepEachOther (issue 13): a user's row is written whole,
// so a change made from a copy read before its unit of work undid any
// change another unit stored meanwhile — a reader's rename, or a post
// under a new name, racing a moderator's ban could lift the ban (or the
// ban put the old name back). Each change now reads the row inside its
// unit (a locking read on PostgreSQL) and sets only its own fields. Here
// a rename and a ban, and a post under a new name and a ban, start
// together for many readers: afterwards every reader is banned, and every
// rename that succeeded is kept. Both stores, and two instances on one
// PostgreSQL database (the reader's and the moderator's); against the old
// code it loses bans on each, and without FOR UPDATE across the instances.
func TestUserChangesKeepEachOther(t *testing.T) {
	dsn, schema := pgSchema(t)
	lite, pg := newEnv(t, envOpts{}), newEnvOn(t, pgOpen(t, dsn, schema), envOpts{})
	// A second instance on the same database, with its own committer:
	// its units run beside the first's, so only the row lock (FOR
	// UPDATE) orders a ban there after a rename here.
	pg2 := newEnvOn(t, pgOpen(t, dsn, schema), envOpts{})
	for _, be := range []struct {
		name  string
		e, e2 *env // the reader's instance and the moderator's
	}{{"sqlite", lite, lite}, {"postgres", pg, pg}, {"postgres, two instances", pg, pg2}} {
		e, e2 := be.e, be.e2
		t.Run(be.name, func(t *testing.T) {
			ctx := context.Background()
			admin := service.Actor{Admin: true, IP: "10.0.0.1"}
			const rounds = 40
			lostBans, lostNames := 0, 0
			for i := range rounds * 2 {
				u := &parley.User{ID: fmt.Sprintf("race-%d-%d", len(be.name), i), Name: "Before", Role: parley.RoleReader}
				if err := e.db.CreateUser(ctx, u); err != nil {
					t.Fatal(err)
				}
				name := fmt.Sprintf("After %d", i)
				start := make(chan struct{})
				var wg sync.WaitGroup
				var renameErr, banErr error
				wg.Go(func() {
					<-start
					me := *u // the reader as their request read them
					if i%2 == 0 {
						_, renameErr = e.svc.Rename(ctx, service.Actor{User: &me, IP: "192.0.2.1"}, "news", name)
						return
					}
					_, renameErr = e.svc.Post(ctx, service.Actor{User: &me, IP: "192.0.2.1"}, service.PostInput{
						SiteID: "news", URL: articleURL, Title: "Article", Text: fmt.Sprintf("Posted under a new name, %d.", i), Name: name})
				})
				wg.Go(func() {
					<-start
					_, banErr = e2.svc.Sanction(ctx, admin, u.ID, service.SanctionInput{Action: service.SanctionBan, Note: "race"})
				})
				close(start)
				wg.Wait()
				if banErr != nil {
					t.Fatalf("ban %d: %v", i, banErr)
				}
				got, err := e.db.User(ctx, u.ID)
				if err != nil {
					t.Fatal(err)
				}
				if !got.Banned(e.now) {
					lostBans++
				}
				if renameErr == nil && got.Name != name {
					lostNames++
				} else if renameErr != nil && parley.ErrorCode(renameErr) != parley.EForbidden {
					t.Errorf("round %d: the rename or post failed otherwise than as a banned reader's: %v", i, renameErr)
				}
			}
			if lostBans > 0 || lostNames > 0 {
				t.Errorf("of %d races of a ban with a rename or a post under a new name, %d lost the ban and %d the new name", 2*rounds, lostBans, lostNames)
			}
		})
	}
}

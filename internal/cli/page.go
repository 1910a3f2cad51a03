package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/moderation"
	"github.com/parleyhq/parley/internal/server"
	"github.com/parleyhq/parley/internal/service"
)

const pageUsage = `Usage:
  parley page list --site SLUG [--search TEXT] [--limit N]
  parley page close --site SLUG --url URL [--note TEXT]
  parley page open --site SLUG --url URL [--note TEXT]
  parley page policy --site SLUG --url URL [--set FILE | --clear] [--note TEXT]

"close" refuses new comments on the page (also before its first comment);
"open" takes them again. "policy" prints the page's override of the site's
policy and the policy its comments are moderated by; --set FILE replaces the
override with the JSON in FILE ("-" for standard input), holding only the
settings that differ from the site's, e.g. {"mode":"pre_all","max_links":0};
--clear removes it. Every change is in the site's audit trail, and a running
server applies it to the next comment and shows it in the thread within a
second. The database is chosen like "serve" does: --data / PARLEY_DATA_DIR or
PARLEY_DATABASE_URL.
`

// cliActor is who the command line acts as: an admin, named so in the audit
// trail apart from the admin token of the API.
var cliActor = service.Actor{Admin: true, User: &parley.User{Name: "command line (parley page)"}}

func runPage(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, pageUsage)
		return errUsage
	}
	sub := args[0]
	fs := newFlagSet("page "+sub, stderr)
	cfg := configFlags(fs)
	var site, url, search, note, setFile string
	var limit int
	var clearPolicy bool
	fs.StringVar(&site, "site", "", "site slug, e.g. news")
	fs.StringVar(&url, "url", "", "the article's URL (canonicalised as the widget's)")
	fs.StringVar(&search, "search", "", "list: only pages whose URL or title contains this")
	fs.IntVar(&limit, "limit", 50, "list: at most this many pages, newest activity first")
	fs.StringVar(&note, "note", "", "why, kept in the audit trail")
	fs.StringVar(&setFile, "set", "", `policy: replace the override with the JSON in this file ("-" for standard input)`)
	fs.BoolVar(&clearPolicy, "clear", false, "policy: remove the override")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	switch sub {
	case "list", "close", "open", "policy":
	default:
		fmt.Fprint(stderr, pageUsage)
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprint(stderr, pageUsage)
		return errUsage
	}
	if site == "" {
		return fmt.Errorf("page %s: --site is required", sub)
	}
	if sub != "list" && url == "" {
		return fmt.Errorf("page %s: --url is required", sub)
	}
	if setFile != "" && clearPolicy {
		return fmt.Errorf("page policy: give --set or --clear, not both")
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	var override *moderation.PolicyOverride
	if setFile != "" {
		o, err := readOverride(setFile, stdin)
		if err != nil {
			return fmt.Errorf("page policy: %w", err)
		}
		override = &o
	} else if clearPolicy {
		override = &moderation.PolicyOverride{}
	}

	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	svc, err := server.OfflineService(ctx, *cfg, st, false)
	if err != nil {
		return err
	}
	ref := service.PageRef{SiteID: site, URL: url}
	fail := func(err error) error { return fmt.Errorf("page %s: %s", sub, parley.ErrorMessage(err)) }

	switch sub {
	case "list":
		l, err := svc.Pages(ctx, cliActor, service.PagesQuery{SiteID: site, Search: search, Limit: limit})
		if err != nil {
			return fail(err)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ACTIVITY\tCOMMENTS\tCLOSED\tOVERRIDE\tURL\tTITLE")
		for _, p := range l.Pages {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", p.Activity.Format(time.DateTime), p.Page.Count,
				yesNo(p.Page.Closed), yesNo(len(p.Page.Policy) > 0), p.Page.URL, p.Page.Title)
		}
		tw.Flush()
		if l.Cursor != "" {
			fmt.Fprintf(stderr, "More pages: narrow with --search or raise --limit (at most %d).\n", service.MaxPageList)
		}
	case "close", "open":
		closed := sub == "close"
		// Comments can be closed before the first one; opening a page
		// nobody has commented on would change nothing.
		v, err := svc.UpdatePage(ctx, cliActor, ref, service.PageUpdate{Closed: &closed, Note: note, Create: closed})
		if err != nil {
			return fail(err)
		}
		state := "open to new comments"
		if closed {
			state = "closed to new comments"
		}
		fmt.Fprintf(stdout, "%s on site %s is %s.\n", v.Page.URL, site, state)
	case "policy":
		var v *service.PageView
		if override != nil {
			v, err = svc.UpdatePage(ctx, cliActor, ref, service.PageUpdate{Policy: override, Note: note, Create: !clearPolicy})
		} else {
			v, err = svc.Page(ctx, cliActor, ref)
		}
		if err != nil {
			return fail(err)
		}
		return printPagePolicy(stdout, v)
	}
	return nil
}

// readOverride reads a policy override from a file or stdin ("-").
func readOverride(file string, stdin io.Reader) (moderation.PolicyOverride, error) {
	var b []byte
	var err error
	if file == "-" {
		b, err = io.ReadAll(io.LimitReader(stdin, 1<<20))
	} else {
		b, err = os.ReadFile(file)
	}
	if err != nil {
		return moderation.PolicyOverride{}, err
	}
	o, err := moderation.ParseOverride(b)
	if err != nil {
		return o, fmt.Errorf("%s: %s", file, parley.ErrorMessage(err))
	}
	return o, nil
}

// printPagePolicy prints a page's state, its override and its effective
// policy as indented JSON.
func printPagePolicy(w io.Writer, v *service.PageView) error {
	fmt.Fprintf(w, "%s (%d comments) is %s.\n", v.Page.URL, v.Page.Count, map[bool]string{true: "closed", false: "open"}[v.Page.Closed])
	for _, part := range []struct {
		title string
		v     any
	}{
		{"Override of the site's policy", v.Override},
		{"Effective policy", v.Effective},
	} {
		b, err := json.MarshalIndent(part.v, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%s:\n%s\n", part.title, b)
	}
	return nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

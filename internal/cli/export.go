package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/parleyhq/parley/internal/server"
	"github.com/parleyhq/parley/internal/service"
	"github.com/parleyhq/parley/internal/store"
)

const exportUsage = `Usage:
  parley export --site SLUG [--out FILE] [--with-emails]
  parley export --all [--out FILE]

Writes a site's pages, users and comments as JSON Lines in Parley's export
format (docs/export-format.md) to FILE, or to standard output. "parley
import --from parley FILE" reads it back, on this server or another.
Users' e-mail addresses are left out unless --with-emails is given.

With --all it writes the whole instance instead: every row of every site,
page, user, comment, vote, report, decision, policy, audit entry and
setting, secrets and password hashes included, in a form that does not
depend on the database ("parley restore FILE" reads it into an empty
SQLite or PostgreSQL database). Keep such a file as you keep the database.
`

func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("export", stderr)
	fs.Usage = func() { fmt.Fprint(stderr, exportUsage); fs.PrintDefaults() }
	cfg := configFlags(fs)
	var site, out string
	var emails, all bool
	fs.BoolVar(&all, "all", false, "export the whole instance, for parley restore")
	fs.StringVar(&site, "site", "", "site slug to export")
	fs.StringVar(&out, "out", "", "file to write (default: standard output)")
	fs.BoolVar(&emails, "with-emails", false, "include users' e-mail addresses (personal data)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}
	if all && (site != "" || emails) {
		return fmt.Errorf("export: --all exports every site with everything; it takes no --site or --with-emails")
	}
	if site == "" && !all {
		return fmt.Errorf("export: --site or --all is required")
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	if all {
		return exportAll(ctx, st, out, stdout, stderr)
	}
	svc, err := server.OfflineService(ctx, *cfg, st, false)
	if err != nil {
		return err
	}
	opts := service.ExportOptions{SiteID: site, WithEmails: emails}
	var rep *service.ExportReport
	if out == "" {
		rep, err = svc.Export(ctx, stdout, opts)
	} else {
		rep, err = svc.ExportFile(ctx, out, opts)
	}
	if err != nil {
		return fmt.Errorf("export: %s", importError(err))
	}
	fmt.Fprintf(stderr, "Exported site %s: %d pages, %d users, %d comments, %d reports.\n", site, rep.Pages, rep.Users, rep.Comments, rep.Reports)
	return nil
}

// exportAll writes the instance's dump to out (atomically: a temporary file
// beside it, synced and renamed, readable by its owner only) or to stdout.
func exportAll(ctx context.Context, st store.Store, out string, stdout, stderr io.Writer) error {
	d, ok := st.(store.Dumper)
	if !ok {
		return fmt.Errorf("export: this store cannot export the whole instance")
	}
	var counts store.DumpCounts
	var err error
	if out == "" {
		counts, err = store.WriteDump(ctx, d, stdout)
	} else {
		err = writeFileAtomic(out, func(w io.Writer) error {
			var err error
			counts, err = store.WriteDump(ctx, d, w)
			return err
		})
	}
	if err != nil {
		return fmt.Errorf("export: %s", importError(err))
	}
	fmt.Fprintf(stderr, "Exported the instance: %s.\n", countsLine(counts))
	return nil
}

// countsLine lists the rows of a dump by table, in the dump's order.
func countsLine(c store.DumpCounts) string {
	var parts []string
	for _, t := range store.DumpTables {
		if n := c[t.Name]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, t.Name))
		}
	}
	if len(parts) == 0 {
		return "no rows"
	}
	return strings.Join(parts, ", ")
}

// writeFileAtomic writes path through write: to a new temporary file in
// its directory (mode 0600), synced, then renamed over path, so that path
// is the old file or the complete new one.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // fails harmlessly once renamed
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/parleyhq/parley/internal/server"
	"github.com/parleyhq/parley/internal/service"
)

const exportUsage = `Usage:
  parley export --site SLUG [--out FILE] [--with-emails]

Writes a site's pages, users and comments as JSON Lines in Parley's export
format (docs/export-format.md) to FILE, or to standard output. "parley
import --from parley FILE" reads it back, on this server or another.
Users' e-mail addresses are left out unless --with-emails is given.
`

func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("export", stderr)
	fs.Usage = func() { fmt.Fprint(stderr, exportUsage); fs.PrintDefaults() }
	cfg := configFlags(fs)
	var site, out string
	var emails bool
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
	if site == "" {
		return fmt.Errorf("export: --site is required")
	}
	if err := cfg.Validate(); err != nil {
		return err
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

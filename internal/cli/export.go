package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/parleyhq/parley/internal/render"
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
	svc := service.New(st, render.New())

	w := stdout
	var tmp *os.File
	if out != "" {
		// Written beside the target and renamed at the end: an export that
		// fails leaves no half file under the name asked for. Private, as
		// it may hold e-mail addresses.
		if tmp, err = os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".tmp-*"); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		defer os.Remove(tmp.Name())
		defer tmp.Close()
		w = tmp
	}
	rep, err := svc.Export(ctx, w, service.ExportOptions{SiteID: site, WithEmails: emails})
	if err != nil {
		return fmt.Errorf("export: %s", importError(err))
	}
	if tmp != nil {
		if err := tmp.Sync(); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		if err := tmp.Close(); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		if err := os.Rename(tmp.Name(), out); err != nil {
			return fmt.Errorf("export: %w", err)
		}
	}
	fmt.Fprintf(stderr, "Exported site %s: %d pages, %d users, %d comments, %d reports.\n", site, rep.Pages, rep.Users, rep.Comments, rep.Reports)
	return nil
}

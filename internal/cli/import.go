package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/importer"
	"github.com/parleyhq/parley/internal/server"
	"github.com/parleyhq/parley/internal/service"
)

const importUsage = `Usage:
  parley import --site SLUG --from disqus|wordpress|remark42|parley [--moderate] FILE

Imports the comments of an export into a site: a Disqus XML export, a
WordPress WXR file, a Remark42 backup, or Parley's own export ("parley
export"). FILE may be "-" for standard input, and gzip-compressed. Pages are
created by their canonical URL, authors become readers (their e-mail
addresses are kept private), comments keep their times, replies and
statuses, and their HTML is converted to markdown and rendered by Parley.
Running the same import again adds nothing. Imported comments skip the
moderation pipeline (they were moderated on the old system) unless
--moderate is given, which holds what the site's pipeline would hold.
The database is chosen like "serve" does: --data / PARLEY_DATA_DIR or
PARLEY_DATABASE_URL.
`

func runImport(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("import", stderr)
	fs.Usage = func() { fmt.Fprint(stderr, importUsage); fs.PrintDefaults() }
	cfg := configFlags(fs)
	var site, from string
	var moderate bool
	var batch int
	fs.StringVar(&site, "site", "", "site slug to import into")
	fs.StringVar(&from, "from", "", "the export's format: "+strings.Join(importer.Formats, ", "))
	fs.BoolVar(&moderate, "moderate", false, "run the site's moderation pipeline on imported comments")
	fs.IntVar(&batch, "batch", 1000, "comments per transaction")
	// Flags may come before or after FILE.
	var files []string
	for err := fs.Parse(args); ; err = fs.Parse(fs.Args()[1:]) {
		if err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
	}
	if len(files) != 1 {
		fs.Usage()
		return errUsage
	}
	if site == "" {
		return fmt.Errorf("import: --site is required")
	}
	if !slices.Contains(importer.Formats, from) {
		return fmt.Errorf("import: --from must be one of %s", strings.Join(importer.Formats, ", "))
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	var in io.Reader = stdin
	if name := files[0]; name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		defer f.Close()
		in = f
	}
	rd, err := importer.NewReader(from, in)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	// With --moderate, scored as serve would: its model and the site's tuned one.
	svc, err := server.OfflineService(ctx, *cfg, st, moderate)
	if err != nil {
		return err
	}
	rep, err := svc.Import(ctx, rd, service.ImportOptions{SiteID: site, Source: from, Moderate: moderate, BatchSize: batch})
	if rep != nil {
		printImportReport(stdout, site, rep)
	}
	if err != nil {
		return fmt.Errorf("import: %s", importError(err))
	}
	return nil
}

// importError is an import failure as a publisher should read it.
func importError(err error) string {
	if parley.ErrorCode(err) != parley.EInternal {
		return parley.ErrorMessage(err)
	}
	return err.Error()
}

// printImportReport prints what an import did and how fast.
func printImportReport(w io.Writer, site string, r *service.ImportReport) {
	secs := r.Elapsed.Seconds()
	rate := 0.0
	if secs > 0 {
		rate = float64(r.Read) / secs
	}
	fmt.Fprintf(w, "Imported from %s into site %s in %.2fs (%.0f comments/s).\n", r.Source, site, secs, rate)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "  pages\t%d\n", r.Pages)
	fmt.Fprintf(tw, "  comments read\t%d\n", r.Read)
	fmt.Fprintf(tw, "  imported\t%d\t%s\n", r.Imported, counts(r.ByStatus))
	fmt.Fprintf(tw, "  already imported\t%d\n", r.Existing)
	skipped := 0
	for _, n := range r.Skipped {
		skipped += n
	}
	fmt.Fprintf(tw, "  skipped\t%d\t%s\n", skipped, counts(r.Skipped))
	if r.Held > 0 {
		fmt.Fprintf(tw, "  held by --moderate\t%d\n", r.Held)
	}
	fmt.Fprintf(tw, "  truncated\t%d\n", r.Truncated)
	fmt.Fprintf(tw, "  users created\t%d\n", r.UsersCreated)
	fmt.Fprintf(tw, "  warnings\t%d\n", r.WarningCount)
	tw.Flush()
	for _, m := range r.Warnings {
		fmt.Fprintf(w, "    %s\n", m)
	}
	if r.WarningCount > len(r.Warnings) {
		fmt.Fprintf(w, "    … and %d more\n", r.WarningCount-len(r.Warnings))
	}
}

// counts formats a tally as "(a: 1, b: 2)", "" when empty.
func counts(m map[string]int) string {
	if len(m) == 0 {
		return ""
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s: %d", k, m[k])
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

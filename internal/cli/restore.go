package cli

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/parleyhq/parley/internal/store"
)

const restoreUsage = `Usage:
  parley restore [--data DIR | --database URL] FILE

Reads a whole instance written by "parley export --all" into an empty
database: every site, page, user, comment, vote, report, decision, policy,
audit entry and setting, with their ids. SQLite or PostgreSQL, whichever
the export came from. Everything is stored in one transaction, or nothing.
Stop the servers using the database first. Moderators and readers sign in
again afterwards (sessions, sign-ins in progress and the event log are not
in the file).
`

func runRestore(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("restore", stderr)
	fs.Usage = func() { fmt.Fprint(stderr, restoreUsage); fs.PrintDefaults() }
	cfg := configFlags(fs)
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
	if err := cfg.Validate(); err != nil {
		return err
	}
	var in io.Reader = stdin
	if name := files[0]; name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		defer f.Close()
		in = f
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	d, ok := st.(store.Dumper)
	if !ok {
		return fmt.Errorf("restore: this store cannot restore an instance")
	}
	counts, err := store.ReadDump(ctx, d, in)
	if err != nil {
		return fmt.Errorf("restore: %s", importError(err))
	}
	fmt.Fprintf(stdout, "Restored the instance: %s.\n", countsLine(counts))
	return nil
}

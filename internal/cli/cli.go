// Package cli is Parley's command line: one file per subcommand, each
// parsing its flags, calling the package that does the work and printing
// its result — server.Open, Serve and Close for `parley serve`, bench.Run
// for `parley bench`, and for the offline commands (site, page, user,
// import, export) a use case of the service that server.OfflineService
// builds over the store server.OpenStore opens, as serve would. No rule of
// the product lives here: what a command does is tested in the package that
// does it, and the tests here check flags, messages and exit codes.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
)

// Version is set at build time with -ldflags "-X …/cli.Version=v1.2.3";
// otherwise it comes from the module's build information.
var Version = ""

const usage = `Parley — comments and moderation for news sites.

Usage:
  parley serve [flags]          run the server (try: parley serve --demo)
  parley site add|list|set      manage sites
  parley page list|close|open|policy
                                close a page or override its site's policy
  parley user add|list|passwd   manage moderator and admin accounts
  parley import --site S --from disqus|wordpress|remark42|parley FILE
                                import comments from another system or an export
  parley export --site S [--out FILE]
                                export a site's pages, users and comments
  parley export --all [--out FILE]
                                export the whole instance, for parley restore
  parley restore FILE           restore an instance into an empty database
  parley backup --out FILE      copy the SQLite database while the server runs
  parley model train|eval|score|tune
                                the toxicity model
  parley bench [flags]          measure reads, posts and memory on this machine
  parley version                print the version

Run "parley COMMAND -h" for a command's flags.
`

// errUsage reports bad arguments; the message was already printed.
var errUsage = errors.New("usage")

// Run runs the command line args and returns the process exit code.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = runServe(ctx, args[1:], stdout, stderr)
	case "site":
		err = runSite(ctx, args[1:], stdout, stderr)
	case "page":
		err = runPage(ctx, args[1:], stdin, stdout, stderr)
	case "user":
		err = runUser(ctx, args[1:], stdin, stdout, stderr)
	case "import":
		err = runImport(ctx, args[1:], stdin, stdout, stderr)
	case "export":
		err = runExport(ctx, args[1:], stdout, stderr)
	case "restore":
		err = runRestore(ctx, args[1:], stdin, stdout, stderr)
	case "backup":
		err = runBackup(ctx, args[1:], stdout, stderr)
	case "model":
		err = runModelCmd(ctx, args[1:], stdin, stdout, stderr)
	case "bench":
		err = runBench(ctx, args[1:], stdout, stderr)
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, "parley", version())
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "parley: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage), errors.Is(err, flag.ErrHelp):
		return 2
	default:
		fmt.Fprintln(stderr, "parley:", err)
		return 1
	}
}

func version() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

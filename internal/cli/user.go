package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/auth"
	"github.com/parleyhq/parley/internal/server"
	"github.com/parleyhq/parley/internal/service"
)

const userUsage = `Usage:
  parley user add --role admin|moderator [--site SLUG] --name NAME --email E [--password-file F]
  parley user passwd --email E [--password-file F]
  parley user list
  parley user set --id USER --role staff|reader
  parley user export --id USER [--out FILE]
  parley user erase --id USER --yes

The password is read from --password-file, or from standard input when it is
not a terminal (e.g. cat pw.txt | parley user add ...); it needs at least
10 characters. "passwd" signs the account out of every browser.
A moderator with --site moderates that site only; without it, every site.
"set --role staff" gives a reader (by user id, as the admin UI and the thread JSON show it) the
Staff badge and reserves their name; "--role reader" takes it away. Readers signed in by the
publisher (docs/sso.md) get the role from their token's roles at every sign-in instead.
"export" writes everything held about a reader (profile, comments, votes, reports, sanctions,
moderation about them) as JSON, to standard output or --out; "erase" removes their personal
data for good: comments removed or kept anonymised as each site says (site set --erasure).
The database is chosen like "serve" does: --data / PARLEY_DATA_DIR or PARLEY_DATABASE_URL.
`

func runUser(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, userUsage)
		return errUsage
	}
	sub := args[0]
	fs := newFlagSet("user "+sub, stderr)
	cfg := configFlags(fs)
	var role, site, name, email, pwFile, userID string
	fs.StringVar(&role, "role", "", "admin or moderator (add); staff or reader (set)")
	fs.StringVar(&userID, "id", "", "the user id (set)")
	fs.StringVar(&site, "site", "", "the one site a moderator may act on (default: every site)")
	fs.StringVar(&name, "name", "", "display name shown in the audit log")
	fs.StringVar(&email, "email", "", "e-mail address to sign in with")
	fs.StringVar(&pwFile, "password-file", "", "file holding the password (default: standard input)")
	var outFile string
	var yes bool
	fs.StringVar(&outFile, "out", "", "file to write the export to (default: standard output)")
	fs.BoolVar(&yes, "yes", false, "confirm an erasure, which cannot be undone")
	fs.StringVar(&userID, "user", "", "the user id (export, erase; same as --id)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprint(stderr, userUsage)
		return errUsage
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	switch sub {
	case "add", "passwd", "list", "set":
	case "export", "erase":
		return runUserData(ctx, sub, cfg, userID, outFile, yes, stdout)
	default:
		fmt.Fprint(stderr, userUsage)
		return errUsage
	}
	var password string
	if sub != "list" && sub != "set" {
		if email == "" {
			return fmt.Errorf("user %s: --email is required", sub)
		}
		var err error
		if password, err = readPassword(pwFile, stdin); err != nil {
			return fmt.Errorf("user %s: %w", sub, err)
		}
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

	switch sub {
	case "add":
		u, err := svc.AddStaff(ctx, service.StaffInput{Role: role, SiteID: site, Name: name, Email: email, Password: password})
		if err != nil {
			return fmt.Errorf("user add: %s", parley.ErrorMessage(err))
		}
		scope := "every site"
		if u.SiteID != "" {
			scope = "site " + u.SiteID
		}
		fmt.Fprintf(stdout, "Added %s %s <%s> for %s. Sign in at %s/admin\n", u.Role, u.Name, u.Email, scope, cfg.BaseURL)
	case "passwd":
		if err := svc.SetStaffPassword(ctx, email, password); err != nil {
			return fmt.Errorf("user passwd: %s", parley.ErrorMessage(err))
		}
		fmt.Fprintf(stdout, "Changed the password of %s and signed them out everywhere.\n", strings.ToLower(email))
	case "set":
		if userID == "" || role == "" {
			return fmt.Errorf("user set: --id and --role are required")
		}
		u, err := svc.SetRole(ctx, service.Actor{Admin: true}, userID, role)
		if err != nil {
			return fmt.Errorf("user set: %s", parley.ErrorMessage(err))
		}
		fmt.Fprintf(stdout, "%s (%s) is now %s.\n", u.Name, u.ID, u.Role)
	case "list":
		us, err := svc.StaffUsers(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "EMAIL\tNAME\tROLE\tSITE\tID")
		for _, u := range us {
			site := u.SiteID
			if site == "" {
				site = "*"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Email, u.Name, u.Role, site, u.ID)
		}
		tw.Flush()
	}
	return nil
}

// readPassword reads the password from the file, or from stdin when that is
// not a terminal: the command never prompts, so it scripts cleanly, and a
// password never appears in the process list or shell history. One trailing
// newline is dropped.
func readPassword(file string, stdin io.Reader) (string, error) {
	var r io.Reader
	if file != "" {
		f, err := os.Open(file)
		if err != nil {
			return "", err
		}
		defer f.Close()
		r = f
	} else {
		if f, ok := stdin.(*os.File); ok {
			if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
				return "", errors.New("give the password with --password-file or on standard input (it is never prompted for)")
			}
		}
		if stdin == nil {
			return "", errors.New("no password: use --password-file")
		}
		r = stdin
	}
	line, err := bufio.NewReader(io.LimitReader(r, auth.MaxPasswordLen+2)).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("read password: %w", err)
	}
	pw := strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if len(pw) < auth.MinPasswordLen {
		return "", fmt.Errorf("the password must have at least %d characters", auth.MinPasswordLen)
	}
	return pw, nil
}

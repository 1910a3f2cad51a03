package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/server"
	"github.com/parleyhq/parley/internal/service"
)

const siteUsage = `Usage:
  parley site add --id SLUG [--name NAME] [--origin URL ...] [--policy-url URL] [--ignore-param P ...]
  parley site set --id SLUG [--name NAME] [--origin URL ...] [--policy-url URL] [--ignore-param P ...]
                  [--sso-secret-file F | --sso-jwks URL] [--sso-only[=false]]
                  [--oidc-issuer URL --oidc-client-id ID --oidc-secret-file F] [--oidc-scopes profile,email]
                  [--oidc-name NAME] [--oidc-moderators[=false]] [--oidc-staff SUBJECT=USER_ID ...]
                  [--erasure anonymise|remove]
  parley site list
  parley site webhook add|list|rm|log|test ...   (see: parley site webhook)

--origin and --ignore-param may be repeated or comma-separated; on "set" they replace the lists.
The id may also come first: parley site set news --sso-only.
Single sign-on (docs/sso.md): --sso-secret-file reads the HS256 secret the publisher's backend
signs readers' tokens with (at least 32 bytes; "--sso-secret-file ''" removes it); --sso-jwks
sets the URL of its public keys instead (RS256, ES256, EdDSA); --sso-only lets only signed-in
readers post.
OpenID Connect (docs/sso.md): --oidc-issuer, --oidc-client-id and --oidc-secret-file name the
site's provider and Parley's client there (register BASE_URL/api/v1/auth/oidc/callback as its
redirect URI); readers get a "Sign in with NAME" button; --oidc-moderators lets the site's
moderators sign in with it by verified address; --oidc-staff binds a subject to a staff account.
The database is chosen like "serve" does: --data / PARLEY_DATA_DIR or PARLEY_DATABASE_URL.
`

type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error {
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*l = append(*l, p)
		}
	}
	return nil
}

func runSite(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, siteUsage)
		return errUsage
	}
	sub := args[0]
	if sub == "webhook" {
		return runSiteWebhook(ctx, args[1:], stdout, stderr)
	}
	var id string
	if len(args) > 1 && !strings.HasPrefix(args[1], "-") {
		// parley site set news --sso-only: the id first.
		id, args = args[1], append([]string{sub}, args[2:]...)
	}
	fs := newFlagSet("site "+sub, stderr)
	cfg := configFlags(fs)
	var name, policyURL, ssoSecretFile, ssoJWKS string
	var ssoOnly bool
	var origins, ignore listFlag
	var oidc oidcFlags
	oidc.register(fs)
	var erasure string
	fs.StringVar(&erasure, "erasure", "", "what happens to an erased reader's comments: anonymise (kept, by \"a former reader\") or remove")
	fs.StringVar(&id, "id", id, "site slug, e.g. news")
	fs.StringVar(&ssoSecretFile, "sso-secret-file", "", "file holding the HS256 secret of the publisher's sign-in tokens ('' removes it)")
	fs.StringVar(&ssoJWKS, "sso-jwks", "", "URL of the publisher's public signing keys (JWKS); '' turns it off")
	fs.BoolVar(&ssoOnly, "sso-only", false, "only readers signed in by the publisher may post")
	fs.StringVar(&name, "name", "", "site name shown to moderators")
	fs.Var(&origins, "origin", "allowed embedding origin, e.g. https://news.example.com")
	fs.StringVar(&policyURL, "policy-url", "", "URL of the comment policy")
	fs.Var(&ignore, "ignore-param", "query parameter to strip from article URLs")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	baseGiven := cfg.BaseURL != "" // by --base-url or PARLEY_BASE_URL, as serve takes it
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

	switch sub {
	case "add":
		if id == "" {
			return fmt.Errorf("site add: --id is required")
		}
		s := &parley.Site{ID: id, Name: name, Origins: origins, PolicyURL: policyURL, IgnoreParams: ignore}
		if err := svc.CreateSite(ctx, s); err != nil {
			return fmt.Errorf("site add: %s", parley.ErrorMessage(err))
		}
		fmt.Fprint(stdout, addedSite(s, cfg.BaseURL, baseGiven))
	case "set":
		if id == "" {
			return fmt.Errorf("site set: --id is required")
		}
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		var change service.SiteChange
		if set["name"] {
			change.Name = &name
		}
		if set["origin"] {
			change.Origins = (*[]string)(&origins)
		}
		if set["policy-url"] {
			change.PolicyURL = &policyURL
		}
		if set["ignore-param"] {
			change.IgnoreParams = (*[]string)(&ignore)
		}
		s, err := svc.ChangeSite(ctx, id, change)
		if err != nil {
			return fmt.Errorf("site set: %s", parley.ErrorMessage(err))
		}
		if set["sso-secret-file"] || set["sso-jwks"] || set["sso-only"] {
			if err := setSiteSSO(ctx, svc, s.ID, set, ssoSecretFile, ssoJWKS, ssoOnly, stdout); err != nil {
				return fmt.Errorf("site set: %w", err)
			}
		}
		if set["erasure"] {
			if err := svc.SetSiteErasure(ctx, service.Actor{Admin: true}, s.ID, erasure); err != nil {
				return fmt.Errorf("site set: %s", parley.ErrorMessage(err))
			}
			fmt.Fprintf(stdout, "An erased reader's comments are now: %s.\n", erasure)
		}
		if oidcGiven(set) {
			if err := setSiteOIDC(ctx, svc, s.ID, set, &oidc, stdout); err != nil {
				return fmt.Errorf("site set: %w", err)
			}
		}
		fmt.Fprintf(stdout, "Updated site %s.\n", s.ID)
	case "list":
		sites, err := svc.Sites(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tORIGINS\tPOLICY")
		for _, s := range sites {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.ID, s.Name, strings.Join(s.Origins, ","), s.PolicyURL)
		}
		tw.Flush()
	default:
		fmt.Fprint(stderr, siteUsage)
		return errUsage
	}
	return nil
}

// setSiteSSO applies the --sso-* flags that were given. The secret is read
// from a file so that it appears in no shell history or process list, and
// it is never printed.
func setSiteSSO(ctx context.Context, svc *service.Service, siteID string, set map[string]bool, secretFile, jwks string, only bool, stdout io.Writer) error {
	var in service.SSOSettings
	if set["sso-secret-file"] {
		if secretFile == "" {
			in.ClearSecret = true
		} else {
			b, err := os.ReadFile(secretFile)
			if err != nil {
				return fmt.Errorf("read the SSO secret: %w", err)
			}
			in.Secret = []byte(strings.TrimSpace(string(b)))
		}
	}
	if set["sso-jwks"] {
		in.JWKSURL = &jwks
	}
	if set["sso-only"] {
		in.Only = &only
	}
	c, err := svc.SetSiteSSO(ctx, service.Actor{Admin: true}, siteID, in)
	if err != nil {
		return errors.New(parley.ErrorMessage(err))
	}
	switch {
	case len(c.Secret) > 0:
		fmt.Fprintf(stdout, "Single sign-on: HS256 secret set")
	case c.JWKSURL != "":
		fmt.Fprintf(stdout, "Single sign-on: keys from %s", c.JWKSURL)
	default:
		fmt.Fprintf(stdout, "Single sign-on: off")
	}
	if c.Only {
		fmt.Fprintf(stdout, "; only signed-in readers may post")
	}
	fmt.Fprintln(stdout, ".")
	return nil
}

// addedSite is what `site add` prints: the embed snippet for the server's
// public base URL, and what else the site needs before readers see it.
func addedSite(s *parley.Site, baseURL string, baseGiven bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Added site %s. Embed it with:\n  <div id=\"parley\"></div>\n  <script src=\"%s/embed.js\" data-site=\"%s\" async></script>\n", s.ID, baseURL, s.ID)
	if !baseGiven {
		fmt.Fprintf(&b, "%s is the default address. If readers reach the server elsewhere, give its public URL as serve has it\n"+
			"(--base-url or PARLEY_BASE_URL, e.g. https://comments.example.com) and use that in the snippet.\n", baseURL)
	}
	if len(s.Origins) == 0 {
		fmt.Fprintf(&b, "The site allows no origin yet: browsers will refuse the thread on the publisher's pages until it does:\n"+
			"  parley site set --id %s --origin https://www.example.com\n", s.ID)
	}
	return b.String()
}

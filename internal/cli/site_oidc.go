package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/service"
)

// oidcFlags are the --oidc-* flags of `parley site set`.
type oidcFlags struct {
	issuer, clientID, secretFile, name string
	scopes, staff                      listFlag
	moderators                         bool
}

func (o *oidcFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&o.issuer, "oidc-issuer", "", "OpenID Connect issuer URL of the site's provider ('' turns OIDC off)")
	fs.StringVar(&o.clientID, "oidc-client-id", "", "Parley's client id at the provider")
	fs.StringVar(&o.secretFile, "oidc-secret-file", "", "file holding Parley's client secret at the provider ('' removes it)")
	fs.Var(&o.scopes, "oidc-scopes", "scopes to ask for (openid is always asked), e.g. profile,email")
	fs.StringVar(&o.name, "oidc-name", "", `provider name on the button ("Sign in with NAME")`)
	fs.BoolVar(&o.moderators, "oidc-moderators", false, "the site's moderators may sign in to the admin UI with the provider (by verified address)")
	fs.Var(&o.staff, "oidc-staff", "SUBJECT=USER_ID: the provider's subject signs in as that staff account (repeatable; '' clears)")
}

func oidcGiven(set map[string]bool) bool {
	for k := range set {
		if strings.HasPrefix(k, "oidc-") {
			return true
		}
	}
	return false
}

// setSiteOIDC applies the --oidc-* flags that were given; the secret is
// read from a file and never printed.
func setSiteOIDC(ctx context.Context, svc *service.Service, siteID string, set map[string]bool, o *oidcFlags, stdout io.Writer) error {
	var in service.OIDCSettings
	if set["oidc-issuer"] {
		in.Issuer = &o.issuer
	}
	if set["oidc-client-id"] {
		in.ClientID = &o.clientID
	}
	if set["oidc-secret-file"] {
		if o.secretFile == "" {
			in.ClearClientSecret = true
		} else {
			b, err := os.ReadFile(o.secretFile)
			if err != nil {
				return fmt.Errorf("read the OIDC client secret: %w", err)
			}
			in.ClientSecret = []byte(strings.TrimSpace(string(b)))
		}
	}
	if set["oidc-scopes"] {
		in.Scopes = append([]string{}, o.scopes...)
	}
	if set["oidc-name"] {
		in.ProviderName = &o.name
	}
	if set["oidc-moderators"] {
		in.Moderators = &o.moderators
	}
	if set["oidc-staff"] {
		in.StaffSubjects = map[string]string{}
		for _, kv := range o.staff {
			sub, uid, ok := strings.Cut(kv, "=")
			if !ok {
				return fmt.Errorf("--oidc-staff %q: want SUBJECT=USER_ID", kv)
			}
			in.StaffSubjects[sub] = uid
		}
	}
	c, err := svc.SetSiteOIDC(ctx, service.Actor{Admin: true}, siteID, in)
	if err != nil {
		return errors.New(parley.ErrorMessage(err))
	}
	if !c.Enabled() {
		fmt.Fprintln(stdout, "OpenID Connect: off.")
		return nil
	}
	fmt.Fprintf(stdout, "OpenID Connect: %s (%s), client %s", c.ProviderName, c.Issuer, c.ClientID)
	if len(c.ClientSecret) > 0 {
		fmt.Fprint(stdout, " with a secret")
	}
	if c.Moderators {
		fmt.Fprint(stdout, "; moderators sign in with it")
	}
	if n := len(c.StaffSubjects); n > 0 {
		fmt.Fprintf(stdout, "; %d staff subject(s)", n)
	}
	fmt.Fprintln(stdout, ".")
	return nil
}

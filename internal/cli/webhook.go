package cli

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/render"
	"github.com/parleyhq/parley/internal/service"
	"github.com/parleyhq/parley/internal/webhook"
)

const webhookUsage = `Usage:
  parley site webhook add  --site SLUG --url URL [--event TYPE ...] [--format json|slack] [--secret S]
  parley site webhook list --site SLUG
  parley site webhook rm   --site SLUG --id N
  parley site webhook log  --site SLUG --id N [--limit N]
  parley site webhook test --site SLUG --id N

Events (--event may be repeated or comma-separated; none means all):
  ` + "comment.created, comment.updated, comment.moderated, report.created, reader.banned, page.closed" + `
"add" prints the endpoint's signing secret (generated unless --secret is given): the receiver
checks the Parley-Signature header with it. "test" queues a webhook.test event, which a running
server posts. A URL naming a loopback, private, link-local or metadata address is refused unless
--outbound-allow (PARLEY_OUTBOUND_ALLOW) lists it, as serve's posts are.
`

func runSiteWebhook(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, webhookUsage)
		return errUsage
	}
	sub := args[0]
	fs := newFlagSet("site webhook "+sub, stderr)
	cfg := configFlags(fs)
	var site, url, format, secret string
	var id int64
	var limit int
	var events listFlag
	fs.StringVar(&site, "site", "", "site slug, e.g. news")
	fs.StringVar(&url, "url", "", "the endpoint's URL, https://…")
	fs.Var(&events, "event", "event type to send (repeatable); none for all")
	fs.StringVar(&format, "format", webhook.FormatJSON, "json (signed envelope) or slack (Slack-compatible text)")
	fs.StringVar(&secret, "secret", "", "signing secret; generated when empty")
	fs.Int64Var(&id, "id", 0, "webhook id, from list")
	fs.IntVar(&limit, "limit", 20, "deliveries to show")
	fs.Var(&cfg.OutboundAllow, "outbound-allow", "non-public hosts or ranges webhooks may reach (PARLEY_OUTBOUND_ALLOW)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if site == "" {
		return fmt.Errorf("site webhook %s: --site is required", sub)
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
	svc.OutboundAllow = cfg.OutboundAllow
	admin := service.Actor{Admin: true}
	fail := func(err error) error { return fmt.Errorf("site webhook %s: %s", sub, parley.ErrorMessage(err)) }
	needID := func() error {
		if id <= 0 {
			return fmt.Errorf("site webhook %s: --id is required", sub)
		}
		return nil
	}

	switch sub {
	case "add":
		wh, err := svc.AddWebhook(ctx, admin, service.WebhookInput{SiteID: site, URL: url, Events: events, Format: format, Secret: secret})
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "Added webhook %d of site %s: %s (%s, %s).\nSigning secret: %s\n",
			wh.ID, wh.SiteID, wh.URL, eventsText(wh.Events), wh.Format, wh.Secret)
	case "list":
		hooks, err := svc.Webhooks(ctx, admin, site)
		if err != nil {
			return fail(err)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tURL\tEVENTS\tFORMAT\tCREATED")
		for _, wh := range hooks {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", wh.ID, wh.URL, eventsText(wh.Events), wh.Format, wh.Created.Format(time.RFC3339))
		}
		tw.Flush()
	case "rm":
		if err := needID(); err != nil {
			return err
		}
		if err := svc.DeleteWebhook(ctx, admin, site, id); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "Deleted webhook %d of site %s and its delivery log.\n", id, site)
	case "log":
		if err := needID(); err != nil {
			return err
		}
		ds, err := svc.WebhookDeliveries(ctx, admin, site, id, limit)
		if err != nil {
			return fail(err)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tEVENT\tSTATE\tATTEMPTS\tSTATUS\tLATENCY\tCREATED\tERROR")
		for _, d := range ds {
			status := "-"
			if d.LastStatus != 0 {
				status = strconv.Itoa(d.LastStatus)
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", d.ID, d.Type, d.State, d.Attempts, status,
				d.LastLatency.Round(time.Millisecond/10), d.Created.Format(time.RFC3339), d.LastError)
		}
		tw.Flush()
	case "test":
		if err := needID(); err != nil {
			return err
		}
		d, err := svc.TestWebhook(ctx, admin, site, id)
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "Queued test delivery %d; a running server posts it (see: parley site webhook log --site %s --id %d).\n", d.ID, site, id)
	default:
		fmt.Fprint(stderr, webhookUsage)
		return errUsage
	}
	return nil
}

func eventsText(events []string) string {
	if len(events) == 0 {
		return "all events"
	}
	return strings.Join(events, ",")
}

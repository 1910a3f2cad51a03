package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// CreateWebhook stores a new endpoint. ENotFound when the site does not exist.
func (db *DB) CreateWebhook(ctx context.Context, wh *store.Webhook) error {
	_, err := db.unit(ctx, func(t *ptx) error { return t.CreateWebhook(wh) })
	return err
}

// CreateWebhook is DB.CreateWebhook in the unit of t.
func (t *ptx) CreateWebhook(wh *store.Webhook) error {
	created := wh.Created
	if created.IsZero() {
		created = t.db.now()
	}
	events := wh.Events
	if events == nil {
		events = []string{}
	}
	var id int64
	err := t.QueryRow(t.ctx, `INSERT INTO webhooks (site_id, url, secret, events, format, created)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		wh.SiteID, wh.URL, wh.Secret, events, wh.Format, created).Scan(&id)
	if err != nil {
		return domainError(err, "insert webhook", "site %q not found", wh.SiteID)
	}
	t.record([]parley.Event{{Type: parley.EventWebhooksChanged, SiteID: wh.SiteID}})
	wh.ID, wh.Created = id, roundTrip(created)
	return nil
}

const webhookColumns = `id, site_id, url, secret, events, format, created`

func scanWebhook(sc pgx.Row) (*store.Webhook, error) {
	var wh store.Webhook
	if err := sc.Scan(&wh.ID, &wh.SiteID, &wh.URL, &wh.Secret, &wh.Events, &wh.Format, &wh.Created); err != nil {
		return nil, err
	}
	if len(wh.Events) == 0 {
		wh.Events = nil
	}
	wh.Created = wh.Created.UTC()
	return &wh, nil
}

// Webhook returns one endpoint. ENotFound.
func (db *DB) Webhook(ctx context.Context, id int64) (*store.Webhook, error) {
	wh, err := scanWebhook(db.pool.QueryRow(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, parley.Errorf(parley.ENotFound, "webhook %d not found", id)
	} else if err != nil {
		return nil, wrap(err, "read webhook")
	}
	return wh, nil
}

// Webhooks returns the endpoints of a site, or of every site, by id.
func (db *DB) Webhooks(ctx context.Context, siteID string) ([]*store.Webhook, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+webhookColumns+` FROM webhooks
		WHERE $1 = '' OR site_id = $1 ORDER BY id`, siteID)
	if err != nil {
		return nil, wrap(err, "read webhooks")
	}
	defer rows.Close()
	var out []*store.Webhook
	for rows.Next() {
		wh, err := scanWebhook(rows)
		if err != nil {
			return nil, wrap(err, "read webhooks")
		}
		out = append(out, wh)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "read webhooks")
	}
	return out, nil
}

// DeleteWebhook deletes an endpoint and its deliveries. ENotFound.
func (db *DB) DeleteWebhook(ctx context.Context, id int64) error {
	_, err := db.unit(ctx, func(t *ptx) error { return t.DeleteWebhook(id) })
	return err
}

// DeleteWebhook is DB.DeleteWebhook in the unit of t.
func (t *ptx) DeleteWebhook(id int64) error {
	var site string
	err := t.QueryRow(t.ctx, `DELETE FROM webhooks WHERE id = $1 RETURNING site_id`, id).Scan(&site)
	if errors.Is(err, pgx.ErrNoRows) {
		return parley.Errorf(parley.ENotFound, "webhook %d not found", id)
	} else if err != nil {
		return wrap(err, "delete webhook")
	}
	t.record([]parley.Event{{Type: parley.EventWebhooksChanged, SiteID: site}})
	return nil
}

// RetryDelivery is the Tx method: a failed delivery is pending again.
func (t *ptx) RetryDelivery(webhookID, id int64, at time.Time) error {
	var state string
	err := t.QueryRow(t.ctx, `SELECT state FROM webhook_deliveries WHERE id = $1 AND webhook_id = $2 FOR UPDATE`, id, webhookID).Scan(&state)
	if errors.Is(err, pgx.ErrNoRows) {
		return parley.Errorf(parley.ENotFound, "webhook %d has no delivery %d", webhookID, id)
	} else if err != nil {
		return wrap(err, "read delivery")
	}
	if state != store.DeliveryFailed {
		return parley.Errorf(parley.EConflict, "delivery %d is %s; only a failed delivery is retried", id, state)
	}
	if _, err := t.Exec(t.ctx, `UPDATE webhook_deliveries SET state = 'pending', attempts = 0, next_attempt = $2, created = $2, finished = NULL
		WHERE id = $1`, id, at); err != nil {
		return wrap(err, "retry delivery")
	}
	return nil
}

// AddDeliveries is the Tx method: it queues deliveries, once per event
// and endpoint.
func (t *ptx) AddDeliveries(ds ...*store.Delivery) (int, error) {
	now := t.db.now()
	added := 0
	for _, d := range ds {
		next, created := d.NextAttempt, d.Created
		if created.IsZero() {
			created = now
		}
		if next.IsZero() {
			next = created
		}
		var event *int64
		if d.EventID != 0 {
			event = &d.EventID
		}
		var id int64
		err := t.QueryRow(t.ctx, `INSERT INTO webhook_deliveries (webhook_id, event_id, type, body, state, next_attempt, created)
			VALUES ($1, $2, $3, $4, 'pending', $5, $6) ON CONFLICT (webhook_id, event_id) DO NOTHING RETURNING id`,
			d.WebhookID, event, d.Type, d.Body, next, created).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			continue // queued before
		}
		if err != nil {
			return 0, domainError(err, "insert delivery", "webhook %d not found", d.WebhookID)
		}
		d.ID, d.State, d.NextAttempt, d.Created = id, store.DeliveryPending, roundTrip(next), roundTrip(created)
		added++
	}
	return added, nil
}

const deliveryColumns = `id, webhook_id, coalesce(event_id, 0), type, body, state, attempts, next_attempt, created,
	last_status, last_error, last_latency, finished`

func scanDeliveries(rows pgx.Rows) ([]*store.Delivery, error) {
	defer rows.Close()
	var out []*store.Delivery
	for rows.Next() {
		var d store.Delivery
		var latency int64
		var finished *time.Time
		if err := rows.Scan(&d.ID, &d.WebhookID, &d.EventID, &d.Type, &d.Body, &d.State, &d.Attempts, &d.NextAttempt, &d.Created,
			&d.LastStatus, &d.LastError, &latency, &finished); err != nil {
			return nil, err
		}
		d.NextAttempt, d.Created, d.LastLatency = d.NextAttempt.UTC(), d.Created.UTC(), time.Duration(latency)*time.Microsecond
		if finished != nil {
			d.Finished = finished.UTC()
		}
		out = append(out, &d)
	}
	return out, rows.Err()
}

// Deliveries returns an endpoint's deliveries, newest first.
func (db *DB) Deliveries(ctx context.Context, webhookID int64, limit int) ([]*store.Delivery, error) {
	if limit <= 0 {
		limit = 50
	}
	rows, err := db.pool.Query(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries
		WHERE webhook_id = $1 ORDER BY id DESC LIMIT $2`, webhookID, limit)
	if err != nil {
		return nil, wrap(err, "read deliveries")
	}
	out, err := scanDeliveries(rows)
	if err != nil {
		return nil, wrap(err, "read deliveries")
	}
	return out, nil
}

// ClaimDeliveries claims the due pending deliveries until the time, in one
// statement outside the group commit; SKIP LOCKED lets the senders of
// several instances claim side by side, each row once.
func (db *DB) ClaimDeliveries(ctx context.Context, now, until time.Time, limit int) ([]*store.Delivery, error) {
	rows, err := db.pool.Query(ctx, `UPDATE webhook_deliveries SET next_attempt = $2
		WHERE id IN (SELECT id FROM webhook_deliveries WHERE state = 'pending' AND next_attempt <= $1
			ORDER BY next_attempt, id LIMIT $3 FOR UPDATE SKIP LOCKED)
		RETURNING `+deliveryColumns, now, until, limit)
	if err != nil {
		return nil, wrap(err, "claim deliveries")
	}
	out, err := scanDeliveries(rows)
	if err != nil {
		return nil, wrap(err, "claim deliveries")
	}
	store.SortDue(out)
	return out, nil
}

// FinishDelivery stores the outcome of an attempt. ENotFound.
func (db *DB) FinishDelivery(ctx context.Context, r store.DeliveryResult) error {
	var next, finished *time.Time
	if r.State == store.DeliveryPending {
		next = &r.Next
	} else {
		finished = &r.At
	}
	tag, err := db.pool.Exec(ctx, `UPDATE webhook_deliveries SET attempts = attempts + 1, state = $1, last_status = $2,
			last_error = $3, last_latency = $4, next_attempt = coalesce($5, next_attempt), finished = $6
		WHERE id = $7`, r.State, r.Status, r.Error, r.Latency.Microseconds(), next, finished, r.ID)
	if err != nil {
		return wrap(err, "finish delivery")
	}
	if tag.RowsAffected() == 0 {
		return parley.Errorf(parley.ENotFound, "delivery %d not found", r.ID)
	}
	return nil
}

// PruneDeliveries deletes the deliveries finished before the time.
func (db *DB) PruneDeliveries(ctx context.Context, before time.Time) (int, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM webhook_deliveries WHERE state != 'pending' AND finished < $1`, before)
	if err != nil {
		return 0, wrap(err, "prune deliveries")
	}
	return int(tag.RowsAffected()), nil
}

package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// CreateWebhook stores a new endpoint. ENotFound when the site does not exist.
func (db *DB) CreateWebhook(ctx context.Context, wh *store.Webhook) error {
	return db.write(ctx, func(w *wtx) error { return w.CreateWebhook(wh) })
}

// CreateWebhook is DB.CreateWebhook in the unit of w.
func (w *wtx) CreateWebhook(wh *store.Webhook) error {
	created := wh.Created
	if created.IsZero() {
		created = w.db.now()
	}
	var id int64
	err := w.queryRow(`INSERT INTO webhooks (site_id, url, secret, events, format, created)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		wh.SiteID, wh.URL, wh.Secret, strings.Join(wh.Events, ","), wh.Format, millis(created)).Scan(&id)
	if err != nil {
		return domainError(fmt.Errorf("insert webhook: %w", err), "site %q not found", wh.SiteID)
	}
	wh.ID, wh.Created = id, roundTrip(created)
	return w.events([]parley.Event{{Type: parley.EventWebhooksChanged, SiteID: wh.SiteID}})
}

const webhookColumns = `id, site_id, url, secret, events, format, created`

func scanWebhook(sc interface{ Scan(...any) error }) (*store.Webhook, error) {
	var wh store.Webhook
	var events string
	var created int64
	if err := sc.Scan(&wh.ID, &wh.SiteID, &wh.URL, &wh.Secret, &events, &wh.Format, &created); err != nil {
		return nil, err
	}
	if events != "" {
		wh.Events = strings.Split(events, ",")
	}
	wh.Created = fromMillis(created)
	return &wh, nil
}

// Webhook returns one endpoint. ENotFound.
func (db *DB) Webhook(ctx context.Context, id int64) (*store.Webhook, error) {
	wh, err := scanWebhook(db.queryRow(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, parley.Errorf(parley.ENotFound, "webhook %d not found", id)
	} else if err != nil {
		return nil, fmt.Errorf("read webhook: %w", err)
	}
	return wh, nil
}

// Webhooks returns the endpoints of a site, or of every site, by id.
func (db *DB) Webhooks(ctx context.Context, siteID string) ([]*store.Webhook, error) {
	rows, err := db.query(ctx, `SELECT `+webhookColumns+` FROM webhooks
		WHERE ? = '' OR site_id = ? ORDER BY id`, siteID, siteID)
	if err != nil {
		return nil, fmt.Errorf("read webhooks: %w", err)
	}
	defer rows.Close()
	var out []*store.Webhook
	for rows.Next() {
		wh, err := scanWebhook(rows)
		if err != nil {
			return nil, fmt.Errorf("read webhooks: %w", err)
		}
		out = append(out, wh)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read webhooks: %w", err)
	}
	return out, nil
}

// DeleteWebhook deletes an endpoint and its deliveries. ENotFound.
func (db *DB) DeleteWebhook(ctx context.Context, id int64) error {
	return db.write(ctx, func(w *wtx) error { return w.DeleteWebhook(id) })
}

// DeleteWebhook is DB.DeleteWebhook in the unit of w.
func (w *wtx) DeleteWebhook(id int64) error {
	var site string
	err := w.queryRow(`DELETE FROM webhooks WHERE id = ? RETURNING site_id`, id).Scan(&site)
	if errors.Is(err, sql.ErrNoRows) {
		return parley.Errorf(parley.ENotFound, "webhook %d not found", id)
	} else if err != nil {
		return fmt.Errorf("delete webhook: %w", err)
	}
	return w.events([]parley.Event{{Type: parley.EventWebhooksChanged, SiteID: site}})
}

// RetryDelivery is the Tx method: a failed delivery is pending again.
func (w *wtx) RetryDelivery(webhookID, id int64, at time.Time) error {
	var state string
	err := w.queryRow(`SELECT state FROM webhook_deliveries WHERE id = ? AND webhook_id = ?`, id, webhookID).Scan(&state)
	if errors.Is(err, sql.ErrNoRows) {
		return parley.Errorf(parley.ENotFound, "webhook %d has no delivery %d", webhookID, id)
	} else if err != nil {
		return fmt.Errorf("read delivery: %w", err)
	}
	if state != store.DeliveryFailed {
		return parley.Errorf(parley.EConflict, "delivery %d is %s; only a failed delivery is retried", id, state)
	}
	if _, err := w.exec(`UPDATE webhook_deliveries SET state = 'pending', attempts = 0, next_attempt = ?, created = ?, finished = NULL
		WHERE id = ?`, millis(at), millis(at), id); err != nil {
		return fmt.Errorf("retry delivery: %w", err)
	}
	return nil
}

// AddDeliveries is the Tx method: it queues deliveries, once per event
// and endpoint.
func (w *wtx) AddDeliveries(ds ...*store.Delivery) (int, error) {
	now := w.db.now()
	added := 0
	for _, d := range ds {
		next, created := d.NextAttempt, d.Created
		if created.IsZero() {
			created = now
		}
		if next.IsZero() {
			next = created
		}
		var event any
		if d.EventID != 0 {
			event = d.EventID
		}
		var id int64
		err := w.queryRow(`INSERT INTO webhook_deliveries (webhook_id, event_id, type, body, state, next_attempt, created)
			VALUES (?, ?, ?, ?, 'pending', ?, ?) ON CONFLICT (webhook_id, event_id) DO NOTHING RETURNING id`,
			d.WebhookID, event, d.Type, d.Body, millis(next), millis(created)).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			continue // queued before
		}
		if err != nil {
			return 0, domainError(fmt.Errorf("insert delivery: %w", err), "webhook %d not found", d.WebhookID)
		}
		d.ID, d.State, d.NextAttempt, d.Created = id, store.DeliveryPending, roundTrip(next), roundTrip(created)
		added++
	}
	return added, nil
}

const deliveryColumns = `id, webhook_id, coalesce(event_id, 0), type, body, state, attempts, next_attempt, created,
	last_status, last_error, last_latency, coalesce(finished, 0)`

func scanDelivery(sc interface{ Scan(...any) error }) (*store.Delivery, error) {
	var d store.Delivery
	var next, created, latency, finished int64
	if err := sc.Scan(&d.ID, &d.WebhookID, &d.EventID, &d.Type, &d.Body, &d.State, &d.Attempts, &next, &created,
		&d.LastStatus, &d.LastError, &latency, &finished); err != nil {
		return nil, err
	}
	d.NextAttempt, d.Created, d.LastLatency = fromMillis(next), fromMillis(created), time.Duration(latency)*time.Microsecond
	if finished != 0 {
		d.Finished = fromMillis(finished)
	}
	return &d, nil
}

func scanDeliveries(rows *sql.Rows) ([]*store.Delivery, error) {
	defer rows.Close()
	var out []*store.Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// Deliveries returns an endpoint's deliveries, newest first.
func (db *DB) Deliveries(ctx context.Context, webhookID int64, limit int) ([]*store.Delivery, error) {
	if limit <= 0 {
		limit = 50
	}
	rows, err := db.query(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries
		WHERE webhook_id = ? ORDER BY id DESC LIMIT ?`, webhookID, limit)
	if err != nil {
		return nil, fmt.Errorf("read deliveries: %w", err)
	}
	out, err := scanDeliveries(rows)
	if err != nil {
		return nil, fmt.Errorf("read deliveries: %w", err)
	}
	return out, nil
}

// ClaimDeliveries claims the due pending deliveries until the time. The
// single writer makes the claim atomic.
func (db *DB) ClaimDeliveries(ctx context.Context, now, until time.Time, limit int) ([]*store.Delivery, error) {
	var out []*store.Delivery
	err := db.write(ctx, func(w *wtx) error {
		rows, err := w.tx.QueryContext(w.ctx, `UPDATE webhook_deliveries SET next_attempt = ?
			WHERE id IN (SELECT id FROM webhook_deliveries WHERE state = 'pending' AND next_attempt <= ?
				ORDER BY next_attempt, id LIMIT ?)
			RETURNING `+deliveryColumns, millis(until), millis(now), limit)
		if err != nil {
			return fmt.Errorf("claim deliveries: %w", err)
		}
		if out, err = scanDeliveries(rows); err != nil {
			return fmt.Errorf("claim deliveries: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// RETURNING gives the rows in no particular order.
	store.SortDue(out)
	return out, nil
}

// FinishDelivery stores the outcome of an attempt. ENotFound.
func (db *DB) FinishDelivery(ctx context.Context, r store.DeliveryResult) error {
	var next, finished any
	if r.State == store.DeliveryPending {
		next = millis(r.Next)
	} else {
		finished = millis(r.At)
	}
	return db.write(ctx, func(w *wtx) error {
		res, err := w.exec(`UPDATE webhook_deliveries SET attempts = attempts + 1, state = ?, last_status = ?,
				last_error = ?, last_latency = ?, next_attempt = coalesce(?, next_attempt), finished = ?
			WHERE id = ?`, r.State, r.Status, r.Error, r.Latency.Microseconds(), next, finished, r.ID)
		if err != nil {
			return fmt.Errorf("finish delivery: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return parley.Errorf(parley.ENotFound, "delivery %d not found", r.ID)
		}
		return nil
	})
}

// PruneDeliveries deletes the deliveries finished before the time.
func (db *DB) PruneDeliveries(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := db.write(ctx, func(w *wtx) error {
		res, err := w.exec(`DELETE FROM webhook_deliveries WHERE state != 'pending' AND finished < ?`, millis(before))
		if err != nil {
			return fmt.Errorf("prune deliveries: %w", err)
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return int(n), err
}

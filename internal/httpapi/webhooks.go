package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/service"
	"github.com/parleyhq/parley/internal/store"
)

// webhookOut is an endpoint on the wire. The secret is sent in full only
// in the answer to its creation; lists show its first characters.
type webhookOut struct {
	ID      int64     `json:"id"`
	Site    string    `json:"site"`
	URL     string    `json:"url"`
	Events  []string  `json:"events"` // empty: every event
	Format  string    `json:"format"`
	Secret  string    `json:"secret,omitempty"`
	Hint    string    `json:"secret_hint"`
	Created time.Time `json:"created"`
}

func toWebhook(wh *store.Webhook, withSecret bool) webhookOut {
	out := webhookOut{ID: wh.ID, Site: wh.SiteID, URL: wh.URL, Events: wh.Events, Format: wh.Format, Created: wh.Created}
	if out.Events == nil {
		out.Events = []string{}
	}
	if withSecret {
		out.Secret = wh.Secret
	}
	out.Hint = wh.Secret[:min(len(wh.Secret), 10)] + "…"
	return out
}

// deliveryOut is one entry of an endpoint's delivery log.
type deliveryOut struct {
	ID          int64      `json:"id"`
	Event       string     `json:"event"`
	EventID     int64      `json:"event_id,omitempty"`
	State       string     `json:"state"`
	Attempts    int        `json:"attempts"`
	Status      int        `json:"status"` // of the latest attempt; 0 without an answer
	Error       string     `json:"error,omitempty"`
	LatencyMS   float64    `json:"latency_ms"`
	Created     time.Time  `json:"created"`
	NextAttempt *time.Time `json:"next_attempt,omitempty"` // while pending
	Finished    *time.Time `json:"finished,omitempty"`
}

func toDelivery(d *store.Delivery) deliveryOut {
	out := deliveryOut{ID: d.ID, Event: d.Type, EventID: d.EventID, State: d.State, Attempts: d.Attempts, Status: d.LastStatus,
		Error: d.LastError, LatencyMS: float64(d.LastLatency.Microseconds()) / 1000, Created: d.Created}
	if d.State == store.DeliveryPending {
		n := d.NextAttempt
		out.NextAttempt = &n
	}
	if !d.Finished.IsZero() {
		f := d.Finished
		out.Finished = &f
	}
	return out
}

// webhookID reads the {id} of a webhook path.
func webhookID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, parley.Errorf(parley.EInvalid, "webhook id %q is not a number", r.PathValue("id"))
	}
	return id, nil
}

// handleWebhooks serves GET /api/v1/admin/sites/{site}/webhooks.
func (s *Server) handleWebhooks(w http.ResponseWriter, r *http.Request) {
	hooks, err := s.svc.Webhooks(r.Context(), s.staff(r), r.PathValue("site"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]webhookOut, len(hooks))
	for i, wh := range hooks {
		out[i] = toWebhook(wh, false)
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"webhooks": out})
}

// handleAddWebhook serves POST /api/v1/admin/sites/{site}/webhooks
// {"url": …, "events": […], "format": "json"|"slack", "secret": …}.
func (s *Server) handleAddWebhook(w http.ResponseWriter, r *http.Request) {
	var in struct {
		URL    string   `json:"url"`
		Events []string `json:"events"`
		Format string   `json:"format"`
		Secret string   `json:"secret"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	wh, err := s.svc.AddWebhook(r.Context(), s.staff(r), service.WebhookInput{
		SiteID: r.PathValue("site"), URL: in.URL, Events: in.Events, Format: in.Format, Secret: in.Secret})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, toWebhook(wh, true))
}

// handleDeleteWebhook serves DELETE /api/v1/admin/sites/{site}/webhooks/{id}.
func (s *Server) handleDeleteWebhook(w http.ResponseWriter, r *http.Request) {
	id, err := webhookID(r)
	if err == nil {
		err = s.svc.DeleteWebhook(r.Context(), s.staff(r), r.PathValue("site"), id)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleWebhookDeliveries serves GET
// /api/v1/admin/sites/{site}/webhooks/{id}/deliveries[?limit=N].
func (s *Server) handleWebhookDeliveries(w http.ResponseWriter, r *http.Request) {
	id, err := webhookID(r)
	limit := 0
	if v := r.URL.Query().Get("limit"); v != "" && err == nil {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > service.MaxDeliveryLog {
			err = parley.Errorf(parley.EInvalid, "limit must be a number from 1 to %d", service.MaxDeliveryLog)
		}
	}
	var ds []*store.Delivery
	if err == nil {
		ds, err = s.svc.WebhookDeliveries(r.Context(), s.staff(r), r.PathValue("site"), id, limit)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]deliveryOut, len(ds))
	for i, d := range ds {
		out[i] = toDelivery(d)
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"deliveries": out})
}

// handleTestWebhook serves POST /api/v1/admin/sites/{site}/webhooks/{id}/test:
// it queues a webhook.test event and answers with its delivery.
func (s *Server) handleTestWebhook(w http.ResponseWriter, r *http.Request) {
	id, err := webhookID(r)
	var d *store.Delivery
	if err == nil {
		d, err = s.svc.TestWebhook(r.Context(), s.staff(r), r.PathValue("site"), id)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, toDelivery(d))
}

// handleRetryDelivery serves POST
// /api/v1/admin/sites/{site}/webhooks/{id}/deliveries/{delivery}/retry: a
// delivery that was given up (failed) is queued again, due now.
func (s *Server) handleRetryDelivery(w http.ResponseWriter, r *http.Request) {
	id, err := webhookID(r)
	var did int64
	if err == nil {
		if did, err = strconv.ParseInt(r.PathValue("delivery"), 10, 64); err != nil || did <= 0 {
			err = parley.Errorf(parley.EInvalid, "delivery id %q is not a number", r.PathValue("delivery"))
		}
	}
	var d *store.Delivery
	if err == nil {
		d, err = s.svc.RetryWebhookDelivery(r.Context(), s.staff(r), r.PathValue("site"), id, did)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, toDelivery(d))
}

// handleSiteAudit serves GET /api/v1/admin/sites/{site}/audit[?limit=N]:
// the site's audit log, newest first.
func (s *Server) handleSiteAudit(w http.ResponseWriter, r *http.Request) {
	limit := 0
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			s.writeError(w, r, parley.Errorf(parley.EInvalid, "limit must be a number from 1 to 500"))
			return
		}
		limit = n
	}
	actions, err := s.svc.SiteAudit(r.Context(), s.staff(r), r.PathValue("site"), limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "private, no-store")
	writeJSON(w, http.StatusOK, map[string]any{"actions": toActions(actions)})
}

package httpapi

import (
	"net/http"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/web"
)

// Handler returns the whole HTTP surface, on one screen.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()

	// Public API: the widget and integrators.
	mux.HandleFunc("GET /api/v1/threads", s.handleThread)
	mux.HandleFunc("GET /api/v1/counts", s.handleCounts)
	mux.HandleFunc("GET /api/v1/me", s.handleMe)
	mux.HandleFunc("GET /api/v1/me/export", s.handleMyExport)
	mux.HandleFunc("DELETE /api/v1/me", s.handleEraseMe)
	mux.HandleFunc("POST /api/v1/comments", s.handlePost)
	mux.HandleFunc("POST /api/v1/comments/precheck", s.handlePrecheck)
	mux.HandleFunc("PATCH /api/v1/comments/{id}", s.handleEdit)
	mux.HandleFunc("DELETE /api/v1/comments/{id}", s.handleDelete)
	mux.HandleFunc("POST /api/v1/comments/{id}/report", s.handleReport)
	mux.HandleFunc("POST /api/v1/comments/{id}/vote", s.handleVote)
	mux.HandleFunc("GET /api/v1/stream", s.capStreams(s.handleStream))
	mux.HandleFunc("POST /api/v1/auth/sso", s.handleSSO)
	mux.HandleFunc("POST /api/v1/auth/logout", s.handleReaderLogout)
	mux.HandleFunc("GET /api/v1/auth/oidc", s.handleOIDCProvider)
	mux.HandleFunc("GET /api/v1/auth/oidc/start", s.handleOIDCStart)
	mux.HandleFunc("GET /api/v1/auth/oidc/callback", s.handleOIDCCallback)
	mux.HandleFunc("POST /api/v1/auth/oidc/ticket", s.handleOIDCTicket)
	mux.HandleFunc("GET /api/v1/feeds/page.rss", s.handleFeed(feedPage, feedRSS))
	mux.HandleFunc("GET /api/v1/feeds/page.atom", s.handleFeed(feedPage, feedAtom))
	mux.HandleFunc("GET /api/v1/feeds/site.rss", s.handleFeed(feedSite, feedRSS))
	mux.HandleFunc("GET /api/v1/feeds/site.atom", s.handleFeed(feedSite, feedAtom))

	// Admin API: moderators and automation (docs/admin-api.md).
	mux.HandleFunc("POST /api/v1/admin/login", s.handleLogin)
	mux.HandleFunc("GET /api/v1/admin/oidc", s.handleModeratorOIDC)
	mux.HandleFunc("POST /api/v1/admin/logout", s.requireStaff(s.handleLogout))
	mux.HandleFunc("GET /api/v1/admin/me", s.requireStaff(s.handleStaffMe))
	mux.HandleFunc("GET /api/v1/admin/sites", s.requireStaff(s.handleSites))
	mux.HandleFunc("GET /api/v1/admin/queue", s.requireStaff(s.handleQueue))
	mux.HandleFunc("GET /api/v1/admin/counts", s.requireStaff(s.handleQueueCounts))
	mux.HandleFunc("GET /api/v1/admin/stream", s.requireStaff(s.capStreams(s.handleAdminStream)))
	mux.HandleFunc("POST /api/v1/admin/comments/{id}/decision", s.requireStaff(s.handleDecision))
	mux.HandleFunc("POST /api/v1/admin/comments/bulk", s.requireStaff(s.handleBulk))
	mux.HandleFunc("GET /api/v1/admin/comments/{id}/audit", s.requireStaff(s.handleCommentAudit))
	mux.HandleFunc("GET /api/v1/admin/users/{id}", s.requireStaff(s.handleReader))
	mux.HandleFunc("POST /api/v1/admin/users/{id}/sanction", s.requireStaff(s.handleSanction))
	mux.HandleFunc("POST /api/v1/admin/users/{id}/reject-pending", s.requireStaff(s.handleRejectPending))
	mux.HandleFunc("POST /api/v1/admin/users/{id}/notes", s.requireStaff(s.handleAddNote))
	mux.HandleFunc("GET /api/v1/admin/sites/{site}/policy", s.requireStaff(s.handleGetPolicy))
	mux.HandleFunc("GET /api/v1/admin/starter-policy", s.requireStaff(s.handleStarterPolicy))
	mux.HandleFunc("PUT /api/v1/admin/sites/{site}/policy", s.requireStaff(s.handlePutPolicy))
	mux.HandleFunc("PATCH /api/v1/admin/sites/{site}/policy", s.requireStaff(s.handlePatchPolicy))
	mux.HandleFunc("GET /api/v1/admin/sites/{site}/pages", s.requireStaff(s.handlePages))
	mux.HandleFunc("GET /api/v1/admin/sites/{site}/pages/policy", s.requireStaff(s.handleGetPage))
	mux.HandleFunc("PUT /api/v1/admin/sites/{site}/pages/policy", s.requireStaff(s.handlePutPage))
	mux.HandleFunc("GET /api/v1/admin/sites/{site}/sso", s.requireStaff(s.handleGetSSO))
	mux.HandleFunc("PATCH /api/v1/admin/sites/{site}/sso", s.requireStaff(s.handlePatchSSO))
	mux.HandleFunc("PUT /api/v1/admin/users/{id}/role", s.requireStaff(s.handleSetRole))
	mux.HandleFunc("GET /api/v1/admin/sites/{site}/oidc", s.requireStaff(s.handleGetOIDC))
	mux.HandleFunc("PATCH /api/v1/admin/sites/{site}/oidc", s.requireStaff(s.handlePatchOIDC))
	mux.HandleFunc("PUT /api/v1/admin/sites/{site}/erasure", s.requireStaff(s.handleSetErasure))
	mux.HandleFunc("GET /api/v1/admin/users/{id}/export", s.requireStaff(s.handleReaderExport))
	mux.HandleFunc("DELETE /api/v1/admin/users/{id}", s.requireStaff(s.handleReaderErase))
	mux.HandleFunc("PATCH /api/v1/admin/sites/{site}/pages/policy", s.requireStaff(s.handlePatchPage))

	// Anything else under /api/ is a JSON 404, not the mux's plain text.
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, parley.Errorf(parley.ENotFound, "no endpoint %s %s", r.Method, r.URL.Path))
	})

	// Widget, demo and health.
	mux.HandleFunc("GET /embed.js", s.handleEmbedJS)
	mux.Handle("GET /embed/i18n/", web.Catalogues())
	mux.Handle("GET /count.js", web.CountScript())
	mux.HandleFunc("GET /demo", s.handleDemo)
	mux.HandleFunc("GET /demo/policy", s.handleDemoPolicy)
	mux.HandleFunc("GET /demo/publisher.js", s.handleDemoPublisherJS)
	mux.HandleFunc("POST /demo/sso-token", s.handleDemoSSOToken)
	mux.HandleFunc("GET /healthz", s.handleHealth)
	mux.HandleFunc("GET /readyz", s.handleHealth)
	mux.Handle("GET /metrics", s.handleMetrics())
	mux.HandleFunc("GET /{$}", s.handleIndex)
	mux.Handle("GET /admin", web.Admin())
	mux.Handle("GET /admin/", web.Admin())

	return s.logRequests(s.instrument(securityHeaders(s.cors(s.limitBody(mux)))))
}

package httpapi

import (
	"net/http"

	"github.com/parleyhq/parley/internal/moderation"
)

// handleStarterPolicy serves GET /api/v1/admin/starter-policy: the lists of
// Parley's starter policy, which a site's "starter_policy" applies
// (docs/starter-policy.md), for an editor to inspect or copy into the
// site's own lists.
func (s *Server) handleStarterPolicy(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, moderation.StarterPolicy())
}

package httpapi

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/parleyhq/parley"
)

// statusOf is the one table from error codes to HTTP statuses.
var statusOf = map[string]int{
	parley.EInvalid:      http.StatusBadRequest,
	parley.ENotFound:     http.StatusNotFound,
	parley.EConflict:     http.StatusConflict,
	parley.EForbidden:    http.StatusForbidden,
	parley.EUnauthorized: http.StatusUnauthorized,
	parley.ETooLarge:     http.StatusRequestEntityTooLarge,
	parley.ERateLimited:  http.StatusTooManyRequests,
	parley.EUnavailable:  http.StatusServiceUnavailable,
	parley.EInternal:     http.StatusInternalServerError,
	codeUnsupportedMedia: http.StatusUnsupportedMediaType,
	codeMethod:           http.StatusMethodNotAllowed,
}

// unavailableRetry is the Retry-After, in seconds, of a 503: PostgreSQL
// restarting after a crash, or a failover, takes a few seconds.
const unavailableRetry = 2

// HTTP-only error codes.
const (
	codeUnsupportedMedia = "unsupported_media_type"
	codeMethod           = "method_not_allowed"
)

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// Reason, when set, names the cause within the code, e.g.
	// "token_expired" for a refused sign-in token.
	Reason string `json:"reason,omitempty"`
}

// writeError answers with the JSON error for err. Internal errors are logged
// once, here, with the request id, and the caller sees a safe message.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := parley.ErrorCode(err)
	status, ok := statusOf[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	if status == http.StatusServiceUnavailable {
		// The database is away or full: a client may try again soon (the
		// widget does, with its idempotency key).
		w.Header().Set("Retry-After", strconv.Itoa(unavailableRetry))
	}
	if status >= 500 {
		s.metrics.errors.WithLabelValues(code).Inc()
		s.logger.Error("request failed", "request_id", requestID(w), "method", r.Method, "path", r.URL.Path, "error", err.Error())
	}
	writeJSON(w, status, errorBody{errorDetail{Code: code, Message: parley.ErrorMessage(err), Reason: parley.ErrorReason(err)}})
}

// marshal encodes v as JSON without escaping <, > and &: the responses are
// application/json with nosniff, never HTML, and comment HTML stays readable
// and smaller.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// writeJSON encodes v as the response body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := marshal(v)
	if err != nil {
		slog.Error("encode response", "error", err.Error())
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":"internal","message":"Internal error."}}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(b)
}

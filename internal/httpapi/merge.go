package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/moderation"
	"github.com/parleyhq/parley/internal/service"
)

// Settings are changed two ways (docs/admin-api.md): PUT replaces the whole
// document and so must name every field, and PATCH merges a JSON Merge Patch
// (RFC 7396) into the current document, so a client that changes one setting
// sends that setting alone and cannot reset the others by leaving them out.

// mergePatchType is the media type of RFC 7396. PATCH also accepts
// application/json, which is what most clients send.
const mergePatchType = "application/merge-patch+json"

// readMergePatch reads a PATCH body: a JSON object, at most maxBody bytes of
// valid UTF-8, as application/merge-patch+json or application/json.
func readMergePatch(r *http.Request) (map[string]any, error) {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || (mt != mergePatchType && mt != "application/json") {
		return nil, parley.Errorf(codeUnsupportedMedia, "Content-Type must be %s or application/json, got %q", mergePatchType, ct)
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, parley.Errorf(parley.ETooLarge, "request body is over %d bytes", maxBody)
	} else if err != nil {
		return nil, parley.Errorf(parley.EInvalid, "cannot read request body")
	}
	if !utf8.Valid(body) {
		return nil, parley.Errorf(parley.EInvalid, "request body is not valid UTF-8")
	}
	var patch any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&patch); err != nil {
		return nil, jsonError(err)
	}
	if dec.More() {
		return nil, parley.Errorf(parley.EInvalid, "request body must hold one JSON object")
	}
	obj, ok := patch.(map[string]any)
	if !ok {
		// RFC 7396 would replace the whole document; a settings document
		// is always an object, so anything else is a mistake.
		return nil, parley.Errorf(parley.EInvalid, "a merge patch of settings must be a JSON object")
	}
	return obj, nil
}

// mergePatch applies an RFC 7396 merge patch to target and returns the
// result: members of patch replace those of target, null removes a member,
// and objects merge recursively. target is not modified.
func mergePatch(target any, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	t, ok := target.(map[string]any)
	out := make(map[string]any, len(t)+len(p))
	if ok {
		for k, v := range t {
			out[k] = v
		}
	}
	for k, v := range p {
		if v == nil {
			delete(out, k)
			continue
		}
		out[k] = mergePatch(out[k], v)
	}
	return out
}

// toJSONValue turns v into its generic JSON form (maps, slices, json.Number).
func toJSONValue(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out any
	err = dec.Decode(&out)
	return out, err
}

// decodeValue decodes a generic JSON value into v as strictly as decode
// does a request body: unknown fields and wrong types are errors that say
// what is wrong.
func decodeValue(doc any, v any) error {
	b, err := json.Marshal(doc)
	if err != nil {
		return parley.Errorf(parley.EInvalid, "invalid JSON: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	return nil
}

// missingFields returns the members of want (a JSON object in generic form)
// that got lacks, with nested objects checked member by member and named
// by their path ("auto_premod.window"), sorted.
func missingFields(want, got map[string]any) []string {
	var out []string
	var walk func(prefix string, w, g map[string]any)
	walk = func(prefix string, w, g map[string]any) {
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				out = append(out, prefix+k)
				continue
			}
			wo, wIsObj := wv.(map[string]any)
			if go_, gIsObj := gv.(map[string]any); wIsObj && gIsObj {
				walk(prefix+k+".", wo, go_)
			}
		}
	}
	walk("", want, got)
	sort.Strings(out)
	return out
}

// handlePutPolicy serves PUT /api/v1/admin/sites/{site}/policy: the body
// replaces the whole policy, so it must name every setting; a body that
// leaves some out is refused with their names (use PATCH to change some).
func (s *Server) handlePutPolicy(w http.ResponseWriter, r *http.Request) {
	var raw map[string]any
	if err := decode(r, &raw); err != nil {
		s.writeError(w, r, err)
		return
	}
	full, err := toJSONValue(moderation.DefaultPolicy())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if missing := missingFields(full.(map[string]any), raw); len(missing) > 0 {
		s.writeError(w, r, parley.Errorf(parley.EInvalid,
			"PUT replaces the whole policy, and the body lacks %s; send every setting, or PATCH only the ones to change",
			strings.Join(missing, ", ")))
		return
	}
	var p moderation.Policy
	if err := decodeValue(raw, &p); err != nil {
		s.writeError(w, r, err)
		return
	}
	p, err = s.svc.SetPolicy(r.Context(), s.staff(r), r.PathValue("site"), p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

// handlePatchPolicy serves PATCH /api/v1/admin/sites/{site}/policy: the body
// is a merge patch of the current policy. A setting it names changes, one it
// leaves out keeps its value, and null puts a setting back to its default.
func (s *Server) handlePatchPolicy(w http.ResponseWriter, r *http.Request) {
	patch, err := readMergePatch(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	site := r.PathValue("site")
	cur, err := s.svc.Policy(r.Context(), s.staff(r), site)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	doc, err := toJSONValue(cur)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// Decoded over the defaults, so a member the patch removed (null)
	// takes its default value.
	p := moderation.DefaultPolicy()
	if err := decodeValue(mergePatch(doc, patch), &p); err != nil {
		s.writeError(w, r, err)
		return
	}
	p, err = s.svc.SetPolicy(r.Context(), s.staff(r), site, p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

// handlePatchPage serves PATCH /api/v1/admin/sites/{site}/pages/policy?url=U:
// a merge patch of the page's settings {"closed","policy"} plus the request
// fields "note" and "create". "policy" merges into the page's override: a
// setting named changes, one left out keeps its value, null drops it from
// the override (the site's value applies again), and "policy":null removes
// the whole override.
func (s *Server) handlePatchPage(w http.ResponseWriter, r *http.Request) {
	ref, err := pageRef(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	patch, err := readMergePatch(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req struct {
		Note   string `json:"note"`
		Create bool   `json:"create"`
	}
	extra := map[string]any{}
	for _, k := range []string{"note", "create"} {
		if v, ok := patch[k]; ok {
			extra[k] = v
			delete(patch, k)
		}
	}
	if err := decodeValue(extra, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	for k := range patch {
		if k != "closed" && k != "policy" {
			s.writeError(w, r, parley.Errorf(parley.EInvalid, "unknown field %q", k))
			return
		}
	}
	up := service.PageUpdate{Note: req.Note, Create: req.Create}
	if v, ok := patch["closed"]; ok {
		closed, isBool := v.(bool)
		if !isBool {
			s.writeError(w, r, parley.Errorf(parley.EInvalid, `field "closed" must be true or false`))
			return
		}
		up.Closed = &closed
	}
	if pp, ok := patch["policy"]; ok {
		var cur moderation.PolicyOverride
		if pp != nil {
			v, err := s.svc.Page(r.Context(), s.staff(r), ref)
			switch {
			case err == nil:
				cur = v.Override
			case parley.ErrorCode(err) == parley.ENotFound && req.Create:
			default:
				s.writeError(w, r, err)
				return
			}
		}
		doc, err := toJSONValue(cur)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		var next moderation.PolicyOverride
		if err := decodeValue(mergePatch(doc, pp), &next); err != nil {
			s.writeError(w, r, err)
			return
		}
		up.Policy = &next
	}
	if up.Closed == nil && up.Policy == nil {
		s.writeError(w, r, parley.Errorf(parley.EInvalid, `give "closed", "policy" or both`))
		return
	}
	v, err := s.svc.UpdatePage(r.Context(), s.staff(r), ref, up)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toPageSettings(v))
}

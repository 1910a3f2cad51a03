package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"unicode/utf8"

	"github.com/parleyhq/parley"
)

// maxBody is the largest request body Parley reads: a comment is capped at
// 64 KiB of markdown and the JSON around it is small.
const maxBody = 64<<10 + 4<<10

// decode reads a JSON request body into v strictly: application/json only,
// at most maxBody bytes, valid UTF-8, one object, no unknown fields, and
// field types as documented. Each failure says what is wrong.
func decode(r *http.Request, v any) error {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return parley.Errorf(codeUnsupportedMedia, "Content-Type must be application/json, got %q", ct)
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return parley.Errorf(parley.ETooLarge, "request body is over %d bytes", maxBody)
	} else if err != nil {
		return parley.Errorf(parley.EInvalid, "cannot read request body")
	}
	if !utf8.Valid(body) {
		return parley.Errorf(parley.EInvalid, "request body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return parley.Errorf(parley.EInvalid, "request body must hold one JSON object")
	}
	return nil
}

// jsonError turns a decoding error into a message a client can act on.
func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return parley.Errorf(parley.EInvalid, "request body is empty")
	case errors.As(err, &syn):
		return parley.Errorf(parley.EInvalid, "malformed JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		if typ.Field != "" {
			return parley.Errorf(parley.EInvalid, "field %q must be a %s, not a %s", typ.Field, typ.Type.String(), typ.Value)
		}
		return parley.Errorf(parley.EInvalid, "request body must be a JSON object, not a %s", typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return parley.Errorf(parley.EInvalid, "malformed JSON: unexpected end")
	}
	msg := err.Error()
	if len(msg) > 200 {
		msg = msg[:200]
	}
	if bytes.HasPrefix([]byte(msg), []byte("json: unknown field")) {
		return parley.Errorf(parley.EInvalid, "unknown field %s", msg[len("json: unknown field "):])
	}
	return parley.Errorf(parley.EInvalid, "invalid JSON: %s", fmt.Sprint(msg))
}

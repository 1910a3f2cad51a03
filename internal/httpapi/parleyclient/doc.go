// Package parleyclient is a Go client of Parley's public API generated from
// its OpenAPI 3.1 description (internal/httpapi/openapi.json) by
// oapi-codegen: the proof, run by internal/httpapi's TestGeneratedClient,
// that the description is good enough to generate a working client from.
// It holds posting a comment, reading a thread and the counts.
package parleyclient

//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen@v2.8.2 -config oapi-codegen.yaml ../openapi.json

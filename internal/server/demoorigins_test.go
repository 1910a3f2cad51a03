package server

import (
	"slices"
	"testing"
)

func TestDemoOrigins(t *testing.T) {
	for _, tt := range []struct {
		base string
		want []string
	}{
		{"http://127.0.0.1:8080", []string{"http://127.0.0.1:8080", "http://localhost:8080", "http://[::1]:8080"}},
		{"http://localhost:8080", []string{"http://localhost:8080", "http://127.0.0.1:8080", "http://[::1]:8080"}},
		{"http://[::1]:9000", []string{"http://[::1]:9000", "http://localhost:9000", "http://127.0.0.1:9000"}},
		{"http://localhost", []string{"http://localhost", "http://127.0.0.1", "http://[::1]"}},
		{"https://comments.example.com", []string{"https://comments.example.com"}},
		{"http://10.0.0.5:8080", []string{"http://10.0.0.5:8080"}},
	} {
		if got := demoOrigins(tt.base); !slices.Equal(got, tt.want) {
			t.Errorf("demoOrigins(%q) = %v, want %v", tt.base, got, tt.want)
		}
	}
}

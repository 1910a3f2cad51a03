package server_test

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/config"
	"github.com/parleyhq/parley/internal/server"
	"github.com/parleyhq/parley/internal/store/sqlite"
)

// TestOfflineService: an offline command's service scores comments as serve
// does only when it asks to and the model is not turned off.
func TestOfflineService(t *testing.T) {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, tc := range []struct {
		name    string
		scoring bool
		noModel bool
		scored  bool
	}{
		{"without scoring", false, false, false},
		{"scoring", true, false, true},
		{"scoring, model off", true, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.NoModel = tc.noModel
			svc, err := server.OfflineService(t.Context(), cfg, st, tc.scoring)
			if err != nil {
				t.Fatal(err)
			}
			if got := svc.Scorer != nil && svc.SiteModels != nil; got != tc.scored {
				t.Errorf("scorer and site models set: %v, want %v", got, tc.scored)
			}
		})
	}
}

// TestNewLogger: the level and format of the configuration.
func TestNewLogger(t *testing.T) {
	for _, tc := range []struct {
		level, format string
		want, unwant  string
	}{
		{"info", "text", `level=INFO msg=shown`, "hidden"},
		{"warn", "json", `"level":"WARN","msg":"shown"`, "hidden"},
	} {
		cfg := config.Default()
		cfg.LogLevel, cfg.LogFormat = tc.level, tc.format
		var b bytes.Buffer
		l := server.NewLogger(cfg, &b)
		l.Debug("hidden")
		if tc.level == "warn" {
			l.Info("hidden")
			l.Warn("shown")
		} else {
			l.Info("shown")
		}
		if out := b.String(); !strings.Contains(out, tc.want) || strings.Contains(out, tc.unwant) {
			t.Errorf("%s/%s: %q, want %q and not %q", tc.level, tc.format, out, tc.want, tc.unwant)
		}
	}
}

package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley/internal/moderation"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/toxicity"
)

// minTuneDecisions is how many moderator decisions a site needs before it
// is tuned automatically: fewer would teach the site model noise.
const minTuneDecisions = 50

// siteModels holds the per-site tuned models found in a directory
// (SITE.site files, as `parley model tune` writes them). Files are re-read
// when they change, so a model tuned by hand is picked up without a restart.
type siteModels struct {
	dir    string
	base   *toxicity.Model
	logger *slog.Logger

	mu     sync.RWMutex
	models map[string]*toxicity.SiteModel
	mtimes map[string]time.Time
}

func newSiteModels(dir string, base *toxicity.Model, logger *slog.Logger) *siteModels {
	return &siteModels{dir: dir, base: base, logger: logger, models: map[string]*toxicity.SiteModel{}, mtimes: map[string]time.Time{}}
}

// Scorer returns the site's tuned model, or nil for the base model.
func (m *siteModels) Scorer(siteID string) moderation.Scorer {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if sm := m.models[siteID]; sm != nil {
		return sm
	}
	return nil
}

// reload reads every changed SITE.site file in the directory.
func (m *siteModels) reload() {
	entries, err := os.ReadDir(m.dir)
	if err != nil {
		return // no directory: no site models
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".site") {
			continue
		}
		site := strings.TrimSuffix(name, ".site")
		info, err := e.Info()
		if err != nil {
			continue
		}
		m.mu.RLock()
		same := m.mtimes[site].Equal(info.ModTime())
		m.mu.RUnlock()
		if same {
			continue
		}
		f, err := os.Open(filepath.Join(m.dir, name))
		if err != nil {
			continue
		}
		sm, err := toxicity.LoadSite(f, m.base)
		f.Close()
		if err != nil {
			m.logger.Warn("site model not loaded", "site", site, "error", err.Error())
			continue
		}
		m.mu.Lock()
		m.models[site], m.mtimes[site] = sm, info.ModTime()
		m.mu.Unlock()
		m.logger.Info("site model loaded", "site", site, "decisions", sm.N)
	}
}

// tune adapts the base model to each site with enough moderator decisions
// and writes SITE.site (atomically: a temporary file renamed over it).
func (m *siteModels) tune(ctx context.Context, st store.Store) {
	sites, err := st.Sites(ctx)
	if err != nil {
		m.logger.Warn("auto-tune: cannot list sites", "error", err.Error())
		return
	}
	for _, site := range sites {
		ds, err := decisionsOf(ctx, st, site.ID)
		if err != nil || len(ds) < minTuneDecisions {
			continue
		}
		sm := toxicity.Tune(m.base, ds)
		sm.Site = site.ID
		if err := saveSiteModel(m.dir, sm); err != nil {
			m.logger.Warn("auto-tune: cannot save", "site", site.ID, "error", err.Error())
			continue
		}
		m.logger.Info("auto-tune: site model updated", "site", site.ID, "decisions", len(ds))
	}
	m.reload()
}

// run reloads changed files every minute and, when every > 0, retunes every
// site that often, until ctx is done.
func (m *siteModels) run(ctx context.Context, st store.Store, every time.Duration) {
	m.reload()
	reload := time.NewTicker(time.Minute)
	defer reload.Stop()
	var tuneC <-chan time.Time
	if every > 0 {
		t := time.NewTicker(every)
		defer t.Stop()
		tuneC = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-reload.C:
			m.reload()
		case <-tuneC:
			m.tune(ctx, st)
		}
	}
}

// saveSiteModel writes dir/SITE.site atomically.
func saveSiteModel(dir string, sm *toxicity.SiteModel) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, sm.Site+".site.tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := sm.Save(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, sm.Site+".site")); err != nil {
		return fmt.Errorf("save site model: %w", err)
	}
	return nil
}

package service

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/moderation"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/toxicity"
)

// SiteModelStore is the part of the store SiteModels reads and writes.
type SiteModelStore interface {
	SaveSiteModel(ctx context.Context, m *store.SiteModel) error
	SiteModel(ctx context.Context, siteID string) (*store.SiteModel, error)
	SiteModelVersions(ctx context.Context) (map[string]int64, error)
}

// SiteModels holds each site's tuned toxicity model (the base model adapted
// to the site's moderators, see toxicity.Tune) as the database stores it,
// so that every instance on one database scores a site's comments alike.
// A save records parley.EventSiteModel; Service.Observe hands it to Changed,
// and the loop of Service.RunSiteModels then loads the new version. The
// same loop compares every site's version with the database's every
// CheckEvery, in case an event was missed. Safe for concurrent use.
type SiteModels struct {
	st     SiteModelStore
	base   *toxicity.Model
	baseID string

	// Optional, set before use.
	Logger     *slog.Logger
	CheckEvery time.Duration    // how often to compare versions with the database; default 30 s
	Now        func() time.Time // stamps the models saved; auto-tune compares it with the decisions' times

	wake chan struct{}
	// refresh is held by Refresh, Save and ImportDir: a refresh that read
	// the versions before a save must not forget the model saved.
	refresh sync.Mutex

	mu     sync.RWMutex
	models map[string]*siteModel
}

// siteModel is a loaded version of a site's model.
type siteModel struct {
	model   *toxicity.SiteModel
	version int64
	base    string // the base model it was tuned on ("" when unknown)
	created time.Time
}

// NewSiteModels returns the site models stored in st, adapting base. None
// is loaded until Refresh.
func NewSiteModels(st SiteModelStore, base *toxicity.Model) *SiteModels {
	return &SiteModels{
		st:         st,
		base:       base,
		baseID:     BaseModelID(base),
		Logger:     slog.Default(),
		CheckEvery: 30 * time.Second,
		Now:        time.Now,
		wake:       make(chan struct{}, 1),
		models:     make(map[string]*siteModel),
	}
}

// Base returns the base model the site models adapt.
func (m *SiteModels) Base() *toxicity.Model { return m.base }

// baseProbes are texts whose scores identify a base model: two models that
// score them alike to six decimals are, for a site model, the same.
var baseProbes = []string{
	"Thanks for the thoughtful article.",
	"You are a stupid idiot.",
	"The council should publish the budget before the vote.",
	"Go back to where you came from.",
	"I will find you and hurt you.",
	"Buy cheap pills at example dot com!!!",
}

// BaseModelID identifies a base model by how it scores a few fixed texts
// (and its hold threshold), so that a site model tuned on another base is
// recognised without the base's file at hand.
func BaseModelID(base *toxicity.Model) string {
	h := sha256.New()
	fmt.Fprintf(h, "bits %d threshold %.6f\n", base.Bits, base.Threshold)
	for _, p := range baseProbes {
		sc := base.ScoreFast(p, "")
		fmt.Fprintf(h, "%.6f %.6f %.6f\n", sc.Toxicity, sc.IdentityAttack, sc.Spam)
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// Scorer returns the site's tuned model, or nil when it has none.
func (m *SiteModels) Scorer(siteID string) moderation.Scorer {
	if sm := m.get(siteID); sm != nil {
		return sm.model
	}
	return nil
}

// Model returns the site's tuned model and its version, or nil and 0.
func (m *SiteModels) Model(siteID string) (*toxicity.SiteModel, int64) {
	if sm := m.get(siteID); sm != nil {
		return sm.model, sm.version
	}
	return nil, 0
}

func (m *SiteModels) get(siteID string) *siteModel {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.models[siteID]
}

// install keeps sm as the site's model unless a newer version is held:
// versions only move forward, whichever of a save and a refresh is first.
func (m *SiteModels) install(siteID string, sm *siteModel) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur := m.models[siteID]; cur != nil && cur.version >= sm.version {
		return false
	}
	m.models[siteID] = sm
	return true
}

// Changed tells the refresh loop that a site's model changed somewhere. It
// never blocks: the broker calls it (through Service.Observe) for every
// site.model event.
func (m *SiteModels) Changed() {
	select {
	case m.wake <- struct{}{}:
	default: // a refresh is due already
	}
}

// Refresh loads every site model whose stored version differs from the one
// held, and forgets those the database no longer has: one query when
// nothing changed.
func (m *SiteModels) Refresh(ctx context.Context) error {
	m.refresh.Lock()
	defer m.refresh.Unlock()
	versions, err := m.st.SiteModelVersions(ctx)
	if err != nil {
		return fmt.Errorf("refresh site models: %w", err)
	}
	for site, v := range versions {
		if sm := m.get(site); sm != nil && sm.version == v {
			continue
		}
		if err := m.load(ctx, site); err != nil {
			m.Logger.Warn("site model not loaded", "site", site, "version", v, "error", err.Error())
		}
	}
	// A deleted site takes its model with it.
	m.mu.Lock()
	for site := range m.models {
		if _, ok := versions[site]; !ok {
			delete(m.models, site)
		}
	}
	m.mu.Unlock()
	return nil
}

// load reads the site's current model from the store and installs it.
func (m *SiteModels) load(ctx context.Context, site string) error {
	rec, err := m.st.SiteModel(ctx, site)
	if err != nil {
		return err
	}
	tm, err := toxicity.LoadSite(bytes.NewReader(rec.Model), m.base)
	if err != nil {
		return err
	}
	tm.Site = site
	if rec.Base != "" && rec.Base != m.baseID {
		// The adjustment still applies on top of another base, less well
		// calibrated; auto-tune retrains it on this one.
		m.Logger.Warn("site model was tuned on another base model", "site", site, "version", rec.Version)
	}
	if m.install(site, &siteModel{model: tm, version: rec.Version, base: rec.Base, created: rec.Created}) {
		m.Logger.Info("site model loaded", "site", site, "version", rec.Version, "decisions", rec.Decisions)
	}
	return nil
}

// Save stores tm as the site's model, replacing version replaces (0 when
// the site has none), and uses it on this instance at once; the other
// instances load it when they read the site.model event the save records.
// EConflict when the stored version is no longer replaces.
func (m *SiteModels) Save(ctx context.Context, tm *toxicity.SiteModel, replaces int64) (int64, error) {
	var buf bytes.Buffer
	if err := tm.Save(&buf); err != nil {
		return 0, fmt.Errorf("encode site model: %w", err)
	}
	m.refresh.Lock()
	defer m.refresh.Unlock()
	rec := &store.SiteModel{SiteID: tm.Site, Version: replaces, Model: buf.Bytes(), Decisions: tm.N, Base: m.baseID, Created: m.Now().UTC()}
	if err := m.st.SaveSiteModel(ctx, rec); err != nil {
		return 0, err
	}
	m.install(tm.Site, &siteModel{model: tm, version: rec.Version, base: rec.Base, created: rec.Created})
	return rec.Version, nil
}

// ImportDir imports the SITE.site files of dir, where Parley kept site
// models before they moved to the database, for each site that has no model
// in the database yet, and returns how many it imported. The files are
// left where they are; a site with a model in the database keeps it, so an
// import happens once however often the instances start. A missing
// directory imports nothing.
func (m *SiteModels) ImportDir(ctx context.Context, dir string) (int, error) {
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return 0, nil
	} else if err != nil {
		return 0, fmt.Errorf("import site models: %w", err)
	}
	m.refresh.Lock()
	defer m.refresh.Unlock()
	versions, err := m.st.SiteModelVersions(ctx)
	if err != nil {
		return 0, fmt.Errorf("import site models: %w", err)
	}
	n := 0
	for _, e := range entries {
		site, ok := strings.CutSuffix(e.Name(), ".site")
		if e.IsDir() || !ok || site == "" || versions[site] != 0 {
			continue
		}
		path := filepath.Join(dir, e.Name())
		b, err := os.ReadFile(path)
		if err != nil {
			return n, fmt.Errorf("import site models: %w", err)
		}
		tm, err := toxicity.LoadSite(bytes.NewReader(b), m.base)
		if err != nil {
			m.Logger.Warn("site model file not imported", "path", path, "error", err.Error())
			continue
		}
		tm.Site = site
		// The file does not say which base it was tuned on: unknown.
		rec := &store.SiteModel{SiteID: site, Model: b, Decisions: tm.N, Created: m.Now().UTC()}
		switch err := m.st.SaveSiteModel(ctx, rec); parley.ErrorCode(err) {
		case "":
			m.install(site, &siteModel{model: tm, version: rec.Version, created: rec.Created})
			m.Logger.Info("site model file imported into the database", "path", path, "site", site, "decisions", tm.N)
			n++
		case parley.EConflict: // another instance imported it first
		case parley.ENotFound:
			m.Logger.Warn("site model file not imported: no such site", "path", path, "site", site)
		default:
			return n, fmt.Errorf("import %s: %w", path, err)
		}
	}
	return n, nil
}

// Load imports the site model files of legacyDir (see ImportDir), then
// loads every site's current model (Refresh): what an instance does once
// when it starts.
func (m *SiteModels) Load(ctx context.Context, legacyDir string) error {
	if _, err := m.ImportDir(ctx, legacyDir); err != nil {
		return err
	}
	return m.Refresh(ctx)
}

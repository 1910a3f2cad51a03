// Package config holds Parley's one configuration value: defaults, then
// PARLEY_* environment variables, then command-line flags, then Validate.
// There is no global configuration; the cli package builds a Config, and
// server.Open (for `parley serve`) or server.OpenStore and
// server.OfflineService (for the offline subcommands) pass the pieces each
// component needs.
package config

import (
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/outbound"
)

// Config is the configuration of `parley serve` and the other subcommands.
type Config struct {
	Addr        string        // listen address, e.g. ":8080"
	DataDir     string        // where the SQLite database, the secret key and the admin token live
	DatabaseURL string        // postgres://… selects PostgreSQL; empty means SQLite in DataDir
	BaseURL     string        // public base URL, e.g. https://comments.example.com; derived from Addr when empty
	AdminToken  string        // bearer token for the admin API; generated and stored in DataDir when empty
	SecretKey   string        // hex key signing reader cookies; generated and stored in DataDir when empty
	Demo        bool          // create the demo site and serve /demo
	DemoData    bool          // with Demo: seed a discussion and a moderator account on first start
	ModelPath   string        // a publisher's own toxicity model file; empty means the embedded model
	NoModel     bool          // run the moderation pipeline without the toxicity model
	AutoTune    time.Duration // retrain each site's model on its moderators' decisions this often; 0 = never
	TrustProxy  Proxies       // proxies whose X-Forwarded-For / X-Real-IP names the client; "on" = loopback

	// BackupEvery writes a backup of the SQLite database to DATA/backups
	// this often (0 = never); BackupKeep is how many are kept.
	BackupEvery time.Duration
	BackupKeep  int

	// OutboundAllow lists the non-public hosts and ranges that server-side
	// fetches (SSO JWKS and discovery, webhooks) may reach; empty, only
	// public addresses are fetched (internal/outbound).
	OutboundAllow outbound.Allowlist

	// WebhookRetry is the wait before a failed webhook delivery's first
	// retry; each later one waits twice as long (at most an hour), for 24 h.
	WebhookRetry time.Duration
	// WebhookTimeout bounds one webhook post; a post unanswered for three
	// times as long is taken up again by any instance (after a crash).
	WebhookTimeout time.Duration
	// WebhookAttempts is how many failed attempts give a delivery up
	// (failed: a dead letter a site admin may retry), unless 24 h do first.
	WebhookAttempts int

	HeaderTimeout   time.Duration // how long a client may take to send its request headers
	MaxStreams      int           // open event streams on this instance
	MaxStreamsPerIP int           // open event streams per client address (IPv6: per /64)

	RateLimit  bool          // per-reader and per-IP write limits; PARLEY_RATE_LIMIT=off disables
	PostRate   Rate          // comments per reader and per IP
	ActionRate Rate          // votes and reports per reader and per IP
	EditWindow time.Duration // how long an author may edit a comment
	LogLevel   string        // debug, info, warn, error
	LogFormat  string        // text or json

	// ThreadCache serves thread reads from the per-page response cache. Off
	// (PARLEY_THREAD_CACHE=off) every read queries, renders and compresses
	// the page: only for measuring that path, as `parley bench --uncached` does.
	ThreadCache bool

	// Mail is outbound e-mail (mail.go).
	Mail Mail
}

// Rate is a token bucket: Burst events at once, refilled at N per Per.
type Rate struct {
	N     int
	Per   time.Duration
	Burst int
}

// String formats r as "N/PER,BURST", e.g. "10/1m0s,5".
func (r Rate) String() string { return fmt.Sprintf("%d/%s,%d", r.N, r.Per, r.Burst) }

// ParseRate parses "N/PER[,BURST]", e.g. "10/1m" or "30/1m,10".
func ParseRate(s string) (Rate, error) {
	var r Rate
	spec, burst, hasBurst := strings.Cut(strings.TrimSpace(s), ",")
	n, per, ok := strings.Cut(spec, "/")
	if !ok {
		return r, fmt.Errorf("rate %q: want N/DURATION[,BURST], e.g. 10/1m,5", s)
	}
	var err error
	if r.N, err = strconv.Atoi(n); err != nil || r.N <= 0 {
		return r, fmt.Errorf("rate %q: count must be a positive integer", s)
	}
	if r.Per, err = time.ParseDuration(per); err != nil || r.Per <= 0 {
		return r, fmt.Errorf("rate %q: period must be a positive duration like 1m", s)
	}
	r.Burst = r.N
	if hasBurst {
		if r.Burst, err = strconv.Atoi(burst); err != nil || r.Burst <= 0 {
			return r, fmt.Errorf("rate %q: burst must be a positive integer", s)
		}
	}
	return r, nil
}

// Default returns the configuration used when nothing is set.
func Default() Config {
	return Config{
		Addr:       "127.0.0.1:8080",
		DataDir:    "parley-data",
		RateLimit:  true,
		PostRate:   Rate{N: 10, Per: time.Minute, Burst: 5},
		ActionRate: Rate{N: 60, Per: time.Minute, Burst: 20},
		EditWindow: 10 * time.Minute,
		BackupKeep: 7,
		LogLevel:   "info",
		LogFormat:  "text",

		WebhookRetry:    30 * time.Second,
		WebhookTimeout:  10 * time.Second,
		WebhookAttempts: 25,

		ThreadCache: true,
		DemoData:    true,

		HeaderTimeout:   DefaultHeaderTimeout,
		MaxStreams:      DefaultMaxStreams,
		MaxStreamsPerIP: DefaultMaxStreamsPerIP,
	}
}

// rateValue adapts *Rate to flag.Value.
type rateValue struct{ r *Rate }

func (v rateValue) String() string {
	if v.r == nil {
		return ""
	}
	return v.r.String()
}
func (v rateValue) Set(s string) error {
	r, err := ParseRate(s)
	if err == nil {
		*v.r = r
	}
	return err
}

// boolEnv parses on/off style booleans.
func boolEnv(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "on", "yes":
		return true, nil
	case "0", "false", "off", "no":
		return false, nil
	}
	return false, fmt.Errorf("%q is not on/off", s)
}

// FromEnv applies PARLEY_* variables from getenv to c.
func (c *Config) FromEnv(getenv func(string) string) error {
	str := map[string]*string{
		"PARLEY_ADDR":         &c.Addr,
		"PARLEY_DATA_DIR":     &c.DataDir,
		"PARLEY_DATABASE_URL": &c.DatabaseURL,
		"PARLEY_BASE_URL":     &c.BaseURL,
		"PARLEY_ADMIN_TOKEN":  &c.AdminToken,
		"PARLEY_SECRET_KEY":   &c.SecretKey,
		"PARLEY_MODEL":        &c.ModelPath,
		"PARLEY_LOG_LEVEL":    &c.LogLevel,
		"PARLEY_LOG_FORMAT":   &c.LogFormat,
	}
	for k, p := range str {
		if v := getenv(k); v != "" {
			*p = v
		}
	}
	bools := map[string]*bool{
		"PARLEY_RATE_LIMIT": &c.RateLimit,
		"PARLEY_DEMO":       &c.Demo,
		"PARLEY_DEMO_DATA":  &c.DemoData,
		"PARLEY_NO_MODEL":   &c.NoModel,

		"PARLEY_THREAD_CACHE": &c.ThreadCache,
	}
	for k, p := range bools {
		if v := getenv(k); v != "" {
			b, err := boolEnv(v)
			if err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
			*p = b
		}
	}
	rates := map[string]*Rate{"PARLEY_POST_RATE": &c.PostRate, "PARLEY_ACTION_RATE": &c.ActionRate}
	for k, p := range rates {
		if v := getenv(k); v != "" {
			r, err := ParseRate(v)
			if err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
			*p = r
		}
	}
	if v := getenv("PARLEY_TRUST_PROXY"); v != "" {
		p, err := ParseProxies(v)
		if err != nil {
			return fmt.Errorf("PARLEY_TRUST_PROXY: %w", err)
		}
		c.TrustProxy = p
	}
	if v := getenv("PARLEY_OUTBOUND_ALLOW"); v != "" {
		if err := c.OutboundAllow.Set(v); err != nil {
			return fmt.Errorf("PARLEY_OUTBOUND_ALLOW: %w", err)
		}
	}
	if v := getenv("PARLEY_HEADER_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("PARLEY_HEADER_TIMEOUT: %w", err)
		}
		c.HeaderTimeout = d
	}
	ints := map[string]*int{"PARLEY_MAX_STREAMS": &c.MaxStreams, "PARLEY_MAX_STREAMS_PER_IP": &c.MaxStreamsPerIP, "PARLEY_WEBHOOK_ATTEMPTS": &c.WebhookAttempts}
	for k, p := range ints {
		if v := getenv(k); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("%s: %q is not a number", k, v)
			}
			*p = n
		}
	}
	if v := getenv("PARLEY_BACKUP_EVERY"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("PARLEY_BACKUP_EVERY: %w", err)
		}
		c.BackupEvery = d
	}
	if v := getenv("PARLEY_BACKUP_KEEP"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("PARLEY_BACKUP_KEEP: %w", err)
		}
		c.BackupKeep = n
	}
	if v := getenv("PARLEY_AUTO_TUNE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("PARLEY_AUTO_TUNE: %w", err)
		}
		c.AutoTune = d
	}
	for k, p := range map[string]*time.Duration{"PARLEY_WEBHOOK_RETRY": &c.WebhookRetry, "PARLEY_WEBHOOK_TIMEOUT": &c.WebhookTimeout} {
		if v := getenv(k); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
			*p = d
		}
	}
	if err := c.Mail.fromEnv(getenv); err != nil {
		return err
	}
	if v := getenv("PARLEY_EDIT_WINDOW"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("PARLEY_EDIT_WINDOW: %w", err)
		}
		c.EditWindow = d
	}
	return nil
}

// Flags registers the serve flags on fs, writing into c. Call after FromEnv
// so that flags override the environment.
func (c *Config) Flags(fs *flag.FlagSet) {
	fs.StringVar(&c.Addr, "addr", c.Addr, "listen address (PARLEY_ADDR)")
	fs.StringVar(&c.DataDir, "data", c.DataDir, "data directory for SQLite, keys and tokens (PARLEY_DATA_DIR)")
	fs.StringVar(&c.DatabaseURL, "database", c.DatabaseURL, "postgres://… to use PostgreSQL instead of SQLite (PARLEY_DATABASE_URL)")
	fs.StringVar(&c.BaseURL, "base-url", c.BaseURL, "public base URL, e.g. https://comments.example.com (PARLEY_BASE_URL)")
	fs.StringVar(&c.AdminToken, "admin-token", c.AdminToken, "admin API bearer token; generated when empty (PARLEY_ADMIN_TOKEN)")
	fs.BoolVar(&c.Demo, "demo", c.Demo, "create a demo site and serve a demo article at /demo (PARLEY_DEMO)")
	fs.BoolVar(&c.DemoData, "demo-data", c.DemoData, "with --demo, on first start: seed a discussion under the demo article and create a demo moderator (PARLEY_DEMO_DATA)")
	fs.StringVar(&c.ModelPath, "model", c.ModelPath, "toxicity model file; default: the embedded model (PARLEY_MODEL)")
	fs.BoolVar(&c.NoModel, "no-model", c.NoModel, "moderate without the toxicity model (PARLEY_NO_MODEL)")
	fs.DurationVar(&c.AutoTune, "auto-tune", c.AutoTune, "retrain each site's model on its moderators' decisions this often, e.g. 24h; 0 = never (PARLEY_AUTO_TUNE)")
	fs.DurationVar(&c.BackupEvery, "backup-every", c.BackupEvery, "SQLite: write a backup to DATA/backups this often, e.g. 24h; 0 = never (PARLEY_BACKUP_EVERY)")
	fs.IntVar(&c.BackupKeep, "backup-keep", c.BackupKeep, "SQLite: how many scheduled backups to keep (PARLEY_BACKUP_KEEP)")
	fs.Var(proxiesValue{&c.TrustProxy}, "trust-proxy", "believe X-Forwarded-For from these proxies: on (loopback), off, or addresses/CIDRs, e.g. --trust-proxy=10.0.0.0/8 (PARLEY_TRUST_PROXY)")
	fs.Var(&c.OutboundAllow, "outbound-allow", "non-public hosts, *.domains, addresses or CIDRs that server-side fetches may reach; default none (PARLEY_OUTBOUND_ALLOW)")
	fs.DurationVar(&c.WebhookRetry, "webhook-retry", c.WebhookRetry, "wait before a failed webhook delivery's first retry; doubled each time, for 24h (PARLEY_WEBHOOK_RETRY)")
	fs.DurationVar(&c.WebhookTimeout, "webhook-timeout", c.WebhookTimeout, "time limit of one webhook post (PARLEY_WEBHOOK_TIMEOUT)")
	fs.IntVar(&c.WebhookAttempts, "webhook-attempts", c.WebhookAttempts, "failed attempts after which a webhook delivery is given up (failed, retried by hand), unless 24h end it first (PARLEY_WEBHOOK_ATTEMPTS)")
	fs.DurationVar(&c.HeaderTimeout, "header-timeout", c.HeaderTimeout, "close connections that take longer to send their request headers (PARLEY_HEADER_TIMEOUT)")
	fs.IntVar(&c.MaxStreams, "max-streams", c.MaxStreams, "open live-update streams on this instance (PARLEY_MAX_STREAMS)")
	fs.IntVar(&c.MaxStreamsPerIP, "max-streams-per-ip", c.MaxStreamsPerIP, "open live-update streams per client address, IPv6 per /64 (PARLEY_MAX_STREAMS_PER_IP)")
	fs.BoolVar(&c.RateLimit, "rate-limit", c.RateLimit, "rate-limit writes per reader and IP (PARLEY_RATE_LIMIT=off disables)")
	fs.BoolVar(&c.ThreadCache, "thread-cache", c.ThreadCache, "serve thread reads from the per-page response cache; false only to measure without it (PARLEY_THREAD_CACHE)")
	fs.Var(rateValue{&c.PostRate}, "post-rate", "comments per reader and per IP, N/PERIOD[,BURST] (PARLEY_POST_RATE)")
	fs.Var(rateValue{&c.ActionRate}, "action-rate", "votes and reports per reader and per IP (PARLEY_ACTION_RATE)")
	fs.DurationVar(&c.EditWindow, "edit-window", c.EditWindow, "how long authors may edit their comments (PARLEY_EDIT_WINDOW)")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "debug, info, warn or error (PARLEY_LOG_LEVEL)")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "text or json (PARLEY_LOG_FORMAT)")
	c.Mail.flags(fs)
}

// Validate checks c and fills derived values (BaseURL from Addr).
func (c *Config) Validate() error {
	if c.Addr == "" {
		return fmt.Errorf("addr must not be empty")
	}
	if c.DatabaseURL == "" && c.DataDir == "" {
		return fmt.Errorf("data dir must not be empty")
	}
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		return fmt.Errorf("database URL must start with postgres://")
	}
	if c.BaseURL == "" {
		host := c.Addr
		if strings.HasPrefix(host, ":") {
			host = "localhost" + host
		}
		c.BaseURL = "http://" + host
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("base URL %q must be an absolute http(s) URL", c.BaseURL)
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log level %q: want debug, info, warn or error", c.LogLevel)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return fmt.Errorf("log format %q: want text or json", c.LogFormat)
	}
	if c.AutoTune < 0 || (c.AutoTune > 0 && c.AutoTune < time.Minute) {
		return fmt.Errorf("auto-tune must be 0 (off) or at least 1m")
	}
	if c.BackupEvery < 0 || (c.BackupEvery > 0 && c.BackupEvery < time.Minute) {
		return fmt.Errorf("backup-every must be 0 (off) or at least 1m")
	}
	if c.BackupEvery > 0 && c.DatabaseURL != "" {
		return fmt.Errorf("backup-every backs up SQLite; on PostgreSQL schedule pg_dump instead")
	}
	if c.BackupKeep < 1 || c.BackupKeep > 1000 {
		return fmt.Errorf("backup-keep must be between 1 and 1000")
	}
	if c.EditWindow < 0 {
		return fmt.Errorf("edit window must not be negative")
	}
	if c.WebhookRetry < 10*time.Millisecond || c.WebhookRetry > time.Hour {
		return fmt.Errorf("webhook-retry must be between 10ms and 1h")
	}
	if c.WebhookTimeout < 100*time.Millisecond || c.WebhookTimeout > time.Minute {
		return fmt.Errorf("webhook-timeout must be between 100ms and 1m")
	}
	if c.WebhookAttempts < 1 || c.WebhookAttempts > 100 {
		return fmt.Errorf("webhook-attempts must be between 1 and 100")
	}
	if c.HeaderTimeout < 100*time.Millisecond {
		return fmt.Errorf("header timeout must be at least 100ms")
	}
	if c.MaxStreams < 1 || c.MaxStreamsPerIP < 1 {
		return fmt.Errorf("max-streams and max-streams-per-ip must be at least 1")
	}
	if err := c.Mail.validate(); err != nil {
		return err
	}
	return nil
}

// Secure reports whether Parley is served over HTTPS, which decides the
// cookie attributes (SameSite=None; Secure for cross-site embeds).
func (c *Config) Secure() bool { return strings.HasPrefix(c.BaseURL, "https://") }

// DBPath returns the SQLite database file in DataDir.
func (c *Config) DBPath() string { return filepath.Join(c.DataDir, "parley.db") }

// EnsureDataDir creates DataDir with private permissions.
func (c *Config) EnsureDataDir() error {
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	return nil
}

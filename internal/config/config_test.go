package config

import (
	"flag"
	"io"
	"net/netip"
	"testing"
	"time"
)

func TestTrustProxyAndOutboundAllow(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string // TrustProxy.String()
		out  string // OutboundAllow.String()
		err  bool
	}{
		{"default", nil, nil, "off", "", false},
		{"env on is loopback", map[string]string{"PARLEY_TRUST_PROXY": "on"}, nil, "127.0.0.0/8,::1/128", "", false},
		{"bare flag is loopback", nil, []string{"--trust-proxy"}, "127.0.0.0/8,::1/128", "", false},
		{"flag list", nil, []string{"--trust-proxy=10.0.0.0/8, 192.168.1.5,fd00::/8"}, "10.0.0.0/8,192.168.1.5/32,fd00::/8", "", false},
		{"flag off over env", map[string]string{"PARLEY_TRUST_PROXY": "10.0.0.0/8"}, []string{"--trust-proxy=off"}, "off", "", false},
		{"bad proxy", map[string]string{"PARLEY_TRUST_PROXY": "10.0.0.0/99"}, nil, "", "", true},
		{"outbound env", map[string]string{"PARLEY_OUTBOUND_ALLOW": "idp.internal,10.1.0.0/16"}, nil, "off", "idp.internal,10.1.0.0/16", false},
		{"outbound flag", nil, []string{"--outbound-allow", "*.corp.example"}, "off", "*.corp.example", false},
		{"bad outbound", map[string]string{"PARLEY_OUTBOUND_ALLOW": "http://x/"}, nil, "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			err := c.FromEnv(func(k string) string { return tt.env[k] })
			if err == nil {
				fs := flag.NewFlagSet("serve", flag.ContinueOnError)
				fs.SetOutput(io.Discard)
				c.Flags(fs)
				err = fs.Parse(tt.args)
			}
			if tt.err {
				if err == nil {
					t.Fatalf("no error, want one")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.TrustProxy.String(); got != tt.want {
				t.Errorf("TrustProxy = %s, want %s", got, tt.want)
			}
			if got := c.OutboundAllow.String(); got != tt.out {
				t.Errorf("OutboundAllow = %q, want %q", got, tt.out)
			}
		})
	}
	p, _ := ParseProxies("on")
	if !p.Contains(netip.MustParseAddr("::ffff:127.0.0.1")) || p.Contains(netip.MustParseAddr("10.0.0.1")) {
		t.Errorf("on = %s: wrong membership", p)
	}
}

// TestBackupSchedule: --backup-every and --backup-keep, from flags and the
// environment, and what Validate refuses.
func TestBackupSchedule(t *testing.T) {
	c := Default()
	if c.BackupEvery != 0 || c.BackupKeep != 7 {
		t.Errorf("defaults: every %v keep %d, want off and 7", c.BackupEvery, c.BackupKeep)
	}
	env := map[string]string{"PARLEY_BACKUP_EVERY": "24h", "PARLEY_BACKUP_KEEP": "3"}
	if err := c.FromEnv(func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if c.BackupEvery != 24*time.Hour || c.BackupKeep != 3 || c.Validate() != nil {
		t.Errorf("from the environment: every %v keep %d, %v", c.BackupEvery, c.BackupKeep, c.Validate())
	}
	for _, tc := range []struct {
		name string
		set  func(*Config)
	}{
		{"too often", func(c *Config) { c.BackupEvery = time.Second }},
		{"negative", func(c *Config) { c.BackupEvery = -time.Hour }},
		{"keep none", func(c *Config) { c.BackupKeep = 0 }},
		{"on PostgreSQL", func(c *Config) { c.DatabaseURL = "postgres://u@h/db" }},
	} {
		d := c
		tc.set(&d)
		if d.Validate() == nil {
			t.Errorf("%s: Validate accepted every %v keep %d", tc.name, d.BackupEvery, d.BackupKeep)
		}
	}
	bad := map[string]string{"PARLEY_BACKUP_EVERY": "daily"}
	fresh := Default()
	if err := fresh.FromEnv(func(k string) string { return bad[k] }); err == nil {
		t.Error(`PARLEY_BACKUP_EVERY=daily accepted`)
	}
}

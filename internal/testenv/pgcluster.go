package testenv

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

// PostgresBin is where the PostgreSQL server binaries are looked for
// ($PARLEY_POSTGRES_BIN overrides).
const PostgresBin = "/usr/lib/postgresql/15/bin"

// Cluster is a PostgreSQL cluster of the test's own, on a free loopback
// port in a temporary directory, for tests that stop the database under
// Parley. It never touches the machine's shared server.
type Cluster struct {
	t    testing.TB
	bin  string
	dir  string // the cluster's data directory
	log  string
	Port int
	cred *syscall.Credential // the postgres OS user's, when the test runs as root
}

// NewCluster creates (initdb) and starts a cluster, stopped and removed
// when the test ends. It skips the test when the binaries are missing
// (a failure with CI=true). As root, the server runs as the postgres OS
// user, which PostgreSQL requires.
func NewCluster(t testing.TB) *Cluster {
	t.Helper()
	bin := os.Getenv("PARLEY_POSTGRES_BIN")
	if bin == "" {
		bin = PostgresBin
	}
	for _, b := range []string{"initdb", "pg_ctl", "postgres"} {
		if _, err := os.Stat(filepath.Join(bin, b)); err != nil {
			skip(t, "no PostgreSQL server binaries in %s (apt-get install -y postgresql-15): %v", bin, err)
		}
	}
	root, err := os.MkdirTemp("", "parley-pgcluster-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	c := &Cluster{t: t, bin: bin, dir: filepath.Join(root, "data"), log: filepath.Join(root, "server.log")}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			skip(t, "running as root, and no postgres OS user to run PostgreSQL as: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		c.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chmod(root, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(root, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.Port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	c.run("initdb", "-D", c.dir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions")
	c.Start()
	t.Cleanup(func() {
		if c.running() {
			c.run("pg_ctl", "-D", c.dir, "-m", "immediate", "-w", "stop")
		}
	})
	return c
}

// DSN is the URL of the cluster's postgres database.
func (c *Cluster) DSN() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.Port)
}

// DBDSN is the URL of the cluster's database db.
func (c *Cluster) DBDSN(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.Port, db)
}

// Start starts the server and waits until it accepts connections.
func (c *Cluster) Start() {
	c.t.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50", c.Port, filepath.Dir(c.dir))
	c.run("pg_ctl", "-D", c.dir, "-l", c.log, "-o", opts, "-w", "-t", "30", "start")
}

// StopImmediate stops the server as a crash would: `pg_ctl stop -m
// immediate`, every backend killed, no checkpoint; Start recovers.
func (c *Cluster) StopImmediate() {
	c.t.Helper()
	c.run("pg_ctl", "-D", c.dir, "-m", "immediate", "-w", "stop")
}

func (c *Cluster) running() bool {
	_, err := os.Stat(filepath.Join(c.dir, "postmaster.pid"))
	return err == nil
}

// run runs a PostgreSQL binary as the cluster's OS user, failing the test
// with its output.
func (c *Cluster) run(name string, args ...string) {
	c.t.Helper()
	cmd := exec.Command(filepath.Join(c.bin, name), args...)
	cmd.Dir = filepath.Dir(c.dir)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LANG=C.UTF-8", "HOME=" + filepath.Dir(c.dir)}
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		log, _ := os.ReadFile(c.log)
		c.t.Fatalf("%s %v: %v\n%s\nserver log:\n%s", name, args, err, out, log)
	}
}

// SQL runs one statement with psql on the cluster's database db, failing
// the test with psql's output.
func (c *Cluster) SQL(db, statement string) {
	c.t.Helper()
	c.run("psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", strconv.Itoa(c.Port),
		"-U", "postgres", "-d", db, "-c", statement)
}

// Amcheck checks every table and B-tree index of database db with
// pg_amcheck (heap pages, index structure, and that every heap tuple is in
// its indexes), failing the test on any corruption it reports.
func (c *Cluster) Amcheck(db string) {
	c.t.Helper()
	c.run("pg_amcheck", "-h", "127.0.0.1", "-p", strconv.Itoa(c.Port), "-U", "postgres",
		"--install-missing", "--heapallindexed", "--parent-check", "--no-strict-names", db)
}

// Own gives a directory to the cluster's OS user (when the test runs as
// root), so that it can hold a tablespace.
func (c *Cluster) Own(dir string) {
	c.t.Helper()
	if c.cred == nil {
		return
	}
	if err := os.Chown(dir, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
		c.t.Fatal(err)
	}
}

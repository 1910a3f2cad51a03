package bench

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// dbProbe reads the CPU time of the PostgreSQL processes that serve a
// benchmark from /proc: the backends connected to its database (or with
// its application_name), and the server's own WAL writer, checkpointer,
// background writer and autovacuum processes, which do work for every
// database. PostgreSQL runs on the same cores as Parley and the load
// generator, so its CPU per post is half of what a post costs.
//
// A backend that exits inside the window takes its CPU time with it, and
// one that starts in it counts whole; the pools the bench measures keep
// their connections open.
type dbProbe struct {
	conn  *pgx.Conn
	where string // the pg_stat_activity condition, with $1
	arg   string
}

// newDBProbe connects to dsn to read pg_stat_activity: byApp chooses the
// backends whose application_name is key, otherwise those of database key.
// nil when PostgreSQL cannot be asked; the CPU figures are then left out.
func newDBProbe(ctx context.Context, dsn, key string, byApp bool) *dbProbe {
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil
	}
	p := &dbProbe{conn: c, where: "datname = $1", arg: key}
	if byApp {
		p.where = "application_name = $1"
	}
	if _, err := p.pids(ctx); err != nil {
		c.Close(ctx)
		return nil
	}
	return p
}

// pids returns the processes the probe counts (never its own backend).
func (p *dbProbe) pids(ctx context.Context) ([]int, error) {
	rows, err := p.conn.Query(ctx, `SELECT pid FROM pg_stat_activity
		WHERE pid <> pg_backend_pid() AND (`+p.where+` OR backend_type IN
			('walwriter', 'checkpointer', 'background writer', 'autovacuum launcher', 'autovacuum worker'))`, p.arg)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int])
}

// sample returns the CPU time used so far by each process counted.
func (p *dbProbe) sample(ctx context.Context) map[int]time.Duration {
	if p == nil {
		return nil
	}
	pids, err := p.pids(ctx)
	if err != nil {
		return nil
	}
	m := make(map[int]time.Duration, len(pids))
	for _, pid := range pids {
		m[pid] = processCPU(pid)
	}
	return m
}

// used is the CPU time the processes of end used since start.
func used(start, end map[int]time.Duration) time.Duration {
	var d time.Duration
	for pid, c := range end {
		d += c - start[pid]
	}
	return d
}

// Close ends the probe's connection.
func (p *dbProbe) Close() {
	if p != nil {
		p.conn.Close(context.Background())
	}
}

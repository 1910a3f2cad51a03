package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Process is a parley command that serves HTTP (`parley serve`, or the
// bench's `parley bench static`) running as a child process. In-process
// servers (Open) are the rule; a child process is for what is about the
// process itself: what survives its SIGKILL, its CPU time and memory in
// /proc. The e2e tests and `parley bench` both start their children here.
type Process struct {
	cmd *exec.Cmd
	URL string // where it listens, from its "listening on URL" line

	logs   *tail
	exited chan struct{} // closed when the process has been waited for
	err    error         // what Wait returned, once exited is closed
}

// listenLine is the line a serving command prints once it listens
// ("Parley v1.2.3 listening on http://127.0.0.1:41234").
var listenLine = regexp.MustCompile(`listening on (http://\S+)`)

// StartProcess runs exe with args and, after the current environment, env
// (KEY=VALUE), and waits until it prints where it listens, for at most 60 s
// or until ctx is done. Only loopback addresses are accepted: the processes
// started here are measured or attacked, never exposed. The child's stderr
// is kept (its last 64 KiB) for error reports.
func StartProcess(ctx context.Context, exe string, args []string, env ...string) (*Process, error) {
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), env...)
	p := &Process{cmd: cmd, logs: &tail{}, exited: make(chan struct{})}
	cmd.Stderr = p.logs
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", exe, err)
	}
	go func() { p.err = cmd.Wait(); close(p.exited) }() // exits with the child
	found := make(chan string, 1)
	go func() { // exits when the child closes its stdout
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := listenLine.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
		io.Copy(io.Discard, out)
	}()
	name := filepath.Base(exe) + " " + args[0]
	select {
	case p.URL = <-found:
	case <-p.exited:
		return nil, fmt.Errorf("%s exited before listening (%v): %s", name, p.err, p.logs)
	case <-time.After(60 * time.Second):
		p.Stop()
		return nil, fmt.Errorf("%s did not listen within 60 s: %s", name, p.logs)
	case <-ctx.Done():
		p.Stop()
		return nil, ctx.Err()
	}
	if u, err := url.Parse(p.URL); err != nil || !IsLoopback(u.Hostname()) {
		p.Stop()
		return nil, fmt.Errorf("%s listens on %q, not a loopback address", name, p.URL)
	}
	return p, nil
}

// IsLoopback reports whether host names this machine's loopback interface.
func IsLoopback(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}

// Pid is the child's process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Stop ends the process gracefully (SIGTERM) and waits for it, killing it
// if it lingers 20 s; it then reports that it had to.
func (p *Process) Stop() error {
	select {
	case <-p.exited:
		return nil
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		return nil
	case <-time.After(20 * time.Second):
		p.cmd.Process.Kill()
		<-p.exited
		return fmt.Errorf("%s ignored SIGTERM for 20 s: %s", filepath.Base(p.cmd.Path), p.logs)
	}
}

// Kill sends SIGKILL and waits for the process to be gone, for at most 10 s.
func (p *Process) Kill() error {
	p.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-p.exited:
		return nil
	case <-time.After(10 * time.Second):
		return errors.New("the process did not die within 10 s of SIGKILL")
	}
}

// Alive returns nil while the process runs, and an error with its exit
// status and log once it has exited.
func (p *Process) Alive() error {
	select {
	case <-p.exited:
		return fmt.Errorf("%s exited (%v): %s", filepath.Base(p.cmd.Path), p.err, p.logs)
	default:
		return nil
	}
}

// Logs returns the end of what the process wrote to stderr.
func (p *Process) Logs() string { return p.logs.String() }

// tail keeps the last 64 KiB written to it.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tail) Write(b []byte) (int, error) {
	const keep = 64 << 10
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if len(t.buf) > keep {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-keep:]...)
	}
	return len(b), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.buf))
}

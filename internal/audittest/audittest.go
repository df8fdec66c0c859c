// Package audittest helps tests that drive the kernel's audit subsystem:
// it skips them where they cannot run, serialises them (one process at a
// time can own the audit socket), runs a private auditd, and puts the
// kernel's audit state back as it found it.
package audittest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// LockFile is shared by every test of the project that changes audit state
// (and by testdata/capture/capture.sh).
const LockFile = "/tmp/t1610d-audit-tests.lock"

// Require skips t unless it can own the kernel's audit subsystem: root,
// auditd, auditctl and bins installed, no other process holding the audit
// pid, a configuration that is not immutable. It takes the shared lock
// until t ends, and restores the audit state (rules, enabled, backlog
// limit) in t.Cleanup, waits for the audit pid to be free again, and fails
// t if the state still differs from the one it returns. So a test that
// calls Require need not (and should not) put the state back itself; it
// may still compare Read with the returned State to check what the code
// under test left behind.
func Require(t *testing.T, bins ...string) State {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to drive the kernel's audit subsystem")
	}
	for _, bin := range append([]string{"auditd", "auditctl"}, bins...) {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("needs %s (apt-get install auditd)", bin)
		}
	}
	f, err := os.OpenFile(LockFile, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if _, err := exec.Command("auditctl", "-s").Output(); err != nil {
		t.Skipf("auditctl -s: %v: no audit subsystem here", err)
	}
	before := Read(t)
	if before.PID != "0" {
		t.Skipf("process %s owns the audit socket", before.PID)
	}
	if before.Enabled == "2" {
		t.Skip("the kernel's audit configuration is immutable")
	}
	t.Cleanup(func() { restore(t, before) })
	return before
}

// State is the part of the kernel's audit state the tests change.
type State struct {
	Enabled, PID, BacklogLimit string
	Rules                      string // auditctl -l
}

func (s State) String() string {
	return fmt.Sprintf("enabled %s, pid %s, backlog_limit %s, rules:\n%s", s.Enabled, s.PID, s.BacklogLimit, s.Rules)
}

// Read returns the kernel's audit state, from auditctl.
func Read(t *testing.T) State {
	t.Helper()
	st, err := exec.Command("auditctl", "-s").Output()
	if err != nil {
		t.Fatalf("auditctl -s: %v", err)
	}
	var s State
	for _, line := range strings.Split(string(st), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "enabled":
			s.Enabled = f[1]
		case "pid":
			s.PID = f[1]
		case "backlog_limit":
			s.BacklogLimit = f[1]
		}
	}
	rules, err := exec.Command("auditctl", "-l").Output()
	if err != nil {
		t.Fatalf("auditctl -l: %v", err)
	}
	s.Rules = strings.TrimSpace(string(rules))
	return s
}

func restore(t *testing.T, before State) {
	now := Read(t)
	if now.Rules != before.Rules {
		exec.Command("auditctl", "-D").Run()
		if before.Rules != "No rules" {
			for _, r := range strings.Split(before.Rules, "\n") {
				exec.Command("auditctl", strings.Fields(r)...).Run()
			}
		}
	}
	if now.BacklogLimit != before.BacklogLimit {
		exec.Command("auditctl", "-b", before.BacklogLimit).Run()
	}
	if now.Enabled != before.Enabled {
		exec.Command("auditctl", "-e", before.Enabled).Run()
	}
	for i := 0; i < 50 && Read(t).PID != before.PID; i++ {
		time.Sleep(50 * time.Millisecond)
	}
	if after := Read(t); after != before {
		t.Errorf("audit state not restored:\nbefore: %v\nafter:  %v", before, after)
	}
}

// LoadRules adds rules (auditctl syntax) and enables auditing, as an
// administrator would beside auditd. Require's cleanup removes them.
func LoadRules(t *testing.T, rules ...string) {
	t.Helper()
	for _, r := range rules {
		if out, err := exec.Command("auditctl", strings.Fields(r)...).CombinedOutput(); err != nil {
			t.Fatalf("auditctl %s: %v\n%s", r, err, out)
		}
	}
	if out, err := exec.Command("auditctl", "-e", "1").CombinedOutput(); err != nil {
		t.Fatalf("auditctl -e 1: %v\n%s", err, out)
	}
}

// Auditd is a private auditd, with its configuration and log in a folder
// of the test's.
type Auditd struct {
	Dir  string
	cmd  *exec.Cmd
	out  Buffer
	once sync.Once
}

// LogPath is where the auditd writes its log.
func (a *Auditd) LogPath() string { return filepath.Join(a.Dir, "log", "audit.log") }

// Pid is the auditd's process id: the audit pid while it runs.
func (a *Auditd) Pid() int { return a.cmd.Process.Pid }

// StartAuditd starts `auditd -n` with a configuration written in dir (RAW
// format unless extra lines say otherwise: later lines win) and waits until
// it owns the audit pid. It is stopped in t.Cleanup.
func StartAuditd(t *testing.T, dir string, extra ...string) *Auditd {
	t.Helper()
	a := &Auditd{Dir: dir}
	for _, d := range []string{"etc/plugins.d", "log"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	lines := append([]string{
		"local_events = yes", "write_logs = yes",
		"log_file = " + a.LogPath(), "log_format = RAW", "log_group = root",
		"flush = INCREMENTAL_ASYNC", "freq = 20", "num_logs = 2", "max_log_file = 64",
		"max_log_file_action = ROTATE", "name_format = NONE",
		"space_left = 75", "space_left_action = SYSLOG",
		"admin_space_left = 50", "admin_space_left_action = SUSPEND",
		"disk_full_action = SUSPEND", "disk_error_action = SUSPEND",
		"q_depth = 2000", "overflow_action = SYSLOG",
		"plugin_dir = " + filepath.Join(dir, "etc", "plugins.d"),
		"end_of_event_timeout = 2",
	}, extra...)
	if err := os.WriteFile(filepath.Join(dir, "etc", "auditd.conf"), []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a.cmd = exec.Command("auditd", "-n", "-c", filepath.Join(dir, "etc"))
	a.cmd.Stdout, a.cmd.Stderr = &a.out, &a.out
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Stop(t) })
	want := strconv.Itoa(a.cmd.Process.Pid)
	for i := 0; i < 100; i++ {
		if Read(t).PID == want {
			return a
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("auditd did not take the audit pid within 5s:\n%s", a.Output())
	return nil
}

// Output is what auditd printed.
func (a *Auditd) Output() string { return a.out.String() }

// Buffer is a bytes.Buffer that one goroutine may write while another
// reads it: a process's output, a component's log.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Bytes returns a copy of what was written.
func (s *Buffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.b.Bytes()...)
}

// Stop ends auditd (it writes what it holds first) and waits until the
// audit pid is free.
func (a *Auditd) Stop(t *testing.T) {
	a.once.Do(func() {
		a.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { a.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			a.cmd.Process.Kill()
			<-done
			t.Errorf("auditd did not stop on SIGTERM within 5s")
		}
		for i := 0; i < 50 && Read(t).PID != "0"; i++ {
			time.Sleep(50 * time.Millisecond)
		}
	})
}

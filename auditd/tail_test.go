package auditd

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/t1610d/t1610d/internal/audittest"
)

// tailHarness is a log directory, a state directory and a minimal pipeline
// that records every exec emitted across the Tail runs on them.
type tailHarness struct {
	t     *testing.T
	dir   string
	path  string
	state string
	log   audittest.Buffer
	// timeout is the Assembler's Timeout (300ms when 0: quick tests).
	timeout time.Duration

	mu    sync.Mutex
	execs []*Exec
}

func newTailHarness(t *testing.T) *tailHarness {
	tmp := t.TempDir()
	h := &tailHarness{t: t, dir: filepath.Join(tmp, "log"), state: filepath.Join(tmp, "state")}
	h.path = filepath.Join(h.dir, "audit.log")
	if err := os.Mkdir(h.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return h
}

// tailRunning is one Run with its pipeline: emit collects a batch, Flush
// "writes" it and acks its safe, Acked reports that.
type tailRunning struct {
	h      *tailHarness
	tail   *Tail
	asm    *Assembler
	cancel context.CancelFunc
	done   chan error
	batch  []*Exec
	acked  int64
	at     int64 // size of the log when Run started
}

func (h *tailHarness) start(setup func(*Tail)) *tailRunning {
	h.t.Helper()
	r := &tailRunning{h: h, done: make(chan error, 1)}
	if st, err := os.Stat(h.path); err == nil {
		r.at = st.Size()
	}
	r.tail = &Tail{Path: h.path, StateDir: h.state, Interval: 100 * time.Millisecond,
		Poll: 20 * time.Millisecond, Log: zerolog.New(&h.log)}
	r.asm = NewAssembler(func(e *Exec) { r.batch = append(r.batch, e) })
	r.asm.Timeout = 300 * time.Millisecond
	if h.timeout > 0 {
		r.asm.Timeout = h.timeout
	}
	r.tail.Flush = func(safe int64) {
		h.mu.Lock()
		h.execs = append(h.execs, r.batch...)
		r.acked = safe
		h.mu.Unlock()
		r.batch = nil
	}
	r.tail.Acked = func() int64 {
		h.mu.Lock()
		defer h.mu.Unlock()
		return r.acked
	}
	if setup != nil {
		setup(r.tail)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- r.tail.Run(ctx, r.asm) }()
	// Started: the first checkpoint is written once Run knows where it begins.
	deadline := time.Now().Add(5 * time.Second)
	for r.tail.Stats().Checkpoints == 0 {
		select {
		case err := <-r.done:
			h.t.Fatalf("Run returned at start: %v\n%s", err, h.log.String())
		default:
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("Run wrote no checkpoint within 5s\n%s", h.log.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	return r
}

// stop cancels Run gracefully and, as the pipeline does at its very end,
// checkpoints at the final acked position.
func (r *tailRunning) stop() {
	t := r.h.t
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return within 5s of cancel")
	}
	r.h.mu.Lock()
	acked := r.acked
	r.h.mu.Unlock()
	if err := r.tail.Checkpoint(acked); err != nil {
		t.Fatalf("final Checkpoint(%d): %v", acked, err)
	}
	if m := r.asm.Stats().Malformed; m != 0 {
		t.Errorf("%d malformed lines pushed", m)
	}
}

func (h *tailHarness) serials() []uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	var s []uint64
	for _, e := range h.execs {
		s = append(s, e.Serial)
	}
	return s
}

func (h *tailHarness) exec(serial uint64) *Exec {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, e := range h.execs {
		if e.Serial == serial {
			return e
		}
	}
	return nil
}

// waitFor waits until every serial in want has been emitted.
func (h *tailHarness) waitFor(want ...uint64) {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := map[uint64]bool{}
		for _, s := range h.serials() {
			got[s] = true
		}
		missing := 0
		for _, w := range want {
			if !got[w] {
				missing++
			}
		}
		if missing == 0 {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("waited 10s for serials %v; emitted %v\n%s", want, h.serials(), h.log.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// exactly checks that the serials emitted are want, each once, in order.
func (h *tailHarness) exactly(want ...uint64) {
	h.t.Helper()
	got := h.serials()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		h.t.Errorf("emitted serials %v, want %v", got, want)
	}
}

func span64(from, to uint64) []uint64 {
	var s []uint64
	for i := from; i <= to; i++ {
		s = append(s, i)
	}
	return s
}

// tailEvent is execEvent as log lines with newlines.
func tailEvent(serial uint64) string {
	return strings.Join(execEvent(int(serial), 1000+int(serial), "/bin/echo", "event", strconv.FormatUint(serial, 10)), "\n") + "\n"
}

func tailEvents(from, to uint64) string {
	var b strings.Builder
	for s := from; s <= to; s++ {
		b.WriteString(tailEvent(s))
	}
	return b.String()
}

func appendFile(t *testing.T, name, text string) {
	t.Helper()
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func rename(t *testing.T, from, to string) {
	t.Helper()
	if err := os.Rename(from, to); err != nil {
		t.Fatal(err)
	}
}

func fileSize(t *testing.T, name string) int64 {
	t.Helper()
	st, err := os.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// waitRead waits until a Tail that started at the end of the log (or on
// an empty one) has read it up to offset end.
func (r *tailRunning) waitRead(end int64) {
	r.h.t.Helper()
	n := end - r.at
	deadline := time.Now().Add(5 * time.Second)
	for int64(r.tail.Stats().Bytes) < n {
		if time.Now().After(deadline) {
			r.h.t.Fatalf("Tail read %d bytes in 5s, want %d", r.tail.Stats().Bytes, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (h *tailHarness) readCheckpoint() checkpoint {
	h.t.Helper()
	b, err := os.ReadFile(filepath.Join(h.state, CheckpointFile))
	if err != nil {
		h.t.Fatal(err)
	}
	var ck checkpoint
	if err := json.Unmarshal(b, &ck); err != nil {
		h.t.Fatalf("checkpoint: %v\n%s", err, b)
	}
	return ck
}

func TestTailFirstStartAtEnd(t *testing.T) {
	h := newTailHarness(t)
	appendFile(t, h.path, tailEvents(1, 3))
	r := h.start(nil)
	appendFile(t, h.path, tailEvents(4, 5))
	h.waitFor(4, 5)
	r.stop()
	h.exactly(4, 5)
	st, err := os.Stat(filepath.Join(h.state, CheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o640 {
		t.Errorf("checkpoint mode %v, want 0640", st.Mode().Perm())
	}
	if st, err := os.Stat(h.state); err != nil || st.Mode().Perm() != 0o750 {
		t.Errorf("state dir: %v %v, want 0750", st.Mode().Perm(), err)
	}
}

func TestTailAppendRotateSplitEvent(t *testing.T) {
	for _, mode := range []string{"inotify", "polling"} {
		t.Run(mode, func(t *testing.T) {
			h := newTailHarness(t)
			appendFile(t, h.path, "")
			r := h.start(func(tl *Tail) { tl.noInotify = mode == "polling" })
			appendFile(t, h.path, tailEvents(1, 3))
			h.waitFor(1, 2, 3)
			// Event 4 is split across the rotation: its SYSCALL, BPRM_FCAPS
			// and EXECVE in the old file, CWD, PATH, PROCTITLE in the new.
			ev := execEvent(4, 1004, "/usr/bin/docker", "run", "--privileged", "alpine")
			appendFile(t, h.path, strings.Join(ev[:3], "\n")+"\n")
			r.waitRead(fileSize(t, h.path))
			rename(t, h.path, h.path+".1")
			appendFile(t, h.path, strings.Join(ev[3:], "\n")+"\n"+tailEvents(5, 6))
			h.waitFor(4, 5, 6)
			r.stop()
			h.exactly(1, 2, 3, 4, 5, 6)
			e := h.exec(4)
			if strings.Join(e.Argv, " ") != "/usr/bin/docker run --privileged alpine" || e.Cwd != "/tmp/work" || len(e.Warnings) > 0 {
				t.Errorf("event 4 across the rotation: argv %q cwd %q warnings %q", e.Argv, e.Cwd, e.Warnings)
			}
			st := r.tail.Stats()
			if st.Rotations != 1 || st.Truncations != 0 {
				t.Errorf("stats %+v, want 1 rotation", st)
			}
			if want := map[string]uint64{"inotify": 0, "polling": 1}[mode]; st.PollingFallbacks != want {
				t.Errorf("polling fallbacks %d, want %d", st.PollingFallbacks, want)
			}
		})
	}
}

func TestTailCopyTruncate(t *testing.T) {
	h := newTailHarness(t)
	appendFile(t, h.path, "")
	r := h.start(nil)
	appendFile(t, h.path, tailEvents(1, 5))
	h.waitFor(span64(1, 5)...)
	old, err := os.ReadFile(h.path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(h.path+".1", old, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(h.path, 0); err != nil {
		t.Fatal(err)
	}
	appendFile(t, h.path, tailEvents(6, 7))
	h.waitFor(6, 7)
	r.stop()
	h.exactly(span64(1, 7)...)
	if st := r.tail.Stats(); st.Truncations != 1 || st.Rotations != 0 {
		t.Errorf("stats %+v, want 1 truncation, no rotation", st)
	}
}

func TestTailDeleteRecreate(t *testing.T) {
	h := newTailHarness(t)
	appendFile(t, h.path, "")
	r := h.start(nil)
	appendFile(t, h.path, tailEvents(1, 3))
	h.waitFor(1, 2, 3)
	if err := os.Remove(h.path); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	appendFile(t, h.path, tailEvents(4, 6))
	h.waitFor(4, 5, 6)
	r.stop()
	h.exactly(span64(1, 6)...)
	if st := r.tail.Stats(); st.Rotations != 1 {
		t.Errorf("stats %+v, want 1 rotation", st)
	}
}

// TestTailPartialLine: a line without its newline waits for it, while
// running and across a graceful restart.
func TestTailPartialLine(t *testing.T) {
	h := newTailHarness(t)
	appendFile(t, h.path, "")
	r := h.start(nil)
	ev2 := tailEvent(2)
	appendFile(t, h.path, tailEvent(1)+ev2[:40])
	h.waitFor(1)
	r.waitRead(fileSize(t, h.path))
	time.Sleep(600 * time.Millisecond) // hold-back and Timeout would have let a half line through
	appendFile(t, h.path, ev2[40:])
	h.waitFor(2)
	ev3 := tailEvent(3)
	appendFile(t, h.path, ev3[:70])
	r.waitRead(fileSize(t, h.path))
	r.stop()
	h.exactly(1, 2)
	if ck := h.readCheckpoint(); ck.Offset != fileSize(t, h.path)-70 {
		t.Errorf("checkpoint at offset %d, want %d (the start of the partial line)", ck.Offset, fileSize(t, h.path)-70)
	}
	appendFile(t, h.path, ev3[70:])
	r = h.start(nil)
	h.waitFor(3)
	r.stop()
	h.exactly(1, 2, 3)
	for _, s := range []uint64{2, 3} {
		if e := h.exec(s); e == nil || e.Argv[2] != strconv.FormatUint(s, 10) || len(e.Warnings) > 0 {
			t.Errorf("event %d: %+v", s, e)
		}
	}
}

// TestTailResumeExactly: a graceful stop and restart deliver every event
// once, also one whose records were being written when Run stopped.
func TestTailResumeExactly(t *testing.T) {
	h := newTailHarness(t)
	appendFile(t, h.path, tailEvents(1, 2))
	never := func(tl *Tail) { tl.holdIdle = time.Hour } // only the event's end releases its lines
	r := h.start(never)
	appendFile(t, h.path, tailEvents(3, 10))
	h.waitFor(span64(3, 10)...)
	// Event 11 is being written when Run stops: its first three records.
	ev := execEvent(11, 1011, "/usr/bin/podman", "run", "--pid=host", "alpine")
	cut := fileSize(t, h.path)
	appendFile(t, h.path, strings.Join(ev[:3], "\n")+"\n")
	r.waitRead(fileSize(t, h.path))
	r.stop()
	h.exactly(span64(3, 10)...)
	ck := h.readCheckpoint()
	if ck.Offset != cut || ck.Path != h.path || ck.FingerprintLen != 1024 || len(ck.Fingerprint) != 64 || ck.Inode == 0 {
		t.Errorf("checkpoint %+v, want offset %d (before event 11)", ck, cut)
	}
	appendFile(t, h.path, strings.Join(ev[3:], "\n")+"\n"+tailEvents(12, 20))
	r = h.start(never)
	appendFile(t, h.path, tailEvents(21, 25))
	h.waitFor(span64(11, 25)...)
	r.stop()
	h.exactly(span64(3, 25)...)
	if e := h.exec(11); e == nil || e.Cwd != "/tmp/work" || strings.Join(e.Argv, " ") != "/usr/bin/podman run --pid=host alpine" {
		t.Errorf("event 11 split by the restart: %+v", e)
	}
	if ck := h.readCheckpoint(); ck.Offset != fileSize(t, h.path) {
		t.Errorf("final checkpoint at %d, want the end %d", ck.Offset, fileSize(t, h.path))
	}
}

// TestTailResumeRotated: the checkpointed file was rotated twice while the
// Tail was stopped.
func TestTailResumeRotated(t *testing.T) {
	h := newTailHarness(t)
	appendFile(t, h.path, "")
	r := h.start(nil)
	appendFile(t, h.path, tailEvents(1, 5))
	h.waitFor(span64(1, 5)...)
	r.stop()
	appendFile(t, h.path, tailEvents(6, 8))
	rename(t, h.path, h.path+".1")
	appendFile(t, h.path, tailEvents(9, 11))
	rename(t, h.path+".1", h.path+".2")
	rename(t, h.path, h.path+".1")
	appendFile(t, h.path, tailEvents(12, 14))
	r = h.start(nil)
	h.waitFor(span64(6, 14)...)
	appendFile(t, h.path, tailEvents(15, 15))
	h.waitFor(15)
	r.stop()
	h.exactly(span64(1, 15)...)
	if !strings.Contains(h.log.String(), "rotated") {
		t.Errorf("no word of the rotation in the log:\n%s", h.log.String())
	}
}

// TestTailResumeGone: the checkpointed file is gone; reading starts at the
// oldest newer file still present, with a warning.
func TestTailResumeGone(t *testing.T) {
	h := newTailHarness(t)
	appendFile(t, h.path, "")
	r := h.start(nil)
	appendFile(t, h.path, tailEvents(1, 3))
	h.waitFor(1, 2, 3)
	r.stop()
	appendFile(t, h.path, tailEvents(4, 5))
	rename(t, h.path, h.path+".1")
	appendFile(t, h.path, tailEvents(6, 7))
	rename(t, h.path+".1", h.path+".2")
	rename(t, h.path, h.path+".1")
	appendFile(t, h.path, tailEvents(8, 9))
	if err := os.Remove(h.path + ".2"); err != nil { // the checkpointed one, with 4 and 5
		t.Fatal(err)
	}
	r = h.start(nil)
	h.waitFor(6, 7, 8, 9)
	r.stop()
	h.exactly(1, 2, 3, 6, 7, 8, 9)
	if !strings.Contains(h.log.String(), "may be lost") || !strings.Contains(h.log.String(), `"level":"warn"`) {
		t.Errorf("no warning of the loss:\n%s", h.log.String())
	}
}

func TestTailCorruptCheckpoint(t *testing.T) {
	h := newTailHarness(t)
	if err := os.MkdirAll(h.state, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(h.state, CheckpointFile), []byte(`{"version":1,"dev":`), 0o640); err != nil {
		t.Fatal(err)
	}
	appendFile(t, h.path, tailEvents(1, 2))
	r := h.start(nil)
	appendFile(t, h.path, tailEvents(3, 3))
	h.waitFor(3)
	r.stop()
	h.exactly(3)
	if !strings.Contains(h.log.String(), "unusable checkpoint") {
		t.Errorf("no warning of the corrupt checkpoint:\n%s", h.log.String())
	}
}

// TestTailUnwritableStateDir: a state dir that cannot be made (under a
// regular file, so that also root cannot) is an error from Run, naming it.
func TestTailUnwritableStateDir(t *testing.T) {
	h := newTailHarness(t)
	file := filepath.Join(filepath.Dir(h.dir), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(file, "state")
	tl := &Tail{Path: h.path, StateDir: state}
	err := tl.Run(context.Background(), NewAssembler(func(*Exec) {}))
	if err == nil || !strings.Contains(err.Error(), state) {
		t.Fatalf("Run with state dir %s: %v, want an error naming it", state, err)
	}
	t.Log(err)
}

// --- live -------------------------------------------------------------------

// tailAuditctl runs auditctl and returns its output.
func tailAuditctl(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("auditctl", args...).CombinedOutput()
	if err != nil {
		t.Errorf("auditctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

var tailExecveRE = regexp.MustCompile(`^(?:node=\S+ )?type=EXECVE msg=audit\(\d+\.\d+:(\d+)\): argc=`)

// tailLoggedExecs reads every audit.log* in dir and returns the serials of
// the EXECVE events, and the number of rotated files.
func tailLoggedExecs(t *testing.T, dir string) (map[uint64]bool, int) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "audit.log*"))
	if err != nil {
		t.Fatal(err)
	}
	serials := map[uint64]bool{}
	rotated := 0
	for _, name := range files {
		if name != filepath.Join(dir, "audit.log") {
			rotated++
		}
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if m := tailExecveRE.FindSubmatch(sc.Bytes()); m != nil {
				n, _ := strconv.ParseUint(string(m[1]), 10, 64)
				serials[n] = true
			}
		}
		f.Close()
		if err := sc.Err(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	return serials, rotated
}

// TestTailLiveAuditd tails a real, private auditd that rotates its 1 MiB
// logs several times under a load of execs, with a graceful restart of the
// Tail in the middle, and checks every exec event in the logs against what
// the two runs emitted: each exactly once.
func TestTailLiveAuditd(t *testing.T) {
	audittest.Require(t, "bash")
	tmp := t.TempDir()
	ad := audittest.StartAuditd(t, tmp, "log_format = ENRICHED", "priority_boost = 4", "freq = 50",
		"num_logs = 10", "max_log_file = 1")
	var load []*exec.Cmd
	t.Cleanup(func() { // before auditd stops and Require puts the audit state back
		for _, c := range load {
			syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
			c.Wait()
		}
	})
	logPath := ad.LogPath()
	logDir := filepath.Dir(logPath)
	for i := 0; ; i++ {
		if _, err := os.Stat(logPath); err == nil {
			break
		}
		if i == 100 {
			t.Fatalf("auditd wrote no %s in 5s", logPath)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// The Tail starts before auditing does, so its first start (at the end
	// of the log) misses no exec.
	h := &tailHarness{t: t, dir: logDir, path: logPath, state: filepath.Join(tmp, "state"), timeout: DefaultTimeout}
	live := func(tl *Tail) { tl.Interval = 200 * time.Millisecond }
	r1 := h.start(live)

	tailAuditctl(t, "-b", "8192")
	audittest.LoadRules(t, "-a always,exit -F arch=b64 -S execve,execveat -k t1610_tail",
		"-a always,exit -F arch=b32 -S execve,execveat -k t1610_tail")

	arg := strings.Repeat("x", 200)
	for i := 0; i < 2; i++ {
		c := exec.Command("bash", "-c", `while :; do /bin/true t1610-tail-load "$1" "$2"; done`, "load", strconv.Itoa(i), arg)
		c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		load = append(load, c)
	}
	waitRotated := func(n int) {
		t.Helper()
		for i := 0; ; i++ {
			if _, err := os.Stat(fmt.Sprintf("%s.%d", logPath, n)); err == nil {
				return
			}
			if i == 1200 {
				t.Fatalf("auditd did not rotate %d times in 60s", n)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitRotated(2)
	r1.stop() // graceful, halfway: Run returns, the pipeline checkpoints its final ack
	run1 := len(h.serials())
	// auditd rotates once more while no Tail runs: the second resumes in
	// audit.log.1 (or further back).
	waitRotated(3)
	r2 := h.start(live)
	waitRotated(6)
	for _, c := range load {
		syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
		c.Wait()
	}
	load = nil
	tailAuditctl(t, "-e", "0")
	tailAuditctl(t, "-D")
	// Let auditd write what the kernel still holds: the logs stop growing.
	var last int64 = -1
	for stable := 0; stable < 10; {
		var size int64
		files, _ := filepath.Glob(logPath + "*")
		for _, f := range files {
			if st, err := os.Stat(f); err == nil {
				size += st.Size()
			}
		}
		if size == last {
			stable++
		} else {
			stable, last = 0, size
		}
		time.Sleep(100 * time.Millisecond)
	}
	logged, rotated := tailLoggedExecs(t, logDir)
	// Then the Tail catches up with them.
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := map[uint64]bool{}
		for _, s := range h.serials() {
			got[s] = true
		}
		n := 0
		for s := range logged {
			if got[s] {
				n++
			}
		}
		if n == len(logged) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	r2.stop()

	count := map[uint64]int{}
	for _, s := range h.serials() {
		count[s]++
	}
	var missing, dups, extra []uint64
	for s := range logged {
		if count[s] == 0 {
			missing = append(missing, s)
		}
	}
	for s, n := range count {
		if n > 1 {
			dups = append(dups, s)
		}
		if !logged[s] {
			extra = append(extra, s)
		}
	}
	sort.Slice(missing, func(i, j int) bool { return missing[i] < missing[j] })
	sort.Slice(dups, func(i, j int) bool { return dups[i] < dups[j] })
	s1, s2 := r1.tail.Stats(), r2.tail.Stats()
	t.Logf("rotated files %d; exec events logged %d; emitted %d (run 1: %d, run 2: %d); missing %d, duplicates %d, not in the logs %d",
		rotated, len(logged), len(h.serials()), run1, len(h.serials())-run1, len(missing), len(dups), len(extra))
	t.Logf("run 1: %+v\nrun 2: %+v\nassembler 2: %+v", s1, s2, r2.asm.Stats())
	if rotated < 3 {
		t.Errorf("auditd rotated %d times, want at least 3", rotated)
	}
	if rotated >= 9 {
		t.Errorf("auditd rotated %d times: num_logs = 10 may have dropped files, the check is incomplete", rotated)
	}
	if run1 == 0 || len(h.serials()) == run1 {
		t.Errorf("run 1 emitted %d, run 2 %d: both should have seen execs", run1, len(h.serials())-run1)
	}
	if len(missing) > 0 {
		t.Errorf("%d exec events in the logs never emitted, e.g. %v", len(missing), missing[:min(len(missing), 10)])
	}
	if len(dups) > 0 {
		t.Errorf("%d exec events emitted more than once, e.g. %v", len(dups), dups[:min(len(dups), 10)])
	}
	if len(extra) > 0 {
		t.Errorf("%d execs emitted that the logs do not hold as EXECVE events, e.g. %v", len(extra), extra[:min(len(extra), 10)])
	}
	if !strings.Contains(h.log.String(), "checkpointed log was rotated") {
		t.Errorf("the second Tail did not resume in a rotated file:\n%s", h.log.String())
	}
	if s1.Rotations+s2.Rotations == 0 {
		t.Errorf("the Tails saw no rotation while running")
	}
}

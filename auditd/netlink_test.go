//go:build linux

package auditd

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/t1610d/t1610d/internal/audittest"
)

// harness runs a Netlink in the background and collects its execs.
type harness struct {
	n       *Netlink
	cancel  context.CancelFunc
	done    chan error
	flushes atomic.Int64
	mu      sync.Mutex
	execs   []*Exec
	err     error
	stopped bool
}

func startNetlink(t *testing.T, n *Netlink) *harness {
	t.Helper()
	h := &harness{n: n, done: make(chan error, 1)}
	n.Log = zerolog.New(zerolog.NewTestWriter(t)).With().Timestamp().Logger()
	n.Flush = func() { h.flushes.Add(1) }
	if n.StatusEvery == 0 {
		n.StatusEvery = 500 * time.Millisecond
	}
	asm := NewAssembler(func(e *Exec) {
		h.mu.Lock()
		h.execs = append(h.execs, e)
		h.mu.Unlock()
	})
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.done <- n.Run(ctx, asm) }()
	t.Cleanup(func() { h.stop(t) })
	deadline := time.After(5 * time.Second)
	for n.ModeInUse() == "" {
		select {
		case err := <-h.done:
			h.stopped, h.err = true, err
			t.Fatalf("Run returned before receiving: %v", err)
		case <-deadline:
			t.Fatal("Run not receiving after 5s")
		case <-time.After(10 * time.Millisecond):
		}
	}
	return h
}

// stop cancels Run and returns its error.
func (h *harness) stop(t *testing.T) error {
	t.Helper()
	if h.stopped {
		return h.err
	}
	h.stopped = true
	h.cancel()
	select {
	case h.err = <-h.done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return within 5s of its context's end")
	}
	return h.err
}

// waitExec waits until an exec with argv want has been emitted.
func (h *harness) waitExec(t *testing.T, want []string, timeout time.Duration) *Exec {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		h.mu.Lock()
		for _, e := range h.execs {
			if slicesEqual(e.Argv, want) {
				h.mu.Unlock()
				return e
			}
		}
		h.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("no exec %q seen within %v (stats %+v)", want, timeout, h.n.Stats())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func slicesEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// marker executes /bin/true with a unique argument and returns its argv.
func marker(t *testing.T) []string {
	t.Helper()
	b := make([]byte, 6)
	rand.Read(b)
	argv := []string{"/bin/true", "t1610d-netlink-test-" + hex.EncodeToString(b)}
	if err := exec.Command(argv[0], argv[1:]...).Run(); err != nil {
		t.Fatal(err)
	}
	return argv
}

// auditdLogged waits until auditd's log holds the exec of serial with argv.
func auditdLogged(t *testing.T, a *audittest.Auditd, serial uint64, argv []string) {
	t.Helper()
	for i := 0; ; i++ {
		for _, e := range replayExecs(t, a.LogPath()) {
			if e.Serial == serial && slicesEqual(e.Argv, argv) {
				return
			}
		}
		if i == 50 {
			t.Fatalf("auditd's log has no exec %q with serial %d", argv, serial)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestNetlinkUnicast: with no auditd, Run owns the audit pid, installs the
// exec rules, sees a marker exec and a docker run --privileged from this
// test, and on exit removes its rules and gives the pid back.
func TestNetlinkUnicast(t *testing.T) {
	before := audittest.Require(t)
	n := &Netlink{Mode: ModeAuto, InstallRules: true}
	h := startNetlink(t, n)
	if got := n.ModeInUse(); got != ModeUnicast {
		t.Fatalf("mode %q with no audit daemon, want unicast", got)
	}
	during := audittest.Read(t)
	if during.PID != strconv.Itoa(os.Getpid()) {
		t.Errorf("audit pid %s while running, want ours (%d)", during.PID, os.Getpid())
	}
	if during.Enabled != "1" || during.BacklogLimit != "8192" {
		t.Errorf("while running: enabled %s backlog_limit %s, want 1 and 8192", during.Enabled, during.BacklogLimit)
	}
	if !strings.Contains(during.Rules, "-S execve,execveat -F key=t1610d") {
		t.Errorf("exec rules not installed:\n%s", during.Rules)
	}
	st := n.Stats()
	if st.RulesAdded != 2 || st.RcvBuf < DefaultRcvBuf {
		t.Errorf("stats %+v: want 2 rules added and an 8 MiB receive buffer", st)
	}

	m := marker(t)
	docker := []string{"docker", "run", "--privileged", "-v", "/:/host", "alpine"}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, docker[0], docker[1:]...)
	// No daemon may answer: the exec is what counts, never a container.
	cmd.Env = append(os.Environ(), "DOCKER_HOST=unix:///nonexistent/t1610d-test.sock")
	if _, err := exec.LookPath("docker"); err != nil {
		t.Skip("needs the docker CLI")
	}
	cmd.Run() // fails: no daemon
	// Status polls (every 500ms here) find the rules as added: none is
	// taken for lost and added again.
	time.Sleep(1200 * time.Millisecond)
	if st := n.Stats(); st.RulesAdded != 2 {
		t.Errorf("after the status polls %d rules are ours, want 2", st.RulesAdded)
	}

	for _, want := range [][]string{m, docker} {
		e := h.waitExec(t, want, 5*time.Second)
		if e.UID != 0 || e.EUID != 0 || !e.Success || e.Key != "t1610d" || e.Serial == 0 {
			t.Errorf("%q: uid %d euid %d success %v key %q serial %d", want, e.UID, e.EUID, e.Success, e.Key, e.Serial)
		}
		if e.Ppid != uint32(os.Getpid()) {
			t.Errorf("%q: ppid %d, want this test (%d)", want, e.Ppid, os.Getpid())
		}
	}
	if err := h.stop(t); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if h.flushes.Load() < 2 {
		t.Errorf("Flush called %d times", h.flushes.Load())
	}
	st = n.Stats()
	if st.Records == 0 || st.Malformed != 0 || st.Mode != "" {
		t.Errorf("stats after Run %+v", st)
	}
	t.Logf("stats %+v", st)
	if after := audittest.Read(t); after != before {
		t.Errorf("Run did not put the audit state back:\nbefore: %v\nafter:  %v", before, after)
	}
}

// TestNetlinkMulticast: beside a running auditd, mode auto picks multicast,
// leaves auditd's rules alone, and sees the exec auditd logs, same serial.
func TestNetlinkMulticast(t *testing.T) {
	audittest.Require(t)
	a := audittest.StartAuditd(t, t.TempDir())
	audittest.LoadRules(t, DefaultRules()...)
	rules := audittest.Read(t).Rules

	n := &Netlink{InstallRules: true}
	h := startNetlink(t, n)
	if got := n.ModeInUse(); got != ModeMulticast {
		t.Fatalf("mode %q beside auditd, want multicast", got)
	}
	if st := n.Stats(); st.RulesAdded != 0 {
		t.Errorf("added %d rules that auditd's rules already had", st.RulesAdded)
	}
	m := marker(t)
	e := h.waitExec(t, m, 5*time.Second)
	auditdLogged(t, a, e.Serial, m)
	if err := h.stop(t); err != nil {
		t.Fatalf("Run: %v", err)
	}
	after := audittest.Read(t)
	if after.Rules != rules || after.PID != strconv.Itoa(a.Pid()) {
		t.Errorf("Run changed auditd's state:\nrules before:\n%s\nafter: %v", rules, after)
	}
	a.Stop(t)
}

// TestNetlinkAuditdRestart: auditd stops and starts again while Run
// receives in multicast, and its rules are wiped as augenrules does (-D):
// Run adds its rules again and keeps receiving throughout.
func TestNetlinkAuditdRestart(t *testing.T) {
	before := audittest.Require(t)
	dir := t.TempDir()
	a := audittest.StartAuditd(t, dir)
	audittest.LoadRules(t, DefaultRules()...)
	n := &Netlink{Mode: ModeMulticast, InstallRules: true}
	h := startNetlink(t, n)
	h.waitExec(t, marker(t), 5*time.Second)

	a.Stop(t)
	if out, err := exec.Command("auditctl", "-D").CombinedOutput(); err != nil {
		t.Fatalf("auditctl -D: %v\n%s", err, out)
	}
	for i := 0; n.Stats().RulesAdded != 2; i++ {
		if i == 40 {
			t.Fatalf("rules not added again within 2s: %+v\n%s", n.Stats(), audittest.Read(t).Rules)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if st := audittest.Read(t); st.PID != "0" {
		t.Fatalf("auditd stopped but the audit pid is %s", st.PID)
	}
	h.waitExec(t, marker(t), 5*time.Second) // no daemon at all: multicast still gets it

	b := audittest.StartAuditd(t, dir)
	m := marker(t)
	e := h.waitExec(t, m, 5*time.Second)
	auditdLogged(t, b, e.Serial, m)
	if got := n.ModeInUse(); got != ModeMulticast {
		t.Errorf("mode %q after the restart", got)
	}
	if err := h.stop(t); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if rules := audittest.Read(t).Rules; rules != before.Rules {
		t.Errorf("the rules Run added again are still there:\n%s", rules)
	}
	b.Stop(t)
}

// TestNetlinkOverflow: a small receive buffer and a consumer that stalls
// make the kernel drop multicast records for Run (ENOBUFS); Run counts the
// overflow and goes on. auditd, beside it, loses nothing.
func TestNetlinkOverflow(t *testing.T) {
	audittest.Require(t)
	a := audittest.StartAuditd(t, t.TempDir())
	audittest.LoadRules(t, DefaultRules()...)
	n := &Netlink{Mode: ModeMulticast, RcvBuf: 4096}
	var stalled atomic.Bool
	resumed := make(chan struct{})
	h := &harness{n: n, done: make(chan error, 1)}
	n.Log = zerolog.New(zerolog.NewTestWriter(t))
	asm := NewAssembler(func(e *Exec) {
		if stalled.CompareAndSwap(false, true) {
			time.Sleep(time.Second) // the kernel keeps sending meanwhile
			close(resumed)
		}
		h.mu.Lock()
		h.execs = append(h.execs, e)
		h.mu.Unlock()
	})
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.done <- n.Run(ctx, asm) }()
	t.Cleanup(func() { h.stop(t) })
	for i := 0; n.ModeInUse() == ""; i++ {
		if i == 100 {
			t.Fatal("Run not receiving")
		}
		time.Sleep(20 * time.Millisecond)
	}
	lost0 := n.Stats().KernelLost
	for i := 0; i < 300; i++ {
		exec.Command("/bin/true", "t1610d-overflow").Run()
	}
	<-resumed // what was sent during the stall is lost to Run
	h.waitExec(t, marker(t), 5*time.Second)
	st := n.Stats()
	if st.Overflows == 0 || st.ReceiveErrors < st.Overflows {
		t.Errorf("no overflow counted: %+v", st)
	}
	if err := h.stop(t); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if st.KernelLost != lost0 {
		t.Errorf("the kernel lost %d records for auditd", st.KernelLost-lost0)
	}
	t.Logf("stats %+v", st)
	a.Stop(t)
}

// TestNetlinkUnicastPidTaken: unicast while auditd owns the audit pid
// fails at once with an error that names the owner, and disturbs nothing.
func TestNetlinkUnicastPidTaken(t *testing.T) {
	audittest.Require(t)
	a := audittest.StartAuditd(t, t.TempDir())
	before := audittest.Read(t)
	n := &Netlink{Mode: ModeUnicast, InstallRules: true, Log: zerolog.New(zerolog.NewTestWriter(t))}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	err := n.Run(ctx, NewAssembler(func(*Exec) {}))
	if err == nil {
		t.Fatal("Run in unicast beside auditd: no error")
	}
	t.Logf("error: %v", err)
	want := fmt.Sprintf("owned by process %d", a.Pid())
	if !strings.Contains(err.Error(), want) || !errors.Is(err, syscall.EEXIST) || time.Since(start) > 2*time.Second {
		t.Errorf("error %q after %v: want one naming %q, wrapping EEXIST, at once", err, time.Since(start), want)
	}
	if after := audittest.Read(t); after != before {
		t.Errorf("a failed Run changed the audit state:\nbefore: %v\nafter:  %v", before, after)
	}
	a.Stop(t)
}

// TestNetlinkNotPermitted runs TestNetlinkHelperNoCaps in a child without
// CAP_AUDIT_READ, CAP_AUDIT_CONTROL and CAP_NET_ADMIN: every mode fails
// with an error that names the capability it needs.
func TestNetlinkNotPermitted(t *testing.T) {
	before := audittest.Require(t, "setpriv")
	cmd := exec.Command("setpriv", "--bounding-set=-audit_read,-audit_control,-net_admin", "--inh-caps=-all",
		os.Args[0], "-test.run=^TestNetlinkHelperNoCaps$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "T1610D_NETLINK_NOCAPS=1")
	out, err := cmd.CombinedOutput()
	t.Logf("child:\n%s", out)
	if err != nil {
		t.Fatalf("child: %v", err)
	}
	for _, want := range []string{
		"multicast: perm=true netlink audit socket (multicast): operation not permitted (needs CAP_AUDIT_READ for multicast)\n",
		"unicast: perm=true netlink audit status: operation not permitted (needs CAP_AUDIT_CONTROL for unicast)\n",
		"auto: perm=true netlink audit socket: operation not permitted (needs CAP_AUDIT_READ for multicast, CAP_AUDIT_CONTROL for unicast)\n",
	} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("child output lacks %q", want)
		}
	}
	if after := audittest.Read(t); after != before {
		t.Errorf("audit state changed:\nbefore: %v\nafter:  %v", before, after)
	}
}

// TestNetlinkHelperNoCaps is TestNetlinkNotPermitted's child.
func TestNetlinkHelperNoCaps(t *testing.T) {
	if os.Getenv("T1610D_NETLINK_NOCAPS") != "1" {
		t.Skip("run by TestNetlinkNotPermitted")
	}
	for _, mode := range []string{ModeMulticast, ModeUnicast, ModeAuto} {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		n := &Netlink{Mode: mode, InstallRules: true}
		err := n.Run(ctx, NewAssembler(func(*Exec) {}))
		cancel()
		if err == nil {
			t.Errorf("%s: Run without capabilities returned nil", mode)
			continue
		}
		fmt.Printf("%s: perm=%v %v\n", mode, errors.Is(err, os.ErrPermission), err)
	}
}

// TestNetlinkConfigErrors: a bad mode or rule fails before any socket.
func TestNetlinkConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		n    *Netlink
		want string
	}{
		{&Netlink{Mode: "broadcast"}, `netlink audit: unknown mode "broadcast"`},
		{&Netlink{InstallRules: true, Rules: []string{"-a always,exit -S nosuchcall"}}, `netlink audit rule "-a always,exit -S nosuchcall"`},
		{&Netlink{InstallRules: true, Rules: []string{"-D"}}, `netlink audit rule "-D"`},
	} {
		err := tc.n.Run(context.Background(), NewAssembler(func(*Exec) {}))
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want %q", tc.n.Rules, err, tc.want)
		}
	}
}

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/t1610d/t1610d/auditd"
	"github.com/t1610d/t1610d/internal/audittest"
)

// liveAlert is what the live tests check of an alert.
type liveAlert struct{ record }

// ensureUser creates a local user with uid, as the capture script does.
func ensureUser(t *testing.T, name string, uid int) {
	t.Helper()
	if u, err := user.LookupId(fmt.Sprint(uid)); err == nil && u.Username == name {
		return
	}
	if out, err := exec.Command("useradd", "-u", fmt.Sprint(uid), "-M", "-s", "/bin/bash", name).CombinedOutput(); err != nil {
		t.Skipf("useradd %s: %v %s", name, err, out)
	}
}

// launches runs container CLIs as alice would after logging in and becoming
// root: loginuid 1003, then sudo docker, kubectl, and a podman stand-in.
func launches(t *testing.T, marker string) {
	t.Helper()
	bin := t.TempDir()
	if err := exec.Command("cp", "/bin/true", filepath.Join(bin, "podman")).Run(); err != nil {
		t.Fatal(err)
	}
	script := strings.Join([]string{
		"echo 1003 > /proc/self/loginuid",
		"/bin/true " + marker,
		"sudo docker run --privileged -v /:/host alpine true",
		"kubectl --kubeconfig /dev/null --server https://127.0.0.1:1 run pwn --image=alpine --privileged --restart=Never",
		"podman run --pid=host alpine true",
		"/bin/true " + marker + "-end",
	}, "\n")
	cmd := exec.Command("bash", "-c", script)
	cmd.Env = append(os.Environ(), "PATH="+os.Getenv("PATH")+":"+bin, "DOCKER_HOST=unix:///nonexistent.sock")
	cmd.Run() // the CLIs fail (no engine, no cluster): their execs are what counts
}

// daemon runs `t1610d run` as a process with cfg and returns its output
// once it has seen the end marker and been stopped with SIGTERM.
func runLiveDaemon(t *testing.T, bin, cfg, marker string, during func()) ([]liveAlert, string) {
	t.Helper()
	d := startDaemon(t, bin, cfg)
	cmd, stdout, stderr := d.cmd, d.stdout, d.stderr
	// Until the daemon receives, execs go unseen: send probes until one shows.
	waitFor(t, func() bool {
		exec.Command("/bin/true", marker+"-probe").Run()
		return bytes.Contains(stdout.Bytes(), []byte(marker+"-probe"))
	}, "the daemon to receive exec events: "+stderr.String())
	during()
	waitFor(t, func() bool { return bytes.Contains(stdout.Bytes(), []byte(marker+"-end")) }, "the end marker")
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("t1610d run: %v\n%s", err, stderr.String())
	}
	var alerts []liveAlert
	sc := bufio.NewScanner(bytes.NewReader(stdout.Bytes()))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var a liveAlert
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			t.Fatalf("not JSON: %s", sc.Text())
		}
		alerts = append(alerts, a)
	}
	return alerts, stderr.String()
}

func checkLaunches(t *testing.T, recs []liveAlert) map[string]liveAlert {
	t.Helper()
	got := map[string]liveAlert{}
	for _, r := range recs {
		if r.RiskScore > 0 {
			got[r.Runtime] = r
		}
	}
	d, ok := got["docker"]
	if !ok {
		t.Fatalf("no docker alert in %d records", len(recs))
	}
	if d.SuspiciousFlags != "[PRIVILEGED] [HOST_MOUNT]" || d.InitiatingProcessFileName != "sudo" ||
		d.LoginAccountName != "alice" || d.AccountName != "root" || d.Process.Auid != 1003 || d.ContainerImage != "alpine" {
		t.Errorf("sudo docker run: %s, parent %q, login %q, account %q, auid %d, image %q", d.SuspiciousFlags,
			d.InitiatingProcessFileName, d.LoginAccountName, d.AccountName, d.Process.Auid, d.ContainerImage)
	}
	if !strings.HasPrefix(d.InitiatingProcessCommandLine, "sudo docker run --privileged") {
		t.Errorf("parent command line %q", d.InitiatingProcessCommandLine)
	}
	if k := got["kubectl"]; k.SuspiciousFlags != "[PRIVILEGED]" || k.LoginAccountName != "alice" {
		t.Errorf("kubectl run --privileged: %+v", k.record)
	}
	if p := got["podman"]; p.SuspiciousFlags != "[HOST_PID]" {
		t.Errorf("podman run --pid=host: %+v", p.record)
	}
	return got
}

func liveCfg(t *testing.T, mode string) string {
	return writeConfig(t, fmt.Sprintf("[source]\nkind = \"netlink\"\nnetlink_mode = %q\nstate_dir = %q\n[[output]]\ntype = \"stdout\"\nevents = \"all\"\n", mode, t.TempDir()))
}

// TestLiveUnicast: no auditd; t1610d owns the audit pid, installs its rules,
// and alerts on real execs with their parent and users; on exit the audit
// state is as before (audittest checks).
func TestLiveUnicast(t *testing.T) {
	audittest.Require(t, "sudo", "docker", "kubectl", "useradd")
	ensureUser(t, "alice", 1003)
	bin := buildBinary(t)
	marker := fmt.Sprintf("t1610d-live-%d", time.Now().UnixNano())
	recs, log := runLiveDaemon(t, bin, liveCfg(t, "unicast"), marker, func() { launches(t, marker) })
	checkLaunches(t, recs)
	if !strings.Contains(log, "unicast") {
		t.Errorf("the daemon's log does not say unicast:\n%s", log)
	}
	if st := audittest.Read(t); st.PID != "0" {
		t.Errorf("audit pid %s after exit", st.PID)
	}
}

// TestLiveMulticast: beside a running auditd, t1610d listens on multicast
// (kind auto), alerts the same, and auditd still logs the same events.
func TestLiveMulticast(t *testing.T) {
	audittest.Require(t, "sudo", "docker", "kubectl", "useradd")
	ensureUser(t, "alice", 1003)
	bin := buildBinary(t)
	ad := audittest.StartAuditd(t, t.TempDir())
	audittest.LoadRules(t, auditRules...)
	marker := fmt.Sprintf("t1610d-live-%d", time.Now().UnixNano())
	recs, log := runLiveDaemon(t, bin, liveCfg(t, "auto"), marker, func() { launches(t, marker) })
	got := checkLaunches(t, recs)
	if !strings.Contains(log, "multicast") {
		t.Errorf("the daemon's log does not say multicast:\n%s", log)
	}
	// auditd logged the same exec events.
	var logged []*auditd.Exec
	for i := 0; i < 50; i++ {
		logged = logged[:0]
		asm := auditd.NewAssembler(func(e *auditd.Exec) { logged = append(logged, e) })
		(&auditd.Replay{Paths: []string{ad.LogPath()}}).Run(context.Background(), asm)
		if hasSerial(logged, got["docker"].Audit.Sequence) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, rt := range []string{"docker", "kubectl", "podman"} {
		if !hasSerial(logged, got[rt].Audit.Sequence) {
			t.Errorf("auditd's log lacks the %s exec (serial %d) t1610d saw", rt, got[rt].Audit.Sequence)
		}
	}
}

func hasSerial(execs []*auditd.Exec, serial uint64) bool {
	for _, e := range execs {
		if e.Serial == serial {
			return true
		}
	}
	return false
}

// TestRunUnwritableStateDir: a state_dir that cannot be created is a clear
// error at start, naming it.
func TestRunUnwritableStateDir(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	os.WriteFile(file, nil, 0o644)
	logf := filepath.Join(dir, "audit.log")
	os.WriteFile(logf, nil, 0o644)
	cfg := writeConfig(t, fmt.Sprintf("[source]\nkind = \"tail\"\ntail_path = %q\nstate_dir = %q\n", logf, filepath.Join(file, "state")))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, stderr, code := runCmdCtx(ctx, "run", "--config", cfg)
	if code != 1 || !strings.Contains(stderr, filepath.Join(file, "state")) {
		t.Errorf("exit %d, stderr %q: want 1 and the state dir named", code, stderr)
	}
}

func runCmdCtx(ctx context.Context, args ...string) (string, string, int) {
	var stdout, stderr bytes.Buffer
	err := run(ctx, args, strings.NewReader(""), &stdout, &stderr)
	code := exitCode(err, &stderr)
	return stdout.String(), stderr.String(), code
}

// TestRunAutoFallsBackToTail: without the audit capabilities netlink is
// not permitted; kind = auto says so and tails the log instead.
func TestRunAutoFallsBackToTail(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to drop capabilities with setpriv")
	}
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Skip("needs setpriv (util-linux)")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	logf := filepath.Join(dir, "audit.log")
	os.WriteFile(logf, nil, 0o644)
	cfg := writeConfig(t, fmt.Sprintf("[source]\nkind = \"auto\"\ntail_path = %q\nstate_dir = %q\n", logf, filepath.Join(dir, "state")))
	cmd := exec.Command("setpriv", "--bounding-set", "-audit_read,-audit_control,-audit_write", "--inh-caps", "-all", bin, "run", "--config", cfg)
	var stdout, stderr lockedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	waitFor(t, func() bool { return strings.Contains(stderr.String(), "tailing the audit log instead") }, "the fallback: "+stderr.String())
	if !strings.Contains(stderr.String(), "not permitted") {
		t.Errorf("the log does not say why netlink failed:\n%s", stderr.String())
	}
	time.Sleep(300 * time.Millisecond) // the tail starts at the end of the log
	f, _ := os.OpenFile(logf, os.O_APPEND|os.O_WRONLY, 0)
	f.Write(sampleLog(t))
	f.Close()
	want, _, _ := replay(t, "../../testdata/sample")
	waitFor(t, func() bool { return len(serials(t, stdout.Bytes())) >= len(want) }, "the alerts from the tailed log")
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit: %v\n%s", err, stderr.String())
	}
	if got := serials(t, stdout.Bytes()); len(got) != len(want) {
		t.Errorf("%d alerts from the tail, replay has %d", len(got), len(want))
	}
}

// TestLiveTailRotationRestart: auditd rotates its log several times under
// load (max_log_file = 1) while `t1610d run` tails it; t1610d is restarted
// gracefully in the middle. Every exec event of the load is emitted exactly
// once, checked by serial against auditd's own files.
func TestLiveTailRotationRestart(t *testing.T) {
	audittest.Require(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	ad := audittest.StartAuditd(t, filepath.Join(dir, "auditd"), "log_format = ENRICHED", "max_log_file = 1", "num_logs = 20", "freq = 50")
	audittest.LoadRules(t, auditRules...)
	state := filepath.Join(dir, "state")
	daemon := func(out string) (*exec.Cmd, *lockedBuffer) {
		cfg := writeConfig(t, fmt.Sprintf("[source]\nkind = \"tail\"\ntail_path = %q\nstate_dir = %q\n[[output]]\ntype = \"file\"\npath = %q\nevents = \"all\"\n",
			ad.LogPath(), state, out))
		d := startDaemon(t, bin, cfg)
		waitFor(t, func() bool { return strings.Contains(d.stderr.String(), "t1610d running") }, "the daemon to start")
		time.Sleep(300 * time.Millisecond)
		return d.cmd, d.stderr
	}
	stop := func(cmd *exec.Cmd, stderr *lockedBuffer) {
		cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			t.Fatalf("t1610d run: %v\n%s", err, stderr.String())
		}
	}
	marker := fmt.Sprintf("t1610d-rot-%d", time.Now().UnixNano())
	pad := strings.Repeat("x", 300)
	out1, out2 := filepath.Join(dir, "out1.json"), filepath.Join(dir, "out2.json")
	a, aerr := daemon(out1)
	load := exec.Command("bash", "-c", fmt.Sprintf(`end=$((SECONDS+5)); for w in 1 2; do (while ((SECONDS < end)); do /bin/true %s %s; done) & done; wait`, marker, pad))
	if err := load.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2500 * time.Millisecond)
	stop(a, aerr)
	b, berr := daemon(out2)
	load.Wait()
	time.Sleep(2500 * time.Millisecond) // auditd writes, the tail reads, the last events complete
	stop(b, berr)
	ad.Stop(t)

	logs, _ := filepath.Glob(ad.LogPath() + "*")
	if len(logs) < 4 {
		t.Errorf("auditd rotated only %d times", len(logs)-1)
	}
	auditdRun := map[uint64]bool{}
	asm := auditd.NewAssembler(func(e *auditd.Exec) {
		if len(e.Argv) > 1 && e.Argv[1] == marker {
			auditdRun[e.Serial] = true
		}
	})
	auditd.SortRotated(logs)
	(&auditd.Replay{Paths: logs}).Run(context.Background(), asm)
	seen := map[uint64]int{}
	for _, out := range []string{out1, out2} {
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var r record
			json.Unmarshal(sc.Bytes(), &r)
			if strings.HasPrefix(r.ProcessCommandLine, "/bin/true "+marker) {
				seen[r.Audit.Sequence]++
			}
		}
	}
	missing, dup := 0, 0
	for s := range auditdRun {
		switch seen[s] {
		case 0:
			missing++
		case 1:
		default:
			dup++
		}
	}
	for s := range seen {
		if !auditdRun[s] {
			t.Errorf("serial %d emitted but not in auditd's logs", s)
		}
	}
	t.Logf("%d rotated files, %d load execs in auditd's logs, %d emitted, %d missing, %d twice", len(logs), len(auditdRun), len(seen), missing, dup)
	if len(auditdRun) < 1000 || missing != 0 || dup != 0 {
		t.Errorf("%d load execs logged: %d missing, %d emitted twice", len(auditdRun), missing, dup)
	}
}

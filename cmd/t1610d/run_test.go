package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/t1610d/t1610d/internal/audittest"
)

// serials returns the sorted audit serials of JSON records.
func serials(t *testing.T, out []byte) []uint64 {
	t.Helper()
	var s []uint64
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var r record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("not JSON: %v: %s", err, sc.Text())
		}
		s = append(s, r.Audit.Sequence)
	}
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s
}

func sampleLog(t *testing.T) []byte {
	t.Helper()
	var all []byte
	for _, f := range []string{"audit.log.1", "audit.log"} {
		b, err := os.ReadFile(filepath.Join("../../testdata/sample", f))
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}

// TestRunStdinPlugin: run as an auditd plugin (kind = "stdin"), fed a real
// log, delivers every alert replay finds and exits 0 at the end of input.
func TestRunStdinPlugin(t *testing.T) {
	cfg := writeConfig(t, "[source]\nkind = \"stdin\"\n[[output]]\ntype = \"stdout\"\nevents = \"alerts\"\n")
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"run", "--config", cfg}, bytes.NewReader(sampleLog(t)), &stdout, &stderr)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	want, _, _ := replay(t, "../../testdata/sample")
	got := serials(t, stdout.Bytes())
	if len(got) != len(want) || len(got) == 0 {
		t.Fatalf("plugin mode: %d alerts %v; replay: %d", len(got), got, len(want))
	}
	if !strings.Contains(stderr.String(), `"message":"t1610d stopped"`) {
		t.Errorf("no stop message in the daemon's log:\n%s", stderr.String())
	}
}

// buildBinary builds t1610d for the tests that run it as a process.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "t1610d")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestRunReloadAndSignals runs the daemon as a process in plugin mode: half
// of a log, a SIGHUP that adds a file output and an allow rule, the other
// half; then metrics, then SIGTERM: it drains and exits 0 within 5 s, and
// no alert is lost across the reload.
func TestRunReloadAndSignals(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	listen := freePort(t)
	cfgPath := filepath.Join(dir, "t1610d.toml")
	base := "[source]\nkind = \"stdin\"\n[metrics]\nlisten = \"" + listen + "\"\n[[output]]\ntype = \"stdout\"\n"
	if err := os.WriteFile(cfgPath, []byte(base), 0o600); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, bin, cfgPath)
	cmd, stdin, stdout, stderr := d.cmd, d.stdin, d.stdout, d.stderr
	log := sampleLog(t)
	half := bytes.LastIndex(log[:len(log)/2], []byte("\n")) + 1
	stdin.Write(log[:half])
	waitFor(t, func() bool { return bytes.Count(stdout.Bytes(), []byte("\n")) >= 2 }, "first alerts")

	file := filepath.Join(dir, "out", "alerts.json")
	reloaded := base + "[[output]]\ntype = \"file\"\npath = \"" + file + "\"\nevents = \"container\"\n"
	os.WriteFile(cfgPath, []byte(reloaded), 0o600)
	cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, func() bool { return strings.Contains(stderr.String(), `"message":"reloaded"`) }, "reload")
	stdin.Write(log[half:])
	waitFor(t, func() bool {
		b, _ := os.ReadFile(file)
		return len(b) > 0
	}, "the file output after the reload")
	time.Sleep(500 * time.Millisecond) // the last events complete by the wall clock

	resp, err := http.Get("http://" + listen + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, m := range []string{"t1610d_execs_total", `t1610d_alerts_total{category="PRIVILEGED"}`, "t1610d_output_queue_depth", "t1610d_malformed_lines_total 0"} {
		if !bytes.Contains(metrics, []byte(m)) {
			t.Errorf("/metrics lacks %s", m)
		}
	}
	if resp, err := http.Get("http://" + listen + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Errorf("/healthz: %v %v", resp, err)
	}

	start := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, stderr.String())
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("SIGTERM to exit took %v", d)
	}
	want, _, _ := replay(t, "../../testdata/sample")
	if got := serials(t, stdout.Bytes()); len(got) != len(want) {
		t.Errorf("stdout across the reload: %d alerts, replay has %d", len(got), len(want))
	}
	b, _ := os.ReadFile(file)
	st, _ := os.Stat(file)
	if len(serials(t, b)) == 0 || st.Mode().Perm() != 0o640 {
		t.Errorf("file output: %d records, mode %v", len(serials(t, b)), st.Mode())
	}
	if strings.Contains(stderr.String(), "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY") || strings.Contains(string(b), "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY") {
		t.Error("a secret reached the log or the file")
	}
}

// lockedBuffer is the buffer a process writes to while the test reads.
type lockedBuffer = audittest.Buffer

// daemonProc is `t1610d run` as a process of the test's; it is killed when
// the test ends, if it has not exited.
type daemonProc struct {
	cmd            *exec.Cmd
	stdin          io.WriteCloser
	stdout, stderr *lockedBuffer
}

// startDaemon starts `bin run --config cfg` with env added to the test's.
func startDaemon(t *testing.T, bin, cfg string, env ...string) *daemonProc {
	t.Helper()
	cmd := exec.Command(bin, "run", "--config", cfg)
	cmd.Env = append(os.Environ(), env...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	d := &daemonProc{cmd: cmd, stdin: stdin, stdout: &lockedBuffer{}, stderr: &lockedBuffer{}}
	cmd.Stdout, cmd.Stderr = d.stdout, d.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	return d
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRules(t *testing.T) {
	out, _, code := runCmd("rules")
	if code != 0 || !strings.Contains(out, "-a always,exit -F arch=b64 -S execve,execveat -k t1610d\n") ||
		!strings.Contains(out, "-a always,exit -F arch=b32 -S execve,execveat -k t1610d\n") {
		t.Errorf("rules: %d %q", code, out)
	}
}

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/t1610d/t1610d/output"
)

// record is a native alert as the tests decode it.
type record struct{ output.Native }

func (r record) categories() string {
	var c []string
	for _, f := range r.Flags {
		c = append(c, f.Category)
	}
	sort.Strings(c)
	return strings.Join(c, ",")
}

// replay runs `t1610d replay ARGS` in-process and decodes its output.
func replay(t *testing.T, args ...string) ([]record, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), append([]string{"replay"}, args...), strings.NewReader(""), &stdout, &stderr)
	if err != nil {
		t.Fatalf("replay %q: %v\n%s", args, err, stderr.String())
	}
	var recs []record
	sc := bufio.NewScanner(bytes.NewReader(stdout.Bytes()))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var r record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("replay %q wrote a line that is not JSON: %v\n%s", args, err, sc.Text())
		}
		recs = append(recs, r)
	}
	return recs, stdout.String(), stderr.String()
}

// scenario is one line of a labelled set's scenarios.tsv.
type scenario struct {
	id, label, flags, cmd string
}

// labelledSet reads a scenario set: scenarios.tsv, images.tsv, secrets.txt.
func labelledSet(t *testing.T, dir string) (map[string]scenario, map[string]string, []string) {
	t.Helper()
	sc := map[string]scenario{}
	for _, line := range readLines(t, filepath.Join(dir, "scenarios.tsv")) {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.SplitN(line, "\t", 5)
		flags := ""
		if f[2] != "-" {
			parts := strings.Split(f[2], ",")
			sort.Strings(parts)
			flags = strings.Join(parts, ",")
		}
		sc[f[0]] = scenario{f[0], f[1], flags, f[4]}
	}
	images := map[string]string{}
	for _, line := range readLines(t, filepath.Join(dir, "images.tsv")) {
		if id, img, ok := strings.Cut(line, "\t"); ok {
			images[id] = img
		}
	}
	var secrets []string
	if _, err := os.Stat(filepath.Join(dir, "secrets.txt")); err == nil {
		for _, s := range readLines(t, filepath.Join(dir, "secrets.txt")) {
			if s != "" {
				secrets = append(secrets, s)
			}
		}
	}
	return sc, images, secrets
}

func readLines(t *testing.T, name string) []string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimRight(string(b), "\n"), "\n")
}

var markerRE = regexp.MustCompile(`msg=audit\(\d+\.\d+:(\d+)\):.*a1="t1610-scenario:([^"]+)"`)

// markers returns the serial of each scenario's marker exec, in order.
func markers(t *testing.T, logs ...string) []struct {
	serial uint64
	id     string
} {
	var out []struct {
		serial uint64
		id     string
	}
	for _, lg := range logs {
		for _, line := range readLines(t, lg) {
			if m := markerRE.FindStringSubmatch(line); m != nil && strings.Contains(line, "type=EXECVE") {
				n, _ := strconv.ParseUint(m[1], 10, 64)
				out = append(out, struct {
					serial uint64
					id     string
				}{n, m[2]})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].serial < out[j].serial })
	return out
}

// byScenario assigns each record to the scenario whose marker precedes it.
func byScenario(t *testing.T, recs []record, logs ...string) map[string][]record {
	ms := markers(t, logs...)
	out := map[string][]record{}
	for _, r := range recs {
		owner := ""
		for _, m := range ms {
			if m.serial <= r.Audit.Sequence {
				owner = m.id
			}
		}
		if owner != "" {
			out[owner] = append(out[owner], r)
		}
	}
	return out
}

// layOut copies a set's manifests to the directory its commands ran in, as
// the capture did, so that replay finds them where the log says.
func layOut(t *testing.T, setDir, workDir string) {
	t.Helper()
	src := filepath.Join(setDir, "manifests")
	entries, err := os.ReadDir(src)
	if os.IsNotExist(err) {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(workDir, 0o755); err != nil {
		t.Skipf("cannot lay out manifests at %s: %v", workDir, err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(workDir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// checkSet replays logs of a labelled set and checks every scenario: an
// attack alerts once with exactly its categories and its image, a benign or
// context command never alerts, and no secret is printed.
func checkSet(t *testing.T, setDir string, logs ...string) {
	sc, images, secrets := labelledSet(t, setDir)
	alerts, outA, _ := replay(t, logs...)
	cont, outC, _ := replay(t, append([]string{"--events", "container"}, logs...)...)
	A := byScenario(t, alerts, logs...)
	C := byScenario(t, cont, logs...)
	ids := make([]string, 0, len(sc))
	for id := range sc {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		s := sc[id]
		al := A[id]
		switch s.label {
		case "attack":
			if len(al) != 1 {
				t.Errorf("%s %q: %d alerts, want 1", id, s.cmd, len(al))
				continue
			}
			if got := al[0].categories(); got != s.flags {
				t.Errorf("%s %q: categories %s, want %s", id, s.cmd, got, s.flags)
			}
		default:
			if len(al) != 0 {
				t.Errorf("%s (%s) %q: alerted %s", id, s.label, s.cmd, al[0].SuspiciousFlags)
			}
		}
		if want, ok := images[id]; ok {
			found := false
			for _, r := range C[id] {
				found = found || r.ContainerImage == want
			}
			if !found {
				t.Errorf("%s: no record with image %q", id, want)
			}
		}
	}
	for _, s := range secrets {
		if strings.Contains(outA, s) || strings.Contains(outC, s) {
			t.Errorf("secret %.8s... printed", s)
		}
	}
}

func TestReplayVisibleCorpus(t *testing.T) {
	layOut(t, "../../testdata/visible", "/tmp/t1610-visible")
	for _, log := range []string{"audit-enriched.log", "audit-raw-node.log"} {
		t.Run(log, func(t *testing.T) {
			checkSet(t, "../../testdata/visible", filepath.Join("../../testdata/visible", log))
		})
	}
}

func TestReplaySample(t *testing.T) {
	dir := "../../testdata/sample"
	checkSet(t, dir, filepath.Join(dir, "audit.log.1"), filepath.Join(dir, "audit.log"))
	// The folder itself, as the README's quick start replays it: the same
	// alerts, the label files beside the logs not read.
	a, _, stderr := replay(t, dir)
	b, _, _ := replay(t, filepath.Join(dir, "audit.log.1"), filepath.Join(dir, "audit.log"))
	if len(a) != len(b) || len(a) == 0 {
		t.Errorf("folder replay: %d alerts, files replay: %d", len(a), len(b))
	}
	if !strings.Contains(stderr, " 0 malformed lines skipped") {
		t.Errorf("summary: %s", stderr)
	}
}

func TestReplayFields(t *testing.T) {
	recs, _, _ := replay(t, "../../testdata/visible/audit-enriched.log")
	var sudo *record
	for i, r := range recs {
		if r.InitiatingProcessFileName == "sudo" {
			sudo = &recs[i]
		}
	}
	if sudo == nil {
		t.Fatal("no alert with sudo as its parent (v17)")
	}
	type fields struct {
		Account, Login, File, Parent, ParentAccount, Image, Flags string
		Score                                                     int
		Technique, Runtime                                        string
	}
	got := fields{sudo.AccountName, sudo.LoginAccountName, sudo.FileName, sudo.InitiatingProcessFileName,
		sudo.InitiatingProcessAccountName, sudo.ContainerImage, sudo.SuspiciousFlags, sudo.RiskScore, sudo.Technique, sudo.Runtime}
	want := fields{"root", "alice", "docker", "sudo", "root", "alpine:3.19", "[PRIVILEGED] [HOST_MOUNT]", 80, "T1610", "docker"}
	if got != want {
		t.Errorf("sudo alert\n got %+v\nwant %+v", got, want)
	}
	if !strings.HasPrefix(sudo.InitiatingProcessCommandLine, "sudo docker run --privileged") {
		t.Errorf("parent command line = %q", sudo.InitiatingProcessCommandLine)
	}
	if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`).MatchString(sudo.TimeGenerated) {
		t.Errorf("TimeGenerated = %q", sudo.TimeGenerated)
	}
	raw, _, _ := replay(t, "../../testdata/visible/audit-raw-node.log")
	for _, r := range raw {
		if r.DeviceName != "vm" || r.Audit.Node != "vm" {
			t.Errorf("RAW node= log: DeviceName %q, Audit.Node %q; want vm", r.DeviceName, r.Audit.Node)
			break
		}
	}
}

// TestReplayDamagedLog replays testdata/bad (see its README): every damaged
// line is counted, nothing panics, and the intact attacks around the damage
// still alert.
func TestReplayDamagedLog(t *testing.T) {
	recs, out, stderr := replay(t, "../../testdata/bad/audit.log")
	got := map[uint64][]string{}
	for _, r := range recs {
		got[r.Audit.Sequence] = append(got[r.Audit.Sequence], r.categories())
	}
	want := map[uint64][]string{
		3996: {"HOST_MOUNT,PRIVILEGED"},
		4150: {"HOST_NET,HOST_PID"},
		4476: {"ENV_SECRET,HOST_IPC"},
		4494: {"HOST_MOUNT", "PRIVILEGED"}, // attack D, and the podman exec reusing its serial
		4635: {"CAP_ADD,DEVICE"},           // EXECVE without its SYSCALL: kept, with a warning
		4644: {"HOST_CGROUPNS,HOST_USERNS,HOST_UTS,NO_SECCOMP"},
		4807: {"PRIVILEGED"},
	}
	for serial, w := range want {
		g := got[serial]
		sort.Strings(g)
		if strings.Join(g, " ") != strings.Join(w, " ") {
			t.Errorf("serial %d: alerts %q, want %q", serial, g, w)
		}
	}
	if _, ok := got[4161]; ok {
		t.Error("serial 4161 (docker run --rm alpine echo --privileged) alerted")
	}
	if strings.Contains(out, "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY") {
		t.Error("secret printed")
	}
	for _, want := range []string{" 7 malformed lines skipped", " 3 records cut short", " 2 repeated serials"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("summary lacks %q: %s", want, stderr)
		}
	}
}

// TestReplayBusyHostAll replays the 119 MB busy-host log with --events all:
// one record per exec event, as many as the log has EXECVE records with argc.
func TestReplayBusyHostAll(t *testing.T) {
	src := "../../../shared/corpus/busy-host.audit.log.xz"
	if _, err := os.Stat(src); err != nil {
		t.Skipf("busy-host corpus not here (%v): it lives in ../shared beside the clone", err)
	}
	xz, err := exec.LookPath("xz")
	if err != nil {
		t.Skip("xz not installed (apt-get install xz-utils)")
	}
	log := filepath.Join(t.TempDir(), "busy.log")
	out, err := os.Create(log)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(xz, "-dc", src)
	cmd.Stdout = out
	if err := cmd.Run(); err != nil {
		t.Fatalf("xz -dc %s: %v", src, err)
	}
	out.Close()
	want := 0
	f, _ := os.Open(log)
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		l := sc.Bytes()
		if bytes.Contains(l, []byte("type=EXECVE ")) && bytes.Contains(l, []byte(" argc=")) {
			want++
		}
	}
	f.Close()
	var stdout countingWriter
	var stderr bytes.Buffer
	if err := run(context.Background(), []string{"replay", "--events", "all", log}, nil, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if stdout.lines != want || want < 50000 {
		t.Errorf("--events all wrote %d records; the log has %d EXECVE events with argc", stdout.lines, want)
	}
	t.Logf("%d exec records; %s", stdout.lines, strings.TrimSpace(stderr.String()))
}

type countingWriter struct{ lines int }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.lines += bytes.Count(p, []byte{'\n'})
	return len(p), nil
}

func TestReplayErrors(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"replay", "/nonexistent/audit.log", "../../testdata/sample/audit.log"}, nil, &stdout, &stderr)
	if err == nil || exitCode(err, &stderr) != 1 || !strings.Contains(err.Error(), "/nonexistent/audit.log") {
		t.Errorf("unreadable input: err %v", err)
	}
	if stdout.Len() == 0 {
		t.Error("the readable input was not replayed after the unreadable one")
	}
	err = run(context.Background(), []string{"replay", "--events", "some"}, nil, &stdout, &stderr)
	if exitCode(err, &stderr) != 2 {
		t.Errorf("--events some: exit %d, want 2", exitCode(err, &stderr))
	}
	err = run(context.Background(), []string{"frobnicate"}, nil, &stdout, &stderr)
	if exitCode(err, &stderr) != 2 {
		t.Errorf("unknown command: exit %d, want 2", exitCode(err, &stderr))
	}
}

func TestReplayStdinGzip(t *testing.T) {
	var gz bytes.Buffer
	cmd := exec.Command("gzip", "-c", "../../testdata/visible/audit-enriched.log")
	cmd.Stdout = &gz
	if err := cmd.Run(); err != nil {
		t.Skipf("gzip: %v", err)
	}
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"replay", "-"}, &gz, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	plain, _, _ := replay(t, "../../testdata/visible/audit-enriched.log")
	if n := bytes.Count(stdout.Bytes(), []byte{'\n'}); n != len(plain) || n == 0 {
		t.Errorf("gzip on stdin: %d alerts, plain file: %d", n, len(plain))
	}
}

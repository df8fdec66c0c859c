package auditd

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/t1610d/t1610d/internal/audittest"
)

// readArgvFiles reads expected/*.argv: what argv.sh executed, each argument
// followed by a NUL byte.
func readArgvFiles(t *testing.T, dir string) map[string][]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.argv"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no .argv files in %s (%v)", dir, err)
	}
	out := map[string][]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".argv")] = strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
	}
	return out
}

func replayExecs(t *testing.T, paths ...string) []*Exec {
	t.Helper()
	var c collector
	a := NewAssembler(c.emit)
	if err := (&Replay{Paths: paths}).Run(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	return c.execs
}

// checkLongArgv checks that each command line argv.sh executed was rebuilt
// byte for byte, with no warning, from the log.
func checkLongArgv(t *testing.T, log string, expected map[string][]string) {
	t.Helper()
	execs := replayExecs(t, log)
	ids := make([]string, 0, len(expected))
	for id := range expected {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		want := expected[id]
		var found *Exec
		for _, e := range execs {
			if len(e.Argv) == len(want) && e.Argv[0] == want[0] && strings.Join(e.Argv, "\x00") == strings.Join(want, "\x00") {
				found = e
			}
		}
		if found == nil {
			best := 0
			for _, e := range execs {
				if len(e.Argv) > 2 && e.Argv[0] == want[0] && len(e.Argv) > best {
					best = len(e.Argv)
				}
			}
			t.Errorf("%s: %s: no exec with the %d arguments (%d bytes) that were executed; longest %s exec has %d",
				log, id, len(want), len(strings.Join(want, "")), want[0], best)
			continue
		}
		if len(found.Warnings) > 0 {
			t.Errorf("%s: %s rebuilt with warnings %q", log, id, found.Warnings)
		}
	}
}

// TestLongArgvFixture: the captures in testdata/long, whose l01 puts
// --privileged in the sixth of ten EXECVE records and whose l02/l03 have
// arguments split into aN[i] chunks, with newlines, quotes, tabs, invalid
// UTF-8 and an empty argument.
func TestLongArgvFixture(t *testing.T) {
	expected := readArgvFiles(t, "../testdata/long/expected")
	l01 := expected["l01"]
	if i := indexOf(l01, "--privileged"); i != 1762 {
		t.Fatalf("fixture changed: --privileged is a%d of l01, the test expects a1762 (in the sixth EXECVE record)", i)
	}
	for _, log := range []string{"audit-enriched.log", "audit-raw-node.log"} {
		checkLongArgv(t, filepath.Join("../testdata/long", log), expected)
	}
	// The sixth record holds --privileged: the event has at least six.
	b, err := os.ReadFile("../testdata/long/audit-enriched.log")
	if err != nil {
		t.Fatal(err)
	}
	var serial []byte
	for _, line := range bytes.Split(b, []byte("\n")) {
		if bytes.Contains(line, []byte(`a1762="--privileged"`)) {
			serial = line[bytes.IndexByte(line, ':'):bytes.IndexByte(line, ')')]
		}
	}
	n := 0
	for _, line := range bytes.Split(b, []byte("\n")) {
		if bytes.HasPrefix(line, []byte("type=EXECVE")) && serial != nil && bytes.Contains(line, append(serial, ')')) {
			n++
		}
	}
	if n < 6 {
		t.Errorf("l01 has %d EXECVE records, want at least 6", n)
	}
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// TestLongArgvLive runs the same command lines again under a real, private
// auditd on this kernel (testdata/capture/capture.sh) and checks the fresh
// log against what was executed. capture.sh puts the kernel's audit state
// back as it found it; Require's cleanup would put back anything left over.
func TestLongArgvLive(t *testing.T) {
	audittest.Require(t, "bash", "flock")
	tmp := t.TempDir()
	expected := filepath.Join(tmp, "expected")
	if err := os.Mkdir(expected, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", "../testdata/capture/capture.sh", "-o", "audit.log", "../testdata/long/scenarios.tsv", tmp)
	cmd.Env = append(os.Environ(), "T1610_EXPECTED="+expected, "T1610_AUDIT_LOCK_HELD=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("capture.sh: %v\n%s", err, out)
	}
	got := readArgvFiles(t, expected)
	if len(got) != 4 {
		t.Fatalf("argv.sh recorded %d command lines, want 4", len(got))
	}
	checkLongArgv(t, filepath.Join(tmp, "audit.log"), got)
}

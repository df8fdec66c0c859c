package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/t1610d/t1610d/output"
)

var update = flag.Bool("update", false, "rewrite the golden files (testdata/*/golden*.json) from this replay")

// Golden end-to-end cases: one folder per case under testdata/, holding a
// real auditd capture, the scenarios it ran, the files they named
// (manifests/), and what `t1610d replay --events container` must print for
// it, as a JSON array of native records. The records are decoded and
// compared as output.Native structs, so field order and spacing do not
// matter and every field does. `go test ./cmd/t1610d -run Golden -update`
// rewrites the golden files; review the diff before committing it.

const runtimesDir = "../../testdata/runtimes"

// TestGoldenRuntimes replays the runtime set: every form of every runtime
// CLI t1610d parses (kubectl run, debug, apply and create from files,
// folders and stdin, k3s, a binary named kubectl in argv[0], ctr, crictl
// configs, podman kube play, compose files).
func TestGoldenRuntimes(t *testing.T) {
	layOutTree(t, runtimesDir, "/tmp/t1610-runtimes")
	golden(t, filepath.Join(runtimesDir, "golden.json"), filepath.Join(runtimesDir, "audit.log"))
}

// TestGoldenVisible replays the visible corpus's ENRICHED log.
func TestGoldenVisible(t *testing.T) {
	layOut(t, "../../testdata/visible", "/tmp/t1610-visible")
	golden(t, "../../testdata/visible/golden-enriched.json", "../../testdata/visible/audit-enriched.log")
}

// TestReplayRuntimes checks every runtime scenario's alert and exact
// categories, its image, and that no secret of the set is printed.
func TestReplayRuntimes(t *testing.T) {
	layOutTree(t, runtimesDir, "/tmp/t1610-runtimes")
	log := filepath.Join(runtimesDir, "audit.log")
	checkSet(t, runtimesDir, log)

	// What the categories alone do not show: one record per launch (no
	// wrapper or stand-in alerts twice), files read or not and why.
	recs, _, _ := replay(t, "--events", "container", log)
	C := byScenario(t, recs, log)
	sc, _, _ := labelledSet(t, runtimesDir)
	for id, s := range sc {
		if len(C[id]) != 1 {
			t.Errorf("%s %q: %d container records, want 1", id, s.cmd, len(C[id]))
		}
	}
	manifest := func(id string) string {
		if len(C[id]) != 1 || C[id][0].Manifest == nil {
			return "(none)"
		}
		m := C[id][0].Manifest
		return strings.TrimSpace(m.Path + " " + map[bool]string{true: "read", false: "unread: " + m.Reason}[m.Read])
	}
	for id, want := range map[string]string{
		"r07": "/tmp/t1610-runtimes/multi.yaml read",
		"r09": "/tmp/t1610-runtimes/stack/web.yaml read", // without -R, stack/monitoring/ is not read
		"r10": "/tmp/t1610-runtimes/cronjob.yaml read",
		"r11": "- unread: read from standard input: not visible to t1610d",
		"r19": "/tmp/t1610-runtimes/cri/pod.yaml read", // relative to the cwd of the exec (cd cri)
		"r22": "/tmp/t1610-runtimes/pod.yaml read",
		"r23": "/tmp/t1610-runtimes/compose.yaml read",
		"r24": "/tmp/t1610-runtimes/svc/compose.yaml read", // docker-compose's default file in its cwd
		"r25": "/tmp/t1610-runtimes/compose.yaml read",
	} {
		if got := manifest(id); got != want {
			t.Errorf("%s: manifest %q, want %q", id, got, want)
		}
	}
}

// golden replays logs with --events container and compares the records
// with the golden file, or rewrites it with -update.
func golden(t *testing.T, goldenFile string, logs ...string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	args := append([]string{"replay", "--events", "container"}, logs...)
	if err := run(context.Background(), args, strings.NewReader(""), &stdout, &stderr); err != nil {
		t.Fatalf("replay %q: %v\n%s", logs, err, stderr.String())
	}
	var got []output.Native
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		got = append(got, decodeNative(t, sc.Bytes()))
	}
	if len(got) == 0 {
		t.Fatalf("replay %q wrote no records", logs)
	}
	host, _ := os.Hostname()
	for i := range got {
		stabilise(&got[i], host)
	}
	if *update {
		b, err := json.MarshalIndent(got, "", " ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(goldenFile, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s: %d records", goldenFile, len(got))
		return
	}
	b, err := os.ReadFile(goldenFile)
	if err != nil {
		t.Fatalf("%v (go test ./cmd/t1610d -run Golden -update writes it)", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var want []output.Native
	if err := dec.Decode(&want); err != nil {
		t.Fatalf("%s: %v", goldenFile, err)
	}
	for i := 0; i < len(got) || i < len(want); i++ {
		switch {
		case i >= len(want):
			t.Errorf("record %d (serial %d) is not in %s: %s", i, got[i].Audit.Sequence, goldenFile, jsonOf(got[i]))
		case i >= len(got):
			t.Errorf("record %d (serial %d) of %s is missing", i, want[i].Audit.Sequence, goldenFile)
		default:
			for _, d := range fieldDiffs(got[i], want[i]) {
				t.Errorf("record %d (serial %d, %s): %s", i, want[i].Audit.Sequence, want[i].ProcessCommandLine, d)
			}
		}
	}
	if t.Failed() {
		t.Log("if the change is intended: go test ./cmd/t1610d -run Golden -update, and review the diff")
	}
}

// decodeNative decodes one output line strictly: a field the record type
// does not have is an error, so nothing printed escapes the comparison.
func decodeNative(t *testing.T, line []byte) output.Native {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	var n output.Native
	if err := dec.Decode(&n); err != nil {
		t.Fatalf("output line does not decode as output.Native: %v\n%s", err, line)
	}
	return n
}

// stabilise replaces what depends on the replaying machine: a log without
// node= is attributed to this host's name (and its AlertId derived from it).
func stabilise(n *output.Native, host string) {
	if n.Audit.Node == "" && n.DeviceName == host {
		n.DeviceName = "(replaying host)"
		if n.AccountDomain == host {
			n.AccountDomain = n.DeviceName
		}
		if tm, err := time.Parse(time.RFC3339Nano, n.TimeGenerated); err == nil && n.AlertID == output.AlertID(host, n.Audit.Sequence, tm) {
			n.AlertID = output.AlertID(n.DeviceName, n.Audit.Sequence, tm)
		}
	}
}

// fieldDiffs names each top-level field in which got and want differ.
func fieldDiffs(got, want output.Native) []string {
	var out []string
	g, w := reflect.ValueOf(got), reflect.ValueOf(want)
	for i := 0; i < g.NumField(); i++ {
		if !reflect.DeepEqual(g.Field(i).Interface(), w.Field(i).Interface()) {
			out = append(out, g.Type().Field(i).Name+": got "+jsonOf(g.Field(i).Interface())+", want "+jsonOf(w.Field(i).Interface()))
		}
	}
	return out
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// layOutTree copies a set's manifests/ folder, subfolders included, to the
// directory its commands ran in, as capture.sh did, so that replay finds the
// files where the log says they were. It leaves files that are already
// there and the same alone (a layout made by root stays usable by other
// users) and skips the test when the directory cannot be written.
func layOutTree(t *testing.T, setDir, workDir string) {
	t.Helper()
	src := filepath.Join(setDir, "manifests")
	err := filepath.WalkDir(src, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		dst := filepath.Join(workDir, rel)
		if e.IsDir() {
			if err := os.MkdirAll(dst, 0o755); err != nil {
				t.Skipf("cannot lay out manifests at %s: %v", workDir, err)
			}
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if old, err := os.ReadFile(dst); err == nil && bytes.Equal(old, b) {
			return nil
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Skipf("cannot lay out manifests at %s: %v", workDir, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

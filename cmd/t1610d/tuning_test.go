package main

import (
	"bufio"
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// The tuning set (testdata/tuning) is a real capture of the documented
// install command of eleven common host agents, each labelled "tunable",
// and of the same image launched with one category more, labelled "attack".
// allow.toml holds one rule per agent that names its image and exactly the
// categories its documented command needs.

const (
	tuningDir = "../../testdata/tuning"
	tuningLog = tuningDir + "/audit.log"
	tuningCfg = tuningDir + "/allow.toml"
)

// tuningRule is the allow rule expected to silence each tunable scenario.
var tuningRule = map[string]string{
	"t01": "node-exporter",
	"t03": "cadvisor",
	"t05": "datadog-agent",
	"t07": "falco",
	"t09": "sysdig-agent",
	"t11": "watchtower",
	"t13": "portainer",
	"t15": "gitlab-runner",
	"t17": "trivy",
	"t19": "docker-dind",
	"t21": "kind-node",
}

func tuningIDs(t *testing.T) ([]string, map[string]scenario, map[string]string, []string) {
	t.Helper()
	sc, images, secrets := labelledSet(t, tuningDir)
	var ids []string
	for id, s := range sc {
		if s.label != "tunable" && s.label != "attack" {
			t.Fatalf("%s: label %q; the tuning set has only tunable and attack scenarios", id, s.label)
		}
		ids = append(ids, id)
	}
	sort.Strings(ids)
	if len(ids) != 2*len(tuningRule) {
		t.Fatalf("%d scenarios, want a tunable and an attack for each of %d agents", len(ids), len(tuningRule))
	}
	return ids, sc, images, secrets
}

// TestTuningWithoutRules: without a config, every documented agent command
// and every attack alerts once, with exactly its categories and its image.
func TestTuningWithoutRules(t *testing.T) {
	ids, sc, images, secrets := tuningIDs(t)
	recs, out, stderr := replay(t, tuningLog)
	A := byScenario(t, recs, tuningLog)
	for _, id := range ids {
		s := sc[id]
		al := A[id]
		if len(al) != 1 {
			t.Errorf("%s (%s) %q: %d alerts, want 1", id, s.label, s.cmd, len(al))
			continue
		}
		if got := al[0].categories(); got != s.flags {
			t.Errorf("%s (%s) %q: categories %s, want %s", id, s.label, s.cmd, got, s.flags)
		}
		if want, ok := images[id]; ok && al[0].ContainerImage != want {
			t.Errorf("%s: image %q, want %q", id, al[0].ContainerImage, want)
		}
	}
	if !strings.Contains(stderr, " 0 suppressed by allow rules") {
		t.Errorf("summary: %s", stderr)
	}
	noSecrets(t, secrets, out)
}

// TestTuningWithRules: with allow.toml, every documented agent command is
// suppressed, and every attack (an allowed image with one category more)
// still alerts with all its categories.
func TestTuningWithRules(t *testing.T) {
	ids, sc, _, secrets := tuningIDs(t)
	recs, out, stderr := replay(t, "--config", tuningCfg, tuningLog)
	A := byScenario(t, recs, tuningLog)
	for _, id := range ids {
		s := sc[id]
		al := A[id]
		switch s.label {
		case "tunable":
			if len(al) != 0 {
				t.Errorf("%s %q: not suppressed: %s", id, s.cmd, al[0].SuspiciousFlags)
			}
		case "attack":
			if len(al) != 1 {
				t.Errorf("%s %q: %d alerts with the allow rules, want 1", id, s.cmd, len(al))
			} else if got := al[0].categories(); got != s.flags {
				t.Errorf("%s %q: categories %s, want %s", id, s.cmd, got, s.flags)
			}
		}
	}
	if want := " 11 suppressed by allow rules"; !strings.Contains(stderr, want) {
		t.Errorf("summary lacks %q: %s", want, stderr)
	}
	noSecrets(t, secrets, out)
}

// TestTuningSuppressedNamesRule: --events container still shows each
// suppressed launch, marked with the name of the rule that suppressed it;
// the attacks carry no mark.
func TestTuningSuppressedNamesRule(t *testing.T) {
	ids, sc, _, secrets := tuningIDs(t)
	recs, out, _ := replay(t, "--config", tuningCfg, "--events", "container", tuningLog)
	marks := suppressedMarks(t, out)
	if len(marks) != len(recs) {
		t.Fatalf("%d records decoded, %d lines", len(recs), len(marks))
	}
	bySeq := map[uint64]string{}
	for i, r := range recs {
		bySeq[r.Audit.Sequence] = marks[i]
	}
	C := byScenario(t, recs, tuningLog)
	for _, id := range ids {
		s := sc[id]
		if len(C[id]) != 1 {
			t.Errorf("%s %q: %d container records, want 1", id, s.cmd, len(C[id]))
			continue
		}
		got := bySeq[C[id][0].Audit.Sequence]
		want := ""
		if s.label == "tunable" {
			want = tuningRule[id]
		}
		if got != want {
			t.Errorf("%s (%s): Suppressed %q, want %q", id, s.label, got, want)
		}
		if got := C[id][0].categories(); got != s.flags {
			t.Errorf("%s: categories %s, want %s (a suppressed record keeps its findings)", id, got, s.flags)
		}
	}
	noSecrets(t, secrets, out)
}

// TestTuningExamplesMatch: packaging/allow-examples.toml ships the rules
// this set tests, comments aside.
func TestTuningExamplesMatch(t *testing.T) {
	tested, err := loadSettings(tuningCfg, "replay")
	if err != nil {
		t.Fatal(err)
	}
	shipped, err := loadSettings("../../packaging/allow-examples.toml", "replay")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(tested.allow, shipped.allow) {
		t.Errorf("packaging/allow-examples.toml and testdata/tuning/allow.toml differ:\n%+v\n%+v", shipped.allow, tested.allow)
	}
	names := map[string]bool{}
	for _, r := range tested.allow {
		names[r.Name] = true
	}
	for id, n := range tuningRule {
		if !names[n] {
			t.Errorf("%s: no rule named %q", id, n)
		}
	}
}

// suppressedMarks returns the Suppressed field of each output line, in order.
func suppressedMarks(t *testing.T, out string) []string {
	t.Helper()
	var marks []string
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var r struct{ Suppressed string }
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, sc.Text())
		}
		marks = append(marks, r.Suppressed)
	}
	return marks
}

func noSecrets(t *testing.T, secrets []string, out string) {
	t.Helper()
	if len(secrets) == 0 {
		t.Fatal("the set has no secrets.txt to check the output against")
	}
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("secret %.8s... printed", s)
		}
	}
}

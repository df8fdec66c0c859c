package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "t1610d.toml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func runCmd(args ...string) (string, string, int) {
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, strings.NewReader(""), &stdout, &stderr)
	code := exitCode(err, &stderr)
	return stdout.String(), stderr.String(), code
}

func TestCheckConfig(t *testing.T) {
	good := writeConfig(t, `
[detect]
threshold = 30
inspect_manifests = true
sensitive_paths = ["/srv/data"]
secret_names = ["MYCORP_*"]
[detect.weights]
PRIVILEGED = 50
HOST_UTS = 0

[[allow]]
name = "datadog-agent"
image = "gcr.io/datadoghq/agent:*"
flags = ["HOST_PID", "HOST_MOUNT", "RUNTIME_SOCKET", "ENV_SECRET", "HOST_CGROUPNS"]
`)
	out, errOut, code := runCmd("check-config", "--config", good)
	if code != 0 || !strings.Contains(out, "ok") {
		t.Errorf("good config: exit %d, %q %q", code, out, errOut)
	}
	if _, _, code := runCmd("check-config"); code != 0 {
		t.Errorf("built-in defaults: exit %d", code)
	}
	bad := []struct{ body, want string }{
		{"[detect]\nthreshhold = 3\n", "unknown key detect.threshhold"},
		{"[detect.weights]\nPRIVILIGED = 3\n", "detect.weights.PRIVILIGED"},
		{"[detect.weights]\nPRIVILEGED = -1\n", "detect.weights.PRIVILEGED = -1"},
		{"[detect]\nthreshold = 0\n", "detect.threshold = 0"},
		{"[detect]\nsensitive_paths = [\"srv\"]\n", "detect.sensitive_paths[0]"},
		{"[detect]\nsecret_names = [\"*\"]\n", "detect.secret_names[0]"},
		{"[[allow]]\nname = \"everything\"\n", "allow[0] everything: has no condition"},
		{"[[allow]]\nimage = \"x\"\nflags = [\"PRIVILEGE\"]\n", "allow[0].flags[0]"},
		{"[[allow]]\nimage = \"x\"\ncolour = \"red\"\n", "unknown key allow.colour"},
		{"[detect\nthreshold = 3\n", "toml: line "},
		{"[source]\nkind = \"nets\"\n", "source.kind = \"nets\""},
		{"[source]\nsocket = \"x\"\n", "unknown key source.socket"},
		{"[[output]]\ntype = \"webhook\"\n", "output[0].url = \"\": a webhook needs"},
		{"[[output]]\ntype = \"file\"\npath = \"rel.json\"\n", "output[0].path"},
		{"[[output]]\ntype = \"stdout\"\nevents = \"some\"\n", "output[0].events"},
		{"[log]\nlevel = \"loud\"\n", "log.level"},
		{"[metrics]\nlisten = \"9610\"\n", "metrics.listen"},
	}
	for _, b := range bad {
		p := writeConfig(t, b.body)
		_, errOut, code := runCmd("check-config", "--config", p)
		if code != 2 || !strings.Contains(errOut, b.want) || !strings.Contains(errOut, p) {
			t.Errorf("config %q: exit %d, stderr %q; want exit 2 naming %s and %q", b.body, code, errOut, p, b.want)
		}
	}
	if _, errOut, code := runCmd("check-config", "--config", "/nonexistent.toml"); code != 2 || !strings.Contains(errOut, "/nonexistent.toml") {
		t.Errorf("missing config: exit %d %q", code, errOut)
	}
}

func TestReplayWithAllowRules(t *testing.T) {
	layOut(t, "../../testdata/visible", "/tmp/t1610-visible")
	log := "../../testdata/visible/audit-enriched.log"
	cfg := writeConfig(t, `
[[allow]]
name = "netdebug-on-host-ns"
image = "alpine:*"
flags = ["HOST_NET", "HOST_PID"]
`)
	base, _, _ := replay(t, log)
	got, _, stderr := replay(t, "--config", cfg, log)
	A := byScenario(t, got, log)
	if len(A["v03"]) != 0 {
		t.Errorf("v03 (--net=host --pid=host alpine:3.19) not suppressed")
	}
	if len(A["v01"]) != 1 || len(A["v21"]) != 1 {
		t.Errorf("an allowed image launched with more power was suppressed: v01 %d, v21 %d alerts", len(A["v01"]), len(A["v21"]))
	}
	if len(got) != len(base)-1 || !strings.Contains(stderr, " 1 suppressed by allow rules") {
		t.Errorf("%d alerts with the rule, %d without; %s", len(got), len(base), stderr)
	}
	var stdout, errb bytes.Buffer
	if err := run(context.Background(), []string{"replay", "--config", cfg, "--events", "container", log}, nil, &stdout, &errb); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), `"Suppressed":"netdebug-on-host-ns"`) {
		t.Error("--events container does not name the rule that suppressed v03")
	}
}

func TestReplayWithWeights(t *testing.T) {
	layOut(t, "../../testdata/visible", "/tmp/t1610-visible")
	log := "../../testdata/visible/audit-enriched.log"
	cfg := writeConfig(t, "[detect.weights]\nPRIVILEGED = 10\n")
	got, _, _ := replay(t, "--config", cfg, log)
	A := byScenario(t, got, log)
	if len(A["v14"]) != 0 {
		t.Error("v14 (ctr run --privileged) alerted with PRIVILEGED weighted 10")
	}
	if len(A["v01"]) != 1 || A["v01"][0].RiskScore != 50 {
		t.Errorf("v01 with PRIVILEGED = 10: %+v", A["v01"])
	}
	cfg = writeConfig(t, "[detect]\nthreshold = 100\n")
	got, _, _ = replay(t, "--config", cfg, log)
	for _, r := range got {
		if r.RiskScore < 100 && (r.Manifest == nil || r.Manifest.Read) {
			t.Errorf("threshold 100: alert with score %d", r.RiskScore)
		}
	}
}

func TestExplain(t *testing.T) {
	out, _, code := runCmd("explain", "--", "sudo", "docker", "run", "-itv", "/:/host", "--net", "host", "-e", "AWS_SECRET_ACCESS_KEY=wJalr", "alpine", "sh")
	for _, want := range []string{"runs:     docker run", "image:    alpine", "score:    75", "ALERT", "[HOST_NET]", "--net host", "-v /:/host", "AWS_SECRET_ACCESS_KEY=[REDACTED]"} {
		if !strings.Contains(out, want) {
			t.Errorf("explain output lacks %q:\n%s", want, out)
		}
	}
	if code != 0 || strings.Contains(out, "wJalr") {
		t.Errorf("exit %d, or the secret printed:\n%s", code, out)
	}
	out, _, _ = runCmd("explain", "--json", "--", "docker", "run", "--privileged=false", "alpine", "echo", "--privileged")
	var x explanation
	if err := json.Unmarshal([]byte(out), &x); err != nil {
		t.Fatalf("--json: %v\n%s", err, out)
	}
	if x.RiskScore != 0 || x.Alert || x.ContainerImage != "alpine" || x.Runtime != "docker" || x.Action != "run" {
		t.Errorf("--json: %+v", x)
	}
	cfg := writeConfig(t, "[detect]\nsecret_names = [\"MYCORP_*\"]\nsensitive_paths = [\"/srv/data\"]\n")
	out, _, _ = runCmd("explain", "--config", cfg, "--", "docker", "run", "-e", "MYCORP_SIGNING=abc123", "-v", "/srv/data/x:/d", "alpine")
	if !strings.Contains(out, "[ENV_SECRET]") || !strings.Contains(out, "[HOST_MOUNT]") || strings.Contains(out, "abc123") {
		t.Errorf("extra secret names and sensitive paths:\n%s", out)
	}
	out, _, _ = runCmd("explain", "--", "ls", "-la")
	if !strings.Contains(out, "not a container CLI") {
		t.Errorf("explain ls: %s", out)
	}
	if _, _, code := runCmd("explain"); code != 2 {
		t.Errorf("explain without a command line: exit %d, want 2", code)
	}
}

func TestExplainManifest(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pod.yaml"), []byte("kind: Pod\nmetadata: {name: p}\nspec:\n  hostNetwork: true\n  containers:\n  - {name: c, image: alpine, securityContext: {privileged: true}}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(wd)
	out, _, _ := runCmd("explain", "--", "kubectl", "apply", "-f", "pod.yaml")
	for _, want := range []string{"read:     " + filepath.Join(dir, "pod.yaml"), "spec.containers[0].securityContext.privileged: true", "spec.hostNetwork: true"} {
		if !strings.Contains(out, want) {
			t.Errorf("explain kubectl apply lacks %q:\n%s", want, out)
		}
	}
	cfg := writeConfig(t, "[detect]\ninspect_manifests = false\n")
	out, _, _ = runCmd("explain", "--config", cfg, "--", "kubectl", "apply", "-f", "pod.yaml")
	if strings.Contains(out, "ALERT") {
		t.Errorf("inspect_manifests = false still alerts on the unread file:\n%s", out)
	}
}

func TestVersion(t *testing.T) {
	out, _, code := runCmd("version")
	if code != 0 || !strings.HasPrefix(out, "t1610d ") {
		t.Errorf("version: %d %q", code, out)
	}
}

// TestPackagedConfigIsTheDefaults: the file the package ships says what
// t1610d does without one.
func TestPackagedConfigIsTheDefaults(t *testing.T) {
	shipped, err := loadSettings("../../packaging/t1610d.toml", "event")
	if err != nil {
		t.Fatal(err)
	}
	builtin, err := loadSettings("", "event")
	if err != nil {
		t.Fatal(err)
	}
	if shipped.det.Weights != builtin.det.Weights || shipped.det.Threshold != builtin.det.Threshold ||
		(shipped.files == nil) != (builtin.files == nil) || shipped.files.MaxSize != builtin.files.MaxSize ||
		len(shipped.allow) != len(builtin.allow) || shipped.level != builtin.level || shipped.metrics != builtin.metrics {
		t.Errorf("packaged config differs from the built-in defaults")
	}
	if s, b := shipped.source, builtin.source; s.Kind != b.Kind || s.NetlinkMode != b.NetlinkMode || *s.InstallRules != *b.InstallRules ||
		s.TailPath != b.TailPath || s.StateDir != b.StateDir || s.Backlog != b.Backlog {
		t.Errorf("source: packaged %+v, built-in %+v", s, b)
	}
	if len(shipped.outputs) != 1 || !reflect.DeepEqual(shipped.outputs[0], builtin.outputs[0]) {
		t.Errorf("outputs: packaged %+v, built-in %+v", shipped.outputs, builtin.outputs)
	}
}

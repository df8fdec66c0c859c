package detect

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/metrics"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"go.yaml.in/yaml/v3"
)

// The kubectl, --overrides, manifest and ctr fuzz targets. Each checks what
// holds of every finding (checkKube): no panic, Score the sum of the flags'
// weights, each category once and in order, evidence for every flag, a bounded
// cost (kubeFuzzMaxAlloc bytes, kubeFuzzMaxEvidence pieces of evidence per
// category), and no secret env value in the evidence.

const (
	// kubeFuzzMaxAlloc bounds what one Inspect may allocate. yaml.v3's own
	// alias limit lets a small document decode to ~100 MB in the worst case.
	kubeFuzzMaxAlloc = 256 << 20
	// kubeFuzzMaxEvidence bounds the evidence of one category.
	kubeFuzzMaxEvidence = 256
	// kubeMarker is the secret env value of the seeds.
	kubeMarker = "s3cr3t"
)

func heapAllocated() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// shortQ quotes s for a failure message, cut to a readable length.
func shortQ(s string) string {
	if len(s) > 300 {
		return fmt.Sprintf("%q... (%d bytes)", s[:300], len(s))
	}
	return fmt.Sprintf("%q", s)
}

// inspectBounded runs Inspect and fails when it allocated more than
// kubeFuzzMaxAlloc bytes.
func inspectBounded(t *testing.T, d *Detector, c Command) *Finding {
	t.Helper()
	before := heapAllocated()
	fd := d.Inspect(c)
	if n := heapAllocated() - before; n > kubeFuzzMaxAlloc {
		t.Errorf("%s: Inspect allocated %d MiB", shortQ(strings.Join(c.Argv, " ")), n>>20)
	}
	if fd == nil {
		t.Fatalf("%s: not recognised", shortQ(strings.Join(c.Argv, " ")))
	}
	return fd
}

// checkKube states what holds of every finding: the score, the flags, the
// bound on evidence, and no NAME=VALUE credential of the command line in the
// evidence (in the notes: a known bug).
func checkKube(t *testing.T, d *Detector, label string, argv []string, fd *Finding) {
	t.Helper()
	sum := 0
	for i, fl := range fd.Flags {
		sum += fl.Weight
		if fl.Category >= numCategories || fl.Weight != d.Weights[fl.Category] {
			t.Fatalf("%s: flag %v has weight %d", label, fl.Category, fl.Weight)
		}
		if i > 0 && fd.Flags[i-1].Category >= fl.Category {
			t.Fatalf("%s: flags out of category order or repeated: %s", label, fd.SuspiciousFlags())
		}
		if len(fl.Evidence) == 0 {
			t.Fatalf("%s: %v without evidence", label, fl.Category)
		}
		if len(fl.Evidence) > kubeFuzzMaxEvidence {
			t.Fatalf("%s: %v has %d pieces of evidence (hits.add: unbounded, quadratic)", label, fl.Category, len(fl.Evidence))
		}
	}
	if fd.Score != sum {
		t.Fatalf("%s: score %d, flags sum to %d", label, fd.Score, sum)
	}
	for _, a := range argv {
		for _, kv := range secretAssignments(a) {
			for _, fl := range fd.Flags {
				for _, ev := range fl.Evidence {
					switch {
					case !strings.Contains(ev, kv):
					case strings.HasPrefix(ev, "debug ") || strings.HasPrefix(ev, "--rootfs "):
						// kubectlDebugCmd and ctr build this evidence
						// from the arguments without d.redact.
						t.Fatalf("%s: %v evidence %s shows the credential %s (not redacted)", label, fl.Category, shortQ(ev), shortQ(kv))
					default:
						t.Fatalf("%s: %v evidence %s shows the credential %s", label, fl.Category, shortQ(ev), shortQ(kv))
					}
				}
			}
			for _, n := range fd.Notes {
				if strings.Contains(n, kv) {
					t.Fatalf("%s: note %s shows the credential %s (notes are not redacted)", label, shortQ(n), shortQ(kv))
					break
				}
			}
		}
	}
}

// secretAssignments returns the NAME=VALUE credentials in s as the redactor
// delimits them: NAME a run of letters, digits and '_' that SecretName
// accepts, VALUE up to a quote, ';', '&', '|', ')', '`' or white space.
func secretAssignments(s string) []string {
	var out []string
	for i := 0; i < len(s); i++ {
		if s[i] != '=' {
			continue
		}
		start := i
		for start > 0 && (s[start-1] == '_' || ('A' <= s[start-1] && s[start-1] <= 'Z') || ('a' <= s[start-1] && s[start-1] <= 'z') || ('0' <= s[start-1] && s[start-1] <= '9')) {
			start--
		}
		end := i + 1
		for end < len(s) && !isValueEnd(s[end]) && s[end] != '\r' {
			end++
		}
		name, val := s[start:i], s[i+1:end]
		if !SecretName(name) || val == "" || strings.HasPrefix(Redacted, val) || strings.HasPrefix(val, Redacted) {
			continue
		}
		out = append(out, name+"="+val)
	}
	return out
}

// checkEnvOptions checks the evidence of -e/--env NAME=VALUE options with a
// secret NAME as checkFinding does: ENV_SECRET fires, no evidence holds
// NAME=VALUE, and one is the option's text with VALUE redacted.
func checkEnvOptions(t *testing.T, label string, opts []option, fd *Finding) {
	t.Helper()
	for _, o := range opts {
		name, val, ok := strings.Cut(o.value, "=")
		if !ok || !SecretName(name) || strings.TrimSpace(val) == "" || val == Redacted || !strings.HasSuffix(o.text, val) {
			continue
		}
		if !fd.Has(EnvSecret) {
			t.Fatalf("%s: secret env %q without ENV_SECRET", label, o.text)
		}
		for _, fl := range fd.Flags {
			for _, ev := range fl.Evidence {
				if strings.Contains(ev, name+"="+val) {
					t.Fatalf("%s: evidence %s shows the secret %s", label, shortQ(ev), shortQ(o.text))
				}
			}
		}
		want := RedactString(strings.TrimSuffix(o.text, val)) + Redacted
		var emitted []string
		for _, fl := range fd.Flags {
			if fl.Category == EnvSecret {
				emitted = fl.Evidence
			}
		}
		found := false
		for _, ev := range emitted {
			if strings.TrimRight(ev, " \t\r\n") == want {
				found = true
			}
		}
		if !found {
			t.Fatalf("%s: no evidence %q for the secret env %q, but %q", label, want, o.text, emitted)
		}
	}
}

// podSecrets walks decoded objects: it returns the NAME=VALUE of every map
// {name: SECRET, value: VALUE} (an env entry, wherever it is), whether the
// marker is one of those values, and whether it shows anywhere else (a key,
// another string), where evidence may quote it.
type podSecrets struct {
	pairs     []string
	marked    bool // kubeMarker is in a secret value
	elsewhere bool // kubeMarker is in some other string
}

func (s *podSecrets) walk(v any, depth int) {
	if depth > 20000 {
		return
	}
	switch v := v.(type) {
	case map[string]any:
		name, _ := v["name"].(string)
		secret := name != "" && SecretName(name)
		for k, e := range v {
			s.seen(k)
			if val, ok := e.(string); ok && k == "value" && secret {
				if val != "" && !strings.HasPrefix(Redacted, val) && !strings.HasPrefix(val, Redacted) {
					s.pairs = append(s.pairs, name+"="+val)
				}
				s.marked = s.marked || strings.Contains(val, kubeMarker)
				continue
			}
			s.walk(e, depth+1)
		}
	case map[any]any:
		for k, e := range v {
			s.seen(fmt.Sprint(k))
			s.walk(e, depth+1)
		}
	case []any:
		for _, e := range v {
			s.walk(e, depth+1)
		}
	case string:
		s.seen(v)
	}
}

func (s *podSecrets) seen(str string) {
	s.elsewhere = s.elsewhere || strings.Contains(str, kubeMarker)
}

// check fails when evidence shows a secret env value.
func (s *podSecrets) check(t *testing.T, label string, fd *Finding) {
	t.Helper()
	for _, fl := range fd.Flags {
		for _, ev := range fl.Evidence {
			for _, kv := range s.pairs {
				if strings.Contains(ev, kv) {
					t.Fatalf("%s: %v evidence %s shows the secret env %s", label, fl.Category, shortQ(ev), shortQ(kv))
				}
			}
			if s.marked && !s.elsewhere && strings.Contains(ev, kubeMarker) {
				t.Fatalf("%s: %v evidence %s shows a secret env value", label, fl.Category, shortQ(ev))
			}
			if fl.Category == EnvSecret && !strings.HasSuffix(ev, "="+Redacted) {
				t.Fatalf("%s: env evidence without its value redacted: %s", label, shortQ(ev))
			}
		}
	}
}

// scenarioArgv returns the command lines of the scenario tables run by one
// of the programs, without the program's name.
func scenarioArgv(progs ...string) [][]string {
	var out [][]string
	for _, name := range []string{"../testdata/sample/scenarios.tsv", "../testdata/visible/scenarios.tsv", "../testdata/runtimes/scenarios.tsv"} {
		fh, err := os.Open(name)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			cols := strings.Split(sc.Text(), "\t")
			if len(cols) < 5 {
				continue
			}
			argv := strings.Fields(cols[4])
			for _, p := range progs {
				if len(argv) > 1 && argv[0] == p {
					out = append(out, argv[1:])
				}
			}
		}
		fh.Close()
	}
	return out
}

// kubectlSeeds are kubectl command lines (argv after "kubectl"): the cases of
// TestKubectl and TestKubectlManifests, on the files of kubeFuzzFS.
var kubectlSeeds = [][]string{
	{"run", "x", "--image=alpine", "--privileged"},
	{"-n", "kube-system", "--context", "prod", "run", "x", "--image", "alpine", "--env", "AWS_SECRET_ACCESS_KEY=x"},
	{"run", "x", "--image=alpine", "--privileged=false"},
	{"run", "x", "--image=alpine", "--", "sh", "-c", "--privileged"},
	{"run", "pwn", "--image=alpine", "--overrides", `{"spec":{"hostNetwork":true,"hostPID":true,"containers":[{"name":"pwn","image":"alpine","securityContext":{"privileged":true,"capabilities":{"add":["SYS_ADMIN"]}}}],"volumes":[{"name":"h","hostPath":{"path":"/"}},{"name":"s","hostPath":{"path":"/var/run/docker.sock"}}]}}`},
	{"run", "p", "--image=alpine", "--override-type=json", "--overrides", `[{"op":"add","path":"/spec/hostIPC","value":true},{"op":"add","path":"/spec/containers/0/securityContext","value":{"seccompProfile":{"type":"Unconfined"}}}]`},
	{"debug", "node/worker-1", "-it", "--image=busybox"},
	{"debug", "node/worker-1", "--profile=sysadmin", "-it", "--image=busybox"},
	{"debug", "node/worker-1", "--profile", "netadmin", "--image=busybox"},
	{"debug", "nodes/worker-1", "--profile=baseline", "--image=busybox"},
	{"debug", "mypod", "--profile=sysadmin", "--image=busybox", "-c", "dbg"},
	{"debug", "mypod", "-it", "--image=busybox"},
	{"debug", "mypod", "--profile=general", "--image=busybox"},
	{"debug", "mypod", "--image=busybox", "--custom=custom.json", "--env=GITHUB_TOKEN=ghp_abc"},
	{"debug", "no/n1", "--custom", "/w/custom.yaml", "--image", "busybox"},
	{"get", "pods", "-A"},
	{"exec", "-it", "atomic-t1610-pod", "--", "cat", "/host/etc/shadow"},
	{"apply", "-f", "pod.yaml"},
	{"apply", "-f", "web.yaml"},
	{"create", "-f", "multi.yaml"},
	{"replace", "--filename=list.json"},
	{"apply", "-f", "tree"},
	{"apply", "-R", "-f", "tree"},
	{"apply", "-k", "kust"},
	{"apply", "-f", "-"},
	{"apply", "-f", "https://u:pw@example.com/x.yaml"},
	{"apply", "-f", "missing.yaml"},
	{"apply", "-f", "pod.yaml,web.yaml", "-f", "/w/list.json", "-n", "default"},
	{"--token=eyJhbGciOi", "--server", "https://10.0.0.1:6443", "run", "api", "--image=r/api:1", "--env=DB_PASSWORD=Zx9S3cret", "--env", "LOG_LEVEL=debug"},
	{"run", "x", "--image=a", "--env=API_KEY=p;ss word", "--env=TOKEN$X=v", "--env=AWS_PROFILE=prod"},
	{"run", "x", "--image=a", "--overrides={\"spec\":{\"containers\":[{\"env\":[{\"name\":\"API_TOKEN\",\"value\":\"s3cr3t\"}]}]}}"},
	{"run"},
	{},
}

// kubeManifests are the manifests of TestKubectlManifests with a pod.yaml
// that has a secret in its environment and a kustomization that also
// reaches up a folder, and more kinds.
var kubeManifests = func() map[string]string {
	m := map[string]string{}
	for k, v := range testManifests {
		m[k] = v
	}
	for k, v := range map[string]string{
		"pod.yaml": `apiVersion: v1
kind: Pod
metadata: {name: atomic}
spec:
  hostPID: true
  containers:
  - name: shell
    image: alpine:3.19
    securityContext: {privileged: true}
    env:
    - {name: DB_PASSWORD, value: s3cr3t}
  volumes:
  - name: host
    hostPath: {path: /}
`,
		"kust/kustomization.yaml": "resources:\n- pod.yaml\n- ../web.yaml\n- https://example.com/remote.yaml\n",
		"custom.json":             `{"securityContext":{"privileged":true,"capabilities":{"add":["SYS_ADMIN"]},"seccompProfile":{"type":"Unconfined"}},"env":[{"name":"API_TOKEN","value":"s3cr3t"}]}`,
		"loop/kustomization.yaml": "resources: [.]\n",
		"custom.yaml":             "securityContext:\n  procMount: Unmasked\n  appArmorProfile: {type: Unconfined}\n",
		"more.yaml": `kind: PodTemplate
metadata: {name: t}
template:
  spec:
    securityContext: {seccompProfile: {type: Unconfined}}
    containers: [{name: t, image: t, securityContext: {procMount: Unmasked}}]
---
kind: ReplicationController
spec: {template: {spec: {hostPID: true, containers: [{name: r, image: r}]}}}
---
kind: PodList
items:
- kind: Pod
  metadata: {name: p1}
  spec:
    containers:
    - &c {name: c, image: "img:1", env: [{name: AWS_ACCESS_KEY_ID, value: s3cr3t}], securityContext: {capabilities: {add: [SYS_ADMIN, NET_RAW]}}}
    - *c
    initContainers: [{name: i, image: i, securityContext: {privileged: true, appArmorProfile: {type: Unconfined}}}]
- {kind: StatefulSet, spec: {template: {spec: {hostIPC: true, volumes: [{hostPath: {path: /etc}}, {hostPath: {path: /var/run/crio/crio.sock}}]}}}}
---
kind: Job
spec: {template: {spec: {containers: [{image: j, env: [{name: KUBECONFIG, value: "s3cr3t with spaces"}, {name: X_PASS, value: "a\"b's3cr3t"}]}]}}}
`,
	} {
		m[k] = v
	}
	return m
}()

// kubeFuzzFS holds kubeManifests under /w.
func kubeFuzzFS() fstest.MapFS {
	fsys := fstest.MapFS{}
	for name, body := range kubeManifests {
		fsys["w/"+name] = &fstest.MapFile{Data: []byte(body)}
	}
	return fsys
}

// kubectlOptions parses a kubectl command line as kubectl does, for what the
// checks compare with: the subcommand, the --env options, the last --image.
func kubectlOptions(args []string) (sub string, env []option, image string) {
	sub, rest := kubectlGlobalFlags.command(args)
	var table flagSet
	switch sub {
	case "run":
		table = kubectlRun
	case "debug":
		table = kubectlDebug
	default:
		return sub, nil, ""
	}
	for _, o := range table.parse(rest, true).opts {
		switch {
		case o.unknown:
		case o.name == "env":
			env = append(env, o)
		case o.name == "image":
			image = o.value
		}
	}
	return sub, env, image
}

// FuzzKubectlArgs feeds kubectl command lines (NUL-separated) as kubectl, oc
// and k3s kubectl, with the files of kubeManifests readable under /w.
func FuzzKubectlArgs(f *testing.F) {
	for _, s := range append(kubectlSeeds, scenarioArgv("kubectl", "oc")...) {
		f.Add(strings.Join(s, "\x00"))
	}
	// Known bugs: a credential in an unknown flag, which the note repeats;
	// in a debug target, which the evidence repeats.
	f.Add("run\x00x\x00--image=a\x00-xTOKEN=s3cr3t")
	f.Add("debug\x00node/API_TOKEN=abc")
	// Known bug: a kustomization that lists its own directory recurses
	// until the stack overflows (a fatal error, not a panic).
	f.Add("apply\x00-k\x00loop")
	d := NewDetector()
	fsys := kubeFuzzFS()
	reads := map[string]bool{"apply": true, "create": true, "replace": true, "debug": true}
	f.Fuzz(func(t *testing.T, s string) {
		var args []string
		if s != "" {
			args = strings.Split(s, "\x00")
		}
		sub, env, image := kubectlOptions(args)
		for _, argv := range [][]string{
			append([]string{"kubectl"}, args...),
			append([]string{"oc"}, args...),
			append([]string{"k3s", "kubectl"}, args...),
		} {
			fd := inspectBounded(t, d, Command{Argv: argv, Cwd: "/w", Files: &FileReader{FS: fsys, MaxSize: DefaultMaxManifest}})
			label := shortQ(strings.Join(argv, " "))
			checkKube(t, d, label, args, fd)
			checkEnvOptions(t, label, env, fd)
			if want := map[bool]string{true: "oc", false: "kubectl"}[argv[0] == "oc"]; fd.Runtime != want {
				t.Fatalf("%s: runtime %q", label, fd.Runtime)
			}
			if fd.Action != sub {
				t.Fatalf("%s: action %q, want %q", label, fd.Action, sub)
			}
			if image != "" && fd.Image != image {
				t.Fatalf("%s: image %q, want the last --image %q", label, fd.Image, image)
			}
			if len(fd.Manifests) > 0 && !reads[sub] {
				t.Fatalf("%s: %s read %+v", label, sub, fd.Manifests)
			}
			// The secret env values of the files under /w never show,
			// unless the command line itself names the marker.
			if !strings.Contains(s, kubeMarker) {
				for _, fl := range fd.Flags {
					for _, ev := range fl.Evidence {
						if strings.Contains(ev, kubeMarker) {
							t.Fatalf("%s: evidence %s shows a secret env value", label, shortQ(ev))
						}
					}
				}
			}
		}
	})
}

// overridesPod is the pod d.overrides scores: the object, or the add and
// replace operations of a JSON patch applied to an empty one.
func overridesPod(v string) any {
	var doc any
	if json.Unmarshal([]byte(v), &doc) != nil {
		return nil
	}
	ops, isPatch := doc.([]any)
	if !isPatch {
		return doc
	}
	pod := map[string]any{}
	for _, op := range ops {
		o, _ := op.(map[string]any)
		if kind, _ := o["op"].(string); kind == "add" || kind == "replace" {
			if p, ok := o["path"].(string); ok {
				setPointer(pod, strings.Split(strings.TrimPrefix(p, "/"), "/"), o["value"])
			}
		}
	}
	return pod
}

// FuzzOverrides feeds kubectl run --overrides values: a partial Pod, or a
// JSON patch (with --override-type=json when patch is set).
func FuzzOverrides(f *testing.F) {
	for _, s := range []string{
		`{"spec":{"hostNetwork":true,"hostPID":true,"containers":[{"name":"pwn","image":"alpine","securityContext":{"privileged":true,"capabilities":{"add":["SYS_ADMIN"]}}}],"volumes":[{"name":"h","hostPath":{"path":"/"}},{"name":"s","hostPath":{"path":"/var/run/docker.sock"}}]}}`,
		`{"apiVersion":"v1","spec":{"hostPID":true,"containers":[{"name":"pwn","image":"alpine:3.19","command":["nsenter","-t","1","-m","-u","-i","-n","sh"],"stdin":true,"tty":true,"volumeMounts":[{"name":"host","mountPath":"/host"}]}],"volumes":[{"name":"host","hostPath":{"path":"/"}}]}}`,
		`{"spec":{"containers":[{"name":"c","env":[{"name":"API_TOKEN","value":"s3cr3t"},{"name":"AWS_SECRET_ACCESS_KEY","value":"a s3cr3t;b"}]}],"initContainers":[{"securityContext":{"procMount":"Unmasked"}}],"securityContext":{"appArmorProfile":{"type":"Unconfined"}}}}`,
		`{"spec":{"ephemeralContainers":[{"image":"e","securityContext":{"privileged":true}}],"hostIPC":true}}`,
		`{"spec": null}`,
		`{"spec":[1,2]}`,
		`not json`,
	} {
		f.Add(s, false)
	}
	for _, s := range []string{
		`[{"op":"add","path":"/spec/hostIPC","value":true},{"op":"add","path":"/spec/containers/0/securityContext","value":{"seccompProfile":{"type":"Unconfined"}}}]`,
		`[{"op":"add","path":"/spec/containers/-","value":{"image":"x","securityContext":{"privileged":true}}},{"op":"replace","path":"/spec/volumes/0/hostPath/path","value":"/var/run/docker.sock"}]`,
		`[{"op":"add","path":"/spec/containers/0/env/0","value":{"name":"DB_PASSWORD","value":"s3cr3t"}},{"op":"add","path":"/spec/containers/0/env/1/name","value":"GITHUB_TOKEN"},{"op":"add","path":"/spec/containers/0/env/1/value","value":"s3cr3t"}]`,
		`[{"op":"add","path":"/spec/containers/64/securityContext/capabilities/add/-","value":"SYS_ADMIN"},{"op":"add","path":"/spec/containers/65","value":{}}]`,
		`[{"op":"add","path":"/spec/a~1b/c~0d","value":1},{"op":"remove","path":"/spec"},{"op":"test","path":"/spec/hostPID","value":true}]`,
		`[{"op":"add","path":"/spec/hostPID/x","value":true},{"op":"add","path":"","value":{"spec":{"hostPID":true}}},{"op":"move","from":"/a","path":"/spec"}]`,
		`[{"op":"add","path":"/spec/containers/-1","value":{}},{"op":"add","path":"/spec/containers/99999999999999999999","value":{}}]`,
		`[1, null, "x", {"op": 1}]`,
	} {
		f.Add(s, true)
	}
	d := NewDetector()
	f.Fuzz(func(t *testing.T, ov string, patch bool) {
		argv := []string{"kubectl", "run", "x", "--image=alpine"}
		if patch {
			argv = append(argv, "--override-type=json")
		}
		for _, a := range [][]string{append(slices.Clip(argv), "--overrides", ov), append(slices.Clip(argv), "--overrides="+ov)} {
			fd := inspectBounded(t, d, Command{Argv: a})
			label := shortQ(strings.Join(a[1:], " "))
			checkKube(t, d, label, a[1:], fd)
			if fd.Image != "alpine" {
				t.Fatalf("%s: image %q, want --image's", label, fd.Image)
			}
			var sec podSecrets
			sec.walk(overridesPod(ov), 0)
			sec.check(t, label, fd)
		}
	})
}

// manifestSeeds returns the manifests of kubeManifests and of testdata.
func manifestSeeds() []string {
	var out []string
	for _, body := range kubeManifests {
		out = append(out, body)
	}
	for _, root := range []string{"../testdata/visible/manifests", "../testdata/runtimes/manifests"} {
		filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return nil
			}
			switch filepath.Ext(p) {
			case ".yaml", ".yml", ".json":
				if b, err := os.ReadFile(p); err == nil {
					out = append(out, string(b))
				}
			}
			return nil
		})
	}
	return out
}

// FuzzManifests feeds a manifest file's bytes (YAML or JSON, several
// documents, Lists) to kubectl apply -f FILE, read from a real file.
func FuzzManifests(f *testing.F) {
	for _, s := range manifestSeeds() {
		f.Add(s)
	}
	f.Add("a: &a [{kind: Pod, spec: {hostPID: true}}]\n---\n- *a\n---\nkind: List\nitems: [{kind: List, items: [{kind: Pod, spec: {hostNetwork: true}}]}]\n")
	// 300 capabilities: known bug, every one is a piece of evidence.
	f.Add("kind: Pod\nspec: {containers: [{securityContext: {capabilities: {add: [" + strings.Repeat("SYS_ADMIN,", 299) + "NET_ADMIN]}}}]}\n")
	f.Add(`{"kind":"Pod","spec":{"containers":[{"env":[{"name":"API_KEY","value":"s3cr3t"},{"name":"API_KEY","value":["s3cr3t"]}]}]}}` + "\n---\n" + `{"kind":"Pod","spec":{"containers":{"a":1}}}`)
	d := NewDetector()
	f.Fuzz(func(t *testing.T, body string) {
		dir := t.TempDir()
		p := filepath.Join(dir, "m.yaml")
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		argv := []string{"kubectl", "apply", "-f", p}
		fd := inspectBounded(t, d, Command{Argv: argv, Cwd: dir, Files: &FileReader{FS: os.DirFS("/"), MaxSize: DefaultMaxManifest}})
		label := "apply -f " + shortQ(body)
		checkKube(t, d, label, nil, fd)
		// Read, or unread with the reason (a stream kubectl would refuse too).
		if len(body) <= DefaultMaxManifest && (len(fd.Manifests) != 1 || fd.Manifests[0].Path != p || (!fd.Manifests[0].Read && fd.Manifests[0].Reason == "")) {
			t.Fatalf("%s: manifests %+v", label, fd.Manifests)
		}
		var sec podSecrets
		dec := yaml.NewDecoder(bytes.NewReader([]byte(body)))
		for {
			var doc any
			if err := dec.Decode(&doc); err != nil {
				if err != io.EOF {
					sec.walk(doc, 0)
				}
				break
			}
			sec.walk(doc, 0)
		}
		sec.check(t, label, fd)
	})
}

// ctrSeeds are ctr command lines (argv after "ctr"): the cases of TestCtr and
// more options.
var ctrSeeds = [][]string{
	{"run", "--privileged", "-t", "docker.io/library/alpine:3.19", "x1", "sh"},
	{"-n", "k8s.io", "run", "--net-host", "--mount", "type=bind,src=/,dst=/host,options=rbind:rw", "img", "id"},
	{"run", "--with-ns", "pid:/proc/1/ns/pid", "--with-ns=network:/proc/1/ns/net", "img", "id"},
	{"run", "--with-ns", "pid:/proc/4242/ns/pid", "img", "id"},
	{"run", "-privileged", "img", "id"},
	{"run", "--privileged=false", "img", "id"},
	{"run", "img", "id", "--privileged"},
	{"run", "--cap-add", "CAP_SYS_ADMIN", "--device", "/dev/sda", "--env", "GITHUB_TOKEN=x", "img", "id"},
	{"run", "--privileged-without-host-devices", "img", "id"},
	{"run", "--rootfs", "/", "id"},
	{"run", "--rootfs", "./rootfs", "id"},
	{"c", "create", "--privileged", "img", "id"},
	{"containers", "create", "--net-host", "img", "id"},
	{"container", "create", "--with-ns=uts:/proc/1/ns/uts", "--with-ns", "ipc:/proc/1/../1/ns/ipc", "img", "id"},
	{"images", "pull", "docker.io/library/alpine:3.19"},
	{"tasks", "ls"},
	{"c", "ls"},
	{"snapshots", "rm", "x"},
	{"-a", "/run/containerd/containerd.sock", "--debug", "run", "--rm", "-env=DB_PASSWORD=s3cr3t", "--env", "AWS_SECRET_ACCESS_KEY=a b", "img", "id"},
	{"run", "--mount", "type=rbind,source=/var/run/docker.sock,destination=/s", "--mount=src=/etc,dst=/e,options=bind", "img", "id"},
	{"run", "--device=/dev/kmsg", "--cap-add=SYS_PTRACE", "--seccomp-profile", "unconfined", "--", "-img", "id"},
	{"run", "-", "x"},
	{"run", "--env"},
	{"run", "---x", "--=", "img"},
	{"run", "--envx=API_TOKEN=s3cr3t", "img", "id"}, // known bug: the note shows it
	{"run", "--rootfs", "/etc/API_TOKEN=abc", "id"}, // known bug: the evidence shows it
	{"run"},
	{},
}

// ctrOptions returns the --env options of a ctr command line, split as ctr
// splits it.
func ctrOptions(args []string) []option {
	g := ctrGlobalFlags.parseGo(args)
	if len(g.args) == 0 {
		return nil
	}
	sub, rest := g.args[0], g.args[1:]
	var table flagSet
	switch {
	case sub == "run":
		table = ctrRunFlags
	case (sub == "container" || sub == "containers" || sub == "c") && len(rest) > 0 && rest[0] == "create":
		table, rest = ctrContainerCreateFlags, rest[1:]
	default:
		return nil
	}
	var env []option
	for _, o := range table.parseGo(rest).opts {
		if o.name == "env" && !o.unknown {
			env = append(env, o)
		}
	}
	return env
}

// FuzzCtrArgs feeds ctr command lines (NUL-separated), as ctr and k3s ctr.
func FuzzCtrArgs(f *testing.F) {
	for _, s := range append(ctrSeeds, scenarioArgv("ctr")...) {
		f.Add(strings.Join(s, "\x00"))
	}
	d := NewDetector()
	f.Fuzz(func(t *testing.T, s string) {
		var args []string
		if s != "" {
			args = strings.Split(s, "\x00")
		}
		env := ctrOptions(args)
		for _, argv := range [][]string{append([]string{"ctr"}, args...), append([]string{"k3s", "ctr"}, args...)} {
			fd := inspectBounded(t, d, Command{Argv: argv, Cwd: "/w"})
			label := shortQ(strings.Join(argv, " "))
			if fd.Runtime != "ctr" {
				t.Fatalf("%s: runtime %q", label, fd.Runtime)
			}
			checkKube(t, d, label, args, fd)
			checkEnvOptions(t, label, env, fd)
			if fd.Image != "" {
				in := false
				for _, a := range args {
					in = in || a == fd.Image
				}
				if !in {
					t.Fatalf("%s: image %q is none of the arguments", label, fd.Image)
				}
				if strings.HasPrefix(fd.Image, "-") && fd.Image != "-" && !slices.Contains(args, "--") {
					t.Fatalf("%s: image %q is an option", label, fd.Image)
				}
			}
			if fd.Action != "run" && fd.Action != "create" && len(fd.Flags) > 0 {
				t.Fatalf("%s: %s flags %s", label, fd.Action, fd.SuspiciousFlags())
			}
		}
	})
}

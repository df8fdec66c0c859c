package detect

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// files returns a reader of the real file system, as replay uses it.
func files() *FileReader {
	return &FileReader{FS: os.DirFS("/"), MaxSize: DefaultMaxManifest, When: "replay"}
}

// manifestReads counts the files f read and joins the reasons of those it
// could not.
func manifestReads(f *Finding) (read int, unread string) {
	var reasons []string
	for _, m := range f.Manifests {
		if m.Read {
			read++
		} else {
			reasons = append(reasons, m.Reason)
		}
	}
	return read, strings.Join(reasons, "; ")
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestKubectl(t *testing.T) {
	tests := []struct {
		argv  []string
		exe   string
		flags string
		image string
	}{
		{[]string{"kubectl", "run", "x", "--image=alpine", "--privileged"}, "", "[PRIVILEGED]", "alpine"},
		{[]string{"kubectl", "-n", "kube-system", "--context", "prod", "run", "x", "--image", "alpine", "--env", "AWS_SECRET_ACCESS_KEY=x"}, "", "[ENV_SECRET]", "alpine"},
		{[]string{"kubectl", "run", "x", "--image=alpine", "--privileged=false"}, "", "", "alpine"},
		{[]string{"kubectl", "run", "x", "--image=alpine", "--", "sh", "-c", "--privileged"}, "", "", "alpine"},
		{[]string{"kubectl", "run", "pwn", "--image=alpine", "--overrides",
			`{"spec":{"hostNetwork":true,"hostPID":true,"containers":[{"name":"pwn","image":"alpine","securityContext":{"privileged":true,"capabilities":{"add":["SYS_ADMIN"]}}}],"volumes":[{"name":"h","hostPath":{"path":"/"}},{"name":"s","hostPath":{"path":"/var/run/docker.sock"}}]}}`},
			"", "[PRIVILEGED] [HOST_NET] [HOST_PID] [HOST_MOUNT] [CAP_ADD] [RUNTIME_SOCKET]", "alpine"},
		{[]string{"kubectl", "run", "p", "--image=alpine", "--override-type=json", "--overrides",
			`[{"op":"add","path":"/spec/hostIPC","value":true},{"op":"add","path":"/spec/containers/0/securityContext","value":{"seccompProfile":{"type":"Unconfined"}}}]`},
			"", "[HOST_IPC] [NO_SECCOMP]", "alpine"},
		{[]string{"kubectl", "debug", "node/worker-1", "-it", "--image=busybox"}, "", "[HOST_NET] [HOST_PID] [HOST_IPC] [HOST_MOUNT]", "busybox"},
		{[]string{"kubectl", "debug", "node/worker-1", "--profile=sysadmin", "-it", "--image=busybox"}, "", "[PRIVILEGED] [HOST_NET] [HOST_PID] [HOST_IPC] [HOST_MOUNT]", "busybox"},
		{[]string{"kubectl", "debug", "node/worker-1", "--profile", "netadmin", "--image=busybox"}, "", "[HOST_NET] [HOST_PID] [HOST_IPC] [CAP_ADD]", "busybox"},
		{[]string{"kubectl", "debug", "nodes/worker-1", "--profile=baseline", "--image=busybox"}, "", "", "busybox"},
		{[]string{"kubectl", "debug", "mypod", "--profile=sysadmin", "--image=busybox", "-c", "dbg"}, "", "[PRIVILEGED]", "busybox"},
		{[]string{"kubectl", "debug", "mypod", "-it", "--image=busybox"}, "", "", "busybox"},
		{[]string{"kubectl", "debug", "mypod", "--profile=general", "--image=busybox"}, "", "[CAP_ADD]", "busybox"},
		{[]string{"oc", "debug", "node/worker-1"}, "", "[PRIVILEGED] [HOST_NET] [HOST_PID] [HOST_IPC] [HOST_MOUNT]", ""},
		{[]string{"k3s", "kubectl", "run", "x", "--image=alpine", "--privileged"}, "/usr/local/bin/k3s", "[PRIVILEGED]", "alpine"},
		{[]string{"microk8s", "kubectl", "debug", "node/n1", "--image=busybox"}, "", "[HOST_NET] [HOST_PID] [HOST_IPC] [HOST_MOUNT]", "busybox"},
		{[]string{"microk8s.kubectl", "run", "x", "--image=alpine", "--privileged"}, "", "[PRIVILEGED]", "alpine"},
		// An offensive tool that names itself kubectl: its exe is its own.
		{[]string{"kubectl", "run", "x", "--image=alpine", "--privileged"}, "/tmp/.x/implant", "[PRIVILEGED]", "alpine"},
		{[]string{"kubectl", "get", "pods", "-A"}, "", "", ""},
		{[]string{"kubectl", "exec", "-it", "atomic-t1610-pod", "--", "cat", "/host/etc/shadow"}, "", "", ""},
	}
	d := NewDetector()
	for _, tt := range tests {
		f := d.Inspect(Command{Argv: tt.argv, Exe: tt.exe, Files: files()})
		if f == nil {
			t.Errorf("%q: not recognised", tt.argv)
			continue
		}
		if cats(f) != tt.flags || f.Image != tt.image {
			t.Errorf("%q\n got %q image %q notes %q\nwant %q image %q", tt.argv, cats(f), f.Image, f.Notes, tt.flags, tt.image)
		}
	}
}

// testManifests are the files TestKubectlManifests deploys (the fuzzers
// start from them too).
var testManifests = map[string]string{
	"pod.yaml": `apiVersion: v1
kind: Pod
metadata: {name: atomic}
spec:
  hostPID: true
  containers:
  - name: shell
    image: alpine:3.19
    securityContext: {privileged: true}
  volumes:
  - name: host
    hostPath: {path: /}
`,
	"web.yaml": `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - {name: web, image: "nginx:1.27"}
      volumes:
      - {name: cache, emptyDir: {}}
`,
	"multi.yaml": `kind: ConfigMap
metadata: {name: c}
data: {a: b}
---
kind: DaemonSet
metadata: {name: agent}
spec:
  template:
    spec:
      hostNetwork: true
      initContainers:
      - name: init
        image: busybox
        securityContext: {capabilities: {add: [NET_ADMIN]}}
      containers:
      - name: agent
        image: agent:1
        env:
        - {name: API_TOKEN, value: s3cr3t-value}
        - {name: FROM_SECRET, valueFrom: {secretKeyRef: {name: x, key: y}}}
      volumes:
      - {name: sock, hostPath: {path: /run/containerd/containerd.sock}}
`,
	"list.json":                `{"apiVersion":"v1","kind":"List","items":[{"kind":"CronJob","metadata":{"name":"cj"},"spec":{"jobTemplate":{"spec":{"template":{"spec":{"hostIPC":true,"containers":[{"name":"c","image":"cron:1","securityContext":{"seccompProfile":{"type":"Unconfined"}}}]}}}}}}]}`,
	"tree/a.yaml":              "kind: Pod\nspec:\n  containers:\n  - {name: a, image: a}\n",
	"tree/sub/b.yml":           "kind: Pod\nspec:\n  hostNetwork: true\n  containers:\n  - {name: b, image: b}\n",
	"tree/notes.txt":           "not a manifest",
	"kust/kustomization.yaml":  "resources:\n- pod.yaml\n- https://example.com/remote.yaml\n",
	"kust/pod.yaml":            "kind: Pod\nspec:\n  hostPID: true\n  containers:\n  - {name: k, image: k}\n",
	"broken.yaml":              "kind: Pod\nspec: [unclosed\n",
	"ephemeral/ephemeral.yaml": "kind: Pod\nspec:\n  ephemeralContainers:\n  - name: e\n    image: e\n    securityContext: {privileged: true}\n",
}

func TestKubectlManifests(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, testManifests)
	tests := []struct {
		args   []string
		flags  string
		image  string
		unread string // the reason of an unread manifest, when one is expected
	}{
		{[]string{"apply", "-f", "pod.yaml"}, "[PRIVILEGED] [HOST_PID] [HOST_MOUNT]", "alpine:3.19", ""},
		{[]string{"apply", "-f", "web.yaml"}, "", "nginx:1.27", ""},
		{[]string{"create", "-f", "multi.yaml"}, "[HOST_NET] [CAP_ADD] [ENV_SECRET] [RUNTIME_SOCKET]", "agent:1", ""},
		{[]string{"replace", "--filename=list.json"}, "[HOST_IPC] [NO_SECCOMP]", "cron:1", ""},
		{[]string{"apply", "-f", "tree"}, "", "a", ""},
		{[]string{"apply", "-R", "-f", "tree"}, "[HOST_NET]", "a", ""},
		{[]string{"apply", "-k", "kust"}, "[HOST_PID]", "k", "a remote resource"},
		{[]string{"apply", "-f", "ephemeral/ephemeral.yaml"}, "[PRIVILEGED]", "e", ""},
		{[]string{"apply", "-f", "-"}, "", "", "standard input"},
		{[]string{"apply", "-f", "https://example.com/x.yaml"}, "", "", "URL"},
		{[]string{"apply", "-f", "missing.yaml"}, "", "", "no such file"},
		{[]string{"apply", "-f", "/dev/null"}, "", "", "not a regular file"},
		{[]string{"apply", "-f", "pod.yaml", "-f", "web.yaml", "-n", "default"}, "[PRIVILEGED] [HOST_PID] [HOST_MOUNT]", "alpine:3.19", ""},
	}
	d := NewDetector()
	for _, tt := range tests {
		argv := append([]string{"kubectl"}, tt.args...)
		f := d.Inspect(Command{Argv: argv, Cwd: dir, Files: files()})
		if cats(f) != tt.flags || f.Image != tt.image {
			t.Errorf("%q\n got %q image %q manifests %+v notes %q\nwant %q image %q", argv, cats(f), f.Image, f.Manifests, f.Notes, tt.flags, tt.image)
		}
		if _, got := manifestReads(f); (tt.unread == "") != (got == "") || !strings.Contains(got, tt.unread) {
			t.Errorf("%q: unread %q, want %q", argv, got, tt.unread)
		}
		if d.Alerts(f) != (f.Score >= d.Threshold || tt.unread != "") {
			t.Errorf("%q: Alerts = %v", argv, d.Alerts(f))
		}
		for _, fl := range f.Flags {
			for _, e := range fl.Evidence {
				if strings.Contains(e, "s3cr3t-value") {
					t.Errorf("%q: evidence holds the secret: %q", argv, e)
				}
			}
		}
	}
	// Evidence names the document and the field.
	f := d.Inspect(Command{Argv: []string{"kubectl", "apply", "-f", "pod.yaml"}, Cwd: dir, Files: files()})
	if ev := f.Flags[0].Evidence[0]; ev != "pod.yaml: Pod/atomic: spec.containers[0].securityContext.privileged: true" {
		t.Errorf("evidence = %q", ev)
	}
	// A file kubectl could not decode either: unread, so it alerts.
	f = d.Inspect(Command{Argv: []string{"kubectl", "apply", "-f", "broken.yaml"}, Cwd: dir, Files: files()})
	if len(f.Manifests) != 1 || f.Manifests[0].Read || !strings.Contains(f.Manifests[0].Reason, "not valid YAML") || !d.Alerts(f) {
		t.Errorf("broken YAML: %+v", f.Manifests)
	}
	// YAML 1.1 booleans, as kubectl's decoder reads them.
	writeFiles(t, dir, map[string]string{"yes.yaml": "kind: Pod\nspec: {hostPID: yes, containers: [{name: c, image: i, securityContext: {privileged: on}}]}\n"})
	if f = d.Inspect(Command{Argv: []string{"kubectl", "apply", "-f", "yes.yaml"}, Cwd: dir, Files: files()}); cats(f) != "[PRIVILEGED] [HOST_PID]" {
		t.Errorf("hostPID: yes, privileged: on: %q", cats(f))
	}
	// A kustomization that lists itself is read once.
	writeFiles(t, dir, map[string]string{"loop/kustomization.yaml": "resources: [., pod.yaml]\n", "loop/pod.yaml": "kind: Pod\nspec: {hostIPC: true}\n"})
	if f = d.Inspect(Command{Argv: []string{"kubectl", "apply", "-k", "loop"}, Cwd: dir, Files: files()}); cats(f) != "[HOST_IPC]" {
		t.Errorf("self-listing kustomization: %q %q", cats(f), f.Notes)
	}
	// Evidence is bounded per category.
	writeFiles(t, dir, map[string]string{"many.yaml": "kind: Pod\nspec:\n  containers:\n" + strings.Repeat("  - {name: c, image: i, securityContext: {privileged: true}}\n", 500)})
	f = d.Inspect(Command{Argv: []string{"kubectl", "apply", "-f", "many.yaml"}, Cwd: dir, Files: files()})
	if ev := f.Flags[0].Evidence; len(ev) != maxEvidence+1 || ev[maxEvidence] != "(and 468 more)" {
		t.Errorf("500 privileged containers: %d pieces of evidence, last %q", len(ev), ev[len(ev)-1])
	}
	// Notes quote arguments: they are redacted too.
	f = d.Inspect(Command{Argv: []string{"kubectl", "run", "x", "--image=a", "-xTOKEN=s3cr3t"}})
	if strings.Contains(strings.Join(f.Notes, " "), "s3cr3t") {
		t.Errorf("a note leaks the secret: %q", f.Notes)
	}
	// Without a file reader, manifests are unread and the finding says so.
	f = d.Inspect(Command{Argv: []string{"kubectl", "apply", "-f", "pod.yaml"}, Cwd: dir})
	if !f.Unread() || !d.Alerts(f) {
		t.Errorf("no reader: %+v", f.Manifests)
	}
	// A size limit.
	small := &FileReader{FS: os.DirFS("/"), MaxSize: 10}
	f = d.Inspect(Command{Argv: []string{"kubectl", "apply", "-f", "pod.yaml"}, Cwd: dir, Files: small})
	if len(f.Manifests) != 1 || !strings.Contains(f.Manifests[0].Reason, "limit") {
		t.Errorf("size limit: %+v", f.Manifests)
	}
}

func TestCtr(t *testing.T) {
	tests := []struct {
		argv  []string
		flags string
		image string
	}{
		{[]string{"ctr", "run", "--privileged", "-t", "docker.io/library/alpine:3.19", "x1", "sh"}, "[PRIVILEGED]", "docker.io/library/alpine:3.19"},
		{[]string{"ctr", "-n", "k8s.io", "run", "--net-host", "--mount", "type=bind,src=/,dst=/host,options=rbind:rw", "img", "id"}, "[HOST_NET] [HOST_MOUNT]", "img"},
		{[]string{"ctr", "run", "--with-ns", "pid:/proc/1/ns/pid", "--with-ns=network:/proc/1/ns/net", "img", "id"}, "[HOST_NET] [HOST_PID]", "img"},
		{[]string{"ctr", "run", "--mount", "type=none,src=/etc,dst=/e,options=rbind:ro", "img", "id"}, "[HOST_MOUNT]", "img"},
		{[]string{"ctr", "run", "--mount", "type=tmpfs,src=/etc-bind,dst=/e", "img", "id"}, "", "img"},
		{[]string{"ctr", "run", "--with-ns", "pid:/proc/4242/ns/pid", "img", "id"}, "", "img"},
		{[]string{"ctr", "run", "-privileged", "img", "id"}, "[PRIVILEGED]", "img"},
		{[]string{"ctr", "run", "--privileged=false", "img", "id"}, "", "img"},
		{[]string{"ctr", "run", "img", "id", "--privileged"}, "", "img"},
		{[]string{"ctr", "run", "--cap-add", "CAP_SYS_ADMIN", "--device", "/dev/sda", "--env", "GITHUB_TOKEN=x", "img", "id"}, "[CAP_ADD] [ENV_SECRET] [DEVICE]", "img"},
		{[]string{"ctr", "run", "--privileged-without-host-devices", "img", "id"}, "[PRIVILEGED]", "img"},
		{[]string{"ctr", "run", "--rootfs", "/", "id"}, "[HOST_MOUNT]", ""},
		{[]string{"ctr", "c", "create", "--privileged", "img", "id"}, "[PRIVILEGED]", "img"},
		{[]string{"ctr", "containers", "create", "--net-host", "img", "id"}, "[HOST_NET]", "img"},
		{[]string{"k3s", "ctr", "run", "--privileged", "img", "id"}, "[PRIVILEGED]", "img"},
		{[]string{"ctr", "images", "pull", "docker.io/library/alpine:3.19"}, "", ""},
		{[]string{"ctr", "tasks", "ls"}, "", ""},
		{[]string{"ctr", "c", "ls"}, "", ""},
		{[]string{"ctr", "snapshots", "rm", "x"}, "", ""},
	}
	d := NewDetector()
	for _, tt := range tests {
		f := d.Inspect(Command{Argv: tt.argv})
		if f == nil {
			t.Errorf("%q: not recognised", tt.argv)
			continue
		}
		if cats(f) != tt.flags || f.Image != tt.image {
			t.Errorf("%q\n got %q image %q notes %q\nwant %q image %q", tt.argv, cats(f), f.Image, f.Notes, tt.flags, tt.image)
		}
	}
}

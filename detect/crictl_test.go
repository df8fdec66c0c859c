package detect

import (
	"strings"
	"testing"
	"testing/fstest"
)

// criFiles are CRI configs as crictl reads them (cri-tools docs/crictl.md),
// dangerous and benign.
var criFiles = map[string]string{
	"container.json": `{
  "metadata": {"name": "pwn"},
  "image": {"image": "docker.io/library/alpine:3.19"},
  "command": ["sh"],
  "envs": [{"key": "API_TOKEN", "value": "s3cr3t-crictl"}, {"key": "HOME", "value": "/root"}],
  "mounts": [
    {"container_path": "/host", "host_path": "/"},
    {"container_path": "/sock", "host_path": "/var/run/containerd/containerd.sock"},
    {"container_path": "/data", "host_path": "/srv/data"}
  ],
  "devices": [{"container_path": "/dev/xvda", "host_path": "/dev/sda", "permissions": "rwm"}],
  "linux": {
    "security_context": {
      "privileged": true,
      "capabilities": {"add_capabilities": ["SYS_ADMIN", "CHOWN"]},
      "namespace_options": {"network": 2, "pid": 2, "ipc": 1},
      "seccomp": {"profile_type": 1}
    }
  }
}`,
	// YAML, camelCase keys (the Kubernetes spelling) and enum names.
	"container.yaml": `metadata: {name: y}
image: {image: busybox}
linux:
  securityContext:
    namespaceOptions: {pid: NODE, network: POD}
    seccompProfilePath: unconfined
    apparmor: {profileType: Unconfined}
mounts:
- {containerPath: /etc-host, hostPath: /etc}
`,
	// Tabs, as editors write JSON: YAML refuses them.
	"tabs.json": "{\n\t\"metadata\": {\"name\": \"t\"},\n\t\"image\": {\"image\": \"tabs:1\"},\n\t\"linux\": {\"security_context\": {\"namespace_options\": {\"ipc\": \"NODE\"}}}\n}\n",
	// encoding/json matches keys in any case: so does crictl.
	"case.json": `{"metadata": {"name": "c"}, "Image": {"Image": "case:1"}, "LINUX": {"Security_Context": {"Privileged": true}}}`,
	// A duplicate key (after case folding) cannot hide a dangerous value.
	"dup.json": `{"metadata": {"name": "d"}, "image": {"image": "dup:1"}, "linux": {"security_context": {"privileged": false, "PRIVILEGED": true}}}`,
	"benign.json": `{
  "metadata": {"name": "web"},
  "image": {"image": "nginx:1.27"},
  "envs": [{"key": "LANG", "value": "C"}, {"key": "DB_PASSWORD", "value": ""}],
  "mounts": [{"container_path": "/usr/share/nginx/html", "host_path": "/srv/www", "readonly": true},
             {"container_path": "/etc/localtime", "host_path": "/etc/localtime"}],
  "devices": [{"container_path": "/dev/fuse", "host_path": "/dev/fuse"}],
  "linux": {"security_context": {
    "privileged": false,
    "capabilities": {"add_capabilities": ["NET_BIND_SERVICE"], "drop_capabilities": ["ALL"]},
    "namespace_options": {"network": 0, "pid": 1, "ipc": 0},
    "seccomp": {"profile_type": 0},
    "apparmor": {"profile_type": "RuntimeDefault"}
  }}
}`,
	"pod.json": `{
  "metadata": {"name": "pwn-sandbox", "namespace": "default", "uid": "u1"},
  "log_directory": "/tmp",
  "linux": {"security_context": {"namespace_options": {"network": 2, "pid": 2}}}
}`,
	"pod-privileged.yaml": `metadata: {name: p, namespace: default, uid: u2}
linux:
  security_context:
    privileged: true
    namespace_options: {ipc: 2}
    seccomp: {profile_type: Unconfined}
`,
	"benign-pod.json": `{"metadata": {"name": "web", "namespace": "default", "uid": "u3"}, "linux": {"security_context": {"namespace_options": {"network": 0}}}}`,
	"broken.json":     `{"metadata": {"name": `,
}

func TestCrictl(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, criFiles)
	tests := []struct {
		args   string
		action string
		flags  string
		image  string
		read   int    // manifests read
		unread string // the reason of an unread config, when one is expected
	}{
		{"run container.json pod.json", "run", "[PRIVILEGED] [HOST_NET] [HOST_PID] [HOST_MOUNT] [CAP_ADD] [NO_SECCOMP] [ENV_SECRET] [RUNTIME_SOCKET] [DEVICE]", "docker.io/library/alpine:3.19", 2, ""},
		{"run benign.json benign-pod.json", "run", "", "nginx:1.27", 2, ""},
		{"run container.yaml benign-pod.json", "run", "[HOST_PID] [HOST_MOUNT] [NO_SECCOMP]", "busybox", 2, ""},
		{"run tabs.json benign-pod.json", "run", "[HOST_IPC]", "tabs:1", 2, ""},
		{"run case.json benign-pod.json", "run", "[PRIVILEGED]", "case:1", 2, ""},
		{"run dup.json benign-pod.json", "run", "[PRIVILEGED]", "dup:1", 2, ""},
		// The pod config counts too: its namespaces are the containers'.
		{"run benign.json pod.json", "run", "[HOST_NET] [HOST_PID]", "nginx:1.27", 2, ""},
		// Options with values do not shift the positional arguments; -r is
		// --runtime-endpoint before the subcommand, --runtime after run.
		{"-r unix:///run/containerd/containerd.sock --timeout 5s run --with-pull -r runsc --creds u:p benign.json pod.json", "run", "[HOST_NET] [HOST_PID]", "nginx:1.27", 2, ""},
		{"--debug run -no-pull -pull-timeout=10s benign.json benign-pod.json", "run", "", "nginx:1.27", 2, ""},
		{"create 0123abcd container.json pod.json", "create", "[PRIVILEGED] [HOST_NET] [HOST_PID] [HOST_MOUNT] [CAP_ADD] [NO_SECCOMP] [ENV_SECRET] [RUNTIME_SOCKET] [DEVICE]", "docker.io/library/alpine:3.19", 2, ""},
		{"create --no-pull 0123abcd benign.json benign-pod.json", "create", "", "nginx:1.27", 2, ""},
		{"runp pod-privileged.yaml", "runp", "[PRIVILEGED] [HOST_IPC] [NO_SECCOMP]", "", 1, ""},
		{"runp --runtime runsc -T 30s benign-pod.json", "runp", "", "", 1, ""},
		{"runp missing.json", "runp", "", "", 0, "no such file"},
		{"run container.json /dev/null", "run", "[PRIVILEGED] [HOST_NET] [HOST_PID] [HOST_MOUNT] [CAP_ADD] [NO_SECCOMP] [ENV_SECRET] [RUNTIME_SOCKET] [DEVICE]", "docker.io/library/alpine:3.19", 1, "not a regular file"},
		{"run broken.json benign-pod.json", "run", "", "", 2, ""},
		// After the positional arguments nothing is a flag.
		{"run benign.json benign-pod.json --privileged", "run", "", "nginx:1.27", 2, ""},
		// run's own subcommands and help launch nothing.
		{"run jsonschema", "run jsonschema", "", "", 0, ""},
		{"run -h container.json pod.json", "run", "", "", 0, ""},
	}
	d := NewDetector()
	for _, tt := range tests {
		argv := append([]string{"crictl"}, strings.Fields(tt.args)...)
		f := d.Inspect(Command{Argv: argv, Cwd: dir, Files: files()})
		if f == nil {
			t.Errorf("%q: not recognised", argv)
			continue
		}
		if f.Action != tt.action || cats(f) != tt.flags || f.Image != tt.image {
			t.Errorf("%q\n got %q %q image %q manifests %+v notes %q\nwant %q %q image %q", argv, f.Action, cats(f), f.Image, f.Manifests, f.Notes, tt.action, tt.flags, tt.image)
		}
		if read, got := manifestReads(f); read != tt.read || (tt.unread == "") != (got == "") || !strings.Contains(got, tt.unread) {
			t.Errorf("%q: %d read, unread %q; want %d, %q", argv, read, got, tt.read, tt.unread)
		}
		if d.Alerts(f) != (f.Score >= d.Threshold || tt.unread != "") {
			t.Errorf("%q: Alerts = %v", argv, d.Alerts(f))
		}
		noSecret(t, argv, f)
	}
}

func TestCrictlEvidence(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, criFiles)
	d := NewDetector()
	f := d.Inspect(Command{Argv: []string{"crictl", "run", "container.json", "pod.json"}, Cwd: dir, Files: files()})
	want := map[Category][]string{
		Privileged:    {"container.json: linux.security_context.privileged: true"},
		HostNet:       {"container.json: linux.security_context.namespace_options.network: 2", "pod.json: linux.security_context.namespace_options.network: 2"},
		HostMount:     {"container.json: mounts[0].host_path: /"},
		CapAdd:        {"container.json: linux.security_context.capabilities.add_capabilities[0]: SYS_ADMIN"},
		NoSeccomp:     {"container.json: linux.security_context.seccomp.profile_type: 1"},
		EnvSecret:     {"container.json: envs[0]: API_TOKEN=[REDACTED]"},
		RuntimeSocket: {"container.json: mounts[1].host_path: /var/run/containerd/containerd.sock"},
		Device:        {"container.json: devices[0].host_path: /dev/sda"},
	}
	for _, fl := range f.Flags {
		if w, ok := want[fl.Category]; ok && strings.Join(fl.Evidence, "|") != strings.Join(w, "|") {
			t.Errorf("%s evidence %q, want %q", fl.Category, fl.Evidence, w)
		}
	}
	f = d.Inspect(Command{Argv: []string{"crictl", "run", "container.yaml", "benign-pod.json"}, Cwd: dir, Files: files()})
	if got := strings.Join(flagEvidence(f, NoSeccomp), "|"); got != "container.yaml: linux.security_context.apparmor.profile_type: Unconfined|container.yaml: linux.security_context.seccomp_profile_path: unconfined" {
		t.Errorf("camelCase evidence %q", got)
	}
	f = d.Inspect(Command{Argv: []string{"crictl", "run", "broken.json", "benign-pod.json"}, Cwd: dir, Files: files()})
	if len(f.Notes) == 0 || !strings.HasPrefix(f.Notes[0], "broken.json: ") {
		t.Errorf("broken config: notes %q", f.Notes)
	}
	// Without a file reader nothing is read, and the finding says so.
	f = d.Inspect(Command{Argv: []string{"crictl", "run", "container.json", "pod.json"}, Cwd: dir})
	if len(f.Manifests) != 2 || !f.Unread() || !d.Alerts(f) || f.Score != 0 {
		t.Errorf("no reader: %+v score %d", f.Manifests, f.Score)
	}
}

// Management subcommands never alert and read nothing.
func TestCrictlManagement(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, criFiles)
	d := NewDetector()
	for _, args := range []string{
		"ps -a", "pods --name x", "images", "img", "pull alpine", "logs -f abc", "exec -it abc sh",
		"exec -s abc cat /host/etc/shadow", "attach abc", "inspect abc", "inspectp abc", "inspecti alpine",
		"stats", "statsp", "rm -f abc", "rmp -a", "rmi alpine", "stop abc", "stopp abc", "start abc",
		"info", "version", "port-forward abc 8080:80", "update --memory 1g abc", "config --get runtime-endpoint",
		"--runtime-endpoint unix:///run/crio/crio.sock ps", "checkpoint abc", "events", "completion bash",
		"imagefsinfo", "metricdescs", "metricsp", "runtime-config",
	} {
		argv := append([]string{"crictl"}, strings.Fields(args)...)
		f := d.Inspect(Command{Argv: argv, Cwd: dir, Files: files()})
		sub := strings.Fields(args)[0]
		if sub == "--runtime-endpoint" {
			sub = "ps"
		}
		if f == nil || f.Action != sub || len(f.Flags) != 0 || len(f.Manifests) != 0 || d.Alerts(f) {
			t.Errorf("%q: %+v", argv, f)
		}
	}
}

func flagEvidence(f *Finding, c Category) []string {
	for _, fl := range f.Flags {
		if fl.Category == c {
			return fl.Evidence
		}
	}
	return nil
}

// noSecret fails when a secret of the test files shows anywhere in a
// finding.
func noSecret(t *testing.T, argv []string, f *Finding) {
	t.Helper()
	var all []string
	for _, fl := range f.Flags {
		all = append(all, fl.Evidence...)
	}
	all = append(all, f.Notes...)
	for _, m := range f.Manifests {
		all = append(all, m.Path, m.Reason)
	}
	for _, s := range all {
		if strings.Contains(s, "s3cr3t") {
			t.Errorf("%q: a secret shows: %q", argv, s)
		}
	}
}

// FuzzCRIConfig feeds CRI configs to crictl run: no panic, a score that
// matches its flags, no secret value in the evidence.
func FuzzCRIConfig(f *testing.F) {
	for _, name := range []string{"container.json", "container.yaml", "tabs.json", "case.json", "dup.json", "benign.json", "pod.json", "pod-privileged.yaml", "broken.json"} {
		f.Add(criFiles[name])
	}
	d := NewDetector()
	f.Fuzz(func(t *testing.T, body string) {
		fsys := fstest.MapFS{"w/c.json": {Data: []byte(body)}, "w/p.json": {Data: []byte(body)}}
		r := &FileReader{FS: fsys, MaxSize: DefaultMaxManifest, When: "replay"}
		fd := d.Inspect(Command{Argv: []string{"crictl", "run", "c.json", "p.json"}, Cwd: "/w", Files: r})
		checkScore(t, d, fd)
		for _, fl := range fd.Flags {
			if fl.Category != EnvSecret {
				continue
			}
			for _, ev := range fl.Evidence {
				if !strings.HasSuffix(ev, "="+Redacted) {
					t.Errorf("env evidence without its value redacted: %q", ev)
				}
			}
		}
	})
}

// FuzzCrictlArgs feeds crictl command lines (NUL-separated): no panic, and
// only run, create and runp read files.
func FuzzCrictlArgs(f *testing.F) {
	for _, s := range []string{"run\x00c.json\x00p.json", "-r\x00x\x00run\x00-r\x00y\x00c.json\x00p.json", "create\x00id\x00c.json\x00p.json", "runp\x00p.json", "ps\x00-a", "run\x00jsonschema", "--\x00run"} {
		f.Add(s)
	}
	d := NewDetector()
	fsys := fstest.MapFS{"w/c.json": {Data: []byte(criFiles["container.json"])}, "w/p.json": {Data: []byte(criFiles["pod.json"])}}
	f.Fuzz(func(t *testing.T, s string) {
		args := append([]string{"crictl"}, strings.Split(s, "\x00")...)
		fd := d.Inspect(Command{Argv: args, Cwd: "/w", Files: &FileReader{FS: fsys}})
		checkScore(t, d, fd)
		if len(fd.Manifests) > 0 && fd.Action != "run" && fd.Action != "create" && fd.Action != "runp" {
			t.Errorf("%q: %s read %+v", args, fd.Action, fd.Manifests)
		}
	})
}

// checkScore fails when a finding's score is not the sum of its flags'
// weights.
func checkScore(t *testing.T, d *Detector, fd *Finding) {
	t.Helper()
	sum := 0
	for _, fl := range fd.Flags {
		sum += d.Weights[fl.Category]
		if len(fl.Evidence) == 0 {
			t.Errorf("%s without evidence", fl.Category)
		}
	}
	if sum != fd.Score {
		t.Errorf("score %d, flags sum to %d", fd.Score, sum)
	}
}

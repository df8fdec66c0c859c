package detect

import (
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

// composeFiles are compose projects, one per folder, in the syntax the
// Compose specification allows.
var composeFiles = map[string]string{
	// Every dangerous setting; services in an order that is not alphabetical.
	"all/compose.yaml": `name: all
services:
  zeta:
    build: .
  web:
    image: nginx:1.27
    privileged: true
    volumes:
      - /:/host:ro
      - ./data:/data
      - cache:/cache
      - /srv/www:/usr/share/nginx/html
  worker:
    image: worker:2
    network_mode: host
    pid: host
    ipc: host
    cap_add: [CHOWN, SYS_ADMIN]
    security_opt: ["seccomp:unconfined", "no-new-privileges:true"]
    devices: ["/dev/sda:/dev/xvda:rwm", "/dev/fuse"]
    environment:
      API_TOKEN: s3cr3t-map
      LANG: C.UTF-8
  agent:
    image: agent:3
    uts: host
    userns_mode: host
    cgroup: host
    volumes:
      - type: bind
        source: /var/run/docker.sock
        target: /var/run/docker.sock
      - type: volume
        source: cache
        target: /cache
    devices:
      - source: /dev/mem
        target: /dev/mem
        permissions: rwm
    environment:
      - DB_PASSWORD=s3cr3t-list
      - LANG=C
volumes:
  cache: {}
`,
	"benign/compose.yaml": `services:
  app:
    image: app:1
    network_mode: bridge
    ports: ["8080:80"]
    volumes:
      - ./src:/src
      - data:/var/lib/data
      - /etc/localtime:/etc/localtime:ro
      - /data
    devices: [/dev/fuse]
    cap_add: [CHOWN, NET_BIND_SERVICE]
    security_opt: ["no-new-privileges:true"]
    environment: {LANG: C}
    privileged: false
  db:
    image: postgres:16
    environment:
      - POSTGRES_DB=app
volumes:
  data: {}
`,
	// The default names: docker-compose.yml and its override.
	"legacy/docker-compose.yml":          "services:\n  web:\n    image: legacy:1\n",
	"legacy/docker-compose.override.yml": "services:\n  web:\n    privileged: true\n",
	// compose.yaml wins over docker-compose.yml.
	"both/compose.yaml":       "services:\n  web:\n    image: new:1\n",
	"both/docker-compose.yml": "services:\n  web:\n    image: old:1\n    privileged: true\n",
	// Found from a subfolder; relative paths from the project's folder.
	"up/compose.yml":      "services:\n  s:\n    image: up:1\n    volumes: [\"./etc:/e\", \"../../../../../../../../../../../../../../../..:/x\"]\n",
	"up/sub/deeper/x.txt": "not a compose file",
	// -f files and --project-directory.
	"files/one.yml":      "services:\n  a:\n    image: one:1\n    pid: host\n",
	"files/two.yml":      "services:\n  a:\n    cap_add: [ALL]\n",
	"files/proj/.keep":   "",
	"files/proj/.env":    "ROOT=/\n",
	"files/relative.yml": "services:\n  r:\n    image: rel:1\n    volumes: [\"./:/w\", \"${ROOT}:/root-from-env\"]\n",
	// run SERVICE: the service and what it depends on.
	"run/compose.yaml": `services:
  web:
    image: web:1
    privileged: true
  worker:
    image: worker:1
    cap_add: [SYS_PTRACE]
    depends_on: [db]
  db:
    image: db:1
    pid: host
  cron:
    image: cron:1
    depends_on:
      worker: {condition: service_started}
`,
	// Variables: .env, defaults, unset ones.
	"vars/compose.yaml": `services:
  v:
    image: ${IMAGE:-vars:1}
    network_mode: ${NET:-host}
    privileged: ${PRIV}
    volumes: ["${HOSTDIR}:/h", "${UNSET_DIR:-./x}:/x", "$$HOME:/literal"]
    environment:
      SERVICE_TOKEN: ${TOKEN}
`,
	"vars/.env": "# comment\nexport HOSTDIR=/etc\nTOKEN=\"s3cr3t-env\"\n",
	// A named volume that binds a host path; an external network that is the host's.
	"named/compose.yaml": `services:
  n:
    image: named:1
    volumes: ["hostroot:/host"]
    networks: [hostnet]
volumes:
  hostroot:
    driver: local
    driver_opts: {type: none, o: bind, device: /}
  plain:
    driver_opts: {type: nfs, o: "addr=10.0.0.1", device: ":/export"}
networks:
  hostnet:
    external: true
    name: host
`,
	// include and extends reach other files.
	"inc/compose.yaml": `include:
  - sub/inc.yaml
services:
  main:
    image: main:1
    extends:
      file: base.yaml
      service: base
  local:
    extends: main
    image: local:1
`,
	"inc/sub/inc.yaml": "services:\n  included:\n    image: inc:1\n    volumes: [\"./:/sub\"]\n    ipc: host\n",
	"inc/base.yaml":    "services:\n  base:\n    privileged: true\n  unused:\n    pid: host\n",
	// Hooks, the API socket, YAML anchors and merge keys.
	"misc/compose.yaml": `x-common: &common
  cap_add: [NET_ADMIN]
services:
  hooked:
    <<: *common
    image: hook:1
    use_api_socket: true
    post_start:
      - command: chown -R 1000 /data
        privileged: true
`,
	// podman-compose's names.
	"pc/podman-compose.yml":    "services:\n  p:\n    image: pc:1\n    network_mode: host\n",
	"pc/container-compose.yml": "services:\n  p:\n    privileged: true\n",
	"empty/.keep":              "",
}

func TestCompose(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, composeFiles)
	all := "[PRIVILEGED] [HOST_NET] [HOST_PID] [HOST_IPC] [HOST_MOUNT] [CAP_ADD] [NO_SECCOMP] [ENV_SECRET] [RUNTIME_SOCKET] [DEVICE] [HOST_USERNS] [HOST_UTS] [HOST_CGROUPNS]"
	tests := []struct {
		dir    string
		cmd    string
		action string
		flags  string
		image  string
		read   []string // the files read, relative to root
		unread string   // the reason of an unread file, when one is expected
	}{
		{"all", "docker compose up -d", "compose up", all, "nginx:1.27", []string{"all/compose.yaml"}, ""},
		{"all", "docker compose -p x --profile debug --ansi never up --build --wait", "compose up", all, "nginx:1.27", []string{"all/compose.yaml"}, ""},
		{"all", "docker compose create", "compose create", all, "nginx:1.27", []string{"all/compose.yaml"}, ""},
		{"all", "docker compose start", "compose start", all, "nginx:1.27", []string{"all/compose.yaml"}, ""},
		{"all", "docker compose restart -t 5 web", "compose restart", all, "nginx:1.27", []string{"all/compose.yaml"}, ""},
		{"all", "docker-compose up", "compose up", all, "nginx:1.27", []string{"all/compose.yaml"}, ""},
		{"all", "docker-compose -H unix:///run/docker.sock --tls up", "compose up", all, "nginx:1.27", []string{"all/compose.yaml"}, ""},
		{"all", "nerdctl --namespace k8s.io compose up -d", "compose up", all, "nginx:1.27", []string{"all/compose.yaml"}, ""},
		{"all", "podman compose up", "compose up", all, "nginx:1.27", []string{"all/compose.yaml"}, ""},
		{"benign", "docker compose up -d", "compose up", "", "app:1", []string{"benign/compose.yaml"}, ""},
		{"legacy", "docker compose up", "compose up", "[PRIVILEGED]", "legacy:1", []string{"legacy/docker-compose.yml", "legacy/docker-compose.override.yml"}, ""},
		{"both", "docker compose up", "compose up", "", "new:1", []string{"both/compose.yaml"}, ""},
		{"up/sub/deeper", "docker compose up", "compose up", "[HOST_MOUNT]", "up:1", []string{"up/compose.yml"}, ""},
		{"files", "docker compose -f one.yml -f two.yml up", "compose up", "[HOST_PID] [CAP_ADD]", "one:1", []string{"files/one.yml", "files/two.yml"}, ""},
		{"files", "docker compose --file=two.yml up", "compose up", "[CAP_ADD]", "", []string{"files/two.yml"}, ""},
		// --project-directory: the base of relative paths and of .env.
		{"files", "docker compose --project-directory proj -f relative.yml up", "compose up", "[HOST_MOUNT]", "rel:1", []string{"files/proj/.env", "files/relative.yml"}, ""},
		{"files", "docker compose -f relative.yml up", "compose up", "", "rel:1", []string{"files/relative.yml"}, ""},
		{"all", "docker compose -f - up", "compose up", "", "", nil, "standard input"},
		{"all", "docker compose -f oci://registry.example.com/app:1 up", "compose up", "", "", nil, "remote"},
		{"all", "docker compose -f missing.yaml up", "compose up", "", "", nil, "no such file"},
		{"empty", "docker compose up", "compose up", "", "", nil, "no compose file"},
		// run: the service, what it depends on, and run's own options.
		{"run", "docker compose run --rm worker sh", "compose run", "[HOST_PID] [CAP_ADD]", "worker:1", []string{"run/compose.yaml"}, ""},
		{"run", "docker compose run --no-deps worker", "compose run", "[CAP_ADD]", "worker:1", []string{"run/compose.yaml"}, ""},
		{"run", "docker compose run cron", "compose run", "[HOST_PID] [CAP_ADD]", "cron:1", []string{"run/compose.yaml"}, ""},
		{"run", "docker compose run -v /:/host --cap-add SYS_MODULE -e GITHUB_TOKEN=s3cr3t-run -u root --entrypoint sh db -c id", "compose run", "[HOST_PID] [HOST_MOUNT] [CAP_ADD] [ENV_SECRET]", "db:1", []string{"run/compose.yaml"}, ""},
		{"run", "docker compose run db --privileged -v /:/host", "compose run", "[HOST_PID]", "db:1", []string{"run/compose.yaml"}, ""},
		{"run", "docker compose up", "compose up", "[PRIVILEGED] [HOST_PID] [CAP_ADD]", "web:1", []string{"run/compose.yaml"}, ""},
		{"vars", "docker compose up", "compose up", "[HOST_NET] [HOST_MOUNT] [ENV_SECRET]", "vars:1", []string{"vars/.env", "vars/compose.yaml"}, ""},
		{"named", "docker compose up", "compose up", "[HOST_NET] [HOST_MOUNT]", "named:1", []string{"named/compose.yaml"}, ""},
		{"inc", "docker compose up", "compose up", "[PRIVILEGED] [HOST_IPC]", "main:1", []string{"inc/compose.yaml", "inc/sub/inc.yaml", "inc/base.yaml"}, ""},
		{"inc", "docker compose run local", "compose run", "[PRIVILEGED]", "local:1", []string{"inc/compose.yaml", "inc/sub/inc.yaml", "inc/base.yaml"}, ""},
		{"misc", "docker compose up", "compose up", "[PRIVILEGED] [CAP_ADD] [RUNTIME_SOCKET]", "hook:1", []string{"misc/compose.yaml"}, ""},
		{"pc", "podman-compose --in-pod false -p x up -d", "compose up", "[PRIVILEGED] [HOST_NET]", "pc:1", []string{"pc/podman-compose.yml", "pc/container-compose.yml"}, ""},
		// Launching nothing: never an alert, nothing read.
		{"all", "docker compose ps", "compose ps", "", "", nil, ""},
		{"all", "docker compose logs -f web", "compose logs", "", "", nil, ""},
		{"all", "docker compose down -v", "compose down", "", "", nil, ""},
		{"all", "docker compose -f compose.yaml config", "compose config", "", "", nil, ""},
		{"all", "docker compose pull", "compose pull", "", "", nil, ""},
		{"all", "docker compose build --no-cache", "compose build", "", "", nil, ""},
		{"all", "docker compose exec web sh", "compose exec", "", "", nil, ""},
		{"all", "docker compose --dry-run up", "compose up", "", "", nil, ""},
		{"all", "docker compose up --dry-run", "compose up", "", "", nil, ""},
		{"all", "docker compose up --help", "compose up", "", "", nil, ""},
		{"all", "docker compose watch --no-up", "compose watch", "", "", nil, ""},
		{"all", "docker compose version", "compose version", "", "", nil, ""},
	}
	d := NewDetector()
	for _, tt := range tests {
		argv := strings.Fields(tt.cmd)
		f := d.Inspect(Command{Argv: argv, Cwd: filepath.Join(root, tt.dir), Files: files()})
		if f == nil {
			t.Errorf("%q: not recognised", argv)
			continue
		}
		if f.Action != tt.action || cats(f) != tt.flags || f.Image != tt.image {
			t.Errorf("%s %q\n got %q %q image %q manifests %+v notes %q\nwant %q %q image %q", tt.dir, argv, f.Action, cats(f), f.Image, f.Manifests, f.Notes, tt.action, tt.flags, tt.image)
		}
		var read, reasons []string
		for _, m := range f.Manifests {
			if m.Read {
				rel, _ := filepath.Rel(root, m.Path)
				read = append(read, rel)
			} else {
				reasons = append(reasons, m.Reason)
			}
		}
		got := strings.Join(reasons, "; ")
		if strings.Join(read, " ") != strings.Join(tt.read, " ") || (tt.unread == "") != (got == "") || !strings.Contains(got, tt.unread) {
			t.Errorf("%s %q: read %q unread %q; want %q, %q", tt.dir, argv, read, got, tt.read, tt.unread)
		}
		if d.Alerts(f) != (f.Score >= d.Threshold || tt.unread != "") {
			t.Errorf("%q: Alerts = %v", argv, d.Alerts(f))
		}
		noSecret(t, argv, f)
	}
}

func TestComposeEvidence(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, composeFiles)
	d := NewDetector()
	inspect := func(dir string, argv ...string) *Finding {
		return d.Inspect(Command{Argv: argv, Cwd: filepath.Join(root, dir), Files: files()})
	}
	f := inspect("all", "docker", "compose", "up")
	want := map[Category]string{
		Privileged:    "compose.yaml: services.web.privileged: true",
		HostNet:       "compose.yaml: services.worker.network_mode: host",
		HostMount:     "compose.yaml: services.web.volumes[0]: /:/host:ro",
		CapAdd:        "compose.yaml: services.worker.cap_add[1]: SYS_ADMIN",
		NoSeccomp:     "compose.yaml: services.worker.security_opt[0]: seccomp:unconfined",
		EnvSecret:     "compose.yaml: services.worker.environment.API_TOKEN: [REDACTED]|compose.yaml: services.agent.environment[0]: DB_PASSWORD=[REDACTED]",
		RuntimeSocket: "compose.yaml: services.agent.volumes[0].source: /var/run/docker.sock",
		Device:        "compose.yaml: services.worker.devices[0]: /dev/sda:/dev/xvda:rwm|compose.yaml: services.agent.devices[0].source: /dev/mem",
		HostUserns:    "compose.yaml: services.agent.userns_mode: host",
	}
	for c, w := range want {
		if got := strings.Join(flagEvidence(f, c), "|"); got != w {
			t.Errorf("%s evidence %q, want %q", c, got, w)
		}
	}
	f = inspect("named", "docker", "compose", "up")
	if got := strings.Join(flagEvidence(f, HostMount), "|"); got != "compose.yaml: services.n.volumes[0]: hostroot:/host (compose.yaml: volumes.hostroot.driver_opts.device: /)" {
		t.Errorf("named volume evidence %q", got)
	}
	f = inspect("inc", "docker", "compose", "up")
	if got := strings.Join(flagEvidence(f, Privileged), "|"); got != "base.yaml: services.base.privileged: true" {
		t.Errorf("extends evidence %q", got)
	}
	// Unset variables are noted, their values taken as empty.
	f = inspect("vars", "docker", "compose", "up")
	if n := strings.Join(f.Notes, "|"); !strings.Contains(n, "PRIV") || strings.Contains(n, "HOSTDIR") {
		t.Errorf("vars notes %q", f.Notes)
	}
	// Without a file reader nothing is read, and the finding says so.
	f = d.Inspect(Command{Argv: []string{"docker", "compose", "up"}, Cwd: filepath.Join(root, "all")})
	if !f.Unread() || !d.Alerts(f) || f.Score != 0 {
		t.Errorf("no reader: %+v", f.Manifests)
	}
}

// One launch, one alert: docker runs its compose plugin, podman compose its
// provider, for the same action; that second exec is not scored.
func TestComposeDispatch(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, composeFiles)
	cwd := filepath.Join(root, "all")
	plugin := "/usr/libexec/docker/cli-plugins/docker-compose"
	tests := []struct {
		argv   []string
		parent string
		flags  bool
		note   string
	}{
		{[]string{plugin, "compose", "up", "-d"}, "/usr/bin/docker", false, "run by docker for the same action: scored at docker's exec"},
		{[]string{plugin, "compose", "-p", "x", "up"}, "", false, "run by docker for the same action"},
		{[]string{"/usr/bin/docker-compose", "up"}, "/usr/bin/podman", false, "run by podman for the same action: scored at podman's exec"},
		{[]string{"/usr/bin/docker-compose", "up"}, "/usr/local/bin/nerdctl", false, "run by nerdctl"},
		// By hand: scored.
		{[]string{plugin, "compose", "up"}, "/usr/bin/bash", true, "not by docker"},
		{[]string{"/usr/bin/docker-compose", "up"}, "/usr/bin/bash", true, ""},
		{[]string{"/usr/bin/docker-compose", "up"}, "", true, ""},
	}
	d := NewDetector()
	for _, tt := range tests {
		f := d.Inspect(Command{Argv: tt.argv, Exe: tt.argv[0], Cwd: cwd, Files: files(), ParentExe: tt.parent})
		if f == nil || f.Runtime != "docker-compose" || f.Action != "compose up" {
			t.Errorf("%q: %+v", tt.argv, f)
			continue
		}
		if (len(f.Flags) > 0) != tt.flags || !strings.Contains(strings.Join(f.Notes, "|"), tt.note) {
			t.Errorf("%q parent %q: flags %q notes %q", tt.argv, tt.parent, cats(f), f.Notes)
		}
		if !tt.flags && (len(f.Manifests) != 0 || d.Alerts(f)) {
			t.Errorf("%q parent %q: manifests %+v alert %v", tt.argv, tt.parent, f.Manifests, d.Alerts(f))
		}
	}
}

func TestKubePlay(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"pod.yaml": `apiVersion: v1
kind: Pod
metadata: {name: atomic}
spec:
  hostNetwork: true
  containers:
  - name: shell
    image: alpine:3.19
    securityContext: {privileged: true}
    env:
    - {name: API_TOKEN, value: s3cr3t-kube}
`,
		"web.yaml": `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    metadata:
      annotations: {io.podman.annotations.label/web: disable}
    spec:
      containers:
      - {name: web, image: "nginx:1.27"}
`,
		"benign.yaml": "apiVersion: v1\nkind: Pod\nmetadata: {name: b}\nspec:\n  containers:\n  - {name: b, image: busybox}\n",
		"seccomp.yaml": `apiVersion: v1
kind: Pod
metadata:
  name: s
  annotations:
    seccomp.security.alpha.kubernetes.io/pod: unconfined
spec:
  containers:
  - {name: s, image: s:1}
`,
		"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {privileged: \"true\"}\n",
	})
	tests := []struct {
		args   string
		action string
		flags  string
		image  string
		read   int
		unread string
	}{
		{"kube play pod.yaml", "kube play", "[PRIVILEGED] [HOST_NET] [ENV_SECRET]", "alpine:3.19", 1, ""},
		{"play kube pod.yaml", "kube play", "[PRIVILEGED] [HOST_NET] [ENV_SECRET]", "alpine:3.19", 1, ""},
		{"--log-level debug kube play --replace pod.yaml", "kube play", "[PRIVILEGED] [HOST_NET] [ENV_SECRET]", "alpine:3.19", 1, ""},
		{"kube play benign.yaml", "kube play", "", "busybox", 1, ""},
		{"kube play --network host benign.yaml", "kube play", "[HOST_NET]", "busybox", 1, ""},
		{"kube play --net=bridge,host benign.yaml", "kube play", "[HOST_NET]", "busybox", 1, ""},
		{"kube play --userns=host benign.yaml", "kube play", "[HOST_USERNS]", "busybox", 1, ""},
		{"kube play --userns auto --network podman1 benign.yaml", "kube play", "", "busybox", 1, ""},
		// Flags with values do not take the file's place.
		{"kube play --configmap cm.yaml --log-driver journald --annotation a=b --publish 8080:80 --build --context-dir . benign.yaml", "kube play", "", "busybox", 1, ""},
		{"kube play --annotation seccomp.security.alpha.kubernetes.io/pod=unconfined benign.yaml", "kube play", "[NO_SECCOMP]", "busybox", 1, ""},
		{"kube play seccomp.yaml", "kube play", "[NO_SECCOMP]", "s:1", 1, ""},
		{"kube play web.yaml benign.yaml", "kube play", "[NO_SECCOMP]", "nginx:1.27", 2, ""},
		{"kube play benign.yaml --replace", "kube play", "", "busybox", 1, ""},
		{"kube play -", "kube play", "", "", 0, "standard input"},
		{"kube play https://example.com/pod.yaml", "kube play", "", "", 0, "URL"},
		{"kube play missing.yaml", "kube play", "", "", 0, "no such file"},
		{"kube play --down pod.yaml", "kube play --down", "", "", 0, ""},
		{"kube down pod.yaml", "kube", "", "", 0, ""},
		{"kube generate atomic", "kube", "", "", 0, ""},
	}
	d := NewDetector()
	for _, tt := range tests {
		argv := append([]string{"podman"}, strings.Fields(tt.args)...)
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
		noSecret(t, argv, f)
	}
	f := d.Inspect(Command{Argv: []string{"podman", "kube", "play", "pod.yaml"}, Cwd: dir, Files: files()})
	if ev := flagEvidence(f, Privileged); len(ev) != 1 || ev[0] != "pod.yaml: Pod/atomic: spec.containers[0].securityContext.privileged: true" {
		t.Errorf("evidence %q", ev)
	}
	f = d.Inspect(Command{Argv: []string{"podman", "kube", "play", "web.yaml"}, Cwd: dir, Files: files()})
	if ev := flagEvidence(f, NoSeccomp); len(ev) != 1 || ev[0] != "web.yaml: Deployment/web: spec.template.metadata.annotations[io.podman.annotations.label/web]: disable" {
		t.Errorf("annotation evidence %q", ev)
	}
}

// FuzzComposeFile feeds compose files to docker compose up: no panic, a
// score that matches its flags, no value of a credential in the evidence.
func FuzzComposeFile(f *testing.F) {
	for _, name := range []string{"all/compose.yaml", "benign/compose.yaml", "vars/compose.yaml", "named/compose.yaml", "inc/compose.yaml", "misc/compose.yaml", "run/compose.yaml"} {
		f.Add(composeFiles[name], "ROOT=/\nTOKEN=s3cr3t\n")
	}
	f.Add("services: {a: {environment: [\"AWS_SECRET_ACCESS_KEY=${X:-s3cr3t}\"], volumes: [\"${A:-${B:-/}}:/h\"]}}", "")
	f.Add("include: [compose.yaml]\nservices: {a: {extends: {file: compose.yaml, service: a}}}", "")
	d := NewDetector()
	f.Fuzz(func(t *testing.T, body, env string) {
		fsys := fstest.MapFS{"w/compose.yaml": {Data: []byte(body)}, "w/.env": {Data: []byte(env)}}
		r := &FileReader{FS: fsys, MaxSize: DefaultMaxManifest, When: "replay"}
		fd := d.Inspect(Command{Argv: []string{"docker", "compose", "up"}, Cwd: "/w", Files: r})
		checkScore(t, d, fd)
		if len(fd.Manifests) > composeMaxFiles+2 {
			t.Errorf("%d manifests", len(fd.Manifests))
		}
		for _, ev := range flagEvidence(fd, EnvSecret) {
			if strings.Contains(ev, "s3cr3t") {
				t.Errorf("a secret shows: %q", ev)
			}
		}
	})
}

// FuzzComposeArgs feeds compose command lines (NUL-separated) of each CLI:
// no panic; only the launching subcommands read files.
func FuzzComposeArgs(f *testing.F) {
	for _, s := range []string{
		"docker\x00compose\x00up\x00-d", "docker-compose\x00-f\x00compose.yaml\x00run\x00--rm\x00web\x00sh",
		"podman-compose\x00--in-pod\x00x\x00up", "nerdctl\x00compose\x00up\x00--file\x00compose.yaml",
		"docker\x00compose\x00-p\x00x\x00ps", "podman\x00compose\x00--dry-run\x00up",
	} {
		f.Add(s)
	}
	d := NewDetector()
	fsys := fstest.MapFS{"w/compose.yaml": {Data: []byte(composeFiles["all/compose.yaml"])}}
	launching := map[string]bool{"up": true, "create": true, "run": true, "start": true, "restart": true, "watch": true, "scale": true}
	f.Fuzz(func(t *testing.T, s string) {
		argv := strings.Split(s, "\x00")
		fd := d.Inspect(Command{Argv: argv, Cwd: "/w", Files: &FileReader{FS: fsys}})
		if fd == nil {
			return
		}
		checkScore(t, d, fd)
		if sub, _ := strings.CutPrefix(fd.Action, "compose "); len(fd.Manifests) > 0 && !launching[sub] && fd.Action != "kube play" {
			t.Errorf("%q: %q read %+v", argv, fd.Action, fd.Manifests)
		}
	})
}

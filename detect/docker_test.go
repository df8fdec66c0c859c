package detect

import (
	"reflect"
	"strings"
	"testing"
)

// inspect runs the detector on a command line split on spaces (use split
// for arguments holding spaces).
func inspect(t *testing.T, cmdline string) *Finding {
	t.Helper()
	return NewDetector().Inspect(Command{Argv: strings.Fields(cmdline), Cwd: "/home/deploy/src"})
}

func cats(f *Finding) string {
	if f == nil {
		return "<not a container CLI>"
	}
	return f.SuspiciousFlags()
}

func TestDockerFamily(t *testing.T) {
	tests := []struct {
		cmd   string
		flags string
		score int
		image string
	}{
		// Where the seed rule is right: same score and flags.
		{"docker run --privileged -v /:/host alpine", "[PRIVILEGED] [HOST_MOUNT]", 80, "alpine"},
		{"docker run --net=host --pid=host alpine:3.19 ps aux", "[HOST_NET] [HOST_PID]", 45, "alpine:3.19"},
		{"docker run --network=host --ipc=host nginx", "[HOST_NET] [HOST_IPC]", 35, "nginx"},
		{"docker run -v /proc:/host/proc:ro busybox sleep 1d", "[HOST_MOUNT]", 40, "busybox"},
		{"docker run --volume /sys:/sys alpine", "[HOST_MOUNT]", 40, "alpine"},
		{"docker run -v /dev:/dev alpine", "[HOST_MOUNT]", 40, "alpine"},
		{"docker run --cap-add=SYS_ADMIN --security-opt seccomp=unconfined -it ubuntu:22.04 bash", "[CAP_ADD] [NO_SECCOMP]", 30, "ubuntu:22.04"},
		{"docker run --cap-add=ALL alpine", "[CAP_ADD]", 20, "alpine"},
		{"docker run --cap-add NET_ADMIN alpine", "[CAP_ADD]", 20, "alpine"},
		{"docker run --security-opt apparmor=unconfined alpine", "[NO_SECCOMP]", 10, "alpine"},
		{"nerdctl run --ipc=host -e AWS_SECRET_ACCESS_KEY=abc -d alpine:3.19 sleep 600", "[HOST_IPC] [ENV_SECRET]", 30, "alpine:3.19"},
		{"docker run -e KUBECONFIG=/k alpine", "[ENV_SECRET]", 15, "alpine"},
		{"docker run --env TOKEN=x alpine", "[ENV_SECRET]", 15, "alpine"},
		{"podman run --privileged --network=host -d registry.example.com/tools/netdebug:2.1", "[PRIVILEGED] [HOST_NET]", 60, "registry.example.com/tools/netdebug:2.1"},
		// Where it is wrong: the right answer.
		{"docker run --privileged=false alpine", "", 0, "alpine"},
		{"docker run --privileged=true alpine", "[PRIVILEGED]", 40, "alpine"},
		{"docker run alpine echo --privileged -v /:/host", "", 0, "alpine"},
		{"docker run --rm alpine:3.19 echo --privileged -v /:/host", "", 0, "alpine:3.19"},
		{"docker run --net host alpine", "[HOST_NET]", 20, "alpine"},
		{"docker run --network host alpine", "[HOST_NET]", 20, "alpine"},
		{"docker run --network name=host,alias=web alpine", "[HOST_NET]", 20, "alpine"},
		{"docker run -itv /:/host alpine sh", "[HOST_MOUNT]", 40, "alpine"},
		{"docker run -v=/:/h alpine", "[HOST_MOUNT]", 40, "alpine"},
		{"docker run -v/:/h alpine", "[HOST_MOUNT]", 40, "alpine"},
		{"docker run --volume=/:/host alpine", "[HOST_MOUNT]", 40, "alpine"},
		{"docker run --mount type=bind,source=/,target=/host alpine", "[HOST_MOUNT]", 40, "alpine"},
		{"docker run --mount type=bind,src=/etc,dst=/e,readonly alpine", "[HOST_MOUNT]", 40, "alpine"},
		{`docker run --mount type=bind,"src=/etc/../",dst=/h alpine`, "[HOST_MOUNT]", 40, "alpine"},
		{"docker run --mount src=/,target=/host alpine", "", 0, "alpine"}, // type defaults to volume
		{"docker run --mount type=volume,src=data,dst=/d alpine", "", 0, "alpine"},
		{"docker run -v //etc//:/e alpine", "[HOST_MOUNT]", 40, "alpine"},
		{"docker run -v /etc/localtime:/etc/localtime:ro -v /dev/log:/dev/log alpine", "", 0, "alpine"},
		{"docker run -v /var/run/docker.sock:/var/run/docker.sock portainer/portainer-ce", "[RUNTIME_SOCKET]", 40, "portainer/portainer-ce"},
		{"docker run -v /run/containerd:/run/containerd alpine", "[RUNTIME_SOCKET]", 40, "alpine"},
		{"docker run -v /var/run:/var/run alpine", "[RUNTIME_SOCKET]", 40, "alpine"},
		{"docker run --mount type=bind,src=/run/crio/crio.sock,dst=/c alpine", "[RUNTIME_SOCKET]", 40, "alpine"},
		{"docker run --use-api-socket alpine", "[RUNTIME_SOCKET]", 40, "alpine"},
		{"docker run -v /var/lib/docker:/d alpine", "[HOST_MOUNT]", 40, "alpine"},
		{"docker run -v /var:/v alpine", "[HOST_MOUNT]", 40, "alpine"},
		{"docker run -v /var/log:/var/log:ro fluent/fluent-bit", "", 0, "fluent/fluent-bit"},
		{"docker run -v .:/src golang", "", 0, "golang"},
		{"docker run -v ../../..:/src golang", "[HOST_MOUNT]", 40, "golang"}, // cwd /home/deploy/src: up to /
		{"docker run -v data:/data -v /data alpine", "", 0, "alpine"},
		{"docker run --device /dev/sda:/dev/xvda:rwm alpine", "[DEVICE]", 20, "alpine"},
		{"docker run --device=/dev/fuse --device /dev/net/tun --device /dev/dri/card0 alpine", "", 0, "alpine"},
		{"docker run --device /dev/mem alpine", "[DEVICE]", 20, "alpine"},
		{"docker run --cap-add sys_admin alpine", "[CAP_ADD]", 20, "alpine"},
		{"docker run --cap-add=cap_sys_ptrace alpine", "[CAP_ADD]", 20, "alpine"},
		{"docker run --cap-add NET_BIND_SERVICE alpine", "", 0, "alpine"},
		{"docker run --security-opt seccomp:unconfined alpine", "[NO_SECCOMP]", 10, "alpine"},
		{"docker run --security-opt label=disable --security-opt systempaths=unconfined alpine", "[NO_SECCOMP]", 10, "alpine"},
		{"docker run --security-opt seccomp=/etc/profile.json alpine", "", 0, "alpine"},
		{"docker run -e AWS_ACCESS_KEY_ID alpine", "[ENV_SECRET]", 15, "alpine"},
		{"docker run -eGITHUB_TOKEN=x alpine", "[ENV_SECRET]", 15, "alpine"},
		{"docker run --env=DB_PASSWORD=x alpine", "[ENV_SECRET]", 15, "alpine"},
		{"docker run -e LANG=C.UTF-8 -e PATH=/bin alpine", "", 0, "alpine"},
		{"docker run --userns=host --uts=host --cgroupns=host alpine", "[HOST_USERNS] [HOST_UTS] [HOST_CGROUPNS]", 30, "alpine"},
		{"docker run --name web -p 8080:80 -d nginx:1.27", "", 0, "nginx:1.27"},
		{"docker run --rm -v /tmp/t1610-visible:/src -w /src golang:1.22 go build ./...", "", 0, "golang:1.22"},
		{"docker run --entrypoint /bin/sh -u root alpine", "", 0, "alpine"},
		{"docker run -- alpine --privileged", "", 0, "alpine"},
		{"docker create --privileged alpine", "[PRIVILEGED]", 40, "alpine"},
		{"docker container run --privileged alpine", "[PRIVILEGED]", 40, "alpine"},
		{"docker container create --pid host alpine", "[HOST_PID]", 25, "alpine"},
		{"docker -H tcp://10.0.0.5:2375 run --privileged alpine", "[PRIVILEGED]", 40, "alpine"},
		{"docker --host=unix:///var/run/docker.sock --context prod --debug run --net=host alpine", "[HOST_NET]", 20, "alpine"},
		{"docker --config /root/.docker -l debug run -v /:/h alpine", "[HOST_MOUNT]", 40, "alpine"},
		{"docker exec --privileged web sh", "[PRIVILEGED]", 40, ""},
		{"docker exec -it web cat /host/etc/passwd", "", 0, ""},
		{"docker container exec -e API_KEY=1 web env", "[ENV_SECRET]", 15, ""},
		{"docker service create --mount type=bind,src=/var/run/docker.sock,dst=/s --cap-add SYS_ADMIN --network host alpine", "[HOST_NET] [CAP_ADD] [RUNTIME_SOCKET]", 80, "alpine"},
		{"docker ps -a", "", 0, ""},
		{"docker images --format {{.Repository}}", "", 0, ""},
		{"DOCKER run --privileged alpine", "[PRIVILEGED]", 40, "alpine"},
		{"./docker/docker run --privileged alpine", "[PRIVILEGED]", 40, "alpine"},
		{"podman --remote run --pid=host alpine", "[HOST_PID]", 25, "alpine"},
		{"podman --log-level debug run --privileged alpine", "[PRIVILEGED]", 40, "alpine"},
		{"podman run --log-level debug --pid ns:/proc/1/ns/pid alpine", "[HOST_PID]", 25, "alpine"},
		{"podman run --security-opt unmask=ALL alpine", "[NO_SECCOMP]", 10, "alpine"},
		{"podman run --rootfs / /bin/sh", "[HOST_MOUNT]", 40, ""},
		{"nerdctl --namespace k8s.io run --net host alpine", "[HOST_NET]", 20, "alpine"},
		{"nerdctl run --privileged -v /:/host --pid=host alpine", "[PRIVILEGED] [HOST_PID] [HOST_MOUNT]", 105, "alpine"},
	}
	for _, tt := range tests {
		f := inspect(t, tt.cmd)
		if f == nil {
			t.Errorf("%s: not recognised", tt.cmd)
			continue
		}
		if cats(f) != tt.flags || f.Score != tt.score || f.Image != tt.image {
			t.Errorf("%s\n got %q score %d image %q (notes %q)\nwant %q score %d image %q", tt.cmd, cats(f), f.Score, f.Image, f.Notes, tt.flags, tt.score, tt.image)
		}
	}
}

func TestDockerArgumentsWithSpaces(t *testing.T) {
	d := NewDetector()
	for _, tt := range []struct {
		argv  []string
		flags string
	}{
		{[]string{"docker", "run", "--device-cgroup-rule", "a *:* rwm", "alpine"}, "[DEVICE]"},
		{[]string{"docker", "run", "--device-cgroup-rule=b 8:* rw", "alpine"}, "[DEVICE]"},
		{[]string{"docker", "run", "--device-cgroup-rule", "c 189:* rwm", "alpine"}, ""},
		{[]string{"docker", "run", "--mount", `type=bind,"source=/etc,x",target=/x`, "alpine"}, ""},
		{[]string{"docker", "run", "--mount", `type=bind,"source=/etc",target=/x`, "alpine"}, "[HOST_MOUNT]"},
		{[]string{"docker", "run", "--security-opt", "apparmor=unconfined", "alpine", "sh", "-c", "echo \"two words\" $HOME"}, "[NO_SECCOMP]"},
	} {
		f := d.Inspect(Command{Argv: tt.argv})
		if cats(f) != tt.flags {
			t.Errorf("%q: got %q, want %q", tt.argv, cats(f), tt.flags)
		}
	}
}

func TestDockerEvidence(t *testing.T) {
	f := inspect(t, "docker run -itv /:/host --privileged -e AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY alpine")
	want := []Flag{
		{Privileged, 40, []string{"--privileged"}},
		{HostMount, 40, []string{"-v /:/host"}},
		{EnvSecret, 15, []string{"-e AWS_SECRET_ACCESS_KEY=[REDACTED]"}},
	}
	if !reflect.DeepEqual(f.Flags, want) {
		t.Errorf("flags = %+v\nwant %+v", f.Flags, want)
	}
}

func TestNotAContainerCLI(t *testing.T) {
	d := NewDetector()
	for _, argv := range [][]string{{"ls", "-la"}, {"sudo", "docker", "run", "--privileged", "alpine"}, {"dockerd"}, {"bash", "-c", "docker run --privileged x"}, {}} {
		if f := d.Inspect(Command{Argv: argv}); f != nil {
			t.Errorf("%q recognised as %s", argv, f.Runtime)
		}
	}
	// The exe names the runtime even when argv[0] does not.
	if f := d.Inspect(Command{Argv: []string{"d", "run", "--privileged", "x"}, Exe: "/usr/bin/docker"}); cats(f) != "[PRIVILEGED]" {
		t.Errorf("exe /usr/bin/docker: %q", cats(f))
	}
}

func TestUnwrap(t *testing.T) {
	for _, tt := range []struct{ in, out string }{
		{"sudo docker run x", "docker run x"},
		{"sudo -u root -E docker ps", "docker ps"},
		{"env -i FOO=1 BAR=2 docker ps", "docker ps"},
		{"timeout -s KILL 5 nice -n 10 nohup docker ps", "docker ps"},
		{"docker ps", "docker ps"},
	} {
		got := strings.Join(Unwrap(strings.Fields(tt.in)), " ")
		if got != tt.out {
			t.Errorf("Unwrap(%q) = %q, want %q", tt.in, got, tt.out)
		}
	}
}

// TestFoundByFuzzing keeps what the fuzzers found fixed.
func TestFoundByFuzzing(t *testing.T) {
	d := NewDetector()
	// pflag ignores -test.*: the subcommand is not a --context value.
	for _, argv := range [][]string{
		{"docker", "-test.c", "run", "--privileged", "-v", "/:/host", "alpine"},
		{"podman", "-Dtest.x", "run", "--privileged", "-v", "/:/host", "alpine"},
	} {
		if f := d.Inspect(Command{Argv: argv}); cats(f) != "[PRIVILEGED] [HOST_MOUNT]" {
			t.Errorf("%q: %q", argv, cats(f))
		}
	}
	// A secret value with spaces, quotes or shell characters is redacted
	// whole, in evidence and command lines.
	for _, tt := range []struct{ argv, secret, ev string }{
		{"docker|run|-e|DB_PASSWORD=p;ss word|alpine", "ss word", "-e DB_PASSWORD=[REDACTED]"},
		{"docker|run|-eAWS_PROFILE=prod|alpine", "prod", "-eAWS_PROFILE=[REDACTED]"},
		{"docker|run|--env=API_TOKEN='a b'|alpine", "a b", "--env=API_TOKEN=[REDACTED]"},
	} {
		argv := strings.Split(tt.argv, "|")
		f := d.Inspect(Command{Argv: argv})
		if len(f.Flags) != 1 || f.Flags[0].Evidence[0] != tt.ev {
			t.Errorf("%q: flags %+v, want evidence %q", argv, f.Flags, tt.ev)
		}
		if line := strings.Join(RedactArgs(argv), " "); strings.Contains(line, tt.secret) {
			t.Errorf("RedactArgs(%q) = %q", argv, line)
		}
	}
}

func TestInterpretersAndComposeChildren(t *testing.T) {
	d := NewDetector()
	for _, tt := range []struct {
		argv   []string
		exe    string
		parent []string
		rt     string
		flags  string
	}{
		{[]string{"/usr/bin/python3", "/usr/bin/podman-compose", "ps"}, "/usr/bin/python3.11", nil, "podman-compose", ""},
		{[]string{"/bin/sh", "/usr/bin/docker", "run", "--privileged", "x"}, "/usr/bin/dash", nil, "docker", "[PRIVILEGED]"},
		{[]string{"sh", "-c", "docker"}, "/usr/bin/dash", nil, "", ""},
		{[]string{"python3", "-c", "import os"}, "/usr/bin/python3", nil, "", ""},
		// podman-compose runs podman for each service: scored at its own exec.
		{[]string{"podman", "run", "--privileged", "x"}, "/usr/bin/podman", []string{"/usr/bin/python3", "/usr/bin/podman-compose", "up"}, "podman", ""},
		{[]string{"nerdctl", "create", "--privileged", "x"}, "/usr/bin/nerdctl", []string{"nerdctl", "compose", "up"}, "nerdctl", ""},
		{[]string{"podman", "run", "--privileged", "x"}, "/usr/bin/podman", []string{"bash"}, "podman", "[PRIVILEGED]"},
	} {
		f := d.Inspect(Command{Argv: tt.argv, Exe: tt.exe, ParentArgv: tt.parent})
		rt := ""
		if f != nil {
			rt = f.Runtime
		}
		if rt != tt.rt || (f != nil && cats(f) != tt.flags) {
			t.Errorf("%q (parent %q): runtime %q flags %q, want %q %q", tt.argv, tt.parent, rt, cats(f), tt.rt, tt.flags)
		}
	}
}

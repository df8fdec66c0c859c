package detect

import (
	"bufio"
	"os"
	"slices"
	"strings"
	"testing"
)

// strictFuzz makes the targets fail on the bugs already reported, which they
// otherwise log and step over so that fuzzing goes on looking for new ones.

// dockerSeeds are docker-family command lines (argv without argv[0]).
var dockerSeeds = [][]string{
	{"run", "-itv", "/:/host", "alpine", "sh"},
	{"run", "-v=/:/h", "alpine"},
	{"run", "-v/:/h", "alpine"},
	{"run", "--privileged=false", "alpine"},
	{"run", "--net", "host", "--pid=host", "alpine:3.19", "ps", "aux"},
	{"run", "--name=web", "-e", "A=1", "-eB=2", "nginx"},
	{"run", "-dit", "--", "-image"},
	{"run", "-", "x"},
	{"run", "--rm", "alpine", "echo", "--privileged"},
	{"run", "-p8080:80", "--rm=true", "--cap-add=SYS_ADMIN,NET_RAW", "--device=/dev/sda", "alpine"},
	{"run", "-e", "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY", "--ipc=host", "-d", "alpine:3.19", "sleep", "600"},
	{"run", "--env=GITHUB_TOKEN=ghp_abc", "-eDB_PASSWORD=hunter2", "-ite", "API_KEY=k", "alpine"},
	{"run", "--security-opt", "seccomp=unconfined", "--userns=host", "--uts=host", "--cgroupns=host", "alpine"},
	{"run", "--mount", "type=bind,source=/var/run/docker.sock,target=/s", "-v", "./x:/y", "alpine"},
	{"container", "create", "--network=name=host,alias=a", "alpine"},
	{"exec", "-it", "--privileged", "-e", "TOKEN=t", "web", "sh"},
	{"-H", "tcp://u:pw@10.0.0.1:2375", "run", "--rm", "alpine"},
	{"service", "create", "--mount", "type=bind,src=/,dst=/h", "-e", "X_PASS=p", "nginx"},
	{"--log-level", "debug", "-D", "run", "--rootfs", "/", "--privileged", "x"},
	{"ps", "-a"},
	{"run"},
	{},
}

// scenarioSeeds are the docker-family command lines of the scenario tables.
func scenarioSeeds(tb testing.TB) [][]string {
	var out [][]string
	for _, name := range []string{"../testdata/sample/scenarios.tsv", "../testdata/visible/scenarios.tsv"} {
		fh, err := os.Open(name)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			cols := strings.Split(sc.Text(), "\t")
			if len(cols) < 5 {
				continue
			}
			argv := strings.Fields(cols[4])
			if len(argv) > 1 && (argv[0] == "docker" || argv[0] == "podman" || argv[0] == "nerdctl") {
				out = append(out, argv[1:])
			}
		}
		fh.Close()
	}
	return out
}

// envOptions returns the --env options of a docker-family command line,
// split as dockerFamily splits it (run, create, exec, service create).
func envOptions(rt string, args []string) []option {
	cli := cliOf(rt)
	g := cli.global.parse(args, false)
	if len(g.args) == 0 {
		return nil
	}
	sub, rest := g.args[0], g.args[1:]
	if sub == "container" && len(rest) > 0 {
		sub, rest = rest[0], rest[1:]
	}
	var p parsedArgs
	switch {
	case sub == "run" || sub == "create":
		p = cli.run.parse(rest, false)
	case sub == "exec":
		p = cli.exec.parse(rest, false)
	case sub == "service" && cli.service.long != nil && len(rest) > 0 && rest[0] == "create":
		p = cli.service.parse(rest[1:], false)
	}
	var out []option
	for _, o := range p.opts {
		if o.name == "env" && !o.unknown {
			out = append(out, o)
		}
	}
	return out
}

func FuzzDockerArgs(f *testing.F) {
	for _, s := range append(dockerSeeds, scenarioSeeds(f)...) {
		f.Add(strings.Join(s, "\x00"))
	}
	// Known bugs (see checkFinding): secret env values the evidence leaks.
	f.Add("run\x00-e\x00DB_PASSWORD=p;ss word\x00alpine")
	f.Add("run\x00-eTOKEN$X=v\x00alpine")
	f.Add("run\x00-eAWS_PROFILE=prod\x00alpine")
	d := NewDetector()
	f.Fuzz(func(t *testing.T, s string) {
		var args []string
		if s != "" {
			args = strings.Split(s, "\x00")
		}
		for _, rt := range []string{"docker", "podman", "nerdctl"} {
			argv := append([]string{rt}, args...)
			fd := d.Inspect(Command{Argv: argv})
			if fd == nil {
				t.Fatalf("Inspect(%q) = nil", argv)
			}
			checkFinding(t, d, rt, args, fd)
		}
	})
}

// checkFinding states what holds of every finding of a docker-family command
// line: its score, its flags, its image, its redaction.
func checkFinding(t *testing.T, d *Detector, rt string, args []string, fd *Finding) {
	t.Helper()
	sum := 0
	for i, fl := range fd.Flags {
		sum += fl.Weight
		if fl.Category >= numCategories || fl.Weight != d.Weights[fl.Category] {
			t.Fatalf("%s %q: flag %v has weight %d", rt, args, fl.Category, fl.Weight)
		}
		if i > 0 && fd.Flags[i-1].Category >= fl.Category {
			t.Fatalf("%s %q: flags out of category order or repeated: %s", rt, args, fd.SuspiciousFlags())
		}
		if len(fl.Evidence) == 0 {
			t.Fatalf("%s %q: %v without evidence", rt, args, fl.Category)
		}
	}
	if fd.Score != sum {
		t.Fatalf("%s %q: score %d, flags sum to %d", rt, args, fd.Score, sum)
	}
	if fd.Image != "" {
		if !slices.Contains(args, fd.Image) {
			t.Fatalf("%s %q: image %q is none of the arguments", rt, args, fd.Image)
		}
		if strings.HasPrefix(fd.Image, "-") && fd.Image != "-" && !slices.Contains(args, "--") {
			t.Fatalf("%s %q: image %q is an option", rt, args, fd.Image)
		}
	}
	// Redaction: the evidence of -e NAME=VALUE with a secret NAME shows
	// NAME and [REDACTED] in place of all of VALUE, and no evidence holds
	// NAME=VALUE.
	for _, o := range envOptions(rt, args) {
		name, val, ok := strings.Cut(o.value, "=")
		if !ok || !SecretName(name) || strings.TrimSpace(val) == "" || val == Redacted || !strings.HasSuffix(o.text, val) {
			continue
		}
		if !fd.Has(EnvSecret) {
			t.Fatalf("%s %q: secret env %q without ENV_SECRET", rt, args, o.text)
		}
		for _, fl := range fd.Flags {
			for _, ev := range fl.Evidence {
				if strings.Contains(ev, name+"="+val) {
					t.Fatalf("%s %q: evidence %q shows the secret %s=%s", rt, args, ev, name, val)
					return
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
		// Whitespace at the end of VALUE may stay: it tells nothing.
		if !slices.ContainsFunc(emitted, func(ev string) bool { return strings.TrimRight(ev, " \t\r\n") == want }) {
			t.Fatalf("%s %q: no evidence %q for the secret env %q, but %q", rt, args, want, o.text, emitted)
		}
	}
}

package detect

import (
	"path"
	"strings"
)

// Detector recognises container-runtime command lines and scores the
// dangerous options they launch a container with. Its fields are read, never
// written, by Inspect: a Detector may be shared by goroutines once set up.
type Detector struct {
	// Weights scores each category.
	Weights Weights
	// Threshold is the score at which a finding is an alert.
	Threshold int
	// AlertUnread makes a finding whose deployment file could not be read
	// an alert whatever its score (the default): its danger is unknown.
	AlertUnread bool

	paths   hostPaths
	secrets *Secrets
}

// NewDetector returns a Detector with the default weights, threshold,
// sensitive paths and secret names.
func NewDetector() *Detector {
	d := &Detector{Weights: DefaultWeights, Threshold: DefaultThreshold, AlertUnread: true, secrets: NewSecrets()}
	d.paths.sensitive = append([]string(nil), DefaultSensitivePaths...)
	return d
}

// AddSensitivePaths adds host paths whose bind mount fires HOST_MOUNT. Call
// it while setting the Detector up, before it is shared.
func (d *Detector) AddSensitivePaths(paths ...string) {
	for _, p := range paths {
		d.paths.sensitive = append(d.paths.sensitive, path.Clean(p))
	}
}

// AddSecretNames adds globs ("VAULT_*", "*_CERT") of environment variable
// names that fire ENV_SECRET and are redacted. Call it while setting the
// Detector up, before it is shared.
func (d *Detector) AddSecretNames(globs ...string) {
	d.secrets = NewSecrets(append(d.secrets.extra, globs...)...)
}

// Secrets returns the detector's secret patterns, for redacting what is
// emitted with the same rules.
func (d *Detector) Secrets() *Secrets { return d.secrets }

// redact redacts a piece of evidence or a note.
func (d *Detector) redact(s string) string { return d.secrets.String(s) }

// secretName reports whether an environment variable name is a credential.
func (d *Detector) secretName(n string) bool { return d.secrets.Name(n) }

// Alerts reports whether f is an alert: it scores at or above the
// threshold, or (with AlertUnread) it deploys from a file that could not be
// read.
func (d *Detector) Alerts(f *Finding) bool {
	return f != nil && (f.Score >= d.Threshold || (d.AlertUnread && f.Unread()))
}

// Command is one exec as the detector needs it.
type Command struct {
	Argv []string
	Exe  string // the executed file, as the kernel names it; may be empty
	Cwd  string // the working directory, for relative paths; may be empty
	// Files reads the manifests and configs the command line names; nil
	// means they are not read (the finding says so).
	Files *FileReader
	// ParentExe and ParentArgv describe the parent, when known: a compose
	// provider run by docker or podman for the same action, and the
	// podman/nerdctl create or run a compose tool execs for each service,
	// are scored once, at the exec that named the compose file.
	ParentExe  string
	ParentArgv []string
}

// Inspect recognises a container CLI by the basename of its executable or
// of argv[0] (any case: /usr/bin/docker, ./docker/docker, DOCKER; a tool that
// names itself kubectl in argv[0]; k3s kubectl, microk8s kubectl) and parses
// its arguments as that CLI does. It returns nil for any other program,
// wrappers such as sudo included: their child is the runtime's own exec.
func (d *Detector) Inspect(cmd Command) *Finding {
	rt, args := Runtime(cmd.Argv, cmd.Exe)
	if rt == "" {
		return nil // most execs: nothing allocated
	}
	return d.inspect(cmd, rt, args)
}

func (d *Detector) inspect(c Command, rt string, args []string) *Finding {
	f := &Finding{Runtime: rt}
	if c.Files != nil {
		f.ReadAt = c.Files.When
	}
	var h hits
	if composeChild(rt, args, c) {
		f.Action = "run"
		if len(args) > 0 {
			f.Action = args[0]
		}
		f.Notes = append(f.Notes, "run by a compose tool for its service: scored at the compose exec")
		return f
	}
	switch rt {
	case "docker", "podman", "nerdctl":
		d.dockerFamily(&c, cliOf(rt), args, f, &h)
	case "kubectl", "oc":
		d.kubectl(&c, args, f, &h)
	case "ctr":
		d.ctr(args, c.Cwd, f, &h)
	case "crictl":
		d.crictl(&c, args, f, &h)
	case "docker-compose", "podman-compose":
		d.composeCLI(&c, args, f, &h)
	}
	h.score(&d.Weights, f)
	// Notes quote arguments (an unknown flag, a remote daemon): redact them
	// like evidence. So are the paths of the files read.
	for i, n := range f.Notes {
		f.Notes[i] = d.redact(n)
	}
	for i := range f.Manifests {
		f.Manifests[i].Path = d.redact(f.Manifests[i].Path)
	}
	return f
}

// composeChild reports whether a docker-family run or create was executed
// by a compose tool (podman-compose, docker-compose v1, nerdctl compose)
// launching a service of the compose file it already scored.
func composeChild(rt string, args []string, c Command) bool {
	if rt != "podman" && rt != "nerdctl" && rt != "docker" {
		return false
	}
	if sub, _ := cliOf(rt).global.command(args); sub != "run" && sub != "create" && sub != "container" {
		return false
	}
	prt, pargs := Runtime(c.ParentArgv, c.ParentExe)
	switch prt {
	case "podman-compose", "docker-compose":
		return true
	case "nerdctl", "podman", "docker":
		sub, _ := cliOf(prt).global.command(pargs)
		return sub == "compose"
	}
	return false
}

// runtimeNames are the container CLIs Inspect recognises.
var runtimeNames = [...]string{"docker", "podman", "nerdctl", "kubectl", "oc", "ctr", "crictl", "docker-compose", "podman-compose"}

// multiCall are binaries that run a runtime CLI named by their first
// argument: k3s kubectl, k3s ctr, microk8s kubectl.
var multiCall = [...]string{"k3s", "microk8s", "k0s", "rke2"}

// Runtime returns the container CLI a command line runs and the arguments
// that CLI parses, or "" for any other program. The executable's basename
// wins over argv[0]'s when it names a runtime; a multi-call binary (k3s)
// dispatches on argv[0] (a kubectl symlink) or on argv[1] (k3s kubectl).
func Runtime(argv []string, exe string) (string, []string) {
	args := argv
	if len(args) > 0 {
		args = args[1:]
	}
	if rt := runtimeName(exe); rt != "" {
		return rt, args
	}
	if len(argv) == 0 {
		return "", nil
	}
	if rt := runtimeName(argv[0]); rt != "" {
		return rt, args
	}
	base := strings.ToLower(path.Base(argv[0]))
	if interpreter(path.Base(exe)) || interpreter(base) {
		// A script run by its interpreter: the kernel records argv as
		// [python3, /usr/bin/podman-compose, up, ...], exe python3.
		for i := 1; i < len(argv) && i < 4; i++ {
			if a := argv[i]; strings.HasPrefix(a, "-") {
				if strings.ContainsAny(a[1:], "ce") && !strings.HasPrefix(a, "--") {
					// -c/-e: inline code; a runtime it starts execs on its own.
					return "", nil
				}
				continue // the interpreter's own options (-u, -E)
			}
			if rt := runtimeName(argv[i]); rt != "" {
				return rt, argv[i+1:]
			}
			break
		}
	}
	for _, m := range multiCall {
		if base == m && len(argv) > 1 {
			if rt := runtimeName(argv[1]); rt != "" && !strings.Contains(argv[1], "/") {
				return rt, argv[2:]
			}
		}
		// microk8s.kubectl, the snap's alias
		if rest, ok := strings.CutPrefix(base, m+"."); ok {
			if rt := runtimeName(rest); rt != "" {
				return rt, args
			}
		}
	}
	return "", nil
}

// interpreter reports whether a program name is a script interpreter.
func interpreter(name string) bool {
	n := strings.ToLower(name)
	for _, p := range [...]string{"python", "sh", "bash", "dash", "zsh", "perl", "ruby", "node"} {
		if n == p || (strings.HasPrefix(n, p) && strings.Trim(n[len(p):], "0123456789.") == "") {
			return true
		}
	}
	return false
}

func runtimeName(p string) string {
	if p == "" {
		return ""
	}
	b := path.Base(p)
	for _, n := range runtimeNames {
		if strings.EqualFold(b, n) {
			return n
		}
	}
	return ""
}

// Unwrap strips the wrappers a command line may start with — sudo, doas,
// env, timeout, nohup, nice, ionice, stdbuf, setsid, time, with their own
// options — and returns the command they run. In the exec stream each
// wrapper execs its command separately, so only explain needs this.
func Unwrap(argv []string) []string {
	for len(argv) > 0 {
		name := path.Base(argv[0])
		valueOpts, ok := wrappers[name]
		if !ok {
			return argv
		}
		i := 1
		for i < len(argv) {
			a := argv[i]
			switch {
			case a == "--":
				i++
			case name == "env" && strings.Contains(a, "=") && !strings.HasPrefix(a, "-"):
				i++
				continue
			case strings.HasPrefix(a, "-") && len(a) > 1:
				i++
				if strings.Contains(valueOpts, " "+a+" ") && i < len(argv) {
					i++
				}
				continue
			}
			break
		}
		if name == "timeout" && i < len(argv) {
			i++ // the duration
		}
		argv = argv[i:]
	}
	return argv
}

// wrappers maps each wrapper to its options that take a separate value.
var wrappers = map[string]string{
	"sudo":    " -u -g -C -D -h -p -r -t -U -T -R ",
	"doas":    " -u -C ",
	"env":     " -u -C -S --unset --chdir --split-string ",
	"timeout": " -s -k --signal --kill-after ",
	"nohup":   "",
	"nice":    " -n --adjustment ",
	"ionice":  " -c -n -p -P -u --class --classdata ",
	"stdbuf":  " -i -o -e --input --output --error ",
	"setsid":  "",
	"time":    " -f -o --format --output ",
}

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

	paths hostPaths
}

// NewDetector returns a Detector with the default weights, threshold and
// sensitive paths, and extra sensitive host paths added to those.
func NewDetector(extraSensitive ...string) *Detector {
	d := &Detector{Weights: DefaultWeights, Threshold: DefaultThreshold}
	d.paths.sensitive = append(append([]string(nil), DefaultSensitivePaths...), extraSensitive...)
	return d
}

// Alerts reports whether f scores at or above the threshold.
func (d *Detector) Alerts(f *Finding) bool { return f != nil && f.Score >= d.Threshold }

// Command is one exec as the detector needs it.
type Command struct {
	Argv []string
	Exe  string // the executed file, as the kernel names it; may be empty
	Cwd  string // the working directory, for relative paths; may be empty
}

// Inspect recognises a container CLI by the basename of its executable or
// of argv[0] (any case: /usr/bin/docker, ./docker/docker, DOCKER) and parses
// its arguments as that CLI does. It returns nil for any other program,
// wrappers such as sudo included: their child is the runtime's own exec.
func (d *Detector) Inspect(c Command) *Finding {
	rt := Runtime(c.Argv, c.Exe)
	if rt == "" {
		return nil
	}
	f := &Finding{Runtime: rt}
	var h hits
	args := c.Argv
	if len(args) > 0 {
		args = args[1:]
	}
	switch rt {
	case "docker", "podman", "nerdctl":
		d.dockerFamily(cliOf(rt), args, c.Cwd, f, &h)
	}
	h.score(&d.Weights, f)
	return f
}

// runtimeNames are the container CLIs Inspect recognises.
var runtimeNames = [...]string{"docker", "podman", "nerdctl"}

// Runtime returns the container CLI a command line runs, or "". The
// executable's basename wins over argv[0]'s when both name a runtime.
func Runtime(argv []string, exe string) string {
	if rt := runtimeName(exe); rt != "" {
		return rt
	}
	if len(argv) > 0 {
		return runtimeName(argv[0])
	}
	return ""
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

package detect

import (
	"encoding/csv"
	"path"
	"strings"
)

// dockerCLI is one docker-compatible CLI: its root command's flags and those
// of the commands that launch or enter a container.
type dockerCLI struct {
	name    string
	global  flagSet // flags of the root command, before the subcommand
	run     flagSet // run and create (container run|create)
	exec    flagSet // exec (container exec)
	service flagSet // service create; docker only
}

// The CLIs. Podman and nerdctl register most root flags as persistent
// (cobra), accepted after the subcommand too: their run and exec tables hold
// those. Docker's root flags are valid only before the subcommand.
var (
	dockerCmd = &dockerCLI{
		name:    "docker",
		global:  dockerGlobalFlags,
		run:     dockerContainerRunFlags,
		exec:    dockerExecFlags,
		service: dockerServiceCreateFlags,
	}
	podmanCmd = &dockerCLI{
		name:   "podman",
		global: podmanGlobalFlags,
		run:    podmanContainerRunFlags,
		exec:   podmanExecFlags,
	}
	nerdctlCmd = &dockerCLI{
		name:   "nerdctl",
		global: nerdctlGlobalFlags,
		run:    nerdctlContainerRunFlags,
		exec:   nerdctlExecFlags,
	}
)

func cliOf(rt string) *dockerCLI {
	switch rt {
	case "podman":
		return podmanCmd
	case "nerdctl":
		return nerdctlCmd
	}
	return dockerCmd
}

// dockerFamily parses the arguments (argv without argv[0]) of a docker,
// podman or nerdctl command line.
func (d *Detector) dockerFamily(c *Command, cli *dockerCLI, args []string, f *Finding, h *hits) {
	cwd := c.Cwd
	g := cli.global.parse(args, false)
	f.Notes = append(f.Notes, g.notes...)
	for _, o := range g.opts {
		d.globalOption(o, f)
	}
	if len(g.args) == 0 {
		return
	}
	sub, rest := g.args[0], g.args[1:]
	if sub == "container" && len(rest) > 0 {
		sub, rest = rest[0], rest[1:]
	}
	f.Action = sub
	var p parsedArgs
	switch {
	case sub == "run" || sub == "create":
		p = cli.run.parse(rest, false)
	case sub == "exec":
		p = cli.exec.parse(rest, false)
	case sub == "compose":
		d.compose(c, cli.name+" compose", rest, f, h)
		return
	case cli == podmanCmd && (sub == "kube" || sub == "play") && len(rest) > 0 && (rest[0] == "play" || rest[0] == "kube"):
		f.Action = "kube play"
		d.kubePlay(c, rest[1:], f, h)
		return
	case sub == "service" && cli.service.long != nil && len(rest) > 0 && rest[0] == "create":
		f.Action = "service create"
		p = cli.service.parse(rest[1:], false)
	default:
		return
	}
	f.Notes = append(f.Notes, p.notes...)
	rootfs := false
	for _, o := range p.opts {
		if o.name == "rootfs" && o.value == "true" && cli == podmanCmd {
			rootfs = true
			continue
		}
		if f.Action != "exec" || o.name == "privileged" || o.name == "env" {
			d.containerOption(o, cwd, f, h)
		} else {
			d.globalOption(o, f)
		}
	}
	if len(p.args) == 0 {
		if f.Action != "exec" {
			f.Notes = append(f.Notes, "no image: the CLI would refuse this command line")
		}
		return
	}
	switch {
	case f.Action == "exec":
	case rootfs:
		// podman run --rootfs PATH: the container's root is a host directory.
		if hp, ok := cleanHostPath(p.args[0], cwd); ok {
			d.hostPath(hp, d.redact("--rootfs "+p.args[0]), h)
		}
	default:
		f.Image = p.args[0]
	}
}

// globalOption notes where a command line sends its request: a remote
// daemon (-H tcp://…, --url, --connection, --context).
func (d *Detector) globalOption(o option, f *Finding) {
	switch o.name {
	case "host", "url", "connection", "context", "remote", "address":
		if o.value != "" && o.value != "false" {
			f.Notes = append(f.Notes, "daemon: "+d.redact(o.text))
		}
	}
}

// containerOption scores one option of run, create, exec or service create.
func (d *Detector) containerOption(o option, cwd string, f *Finding, h *hits) {
	ev := d.redact(o.text)
	v := o.value
	switch o.name {
	case "privileged":
		if v == "true" {
			h.add(Privileged, ev)
		}
	case "network", "net":
		if hostNamespace(networkName(v), "net") {
			h.add(HostNet, ev)
		}
	case "pid":
		if hostNamespace(v, "pid") {
			h.add(HostPID, ev)
		}
	case "ipc":
		if hostNamespace(v, "ipc") {
			h.add(HostIPC, ev)
		}
	case "uts":
		if hostNamespace(v, "uts") {
			h.add(HostUTS, ev)
		}
	case "userns":
		if hostNamespace(v, "user") {
			h.add(HostUserns, ev)
		}
	case "cgroupns":
		if hostNamespace(v, "cgroup") {
			h.add(HostCgroupns, ev)
		}
	case "volume":
		if src, ok := volumeSource(v); ok {
			if hp, ok := cleanHostPath(src, cwd); ok {
				d.hostPath(hp, ev, h)
			}
		}
	case "mount":
		if src, ok := mountSource(v); ok {
			if hp, ok := cleanHostPath(src, cwd); ok {
				d.hostPath(hp, ev, h)
			}
		}
	case "cap-add":
		for _, c := range strings.Split(v, ",") {
			if dangerousCap(c) {
				h.add(CapAdd, ev)
			}
		}
	case "security-opt":
		if unconfined(v) {
			h.add(NoSeccomp, ev)
		}
	case "device":
		host, _, _ := strings.Cut(v, ":")
		if strings.HasPrefix(host, "/") && dangerousDevice(path.Clean(host)) {
			h.add(Device, ev)
		}
	case "device-cgroup-rule":
		if dangerousCgroupRule(v) {
			h.add(Device, ev)
		}
	case "env":
		d.envOption(o, h)
	case "env-file":
		f.Notes = append(f.Notes, "environment file not inspected: "+ev)
	case "use-api-socket":
		if v == "true" {
			h.add(RuntimeSocket, ev)
		}
	}
}

// envOption scores -e/--env NAME[=VALUE]: ENV_SECRET when NAME looks like a
// credential, with the whole value redacted in the evidence (a value may
// hold spaces or quotes; the option's text ends with it).
func (d *Detector) envOption(o option, h *hits) {
	name, _, hasValue := strings.Cut(o.value, "=")
	if !d.secretName(name) {
		return
	}
	ev := d.redact(o.text)
	if hasValue {
		ev = d.redact(strings.TrimSuffix(o.text, o.value)) + name + "=" + Redacted
	}
	h.add(EnvSecret, ev)
}

// hostPath scores a bind mount of clean host path p.
func (d *Detector) hostPath(p, evidence string, h *hits) {
	socket, mount := d.paths.classify(p)
	if socket {
		h.add(RuntimeSocket, evidence)
	}
	if mount {
		h.add(HostMount, evidence)
	}
}

// hostNamespace reports whether a namespace option joins the host's: "host",
// or podman's ns:/proc/1/ns/KIND (the namespace of the host's init).
func hostNamespace(v, kind string) bool {
	v = strings.TrimSpace(v)
	if strings.EqualFold(v, "host") {
		return true
	}
	if p, ok := strings.CutPrefix(v, "ns:"); ok {
		return path.Clean(p) == "/proc/1/ns/"+kind
	}
	return false
}

// networkName returns the network of a --network value, which may use the
// advanced syntax name=host,alias=web.
func networkName(v string) string {
	if !strings.Contains(v, "=") {
		return v
	}
	for _, kv := range strings.Split(v, ",") {
		if k, val, ok := strings.Cut(kv, "="); ok && strings.TrimSpace(k) == "name" {
			return val
		}
	}
	return v
}

// volumeSource returns the host side of a -v SRC:DST[:OPTS] value; ok is false
// for an anonymous volume (-v /data).
func volumeSource(v string) (string, bool) {
	src, rest, ok := strings.Cut(v, ":")
	if !ok || rest == "" || src == "" {
		return "", false
	}
	return src, true
}

// mountSource returns the host path of a --mount value of type bind (or
// podman's glob): CSV fields as the docker CLI reads them, quotes included
// ("type=bind,\"source=/a,b\",target=/x"). Docker's default type is volume.
func mountSource(v string) (string, bool) {
	r := csv.NewReader(strings.NewReader(v))
	r.LazyQuotes = true
	fields, err := r.Read()
	if err != nil {
		return "", false
	}
	typ, src := "volume", ""
	for _, fld := range fields {
		k, val, _ := strings.Cut(fld, "=")
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "type":
			typ = strings.ToLower(strings.TrimSpace(val))
		case "source", "src":
			src = val
		}
	}
	if (typ != "bind" && typ != "glob") || src == "" {
		return "", false
	}
	return src, true
}

// unconfined reports whether a --security-opt value turns a protection off:
// seccomp, AppArmor or SELinux unconfined/disabled, the masked /proc and
// /sys paths exposed, in the = or the older : syntax.
func unconfined(v string) bool {
	sep := strings.IndexAny(v, "=:")
	if sep < 0 {
		return false
	}
	k := strings.ToLower(strings.TrimSpace(v[:sep]))
	val := strings.ToLower(strings.TrimSpace(v[sep+1:]))
	switch k {
	case "seccomp", "apparmor", "systempaths":
		return val == "unconfined"
	case "label":
		return val == "disable" || val == "type:spc_t" || val == "type=spc_t"
	case "unmask":
		return val != ""
	}
	return false
}

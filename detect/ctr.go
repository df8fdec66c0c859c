package detect

import (
	"path"
	"strings"
)

// ctr parses a ctr (containerd) command line: run and container create,
// with urfave/cli's rules. Every other subcommand (images, tasks,
// snapshots, ...) only manages what exists and never alerts.
func (d *Detector) ctr(args []string, cwd string, f *Finding, h *hits) {
	g := ctrGlobalFlags.parseGo(args)
	f.Notes = append(f.Notes, g.notes...)
	for _, o := range g.opts {
		d.globalOption(o, f)
	}
	if len(g.args) == 0 {
		return
	}
	sub, rest := g.args[0], g.args[1:]
	var table flagSet
	switch {
	case sub == "run":
		f.Action, table = "run", ctrRunFlags
	case (sub == "container" || sub == "containers" || sub == "c") && len(rest) > 0 && rest[0] == "create":
		f.Action, table, rest = "create", ctrContainerCreateFlags, rest[1:]
	default:
		f.Action = sub
		return
	}
	p := table.parseGo(rest)
	f.Notes = append(f.Notes, p.notes...)
	rootfs := false
	for _, o := range p.opts {
		ev := d.redact(o.text)
		switch o.name {
		case "privileged", "privileged-without-host-devices":
			if o.value == "true" {
				h.add(Privileged, ev)
			}
		case "net-host":
			if o.value == "true" {
				h.add(HostNet, ev)
			}
		case "with-ns":
			// TYPE:PATH; the namespaces of pid 1 are the host's.
			typ, nsPath, _ := strings.Cut(o.value, ":")
			if path.Clean(nsPath) != "/proc/1/ns/"+map[string]string{"network": "net", "pid": "pid", "ipc": "ipc", "uts": "uts"}[typ] {
				break
			}
			switch typ {
			case "network":
				h.add(HostNet, ev)
			case "pid":
				h.add(HostPID, ev)
			case "ipc":
				h.add(HostIPC, ev)
			case "uts":
				h.add(HostUTS, ev)
			}
		case "mount":
			if src, ok := ctrMountSource(o.value); ok {
				if hp, ok := cleanHostPath(src, cwd); ok {
					d.hostPath(hp, ev, h)
				}
			}
		case "rootfs":
			rootfs = o.value == "true"
		default:
			d.containerOption(o, cwd, f, h)
		}
	}
	if len(p.args) == 0 {
		f.Notes = append(f.Notes, "no image: ctr would refuse this command line")
		return
	}
	if rootfs {
		if hp, ok := cleanHostPath(p.args[0], cwd); ok {
			d.hostPath(hp, d.redact("--rootfs "+p.args[0]), h)
		}
		return
	}
	f.Image = p.args[0]
}

// ctrMountSource returns the host path of ctr's --mount
// type=bind,src=/,dst=/host,options=rbind:ro.
func ctrMountSource(v string) (string, bool) {
	typ, src, bind := "", "", false
	for _, kv := range strings.Split(v, ",") {
		k, val, _ := strings.Cut(kv, "=")
		switch k {
		case "type":
			typ = val
		case "src", "source":
			src = val
		case "options":
			for _, o := range strings.Split(val, ":") {
				bind = bind || o == "bind" || o == "rbind"
			}
		}
	}
	// A bind is type=bind, or any type with the bind or rbind option (how
	// containerd's mount options make one).
	if src == "" || (typ != "bind" && typ != "rbind" && !bind) {
		return "", false
	}
	return src, true
}

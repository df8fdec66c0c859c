package detect

import (
	"encoding/json"
	"fmt"
	"path"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The kubectl commands' tables, with the persistent global flags that cobra
// accepts anywhere on the line.
var (
	kubectlRun     = join(kubectlRunFlags, kubectlGlobalFlags)
	kubectlDebug   = join(kubectlDebugFlags, kubectlGlobalFlags)
	kubectlApply   = join(kubectlApplyFlags, kubectlGlobalFlags)
	kubectlCreate  = join(kubectlCreateFlags, kubectlGlobalFlags)
	kubectlReplace = join(kubectlReplaceFlags, kubectlGlobalFlags)
)

// kubectl parses a kubectl (or oc) command line: run, debug, and the
// commands that deploy from files (apply, create, replace).
func (d *Detector) kubectl(c *Command, args []string, f *Finding, h *hits) {
	sub, rest := kubectlGlobalFlags.command(args)
	f.Action = sub
	switch sub {
	case "run":
		p := kubectlRun.parse(rest, true)
		f.Notes = append(f.Notes, p.notes...)
		d.kubectlRun(p, f, h)
	case "debug":
		p := kubectlDebug.parse(rest, true)
		f.Notes = append(f.Notes, p.notes...)
		d.kubectlDebugCmd(c, p, f, h)
	case "apply", "create", "replace":
		table := map[string]flagSet{"apply": kubectlApply, "create": kubectlCreate, "replace": kubectlReplace}[sub]
		p := table.parse(rest, true)
		f.Notes = append(f.Notes, p.notes...)
		d.kubectlFiles(c, p, f, h)
	}
}

func (d *Detector) kubectlRun(p parsedArgs, f *Finding, h *hits) {
	for _, o := range p.opts {
		ev := d.redact(o.text)
		switch o.name {
		case "image":
			f.Image = o.value
		case "privileged":
			if o.value == "true" {
				h.add(Privileged, ev)
			}
		case "env":
			d.envOption(o, h)
		case "overrides":
			d.overrides(o.value, f, h)
		}
	}
}

// overrides scores kubectl run --overrides: a partial Pod as JSON, or a JSON
// patch (--override-type=json) whose operations are applied to an empty Pod.
func (d *Detector) overrides(v string, f *Finding, h *hits) {
	var doc any
	if err := json.Unmarshal([]byte(v), &doc); err != nil {
		f.Notes = append(f.Notes, "--overrides is not JSON: "+err.Error())
		return
	}
	pod, ok := doc.(map[string]any)
	if ops, isPatch := doc.([]any); isPatch {
		pod, ok = map[string]any{}, true
		for _, op := range ops {
			o, _ := op.(map[string]any)
			if kind, _ := o["op"].(string); kind == "add" || kind == "replace" {
				if p, ok := o["path"].(string); ok {
					setPointer(pod, strings.Split(strings.TrimPrefix(p, "/"), "/"), o["value"])
				}
			}
		}
	}
	if ok {
		image := f.Image
		d.podSpec(mapAt(pod, "spec"), "--overrides", "spec", f, h)
		if image != "" {
			f.Image = image
		}
	}
}

// setPointer returns doc with the value at the JSON pointer parts
// (["spec", "containers", "0", "image"]) set to v, creating objects and
// array slots on the way.
func setPointer(doc any, parts []string, v any) any {
	if len(parts) == 0 {
		return v
	}
	key := strings.ReplaceAll(strings.ReplaceAll(parts[0], "~1", "/"), "~0", "~")
	switch d := doc.(type) {
	case map[string]any:
		d[key] = setPointer(d[key], parts[1:], v)
		return d
	case []any:
		idx, err := strconv.Atoi(key)
		if err != nil {
			idx = len(d) // "-": append
		}
		if idx < 0 || idx > 64 {
			return d
		}
		for len(d) <= idx {
			d = append(d, nil)
		}
		d[idx] = setPointer(d[idx], parts[1:], v)
		return d
	}
	if _, err := strconv.Atoi(key); err == nil || key == "-" {
		return setPointer([]any{}, parts, v)
	}
	return setPointer(map[string]any{}, parts, v)
}

// kubectlDebugCmd scores kubectl debug by the profile it runs with, as
// kubectl's profiles.go applies them. A node target (node/NAME) gets the
// host's network, PID and IPC namespaces under every profile but baseline and
// restricted, and the host's / at /host under legacy, general (the default
// since kubectl 1.36; legacy before) and sysadmin. sysadmin is privileged for
// any target; netadmin adds NET_ADMIN and NET_RAW; general adds SYS_PTRACE to
// a pod's debug container (scored only when the profile is named: older
// kubectl defaults to legacy, which adds nothing). oc debug node/NAME is
// always privileged with the host's namespaces and / at /host.
func (d *Detector) kubectlDebugCmd(c *Command, p parsedArgs, f *Finding, h *hits) {
	profile, profileText := "", ""
	for _, o := range p.opts {
		switch o.name {
		case "image":
			f.Image = o.value
		case "profile":
			profile, profileText = o.value, o.text
		case "env":
			d.envOption(o, h)
		case "custom":
			d.debugCustom(c, o, f, h)
		}
	}
	for _, target := range p.args {
		kind, _, hasKind := strings.Cut(target, "/")
		node := hasKind && (kind == "node" || kind == "nodes" || kind == "no")
		ev := d.redact(strings.TrimSpace("debug " + target + " " + profileText))
		if f.Runtime == "oc" {
			if node {
				h.add(Privileged, ev)
				d.debugNode(ev, true, h)
			}
			continue
		}
		switch profile {
		case "sysadmin":
			h.add(Privileged, ev)
		case "netadmin":
			h.add(CapAdd, ev+" (NET_ADMIN, NET_RAW)")
		case "general":
			if !node {
				h.add(CapAdd, ev+" (SYS_PTRACE)")
			}
		}
		if node && profile != "baseline" && profile != "restricted" {
			d.debugNode(ev, profile != "netadmin", h)
		}
	}
}

// debugNode scores a debug pod on a node: the host's namespaces and, with
// hostRoot, the host's / mounted at /host.
func (d *Detector) debugNode(ev string, hostRoot bool, h *hits) {
	h.add(HostNet, ev)
	h.add(HostPID, ev)
	h.add(HostIPC, ev)
	if hostRoot {
		h.add(HostMount, ev+" (host / at /host)")
	}
}

// debugCustom scores kubectl debug --custom FILE: a partial container spec
// (JSON or YAML) laid over the profile's, which may set its securityContext.
func (d *Detector) debugCustom(c *Command, o option, f *Finding, h *hits) {
	p := resolve(o.value, c.Cwd)
	data, err := c.Files.read(p)
	if err != nil {
		f.Manifests = append(f.Manifests, ManifestRead{Path: p, Reason: err.Error()})
		return
	}
	f.Manifests = append(f.Manifests, ManifestRead{Path: p, Read: true})
	var ctr map[string]any
	if err := yaml.Unmarshal(data, &ctr); err != nil {
		f.Notes = append(f.Notes, fmt.Sprintf("%s: %v", p, err))
		return
	}
	ev := func(field string, v any) string {
		return d.redact(fmt.Sprintf("--custom %s: %s: %v", o.value, field, v))
	}
	d.securityContext(mapAt(ctr, "securityContext"), ev, "securityContext", false, h)
}

// kubectlFiles reads and scores what apply, create and replace deploy:
// -f FILE|DIR|URL|- (repeatable, -R for subfolders) and -k DIR.
func (d *Detector) kubectlFiles(c *Command, p parsedArgs, f *Finding, h *hits) {
	recursive := false
	for _, o := range p.opts {
		if o.name == "recursive" && o.value == "true" {
			recursive = true
		}
	}
	for _, o := range p.opts {
		switch o.name {
		case "filename":
			for _, v := range strings.Split(o.value, ",") {
				d.kubectlFile(c, v, recursive, f, h)
			}
		case "kustomize":
			d.kustomization(c, o.value, f, h)
		}
	}
}

func (d *Detector) kubectlFile(c *Command, v string, recursive bool, f *Finding, h *hits) {
	if d.notAFile(v, f) {
		return
	}
	p := resolve(v, c.Cwd)
	if c.Files.isDir(p) {
		files, err := c.Files.list(p, recursive)
		if err != nil || len(files) == 0 {
			reason := "no .yaml, .yml or .json files in the directory"
			if err != nil {
				reason = err.Error()
			}
			f.Manifests = append(f.Manifests, ManifestRead{Path: p, Reason: reason})
			return
		}
		for _, file := range files {
			d.manifestFile(c, file, f, h)
		}
		return
	}
	d.manifestFile(c, p, f, h)
}

// kustomization scores the local resources a kustomization lists. Patches
// and generators are not applied: the note says so.
func (d *Detector) kustomization(c *Command, dir string, f *Finding, h *hits) {
	d.kustomize(c, dir, map[string]bool{}, f, h)
}

// maxKustomizations bounds how many kustomizations one command line may
// make t1610d read.
const maxKustomizations = 64

func (d *Detector) kustomize(c *Command, dir string, seen map[string]bool, f *Finding, h *hits) {
	if strings.Contains(dir, "://") {
		f.Manifests = append(f.Manifests, ManifestRead{Path: d.redact(dir), Reason: "a remote kustomization: t1610d does not fetch it"})
		return
	}
	base := resolve(dir, c.Cwd)
	if seen[base] || len(seen) >= maxKustomizations {
		f.Notes = append(f.Notes, d.redact("kustomization "+base+" already read or too many: not read again"))
		return
	}
	seen[base] = true
	var data []byte
	var err error
	file := ""
	for _, n := range []string{"kustomization.yaml", "kustomization.yml", "Kustomization"} {
		file = path.Join(base, n)
		if data, err = c.Files.read(file); err == nil {
			break
		}
	}
	if err != nil {
		f.Manifests = append(f.Manifests, ManifestRead{Path: base, Reason: "no readable kustomization: " + err.Error()})
		return
	}
	f.Manifests = append(f.Manifests, ManifestRead{Path: file, Read: true})
	var k struct {
		Resources []string `yaml:"resources"`
		Bases     []string `yaml:"bases"`
	}
	if err := yaml.Unmarshal(data, &k); err != nil {
		f.Notes = append(f.Notes, fmt.Sprintf("%s: %v", file, err))
		return
	}
	f.Notes = append(f.Notes, "kustomize: resources scored as written; patches and generators not applied")
	for _, r := range append(k.Resources, k.Bases...) {
		if strings.Contains(r, "://") {
			f.Manifests = append(f.Manifests, ManifestRead{Path: d.redact(r), Reason: "a remote resource: t1610d does not fetch it"})
			continue
		}
		rp := path.Join(base, r)
		if c.Files.isDir(rp) {
			d.kustomize(c, rp, seen, f, h)
			continue
		}
		d.manifestFile(c, rp, f, h)
	}
}

// resolve makes a path named on a command line absolute against cwd.
func resolve(p, cwd string) string {
	if path.IsAbs(p) || cwd == "" {
		return path.Clean("/" + p)
	}
	return path.Join(cwd, p)
}

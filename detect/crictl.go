package detect

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"

	sigsyaml "sigs.k8s.io/yaml"
)

// crictl parses a crictl command line with urfave/cli's rules (Go flag
// package: -flag and --flag, options before the positional arguments): run
// CONTAINER-CONFIG POD-CONFIG, create POD-ID CONTAINER-CONFIG POD-CONFIG and
// runp POD-CONFIG read the CRI configs they name and score their fields.
// Every other subcommand (ps, logs, exec, inspect, stats, images, pull, rm,
// stop, ...) manages what exists and never alerts.
func (d *Detector) crictl(c *Command, args []string, f *Finding, h *hits) {
	g := crictlGlobalFlags.parseGo(args)
	f.Notes = append(f.Notes, g.notes...)
	for _, o := range g.opts {
		if o.name == "runtime-endpoint" || o.name == "image-endpoint" {
			f.Notes = append(f.Notes, "endpoint: "+d.redact(o.text))
		}
	}
	if len(g.args) == 0 {
		return
	}
	sub, rest := g.args[0], g.args[1:]
	f.Action = sub
	var table flagSet
	var want []string // what each positional argument is
	switch sub {
	case "run":
		table, want = crictlRunFlags, []string{"container", "pod"}
	case "create":
		table, want = crictlCreateFlags, []string{"pod-id", "container", "pod"}
	case "runp":
		table, want = crictlRunpFlags, []string{"pod"}
	default:
		return
	}
	p := table.parseGo(rest)
	f.Notes = append(f.Notes, p.notes...)
	for _, o := range p.opts {
		if o.name == "help" && o.value == "true" {
			return
		}
	}
	if len(p.args) > 0 {
		switch p.args[0] {
		case "jsonschema", "js", "help", "h":
			// A subcommand of run, create and runp: prints, launches nothing.
			f.Action = sub + " " + p.args[0]
			return
		}
	}
	if len(p.args) != len(want) {
		f.Notes = append(f.Notes, fmt.Sprintf("crictl %s takes %d arguments, got %d: crictl would refuse this command line", sub, len(want), len(p.args)))
	}
	for i, a := range p.args {
		if i >= len(want) {
			break
		}
		switch want[i] {
		case "container":
			if doc, src := d.criConfig(c, a, f); doc != nil {
				d.criContainer(doc, src, f, h)
			}
		case "pod":
			if doc, src := d.criConfig(c, a, f); doc != nil {
				d.criPod(doc, src, h)
			}
		}
	}
}

// criConfig reads a CRI config file named on the command line (JSON or
// YAML, as crictl reads it through sigs.k8s.io/yaml) and returns it with
// its keys normalised, and its basename for evidence. A file that cannot be
// read is recorded as such.
func (d *Detector) criConfig(c *Command, arg string, f *Finding) (map[string]any, string) {
	p := resolve(arg, c.Cwd)
	data, err := c.Files.read(p)
	if err != nil {
		f.Manifests = append(f.Manifests, ManifestRead{Path: p, Reason: err.Error()})
		return nil, ""
	}
	f.Manifests = append(f.Manifests, ManifestRead{Path: p, Read: true})
	src := path.Base(p)
	doc, err := decodeCRI(data)
	if err != nil {
		f.Notes = append(f.Notes, fmt.Sprintf("%s: %v", src, err))
		return nil, ""
	}
	return doc, src
}

// decodeCRI decodes a CRI config: JSON first (it may hold tabs, which YAML
// refuses), else YAML as crictl reads it (sigs.k8s.io/yaml: yes and on are
// true). Keys are normalised with criKey.
func decodeCRI(data []byte) (map[string]any, error) {
	var doc any
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && trimmed[0] == '{' && json.Unmarshal(trimmed, &doc) == nil {
		// decoded as JSON
	} else if err := sigsyaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	m, ok := criNormalize(doc).(map[string]any)
	if !ok {
		return nil, fmt.Errorf("not an object")
	}
	return m, nil
}

// criNormalize returns v with every object key in the snake_case form of
// the CRI's JSON names: crictl decodes with encoding/json, which matches
// keys in any case ("Privileged", "SECURITY_CONTEXT"), and the Kubernetes
// camelCase spelling ("securityContext") is accepted too. Two keys that
// normalise alike are merged: objects key by key, lists end to end, and of
// two scalars the one that is set (true, non-zero, non-empty) wins, so that a
// duplicate cannot hide a dangerous value.
func criNormalize(v any) any {
	switch t := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out := make(map[string]any, len(t))
		for _, k := range keys {
			nk, nv := criKey(k), criNormalize(t[k])
			if old, dup := out[nk]; dup {
				nv = criMerge(old, nv)
			}
			out[nk] = nv
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = criNormalize(e)
		}
		return out
	}
	return v
}

func criMerge(a, b any) any {
	switch x := a.(type) {
	case map[string]any:
		if y, ok := b.(map[string]any); ok {
			for k, v := range y {
				if old, dup := x[k]; dup {
					v = criMerge(old, v)
				}
				x[k] = v
			}
			return x
		}
	case []any:
		if y, ok := b.([]any); ok {
			return append(x, y...)
		}
	}
	if criSet(a) {
		return a
	}
	return b
}

// criSet reports whether a scalar is set: not false, zero, empty or null.
func criSet(v any) bool {
	switch t := v.(type) {
	case nil:
		return false
	case bool:
		return t
	case string:
		return t != ""
	case int:
		return t != 0
	case float64:
		return t != 0
	}
	return true
}

// criKey returns a key in lower snake_case: "securityContext" and
// "SECURITY_CONTEXT" are "security_context".
func criKey(k string) string {
	var b strings.Builder
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c >= 'A' && c <= 'Z' {
			if i > 0 && ((k[i-1] >= 'a' && k[i-1] <= 'z') || (k[i-1] >= '0' && k[i-1] <= '9')) {
				b.WriteByte('_')
			}
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return b.String()
}

// criContainer scores a ContainerConfig (k8s.io/cri-api runtime/v1).
func (d *Detector) criContainer(doc map[string]any, src string, f *Finding, h *hits) {
	ev := func(field string, v any) string {
		return d.redact(fmt.Sprintf("%s: %s: %v", src, field, v))
	}
	if img, ok := mapAt(doc, "image")["image"].(string); ok && f.Image == "" {
		f.Image = img
	}
	d.criSecurityContext(mapAt(mapAt(doc, "linux"), "security_context"), "linux.security_context", ev, h)
	for i, m := range sliceAt(doc, "mounts") {
		hp, ok := asMap(m)["host_path"].(string)
		if !ok || hp == "" {
			continue
		}
		// The runtime resolves the host path, not crictl: a relative one is
		// taken from / (the daemon's working directory).
		d.hostPath(path.Clean("/"+hp), ev(fmt.Sprintf("mounts[%d].host_path", i), hp), h)
	}
	for i, m := range sliceAt(doc, "devices") {
		hp, ok := asMap(m)["host_path"].(string)
		if ok && hp != "" && dangerousDevice(path.Clean("/"+hp)) {
			h.add(Device, ev(fmt.Sprintf("devices[%d].host_path", i), hp))
		}
	}
	for i, e := range sliceAt(doc, "envs") {
		kv := asMap(e)
		key, _ := kv["key"].(string)
		if d.secretName(key) && criSet(kv["value"]) {
			h.add(EnvSecret, ev(fmt.Sprintf("envs[%d]", i), key+"="+Redacted))
		}
	}
}

// criPod scores a PodSandboxConfig: the sandbox's namespaces, privilege and
// confinement, which its containers share.
func (d *Detector) criPod(doc map[string]any, src string, h *hits) {
	ev := func(field string, v any) string {
		return d.redact(fmt.Sprintf("%s: %s: %v", src, field, v))
	}
	d.criSecurityContext(mapAt(mapAt(doc, "linux"), "security_context"), "linux.security_context", ev, h)
}

// criSecurityContext scores a LinuxContainerSecurityContext or a
// LinuxSandboxSecurityContext at path at.
func (d *Detector) criSecurityContext(sc map[string]any, at string, ev func(string, any) string, h *hits) {
	if sc == nil {
		return
	}
	if sc["privileged"] == true {
		h.add(Privileged, ev(at+".privileged", true))
	}
	caps := mapAt(sc, "capabilities")
	for _, list := range []string{"add_capabilities", "add_ambient_capabilities"} {
		for i, c := range sliceAt(caps, list) {
			if s, ok := c.(string); ok && dangerousCap(s) {
				h.add(CapAdd, ev(fmt.Sprintf("%s.capabilities.%s[%d]", at, list, i), s))
			}
		}
	}
	ns := mapAt(sc, "namespace_options")
	for _, n := range []struct {
		field string
		cat   Category
	}{{"network", HostNet}, {"pid", HostPID}, {"ipc", HostIPC}} {
		if v, ok := ns[n.field]; ok && criNamespaceNode(v) {
			h.add(n.cat, ev(at+".namespace_options."+n.field, v))
		}
	}
	for _, prof := range []string{"seccomp", "apparmor"} {
		if v, ok := mapAt(sc, prof)["profile_type"]; ok && criUnconfined(v) {
			h.add(NoSeccomp, ev(at+"."+prof+".profile_type", v))
		}
	}
	// The deprecated string fields: "unconfined" turns the profile off.
	for _, old := range []string{"seccomp_profile_path", "apparmor_profile"} {
		if s, ok := sc[old].(string); ok && strings.EqualFold(strings.TrimSpace(s), "unconfined") {
			h.add(NoSeccomp, ev(at+"."+old, s))
		}
	}
}

// criNamespaceNode reports whether a NamespaceMode is NODE: 2 or "NODE"
// (POD = 0, CONTAINER = 1, TARGET = 3).
func criNamespaceNode(v any) bool { return criEnum(v, 2, "NODE") }

// criUnconfined reports whether a SecurityProfile.ProfileType is Unconfined:
// 1 or "Unconfined" (RuntimeDefault = 0, Localhost = 2).
func criUnconfined(v any) bool { return criEnum(v, 1, "Unconfined") }

func criEnum(v any, num int64, name string) bool {
	switch t := v.(type) {
	case int:
		return int64(t) == num
	case int64:
		return t == num
	case uint64:
		return t == uint64(num)
	case float64:
		return t == float64(num)
	case string:
		s := strings.TrimSpace(t)
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n == num
		}
		return strings.EqualFold(s, name)
	}
	return false
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

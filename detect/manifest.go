package detect

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"

	sigsyaml "sigs.k8s.io/yaml"
)

// FileReader reads the files a command line names (kubectl apply -f, crictl
// run, docker compose -f, podman kube play). Paths are resolved against the
// exec's working directory; only regular files up to MaxSize are read.
type FileReader struct {
	// FS is the host's file tree, rooted at /: os.DirFS("/") outside tests.
	FS fs.FS
	// MaxSize bounds a file's size; larger ones are not read.
	MaxSize int64
	// When says when the files are read relative to the exec: "event" (as it
	// was seen, live) or "replay" (later: they may have changed since).
	When string
}

// DefaultMaxManifest is the size limit of a file named on a command line.
const DefaultMaxManifest = 4 << 20

// ManifestRead says whether a file named on a command line could be read.
type ManifestRead struct {
	Path   string // absolute
	Read   bool
	Reason string // why it was not read
}

// read returns the contents of the regular file at absolute path p.
func (r *FileReader) read(p string) ([]byte, error) {
	if r == nil || r.FS == nil {
		return nil, errors.New("files are not read here")
	}
	name := strings.TrimPrefix(path.Clean(p), "/")
	if name == "" {
		name = "."
	}
	st, err := fs.Stat(r.FS, name)
	if err != nil {
		return nil, pathlessError(err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file (%s)", st.Mode().Type())
	}
	if max := r.MaxSize; max > 0 && st.Size() > max {
		return nil, fmt.Errorf("larger than the %d-byte limit (%d bytes)", max, st.Size())
	}
	f, err := r.FS.Open(name)
	if err != nil {
		return nil, pathlessError(err)
	}
	defer f.Close()
	limit := r.MaxSize
	if limit <= 0 {
		limit = DefaultMaxManifest
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, pathlessError(err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("grew beyond the %d-byte limit while read", limit)
	}
	return b, nil
}

// list returns the manifest files (.yaml, .yml, .json) in directory p, as
// kubectl -f DIR picks them, descending into subdirectories when recursive.
func (r *FileReader) list(p string, recursive bool) ([]string, error) {
	if r == nil || r.FS == nil {
		return nil, errors.New("files are not read here")
	}
	name := strings.TrimPrefix(path.Clean(p), "/")
	if name == "" {
		name = "."
	}
	var out []string
	err := fs.WalkDir(r.FS, name, func(q string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() {
			if q != name && !recursive {
				return fs.SkipDir
			}
			return nil
		}
		switch path.Ext(q) {
		case ".yaml", ".yml", ".json":
			out = append(out, "/"+q)
		}
		if len(out) > 1000 {
			return errors.New("more than 1000 manifest files")
		}
		return nil
	})
	sort.Strings(out)
	return out, pathlessError(err)
}

// isDir reports whether absolute path p is a directory.
func (r *FileReader) isDir(p string) bool {
	if r == nil || r.FS == nil {
		return false
	}
	st, err := fs.Stat(r.FS, strings.TrimPrefix(path.Clean(p), "/"))
	return err == nil && st.IsDir()
}

// pathlessError drops the path an fs error repeats: the ManifestRead names it.
func pathlessError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// manifestFile reads and scores one file of Kubernetes objects. A file that
// does not decode as kubectl decodes it is recorded as unread: its danger
// is unknown.
// It returns the file's contents when they were read and decoded.
func (d *Detector) manifestFile(c *Command, p string, f *Finding, h *hits) []byte {
	data, err := c.Files.read(p)
	if err == nil {
		err = d.kubeDocuments(data, path.Base(p), c.Cwd, f, h)
	}
	if err != nil {
		f.Manifests = append(f.Manifests, ManifestRead{Path: p, Reason: err.Error()})
		return nil
	}
	f.Manifests = append(f.Manifests, ManifestRead{Path: p, Read: true})
	return data
}

// notAFile reports whether a file argument can never be read here (- for
// standard input, a URL), and records it as unread with the reason.
func (d *Detector) notAFile(arg string, f *Finding) bool {
	switch {
	case arg == "-":
		f.Manifests = append(f.Manifests, ManifestRead{Path: "-", Reason: "read from standard input: not visible to t1610d"})
	case strings.HasPrefix(arg, "http://") || strings.HasPrefix(arg, "https://"):
		f.Manifests = append(f.Manifests, ManifestRead{Path: d.redact(arg), Reason: "a URL: t1610d does not fetch it"})
	default:
		return false
	}
	return true
}

// kubeDocuments scores every object of a YAML or JSON stream (several
// documents, List objects). It returns an error when the stream does not
// decode; the objects before the error are scored.
func (d *Detector) kubeDocuments(data []byte, src, cwd string, f *Finding, h *hits) error {
	return decodeKube(data, func(obj map[string]any) { d.kubeObject(obj, src, cwd, 0, f, h) })
}

// Limits on what one manifest stream may make t1610d do.
const (
	maxDocuments = 10000
	maxListDepth = 8
)

// decodeKube decodes a stream of Kubernetes objects the way kubectl does:
// JSON objects one after another, or YAML documents separated by "---"
// lines, each decoded by sigs.k8s.io/yaml (YAML 1.1 booleans such as yes
// and on are true; a repeated key keeps its last value).
func decodeKube(data []byte, each func(map[string]any)) error {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	n := 0
	if len(trimmed) > 0 && trimmed[0] == '{' {
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		for ; n < maxDocuments; n++ {
			var v any
			if err := dec.Decode(&v); err == io.EOF {
				return nil
			} else if err != nil {
				return fmt.Errorf("not valid JSON (object %d): %v", n+1, err)
			}
			if obj, ok := v.(map[string]any); ok {
				each(obj)
			}
		}
		return fmt.Errorf("more than %d objects: the rest not read", maxDocuments)
	}
	for _, doc := range splitYAML(data) {
		if n++; n > maxDocuments {
			return fmt.Errorf("more than %d documents: the rest not read", maxDocuments)
		}
		var v any
		if err := sigsyaml.Unmarshal(doc, &v); err != nil {
			return fmt.Errorf("not valid YAML (document %d): %v", n, err)
		}
		if obj, ok := v.(map[string]any); ok {
			each(obj)
		}
	}
	return nil
}

// splitYAML splits a YAML stream at its document separators as kubectl's
// reader does: a line that starts with "---" followed by nothing but
// spaces or a comment.
func splitYAML(data []byte) [][]byte {
	var docs [][]byte
	start := 0
	for i := 0; i <= len(data); {
		end := bytes.IndexByte(data[i:], '\n')
		if end < 0 {
			end = len(data)
		} else {
			end += i
		}
		line := data[i:end]
		if rest, ok := bytes.CutPrefix(line, []byte("---")); ok {
			if t := bytes.TrimSpace(rest); len(t) == 0 || t[0] == '#' {
				if len(bytes.TrimSpace(data[start:i])) > 0 {
					docs = append(docs, data[start:i])
				}
				start = end + 1
			}
		}
		i = end + 1
	}
	if start < len(data) && len(bytes.TrimSpace(data[start:])) > 0 {
		docs = append(docs, data[start:])
	}
	return docs
}

// kubeObject scores one Kubernetes object: the pod spec of a Pod or of a
// workload's template, and every item of a List.
func (d *Detector) kubeObject(obj map[string]any, at, cwd string, depth int, f *Finding, h *hits) {
	kind, _ := obj["kind"].(string)
	name := at
	if n, ok := mapAt(obj, "metadata")["name"].(string); ok && n != "" {
		name = at + ": " + kind + "/" + n
	}
	switch kind {
	case "List", "PodList", "DeploymentList", "DaemonSetList":
		if depth >= maxListDepth {
			f.Notes = append(f.Notes, fmt.Sprintf("%s: Lists nested deeper than %d not read", at, maxListDepth))
			return
		}
		for i, it := range sliceAt(obj, "items") {
			if o, ok := it.(map[string]any); ok {
				d.kubeObject(o, fmt.Sprintf("%s items[%d]", at, i), cwd, depth+1, f, h)
			}
		}
	case "Pod":
		d.podSpec(mapAt(obj, "spec"), name, "spec", f, h)
	case "Deployment", "DaemonSet", "StatefulSet", "ReplicaSet", "ReplicationController", "Job":
		d.podSpec(mapAt(mapAt(mapAt(obj, "spec"), "template"), "spec"), name, "spec.template.spec", f, h)
	case "CronJob":
		spec := mapAt(mapAt(mapAt(mapAt(mapAt(obj, "spec"), "jobTemplate"), "spec"), "template"), "spec")
		d.podSpec(spec, name, "spec.jobTemplate.spec.template.spec", f, h)
	case "PodTemplate":
		d.podSpec(mapAt(mapAt(obj, "template"), "spec"), name, "template.spec", f, h)
	}
}

// podSpec scores a Kubernetes pod spec found at path at of document doc.
// Evidence names the document and the field: "pod.yaml: Pod/x:
// spec.containers[0].securityContext.privileged: true".
func (d *Detector) podSpec(spec map[string]any, doc, at string, f *Finding, h *hits) {
	if spec == nil {
		return
	}
	ev := func(field string, v any) string {
		return d.redact(fmt.Sprintf("%s: %s.%s: %v", doc, at, field, v))
	}
	for _, ns := range []struct {
		field string
		cat   Category
	}{{"hostNetwork", HostNet}, {"hostPID", HostPID}, {"hostIPC", HostIPC}} {
		if spec[ns.field] == true {
			h.add(ns.cat, ev(ns.field, true))
		}
	}
	d.securityContext(mapAt(spec, "securityContext"), ev, "securityContext", true, h)
	for i, v := range sliceAt(spec, "volumes") {
		vol, _ := v.(map[string]any)
		hp, ok := mapAt(vol, "hostPath")["path"].(string)
		if !ok {
			continue
		}
		if p, ok := cleanHostPath(hp, ""); ok {
			d.hostPath(p, ev(fmt.Sprintf("volumes[%d].hostPath.path", i), hp), h)
		}
	}
	// The image is the first app container's, else the first init
	// container's.
	image := ""
	for _, list := range []string{"containers", "initContainers", "ephemeralContainers"} {
		for i, c := range sliceAt(spec, list) {
			ctr, _ := c.(map[string]any)
			if ctr == nil {
				continue
			}
			at := fmt.Sprintf("%s[%d]", list, i)
			if img, ok := ctr["image"].(string); ok && image == "" {
				image = img
			}
			d.securityContext(mapAt(ctr, "securityContext"), ev, at+".securityContext", false, h)
			for j, e := range sliceAt(ctr, "env") {
				env, _ := e.(map[string]any)
				name, _ := env["name"].(string)
				if name != "" && d.secretName(name) {
					if v, ok := env["value"].(string); ok && v != "" {
						h.add(EnvSecret, ev(fmt.Sprintf("%s.env[%d]", at, j), name+"="+Redacted))
					}
				}
			}
		}
	}
	if f.Image == "" {
		f.Image = image
	}
}

// securityContext scores a pod's or a container's securityContext.
func (d *Detector) securityContext(sc map[string]any, ev func(string, any) string, at string, pod bool, h *hits) {
	if sc == nil {
		return
	}
	if !pod && sc["privileged"] == true {
		h.add(Privileged, ev(at+".privileged", true))
	}
	for i, c := range sliceAt(mapAt(sc, "capabilities"), "add") {
		if s, ok := c.(string); ok && dangerousCap(s) {
			h.add(CapAdd, ev(fmt.Sprintf("%s.capabilities.add[%d]", at, i), s))
		}
	}
	if t, _ := mapAt(sc, "seccompProfile")["type"].(string); t == "Unconfined" {
		h.add(NoSeccomp, ev(at+".seccompProfile.type", t))
	}
	if t, _ := mapAt(sc, "appArmorProfile")["type"].(string); t == "Unconfined" {
		h.add(NoSeccomp, ev(at+".appArmorProfile.type", t))
	}
	if pm, _ := sc["procMount"].(string); pm == "Unmasked" {
		h.add(NoSeccomp, ev(at+".procMount", pm))
	}
}

func mapAt(m map[string]any, key string) map[string]any {
	if m == nil {
		return nil
	}
	v, _ := m[key].(map[string]any)
	return v
}

func sliceAt(m map[string]any, key string) []any {
	if m == nil {
		return nil
	}
	v, _ := m[key].([]any)
	return v
}

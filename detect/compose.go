package detect

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// composeRootFlags: docker/compose cmd/compose/compose.go (RootCommand: addProjectFlags,
// --ansi, --parallel, hidden --version/-v, --no-ansi, --verbose; persistent --dry-run)
// plus cobra's help|h; docker/compose@f72979427042 (v5.5.0+71, main). The root sets
// SetInterspersed(false) and TraverseChildren: its flags come before the subcommand,
// where only the persistent ones (composePersistentFlags) are accepted again.
var composeRootFlags = newFlagSet(
	"all-resources",
	"ansi=",
	"compatibility",
	"dry-run",
	"env-file=",
	"file|f=",
	"help|h",
	"insecure-registry=",
	"no-ansi",
	"parallel=",
	"profile=",
	"progress=",
	"project-directory=",
	"project-name|p=",
	"verbose",
	"version|v",
	"workdir=",
)

// composePersistentFlags: the docker compose root's persistent flags, valid after the
// subcommand too; docker/compose@f72979427042.
var composePersistentFlags = newFlagSet("dry-run", "help|h")

// composeStandaloneFlags: the docker root flags the standalone docker-compose binary
// moves before "compose" (cmd/compatibility/convert.go: getBoolFlags, getStringFlags;
// --verbose becomes --debug); docker/compose@f72979427042.
var composeStandaloneFlags = newFlagSet(
	"context=",
	"debug|D",
	"host|H=",
	"log-level=",
	"tls",
	"tlscacert=",
	"tlscert=",
	"tlskey=",
	"tlsverify",
)

// podmanComposeRootFlags: containers/podman-compose podman_compose.py
// (_init_global_parser; --podman-{pull,push,build,inspect,run,start,stop,rm,volume}-args
// from PODMAN_CMDS) plus argparse's -h; containers/podman-compose@e3df10472e19 (main).
// argparse: global options only before the subcommand.
var podmanComposeRootFlags = newFlagSet(
	"dry-run",
	"env-file=",
	"file|f=",
	"help|h",
	"in-pod=",
	"no-ansi",
	"no-cleanup",
	"parallel=",
	"pod-args=",
	"podman-args=",
	"podman-build-args=",
	"podman-inspect-args=",
	"podman-path=",
	"podman-pull-args=",
	"podman-push-args=",
	"podman-rm-args=",
	"podman-run-args=",
	"podman-start-args=",
	"podman-stop-args=",
	"podman-volume-args=",
	"profile=",
	"project-name|p=",
	"verbose",
	"version|v",
)

// nerdctlComposeRootFlags: containerd/nerdctl cmd/nerdctl/compose/compose.go (Command:
// persistent --file with the root-only alias -f, --project-directory, --project-name|-p,
// --env-file, --ipfs-address, --profile), plus cobra's help|h; containerd/nerdctl@8da504083f15
// (main, v2.3.4+217). nerdctl's own persistent root flags are accepted too.
var nerdctlComposeRootFlags = newFlagSet(
	"env-file=",
	"file|f=",
	"help|h",
	"ipfs-address=",
	"profile=",
	"project-directory=",
	"project-name|p=",
)

// nerdctlComposePersistentFlags: the same, valid after the subcommand (-f is not:
// it is compose logs --follow there); containerd/nerdctl@8da504083f15.
var nerdctlComposePersistentFlags = newFlagSet(
	"env-file=",
	"file=",
	"ipfs-address=",
	"profile=",
	"project-directory=",
	"project-name|p=",
)

// The subcommands that launch containers. docker/compose@f72979427042 cmd/compose/
// up.go, create.go, run.go (normalizeRunFlags: --volumes, --labels, --no-TTY), start.go,
// restart.go, watch.go, scale.go; with the flags podman-compose (compose_up_parse,
// compose_build_up_parse) and nerdctl compose (--ipfs) add to up, where they do not
// conflict. No compose run has --privileged.
var (
	composeUpFlags = newFlagSet(
		"abort-on-container-exit", "abort-on-container-failure", "always-recreate-deps",
		"attach=", "attach-dependencies", "build", "build-arg=", "detach|d", "exit-code-from=",
		"force-recreate", "help|h", "ipfs", "menu", "no-attach=", "no-build", "no-cache",
		"no-color", "no-deps", "no-hosts", "no-log-prefix", "no-recreate", "no-start",
		"pull=", "pull-always?", "quiet-build", "quiet-pull", "remove-orphans",
		"renew-anon-volumes|V", "scale=", "timeout|t=", "timestamps", "wait", "wait-timeout=",
		"watch|w", "yes|y",
	)
	composeCreateFlags = newFlagSet(
		"build", "force-recreate", "help|h", "no-build", "no-recreate", "pull=", "quiet-pull",
		"remove-orphans", "scale=", "yes|y",
	)
	composeRunFlags = newFlagSet(
		"build", "cap-add=", "cap-drop=", "detach|d", "entrypoint=", "env|e=", "env-from-file=",
		"help|h", "interactive|i", "label|l|labels=", "name=", "no-deps", "no-tty|T|no-TTY",
		"publish|p=", "pull=", "quiet|q", "quiet-build", "quiet-pull", "remove-orphans", "rm",
		"service-ports|P", "tty|t", "use-aliases", "user|u=", "volume|v|volumes=", "workdir|w=",
	)
	composeStartFlags   = newFlagSet("help|h", "wait", "wait-timeout=")
	composeRestartFlags = newFlagSet("help|h", "no-deps", "timeout|t=")
	composeWatchFlags   = newFlagSet("help|h", "no-up", "prune", "quiet")
	composeScaleFlags   = newFlagSet("help|h", "no-deps")
)

// composeTool is one compose implementation's command line.
type composeTool struct {
	root flagSet            // before the subcommand
	subs map[string]flagSet // the launching subcommands, with the persistent flags
	// podmanFiles: podman-compose's default files (every name of its list
	// found in the first directory holding one), not compose-go's (the first
	// main file and the first override file).
	podmanFiles bool
}

func newComposeTool(root, persistent flagSet, podmanFiles bool) *composeTool {
	t := &composeTool{root: root, podmanFiles: podmanFiles, subs: map[string]flagSet{}}
	for name, fs := range map[string]flagSet{
		"up": composeUpFlags, "create": composeCreateFlags, "run": composeRunFlags,
		"start": composeStartFlags, "restart": composeRestartFlags, "watch": composeWatchFlags,
		"scale": composeScaleFlags,
	} {
		t.subs[name] = join(fs, persistent)
	}
	return t
}

var (
	dockerComposeTool     = newComposeTool(composeRootFlags, composePersistentFlags, false)
	standaloneComposeTool = newComposeTool(join(composeRootFlags, composeStandaloneFlags), composePersistentFlags, false)
	podmanComposeTool     = newComposeTool(podmanComposeRootFlags, flagSet{}, true)
	// podman compose passes its arguments to docker-compose (preferred) or
	// podman-compose: either's root flags.
	podmanProviderTool = newComposeTool(join(composeRootFlags, podmanComposeRootFlags), composePersistentFlags, false)
	nerdctlComposeTool = newComposeTool(join(nerdctlComposeRootFlags, nerdctlGlobalFlags),
		join(nerdctlComposePersistentFlags, nerdctlGlobalFlags), false)
)

func composeToolFor(name string) *composeTool {
	switch name {
	case "docker-compose":
		return standaloneComposeTool
	case "podman-compose":
		return podmanComposeTool
	case "podman compose":
		return podmanProviderTool
	case "nerdctl compose":
		return nerdctlComposeTool
	}
	return dockerComposeTool
}

// composeCLI parses docker-compose / podman-compose as a standalone CLI. The
// same binary run by docker as its compose plugin (argv[1] "compose") or by
// podman compose or nerdctl as a provider is the second exec of one launch,
// scored at the first: it gives a finding with a note and no flags. The
// plugin run by anything else (a shell: the plugin exec'd by hand) is scored.
func (d *Detector) composeCLI(c *Command, args []string, f *Finding, h *hits) {
	parent := ""
	if c.ParentExe != "" {
		parent = strings.ToLower(path.Base(c.ParentExe))
	}
	byRuntime := parent == "docker" || parent == "podman" || parent == "nerdctl"
	plugin := len(args) > 0 && args[0] == "compose"
	tool := composeToolFor(f.Runtime)
	if plugin {
		args, tool = args[1:], dockerComposeTool
	}
	if byRuntime || (plugin && parent == "") {
		who := parent
		if who == "" {
			who = "docker"
		}
		if g := tool.root.parse(args, false); len(g.args) > 0 {
			f.Action = "compose " + g.args[0]
		}
		f.Notes = append(f.Notes, fmt.Sprintf("run by %s for the same action: scored at %s's exec", who, who))
		return
	}
	if plugin {
		f.Notes = append(f.Notes, "the docker compose plugin run directly, not by docker: scored here")
		d.composeWith(c, tool, args, f, h)
		return
	}
	d.compose(c, f.Runtime, args, f, h)
}

// compose parses the arguments after "docker compose", "podman compose" or
// "nerdctl compose" (name), or of docker-compose and podman-compose, and
// scores what up, create, run, start, restart, watch and scale launch: the
// services of the compose files, read as compose finds them. Every other
// subcommand (ps, logs, down, config, pull, build, ...) never alerts.
func (d *Detector) compose(c *Command, name string, args []string, f *Finding, h *hits) {
	d.composeWith(c, composeToolFor(name), args, f, h)
}

func (d *Detector) composeWith(c *Command, tool *composeTool, args []string, f *Finding, h *hits) {
	g := tool.root.parse(args, false)
	f.Notes = append(f.Notes, g.notes...)
	f.Action = "compose"
	if len(g.args) == 0 {
		return
	}
	sub, rest := g.args[0], g.args[1:]
	f.Action = "compose " + sub
	table, ok := tool.subs[sub]
	if !ok {
		return
	}
	p := table.parse(rest, sub != "run")
	f.Notes = append(f.Notes, p.notes...)
	opts := append(append([]option(nil), g.opts...), p.opts...)
	noDeps := false
	for _, o := range opts {
		switch {
		case o.name == "help" && o.value == "true":
			return
		case o.name == "dry-run" && o.value == "true":
			f.Notes = append(f.Notes, "--dry-run: nothing is launched")
			return
		case o.name == "no-up" && o.value == "true" && sub == "watch":
			return
		case o.name == "no-deps" && o.value == "true":
			noDeps = true
		}
	}
	pr := d.composeLoad(c, tool, opts, f)
	var only []string
	if sub == "run" {
		if len(p.args) == 0 {
			f.Notes = append(f.Notes, "no service: compose would refuse this command line")
		} else {
			only = pr.closure(p.args[0], !noDeps)
		}
		for _, o := range p.opts {
			switch o.name {
			case "volume", "cap-add", "env":
				d.containerOption(o, c.Cwd, f, h)
			case "env-from-file":
				f.Notes = append(f.Notes, "environment file not inspected: "+d.redact(o.text))
			}
		}
	}
	pr.score(only, h)
}

// composeProject is the compose files of one command line, loaded.
type composeProject struct {
	d     *Detector
	c     *Command
	f     *Finding
	vars  map[string]string // for interpolation: the env files', and PWD
	unset map[string]bool   // variables used but not set in what was read
	docs  map[string]*composeDoc
	// services in file order; a name may have several entries (a file and
	// its override). bases are those of files read only for extends.
	services, bases []*composeService
	volumes         map[string]composeBind // top-level named volumes that bind a host path
	hostNets        map[string]string      // top-level networks that are the host's, to their evidence
	files           int
}

// composeBind is a named volume that binds host path path.
type composeBind struct {
	path, evidence string
}

type composeDoc struct {
	path string // absolute
	src  string // basename, for evidence
	dir  string // relative host paths in it are resolved against it
}

type composeService struct {
	name string
	def  map[string]any
	doc  *composeDoc
}

// composeDefaultFiles are compose-go's default file names (cli/options.go
// DefaultFileNames, DefaultOverrideFileNames; compose-spec/compose-go@e70e961c3a3a),
// which docker compose and nerdctl use, in order of preference.
var (
	composeDefaultFiles  = []string{"compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml"}
	composeOverrideFiles = []string{"compose.override.yml", "compose.override.yaml", "docker-compose.override.yml", "docker-compose.override.yaml"}
	// podmanComposeFiles: podman_compose.py COMPOSE_DEFAULT_LS.
	podmanComposeFiles = []string{
		"compose.yaml", "compose.yml", "compose.override.yaml", "compose.override.yml",
		"podman-compose.yaml", "podman-compose.yml", "docker-compose.yml", "docker-compose.yaml",
		"docker-compose.override.yml", "docker-compose.override.yaml", "container-compose.yml",
		"container-compose.yaml", "container-compose.override.yml", "container-compose.override.yaml",
	}
)

const (
	composeMaxFiles = 64 // files read for one command line, includes and extends included
	composeMaxDepth = 8  // include and extends nesting
)

// composeLoad reads the compose files of a command line: the -f files, else
// the default names in the project directory (--project-directory or the
// working directory) or the nearest parent holding one.
func (d *Detector) composeLoad(c *Command, tool *composeTool, opts []option, f *Finding) *composeProject {
	pr := &composeProject{
		d: d, c: c, f: f, vars: map[string]string{}, unset: map[string]bool{},
		docs: map[string]*composeDoc{}, volumes: map[string]composeBind{}, hostNets: map[string]string{},
	}
	var files, envFiles []string
	projectDir := ""
	for _, o := range opts {
		switch o.name {
		case "file":
			files = append(files, o.value)
		case "project-directory", "workdir":
			projectDir = resolve(o.value, c.Cwd)
		case "env-file":
			envFiles = append(envFiles, o.value)
		}
	}
	workDir := projectDir
	var paths []string
	if len(files) == 0 {
		start := projectDir
		if start == "" {
			start = resolve(".", c.Cwd)
		}
		paths = pr.discover(start, tool.podmanFiles)
		if workDir == "" && len(paths) > 0 {
			workDir = path.Dir(paths[0])
		}
	}
	for _, v := range files {
		switch {
		case v == "-" && d.notAFile(v, f):
			continue
		case composeRemote(v):
			f.Manifests = append(f.Manifests, ManifestRead{Path: d.redact(v), Reason: "a remote compose file: t1610d does not fetch it"})
			continue
		}
		p := resolve(v, c.Cwd)
		if workDir == "" {
			workDir = path.Dir(p)
		}
		paths = append(paths, p)
	}
	if workDir == "" {
		workDir = resolve(".", c.Cwd)
	}
	pr.readEnv(workDir, envFiles)
	for _, p := range paths {
		pr.load(p, workDir, true, 0)
	}
	if len(pr.unset) > 0 {
		names := make([]string, 0, len(pr.unset))
		for n := range pr.unset {
			names = append(names, n)
		}
		sort.Strings(names)
		f.Notes = append(f.Notes, "compose variables not set in the files read (the shell's environment is not visible), taken as empty: "+strings.Join(names, ", "))
	}
	return pr
}

func composeRemote(v string) bool {
	return strings.Contains(v, "://") || strings.HasPrefix(v, "git@")
}

// discover finds the default compose files from dir up to /, as compose-go
// does (the first main name found, and the first override name beside it)
// or podman-compose (every name of its list in the first directory holding
// one). Files found are read once, here.
func (pr *composeProject) discover(dir string, podman bool) []string {
	if pr.c.Files == nil || pr.c.Files.FS == nil {
		pr.f.Manifests = append(pr.f.Manifests, ManifestRead{Path: dir, Reason: "no compose file looked for: files are not read here"})
		return nil
	}
	names := composeDefaultFiles
	if podman {
		names = podmanComposeFiles
	}
	for d, depth := dir, 0; ; depth++ {
		var found []string
		for _, n := range names {
			if pr.exists(path.Join(d, n)) {
				found = append(found, path.Join(d, n))
				if !podman {
					break
				}
			}
		}
		if len(found) > 0 {
			if !podman {
				for _, n := range composeOverrideFiles {
					if pr.exists(path.Join(d, n)) {
						found = append(found, path.Join(d, n))
						break
					}
				}
			}
			return found
		}
		parent := path.Dir(d)
		if parent == d || (podman && depth >= 10) {
			break
		}
		d = parent
	}
	pr.f.Manifests = append(pr.f.Manifests, ManifestRead{Path: dir, Reason: "no compose file (" + strings.Join(names[:4], ", ") + ", ...) here or in a parent directory"})
	return nil
}

// exists reports whether something is at p, as os.Stat would: a file that
// cannot be read is there (and its load says why).
func (pr *composeProject) exists(p string) bool {
	_, err := pr.c.Files.read(p)
	return err == nil || !errors.Is(err, fs.ErrNotExist)
}

// readEnv reads the variables compose interpolates from: the --env-file
// files, else .env in the project directory. PWD is the exec's directory.
func (pr *composeProject) readEnv(workDir string, envFiles []string) {
	if pr.c.Cwd != "" {
		pr.vars["PWD"] = pr.c.Cwd
	}
	explicit := len(envFiles) > 0
	if !explicit {
		envFiles = []string{path.Join(workDir, ".env")}
	}
	for _, e := range envFiles {
		p := resolve(e, pr.c.Cwd)
		data, err := pr.c.Files.read(p)
		if err != nil {
			if explicit {
				pr.f.Notes = append(pr.f.Notes, fmt.Sprintf("compose env file %s not read: %v", p, err))
			}
			continue
		}
		pr.f.Manifests = append(pr.f.Manifests, ManifestRead{Path: p, Read: true})
		for _, line := range strings.Split(string(data), "\n") {
			line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "export "))
			k, v, ok := strings.Cut(line, "=")
			k = strings.TrimSpace(k)
			if !ok || k == "" || strings.HasPrefix(k, "#") {
				continue
			}
			v = strings.TrimSpace(v)
			if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
				v = v[1 : len(v)-1]
			} else if i := strings.Index(v, " #"); i >= 0 {
				v = strings.TrimSpace(v[:i])
			}
			pr.vars[k] = v
		}
	}
}

// load reads compose file p (once), whose relative paths resolve against
// dir, with its includes. Its services are the project's, or with project
// false, only bases for extends.
func (pr *composeProject) load(p, dir string, project bool, depth int) *composeDoc {
	if doc, ok := pr.docs[p]; ok {
		return doc
	}
	pr.docs[p] = nil
	if pr.files++; pr.files > composeMaxFiles {
		pr.f.Manifests = append(pr.f.Manifests, ManifestRead{Path: p, Reason: fmt.Sprintf("more than %d compose files for one command line", composeMaxFiles)})
		return nil
	}
	data, err := pr.c.Files.read(p)
	if err != nil {
		pr.f.Manifests = append(pr.f.Manifests, ManifestRead{Path: p, Reason: err.Error()})
		return nil
	}
	pr.f.Manifests = append(pr.f.Manifests, ManifestRead{Path: p, Read: true})
	doc := &composeDoc{path: p, src: path.Base(p), dir: dir}
	pr.docs[p] = doc
	var includes []any
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for i := 0; ; i++ {
		var root yaml.Node
		err := dec.Decode(&root)
		if err == io.EOF {
			break
		}
		if err != nil {
			pr.f.Notes = append(pr.f.Notes, fmt.Sprintf("%s: document %d: %v", doc.src, i+1, err))
			break
		}
		if root.Kind != yaml.DocumentNode || len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
			continue
		}
		top := root.Content[0]
		for j := 0; j+1 < len(top.Content); j += 2 {
			val := top.Content[j+1]
			switch top.Content[j].Value {
			case "services":
				pr.addServices(doc, val, project)
			case "volumes":
				pr.addVolumes(doc, pr.decode(doc, "volumes", val))
			case "networks":
				pr.addNetworks(doc, pr.decode(doc, "networks", val))
			case "include":
				if l, ok := pr.decode(doc, "include", val).([]any); ok {
					includes = append(includes, l...)
				}
			}
		}
	}
	for _, inc := range includes {
		pr.include(doc, inc, project, depth)
	}
	return doc
}

// decode decodes a node and interpolates the strings in it.
func (pr *composeProject) decode(doc *composeDoc, what string, n *yaml.Node) any {
	var v any
	if err := n.Decode(&v); err != nil {
		pr.f.Notes = append(pr.f.Notes, fmt.Sprintf("%s: %s: %v", doc.src, what, err))
		return nil
	}
	return pr.interpolateAll(v)
}

// addServices adds the services of a services mapping in the file's order.
func (pr *composeProject) addServices(doc *composeDoc, n *yaml.Node, project bool) {
	all, _ := pr.decode(doc, "services", n).(map[string]any)
	if all == nil {
		return
	}
	var order []string
	seen := map[string]bool{}
	if n.Kind == yaml.MappingNode {
		for j := 0; j+1 < len(n.Content); j += 2 {
			if k := n.Content[j].Value; k != "<<" && !seen[k] {
				order, seen[k] = append(order, k), true
			}
		}
	}
	var rest []string
	for k := range all {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	for _, name := range append(order, rest...) {
		def, ok := all[name].(map[string]any)
		if !ok {
			continue
		}
		if s := (&composeService{name: name, def: def, doc: doc}); project {
			pr.services = append(pr.services, s)
		} else {
			pr.bases = append(pr.bases, s)
		}
	}
}

// addVolumes records the top-level named volumes that bind a host path:
// driver_opts {type: none, o: bind, device: /path}.
func (pr *composeProject) addVolumes(doc *composeDoc, v any) {
	m, _ := v.(map[string]any)
	for name, def := range m {
		opts := mapAt(asMap(def), "driver_opts")
		dev, _ := opts["device"].(string)
		o, _ := opts["o"].(string)
		bind := false
		for _, opt := range strings.Split(o, ",") {
			if opt = strings.TrimSpace(opt); opt == "bind" || opt == "rbind" {
				bind = true
			}
		}
		if !bind || dev == "" {
			continue
		}
		if hp, ok := composeHostPath(dev, doc.dir); ok {
			pr.volumes[name] = composeBind{path: hp, evidence: fmt.Sprintf("%s: volumes.%s.driver_opts.device: %s", doc.src, name, dev)}
		}
	}
}

// addNetworks records the top-level networks that are the host's network:
// an external network named host.
func (pr *composeProject) addNetworks(doc *composeDoc, v any) {
	m, _ := v.(map[string]any)
	for key, def := range m {
		dm := asMap(def)
		name, _ := dm["name"].(string)
		ext := dm["external"]
		if en, ok := mapAt(dm, "external")["name"].(string); ok {
			name = en // the older external: {name: host}
		}
		if name == "" {
			name = key
		}
		if composeTrue(ext) || asMap(ext) != nil {
			if name == "host" {
				pr.hostNets[key] = fmt.Sprintf("networks.%s: the external network host", key)
			}
		}
	}
}

// include loads a top-level include entry: a path, or {path: PATH|[PATH],
// project_directory: DIR}, relative to the including file.
func (pr *composeProject) include(doc *composeDoc, inc any, project bool, depth int) {
	var paths []string
	dir := ""
	switch t := inc.(type) {
	case string:
		paths = []string{t}
	case map[string]any:
		switch p := t["path"].(type) {
		case string:
			paths = []string{p}
		case []any:
			for _, e := range p {
				if s, ok := e.(string); ok {
					paths = append(paths, s)
				}
			}
		}
		if pd, ok := t["project_directory"].(string); ok && pd != "" {
			dir = resolve(pd, path.Dir(doc.path))
		}
	}
	for _, p := range paths {
		if composeRemote(p) {
			pr.f.Manifests = append(pr.f.Manifests, ManifestRead{Path: pr.d.redact(p), Reason: "a remote compose include: t1610d does not fetch it"})
			continue
		}
		ap := resolve(p, path.Dir(doc.path))
		if depth+1 > composeMaxDepth {
			pr.f.Notes = append(pr.f.Notes, doc.src+": includes nested too deep: "+ap+" not read")
			continue
		}
		d := dir
		if d == "" {
			d = path.Dir(ap)
		}
		pr.load(ap, d, project, depth+1)
	}
}

// closure returns the service name and, with deps, the services it depends
// on (depends_on, list or map), transitively: what compose run starts.
func (pr *composeProject) closure(name string, deps bool) []string {
	out := []string{name}
	seen := map[string]bool{name: true}
	for i := 0; i < len(out) && deps; i++ {
		for _, s := range pr.services {
			if s.name != out[i] {
				continue
			}
			for _, n := range composeNames(s.def["depends_on"]) {
				if !seen[n] {
					seen[n] = true
					out = append(out, n)
				}
			}
		}
	}
	return out
}

// composeNames returns the names a compose field lists in either of its
// forms: a list of names, or a map keyed by name (sorted).
func composeNames(v any) []string {
	var names []string
	switch t := v.(type) {
	case []any:
		for _, e := range t {
			if n, ok := e.(string); ok {
				names = append(names, n)
			}
		}
	case map[string]any:
		for n := range t {
			names = append(names, n)
		}
		sort.Strings(names)
	}
	return names
}

// score scores the services named in only (all when nil), in file order
// for all, in only's order otherwise. The image is the first scored
// service's that names one.
func (pr *composeProject) score(only []string, h *hits) {
	var list []*composeService
	if only == nil {
		list = pr.services
	}
	for _, name := range only {
		for _, s := range pr.services {
			if s.name == name {
				list = append(list, s)
			}
		}
	}
	for _, s := range list {
		pr.scoreService(s, 0, h)
	}
}

// scoreService scores one service definition and what it extends.
func (pr *composeProject) scoreService(s *composeService, depth int, h *hits) {
	d, def := pr.d, s.def
	ev := func(field string, v any) string {
		return d.redact(fmt.Sprintf("%s: services.%s.%s: %v", s.doc.src, s.name, field, v))
	}
	if img, ok := def["image"].(string); ok && img != "" && pr.f.Image == "" {
		pr.f.Image = img
	}
	if v, ok := def["privileged"]; ok && composeTrue(v) {
		h.add(Privileged, ev("privileged", v))
	}
	for _, ns := range []struct {
		field, kind string
		cat         Category
	}{
		{"network_mode", "net", HostNet}, {"pid", "pid", HostPID}, {"ipc", "ipc", HostIPC},
		{"uts", "uts", HostUTS}, {"userns_mode", "user", HostUserns}, {"cgroup", "cgroup", HostCgroupns},
	} {
		if v, ok := def[ns.field].(string); ok && hostNamespace(v, ns.kind) {
			h.add(ns.cat, ev(ns.field, v))
		}
	}
	for _, n := range composeNames(def["networks"]) {
		if e, ok := pr.hostNets[n]; ok {
			h.add(HostNet, ev("networks", n+" ("+e+")"))
		}
	}
	for i, v := range composeList(def["volumes"]) {
		pr.volume(s, i, v, ev, h)
	}
	for i, v := range composeList(def["cap_add"]) {
		if c, ok := v.(string); ok && dangerousCap(c) {
			h.add(CapAdd, ev(fmt.Sprintf("cap_add[%d]", i), c))
		}
	}
	for i, v := range composeList(def["security_opt"]) {
		if o, ok := v.(string); ok && unconfined(o) {
			h.add(NoSeccomp, ev(fmt.Sprintf("security_opt[%d]", i), o))
		}
	}
	for i, v := range composeList(def["devices"]) {
		src, field := "", fmt.Sprintf("devices[%d]", i)
		shown := v
		switch t := v.(type) {
		case string:
			src, _, _ = strings.Cut(t, ":")
		case map[string]any:
			src, _ = t["source"].(string)
			field, shown = field+".source", src
		}
		if strings.HasPrefix(src, "/") && dangerousDevice(path.Clean(src)) {
			h.add(Device, ev(field, shown))
		}
	}
	for i, v := range composeList(def["device_cgroup_rules"]) {
		if r, ok := v.(string); ok && dangerousCgroupRule(r) {
			h.add(Device, ev(fmt.Sprintf("device_cgroup_rules[%d]", i), r))
		}
	}
	pr.environment(def["environment"], "environment", ev, h)
	if _, ok := def["env_file"]; ok {
		pr.f.Notes = append(pr.f.Notes, fmt.Sprintf("environment file not inspected: %s: services.%s.env_file", s.doc.src, s.name))
	}
	if v, ok := def["use_api_socket"]; ok && composeTrue(v) {
		h.add(RuntimeSocket, ev("use_api_socket", v))
	}
	for _, hook := range []string{"post_start", "pre_stop"} {
		for i, v := range composeList(def[hook]) {
			hm := asMap(v)
			if p, ok := hm["privileged"]; ok && composeTrue(p) {
				h.add(Privileged, ev(fmt.Sprintf("%s[%d].privileged", hook, i), p))
			}
			pr.environment(hm["environment"], fmt.Sprintf("%s[%d].environment", hook, i), ev, h)
		}
	}
	pr.extends(s, depth, h)
}

// volume scores one entry of a service's volumes: the short syntax
// SRC:DST[:MODE] (SRC a path when it starts with '.', '/' or '~', else a
// named volume) or the long one ({type: bind, source: ...}).
func (pr *composeProject) volume(s *composeService, i int, v any, ev func(string, any) string, h *hits) {
	src, named, field := "", "", fmt.Sprintf("volumes[%d]", i)
	switch t := v.(type) {
	case string:
		head, _, ok := strings.Cut(t, ":")
		if !ok || head == "" {
			return // an anonymous volume
		}
		if strings.ContainsAny(head[:1], "./~") {
			src = head
		} else {
			named = head
		}
	case map[string]any:
		field += ".source"
		source, _ := t["source"].(string)
		switch typ, _ := t["type"].(string); typ {
		case "bind":
			src = source
		case "volume", "":
			named = source
		}
		v = source
	}
	if named != "" {
		if b, ok := pr.volumes[named]; ok {
			pr.d.hostPath(b.path, ev(field, fmt.Sprintf("%v (%s)", v, b.evidence)), h)
		}
		return
	}
	if hp, ok := composeHostPath(src, s.doc.dir); ok {
		pr.d.hostPath(hp, ev(field, v), h)
	}
}

// environment scores a service's environment, a map or a list of
// NAME=VALUE or NAME: a credential's name fires, its value never shows.
func (pr *composeProject) environment(env any, at string, ev func(string, any) string, h *hits) {
	switch t := env.(type) {
	case map[string]any:
		names := make([]string, 0, len(t))
		for k := range t {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			if pr.d.secretName(k) {
				val := Redacted
				if t[k] == nil {
					val = "(from the environment)"
				}
				h.add(EnvSecret, ev(at+"."+k, val))
			}
		}
	case []any:
		for i, e := range t {
			s, ok := e.(string)
			if !ok {
				continue
			}
			name, _, hasValue := strings.Cut(s, "=")
			if !pr.d.secretName(name) {
				continue
			}
			if hasValue {
				s = name + "=" + Redacted
			}
			h.add(EnvSecret, ev(fmt.Sprintf("%s[%d]", at, i), s))
		}
	}
}

// extends scores the service s extends: {service: NAME, file: FILE} or
// NAME, in the same file when no file is named.
func (pr *composeProject) extends(s *composeService, depth int, h *hits) {
	name, file := "", ""
	switch t := s.def["extends"].(type) {
	case string:
		name = t
	case map[string]any:
		name, _ = t["service"].(string)
		file, _ = t["file"].(string)
	}
	if name == "" {
		return
	}
	if depth+1 > composeMaxDepth {
		pr.f.Notes = append(pr.f.Notes, fmt.Sprintf("%s: services.%s: extends nested too deep", s.doc.src, s.name))
		return
	}
	doc := s.doc
	if file != "" {
		if composeRemote(file) {
			pr.f.Manifests = append(pr.f.Manifests, ManifestRead{Path: pr.d.redact(file), Reason: "a remote compose file: t1610d does not fetch it"})
			return
		}
		p := resolve(file, path.Dir(s.doc.path))
		if doc = pr.load(p, path.Dir(p), false, depth+1); doc == nil {
			return
		}
	}
	for _, base := range append(pr.services, pr.bases...) {
		if base.name == name && base.doc == doc && base != s {
			pr.scoreService(base, depth+1, h)
		}
	}
}

// composeHostPath returns the host path of a bind source: absolute, from the
// home directory (unknown: the worst case, /), or relative to dir.
func composeHostPath(src, dir string) (string, bool) {
	switch {
	case src == "":
		return "", false
	case strings.HasPrefix(src, "/"):
		return path.Clean(src), true
	case src == "~" || strings.HasPrefix(src, "~/"):
		return cleanHostPath(src, dir)
	case strings.HasPrefix(src, "."):
		if dir == "" {
			dir = "/"
		}
		return path.Join(dir, src), true
	}
	return "", false
}

// composeTrue reports whether a compose boolean is true: true, or a string
// that reads as true after interpolation ("true", "yes", "on", "1").
func composeTrue(v any) bool {
	switch t := v.(type) {
	case bool:
		return t
	case string:
		s := strings.ToLower(strings.TrimSpace(t))
		if b, err := strconv.ParseBool(s); err == nil {
			return b
		}
		return s == "yes" || s == "y" || s == "on"
	}
	return false
}

func composeList(v any) []any {
	l, _ := v.([]any)
	return l
}

// interpolateAll interpolates every string in v (map values, list items).
func (pr *composeProject) interpolateAll(v any) any {
	switch t := v.(type) {
	case string:
		return pr.interpolate(t, 0)
	case map[string]any:
		for k, e := range t {
			t[k] = pr.interpolateAll(e)
		}
	case []any:
		for i, e := range t {
			t[i] = pr.interpolateAll(e)
		}
	}
	return v
}

// interpolate substitutes compose's variables in s: $NAME, ${NAME},
// ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error},
// ${NAME:+alt}, ${NAME+alt}, and $$ for $. A variable not set in what was
// read is taken as empty (as compose does) and noted.
func (pr *composeProject) interpolate(s string, depth int) string {
	if !strings.Contains(s, "$") || depth > 4 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] != '$' || i+1 == len(s) {
			b.WriteByte(s[i])
			i++
			continue
		}
		switch next := s[i+1]; {
		case next == '$':
			b.WriteByte('$')
			i += 2
		case next == '{':
			level, j := 1, i+2
			for ; j < len(s) && level > 0; j++ {
				switch s[j] {
				case '{':
					level++
				case '}':
					level--
				}
			}
			if level != 0 {
				b.WriteString(s[i:])
				return b.String()
			}
			b.WriteString(pr.expand(s[i+2:j-1], depth))
			i = j
		case next == '_' || (next|0x20 >= 'a' && next|0x20 <= 'z'):
			j := i + 1
			for j < len(s) && composeNameByte(s[j]) {
				j++
			}
			b.WriteString(pr.lookup(s[i+1 : j]))
			i = j
		default:
			b.WriteByte('$')
			i++
		}
	}
	return b.String()
}

// expand substitutes the body of ${...}.
func (pr *composeProject) expand(body string, depth int) string {
	n := 0
	for n < len(body) && composeNameByte(body[n]) {
		n++
	}
	name, op := body[:n], body[n:]
	v, set := pr.vars[name]
	switch {
	case strings.HasPrefix(op, ":-"):
		if set && v != "" {
			return v
		}
		return pr.interpolate(op[2:], depth+1)
	case strings.HasPrefix(op, "-"):
		if set {
			return v
		}
		return pr.interpolate(op[1:], depth+1)
	case strings.HasPrefix(op, ":+"):
		if set && v != "" {
			return pr.interpolate(op[2:], depth+1)
		}
		pr.lookup(name)
		return ""
	case strings.HasPrefix(op, "+"):
		if set {
			return pr.interpolate(op[1:], depth+1)
		}
		pr.lookup(name)
		return ""
	}
	return pr.lookup(name)
}

func composeNameByte(c byte) bool {
	return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
}

// lookup returns a variable's value, noting it when it is not set.
func (pr *composeProject) lookup(name string) string {
	v, ok := pr.vars[name]
	if !ok && name != "" && len(pr.unset) < 32 {
		pr.unset[name] = true
	}
	return v
}

// kubePlay scores podman kube play [flags] FILE|DIR|URL|- (and the older
// play kube): the Kubernetes objects of the files, by the pod spec rules of
// kubectl apply, the annotations podman honours (seccomp, AppArmor and
// SELinux per container, its --annotation flag), and the pod's --network and
// --userns. --down tears down what a file described and launches nothing.
func (d *Detector) kubePlay(c *Command, args []string, f *Finding, h *hits) {
	p := podmanKubePlayFlags.parse(args, true)
	f.Notes = append(f.Notes, p.notes...)
	for _, o := range p.opts {
		switch o.name {
		case "help":
			if o.value == "true" {
				return
			}
		case "down":
			if o.value == "true" {
				f.Action = "kube play --down"
				return
			}
		}
	}
	for _, o := range p.opts {
		ev := d.redact(o.text)
		switch o.name {
		case "network":
			for _, n := range strings.Split(o.value, ",") {
				if hostNamespace(networkName(n), "net") {
					h.add(HostNet, ev)
				}
			}
		case "userns":
			if hostNamespace(o.value, "user") {
				h.add(HostUserns, ev)
			}
		case "annotation":
			k, v, _ := strings.Cut(o.value, "=")
			if cat, ok := podmanAnnotation(k, v); ok {
				h.add(cat, ev)
			}
		case "configmap":
			f.Notes = append(f.Notes, "configmap not inspected: "+ev)
		}
	}
	if len(p.args) == 0 {
		f.Notes = append(f.Notes, "no file: podman would refuse this command line")
	}
	for _, a := range p.args {
		if d.notAFile(a, f) {
			continue
		}
		fp := resolve(a, c.Cwd)
		if data := d.manifestFile(c, fp, f, h); data != nil {
			d.podmanAnnotations(data, path.Base(fp), h)
		}
	}
}

// podmanAnnotations scores the annotations podman kube play turns into
// security settings, on a Pod's metadata or a workload's template.
func (d *Detector) podmanAnnotations(data []byte, src string, h *hits) {
	decodeKube(data, func(doc map[string]any) {
		name := src
		if n, ok := mapAt(doc, "metadata")["name"].(string); ok && n != "" {
			name = fmt.Sprintf("%s: %v/%s", src, doc["kind"], n)
		}
		for _, at := range []struct {
			field string
			meta  map[string]any
		}{
			{"metadata", mapAt(doc, "metadata")},
			{"spec.template.metadata", mapAt(mapAt(mapAt(doc, "spec"), "template"), "metadata")},
		} {
			ann := mapAt(at.meta, "annotations")
			keys := make([]string, 0, len(ann))
			for k := range ann {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				v, _ := ann[k].(string)
				if cat, ok := podmanAnnotation(k, v); ok {
					h.add(cat, d.redact(fmt.Sprintf("%s: %s.annotations[%s]: %s", name, at.field, k, v)))
				}
			}
		}
	})
}

// podmanAnnotation returns the category an annotation podman honours
// fires: seccomp (pod, per container: the Kubernetes alpha keys and
// io.podman.annotations.seccomp/CTR), AppArmor and SELinux per container
// turned off, the pod's user namespace the host's.
func podmanAnnotation(k, v string) (Category, bool) {
	v = strings.TrimSpace(v)
	switch {
	case k == "seccomp.security.alpha.kubernetes.io/pod",
		strings.HasPrefix(k, "container.seccomp.security.alpha.kubernetes.io/"),
		strings.HasPrefix(k, "io.podman.annotations.seccomp/"),
		strings.HasPrefix(k, "io.podman.annotations.apparmor/"):
		return NoSeccomp, strings.EqualFold(v, "unconfined")
	case strings.HasPrefix(k, "io.podman.annotations.label/"):
		return NoSeccomp, unconfined("label=" + v)
	case k == "io.podman.annotations.userns" || strings.HasPrefix(k, "io.podman.annotations.userns/"):
		return HostUserns, hostNamespace(v, "user")
	}
	return 0, false
}

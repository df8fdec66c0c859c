package detect

import (
	"fmt"
	"path"
	"strings"
)

// Category is one kind of dangerous launch option.
type Category uint8

// The categories, in the order SuspiciousFlags lists them. The first eight
// are the seed rule's.
const (
	Privileged Category = iota
	HostNet
	HostPID
	HostIPC
	HostMount
	CapAdd
	NoSeccomp
	EnvSecret
	RuntimeSocket
	Device
	HostUserns
	HostUTS
	HostCgroupns
	numCategories
)

var categoryNames = [numCategories]string{
	"PRIVILEGED", "HOST_NET", "HOST_PID", "HOST_IPC", "HOST_MOUNT", "CAP_ADD", "NO_SECCOMP",
	"ENV_SECRET", "RUNTIME_SOCKET", "DEVICE", "HOST_USERNS", "HOST_UTS", "HOST_CGROUPNS",
}

// DefaultWeights are the seed rule's weights for its eight categories and
// ours for the rest.
var DefaultWeights = Weights{40, 20, 25, 15, 40, 20, 10, 15, 40, 20, 15, 5, 10}

// DefaultThreshold is the score at which a launch alerts.
const DefaultThreshold = 20

// Weights gives each category's score, indexed by Category.
type Weights [numCategories]int

func (c Category) String() string {
	if c < numCategories {
		return categoryNames[c]
	}
	return fmt.Sprintf("Category(%d)", c)
}

// MarshalText names the category.
func (c Category) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// ParseCategory returns the category named s (PRIVILEGED, HOST_NET, ...).
func ParseCategory(s string) (Category, error) {
	for i, n := range categoryNames {
		if n == s {
			return Category(i), nil
		}
	}
	return 0, fmt.Errorf("unknown category %q (known: %s)", s, strings.Join(categoryNames[:], ", "))
}

// Categories returns every category in table order.
func Categories() []Category {
	out := make([]Category, numCategories)
	for i := range out {
		out[i] = Category(i)
	}
	return out
}

// Flag is one category that fired, with the arguments that made it fire.
type Flag struct {
	Category Category
	Weight   int
	Evidence []string
}

// Finding is what the detector makes of one container-CLI command line.
type Finding struct {
	Runtime string // docker, podman, nerdctl, ...
	Action  string // run, create, exec, service create, or the subcommand as given
	Image   string // the image reference parsed from the arguments; empty when none
	Flags   []Flag // in category order; each category once
	Score   int    // the sum of the weights of Flags
	Notes   []string
	// Manifests are the files the command line names that were inspected
	// (kubectl apply -f, crictl run, compose -f), read or not; ReadAt says
	// when they were read ("event" or "replay").
	Manifests []ManifestRead
	ReadAt    string
}

// Unread reports whether a file the command line deploys from could not be
// read: its danger is unknown, so the finding is reported whatever its score.
func (f *Finding) Unread() bool {
	for _, m := range f.Manifests {
		if !m.Read {
			return true
		}
	}
	return false
}

// SuspiciousFlags formats the categories as the seed rule does:
// "[PRIVILEGED] [HOST_MOUNT]".
func (f *Finding) SuspiciousFlags() string {
	var b strings.Builder
	for i, fl := range f.Flags {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteByte('[')
		b.WriteString(fl.Category.String())
		b.WriteByte(']')
	}
	return b.String()
}

// Has reports whether category c fired.
func (f *Finding) Has(c Category) bool {
	for _, fl := range f.Flags {
		if fl.Category == c {
			return true
		}
	}
	return false
}

// hits collects evidence per category while a command line is parsed: at
// most maxEvidence arguments each, the rest counted.
type hits struct {
	ev   [numCategories][]string
	more [numCategories]int
}

// maxEvidence bounds the evidence kept per category: a manifest with
// thousands of privileged containers needs no thousand lines to say so.
const maxEvidence = 32

func (h *hits) add(c Category, evidence string) {
	for _, e := range h.ev[c] {
		if e == evidence {
			return
		}
	}
	if len(h.ev[c]) >= maxEvidence {
		h.more[c]++
		return
	}
	h.ev[c] = append(h.ev[c], evidence)
}

// score turns hits into Flags and a Score with weights w.
func (h *hits) score(w *Weights, f *Finding) {
	f.Flags = f.Flags[:0]
	f.Score = 0
	for c := range h.ev {
		if len(h.ev[c]) == 0 {
			continue
		}
		ev := h.ev[c]
		if h.more[c] > 0 {
			ev = append(ev, fmt.Sprintf("(and %d more)", h.more[c]))
		}
		f.Flags = append(f.Flags, Flag{Category: Category(c), Weight: w[c], Evidence: ev})
		f.Score += w[c]
	}
}

// DefaultSensitivePaths are host paths whose bind mount hands the container
// the host: the path itself, anything below it, and anything above it (a
// mount of /var exposes /var/lib/docker).
var DefaultSensitivePaths = []string{
	"/proc", "/sys", "/dev", "/etc", "/root", "/boot", "/home/*/.ssh",
	"/lib/modules", "/usr/lib/modules", "/bin", "/sbin", "/usr/bin", "/usr/sbin", "/lib", "/lib64",
	"/usr/lib", "/usr/lib64", "/usr/local/bin", "/usr/local/sbin",
	"/var/lib/kubelet", "/var/lib/etcd", "/var/lib/docker", "/var/lib/containerd",
	"/var/lib/containers", "/var/lib/rancher", "/var/lib/k0s", "/var/spool/cron", "/var/lib/cni",
	"/opt/cni", "/run/secrets", "/run/systemd", "/run/dbus",
}

// harmlessPaths are single files and device nodes below sensitive folders that
// containers commonly mount without gaining the host.
var harmlessPaths = map[string]bool{ // /var/run is looked up as /run
	"/etc/localtime": true, "/etc/timezone": true, "/etc/hostname": true, "/etc/hosts": true,
	"/etc/resolv.conf": true, "/etc/machine-id": true, "/etc/os-release": true,
	"/etc/ssl/certs": true, "/etc/pki/ca-trust/extracted": true, "/etc/ca-certificates": true,
	"/dev/log": true, "/dev/null": true, "/dev/zero": true, "/dev/random": true, "/dev/urandom": true,
	"/dev/fuse": true, "/dev/net/tun": true, "/dev/shm": true, "/dev/dri": true, "/dev/snd": true,
	"/dev/kvm": true, "/dev/tty": true,
	"/usr/share/zoneinfo": true, "/run/systemd/journal/socket": true, "/run/systemd/journal/stdout": true,
}

// runtimeSockets are the container runtimes' API sockets and the folders
// that hold them. /var/run is matched as /run.
var runtimeSockets = []string{
	"/run/docker.sock", "/run/docker", "/run/containerd", "/run/crio", "/run/podman",
	"/run/dockershim.sock", "/run/k3s/containerd", "/run/buildkit", "/run/cri-dockerd.sock",
	"/run/user/*/docker.sock", "/run/user/*/podman", "/var/lib/docker/docker.sock",
}

// hostPaths classifies host paths by the harm a bind mount of them does.
type hostPaths struct {
	sensitive []string
}

// classify returns the categories a bind mount of host path p fires:
// RUNTIME_SOCKET for a runtime socket, its folder, /run and /var/run;
// HOST_MOUNT for / and for sensitive paths. p must be clean and absolute.
func (hp *hostPaths) classify(p string) (socket, mount bool) {
	sp := p
	if sp == "/var/run" || strings.HasPrefix(sp, "/var/run/") {
		sp = "/run" + sp[len("/var/run"):]
	}
	if sp == "/run" {
		return true, false
	}
	for _, s := range runtimeSockets {
		if pathUnder(sp, s) {
			socket = true
			break
		}
	}
	if p == "/" {
		return socket, true
	}
	if harmlessPaths[sp] {
		return socket, false
	}
	for _, s := range hp.sensitive {
		if pathUnder(sp, s) || pathUnder(s, sp) {
			return socket, true
		}
	}
	return socket, false
}

// pathUnder reports whether p is pattern or below it. Pattern elements may be
// "*", matching one path element.
func pathUnder(p, pattern string) bool {
	if !strings.Contains(pattern, "*") {
		return p == pattern || (strings.HasPrefix(p, pattern) && len(p) > len(pattern) && p[len(pattern)] == '/')
	}
	n := strings.Count(pattern, "/")
	pp := p
	for strings.Count(pp, "/") > n {
		pp = path.Dir(pp)
	}
	ok, _ := path.Match(pattern, pp)
	return ok
}

// cleanHostPath makes a host path of a mount source absolute (against cwd,
// the directory the CLI ran in, when it is relative) and clean ("//", "/./",
// "/etc/.." resolved). ok is false when p is not a path (a named volume).
func cleanHostPath(p, cwd string) (string, bool) {
	switch {
	case strings.HasPrefix(p, "/"):
		return path.Clean(p), true
	case p == "." || p == ".." || strings.HasPrefix(p, "./") || strings.HasPrefix(p, "../") || p == "~" || strings.HasPrefix(p, "~/"):
		if cwd == "" || strings.HasPrefix(p, "~") {
			// Relative to a directory we do not know: the worst case is /.
			return path.Clean("/" + strings.TrimPrefix(p, "~")), true
		}
		return path.Join(cwd, p), true
	}
	return "", false
}

// dangerousCaps are capabilities that break the container's isolation.
var dangerousCaps = map[string]bool{
	"ALL": true, "SYS_ADMIN": true, "SYS_PTRACE": true, "SYS_MODULE": true, "SYS_RAWIO": true,
	"SYS_BOOT": true, "SYS_TIME": true, "DAC_READ_SEARCH": true, "NET_ADMIN": true, "BPF": true,
	"PERFMON": true, "SYSLOG": true, "MAC_ADMIN": true, "MAC_OVERRIDE": true, "LINUX_IMMUTABLE": true,
	"SYS_RESOURCE": true, "AUDIT_CONTROL": true, "CHECKPOINT_RESTORE": true,
}

// dangerousCap reports whether capability name c (any case, with or without
// CAP_) is one that hands over the host.
func dangerousCap(c string) bool {
	c = strings.ToUpper(strings.TrimSpace(c))
	c = strings.TrimPrefix(c, "CAP_")
	return dangerousCaps[c]
}

// harmlessDevices are device nodes commonly passed to containers that do
// not expose the host's storage, memory or kernel.
var harmlessDevices = []string{
	"/dev/fuse", "/dev/net/tun", "/dev/dri", "/dev/snd", "/dev/nvidia*", "/dev/nvidiactl",
	"/dev/nvidia-uvm", "/dev/nvidia-uvm-tools", "/dev/nvidia-modeset", "/dev/nvidia-caps",
	"/dev/kfd", "/dev/null", "/dev/zero", "/dev/random", "/dev/urandom", "/dev/tty", "/dev/kvm",
	"/dev/vhost-net", "/dev/video*", "/dev/bus/usb", "/dev/ttyUSB*", "/dev/ttyACM*", "/dev/neuron*",
	"/dev/accel",
}

// dangerousDevice reports whether passing host device p (clean) is dangerous:
// anything but the harmless list.
func dangerousDevice(p string) bool {
	for _, h := range harmlessDevices {
		if strings.HasSuffix(h, "*") {
			if strings.HasPrefix(p, strings.TrimSuffix(h, "*")) {
				return false
			}
			continue
		}
		if pathUnder(p, h) {
			return false
		}
	}
	return true
}

// dangerousCgroupRule reports whether a device cgroup rule ("a *:* rwm",
// "b 8:* rw", "c 1:1 rwm") grants access to block devices, all devices or
// memory devices.
func dangerousCgroupRule(rule string) bool {
	f := strings.Fields(rule)
	if len(f) == 0 {
		return false
	}
	switch f[0] {
	case "a", "b":
		return true
	case "c":
		if len(f) < 2 {
			return false
		}
		major, minor, _ := strings.Cut(f[1], ":")
		// char majors: 1 = mem, kmem, port; 10 misc incl. several kernel
		// interfaces; a wildcard covers them all.
		return major == "*" || (major == "1" && (minor == "*" || minor == "1" || minor == "2" || minor == "4")) ||
			(major == "10" && minor == "*")
	}
	return false
}

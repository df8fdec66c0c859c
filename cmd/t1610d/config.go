package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/rs/zerolog"

	"github.com/t1610d/t1610d/detect"
	"github.com/t1610d/t1610d/output"
)

// config is the TOML file (DESIGN.md, "Configuration"). Only cmd knows it:
// the packages get plain values.
type config struct {
	Source  sourceConfig   `toml:"source"`
	Detect  detectConfig   `toml:"detect"`
	Allow   []allowConfig  `toml:"allow"`
	Output  []outputConfig `toml:"output"`
	Log     logConfig      `toml:"log"`
	Metrics metricsConfig  `toml:"metrics"`
}

type sourceConfig struct {
	Kind         string `toml:"kind"`          // auto | netlink | tail | stdin
	NetlinkMode  string `toml:"netlink_mode"`  // auto | multicast | unicast
	InstallRules *bool  `toml:"install_rules"` // add the exec rules when missing
	TailPath     string `toml:"tail_path"`
	StateDir     string `toml:"state_dir"`
	Backlog      uint32 `toml:"backlog_limit"` // unicast: the kernel's backlog limit
}

type outputConfig struct {
	Type   string `toml:"type"`   // stdout | file | webhook
	Format string `toml:"format"` // native | ecs
	Events string `toml:"events"` // alerts | container | all
	Path   string `toml:"path"`   // file
	Queue  int    `toml:"queue"`  // records held while the output is slow

	// webhook (outputs.go); url, headers and token may hold ${env:NAME}
	// and ${file:/path}, resolved when the config is loaded
	URL           string            `toml:"url"`
	Preset        string            `toml:"preset"` // generic | splunk-hec | slack
	Headers       map[string]string `toml:"headers"`
	Token         string            `toml:"token"`       // splunk-hec: Authorization: Splunk <token>
	SecretFile    string            `toml:"secret_file"` // Standard Webhooks signing key
	CAFile        string            `toml:"ca_file"`     // trusted besides the system's roots
	CertFile      string            `toml:"cert_file"`   // client certificate (PEM)
	KeyFile       string            `toml:"key_file"`
	TLSSkipVerify bool              `toml:"tls_skip_verify"`
	Timeout       string            `toml:"timeout"`    // per request
	BatchMax      int               `toml:"batch_max"`  // records per request
	BatchWait     string            `toml:"batch_wait"` // the first record of a batch waits this long for more
	MaxRetries    *int              `toml:"max_retries"`
	RetryBackoff  string            `toml:"retry_backoff"`     // the first retry's wait, doubling
	RetryMax      string            `toml:"retry_max_backoff"` // up to this
	SpoolMaxBytes int64             `toml:"spool_max_bytes"`

	webhook *output.WebhookConfig // resolved by buildDaemon
}

type logConfig struct {
	Level string `toml:"level"` // debug | info | warn | error
}

type metricsConfig struct {
	Listen string `toml:"listen"` // host:port for /metrics and /healthz; empty: off
}

// The defaults: what the packaged config file ships.
const (
	defaultTailPath   = "/var/log/audit/audit.log"
	defaultStateDir   = "/var/lib/t1610d"
	defaultOutputSize = 10000
)

type detectConfig struct {
	Threshold        *int           `toml:"threshold"`
	InspectManifests *bool          `toml:"inspect_manifests"`
	MaxManifestBytes *int64         `toml:"max_manifest_bytes"`
	Weights          map[string]int `toml:"weights"`
	SensitivePaths   []string       `toml:"sensitive_paths"` // added to the defaults
	SecretNames      []string       `toml:"secret_names"`    // globs, added to the defaults
}

type allowConfig struct {
	Name    string   `toml:"name"`
	Image   string   `toml:"image"`
	Parent  string   `toml:"parent"`
	User    string   `toml:"user"`
	Host    string   `toml:"host"`
	Runtime string   `toml:"runtime"`
	Flags   []string `toml:"flags"`
}

// settings are what a config file turns into: the stages, built and ready.
type settings struct {
	det     *detect.Detector
	allow   detect.Allowlist
	files   *detect.FileReader // nil when manifests are not inspected
	source  sourceConfig       // validated, defaults filled in
	outputs []outputConfig     // validated, defaults filled in
	level   zerolog.Level
	metrics string
}

// loadSettings reads the config file at p ("" for the built-in defaults,
// which are what the packaged file ships) and builds the detection stage
// from it. Errors name the file, and the line or key at fault; they are
// usage errors (exit 2).
func loadSettings(p, readAt string) (*settings, error) {
	var cfg config
	if p != "" {
		md, err := toml.DecodeFile(p, &cfg)
		if err != nil {
			return nil, usagef("config %s: %v", p, err)
		}
		if und := md.Undecoded(); len(und) > 0 {
			// Name the leaves: "source.kind", not also "source".
			var keys []string
			for i, k := range und {
				if i+1 < len(und) && strings.HasPrefix(und[i+1].String(), k.String()+".") {
					continue
				}
				keys = append(keys, k.String())
			}
			return nil, usagef("config %s: unknown key %s", p, strings.Join(keys, ", "))
		}
	}
	s, err := cfg.build(readAt)
	if err != nil {
		if p == "" {
			p = "(defaults)"
		}
		return nil, usagef("config %s: %v", p, err)
	}
	return s, nil
}

// build validates cfg and builds the stages it describes.
func (cfg *config) build(readAt string) (*settings, error) {
	det := detect.NewDetector()
	dc := cfg.Detect
	if dc.Threshold != nil {
		if *dc.Threshold < 1 {
			return nil, fmt.Errorf("detect.threshold = %d: must be at least 1", *dc.Threshold)
		}
		det.Threshold = *dc.Threshold
	}
	names := make([]string, 0, len(dc.Weights))
	for k := range dc.Weights {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		c, err := detect.ParseCategory(k)
		if err != nil {
			return nil, fmt.Errorf("detect.weights.%s: %v", k, err)
		}
		if w := dc.Weights[k]; w < 0 || w > 1000 {
			return nil, fmt.Errorf("detect.weights.%s = %d: want 0 to 1000", k, w)
		}
		det.Weights[c] = dc.Weights[k]
	}
	for i, p := range dc.SensitivePaths {
		if !path.IsAbs(p) {
			return nil, fmt.Errorf("detect.sensitive_paths[%d] = %q: not an absolute path", i, p)
		}
	}
	det.AddSensitivePaths(dc.SensitivePaths...)
	for i, g := range dc.SecretNames {
		if strings.TrimSpace(g) == "" || strings.Trim(g, "*?") == "" {
			return nil, fmt.Errorf("detect.secret_names[%d] = %q: would match every name", i, g)
		}
	}
	det.AddSecretNames(dc.SecretNames...)
	s := &settings{det: det}
	if dc.InspectManifests == nil || *dc.InspectManifests {
		max := int64(detect.DefaultMaxManifest)
		if dc.MaxManifestBytes != nil {
			if *dc.MaxManifestBytes < 1 {
				return nil, fmt.Errorf("detect.max_manifest_bytes = %d: must be positive", *dc.MaxManifestBytes)
			}
			max = *dc.MaxManifestBytes
		}
		s.files = &detect.FileReader{FS: os.DirFS("/"), MaxSize: max, When: readAt}
	} else {
		det.AlertUnread = false
	}
	for i, a := range cfg.Allow {
		r := detect.AllowRule{Name: a.Name, Image: a.Image, Parent: a.Parent, User: a.User, Host: a.Host, Runtime: a.Runtime}
		for j, fl := range a.Flags {
			c, err := detect.ParseCategory(fl)
			if err != nil {
				return nil, fmt.Errorf("allow[%d].flags[%d]: %v", i, j, err)
			}
			r.Flags = append(r.Flags, c)
		}
		if err := r.Validate(); err != nil {
			name := a.Name
			if name == "" {
				name = "(no name)"
			}
			return nil, fmt.Errorf("allow[%d] %s: %v", i, name, err)
		}
		s.allow = append(s.allow, r)
	}
	if err := cfg.buildDaemon(s); err != nil {
		return nil, err
	}
	return s, nil
}

// buildDaemon validates the sections only the daemon uses, filling in
// their defaults.
func (cfg *config) buildDaemon(s *settings) error {
	src := cfg.Source
	if src.Kind == "" {
		src.Kind = "auto"
	}
	if src.NetlinkMode == "" {
		src.NetlinkMode = "auto"
	}
	if src.InstallRules == nil {
		t := true
		src.InstallRules = &t
	}
	if src.TailPath == "" {
		src.TailPath = defaultTailPath
	}
	if src.StateDir == "" {
		src.StateDir = defaultStateDir
	}
	if src.Backlog == 0 {
		src.Backlog = 8192
	}
	if !oneOf(src.Kind, "auto", "netlink", "tail", "stdin") {
		return fmt.Errorf("source.kind = %q: want auto, netlink, tail or stdin", src.Kind)
	}
	if !oneOf(src.NetlinkMode, "auto", "multicast", "unicast") {
		return fmt.Errorf("source.netlink_mode = %q: want auto, multicast or unicast", src.NetlinkMode)
	}
	if !path.IsAbs(src.TailPath) || !path.IsAbs(src.StateDir) {
		return fmt.Errorf("source.tail_path and source.state_dir must be absolute paths (%q, %q)", src.TailPath, src.StateDir)
	}
	s.source = src
	outs := cfg.Output
	if len(outs) == 0 {
		outs = []outputConfig{{Type: "stdout"}}
	}
	for i := range outs {
		o := &outs[i]
		if o.Format == "" {
			o.Format = "native"
		}
		if o.Events == "" {
			o.Events = "alerts"
		}
		if o.Queue == 0 {
			o.Queue = defaultOutputSize
		}
		switch {
		case !oneOf(o.Type, "stdout", "file", "webhook"):
			return fmt.Errorf("output[%d].type = %q: want stdout, file or webhook", i, o.Type)
		case !oneOf(o.Format, "native", "ecs"):
			return fmt.Errorf("output[%d].format = %q: want native or ecs", i, o.Format)
		case o.Type == "file" && !path.IsAbs(o.Path):
			return fmt.Errorf("output[%d].path = %q: a file output needs an absolute path", i, o.Path)
		case o.Type != "file" && o.Path != "":
			return fmt.Errorf("output[%d].path: only a file output has a path", i)
		case o.Queue < 1 || o.Queue > 1000000:
			return fmt.Errorf("output[%d].queue = %d: want 1 to 1000000", i, o.Queue)
		}
		if _, err := parseEventMode(o.Events); err != nil {
			return fmt.Errorf("output[%d].events = %q: want alerts, container or all", i, o.Events)
		}
		if err := o.buildWebhook(fmt.Sprintf("output[%d]", i), src.StateDir); err != nil {
			return err
		}
	}
	s.outputs = outs
	level := cfg.Log.Level
	if level == "" {
		level = "info"
	}
	lv, err := zerolog.ParseLevel(level)
	if err != nil || !oneOf(level, "trace", "debug", "info", "warn", "error") {
		return fmt.Errorf("log.level = %q: want debug, info, warn or error", cfg.Log.Level)
	}
	s.level = lv
	if m := cfg.Metrics.Listen; m != "" {
		if _, _, err := net.SplitHostPort(m); err != nil {
			return fmt.Errorf("metrics.listen = %q: %v", m, err)
		}
	}
	s.metrics = cfg.Metrics.Listen
	return nil
}

func oneOf(v string, options ...string) bool {
	for _, o := range options {
		if v == o {
			return true
		}
	}
	return false
}

func runCheckConfig(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("check-config", stderr)
	cfgPath := fs.String("config", "", "the config file to check (default: the built-in defaults)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("check-config: unexpected argument %q", fs.Arg(0))
	}
	s, err := loadSettings(*cfgPath, "event")
	if err != nil {
		return err
	}
	name := *cfgPath
	if name == "" {
		name = "built-in defaults"
	}
	_, err = fmt.Fprintf(stdout, "%s: ok (source %s, threshold %d, %d allow rules, %d outputs, manifests %s)\n", name, s.source.Kind,
		s.det.Threshold, len(s.allow), len(s.outputs), map[bool]string{true: "inspected", false: "not inspected"}[s.files != nil])
	return err
}

package main

import (
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/t1610d/t1610d/detect"
)

// config is the TOML file (DESIGN.md, "Configuration"). Only cmd knows it:
// the packages get plain values.
type config struct {
	Detect detectConfig  `toml:"detect"`
	Allow  []allowConfig `toml:"allow"`
}

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
	det   *detect.Detector
	allow detect.Allowlist
	files *detect.FileReader // nil when manifests are not inspected
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
	return s, nil
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
	_, err = fmt.Fprintf(stdout, "%s: ok (threshold %d, %d allow rules, manifests %s)\n", name, s.det.Threshold, len(s.allow), map[bool]string{true: "inspected", false: "not inspected"}[s.files != nil])
	return err
}

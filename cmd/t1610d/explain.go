package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/t1610d/t1610d/detect"
	"github.com/t1610d/t1610d/output"
)

// explanation is explain's --json record.
type explanation struct {
	CommandLine     string
	Runtime         string
	Action          string
	ContainerImage  string
	RiskScore       int
	Threshold       int
	Alert           bool
	SuspiciousFlags string
	Flags           []output.NativeFlag
	Manifests       []detect.ManifestRead `json:",omitempty"`
	Notes           []string              `json:",omitempty"`
}

func runExplain(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("explain", stderr)
	asJSON := fs.Bool("json", false, "print the explanation as JSON")
	cfgPath := fs.String("config", "", "config file (default: the built-in defaults)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	argv := fs.Args()
	if len(argv) == 0 {
		return usagef("explain: no command line given (t1610d explain -- docker run ...)")
	}
	set, err := loadSettings(*cfgPath, "explain")
	if err != nil {
		return err
	}
	det := set.det
	cwd, _ := os.Getwd()
	inner := detect.Unwrap(argv)
	f := det.Inspect(detect.Command{Argv: inner, Cwd: cwd, Files: set.files})
	x := explanation{CommandLine: output.CommandLine(det.Secrets(), argv), Threshold: det.Threshold, Flags: []output.NativeFlag{}}
	if f != nil {
		x.Runtime, x.Action, x.ContainerImage = f.Runtime, f.Action, det.Secrets().String(f.Image)
		x.RiskScore, x.Alert, x.SuspiciousFlags, x.Notes = f.Score, det.Alerts(f), f.SuspiciousFlags(), f.Notes
		x.Manifests = f.Manifests
		for _, fl := range f.Flags {
			x.Flags = append(x.Flags, output.NativeFlag{Category: fl.Category.String(), Weight: fl.Weight, Evidence: fl.Evidence})
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		return enc.Encode(x)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "command:  %s\n", x.CommandLine)
	if f == nil {
		fmt.Fprintf(&b, "not a container CLI that t1610d knows (%s): score 0\n", strings.Join(runtimeList(), ", "))
		_, err = io.WriteString(stdout, b.String())
		return err
	}
	if len(inner) != len(argv) {
		fmt.Fprintf(&b, "runs:     %s\n", output.CommandLine(det.Secrets(), inner))
	}
	fmt.Fprintf(&b, "runtime:  %s\naction:   %s\n", x.Runtime, orNone(x.Action))
	fmt.Fprintf(&b, "image:    %s\n", orNone(x.ContainerImage))
	verdict := "below the threshold: no alert"
	if x.Alert {
		verdict = "ALERT"
	}
	fmt.Fprintf(&b, "score:    %d (threshold %d): %s\n", x.RiskScore, x.Threshold, verdict)
	for _, fl := range x.Flags {
		fmt.Fprintf(&b, "  %-16s +%-3d %s\n", "["+fl.Category+"]", fl.Weight, strings.Join(fl.Evidence, ", "))
	}
	for _, m := range x.Manifests {
		if m.Read {
			fmt.Fprintf(&b, "read:     %s\n", m.Path)
		} else {
			fmt.Fprintf(&b, "unread:   %s: %s\n", m.Path, m.Reason)
		}
	}
	for _, n := range x.Notes {
		fmt.Fprintf(&b, "note:     %s\n", n)
	}
	_, err = io.WriteString(stdout, b.String())
	return err
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func runtimeList() []string { return []string{"docker", "podman", "nerdctl", "kubectl", "oc", "ctr"} }

package output

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/t1610d/t1610d/auditd"
)

// ECSVersion is the Elastic Common Schema release the ECS records follow:
// every field outside t1610d.* is defined there, with the type it gives.
const ECSVersion = "9.4.0"

// ECS is the alert (or exec event) in Elastic Common Schema. Fields ECS
// defines carry the same facts as the native record; what ECS has no field
// for (the categories with their evidence, the login user, the audit
// record's place) is under t1610d.*, as Auditbeat keeps its own under
// auditd.*.
type ECS struct {
	Timestamp string        `json:"@timestamp"`
	Message   string        `json:"message"`
	Tags      []string      `json:"tags,omitempty"`
	ECS       ecsVersion    `json:"ecs"`
	Event     ECSEvent      `json:"event"`
	Rule      *ECSRule      `json:"rule,omitempty"`
	Threat    *ECSThreat    `json:"threat,omitempty"`
	Host      ECSHost       `json:"host"`
	User      ECSUser       `json:"user"`
	Process   ECSProcess    `json:"process"`
	Container *ECSContainer `json:"container,omitempty"`
	Related   ECSRelated    `json:"related"`
	Observer  ECSObserver   `json:"observer"`
	T1610d    ECSExtra      `json:"t1610d"`
}

type ecsVersion struct {
	Version string `json:"version"`
}

// ECSEvent is event.*: an alert is kind "alert" in the process and
// intrusion_detection categories; any other exec is kind "event".
type ECSEvent struct {
	Kind      string   `json:"kind"`
	Category  []string `json:"category"`
	Type      []string `json:"type"`
	Action    string   `json:"action"`
	Outcome   string   `json:"outcome"`
	RiskScore float64  `json:"risk_score"`
	ID        string   `json:"id"`
	Sequence  uint64   `json:"sequence"`
	Module    string   `json:"module"`
	Dataset   string   `json:"dataset"`
	Provider  string   `json:"provider"`
}

// ECSRule is rule.*: the detection that fired.
type ECSRule struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Ruleset     string `json:"ruleset"`
	Category    string `json:"category"`
	Description string `json:"description"`
	Reference   string `json:"reference"`
}

// ECSThreat is threat.*: MITRE ATT&CK's technique and its tactics. ECS
// makes the tactic and technique fields arrays.
type ECSThreat struct {
	Framework string       `json:"framework"`
	Tactic    ecsThreatRef `json:"tactic"`
	Technique ecsThreatRef `json:"technique"`
}

type ecsThreatRef struct {
	ID        []string `json:"id"`
	Name      []string `json:"name"`
	Reference []string `json:"reference"`
}

// ECSHost is host.*.
type ECSHost struct {
	Name     string `json:"name"`
	Hostname string `json:"hostname"`
}

// ECSUser is user.* (the process's user, uid; ids are keywords in ECS) and
// user.effective.* (euid).
type ECSUser struct {
	ID        string      `json:"id"`
	Name      string      `json:"name,omitempty"`
	Effective *ECSUserRef `json:"effective,omitempty"`
}

// ECSUserRef is a user by id and name.
type ECSUserRef struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
}

// ECSProcess is process.*.
type ECSProcess struct {
	PID              uint32     `json:"pid"`
	Name             string     `json:"name"`
	Executable       string     `json:"executable,omitempty"`
	CommandLine      string     `json:"command_line"`
	Args             []string   `json:"args"`
	ArgsCount        int        `json:"args_count"`
	WorkingDirectory string     `json:"working_directory,omitempty"`
	Interactive      bool       `json:"interactive"`
	User             ECSUserRef `json:"user"`
	Parent           ECSParent  `json:"parent"`
	// No process.tty: ECS makes it an object of device numbers, which the
	// audit record does not give; the tty's name is t1610d.tty.
}

// ECSParent is process.parent.*; only the pid is known when the parent never
// exec'd in the stream t1610d read.
type ECSParent struct {
	PID         uint32      `json:"pid"`
	Name        string      `json:"name,omitempty"`
	Executable  string      `json:"executable,omitempty"`
	CommandLine string      `json:"command_line,omitempty"`
	Args        []string    `json:"args,omitempty"`
	ArgsCount   int         `json:"args_count,omitempty"`
	User        *ECSUserRef `json:"user,omitempty"`
}

// ECSContainer is container.*: the image the command deploys.
type ECSContainer struct {
	Image   ecsImage `json:"image"`
	Runtime string   `json:"runtime,omitempty"`
}

type ecsImage struct {
	Name string   `json:"name"`
	Tag  []string `json:"tag,omitempty"`
	Hash *ecsHash `json:"hash,omitempty"`
}

type ecsHash struct {
	All []string `json:"all"`
}

// ECSRelated is related.*.
type ECSRelated struct {
	User  []string `json:"user,omitempty"`
	Hosts []string `json:"hosts,omitempty"`
}

// ECSObserver is observer.*: t1610d itself.
type ECSObserver struct {
	Vendor  string `json:"vendor"`
	Product string `json:"product"`
}

// ECSExtra is t1610d.*: what the native record has and ECS has no field for.
type ECSExtra struct {
	AlertID         string          `json:"alert_id"`
	SuspiciousFlags string          `json:"suspicious_flags,omitempty"`
	RiskScore       int             `json:"risk_score"`
	Runtime         string          `json:"runtime,omitempty"`
	Action          string          `json:"action,omitempty"`
	Image           string          `json:"image,omitempty"`
	Flags           []ecsFlag       `json:"flags"`
	LoginUser       *ECSUserRef     `json:"login_user,omitempty"`
	TTY             string          `json:"tty,omitempty"`
	Session         *uint32         `json:"session,omitempty"`
	Audit           ecsAudit        `json:"audit"`
	Manifest        *NativeManifest `json:"manifest,omitempty"`
	Suppressed      string          `json:"suppressed,omitempty"`
	Notes           []string        `json:"notes,omitempty"`
	Warnings        []string        `json:"warnings,omitempty"`
}

type ecsFlag struct {
	Category string   `json:"category"`
	Weight   int      `json:"weight"`
	Evidence []string `json:"evidence"`
}

type ecsAudit struct {
	Node     string `json:"node,omitempty"`
	Sequence uint64 `json:"sequence"`
	Key      string `json:"key,omitempty"`
}

// MITRE ATT&CK: T1610 is under Execution (TA0002) and Defense Evasion (TA0005).
var (
	t1610Tactics = ecsThreatRef{
		ID:        []string{"TA0002", "TA0005"},
		Name:      []string{"Execution", "Defense Evasion"},
		Reference: []string{"https://attack.mitre.org/tactics/TA0002/", "https://attack.mitre.org/tactics/TA0005/"},
	}
	t1610Technique = ecsThreatRef{
		ID:        []string{Technique},
		Name:      []string{"Deploy Container"},
		Reference: []string{"https://attack.mitre.org/techniques/T1610/"},
	}
)

// NewECS builds the ECS record of e, secrets redacted, from its native
// record (so both formats always say the same).
func NewECS(e *Event) *ECS {
	n := NewNative(e)
	x := e.Exec
	args := e.Secrets.Args(x.Argv)
	if args == nil {
		args = []string{}
	}
	r := &ECS{
		Timestamp: n.TimeGenerated,
		Message:   Summary(n),
		ECS:       ecsVersion{Version: ECSVersion},
		Event: ECSEvent{
			Kind: "event", Category: []string{"process"}, Type: []string{"start"},
			Action: "exec", Outcome: "failure", RiskScore: float64(n.RiskScore), ID: n.AlertID, Sequence: x.Serial,
			Module: "t1610d", Dataset: "t1610d.exec", Provider: "auditd",
		},
		Host: ECSHost{Name: n.DeviceName, Hostname: n.DeviceName},
		User: ECSUser{ID: strconv.FormatUint(uint64(x.UID), 10), Name: x.User},
		Process: ECSProcess{
			PID: x.Pid, Name: n.FileName, Executable: x.Exe, CommandLine: n.ProcessCommandLine,
			Args: args, ArgsCount: len(args), WorkingDirectory: x.Cwd, Interactive: x.TTY != "",
			User:   ECSUserRef{ID: strconv.FormatUint(uint64(x.UID), 10), Name: x.User},
			Parent: ECSParent{PID: x.Ppid},
		},
		Related:  ECSRelated{Hosts: nonEmpty(n.DeviceName)},
		Observer: ECSObserver{Vendor: "t1610d", Product: "t1610d"},
		T1610d: ECSExtra{
			AlertID: n.AlertID, SuspiciousFlags: n.SuspiciousFlags, RiskScore: n.RiskScore, Runtime: n.Runtime,
			Action: n.Action, Image: n.ContainerImage, Flags: []ecsFlag{}, TTY: x.TTY,
			Audit:    ecsAudit{Node: x.Node, Sequence: x.Serial, Key: x.Key},
			Manifest: n.Manifest, Suppressed: n.Suppressed, Notes: n.Notes, Warnings: n.Warnings,
		},
	}
	if x.Success {
		r.Event.Outcome = "success"
	}
	if x.EUID != x.UID || x.EUser != x.User {
		r.User.Effective = &ECSUserRef{ID: strconv.FormatUint(uint64(x.EUID), 10), Name: x.EUser}
	}
	if x.AUID != auditd.Unset {
		r.T1610d.LoginUser = &ECSUserRef{ID: strconv.FormatUint(uint64(x.AUID), 10), Name: x.LoginUser}
	}
	if x.Ses != auditd.Unset {
		ses := x.Ses
		r.T1610d.Session = &ses
	}
	if e.HasParent {
		pargs := e.Secrets.Args(e.Parent.Argv)
		r.Process.Parent = ECSParent{
			PID: x.Ppid, Name: n.InitiatingProcessFileName, Executable: e.Parent.Exe,
			CommandLine: n.InitiatingProcessCommandLine, Args: pargs, ArgsCount: len(pargs),
		}
		if e.Parent.User != "" {
			r.Process.Parent.User = &ECSUserRef{Name: e.Parent.User}
		}
	}
	r.Related.User = uniqueNonEmpty(x.User, x.EUser, x.LoginUser, e.Parent.User)
	for _, fl := range n.Flags {
		r.T1610d.Flags = append(r.T1610d.Flags, ecsFlag{Category: fl.Category, Weight: fl.Weight, Evidence: fl.Evidence})
		r.Tags = append(r.Tags, fl.Category)
	}
	if f := e.Finding; f != nil {
		r.Event.Action = f.Action
		if img := n.ContainerImage; img != "" {
			r.Container = &ECSContainer{Image: splitImage(img), Runtime: f.Runtime}
		}
		if len(f.Flags) > 0 || f.Unread() {
			r.Rule = &ECSRule{
				ID: "t1610d-T1610", Name: "Container deployed with host access (T1610)", Ruleset: "t1610d",
				Category: "Deploy Container", Reference: "https://attack.mitre.org/techniques/T1610/",
				Description: "A container CLI deployed a container with options that hand it the host: " + n.SuspiciousFlags,
			}
			r.Threat = &ECSThreat{Framework: "MITRE ATT&CK", Tactic: t1610Tactics, Technique: t1610Technique}
		}
	}
	if e.Alert {
		r.Event.Kind = "alert"
		r.Event.Category = []string{"process", "intrusion_detection"}
		r.Event.Type = []string{"start", "info"}
		r.Event.Dataset = "t1610d.alert"
	}
	return r
}

// AppendECS appends e's ECS record as one line of JSON.
func AppendECS(dst []byte, e *Event) ([]byte, error) {
	b, err := json.Marshal(NewECS(e))
	if err != nil {
		return dst, err
	}
	dst = append(dst, b...)
	return append(dst, '\n'), nil
}

// splitImage splits an image reference into ECS's name, tags and digests:
// "registry:5000/app:1.2@sha256:…" is name "registry:5000/app", tag "1.2",
// hash "sha256:…".
func splitImage(ref string) ecsImage {
	var im ecsImage
	if i := strings.IndexByte(ref, '@'); i >= 0 {
		im.Hash = &ecsHash{All: []string{ref[i+1:]}}
		ref = ref[:i]
	}
	if i := strings.LastIndexByte(ref, ':'); i >= 0 && !strings.Contains(ref[i:], "/") {
		im.Tag = []string{ref[i+1:]}
		ref = ref[:i]
	}
	im.Name = ref
	return im
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

func uniqueNonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s == "" {
			continue
		}
		dup := false
		for _, o := range out {
			dup = dup || o == s
		}
		if !dup {
			out = append(out, s)
		}
	}
	return out
}

// Summary is a one-line account of a record, for chat presets and ECS's
// message: "T1610 score 80 [PRIVILEGED] [HOST_MOUNT] on vm: alice as root
// ran docker run --privileged … (image alpine)".
func Summary(n *Native) string {
	var b strings.Builder
	b.WriteString(n.Technique)
	b.WriteString(" score ")
	b.WriteString(strconv.Itoa(n.RiskScore))
	if n.SuspiciousFlags != "" {
		b.WriteByte(' ')
		b.WriteString(n.SuspiciousFlags)
	}
	if n.Suppressed != "" {
		b.WriteString(" (suppressed by " + n.Suppressed + ")")
	}
	b.WriteString(" on ")
	b.WriteString(n.DeviceName)
	b.WriteString(": ")
	switch {
	case n.LoginAccountName != "" && n.LoginAccountName != n.AccountName:
		b.WriteString(n.LoginAccountName + " as " + n.AccountName)
	case n.AccountName != "":
		b.WriteString(n.AccountName)
	default:
		b.WriteString("uid " + strconv.FormatUint(uint64(n.Process.Uid), 10))
	}
	b.WriteString(" ran ")
	cl := n.ProcessCommandLine
	if len(cl) > 300 {
		cut := 300
		for cut > 0 && cl[cut]&0xC0 == 0x80 {
			cut--
		}
		cl = cl[:cut] + "…"
	}
	b.WriteString(cl)
	if n.ContainerImage != "" {
		b.WriteString(" (image " + n.ContainerImage + ")")
	}
	return b.String()
}

package output

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/t1610d/t1610d/auditd"
	"github.com/t1610d/t1610d/detect"
)

// Event is one exec as the encoders see it: the exec, its parent from the
// process table, and what the detector found in it.
type Event struct {
	Exec       *auditd.Exec
	Parent     auditd.Proc
	HasParent  bool
	Finding    *detect.Finding // nil for a program that is not a container CLI
	Alert      bool            // the finding is an alert (threshold reached, not suppressed)
	Host       string          // DeviceName when the records carry no node=
	Suppressed string          // the allow rule that suppressed it, if any
	Secrets    *detect.Secrets // what to redact; nil for the default patterns
}

// Native is the native alert record: the seed rule's twelve fields first,
// with their names, then t1610d's own.
type Native struct {
	TimeGenerated                string
	DeviceName                   string
	AccountName                  string
	AccountDomain                string
	FileName                     string
	ProcessCommandLine           string
	InitiatingProcessFileName    string
	InitiatingProcessCommandLine string
	InitiatingProcessAccountName string
	ContainerImage               string
	SuspiciousFlags              string
	RiskScore                    int

	LoginAccountName string
	Technique        string
	Runtime          string
	Action           string
	Flags            []NativeFlag
	Process          NativeProcess
	Audit            NativeAudit
	AlertID          string          `json:"AlertId"` // stable: the same exec always has the same id (AlertID)
	Manifest         *NativeManifest `json:",omitempty"`
	Suppressed       string          `json:",omitempty"`
	Notes            []string        `json:",omitempty"`
	Warnings         []string        `json:",omitempty"`
}

// NativeFlag is one category that fired.
type NativeFlag struct {
	Category string
	Weight   int
	Evidence []string
}

// NativeProcess describes the process that ran the command.
type NativeProcess struct {
	Pid, Ppid, Uid, Auid, Euid uint32
	Exe, Cwd, Tty              string
	Ses                        uint32
}

// NativeAudit locates the record in the audit stream.
type NativeAudit struct {
	Node     string
	Sequence uint64
	Key      string
}

// NativeManifest says which files named on the command line were inspected
// and whether they could be read. Path and Reason are those of the first file
// that could not be read, else of the first file; Files lists them all when
// there are several.
type NativeManifest struct {
	Path   string
	Read   bool
	Reason string                `json:",omitempty"`
	ReadAt string                // "event" (read when the exec was seen) or "replay" (read later)
	Files  []detect.ManifestRead `json:",omitempty"`
}

func newManifest(f *detect.Finding) *NativeManifest {
	if len(f.Manifests) == 0 {
		return nil
	}
	m := &NativeManifest{Path: f.Manifests[0].Path, Read: true, ReadAt: f.ReadAt}
	for _, r := range f.Manifests {
		if !r.Read {
			m.Path, m.Read, m.Reason = r.Path, false, r.Reason
			break
		}
	}
	if len(f.Manifests) > 1 {
		m.Files = f.Manifests
	}
	return m
}

// Technique is MITRE ATT&CK's Deploy Container.
const Technique = "T1610"

// NewNative builds the native record of e, secrets redacted.
func NewNative(e *Event) *Native {
	x := e.Exec
	host := x.Node
	if host == "" {
		host = e.Host
	}
	n := &Native{
		TimeGenerated:      x.Time.UTC().Format("2006-01-02T15:04:05.000Z07:00"),
		DeviceName:         host,
		AccountName:        x.User,
		AccountDomain:      host,
		FileName:           ProgramName(x.Exe, x.Argv),
		ProcessCommandLine: CommandLine(e.Secrets, x.Argv),
		LoginAccountName:   x.LoginUser,
		Technique:          Technique,
		Flags:              []NativeFlag{},
		Process: NativeProcess{
			Pid: x.Pid, Ppid: x.Ppid, Uid: x.UID, Auid: x.AUID, Euid: x.EUID,
			Exe: x.Exe, Cwd: x.Cwd, Tty: x.TTY, Ses: x.Ses,
		},
		Audit:      NativeAudit{Node: x.Node, Sequence: x.Serial, Key: x.Key},
		AlertID:    AlertID(host, x.Serial, x.Time),
		Suppressed: e.Suppressed,
		Warnings:   x.Warnings,
	}
	if e.HasParent {
		n.InitiatingProcessFileName = ProgramName(e.Parent.Exe, e.Parent.Argv)
		n.InitiatingProcessCommandLine = CommandLine(e.Secrets, e.Parent.Argv)
		n.InitiatingProcessAccountName = e.Parent.User
	}
	if f := e.Finding; f != nil {
		n.ContainerImage = e.Secrets.String(f.Image)
		n.SuspiciousFlags = f.SuspiciousFlags()
		n.RiskScore = f.Score
		n.Runtime = f.Runtime
		n.Action = f.Action
		n.Notes = f.Notes
		n.Manifest = newManifest(f)
		for _, fl := range f.Flags {
			n.Flags = append(n.Flags, NativeFlag{Category: fl.Category.String(), Weight: fl.Weight, Evidence: fl.Evidence})
		}
	}
	return n
}

// AlertID is the stable id of the record of one exec: 32 hex digits of
// SHA-256 over the host (DeviceName), the audit serial and the event's time.
// A record delivered twice (a retry, a restart that re-reads the log, a
// replay on the same host) carries the same id, so receivers can drop the
// duplicates; two execs never share one, as (host, serial, time) is unique
// in an audit stream.
func AlertID(host string, serial uint64, t time.Time) string {
	b := make([]byte, 0, len(host)+48)
	b = append(b, host...)
	b = append(b, 0)
	b = strconv.AppendUint(b, serial, 10)
	b = append(b, 0)
	b = strconv.AppendInt(b, t.UnixNano(), 10)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// AppendNative appends e's native record as one line of JSON.
func AppendNative(dst []byte, e *Event) ([]byte, error) {
	b, err := json.Marshal(NewNative(e))
	if err != nil {
		return dst, err
	}
	dst = append(dst, b...)
	return append(dst, '\n'), nil
}

// ProgramName is the basename of the executed file, or of argv[0] when the
// kernel did not name it.
func ProgramName(exe string, argv []string) string {
	if exe != "" {
		return path.Base(exe)
	}
	if len(argv) > 0 {
		return path.Base(argv[0])
	}
	return ""
}

// CommandLine joins argv the way a POSIX shell would need it typed, each
// argument quoted only where needed, with the secrets s knows redacted.
func CommandLine(s *detect.Secrets, argv []string) string {
	argv = s.Args(argv)
	var b strings.Builder
	for i, a := range argv {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(ShellQuote(a))
	}
	return b.String()
}

// ShellQuote quotes s for a POSIX shell: as is when it holds only characters
// no shell treats specially, else in single quotes ('\” for a quote).
func ShellQuote(s string) string {
	if s == "" {
		return "''"
	}
	safe := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("@%+=:,./-_[]", c) >= 0) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

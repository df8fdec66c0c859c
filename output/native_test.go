package output

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/t1610d/t1610d/auditd"
	"github.com/t1610d/t1610d/detect"
)

func TestNativeFieldOrderAndValues(t *testing.T) {
	x := &auditd.Exec{
		Time: time.Date(2026, 12, 4, 14, 32, 1, 242_000_000, time.UTC), Serial: 3996, Success: true,
		Pid: 6108, Ppid: 6107, UID: 0, EUID: 0, AUID: 1003, Ses: 7, User: "root", EUser: "root", LoginUser: "alice",
		Exe: "/usr/local/bin/docker", Cwd: "/tmp", Key: "t1610_exec",
		Argv: []string{"docker", "run", "--privileged", "-e", "AWS_SECRET_ACCESS_KEY=wJalr", "-v", "/:/host", "alpine", "sh", "-c", "echo 'hi there'"},
	}
	f := detect.NewDetector().Inspect(detect.Command{Argv: x.Argv, Exe: x.Exe})
	parent := auditd.Proc{Exe: "/usr/bin/sudo", Argv: []string{"sudo", "docker", "run", "-e", "AWS_SECRET_ACCESS_KEY=wJalr"}, User: "root"}
	b, err := AppendNative(nil, &Event{Exec: x, Parent: parent, HasParent: true, Finding: f, Host: "h1"})
	if err != nil {
		t.Fatal(err)
	}
	line := string(b)
	if strings.Contains(line, "wJalr") {
		t.Errorf("secret in output: %s", line)
	}
	seed := []string{"TimeGenerated", "DeviceName", "AccountName", "AccountDomain", "FileName", "ProcessCommandLine",
		"InitiatingProcessFileName", "InitiatingProcessCommandLine", "InitiatingProcessAccountName", "ContainerImage",
		"SuspiciousFlags", "RiskScore", "LoginAccountName", "Technique", "Runtime", "Action", "Flags", "Process", "Audit"}
	last := -1
	for _, k := range seed {
		i := strings.Index(line, `"`+k+`":`)
		if i <= last {
			t.Errorf("field %s at %d, after the previous at %d: the seed rule's fields come first, in order", k, i, last)
		}
		last = i
	}
	var n Native
	if err := json.Unmarshal(b, &n); err != nil {
		t.Fatal(err)
	}
	want := Native{
		TimeGenerated: "2026-12-04T14:32:01.242Z", DeviceName: "h1", AccountName: "root", AccountDomain: "h1", FileName: "docker",
		ProcessCommandLine:           `docker run --privileged -e AWS_SECRET_ACCESS_KEY=[REDACTED] -v /:/host alpine sh -c 'echo '\''hi there'\'''`,
		InitiatingProcessFileName:    "sudo",
		InitiatingProcessCommandLine: "sudo docker run -e AWS_SECRET_ACCESS_KEY=[REDACTED]", InitiatingProcessAccountName: "root",
		ContainerImage: "alpine", SuspiciousFlags: "[PRIVILEGED] [HOST_MOUNT] [ENV_SECRET]", RiskScore: 95,
		LoginAccountName: "alice", Technique: "T1610", Runtime: "docker", Action: "run",
	}
	if n.TimeGenerated != want.TimeGenerated || n.DeviceName != want.DeviceName || n.AccountDomain != want.AccountDomain ||
		n.ProcessCommandLine != want.ProcessCommandLine || n.InitiatingProcessCommandLine != want.InitiatingProcessCommandLine ||
		n.InitiatingProcessFileName != want.InitiatingProcessFileName || n.SuspiciousFlags != want.SuspiciousFlags ||
		n.RiskScore != want.RiskScore || n.ContainerImage != want.ContainerImage || n.LoginAccountName != want.LoginAccountName ||
		n.Technique != want.Technique || n.Action != want.Action || n.FileName != want.FileName {
		t.Errorf("native\n got %+v\nwant %+v", n, want)
	}
	if n.Process.Pid != 6108 || n.Process.Auid != 1003 || n.Audit.Sequence != 3996 || n.Audit.Key != "t1610_exec" {
		t.Errorf("Process %+v Audit %+v", n.Process, n.Audit)
	}
	if len(n.Flags) != 3 || n.Flags[2].Evidence[0] != "-e AWS_SECRET_ACCESS_KEY=[REDACTED]" {
		t.Errorf("Flags = %+v", n.Flags)
	}
}

func TestNativeNonContainerExec(t *testing.T) {
	x := &auditd.Exec{Time: time.Unix(0, 0), Node: "node-1", Exe: "/usr/bin/ls", Argv: []string{"ls", "-la"}, Warnings: []string{"w"}}
	b, err := AppendNative(nil, &Event{Exec: x, Host: "ignored"})
	if err != nil {
		t.Fatal(err)
	}
	var n Native
	json.Unmarshal(b, &n)
	if n.RiskScore != 0 || n.DeviceName != "node-1" || n.Flags == nil || n.InitiatingProcessFileName != "" || len(n.Warnings) != 1 {
		t.Errorf("%s", b)
	}
	if !strings.HasSuffix(string(b), "}\n") {
		t.Error("not one line")
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"":                "''",
		"plain":           "plain",
		"/:/host":         "/:/host",
		"two words":       "'two words'",
		"it's":            `'it'\''s'`,
		"{{.Repository}}": "'{{.Repository}}'",
		"$HOME":           "'$HOME'",
		"a\nb":            "'a\nb'",
		"K=[REDACTED]":    "K=[REDACTED]",
	} {
		if got := ShellQuote(in); got != want {
			t.Errorf("ShellQuote(%q) = %q, want %q", in, got, want)
		}
	}
}

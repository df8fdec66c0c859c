package output

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/t1610d/t1610d/auditd"
	"github.com/t1610d/t1610d/detect"
)

func testEvent() *Event {
	x := &auditd.Exec{
		Time: time.Date(2026, 12, 4, 14, 32, 1, 242_000_000, time.UTC), Serial: 3996, Success: true,
		Pid: 6108, Ppid: 6107, UID: 0, EUID: 0, AUID: 1003, Ses: 7, User: "root", EUser: "root", LoginUser: "alice",
		Exe: "/usr/local/bin/docker", Cwd: "/tmp", Key: "t1610_exec", TTY: "pts1",
		Argv: []string{"docker", "run", "--privileged", "-e", "AWS_SECRET_ACCESS_KEY=wJalr", "-v", "/:/host", "registry:5000/team/app:1.2@sha256:abc", "sh"},
	}
	f := detect.NewDetector().Inspect(detect.Command{Argv: x.Argv, Exe: x.Exe})
	parent := auditd.Proc{Exe: "/usr/bin/sudo", Argv: []string{"sudo", "docker", "run", "-e", "AWS_SECRET_ACCESS_KEY=wJalr"}, User: "root"}
	return &Event{Exec: x, Parent: parent, HasParent: true, Finding: f, Alert: true, Host: "h1"}
}

// TestAlertID: the same exec, the same id; another serial, host or time,
// another id.
func TestAlertID(t *testing.T) {
	tm := time.Date(2026, 12, 4, 14, 32, 1, 242_000_000, time.UTC)
	id := AlertID("vm", 3996, tm)
	if len(id) != 32 || id != AlertID("vm", 3996, tm) {
		t.Fatalf("AlertID %q not stable", id)
	}
	for _, other := range []string{AlertID("vm", 3997, tm), AlertID("vm2", 3996, tm), AlertID("vm", 3996, tm.Add(time.Millisecond))} {
		if other == id {
			t.Errorf("two execs share the id %s", id)
		}
	}
	n := NewNative(testEvent())
	if n.AlertID != AlertID("h1", 3996, tm) {
		t.Errorf("native AlertId %q", n.AlertID)
	}
}

// TestECSValues: what each ECS field holds for one alert.
func TestECSValues(t *testing.T) {
	b, err := AppendECS(nil, testEvent())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "wJalr") {
		t.Errorf("secret in the ECS record: %s", b)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	flat := map[string]any{}
	flatten("", got, flat)
	for k, want := range map[string]any{
		"@timestamp":                  "2026-12-04T14:32:01.242Z",
		"ecs.version":                 ECSVersion,
		"event.kind":                  "alert",
		"event.category":              []any{"process", "intrusion_detection"},
		"event.type":                  []any{"start", "info"},
		"event.action":                "run",
		"event.outcome":               "success",
		"event.risk_score":            95.0,
		"event.sequence":              3996.0,
		"event.id":                    AlertID("h1", 3996, testEvent().Exec.Time),
		"event.dataset":               "t1610d.alert",
		"host.name":                   "h1",
		"user.name":                   "root",
		"user.id":                     "0",
		"process.pid":                 6108.0,
		"process.name":                "docker",
		"process.executable":          "/usr/local/bin/docker",
		"process.working_directory":   "/tmp",
		"process.interactive":         true,
		"process.args_count":          9.0,
		"process.parent.pid":          6107.0,
		"process.parent.name":         "sudo",
		"process.parent.command_line": "sudo docker run -e AWS_SECRET_ACCESS_KEY=[REDACTED]",
		"process.parent.user.name":    "root",
		"container.image.name":        "registry:5000/team/app",
		"container.image.tag":         []any{"1.2"},
		"container.image.hash.all":    []any{"sha256:abc"},
		"container.runtime":           "docker",
		"threat.framework":            "MITRE ATT&CK",
		"threat.technique.id":         []any{"T1610"},
		"threat.technique.name":       []any{"Deploy Container"},
		"threat.tactic.id":            []any{"TA0002", "TA0005"},
		"related.user":                []any{"root", "alice"},
		"tags":                        []any{"PRIVILEGED", "HOST_MOUNT", "ENV_SECRET"},
		"t1610d.login_user.name":      "alice",
		"t1610d.login_user.id":        "1003",
		"t1610d.suspicious_flags":     "[PRIVILEGED] [HOST_MOUNT] [ENV_SECRET]",
		"t1610d.audit.sequence":       3996.0,
		"t1610d.session":              7.0,
		"t1610d.tty":                  "pts1",
		"t1610d.flags.0.category":     "PRIVILEGED",
		"t1610d.flags.0.evidence":     []any{"--privileged"},
		"process.command_line":        "docker run --privileged -e AWS_SECRET_ACCESS_KEY=[REDACTED] -v /:/host registry:5000/team/app:1.2@sha256:abc sh",
		"rule.name":                   "Container deployed with host access (T1610)",
		"observer.product":            "t1610d",
		"event.module":                "t1610d",
		"process.user.name":           "root",
		"t1610d.image":                "registry:5000/team/app:1.2@sha256:abc",
		"t1610d.runtime":              "docker",
		"process.parent.args_count":   5.0,
		"process.parent.executable":   "/usr/bin/sudo",
	} {
		if g, ok := flat[k]; !ok || !reflect.DeepEqual(g, want) {
			t.Errorf("%s = %#v, want %#v", k, g, want)
		}
	}
	args, _ := flat["process.args"].([]any)
	if len(args) != 9 || args[4] != "AWS_SECRET_ACCESS_KEY=[REDACTED]" {
		t.Errorf("process.args %v", args)
	}
	if _, ok := flat["user.effective.id"]; ok {
		t.Error("user.effective set although euid = uid")
	}
	msg := flat["message"].(string)
	if !strings.HasPrefix(msg, "T1610 score 95 [PRIVILEGED] [HOST_MOUNT] [ENV_SECRET] on h1: alice as root ran docker run --privileged") {
		t.Errorf("message %q", msg)
	}
}

// TestECSNotAlert: an exec that is no alert is kind "event", with no rule
// or threat when nothing fired.
func TestECSNotAlert(t *testing.T) {
	x := &auditd.Exec{Time: time.Unix(1, 0), Serial: 1, Pid: 2, Ppid: 1, UID: 1000, EUID: 0, User: "bob", EUser: "root",
		AUID: auditd.Unset, Ses: auditd.Unset, Exe: "/usr/bin/ls", Argv: []string{"ls", "-l"}}
	b, _ := AppendECS(nil, &Event{Exec: x, Host: "h"})
	var r ECS
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if r.Event.Kind != "event" || !reflect.DeepEqual(r.Event.Category, []string{"process"}) || r.Event.Outcome != "failure" ||
		r.Rule != nil || r.Threat != nil || r.Container != nil || r.T1610d.LoginUser != nil || r.T1610d.Session != nil ||
		r.User.Effective == nil || r.User.Effective.ID != "0" || r.Process.Interactive || r.Event.Action != "exec" {
		t.Errorf("plain exec: %s", b)
	}
}

func flatten(prefix string, v any, out map[string]any) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if prefix != "" {
				k = prefix + "." + k
			}
			flatten(k, x, out)
		}
	case []any:
		out[prefix] = v
		for i, x := range v {
			if m, ok := x.(map[string]any); ok {
				flatten(prefix+"."+strconv.Itoa(i), m, out)
			}
		}
	default:
		out[prefix] = v
	}
}

package detect

import (
	"reflect"
	"strings"
	"testing"
)

func TestRedactArgs(t *testing.T) {
	tests := []struct{ in, out []string }{
		{[]string{"docker", "run", "-e", "AWS_SECRET_ACCESS_KEY=wJalr", "alpine"}, []string{"docker", "run", "-e", "AWS_SECRET_ACCESS_KEY=[REDACTED]", "alpine"}},
		{[]string{"docker", "run", "--env=GITHUB_TOKEN=ghp_x", "-eDB_PASSWORD=p", "alpine"}, []string{"docker", "run", "--env=GITHUB_TOKEN=[REDACTED]", "-eDB_PASSWORD=[REDACTED]", "alpine"}},
		{[]string{"bash", "-c", "nerdctl run -e AWS_SECRET_ACCESS_KEY=wJalr -d alpine"}, []string{"bash", "-c", "nerdctl run -e AWS_SECRET_ACCESS_KEY=[REDACTED] -d alpine"}},
		{[]string{"kubectl", "--token", "eyJhbGc", "get", "pods"}, []string{"kubectl", "--token", "[REDACTED]", "get", "pods"}},
		{[]string{"kubectl", "--token=eyJhbGc", "get", "pods"}, []string{"kubectl", "--token=[REDACTED]", "get", "pods"}},
		{[]string{"gitlab-runner", "register", "--registration-token", "GR1348"}, []string{"gitlab-runner", "register", "--registration-token", "[REDACTED]"}},
		{[]string{"docker", "login", "-u", "bob", "-p", "hunter2", "reg.io"}, []string{"docker", "login", "-u", "bob", "-p", "[REDACTED]", "reg.io"}},
		{[]string{"docker", "login", "-u", "bob", "-phunter2"}, []string{"docker", "login", "-u", "bob", "-p[REDACTED]"}},
		{[]string{"docker", "login", "--password-stdin", "reg.io"}, []string{"docker", "login", "--password-stdin", "reg.io"}},
		{[]string{"docker", "run", "-p", "8080:80", "nginx"}, []string{"docker", "run", "-p", "8080:80", "nginx"}},
		{[]string{"git", "clone", "https://bob:s3cret@git.example.com/r.git"}, []string{"git", "clone", "https://bob:[REDACTED]@git.example.com/r.git"}},
		{[]string{"docker", "-H", "tcp://user:pw@10.0.0.1:2376", "ps"}, []string{"docker", "-H", "tcp://user:[REDACTED]@10.0.0.1:2376", "ps"}},
		{[]string{"curl", "-H", "Authorization: Bearer abc.def", "http://127.0.0.1/"}, []string{"curl", "-H", "Authorization: Bearer [REDACTED]", "http://127.0.0.1/"}},
		{[]string{"sh", "-c", `curl -H "Authorization: token abc" x`}, []string{"sh", "-c", `curl -H "Authorization: token [REDACTED]" x`}},
		{[]string{"kubectl", "--kubeconfig", "/root/.kube/config", "get", "pods"}, []string{"kubectl", "--kubeconfig", "/root/.kube/config", "get", "pods"}},
		{[]string{"ls", "-la", "LANG=C"}, []string{"ls", "-la", "LANG=C"}},
	}
	for _, tt := range tests {
		got := RedactArgs(tt.in)
		if !reflect.DeepEqual(got, tt.out) {
			t.Errorf("RedactArgs(%q)\n got %q\nwant %q", tt.in, got, tt.out)
		}
	}
}

func TestRedactArgsKeepsInput(t *testing.T) {
	in := []string{"docker", "run", "-e", "API_KEY=x", "alpine"}
	RedactArgs(in)
	if in[3] != "API_KEY=x" {
		t.Errorf("RedactArgs changed its input: %q", in)
	}
	clean := []string{"ls", "-la"}
	if got := RedactArgs(clean); &got[0] != &clean[0] {
		t.Error("RedactArgs copied an argv with nothing to redact")
	}
}

func TestSecretName(t *testing.T) {
	for _, n := range []string{"AWS_SECRET_ACCESS_KEY", "aws_region", "GITHUB_TOKEN", "token", "DB_PASSWORD", "PGPASSWORD", "API_KEY", "ACCESS_KEY", "MY_API-KEY", "KUBECONFIG", "AZURE_CLIENT_SECRET", "GOOGLE_APPLICATION_CREDENTIALS", "SSH_PRIVATE_KEY", "REDIS_PASS"} {
		if !SecretName(n) {
			t.Errorf("SecretName(%q) = false", n)
		}
	}
	for _, n := range []string{"PATH", "HOME", "LANG", "PWD", "OLD_PWD", "TERM", "GIT_AUTHOR_NAME", "KEYBOARD", ""} {
		if SecretName(n) {
			t.Errorf("SecretName(%q) = true", n)
		}
	}
}

func TestRedactString(t *testing.T) {
	s := "nerdctl run -e AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY --ipc=host"
	if got := RedactString(s); strings.Contains(got, "wJalr") {
		t.Errorf("RedactString left the secret: %q", got)
	}
}

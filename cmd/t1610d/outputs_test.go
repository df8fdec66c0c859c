package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/t1610d/t1610d/output"
)

// receiver is a webhook receiver on loopback for the daemon's tests. answer
// decides each response (status, headers); hold, if set, delays it.
type receiver struct {
	srv    *httptest.Server
	answer func(r *http.Request) (int, http.Header)
	mu     sync.Mutex
	reqs   []received
}

type received struct {
	path   string
	status int
	header http.Header
	body   []byte
}

func newReceiver(t *testing.T, answer func(r *http.Request) (int, http.Header)) *receiver {
	t.Helper()
	rc := &receiver{answer: answer}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		status, hdr := rc.answer(r)
		for k, v := range hdr {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
		rc.mu.Lock()
		rc.reqs = append(rc.reqs, received{path: r.URL.Path, status: status, header: r.Header.Clone(), body: body})
		rc.mu.Unlock()
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.reqs...)
}

// delivered returns the AlertIds in the accepted requests (generic preset,
// native records) with how often each came.
func (rc *receiver) delivered(t *testing.T) map[string]int {
	t.Helper()
	ids := map[string]int{}
	for _, r := range rc.requests() {
		if r.status/100 != 2 {
			continue
		}
		var recs []output.Native
		dec := json.NewDecoder(bytes.NewReader(r.body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&recs); err != nil {
			t.Fatalf("webhook body is not an array of native records: %v\n%s", err, r.body)
		}
		for _, n := range recs {
			ids[n.AlertID]++
		}
	}
	return ids
}

// sampleAlertIDs returns the AlertIds that replay finds in testdata/sample.
func sampleAlertIDs(t *testing.T) []string {
	t.Helper()
	_, out, _ := replay(t, "../../testdata/sample")
	var ids []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var n output.Native
		if err := json.Unmarshal([]byte(line), &n); err != nil || n.AlertID == "" {
			t.Fatalf("replay record without AlertId: %v %s", err, line)
		}
		ids = append(ids, n.AlertID)
	}
	if len(ids) < 5 {
		t.Fatalf("the sample has %d alerts", len(ids))
	}
	return ids
}

func missing(want []string, got map[string]int) []string {
	var m []string
	for _, id := range want {
		if got[id] == 0 {
			m = append(m, id)
		}
	}
	return m
}

const hookSecretEnv = "T1610D_TEST_HOOK_TOKEN"

// writeSecret writes a Standard Webhooks secret and returns its path and key.
func writeSecret(t *testing.T, dir string) (string, []byte) {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	p := filepath.Join(dir, "webhook.secret")
	if err := os.WriteFile(p, []byte("whsec_"+base64.StdEncoding.EncodeToString(key)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p, key
}

// checkSigned checks every request's Standard Webhooks headers with this
// test's own HMAC, and that a batch's id always comes with the same body.
func checkSigned(t *testing.T, key []byte, reqs []received) {
	t.Helper()
	bodies := map[string]string{}
	for _, r := range reqs {
		id, ts, sig := r.header.Get("webhook-id"), r.header.Get("webhook-timestamp"), r.header.Get("webhook-signature")
		mac := hmac.New(sha256.New, key)
		fmt.Fprintf(mac, "%s.%s.%s", id, ts, r.body)
		if want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)); id == "" || ts == "" || !hmac.Equal([]byte(sig), []byte(want)) {
			t.Errorf("request not signed right: id %q ts %q signature %q, want %q", id, ts, sig, want)
		}
		if b, ok := bodies[id]; ok && b != string(r.body) {
			t.Errorf("webhook-id %s came with two bodies", id)
		}
		bodies[id] = string(r.body)
		if got := r.header.Get("Authorization"); got != "Bearer tok-123" {
			t.Errorf("Authorization %q: the ${env:} header was not resolved", got)
		}
	}
}

func webhookConfig(stateDir, url, secret string, extra string) string {
	return fmt.Sprintf(`[source]
kind = "stdin"
state_dir = %q
[[output]]
type = "webhook"
url = %q
secret_file = %q
headers = { Authorization = "Bearer ${env:%s}" }
batch_max = 4
batch_wait = "100ms"
retry_backoff = "200ms"
retry_max_backoff = "1s"
%s`, stateDir, url, secret, hookSecretEnv, extra)
}

// TestRunWebhookPlugin: as an auditd plugin (kind = "stdin") fed a real log,
// with the webhook down (503, Retry-After) for its first 2 seconds: every
// alert is delivered, signed, and the process exits 0 at the end of input.
func TestRunWebhookPlugin(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	secret, key := writeSecret(t, dir)
	var up atomic.Bool
	rc := newReceiver(t, func(*http.Request) (int, http.Header) {
		if !up.Load() {
			return 503, http.Header{"Retry-After": {"1"}}
		}
		return 200, nil
	})
	time.AfterFunc(2*time.Second, func() { up.Store(true) })
	cfg := writeConfig(t, webhookConfig(filepath.Join(dir, "state"), rc.srv.URL+"/hook", secret, ""))
	cmd := exec.Command(bin, "run", "--config", cfg)
	cmd.Env = append(os.Environ(), hookSecretEnv+"=tok-123")
	cmd.Stdin = bytes.NewReader(sampleLog(t))
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("t1610d run: %v\n%s", err, stderr.String())
	}
	want := sampleAlertIDs(t)
	got := rc.delivered(t)
	if m := missing(want, got); len(m) > 0 || len(got) != len(want) {
		t.Errorf("delivered %d alerts of %d; missing %v\n%s", len(got), len(want), m, stderr.String())
	}
	reqs := rc.requests()
	if reqs[0].status != 503 {
		t.Errorf("the first request was answered %d: the outage did not happen", reqs[0].status)
	}
	checkSigned(t, key, reqs)
}

// spooled counts the records in the spools under stateDir, from the
// batches' names.
func spooled(stateDir string) int {
	files, _ := filepath.Glob(filepath.Join(stateDir, "spool", "*", "*.batch"))
	n := 0
	for _, f := range files {
		if strings.HasPrefix(filepath.Base(f), ".") {
			continue // a batch still being written (.tmp-…): not in the spool yet
		}
		parts := strings.Split(strings.TrimSuffix(filepath.Base(f), ".batch"), "-")
		c, _ := strconv.Atoi(parts[len(parts)-1])
		n += c
	}
	return n
}

// TestRunWebhookKilledDuringOutage: the daemon, killed with SIGKILL while
// the receiver is down, delivers what it had spooled when it starts again;
// the metrics count it.
func TestRunWebhookKilledDuringOutage(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	secret, key := writeSecret(t, dir)
	var up atomic.Bool
	rc := newReceiver(t, func(*http.Request) (int, http.Header) {
		if !up.Load() {
			return 503, nil
		}
		return 200, nil
	})
	listen := freePort(t)
	cfg := writeConfig(t, webhookConfig(state, rc.srv.URL+"/hook", secret, "[metrics]\nlisten = \""+listen+"\"\n"))
	want := sampleAlertIDs(t)
	start := func() (*exec.Cmd, io.WriteCloser, *lockedBuffer) {
		d := startDaemon(t, bin, cfg, hookSecretEnv+"=tok-123")
		return d.cmd, d.stdin, d.stderr
	}

	cmd, stdin, stderr := start()
	stdin.Write(sampleLog(t))
	waitFor(t, func() bool { return spooled(state) == len(want) }, fmt.Sprintf("%d alerts in the spool", len(want)))
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if len(rc.delivered(t)) != 0 || len(rc.requests()) == 0 {
		t.Fatalf("before the kill: %d requests, %d delivered\n%s", len(rc.requests()), len(rc.delivered(t)), stderr.String())
	}

	up.Store(true)
	cmd, stdin, stderr = start()
	waitFor(t, func() bool { return len(missing(want, rc.delivered(t))) == 0 }, "the spooled alerts delivered after the restart")
	waitFor(t, func() bool { return spooled(state) == 0 }, "an empty spool")
	resp, err := http.Get("http://" + listen + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, m := range []string{
		fmt.Sprintf(`t1610d_webhook_delivered_total{output="0:webhook"} %d`, len(want)),
		`t1610d_webhook_spool_records{output="0:webhook"} 0`,
		`t1610d_webhook_failed_total{output="0:webhook"} 0`,
	} {
		if !bytes.Contains(metrics, []byte(m+"\n")) {
			t.Errorf("/metrics lacks %s", m)
		}
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v\n%s", err, stderr.String())
	}
	for id, n := range rc.delivered(t) {
		if n != 1 {
			t.Errorf("alert %s delivered %d times", id, n)
		}
	}
	checkSigned(t, key, rc.requests())
}

// TestRunWebhookReloadToken: a SIGHUP that rotates the webhook's token
// (a ${file:} header) takes effect at once: the alerts the old token could
// not deliver go out with the new one, with no further input.
func TestRunWebhookReloadToken(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	tok := filepath.Join(dir, "token")
	os.WriteFile(tok, []byte("tok-1\n"), 0o600)
	rc := newReceiver(t, func(r *http.Request) (int, http.Header) {
		if r.Header.Get("Authorization") != "Bearer tok-2" {
			return 503, nil
		}
		return 200, nil
	})
	cfg := writeConfig(t, fmt.Sprintf(`[source]
kind = "stdin"
state_dir = %q
[[output]]
type = "webhook"
url = %q
headers = { Authorization = "Bearer ${file:%s}" }
batch_wait = "100ms"
retry_backoff = "200ms"
retry_max_backoff = "1s"
`, state, rc.srv.URL, tok))
	d := startDaemon(t, bin, cfg)
	cmd, stdin, stderr := d.cmd, d.stdin, d.stderr
	want := sampleAlertIDs(t)
	stdin.Write(sampleLog(t))
	waitFor(t, func() bool { return spooled(state) == len(want) && len(rc.requests()) > 0 }, "the alerts spooled and refused")
	os.WriteFile(tok, []byte("tok-2\n"), 0o600)
	cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, func() bool { return len(missing(want, rc.delivered(t))) == 0 }, "delivery with the new token after the reload")
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v\n%s", err, stderr.String())
	}
	for id, n := range rc.delivered(t) {
		if n != 1 {
			t.Errorf("alert %s delivered %d times", id, n)
		}
	}
}

// TestRunSlowWebhookFileOutput: a webhook that takes 10 s per request does
// not delay the file output, and the daemon still stops in time.
func TestRunSlowWebhookFileOutput(t *testing.T) {
	dir := t.TempDir()
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		select {
		case <-time.After(10 * time.Second):
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	file := filepath.Join(dir, "out", "alerts.json")
	cfg := writeConfig(t, fmt.Sprintf(`[source]
kind = "stdin"
state_dir = %q
[[output]]
type = "webhook"
url = %q
timeout = "30s"
[[output]]
type = "file"
path = %q
`, filepath.Join(dir, "state"), slow.URL, file))
	pr, pw := io.Pipe()
	var stdout, stderr lockedBuffer
	done := make(chan error, 1)
	go func() { done <- run(context.Background(), []string{"run", "--config", cfg}, pr, &stdout, &stderr) }()
	want := sampleAlertIDs(t)
	fed := time.Now()
	pw.Write(sampleLog(t))
	waitFor(t, func() bool {
		b, _ := os.ReadFile(file)
		return bytes.Count(b, []byte("\n")) == len(want)
	}, "every alert in the file")
	if d := time.Since(fed); d > 4*time.Second { // the last events complete by the wall clock (2 s)
		t.Errorf("the file had every alert %v after the input", d)
	}
	pw.Close()
	stop := time.Now()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v\n%s", err, stderr.String())
		}
	case <-time.After(8 * time.Second):
		t.Fatal("the daemon did not stop")
	}
	if d := time.Since(stop); d > 5*time.Second {
		t.Errorf("end of input to exit took %v", d)
	}
	if spooled(filepath.Join(dir, "state")) != len(want) {
		t.Errorf("%d alerts left in the spool for the next start, want %d", spooled(filepath.Join(dir, "state")), len(want))
	}
}

// syntheticAlerts is a log of n copies of the sample's privileged docker
// run, each its own event (serials from 100000, a millisecond apart).
func syntheticAlerts(t *testing.T, n int) [][]byte {
	t.Helper()
	var tmpl []string
	for _, l := range strings.Split(string(sampleLog(t)), "\n") {
		if strings.Contains(l, "msg=audit(1796394721.242:3996)") {
			tmpl = append(tmpl, l)
		}
	}
	if len(tmpl) < 4 {
		t.Fatalf("template event not in the sample: %d records", len(tmpl))
	}
	var out [][]byte
	for i := 0; i < n; i++ {
		ts := fmt.Sprintf("msg=audit(%d.%03d:%d)", 1796400000+i/1000, i%1000, 100000+i)
		var b []byte
		for _, l := range tmpl {
			b = append(b, strings.Replace(l, "msg=audit(1796394721.242:3996)", ts, 1)...)
			b = append(b, '\n')
		}
		out = append(out, b)
	}
	return out
}

// TestRunFileRotation: under a steady stream of alerts, logrotate's rename
// and SIGHUP (twice) lose no line and duplicate none.
func TestRunFileRotation(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "log", "alerts.json")
	cfg := writeConfig(t, fmt.Sprintf("[source]\nkind = \"stdin\"\n[[output]]\ntype = \"file\"\npath = %q\n", file))
	d := startDaemon(t, bin, cfg)
	cmd, stdin, stderr := d.cmd, d.stdin, d.stderr
	const n = 3000
	events := syntheticAlerts(t, n)
	rotate := func(to string) {
		if err := os.Rename(file, to); err != nil {
			t.Fatal(err)
		}
		cmd.Process.Signal(syscall.SIGHUP)
	}
	for i, ev := range events {
		stdin.Write(ev)
		if i%30 == 29 {
			time.Sleep(10 * time.Millisecond) // ~3000 alerts/s for a second
		}
		switch i {
		case n / 3:
			waitFor(t, func() bool { _, err := os.Stat(file); return err == nil }, "the file output")
			rotate(file + ".2")
		case 2 * n / 3:
			waitFor(t, func() bool { return strings.Count(stderr.String(), `"message":"reloaded"`) == 1 }, "the first reload")
			rotate(file + ".1")
		}
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v\n%s", err, stderr.String())
	}
	if c := strings.Count(stderr.String(), `"message":"reloaded"`); c != 2 {
		t.Errorf("%d reloads", c)
	}
	seen := map[uint64]int{}
	for _, f := range []string{file + ".2", file + ".1", file} {
		b, err := os.ReadFile(f)
		if err != nil || len(b) == 0 {
			t.Fatalf("%s: %v (%d bytes)", f, err, len(b))
		}
		for _, s := range serials(t, b) {
			seen[s]++
		}
	}
	if len(seen) != n {
		t.Errorf("%d distinct alerts across the rotations, want %d", len(seen), n)
	}
	for s, c := range seen {
		if c != 1 {
			t.Errorf("serial %d written %d times", s, c)
		}
	}
}

// ecsField is one field of ECS's reference (testdata/ecs).
type ecsField struct{ typ, norm string }

func ecsFields(t *testing.T) map[string]ecsField {
	t.Helper()
	f, err := os.Open("../../testdata/ecs/fields.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	defs := map[string]ecsField{}
	for _, r := range rows[1:] {
		defs[r[0]] = ecsField{typ: r[1], norm: r[2]}
	}
	return defs
}

// checkECS checks one ECS document against the reference: every field
// outside t1610d.* is an ECS field, its JSON value has the mapping's type,
// and arrays are where ECS normalises to arrays, only there.
func checkECS(t *testing.T, defs map[string]ecsField, doc map[string]any, where string) {
	t.Helper()
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		if m, ok := v.(map[string]any); ok {
			if def, ok := defs[prefix]; ok && def.typ != "object" && def.typ != "nested" && def.typ != "flattened" {
				t.Errorf("%s: %s is an object; ECS makes it %s", where, prefix, def.typ)
			}
			for k, x := range m {
				if prefix != "" {
					k = prefix + "." + k
				}
				if k == "t1610d" {
					continue // ours
				}
				walk(k, x)
			}
			return
		}
		def, ok := defs[prefix]
		if !ok {
			t.Errorf("%s: %s is not an ECS field", where, prefix)
			return
		}
		vals := []any{v}
		if a, isArr := v.([]any); isArr {
			vals = a
			if !strings.Contains(def.norm, "array") {
				t.Errorf("%s: %s is an array; ECS does not make it one", where, prefix)
			}
		} else if strings.Contains(def.norm, "array") {
			t.Errorf("%s: %s = %v: ECS makes it an array", where, prefix, v)
		}
		for _, x := range vals {
			ok := false
			switch def.typ {
			case "keyword", "wildcard", "match_only_text", "text", "constant_keyword":
				_, ok = x.(string)
			case "long", "integer", "short", "byte", "unsigned_long":
				f, isNum := x.(float64)
				ok = isNum && f == math.Trunc(f)
			case "float", "double", "scaled_float", "half_float":
				_, ok = x.(float64)
			case "boolean":
				_, ok = x.(bool)
			case "date":
				s, isStr := x.(string)
				_, err := time.Parse(time.RFC3339Nano, s)
				ok = isStr && err == nil
			case "ip":
				_, ok = x.(string)
			}
			if !ok {
				t.Errorf("%s: %s = %#v: not a valid %s", where, prefix, x, def.typ)
			}
		}
	}
	walk("", doc)
}

// TestReplayECS: real alerts (and every exec, with --events all) in ECS:
// field names and types as ECS 9.4.0 defines them, and the same facts as
// the native records.
func TestReplayECS(t *testing.T) {
	defs := ecsFields(t)
	for _, events := range []string{"alerts", "container", "all"} {
		_, native, _ := replay(t, "--events", events, "../../testdata/sample")
		_, ecs, _ := replay(t, "--events", events, "--format", "ecs", "../../testdata/sample")
		nl := strings.Split(strings.TrimSpace(native), "\n")
		el := strings.Split(strings.TrimSpace(ecs), "\n")
		if len(nl) != len(el) || len(el) < 5 {
			t.Fatalf("--events %s: %d native records, %d ECS", events, len(nl), len(el))
		}
		kinds := map[string]int{}
		for i := range el {
			var doc map[string]any
			if err := json.Unmarshal([]byte(el[i]), &doc); err != nil {
				t.Fatal(err)
			}
			where := fmt.Sprintf("--events %s record %d", events, i)
			checkECS(t, defs, doc, where)
			var n output.Native
			var e output.ECS
			json.Unmarshal([]byte(nl[i]), &n)
			json.Unmarshal([]byte(el[i]), &e)
			kinds[e.Event.Kind]++
			if e.Event.ID != n.AlertID || e.Timestamp != n.TimeGenerated || e.Host.Name != n.DeviceName ||
				e.Process.CommandLine != n.ProcessCommandLine || e.User.Name != n.AccountName ||
				e.Event.RiskScore != float64(n.RiskScore) || e.Process.PID != n.Process.Pid ||
				e.Process.Parent.CommandLine != n.InitiatingProcessCommandLine || e.Event.Sequence != n.Audit.Sequence {
				t.Errorf("%s: ECS and native differ:\n%s\n%s", where, el[i], nl[i])
			}
			if (e.Container != nil) != (n.ContainerImage != "") || (e.Container != nil && !strings.HasPrefix(n.ContainerImage, e.Container.Image.Name)) {
				t.Errorf("%s: container %+v, image %q", where, e.Container, n.ContainerImage)
			}
			for _, c := range e.Event.Category {
				if c != "process" && c != "intrusion_detection" {
					t.Errorf("%s: event.category %q", where, c)
				}
			}
			if events == "alerts" && (e.Event.Kind != "alert" || e.Threat == nil || e.Threat.Technique.ID[0] != "T1610" || e.Rule == nil) {
				t.Errorf("%s: an alert without kind alert, threat or rule: %s", where, el[i])
			}
			if strings.Contains(el[i], "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY") {
				t.Errorf("%s: a secret in the ECS record", where)
			}
		}
		if events == "all" && (kinds["event"] == 0 || kinds["alert"] == 0) {
			t.Errorf("--events all: kinds %v", kinds)
		}
	}
}

// TestRunSIEMPresets: the daemon's Splunk HEC (native and ECS events) and
// Slack webhooks on a real log: HEC's envelope fields and types, the token
// header, one Slack line per alert.
func TestRunSIEMPresets(t *testing.T) {
	dir := t.TempDir()
	rc := newReceiver(t, func(*http.Request) (int, http.Header) { return 200, nil })
	t.Setenv("T1610D_TEST_HEC", "00000000-1111-2222-3333-444444444444")
	cfg := writeConfig(t, fmt.Sprintf(`[source]
kind = "stdin"
state_dir = %q
[[output]]
type = "webhook"
preset = "splunk-hec"
url = "%s/services/collector/event"
token = "${env:T1610D_TEST_HEC}"
[[output]]
type = "webhook"
preset = "splunk-hec"
format = "ecs"
url = "%s/ecs/services/collector/event"
token = "${env:T1610D_TEST_HEC}"
[[output]]
type = "webhook"
preset = "slack"
url = "%s/slack"
`, filepath.Join(dir, "state"), rc.srv.URL, rc.srv.URL, rc.srv.URL))
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"run", "--config", cfg}, bytes.NewReader(sampleLog(t)), &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	want := sampleAlertIDs(t)
	got := map[string][]string{}
	slackLines := 0
	timeRe := regexp.MustCompile(`^"time":\d{10}\.\d{3}$`)
	for _, r := range rc.requests() {
		if r.path == "/slack" {
			var m map[string]any
			if err := json.Unmarshal(r.body, &m); err != nil || len(m) != 1 {
				t.Fatalf("slack body %s: %v", r.body, err)
			}
			for _, l := range strings.Split(m["text"].(string), "\n") {
				if !strings.HasPrefix(l, "T1610 score ") {
					t.Errorf("slack line %q", l)
				}
				slackLines++
			}
			continue
		}
		if a := r.header.Get("Authorization"); a != "Splunk 00000000-1111-2222-3333-444444444444" {
			t.Errorf("HEC Authorization %q", a)
		}
		dec := json.NewDecoder(bytes.NewReader(r.body))
		for dec.More() {
			var ev map[string]json.RawMessage
			if err := dec.Decode(&ev); err != nil {
				t.Fatalf("HEC body: %v\n%s", err, r.body)
			}
			keys := make([]string, 0, len(ev))
			for k := range ev {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			if strings.Join(keys, ",") != "event,host,sourcetype,time" {
				t.Errorf("HEC event keys %v", keys)
			}
			var host, st string
			var tm float64
			if json.Unmarshal(ev["host"], &host) != nil || json.Unmarshal(ev["sourcetype"], &st) != nil || json.Unmarshal(ev["time"], &tm) != nil ||
				st != "t1610d" || !timeRe.MatchString(`"time":`+string(ev["time"])) {
				t.Errorf("HEC envelope: time %s host %s sourcetype %s", ev["time"], ev["host"], ev["sourcetype"])
			}
			var stamp, id, device string
			if strings.HasPrefix(r.path, "/ecs/") {
				var e output.ECS
				if err := json.Unmarshal(ev["event"], &e); err != nil {
					t.Fatal(err)
				}
				stamp, id, device = e.Timestamp, e.Event.ID, e.Host.Name
			} else {
				dec := json.NewDecoder(bytes.NewReader(ev["event"]))
				dec.DisallowUnknownFields()
				var n output.Native
				if err := dec.Decode(&n); err != nil {
					t.Fatalf("HEC event is not a native record: %v", err)
				}
				stamp, id, device = n.TimeGenerated, n.AlertID, n.DeviceName
			}
			ts, _ := time.Parse(time.RFC3339Nano, stamp)
			if math.Abs(tm-float64(ts.UnixMilli())/1000) > 0.0005 || host != device {
				t.Errorf("HEC time %v host %q, record %s %q", tm, host, stamp, device)
			}
			got[r.path] = append(got[r.path], id)
		}
	}
	for _, p := range []string{"/services/collector/event", "/ecs/services/collector/event"} {
		have := map[string]int{}
		for _, id := range got[p] {
			have[id]++
		}
		if m := missing(want, have); len(m) > 0 || len(got[p]) != len(want) {
			t.Errorf("%s: %d events for %d alerts, missing %v", p, len(got[p]), len(want), m)
		}
	}
	if slackLines != len(want) {
		t.Errorf("%d Slack lines for %d alerts", slackLines, len(want))
	}
}

// TestRunWebhookTLS: https with the receiver's CA from ca_file and a client
// certificate (cert_file, key_file) the receiver requires; without ca_file
// the receiver's certificate is not trusted and nothing is sent.
func TestRunWebhookTLS(t *testing.T) {
	dir := t.TempDir()
	// A client CA and a certificate it signed, for mutual TLS.
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "t1610d test client CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, _ := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	caCert, _ := x509.ParseCertificate(caDER)
	cliKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	cliTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "t1610d"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		KeyUsage: x509.KeyUsageDigitalSignature}
	cliDER, _ := x509.CreateCertificate(rand.Reader, cliTmpl, caCert, &cliKey.PublicKey, caKey)
	keyDER, _ := x509.MarshalECPrivateKey(cliKey)
	certFile, keyFile := filepath.Join(dir, "client.pem"), filepath.Join(dir, "client.key")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cliDER}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
	clients := x509.NewCertPool()
	clients.AddCert(caCert)

	var mu sync.Mutex
	var names []string
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		names = append(names, r.TLS.PeerCertificates[0].Subject.CommonName)
		mu.Unlock()
	}))
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: clients}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are expected
	srv.StartTLS()
	defer srv.Close()
	caFile := filepath.Join(dir, "server-ca.pem")
	os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600)

	for _, tc := range []struct {
		name, keys string
		want       int
	}{
		{"untrusted", "", 0},
		{"ca_file and client certificate", fmt.Sprintf("ca_file = %q\ncert_file = %q\nkey_file = %q\n", caFile, certFile, keyFile), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			names = nil
			mu.Unlock()
			cfg := writeConfig(t, fmt.Sprintf("[source]\nkind = \"stdin\"\nstate_dir = %q\n[[output]]\ntype = \"webhook\"\nurl = %q\nbatch_max = 1000\n%s",
				filepath.Join(t.TempDir(), "state"), srv.URL, tc.keys))
			var stdout, stderr bytes.Buffer
			if err := run(context.Background(), []string{"run", "--config", cfg}, bytes.NewReader(sampleLog(t)), &stdout, &stderr); err != nil {
				t.Fatalf("run: %v\n%s", err, stderr.String())
			}
			mu.Lock()
			defer mu.Unlock()
			if len(names) != tc.want || (tc.want > 0 && names[0] != "t1610d") {
				t.Errorf("requests from %v, want %d from the client certificate\n%s", names, tc.want, stderr.String())
			}
			if tc.want == 0 && !strings.Contains(stderr.String(), "certificate") {
				t.Errorf("no certificate error in the log:\n%s", stderr.String())
			}
		})
	}
}

// TestWebhookConfig: the webhook keys are checked and resolved when the
// config loads (check-config too), and errors name the key.
func TestWebhookConfig(t *testing.T) {
	dir := t.TempDir()
	secret, key := writeSecret(t, dir)
	tokFile := filepath.Join(dir, "token")
	os.WriteFile(tokFile, []byte("from-a-file\n"), 0o600)
	t.Setenv("T1610D_TEST_SET", "from-env")
	good := writeConfig(t, fmt.Sprintf(`[source]
state_dir = %q
[[output]]
type = "webhook"
url = "https://siem.example/hook"
format = "ecs"
events = "container"
secret_file = %q
headers = { Authorization = "Bearer ${env:T1610D_TEST_SET}", X-Api-Key = "${file:%s}" }
timeout = "20s"
batch_max = 10
batch_wait = "2s"
max_retries = 5
spool_max_bytes = 1048576
[[output]]
type = "webhook"
preset = "splunk-hec"
url = "https://splunk.example:8088/services/collector/event"
token = "${file:%s}"
`, filepath.Join(dir, "state"), secret, tokFile, tokFile))
	if out, errOut, code := runCmd("check-config", "--config", good); code != 0 {
		t.Fatalf("good webhook config: exit %d %s %s", code, out, errOut)
	}
	s, err := loadSettings(good, "event")
	if err != nil {
		t.Fatal(err)
	}
	w := s.outputs[0].webhook
	if w.Headers["Authorization"] != "Bearer from-env" || w.Headers["X-Api-Key"] != "from-a-file" || string(w.Secret) != string(key) ||
		w.Timeout != 20*time.Second || w.BatchMax != 10 || w.BatchWait != 2*time.Second || w.MaxRetries != 5 || w.SpoolMax != 1<<20 ||
		w.TLS == nil || w.TLS.InsecureSkipVerify || !strings.HasPrefix(w.SpoolDir, filepath.Join(dir, "state", "spool")+"/") {
		t.Errorf("resolved webhook: %+v", w)
	}
	if h := s.outputs[1].webhook; h.Headers["Authorization"] != "Splunk from-a-file" || h.MaxRetries != -1 || h.SpoolDir == w.SpoolDir {
		t.Errorf("splunk-hec webhook: %+v", h)
	}
	hook := "[[output]]\ntype = \"webhook\"\nurl = \"https://h.example/x\"\n"
	for _, b := range []struct{ body, want string }{
		{hook + "headers = { Authorization = \"Bearer ${env:T1610D_TEST_UNSET}\" }\n", "output[0].headers.Authorization: ${env:T1610D_TEST_UNSET}: the environment variable is not set"},
		{hook + "headers = { X-Key = \"${file:/nonexistent/key}\" }\n", "output[0].headers.X-Key: ${file:/nonexistent/key}"},
		{hook + "headers = { X-Key = \"${vault:x}\" }\n", "output[0].headers.X-Key: ${vault:x}: want ${env:NAME} or ${file:/path}"},
		{hook + "headers = { \"Bad Name\" = \"x\" }\n", "output[0].headers.Bad Name: not a valid header name"},
		{hook + "headers = { webhook-signature = \"x\" }\n", "output[0].headers.webhook-signature: set by t1610d"},
		{hook + "secret_file = \"/nonexistent/secret\"\n", "output[0].secret_file"},
		{hook + "secret_file = \"" + tokFile + "\"\n", "output[0].secret_file " + tokFile + ": the key is 11 bytes"},
		{hook + "preset = \"teams\"\n", "output[0].preset = \"teams\""},
		{hook + "token = \"x\"\n", "output[0].token: only the splunk-hec preset"},
		{hook + "timeout = \"soon\"\n", "output[0].timeout = \"soon\""},
		{hook + "batch_max = 0\nbatch_wait = \"-1s\"\n", "output[0].batch_wait"},
		{hook + "max_retries = -1\n", "output[0].max_retries = -1"},
		{hook + "retry_backoff = \"10s\"\nretry_max_backoff = \"1s\"\n", "output[0].retry_max_backoff"},
		{hook + "cert_file = \"/x.pem\"\n", "cert_file and key_file go together"},
		{hook + "ca_file = \"/nonexistent/ca.pem\"\n", "output[0].ca_file"},
		{hook + "format = \"cef\"\n", "output[0].format = \"cef\": want native or ecs"},
		{"[[output]]\ntype = \"webhook\"\nurl = \"ftp://h.example/x\"\n", "output[0].url = \"ftp://h.example/x\""},
		{"[[output]]\ntype = \"webhook\"\nurl = \"http://h.example/x\"\nca_file = \"/x\"\n", "output[0].ca_file: the url is not https"},
		{"[[output]]\ntype = \"file\"\npath = \"/tmp/x.json\"\nurl = \"http://h.example/x\"\n", "output[0].url: only a webhook output has it"},
		{"[[output]]\ntype = \"webhook\"\nurl = \"http://h.example/x\"\nretries = 3\n", "unknown key output.retries"},
	} {
		p := writeConfig(t, b.body)
		_, errOut, code := runCmd("check-config", "--config", p)
		if code != 2 || !strings.Contains(errOut, b.want) {
			t.Errorf("config %q: exit %d, stderr %q; want exit 2 and %q", b.body, code, errOut, b.want)
		}
		if strings.Contains(errOut, "from-a-file") || strings.Contains(errOut, "from-env") {
			t.Errorf("a secret value in the error: %s", errOut)
		}
	}
}

// TestRunFileFormatECS: a file output in ECS beside a native stdout: each
// outlet gets its own format.
func TestRunFileFormatECS(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "ecs.json")
	cfg := writeConfig(t, fmt.Sprintf("[source]\nkind = \"stdin\"\n[[output]]\ntype = \"stdout\"\n[[output]]\ntype = \"file\"\nformat = \"ecs\"\npath = %q\n", file))
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"run", "--config", cfg}, bytes.NewReader(sampleLog(t)), &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	b, _ := os.ReadFile(file)
	var ids []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var e output.ECS
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.ECS.Version == "" {
			t.Fatalf("not an ECS line: %v %s", err, sc.Text())
		}
		ids = append(ids, e.Event.ID)
	}
	want := sampleAlertIDs(t)
	sort.Strings(ids)
	sort.Strings(want)
	if strings.Join(ids, ",") != strings.Join(want, ",") || len(serials(t, stdout.Bytes())) != len(want) {
		t.Errorf("ECS file: %d alerts, stdout %d, want %d", len(ids), len(serials(t, stdout.Bytes())), len(want))
	}
}

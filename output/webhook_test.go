package output

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// testSecret is a Standard Webhooks secret as a receiver hands it out.
const testSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// hook is a test receiver on loopback: it answers each request with what
// answer says, and records the requests it accepted.
type hook struct {
	srv *httptest.Server
	mu  sync.Mutex
	// answer returns the status and headers for request n (from 0).
	answer   func(n int, r *http.Request) (int, http.Header)
	requests []hookRequest
	n        int
}

type hookRequest struct {
	at     time.Time
	status int
	header http.Header
	body   []byte
}

func newHook(t *testing.T, answer func(n int, r *http.Request) (int, http.Header)) *hook {
	h := &hook{answer: answer}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		n := h.n
		h.n++
		h.mu.Unlock()
		status, hdr := h.answer(n, r)
		for k, v := range hdr {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
		h.mu.Lock()
		h.requests = append(h.requests, hookRequest{at: time.Now(), status: status, header: r.Header.Clone(), body: body})
		h.mu.Unlock()
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hook) reqs() []hookRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookRequest(nil), h.requests...)
}

// accepted returns the ids of the records in the 2xx requests' JSON arrays.
func (h *hook) accepted(t *testing.T) map[string]int {
	ids := map[string]int{}
	for _, r := range h.reqs() {
		if r.status/100 != 2 {
			continue
		}
		var recs []struct{ ID string }
		if err := json.Unmarshal(r.body, &recs); err != nil {
			t.Fatalf("body not a JSON array: %v: %s", err, r.body)
		}
		for _, x := range recs {
			ids[x.ID]++
		}
	}
	return ids
}

func testRecords(from, n int) [][]byte {
	var recs [][]byte
	for i := from; i < from+n; i++ {
		recs = append(recs, fmt.Appendf(nil, `{"ID":"a%04d","TimeGenerated":"2026-12-04T14:32:01.242Z","DeviceName":"vm"}`+"\n", i))
	}
	return recs
}

func testConfig(t *testing.T, url string) WebhookConfig {
	key, err := SecretKey([]byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	return WebhookConfig{
		Name: "test", URL: url, Secret: key, BatchMax: 50, BatchWait: 50 * time.Millisecond,
		Timeout: 2 * time.Second, MaxRetries: -1, RetryMin: 100 * time.Millisecond, RetryMax: 500 * time.Millisecond,
		SpoolDir: filepath.Join(t.TempDir(), "spool"), DrainTimeout: time.Second,
	}
}

func waitUntil(t *testing.T, d time.Duration, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// verify checks a request's Standard Webhooks signature with the test's
// own HMAC computation, as a receiver would.
func verify(t *testing.T, r hookRequest) {
	t.Helper()
	id, ts, sig := r.header.Get("webhook-id"), r.header.Get("webhook-timestamp"), r.header.Get("webhook-signature")
	if id == "" || ts == "" || sig == "" || strings.Contains(id, ".") {
		t.Fatalf("signature headers: id %q timestamp %q signature %q", id, ts, sig)
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || time.Since(time.Unix(sec, 0)).Abs() > time.Minute {
		t.Errorf("webhook-timestamp %q: not now", ts)
	}
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(testSecret, "whsec_"))
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "." + string(r.body)))
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(sig), []byte(want)) {
		t.Errorf("webhook-signature %q, want %q", sig, want)
	}
}

// TestWebhookOutage: several seconds of 503s, then a 429 with Retry-After,
// then recovery: every record arrives, each batch signed, its webhook-id
// the same on every attempt, and the Retry-After honoured.
func TestWebhookOutage(t *testing.T) {
	start := time.Now()
	var once sync.Once
	sent429 := false
	h := newHook(t, func(n int, r *http.Request) (int, http.Header) {
		if time.Since(start) < 3*time.Second {
			if n%2 == 0 {
				return 503, http.Header{"Retry-After": {"1"}}
			}
			return 503, nil // no Retry-After: backoff
		}
		status := 200
		once.Do(func() { status, sent429 = 429, true })
		if status == 429 {
			return 429, http.Header{"Retry-After": {"1"}}
		}
		return 200, nil
	})
	w, err := NewWebhook(testConfig(t, h.srv.URL), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ { // alerts keep coming during the outage
		if err := w.Write(testRecords(i*50, 50)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
	}
	waitUntil(t, 20*time.Second, func() bool { return len(h.accepted(t)) == 250 }, "every record delivered")
	w.Close()
	if !sent429 {
		t.Fatal("the outage never reached the 429")
	}
	ids := h.accepted(t)
	for id, c := range ids {
		if c != 1 {
			t.Errorf("record %s delivered %d times", id, c)
		}
	}
	st := w.Stats()
	if st.Delivered.Load() != 250 || st.Failed.Load() != 0 || st.Retried.Load() == 0 || st.Spooled.Load() != 250 {
		t.Errorf("stats: delivered %d failed %d retried %d spooled %d", st.Delivered.Load(), st.Failed.Load(), st.Retried.Load(), st.Spooled.Load())
	}
	bodies := map[string]string{}
	reqs := h.reqs()
	for i, r := range reqs {
		verify(t, r)
		id := r.header.Get("webhook-id")
		if b, ok := bodies[id]; ok && b != string(r.body) {
			t.Errorf("webhook-id %s sent with two bodies", id)
		}
		bodies[id] = string(r.body)
		if r.header.Get("Content-Type") != "application/json" {
			t.Errorf("Content-Type %q", r.header.Get("Content-Type"))
		}
		if r.status == 429 && i+1 < len(reqs) {
			if gap := reqs[i+1].at.Sub(r.at); gap < 950*time.Millisecond {
				t.Errorf("next request %v after a 429 with Retry-After: 1", gap)
			}
		}
	}
	if files, _ := os.ReadDir(w.Spool().Dir()); countBatches(files) != 0 {
		t.Errorf("%d batches left in the spool", countBatches(files))
	}
}

func countBatches(files []os.DirEntry) int {
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f.Name(), spoolSuffix) {
			n++
		}
	}
	return n
}

// TestWebhookRefusedNotRetried: a 400 drops the batch at once, counted; the
// next batch is still sent.
func TestWebhookRefusedNotRetried(t *testing.T) {
	h := newHook(t, func(n int, r *http.Request) (int, http.Header) {
		if n == 0 {
			return 400, nil
		}
		return 204, nil
	})
	cfg := testConfig(t, h.srv.URL)
	w, err := NewWebhook(cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	w.Write(testRecords(0, 50))
	waitUntil(t, 5*time.Second, func() bool { return w.Stats().Failed.Load() == 50 }, "the refused batch counted")
	w.Write(testRecords(50, 10))
	waitUntil(t, 5*time.Second, func() bool { return w.Stats().Delivered.Load() == 10 }, "the next batch delivered")
	time.Sleep(300 * time.Millisecond) // a retry would have come by now
	w.Close()
	if n := len(h.reqs()); n != 2 {
		t.Errorf("%d requests, want 2: the 400 was retried", n)
	}
	if st := w.Stats(); st.Retried.Load() != 0 {
		t.Errorf("retried %d", st.Retried.Load())
	}
}

// TestWebhookSpoolAcrossRestart: batches the receiver never took stay in
// the spool when the webhook closes, and a new webhook on the same spool
// delivers them.
func TestWebhookSpoolAcrossRestart(t *testing.T) {
	down := true
	var mu sync.Mutex
	h := newHook(t, func(n int, r *http.Request) (int, http.Header) {
		mu.Lock()
		defer mu.Unlock()
		if down {
			return 503, nil
		}
		return 200, nil
	})
	cfg := testConfig(t, h.srv.URL)
	cfg.DrainTimeout = 300 * time.Millisecond
	w, err := NewWebhook(cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	w.Write(testRecords(0, 120))
	w.Close() // the last 20 are sealed by Close
	if st := w.Stats(); st.Spooled.Load() != 120 || st.Delivered.Load() != 0 || st.SpoolRecords.Load() != 120 {
		t.Fatalf("after an outage: spooled %d delivered %d in spool %d", st.Spooled.Load(), st.Delivered.Load(), st.SpoolRecords.Load())
	}
	mu.Lock()
	down = false
	mu.Unlock()
	w2, err := NewWebhook(cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	waitUntil(t, 5*time.Second, func() bool { return len(h.accepted(t)) == 120 }, "the spooled records delivered")
	if w2.Stats().Delivered.Load() != 120 {
		t.Errorf("delivered %d", w2.Stats().Delivered.Load())
	}
}

// TestWebhookSharedSpool: two webhooks on one spool (a reload): the new one
// waits for the old one's lock, and nothing is lost or sent twice.
func TestWebhookSharedSpool(t *testing.T) {
	h := newHook(t, func(int, *http.Request) (int, http.Header) { return 200, nil })
	cfg := testConfig(t, h.srv.URL)
	old, err := NewWebhook(cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	old.Write(testRecords(0, 75))
	nw, err := NewWebhook(cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	nw.Write(testRecords(75, 75))
	old.Close()
	waitUntil(t, 5*time.Second, func() bool { return len(h.accepted(t)) == 150 }, "both webhooks' records")
	nw.Close()
	for id, c := range h.accepted(t) {
		if c != 1 {
			t.Errorf("%s delivered %d times", id, c)
		}
	}
}

// TestWebhookHandoff: after Handoff, the replacing webhook (new headers)
// delivers what the old one had retrying and what it is still given,
// before the old one is closed.
func TestWebhookHandoff(t *testing.T) {
	h := newHook(t, func(_ int, r *http.Request) (int, http.Header) {
		if r.Header.Get("Authorization") != "Bearer new" {
			return 503, nil
		}
		return 200, nil
	})
	cfg := testConfig(t, h.srv.URL)
	cfg.Headers = map[string]string{"Authorization": "Bearer old"}
	old, err := NewWebhook(cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	old.Write(testRecords(0, 50))
	waitUntil(t, 5*time.Second, func() bool { return old.Stats().Retried.Load() > 0 }, "the old webhook retrying")
	cfg.Headers = map[string]string{"Authorization": "Bearer new"}
	nw, err := NewWebhook(cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer nw.Close()
	old.Handoff()
	old.Write(testRecords(50, 10)) // in flight in the pipeline during the swap
	waitUntil(t, 5*time.Second, func() bool { return len(h.accepted(t)) == 60 }, "the new webhook delivering everything")
	start := time.Now()
	old.Close()
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("closing a handed-off webhook took %v", d)
	}
}

// TestWebhookSlowReceiver: a receiver that takes 10 s per request never
// makes Write wait.
func TestWebhookSlowReceiver(t *testing.T) {
	release := make(chan struct{})
	h := newHook(t, func(int, *http.Request) (int, http.Header) {
		select {
		case <-release:
		case <-time.After(10 * time.Second):
		}
		return 200, nil
	})
	cfg := testConfig(t, h.srv.URL)
	cfg.Timeout = 20 * time.Second
	cfg.DrainTimeout = 100 * time.Millisecond
	w, err := NewWebhook(cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for i := 0; i < 20; i++ {
		w.Write(testRecords(i*50, 50))
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("1000 records took %v to write behind a slow receiver", d)
	}
	close(release)
	start = time.Now()
	w.Close()
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %v", d)
	}
}

// TestWebhookMaxRetries: out of retries, the batch is dropped and counted.
func TestWebhookMaxRetries(t *testing.T) {
	h := newHook(t, func(int, *http.Request) (int, http.Header) { return 500, nil })
	cfg := testConfig(t, h.srv.URL)
	cfg.MaxRetries = 2
	cfg.RetryMin, cfg.RetryMax = 10*time.Millisecond, 20*time.Millisecond
	w, err := NewWebhook(cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	w.Write(testRecords(0, 5))
	waitUntil(t, 5*time.Second, func() bool { return w.Stats().Failed.Load() == 5 }, "the batch dropped")
	w.Close()
	if n := len(h.reqs()); n != 3 {
		t.Errorf("%d requests, want 1 and 2 retries", n)
	}
}

// TestWebhookPresets: the Splunk HEC and Slack bodies, and headers.
func TestWebhookPresets(t *testing.T) {
	h := newHook(t, func(int, *http.Request) (int, http.Header) { return 200, nil })
	rec := []byte(`{"TimeGenerated":"2026-12-04T14:32:01.242Z","DeviceName":"vm","AccountName":"root","LoginAccountName":"alice","ProcessCommandLine":"docker run --privileged alpine <x> & y","ContainerImage":"alpine","SuspiciousFlags":"[PRIVILEGED]","RiskScore":40,"Technique":"T1610"}` + "\n")
	for _, tc := range []struct {
		preset Preset
		check  func(t *testing.T, r hookRequest)
	}{
		{PresetSplunkHEC, func(t *testing.T, r hookRequest) {
			if r.header.Get("Authorization") != "Splunk 00000000-1111-2222-3333-444444444444" {
				t.Errorf("Authorization %q", r.header.Get("Authorization"))
			}
			want := `{"time":1796394721.242,"host":"vm","sourcetype":"t1610d","event":` + strings.TrimSpace(string(rec)) + "}\n"
			if string(r.body) != want+want {
				t.Errorf("HEC body\n%s\nwant\n%s", r.body, want+want)
			}
		}},
		{PresetSlack, func(t *testing.T, r hookRequest) {
			var m map[string]string
			if err := json.Unmarshal(r.body, &m); err != nil || len(m) != 1 {
				t.Fatalf("slack body %s: %v", r.body, err)
			}
			line := "T1610 score 40 [PRIVILEGED] on vm: alice as root ran docker run --privileged alpine &lt;x&gt; &amp; y (image alpine)"
			if m["text"] != line+"\n"+line {
				t.Errorf("slack text %q", m["text"])
			}
		}},
	} {
		t.Run(string(tc.preset), func(t *testing.T) {
			h.mu.Lock()
			h.requests = nil
			h.mu.Unlock()
			cfg := testConfig(t, h.srv.URL)
			cfg.Preset = tc.preset
			cfg.Secret = nil
			cfg.Headers = map[string]string{"Authorization": "Splunk 00000000-1111-2222-3333-444444444444"}
			w, err := NewWebhook(cfg, zerolog.Nop())
			if err != nil {
				t.Fatal(err)
			}
			w.Write([][]byte{rec, rec})
			w.Close()
			reqs := h.reqs()
			if len(reqs) != 1 {
				t.Fatalf("%d requests", len(reqs))
			}
			if reqs[0].header.Get("webhook-signature") != "" {
				t.Error("signed without a secret")
			}
			tc.check(t, reqs[0])
		})
	}
}

// TestWebhookTLS: verification is on by default (an unknown CA is an
// error, retried), and a CA the config names is trusted.
func TestWebhookTLS(t *testing.T) {
	var mu sync.Mutex
	got := 0
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got++
		mu.Unlock()
	}))
	defer srv.Close()
	cfg := testConfig(t, srv.URL)
	cfg.DrainTimeout = 300 * time.Millisecond
	w, err := NewWebhook(cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	w.Write(testRecords(0, 3))
	waitUntil(t, 5*time.Second, func() bool { return w.Stats().Retried.Load() > 0 }, "a failed TLS handshake")
	w.Close()
	mu.Lock()
	if got != 0 || w.Stats().Delivered.Load() != 0 {
		t.Fatalf("delivered to a server whose certificate is not trusted")
	}
	mu.Unlock()
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	cfg.TLS = &tls.Config{RootCAs: pool}
	w2, err := NewWebhook(cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 5*time.Second, func() bool { return w2.Stats().Delivered.Load() == 3 }, "delivery with the CA trusted")
	w2.Close()
}

func TestSecretKey(t *testing.T) {
	k, err := SecretKey([]byte(testSecret + "\n"))
	if want, _ := base64.StdEncoding.DecodeString(testSecret[6:]); err != nil || string(k) != string(want) {
		t.Errorf("whsec_: %q %v", k, err)
	}
	if k, err := SecretKey([]byte("  a raw key of at least 24 bytes \n")); err != nil || string(k) != "a raw key of at least 24 bytes" {
		t.Errorf("raw: %q %v", k, err)
	}
	for _, bad := range []string{"short", "whsec_!!!", "whsec_c2hvcnQ="} {
		if _, err := SecretKey([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 4, 14, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		h        string
		min, max time.Duration
	}{
		{"", 0, 0}, {"x", 0, 0}, {"-3", 0, 0}, {"2", 2 * time.Second, 2200 * time.Millisecond},
		{"Fri, 04 Dec 2026 14:00:05 GMT", 5 * time.Second, 5500 * time.Millisecond},
		{"99999", MaxRetryAfter, MaxRetryAfter * 11 / 10},
	} {
		if d := retryAfter(tc.h, now); d < tc.min || d > tc.max {
			t.Errorf("Retry-After %q: %v, want %v to %v", tc.h, d, tc.min, tc.max)
		}
	}
}

func TestBackoff(t *testing.T) {
	w := &Webhook{cfg: WebhookConfig{RetryMin: 100 * time.Millisecond, RetryMax: time.Second}}
	for attempt, want := range []time.Duration{100, 200, 400, 800, 1000, 1000} {
		want *= time.Millisecond
		for i := 0; i < 20; i++ {
			if d := w.backoff(attempt); d < want/2 || d > want {
				t.Errorf("backoff(%d) = %v, want %v to %v", attempt, d, want/2, want)
			}
		}
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://user:pw@siem.example/hook?token=x": "https://…@siem.example/hook?…",
		"http://127.0.0.1:8080/a":                   "http://127.0.0.1:8080/a",
	} {
		if got := redactURL(in); got != want {
			t.Errorf("redactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

package main

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/t1610d/t1610d/output"
)

// buildWebhook validates an output's webhook keys and resolves them into
// o.webhook: ${env:…} and ${file:…} references read, the secret turned
// into its key, the TLS settings loaded. Keys of a webhook on another type
// of output are errors. It reads files but never touches the network.
func (o *outputConfig) buildWebhook(at, stateDir string) error {
	if o.Type != "webhook" {
		for _, k := range []struct {
			key string
			set bool
		}{
			{"url", o.URL != ""}, {"preset", o.Preset != ""}, {"headers", o.Headers != nil}, {"token", o.Token != ""},
			{"secret_file", o.SecretFile != ""}, {"ca_file", o.CAFile != ""}, {"cert_file", o.CertFile != ""},
			{"key_file", o.KeyFile != ""}, {"tls_skip_verify", o.TLSSkipVerify}, {"timeout", o.Timeout != ""},
			{"batch_max", o.BatchMax != 0}, {"batch_wait", o.BatchWait != ""}, {"max_retries", o.MaxRetries != nil},
			{"retry_backoff", o.RetryBackoff != ""}, {"retry_max_backoff", o.RetryMax != ""}, {"spool_max_bytes", o.SpoolMaxBytes != 0},
		} {
			if k.set {
				return fmt.Errorf("%s.%s: only a webhook output has it (type = %q)", at, k.key, o.Type)
			}
		}
		return nil
	}
	w := &output.WebhookConfig{Preset: output.PresetGeneric, MaxRetries: -1, Headers: map[string]string{}}
	if o.Preset != "" {
		w.Preset = output.Preset(o.Preset)
	}
	if !oneOf(string(w.Preset), "generic", "splunk-hec", "slack") {
		return fmt.Errorf("%s.preset = %q: want generic, splunk-hec or slack", at, o.Preset)
	}
	u, err := resolveRefs(o.URL)
	if err != nil {
		return fmt.Errorf("%s.url: %v", at, err)
	}
	pu, err := url.Parse(u)
	if o.URL == "" || err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
		return fmt.Errorf("%s.url = %q: a webhook needs an http:// or https:// URL", at, o.URL)
	}
	w.URL = u
	names := make([]string, 0, len(o.Headers))
	for k := range o.Headers {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if !validHeaderName(k) {
			return fmt.Errorf("%s.headers.%s: not a valid header name", at, k)
		}
		if oneOf(strings.ToLower(k), "webhook-id", "webhook-timestamp", "webhook-signature", "content-length", "host") {
			return fmt.Errorf("%s.headers.%s: set by t1610d itself", at, k)
		}
		v, err := resolveRefs(o.Headers[k])
		if err != nil {
			return fmt.Errorf("%s.headers.%s: %v", at, k, err)
		}
		if strings.ContainsAny(v, "\r\n\x00") {
			return fmt.Errorf("%s.headers.%s: the value holds a line break", at, k)
		}
		w.Headers[k] = v
	}
	if o.Token != "" {
		if w.Preset != output.PresetSplunkHEC {
			return fmt.Errorf("%s.token: only the splunk-hec preset takes a token (use headers for others)", at)
		}
		tok, err := resolveRefs(o.Token)
		if err != nil {
			return fmt.Errorf("%s.token: %v", at, err)
		}
		if tok == "" || strings.ContainsAny(tok, "\r\n\x00 ") {
			return fmt.Errorf("%s.token: empty, or holds a space or line break", at)
		}
		for k := range w.Headers {
			if strings.EqualFold(k, "Authorization") {
				return fmt.Errorf("%s.token: headers.%s is set too; give one of them", at, k)
			}
		}
		w.Headers["Authorization"] = "Splunk " + tok
	}
	if o.SecretFile != "" {
		b, err := os.ReadFile(o.SecretFile)
		if err != nil {
			return fmt.Errorf("%s.secret_file: %v", at, err)
		}
		if w.Secret, err = output.SecretKey(b); err != nil {
			return fmt.Errorf("%s.secret_file %s: %v", at, o.SecretFile, err)
		}
	}
	if w.TLS, err = o.tlsConfig(at, pu.Scheme == "https"); err != nil {
		return err
	}
	for _, d := range []struct {
		key, v string
		dst    *time.Duration
		def    time.Duration
	}{
		{"timeout", o.Timeout, &w.Timeout, output.DefaultTimeout},
		{"batch_wait", o.BatchWait, &w.BatchWait, output.DefaultBatchWait},
		{"retry_backoff", o.RetryBackoff, &w.RetryMin, output.DefaultRetryMin},
		{"retry_max_backoff", o.RetryMax, &w.RetryMax, output.DefaultRetryMax},
	} {
		*d.dst = d.def
		if d.v == "" {
			continue
		}
		v, err := time.ParseDuration(d.v)
		if err != nil || v <= 0 || v > 24*time.Hour {
			return fmt.Errorf("%s.%s = %q: want a duration such as 1s, 500ms or 2m", at, d.key, d.v)
		}
		*d.dst = v
	}
	if w.RetryMax < w.RetryMin {
		return fmt.Errorf("%s.retry_max_backoff = %v: less than retry_backoff (%v)", at, w.RetryMax, w.RetryMin)
	}
	w.BatchMax = output.DefaultBatchMax
	if w.Preset == output.PresetSlack {
		w.BatchMax = 20 // a chat message stays readable
	}
	if o.BatchMax != 0 {
		if o.BatchMax < 1 || o.BatchMax > 10000 {
			return fmt.Errorf("%s.batch_max = %d: want 1 to 10000", at, o.BatchMax)
		}
		w.BatchMax = o.BatchMax
	}
	if o.MaxRetries != nil {
		if *o.MaxRetries < 0 {
			return fmt.Errorf("%s.max_retries = %d: want 0 or more (leave it out to retry until delivered)", at, *o.MaxRetries)
		}
		w.MaxRetries = *o.MaxRetries
	}
	w.SpoolMax = output.DefaultSpoolMax
	if o.SpoolMaxBytes != 0 {
		if o.SpoolMaxBytes < 64<<10 {
			return fmt.Errorf("%s.spool_max_bytes = %d: want at least 65536", at, o.SpoolMaxBytes)
		}
		w.SpoolMax = o.SpoolMaxBytes
	}
	// The spool belongs to the destination and what is sent there, not to
	// the output's place in the file: reordering outputs keeps it.
	sum := sha256.Sum256([]byte(w.URL + "\x00" + string(w.Preset) + "\x00" + o.Format))
	w.SpoolDir = filepath.Join(stateDir, "spool", "webhook-"+hex.EncodeToString(sum[:6]))
	o.webhook = w
	return nil
}

// tlsConfig loads ca_file, cert_file and key_file. Verification stays on
// unless tls_skip_verify says otherwise.
func (o *outputConfig) tlsConfig(at string, https bool) (*tls.Config, error) {
	if !https {
		for key, set := range map[string]bool{"ca_file": o.CAFile != "", "cert_file": o.CertFile != "", "key_file": o.KeyFile != "", "tls_skip_verify": o.TLSSkipVerify} {
			if set {
				return nil, fmt.Errorf("%s.%s: the url is not https", at, key)
			}
		}
		return nil, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: o.TLSSkipVerify}
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("%s.ca_file: %v", at, err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s.ca_file %s: no PEM certificate in it", at, o.CAFile)
		}
		tc.RootCAs = pool
	}
	if (o.CertFile == "") != (o.KeyFile == "") {
		return nil, fmt.Errorf("%s: cert_file and key_file go together", at)
	}
	if o.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("%s.cert_file/key_file: %v", at, err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// resolveRefs replaces each ${env:NAME} in v with that environment
// variable and each ${file:/path} with the file's contents (surrounding
// whitespace dropped). An unset or empty variable, an unreadable file or
// any other ${…} is an error; the error never holds a resolved value.
func resolveRefs(v string) (string, error) {
	var b strings.Builder
	for {
		i := strings.Index(v, "${")
		if i < 0 {
			b.WriteString(v)
			return b.String(), nil
		}
		b.WriteString(v[:i])
		j := strings.IndexByte(v[i:], '}')
		if j < 0 {
			return "", fmt.Errorf("%q: unclosed ${", v[i:])
		}
		ref := v[i+2 : i+j]
		v = v[i+j+1:]
		kind, arg, _ := strings.Cut(ref, ":")
		switch kind {
		case "env":
			val, ok := os.LookupEnv(arg)
			if arg == "" || !ok || val == "" {
				return "", fmt.Errorf("${env:%s}: the environment variable is not set", arg)
			}
			b.WriteString(val)
		case "file":
			if !filepath.IsAbs(arg) {
				return "", fmt.Errorf("${file:%s}: want an absolute path", arg)
			}
			c, err := os.ReadFile(arg)
			if err != nil {
				return "", fmt.Errorf("${file:%s}: %v", arg, err)
			}
			val := strings.TrimSpace(string(c))
			if val == "" {
				return "", fmt.Errorf("${file:%s}: the file is empty", arg)
			}
			b.WriteString(val)
		default:
			return "", fmt.Errorf("${%s}: want ${env:NAME} or ${file:/path}", ref)
		}
	}
}

// validHeaderName reports whether k is an HTTP header name (RFC 9110 token).
func validHeaderName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// hookStats holds each webhook output's counters by output name, so that a
// reload, which builds new webhooks, keeps counting where the old ones
// stopped; the metrics are registered when an output is first seen.
type hookStats struct {
	mu    sync.Mutex
	stats map[string]*output.WebhookStats
}

func (h *hookStats) get(m *metrics, name string) *output.WebhookStats {
	h.mu.Lock()
	defer h.mu.Unlock()
	if st, ok := h.stats[name]; ok {
		return st
	}
	if h.stats == nil {
		h.stats = map[string]*output.WebhookStats{}
	}
	st := new(output.WebhookStats)
	h.stats[name] = st
	if m == nil {
		return st
	}
	l := prometheus.Labels{"output": name}
	u := func(a *atomic.Uint64) func() float64 { return func() float64 { return float64(a.Load()) } }
	m.counter("t1610d_webhook_delivered_total", "Records a webhook's receiver accepted (2xx).", l, u(&st.Delivered))
	m.counter("t1610d_webhook_failed_total", "Records dropped: refused by the receiver with a status a retry cannot change (4xx), or out of retries.", l, u(&st.Failed))
	m.counter("t1610d_webhook_retries_total", "Webhook requests retried (network errors, timeouts, 408, 429, 5xx).", l, u(&st.Retried))
	m.counter("t1610d_webhook_spooled_total", "Records written to a webhook's disk spool.", l, u(&st.Spooled))
	m.counter("t1610d_webhook_spool_dropped_total", "Records dropped, oldest first, from a full webhook spool.", l, u(&st.SpoolDropped))
	m.gauge("t1610d_webhook_spool_records", "Records waiting in a webhook's spool.", l, func() float64 { return float64(st.SpoolRecords.Load()) })
	m.gauge("t1610d_webhook_spool_bytes", "Size of a webhook's spool.", l, func() float64 { return float64(st.SpoolBytes.Load()) })
	return st
}

// handOff tells each webhook of the running outputs that a new one on the
// same spool replaces it (a reload), so that the new one, with the new
// headers and secret, delivers from now on, and not only once the old
// outputs are closed at the next batch.
func handOff(old, replacing []*output.Queue) {
	for _, nq := range replacing {
		nw, ok := nq.Sink().(*output.Webhook)
		if !ok {
			continue
		}
		for _, oq := range old {
			if ow, ok := oq.Sink().(*output.Webhook); ok && ow.Spool().Dir() == nw.Spool().Dir() {
				ow.Handoff()
			}
		}
	}
}

package output

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// Preset is the shape of a webhook's request body.
type Preset string

// The presets.
const (
	// PresetGeneric posts a JSON array of the records.
	PresetGeneric Preset = "generic"
	// PresetSplunkHEC posts Splunk HTTP Event Collector events, one JSON
	// object per record, concatenated: {"time":…,"host":…,
	// "sourcetype":"t1610d","event":{record}}.
	PresetSplunkHEC Preset = "splunk-hec"
	// PresetSlack posts {"text": …} with one summary line per record
	// (Slack, Mattermost, Rocket.Chat incoming webhooks).
	PresetSlack Preset = "slack"
)

// Webhook defaults, as the packaged config documents them.
const (
	DefaultBatchMax     = 100
	DefaultBatchWait    = time.Second
	DefaultTimeout      = 15 * time.Second // Standard Webhooks recommends 15 to 30 s
	DefaultRetryMin     = 500 * time.Millisecond
	DefaultRetryMax     = time.Minute
	DefaultSpoolMax     = 64 << 20
	DefaultDrainTimeout = 3 * time.Second
	// MaxRetryAfter bounds how long a Retry-After header can make a
	// webhook wait.
	MaxRetryAfter = 10 * time.Minute
)

// WebhookConfig is a webhook's settings, resolved: header values are final
// and the secret is the HMAC key itself.
type WebhookConfig struct {
	Name         string            // for the log
	URL          string            // http or https
	Preset       Preset            // "" is generic
	Headers      map[string]string // added to every request
	Secret       []byte            // Standard Webhooks signing key; nil: requests are not signed
	TLS          *tls.Config       // nil: Go's defaults (verification on, the system's roots)
	Timeout      time.Duration     // per request
	BatchMax     int               // records per request
	BatchWait    time.Duration     // how long the first record of a batch waits for more
	MaxRetries   int               // retries of one batch before it is dropped; negative: no limit
	RetryMin     time.Duration     // the first retry's backoff
	RetryMax     time.Duration     // the largest backoff
	SpoolDir     string            // where undelivered batches wait
	SpoolMax     int64             // bytes
	DrainTimeout time.Duration     // how long Close keeps delivering
	Stats        *WebhookStats     // nil: the webhook's own; shared across a reload so counts go on
}

// WebhookStats counts what a webhook did, in records unless said otherwise.
// Its fields are safe for concurrent use.
type WebhookStats struct {
	Delivered    atomic.Uint64 // accepted by the receiver (2xx)
	Failed       atomic.Uint64 // dropped: refused with a status a retry cannot change, or out of retries
	Retried      atomic.Uint64 // requests retried (not records)
	Spooled      atomic.Uint64 // written to the spool
	SpoolDropped atomic.Uint64 // evicted, oldest first, from a full spool
	SpoolRecords atomic.Int64  // waiting in the spool, at the last look
	SpoolBytes   atomic.Int64  // the spool's size, at the last look
}

// Webhook is a Sink that POSTs batches of records to a URL. Write only
// batches: a batch is complete at BatchMax records or BatchWait after its
// first one, and then written to the spool on disk. Its own goroutine (started
// by NewWebhook) delivers the spool's batches oldest first, with retries,
// so a slow or unreachable receiver delays no other output and never the
// pipeline; a full spool drops its oldest batches.
//
// Delivery is at least once: a batch leaves the spool only when the
// receiver answered 2xx (or refused it for good), so a lost answer or a
// restart can deliver a batch twice; its webhook-id header and each record's
// AlertId are the same each time.
//
// Retries: network errors, timeouts, 408, 429 and 5xx, with exponential
// backoff (RetryMin doubling to RetryMax, with jitter), or after the
// Retry-After of a 429 or 503. Other statuses (3xx: redirects are not
// followed; 4xx) drop the batch, logged and counted in Failed.
type Webhook struct {
	cfg    WebhookConfig
	spool  *Spool
	client *http.Client
	log    zerolog.Logger
	stats  *WebhookStats

	mu      sync.Mutex // pending, timer, closed
	pending [][]byte
	timer   *time.Timer
	closed  bool

	kick    chan struct{}
	stop    chan struct{}
	handoff chan struct{} // closed by Handoff
	done    chan struct{}
	ctx     context.Context // cancelled when Close's drain time is over
	cancel  context.CancelFunc
	once    sync.Once
	hoOnce  sync.Once
}

// NewWebhook opens the spool (delivering what an earlier run left in it)
// and starts the delivery goroutine.
func NewWebhook(cfg WebhookConfig, log zerolog.Logger) (*Webhook, error) {
	if cfg.Preset == "" {
		cfg.Preset = PresetGeneric
	}
	switch cfg.Preset {
	case PresetGeneric, PresetSplunkHEC, PresetSlack:
	default:
		return nil, fmt.Errorf("webhook %s: unknown preset %q", cfg.URL, cfg.Preset)
	}
	if cfg.BatchMax < 1 {
		cfg.BatchMax = DefaultBatchMax
	}
	if cfg.BatchWait <= 0 {
		cfg.BatchWait = DefaultBatchWait
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.RetryMin <= 0 {
		cfg.RetryMin = DefaultRetryMin
	}
	if cfg.RetryMax < cfg.RetryMin {
		cfg.RetryMax = max(DefaultRetryMax, cfg.RetryMin)
	}
	if cfg.SpoolMax <= 0 {
		cfg.SpoolMax = DefaultSpoolMax
	}
	if cfg.DrainTimeout <= 0 {
		cfg.DrainTimeout = DefaultDrainTimeout
	}
	if cfg.Stats == nil {
		cfg.Stats = new(WebhookStats)
	}
	log = log.With().Str("output", cfg.Name).Str("url", redactURL(cfg.URL)).Logger()
	sp, err := OpenSpool(cfg.SpoolDir, cfg.SpoolMax, cfg.Stats, log)
	if err != nil {
		return nil, fmt.Errorf("webhook %s: %w", redactURL(cfg.URL), err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if cfg.TLS != nil {
		tr.TLSClientConfig = cfg.TLS.Clone()
	}
	w := &Webhook{
		cfg: cfg, spool: sp, log: log, stats: cfg.Stats,
		client: &http.Client{
			Transport:     tr,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		kick:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
		handoff: make(chan struct{}),
		done:    make(chan struct{}),
	}
	w.ctx, w.cancel = context.WithCancel(context.Background())
	go w.deliver()
	return w, nil
}

// Spool returns the webhook's spool.
func (w *Webhook) Spool() *Spool { return w.spool }

// Stats returns the webhook's counters.
func (w *Webhook) Stats() *WebhookStats { return w.stats }

// maxPending bounds the records held in memory while the spool cannot be
// written (a full or failing disk); past it the oldest are dropped.
func (w *Webhook) maxPending() int { return 10 * w.cfg.BatchMax }

// Write adds records to the current batch, writing each batch that is
// complete to the spool. It fails only after Close; a spool that cannot be
// written is logged, and the records are held (bounded) and tried again.
func (w *Webhook) Write(records [][]byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return fmt.Errorf("webhook %s: closed", redactURL(w.cfg.URL))
	}
	for _, r := range records {
		w.pending = append(w.pending, r)
		if len(w.pending) >= w.cfg.BatchMax && len(w.pending)%w.cfg.BatchMax == 0 {
			w.sealLocked()
		}
	}
	if len(w.pending) > 0 && w.timer == nil {
		w.timer = time.AfterFunc(w.cfg.BatchWait, w.sealDue)
	}
	return nil
}

// sealDue writes the batch that BatchWait has completed.
func (w *Webhook) sealDue() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.timer = nil
	if w.closed {
		return
	}
	w.sealLocked()
	if len(w.pending) > 0 { // the spool failed: try again
		w.timer = time.AfterFunc(w.cfg.BatchWait, w.sealDue)
	}
}

// sealLocked writes the pending records to the spool, BatchMax at a time.
func (w *Webhook) sealLocked() {
	for len(w.pending) > 0 {
		n := min(len(w.pending), w.cfg.BatchMax)
		if err := w.spool.Put(w.pending[:n]); err != nil {
			w.log.Error().Err(err).Int("records", len(w.pending)).Msg("webhook spool not writable; holding the alerts in memory")
			if over := len(w.pending) - w.maxPending(); over > 0 {
				w.stats.SpoolDropped.Add(uint64(over))
				w.pending = append(w.pending[:0:0], w.pending[over:]...)
			}
			return
		}
		w.pending = append(w.pending[:0:0], w.pending[n:]...)
	}
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// Close writes the pending batch to the spool, keeps delivering for up to
// DrainTimeout, and stops; what is not delivered by then stays in the
// spool for the next start (or the next webhook on the same spool).
func (w *Webhook) Close() error {
	w.once.Do(func() {
		w.mu.Lock()
		if w.timer != nil {
			w.timer.Stop()
			w.timer = nil
		}
		w.sealLocked()
		if n := len(w.pending); n > 0 {
			w.stats.Failed.Add(uint64(n))
			w.log.Error().Int("records", n).Msg("webhook closed with alerts that could not be spooled: dropped")
			w.pending = nil
		}
		w.closed = true
		w.mu.Unlock()
		close(w.stop)
		t := time.AfterFunc(w.cfg.DrainTimeout, w.cancel)
		<-w.done
		t.Stop()
		w.cancel()
	})
	<-w.done
	return nil
}

// Handoff makes w stop delivering, once the request in flight (if any) is
// answered, and release its spool to the webhook built to replace it on the
// same spool (a reload: the new one may have new headers or a new secret).
// Records w is still given are spooled for that one to send. Close must
// still be called.
func (w *Webhook) Handoff() { w.hoOnce.Do(func() { close(w.handoff) }) }

func (w *Webhook) handedOff() bool {
	select {
	case <-w.handoff:
		return true
	default:
		return false
	}
}

func (w *Webhook) stopping() bool {
	select {
	case <-w.stop:
		return true
	default:
		return false
	}
}

// deliver is the delivery goroutine: it takes the spool's lock, then sends
// the oldest batch until the spool is empty, and waits for more.
func (w *Webhook) deliver() {
	defer close(w.done)
	for waited := false; ; waited = true {
		ok, err := w.spool.TryLock()
		if err != nil {
			w.log.Error().Err(err).Msg("webhook spool lock")
		}
		if ok {
			break
		}
		if !waited {
			w.log.Info().Str("spool", w.spool.Dir()).Msg("webhook spool in use (a reload, or another t1610d); waiting for it")
		}
		select {
		case <-w.stop:
			return
		case <-w.handoff:
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
	defer w.spool.Unlock()
	for !w.handedOff() {
		b, ok, err := w.spool.Oldest()
		if err != nil {
			w.log.Error().Err(err).Msg("webhook spool unreadable")
		}
		if !ok {
			if w.stopping() {
				return
			}
			select {
			case <-w.kick:
			case <-w.stop:
			case <-w.handoff:
			case <-time.After(time.Second): // another writer's batches
			}
			continue
		}
		if !w.send(b) {
			return // drain time over, or handed off: the batch stays spooled
		}
	}
}

// outcome of one request.
type outcome int

const (
	delivered outcome = iota
	retry
	refused
)

// send delivers one batch, retrying as needed. It reports false when the
// webhook is closing and its drain time is over, or handed off, with the
// batch still in the spool.
func (w *Webhook) send(b SpoolBatch) bool {
	body, err := w.body(b.Records)
	if err != nil { // records t1610d did not write: nothing a retry changes
		w.stats.Failed.Add(uint64(len(b.Records)))
		w.log.Error().Err(err).Str("batch", b.Name).Msg("webhook batch cannot be encoded: dropped")
		w.spool.Remove(b)
		return true
	}
	n := uint64(len(b.Records))
	for attempt := 0; ; attempt++ {
		res, wait, detail := w.post(b.ID, body)
		if res == retry && w.ctx.Err() != nil {
			return false
		}
		switch res {
		case delivered:
			w.stats.Delivered.Add(n)
			w.spool.Remove(b)
			if attempt > 0 {
				w.log.Info().Int("retries", attempt).Uint64("records", n).Msg("webhook delivering again")
			}
			return true
		case refused:
			w.stats.Failed.Add(n)
			w.spool.Remove(b)
			w.log.Error().Str("response", detail).Str("webhook_id", b.ID).Uint64("records", n).
				Msg("webhook refused the batch; not retried: alerts dropped (counted in t1610d_webhook_failed_total)")
			return true
		}
		if w.cfg.MaxRetries >= 0 && attempt >= w.cfg.MaxRetries {
			w.stats.Failed.Add(n)
			w.spool.Remove(b)
			w.log.Error().Str("response", detail).Int("retries", attempt).Uint64("records", n).
				Msg("webhook out of retries: alerts dropped (counted in t1610d_webhook_failed_total)")
			return true
		}
		if wait == 0 {
			wait = w.backoff(attempt)
		}
		if attempt == 0 || attempt%10 == 0 {
			w.log.Warn().Str("response", detail).Int("attempt", attempt+1).Dur("retry_in", wait).
				Uint64("records", n).Int64("spooled", w.stats.SpoolRecords.Load()).Msg("webhook delivery failed; retrying")
		}
		w.stats.Retried.Add(1)
		select {
		case <-time.After(wait):
		case <-w.ctx.Done():
			return false
		case <-w.handoff:
			return false
		}
		if !w.spool.Has(b) {
			return true // evicted from a full spool while we waited: counted there
		}
	}
}

// backoff is the wait before retry number attempt+1: RetryMin doubling up to
// RetryMax, with "equal jitter" (between half of it and all of it).
func (w *Webhook) backoff(attempt int) time.Duration {
	d := w.cfg.RetryMin
	for i := 0; i < attempt && d < w.cfg.RetryMax; i++ {
		d *= 2
	}
	d = min(d, w.cfg.RetryMax)
	return d/2 + rand.N(d/2+1)
}

// post makes one request. wait is the Retry-After the receiver asked for
// (0 if none); detail says what happened, for the log.
func (w *Webhook) post(id string, body []byte) (res outcome, wait time.Duration, detail string) {
	ctx, cancel := context.WithTimeout(w.ctx, w.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return refused, 0, err.Error()
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "t1610d")
	for k, v := range w.cfg.Headers {
		req.Header.Set(k, v)
	}
	if w.cfg.Secret != nil {
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		req.Header.Set("webhook-id", id)
		req.Header.Set("webhook-timestamp", ts)
		req.Header.Set("webhook-signature", Sign(w.cfg.Secret, id, ts, body))
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return retry, 0, redactErr(err, w.cfg.URL)
	}
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	detail = resp.Status
	if s := strings.TrimSpace(string(snippet)); s != "" {
		detail += ": " + strings.ToValidUTF8(s, "?")
	}
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
		return delivered, 0, detail
	case c == http.StatusTooManyRequests || c == http.StatusServiceUnavailable:
		return retry, retryAfter(resp.Header.Get("Retry-After"), time.Now()), detail
	case c == http.StatusRequestTimeout || c >= 500:
		return retry, 0, detail
	}
	return refused, 0, detail
}

// retryAfter parses a Retry-After header: seconds or an HTTP date; 0 when
// absent or unreadable. It adds up to a tenth of jitter and is bounded by
// MaxRetryAfter.
func retryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	var d time.Duration
	if s, err := strconv.ParseInt(h, 10, 64); err == nil {
		if s < 0 {
			return 0
		}
		d = time.Duration(min(s, int64(MaxRetryAfter/time.Second))) * time.Second
	} else if t, err := http.ParseTime(h); err == nil {
		d = t.Sub(now)
	}
	if d <= 0 {
		return 0
	}
	d = min(d, MaxRetryAfter)
	return d + rand.N(d/10+1)
}

// Sign returns the Standard Webhooks signature of a request:
// "v1," and the base64 of HMAC-SHA256 keyed by key over "id.timestamp.body".
func Sign(key []byte, id, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// SecretKey turns the contents of a secret file into the HMAC key, as the
// Standard Webhooks libraries do: surrounding whitespace is dropped, and a
// "whsec_" secret is the base64 of the key; any other content is the key
// as it is. The spec asks for 24 to 512 bytes of key.
func SecretKey(contents []byte) ([]byte, error) {
	s := bytes.TrimSpace(contents)
	if rest, ok := bytes.CutPrefix(s, []byte("whsec_")); ok {
		key, err := base64.StdEncoding.DecodeString(string(rest))
		if err != nil {
			return nil, fmt.Errorf("a whsec_ secret must be base64: %v", err)
		}
		s = key
	}
	if len(s) < 24 || len(s) > 512 {
		return nil, fmt.Errorf("the key is %d bytes; Standard Webhooks wants 24 to 512 (e.g. whsec_ and the base64 of 32 random bytes)", len(s))
	}
	return s, nil
}

// body builds the request body of a batch for the webhook's preset.
func (w *Webhook) body(records [][]byte) ([]byte, error) {
	switch w.cfg.Preset {
	case PresetSplunkHEC:
		return hecBody(records)
	case PresetSlack:
		return slackBody(records)
	}
	var b []byte
	b = append(b, '[')
	for i, r := range records {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, bytes.TrimRight(r, "\n")...)
	}
	return append(b, ']'), nil
}

// recordMeta is what presets read of a record, native or ECS.
type recordMeta struct {
	TimeGenerated string // native
	DeviceName    string
	Timestamp     string `json:"@timestamp"` // ecs
	Host          struct {
		Name string `json:"name"`
	} `json:"host"`
	Message string `json:"message"`
}

func readMeta(r []byte) (recordMeta, error) {
	var m recordMeta
	if err := json.Unmarshal(r, &m); err != nil {
		return m, fmt.Errorf("record is not JSON: %w", err)
	}
	if m.Timestamp == "" {
		m.Timestamp = m.TimeGenerated
	}
	if m.Host.Name == "" {
		m.Host.Name = m.DeviceName
	}
	return m, nil
}

// hecBody: one HEC event per record, concatenated, time in epoch seconds
// with milliseconds.
func hecBody(records [][]byte) ([]byte, error) {
	var b []byte
	for _, r := range records {
		m, err := readMeta(r)
		if err != nil {
			return nil, err
		}
		t, err := time.Parse(time.RFC3339Nano, m.Timestamp)
		if err != nil {
			return nil, fmt.Errorf("record time %q: %w", m.Timestamp, err)
		}
		ms := t.UnixMilli()
		host, _ := json.Marshal(m.Host.Name)
		b = append(b, `{"time":`...)
		b = strconv.AppendInt(b, ms/1000, 10)
		b = append(b, '.')
		b = append(b, fmt.Sprintf("%03d", ms%1000)...)
		b = append(b, `,"host":`...)
		b = append(b, host...)
		b = append(b, `,"sourcetype":"t1610d","event":`...)
		b = append(b, bytes.TrimRight(r, "\n")...)
		b = append(b, "}\n"...)
	}
	return b, nil
}

// slackBody: {"text": one summary line per record}, with the three
// characters Slack's mrkdwn reserves escaped.
func slackBody(records [][]byte) ([]byte, error) {
	var lines []string
	for _, r := range records {
		m, err := readMeta(r)
		if err != nil {
			return nil, err
		}
		line := m.Message // ECS records carry their summary
		if line == "" {
			var n Native
			if err := json.Unmarshal(r, &n); err != nil {
				return nil, fmt.Errorf("record is not JSON: %w", err)
			}
			line = Summary(&n)
		}
		lines = append(lines, slackEscape.Replace(line))
	}
	return json.Marshal(struct {
		Text string `json:"text"`
	}{strings.Join(lines, "\n")})
}

var slackEscape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// redactURL drops a URL's userinfo and query (where tokens hide) for the log.
func redactURL(u string) string {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u = u[:i] + "?…"
	}
	if i := strings.Index(u, "://"); i >= 0 {
		rest := u[i+3:]
		if j := strings.IndexByte(rest, '@'); j >= 0 && !strings.Contains(rest[:j], "/") {
			u = u[:i+3] + "…@" + rest[j+1:]
		}
	}
	return u
}

// redactErr is err's text with the URL in it redacted.
func redactErr(err error, u string) string {
	return strings.ReplaceAll(err.Error(), u, redactURL(u))
}

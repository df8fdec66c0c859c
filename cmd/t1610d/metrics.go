package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/t1610d/t1610d/auditd"
	"github.com/t1610d/t1610d/detect"
)

// metrics are the daemon's Prometheus metrics, in a registry of its own.
// The detection stage counts findings; the source's goroutine stores a
// snapshot of the assembler's counts (the Assembler is not safe for
// concurrent use); gauges read the rest when scraped.
type metrics struct {
	reg        *prometheus.Registry
	alerts     *prometheus.CounterVec
	container  prometheus.Counter
	suppressed prometheus.Counter

	mu  sync.Mutex
	asm auditd.Stats
}

func newMetrics() *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.alerts = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "t1610d_alerts_total", Help: "Alerts raised, by category that fired (an alert counts once per category)."}, []string{"category"})
	m.container = prometheus.NewCounter(prometheus.CounterOpts{Name: "t1610d_container_commands_total", Help: "Execs of a container CLI."})
	m.suppressed = prometheus.NewCounter(prometheus.CounterOpts{Name: "t1610d_suppressed_total", Help: "Alerts suppressed by an allow rule."})
	m.reg.MustRegister(m.alerts, m.container, m.suppressed)
	for _, c := range detect.Categories() {
		m.alerts.WithLabelValues(c.String())
	}
	for _, c := range []struct {
		name, help string
		get        func(auditd.Stats) uint64
	}{
		{"t1610d_records_total", "Audit records read.", func(s auditd.Stats) uint64 { return s.Records }},
		{"t1610d_events_total", "Audit events completed.", func(s auditd.Stats) uint64 { return s.Events }},
		{"t1610d_execs_total", "Exec events seen.", func(s auditd.Stats) uint64 { return s.Execs }},
		{"t1610d_malformed_lines_total", "Lines that were not audit records, skipped.", func(s auditd.Stats) uint64 { return s.Malformed }},
		{"t1610d_truncated_records_total", "Records cut short, kept.", func(s auditd.Stats) uint64 { return s.Truncated }},
		{"t1610d_sequence_gaps_total", "Audit serials missing between those seen: events lost before t1610d.", func(s auditd.Stats) uint64 { return s.Gaps }},
		{"t1610d_repeated_serials_total", "Serials seen again after their event completed.", func(s auditd.Stats) uint64 { return s.Duplicates }},
		{"t1610d_events_evicted_total", "Events completed early because too many were in flight.", func(s auditd.Stats) uint64 { return s.Evicted }},
	} {
		get := c.get
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: c.name, Help: c.help}, func() float64 {
			m.mu.Lock()
			defer m.mu.Unlock()
			return float64(get(m.asm))
		}))
	}
	return m
}

// snapshot stores the assembler's counts; called from the source's goroutine.
func (m *metrics) snapshot(s auditd.Stats) {
	if m == nil {
		return
	}
	m.mu.Lock()
	m.asm = s
	m.mu.Unlock()
}

// observe counts one exec's finding.
func (m *metrics) observe(f *detect.Finding, alert, suppressed bool) {
	if m == nil || f == nil {
		return
	}
	m.container.Inc()
	if suppressed {
		m.suppressed.Inc()
	}
	if alert {
		for _, fl := range f.Flags {
			m.alerts.WithLabelValues(fl.Category.String()).Inc()
		}
	}
}

// gauge registers a gauge read when scraped.
func (m *metrics) gauge(name, help string, labels prometheus.Labels, get func() float64) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help, ConstLabels: labels}, get))
}

// counter registers a counter read when scraped.
func (m *metrics) counter(name, help string, labels prometheus.Labels, get func() float64) {
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help, ConstLabels: labels}, get))
}

// serve answers /metrics and /healthz on listen until ctx is done.
func (m *metrics) serve(ctx context.Context, listen string, healthy func() error) (func(), error) {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if err := healthy(); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok\n"))
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = err // the listener is gone; the daemon goes on without metrics
		}
	}()
	return func() {
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}, nil
}

package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/t1610d/t1610d/auditd"
	"github.com/t1610d/t1610d/output"
)

// auditRules are the rules the daemon needs: every exec, 64- and 32-bit.
// `t1610d rules` prints them; the netlink source adds them when missing.
var auditRules = auditd.DefaultRules()

func runRules(stdout io.Writer) error {
	_, err := fmt.Fprintf(stdout, "## t1610d: audit every exec, to detect dangerous container launches (MITRE ATT&CK T1610).\n"+
		"## Installed as /etc/audit/rules.d/60-t1610d.rules; load with augenrules --load.\n%s\n%s\n", auditRules[0], auditRules[1])
	return err
}

// drainTimeout bounds the time from SIGTERM to exit: the sources stop, the
// assembler flushes, detection drains, and outputs get what is left of it.
const drainTimeout = 4 * time.Second

// source feeds records into an Assembler until ctx is done or its input
// ends; then it flushes the Assembler and returns. It owns the Assembler.
type source interface {
	Run(ctx context.Context, asm *auditd.Assembler) error
}

func runDaemon(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("run", stderr)
	cfgPath := fs.String("config", "", "config file (default: the built-in defaults)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("run: unexpected argument %q", fs.Arg(0))
	}
	set, err := loadSettings(*cfgPath, "event")
	if err != nil {
		return err
	}
	log := newLogger(stderr).Level(set.level)
	d := &daemon{cfgPath: *cfgPath, stdout: stdout, stdin: stdin, log: log, metrics: newMetrics()}
	return d.run(ctx, set)
}

// daemon wires a live pipeline: source → assembler → detection → outputs.
type daemon struct {
	cfgPath string
	stdin   io.Reader
	stdout  io.Writer
	log     zerolog.Logger
	metrics *metrics

	cur   atomic.Pointer[liveConfig] // what the detection stage uses; swapped on SIGHUP
	acked atomic.Int64               // the safe position of the last batch handed to the outputs
	hooks hookStats                  // the webhook outputs' counters, kept across reloads (outputs.go)
}

// liveConfig is a stage configuration with the output queues it feeds.
type liveConfig struct {
	stageConfig
	queues []*output.Queue
}

// outputs builds the queues and sinks of the configured outputs and starts
// their writers.
func (d *daemon) outputs(set *settings) (*liveConfig, error) {
	lc := &liveConfig{stageConfig: stageConfig{det: set.det, allow: set.allow, files: set.files}}
	for i, o := range set.outputs {
		name := fmt.Sprintf("%d:%s", i, o.Type)
		var sink output.Sink
		switch o.Type {
		case "stdout":
			sink = output.NewStream(d.stdout)
		case "file":
			f, err := output.NewFile(o.Path)
			if err != nil {
				closeQueues(lc.queues)
				return nil, err
			}
			sink = f
		case "webhook":
			wc := *o.webhook
			wc.Name = name
			wc.Stats = d.hooks.get(d.metrics, name)
			wc.DrainTimeout = drainTimeout - time.Second // the rest of the drain is the other outputs'
			if wc.TLS != nil && wc.TLS.InsecureSkipVerify {
				d.log.Warn().Str("output", name).Msg("tls_skip_verify: the webhook's certificate is not checked; anyone on the path can read and forge alerts")
			}
			w, err := output.NewWebhook(wc, d.log)
			if err != nil {
				closeQueues(lc.queues)
				return nil, err
			}
			sink = w
		}
		mode, _ := parseEventMode(o.Events)
		form, _ := parseFormat(o.Format)
		q := output.NewQueue(name, sink, o.Queue, d.log)
		go q.Run()
		lc.queues = append(lc.queues, q)
		lc.outs = append(lc.outs, outlet{mode: mode, format: form, put: func(rec []byte) error { q.Put(rec); return nil }})
	}
	if old := d.cur.Load(); old != nil {
		handOff(old.queues, lc.queues)
	}
	return lc, nil
}

// closeQueues drains the queues, all at once: a webhook that spends its
// drain time retrying does not take the others' time.
func closeQueues(qs []*output.Queue) {
	var wg sync.WaitGroup
	for _, q := range qs {
		wg.Go(q.Close)
	}
	wg.Wait()
}

func (d *daemon) run(ctx context.Context, set *settings) error {
	lc, err := d.outputs(set)
	if err != nil {
		return err
	}
	d.cur.Store(lc)
	d.registerQueueMetrics(lc)

	batches := newExecBatches()
	asm := auditd.NewAssembler(batches.add)
	asm.Names = auditd.NewUserNames().Name
	asm.Now = time.Now
	flush := func(safe int64) {
		batches.flushAt(safe)
		d.metrics.snapshot(asm.Stats())
	}
	src, tail, err := d.source(set, stdinOr(d.stdin), flush)
	if err != nil {
		closeQueues(lc.queues)
		return err
	}
	if set.metrics != "" {
		stop, err := d.metrics.serve(ctx, set.metrics, func() error { return nil })
		if err != nil {
			closeQueues(lc.queues)
			return fmt.Errorf("metrics: listen %s: %w", set.metrics, err)
		}
		defer stop()
		d.log.Info().Str("listen", set.metrics).Msg("metrics on /metrics, health on /healthz")
	}

	srcCtx, stopSrc := context.WithCancel(ctx)
	defer stopSrc()
	sd := newNotifier() // systemd: READY, RELOADING, STOPPING, watchdog (notify.go)
	defer sd.stopping()
	defer context.AfterFunc(ctx, sd.stopping)()
	go sd.runWatchdog(srcCtx)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-srcCtx.Done():
				return
			case <-hup:
				sd.reloading()
				d.reload()
				sd.ready("reloaded")
			}
		}
	}()

	var srcErr error
	go func() {
		defer close(batches.ch)
		srcErr = src.Run(srcCtx, asm)
		batches.send()
		d.metrics.snapshot(asm.Stats())
	}()
	d.log.Info().Str("source", set.source.Kind).Int("outputs", len(lc.queues)).Msg("t1610d running")
	if err := sd.ready("running: source " + set.source.Kind); err != nil {
		d.log.Warn().Err(err).Msg("cannot tell the service manager we are ready")
	}

	stage := &detectStage{procs: auditd.NewProcTable(auditd.DefaultProcTableSize, auditd.DefaultProcMaxAge), metrics: d.metrics}
	stage.host, _ = os.Hostname()
	mine := lc
	for b := range batches.ch {
		if c := d.cur.Load(); c != mine {
			old := mine
			mine = c
			go closeQueues(old.queues) // drains what the old outputs hold
		}
		for _, x := range b.execs {
			if err := stage.handle(&mine.stageConfig, x); err != nil {
				d.log.Error().Err(err).Uint64("serial", x.Serial).Msg("exec not delivered")
			}
		}
		d.acked.Store(b.safe)
	}
	done := make(chan struct{})
	go func() { closeQueues(mine.queues); close(done) }()
	select {
	case <-done:
	case <-time.After(drainTimeout):
		d.log.Error().Msg("outputs did not drain in time; exiting with records undelivered")
	}
	if tail != nil {
		if err := tail.Checkpoint(d.acked.Load()); err != nil {
			d.log.Error().Err(err).Msg("final checkpoint")
		}
	}
	st := asm.Stats()
	d.log.Info().Uint64("records", st.Records).Uint64("execs", st.Execs).Uint64("alerts", stage.n.alerts).
		Uint64("malformed", st.Malformed).Uint64("sequence_gaps", st.Gaps).Msg("t1610d stopped")
	if srcErr != nil && ctx.Err() == nil {
		return srcErr
	}
	return nil
}

func stdinOr(r io.Reader) io.Reader {
	if r == nil {
		return os.Stdin
	}
	return r
}

// source builds the configured source. kind = auto tries netlink and falls
// back to tailing the log when netlink cannot be set up.
func (d *daemon) source(set *settings, stdin io.Reader, flush func(int64)) (source, *auditd.Tail, error) {
	sc := set.source
	tail := &auditd.Tail{Path: sc.TailPath, StateDir: sc.StateDir, Flush: flush, Acked: d.acked.Load, Log: d.log}
	nl := &auditd.Netlink{Mode: sc.NetlinkMode, InstallRules: *sc.InstallRules, Rules: auditRules, Backlog: sc.Backlog,
		Flush: func() { flush(0) }, Log: d.log}
	switch sc.Kind {
	case "stdin":
		return &auditd.Stdin{R: stdin, Flush: func() { flush(0) }, Malformed: malformedLogger(d.log)}, nil, nil
	case "tail":
		d.tailMetrics(tail)
		return tail, tail, nil
	case "netlink":
		d.netlinkMetrics(nl)
		return nl, nil, nil
	}
	d.netlinkMetrics(nl)
	d.tailMetrics(tail)
	return &fallback{first: nl, second: tail, log: d.log}, tail, nil
}

// fallback runs first; if it fails before ctx is done (netlink not
// permitted, no audit in the kernel), it says why and runs second.
type fallback struct {
	first, second source
	log           zerolog.Logger
}

func (f *fallback) Run(ctx context.Context, asm *auditd.Assembler) error {
	err := f.first.Run(ctx, asm)
	if err == nil || ctx.Err() != nil {
		return err
	}
	f.log.Warn().Err(err).Msg("netlink unavailable: tailing the audit log instead")
	return f.second.Run(ctx, asm)
}

// reload re-reads the config file (SIGHUP): detection settings, allow rules
// and outputs are replaced between two batches, so no event in flight is
// dropped; a file output is opened anew (logrotate). The source stays. A
// config that does not load is logged and the old one kept.
func (d *daemon) reload() {
	set, err := loadSettings(d.cfgPath, "event")
	if err != nil {
		d.log.Error().Err(err).Msg("reload: config not applied; keeping the running one")
		return
	}
	lc, err := d.outputs(set)
	if err != nil {
		d.log.Error().Err(err).Msg("reload: outputs not applied; keeping the running ones")
		return
	}
	d.cur.Store(lc)
	d.log.Info().Int("outputs", len(lc.queues)).Int("allow_rules", len(set.allow)).Msg("reloaded")
}

// registerQueueMetrics exposes the depth and drops of the current outputs.
func (d *daemon) registerQueueMetrics(lc *liveConfig) {
	d.metrics.gauge("t1610d_output_queue_depth", "Records waiting in the outputs' queues.", nil, func() float64 {
		n := 0
		for _, q := range d.cur.Load().queues {
			n += q.Depth()
		}
		return float64(n)
	})
	d.metrics.counter("t1610d_output_dropped_total", "Records dropped because an output's queue was full (since its last reload).", nil, func() float64 {
		var n uint64
		for _, q := range d.cur.Load().queues {
			n += q.Dropped()
		}
		return float64(n)
	})
	for i, q := range lc.queues {
		idx, name := i, q.Name
		d.metrics.gauge("t1610d_output_records_queued", "Records waiting in one output's queue.", prometheus.Labels{"output": name}, func() float64 {
			if qs := d.cur.Load().queues; idx < len(qs) {
				return float64(qs[idx].Depth())
			}
			return 0
		})
	}
}

// netlinkMetrics exposes the netlink source's counts and the kernel's audit
// status.
func (d *daemon) netlinkMetrics(n *auditd.Netlink) {
	m := d.metrics
	m.gauge("t1610d_kernel_lost", "The kernel's audit lost counter (events it dropped), at the last status poll.", nil,
		func() float64 { return float64(n.Stats().KernelLost) })
	m.counter("t1610d_kernel_lost_since_start_total", "Events the kernel dropped since t1610d started.", nil,
		func() float64 { return float64(n.Stats().LostDelta) })
	m.gauge("t1610d_kernel_backlog", "Audit records waiting in the kernel's backlog, at the last status poll.", nil,
		func() float64 { return float64(n.Stats().Backlog) })
	m.counter("t1610d_netlink_overflows_total", "Times the netlink receive buffer overflowed (ENOBUFS): records were lost.", nil,
		func() float64 { return float64(n.Stats().Overflows) })
	m.counter("t1610d_netlink_records_total", "Messages received over netlink.", nil,
		func() float64 { return float64(n.Stats().Records) })
}

// tailMetrics exposes the tail source's counts.
func (d *daemon) tailMetrics(t *auditd.Tail) {
	m := d.metrics
	m.counter("t1610d_tail_lines_total", "Lines read from the audit log.", nil, func() float64 { return float64(t.Stats().Lines) })
	m.counter("t1610d_tail_rotations_total", "Log rotations followed.", nil, func() float64 { return float64(t.Stats().Rotations) })
	m.counter("t1610d_tail_truncations_total", "Copytruncate rotations detected (file shorter than the offset).", nil,
		func() float64 { return float64(t.Stats().Truncations) })
	m.counter("t1610d_tail_polling_fallbacks_total", "Switches to polling because inotify was unavailable or overflowed.", nil,
		func() float64 { return float64(t.Stats().PollingFallbacks) })
	m.counter("t1610d_tail_checkpoint_errors_total", "Checkpoints that could not be written.", nil,
		func() float64 { return float64(t.Stats().CheckpointErrors) })
}

package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/rs/zerolog"

	"github.com/t1610d/t1610d/auditd"
	"github.com/t1610d/t1610d/detect"
	"github.com/t1610d/t1610d/output"
)

// eventMode selects what is written: alerts, every container-CLI exec, or
// every exec.
type eventMode int

const (
	eventsAlerts eventMode = iota
	eventsContainer
	eventsAll
)

func parseEventMode(s string) (eventMode, error) {
	switch s {
	case "alerts":
		return eventsAlerts, nil
	case "container":
		return eventsContainer, nil
	case "all":
		return eventsAll, nil
	}
	return 0, usagef("--events %q: want alerts, container or all", s)
}

// counts is what the detection stage saw.
type counts struct {
	container, alerts, suppressed, written uint64
}

// outlet is one destination of records: what it wants, in which format,
// and how it takes a record (which it may keep and must not change: outlets
// of one format share the bytes).
type outlet struct {
	mode   eventMode
	format recordFormat
	put    func(rec []byte) error
}

// recordFormat is an outlet's record format.
type recordFormat int

const (
	formatNative recordFormat = iota
	formatECS
)

func parseFormat(s string) (recordFormat, error) {
	switch s {
	case "native":
		return formatNative, nil
	case "ecs":
		return formatECS, nil
	}
	return 0, usagef("--format %q: want native or ecs", s)
}

// stageConfig is what the detection stage works with; the daemon swaps it
// whole on SIGHUP.
type stageConfig struct {
	det   *detect.Detector
	allow detect.Allowlist
	files *detect.FileReader
	outs  []outlet
}

// detectStage is the pipeline after the assembler: it names each exec's
// parent from the process table, runs the detector, applies the allow
// rules and hands each outlet the records its event mode asks for. It runs
// in one goroutine, in the exec stream's order, so the process table learns
// in order.
type detectStage struct {
	procs   *auditd.ProcTable
	host    string
	n       counts
	metrics *metrics // nil: none
}

func (s *detectStage) handle(c *stageConfig, x *auditd.Exec) error {
	parent, hasParent := s.procs.Observe(x)
	f := c.det.Inspect(detect.Command{Argv: x.Argv, Exe: x.Exe, Cwd: x.Cwd, Files: c.files, ParentExe: parent.Exe, ParentArgv: parent.Argv})
	alert := c.det.Alerts(f)
	suppressed := ""
	if f != nil {
		s.n.container++
	}
	if alert && len(c.allow) > 0 {
		sub := detect.Subject{Image: f.Image, User: x.User, Host: x.Node, Runtime: f.Runtime}
		if sub.Host == "" {
			sub.Host = s.host
		}
		if hasParent {
			sub.Parent = output.ProgramName(parent.Exe, parent.Argv)
		}
		if suppressed = c.allow.Match(f, sub); suppressed != "" {
			alert = false
			s.n.suppressed++
		}
	}
	if alert {
		s.n.alerts++
	}
	s.metrics.observe(f, alert, suppressed != "")
	var recs [2][]byte // by format: each encoded once, for the first outlet that wants it
	for _, o := range c.outs {
		switch {
		case o.mode == eventsAlerts && !alert:
			continue
		case o.mode == eventsContainer && f == nil:
			continue
		}
		rec := recs[o.format]
		if rec == nil {
			ev := output.Event{Exec: x, Parent: parent, HasParent: hasParent, Finding: f, Alert: alert, Host: s.host,
				Suppressed: suppressed, Secrets: c.det.Secrets()}
			var err error
			if o.format == formatECS {
				rec, err = output.AppendECS(nil, &ev)
			} else {
				rec, err = output.AppendNative(nil, &ev)
			}
			if err != nil {
				return fmt.Errorf("encode exec %d: %w", x.Serial, err)
			}
			recs[o.format] = rec
		}
		s.n.written++
		if err := o.put(rec); err != nil {
			return err
		}
	}
	return nil
}

// batch is a run of completed execs, with the source position before which
// every event has been completed (for a resumable source's checkpoint).
type batch struct {
	execs []*auditd.Exec
	safe  int64
}

// execBatches carries exec events from the source's goroutine to the
// detection stage in batches, so the channel costs nothing per exec.
type execBatches struct {
	ch    chan batch
	batch []*auditd.Exec
	safe  int64
}

const batchSize = 256

func newExecBatches() *execBatches {
	return &execBatches{ch: make(chan batch, 8), batch: make([]*auditd.Exec, 0, batchSize)}
}

func (b *execBatches) add(x *auditd.Exec) {
	b.batch = append(b.batch, x)
	if len(b.batch) == batchSize {
		b.send()
	}
}

// flushAt sends what is collected, tagged with safe.
func (b *execBatches) flushAt(safe int64) {
	b.safe = safe
	b.send()
}

func (b *execBatches) send() {
	if len(b.batch) > 0 {
		b.ch <- batch{execs: b.batch, safe: b.safe}
		b.batch = make([]*auditd.Exec, 0, batchSize)
	}
}

// replayResult is what a replay did, for its summary.
type replayResult struct {
	stats auditd.Stats
	n     counts
}

// replayPipeline runs source → assembler → detection → outlets until the
// inputs end. The source goroutine owns the channel and closes it; the
// detection stage ranges over it.
func replayPipeline(ctx context.Context, rep *auditd.Replay, stage *detectStage, c *stageConfig, log zerolog.Logger) (replayResult, error) {
	batches := newExecBatches()
	asm := auditd.NewAssembler(batches.add)
	asm.Names = auditd.NewUserNames().Name
	rep.Malformed = malformedLogger(log)
	var srcErr error
	go func() {
		defer close(batches.ch)
		srcErr = rep.Run(ctx, asm)
		batches.send()
	}()
	var outErr error
	for b := range batches.ch {
		for _, x := range b.execs {
			if outErr == nil {
				outErr = stage.handle(c, x)
			}
		}
	}
	res := replayResult{stats: asm.Stats(), n: stage.n}
	if outErr != nil {
		return res, fmt.Errorf("write: %w", outErr)
	}
	return res, srcErr
}

const maxMalformedShown = 20

// malformedLogger logs the first malformed lines with where and why, then
// only counts them.
func malformedLogger(log zerolog.Logger) func(*auditd.LineError) {
	shown := 0
	return func(e *auditd.LineError) {
		if shown < maxMalformedShown {
			log.Warn().Str("file", e.File).Int("line", e.Line).Err(e.Err).Msg("malformed line skipped")
		} else if shown == maxMalformedShown {
			log.Warn().Msg("more malformed lines skipped; not shown")
		}
		shown++
	}
}

// newLogger returns the program's own log on w: human-readable on a
// terminal, JSON otherwise.
func newLogger(w io.Writer) zerolog.Logger {
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			return zerolog.New(zerolog.ConsoleWriter{Out: w}).With().Timestamp().Logger()
		}
	}
	return zerolog.New(w).With().Timestamp().Logger()
}

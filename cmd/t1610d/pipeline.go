package main

import (
	"bufio"
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

// detectStage is the pipeline after the assembler: it names each exec's
// parent from the process table, runs the detector and writes the records
// the event mode asks for. It runs in one goroutine, in the exec stream's
// order, so the process table learns in order.
type detectStage struct {
	det   *detect.Detector
	allow detect.Allowlist
	files *detect.FileReader
	procs *auditd.ProcTable
	mode  eventMode
	host  string
	w     *bufio.Writer
	buf   []byte
	n     counts
}

func (s *detectStage) handle(x *auditd.Exec) error {
	parent, hasParent := s.procs.Observe(x)
	f := s.det.Inspect(detect.Command{Argv: x.Argv, Exe: x.Exe, Cwd: x.Cwd, Files: s.files, ParentExe: parent.Exe})
	alert := s.det.Alerts(f)
	suppressed := ""
	if f != nil {
		s.n.container++
	}
	if alert && len(s.allow) > 0 {
		sub := detect.Subject{Image: f.Image, User: x.User, Host: x.Node, Runtime: f.Runtime}
		if sub.Host == "" {
			sub.Host = s.host
		}
		if hasParent {
			sub.Parent = output.ProgramName(parent.Exe, parent.Argv)
		}
		if suppressed = s.allow.Match(f, sub); suppressed != "" {
			alert = false
			s.n.suppressed++
		}
	}
	if alert {
		s.n.alerts++
	}
	switch {
	case s.mode == eventsAlerts && !alert:
		return nil
	case s.mode == eventsContainer && f == nil:
		return nil
	}
	ev := output.Event{Exec: x, Parent: parent, HasParent: hasParent, Finding: f, Host: s.host,
		Suppressed: suppressed, Secrets: s.det.Secrets()}
	var err error
	s.buf, err = output.AppendNative(s.buf[:0], &ev)
	if err != nil {
		return fmt.Errorf("encode exec %d: %w", x.Serial, err)
	}
	s.n.written++
	_, err = s.w.Write(s.buf)
	return err
}

// execBatches carries exec events from the assembler's goroutine to the
// detection stage in batches, so the channel costs nothing per exec.
type execBatches struct {
	ch    chan []*auditd.Exec
	batch []*auditd.Exec
}

const batchSize = 256

func (b *execBatches) add(x *auditd.Exec) {
	b.batch = append(b.batch, x)
	if len(b.batch) == batchSize {
		b.flush()
	}
}

func (b *execBatches) flush() {
	if len(b.batch) > 0 {
		b.ch <- b.batch
		b.batch = make([]*auditd.Exec, 0, batchSize)
	}
}

// replayResult is what a replay did, for its summary.
type replayResult struct {
	stats auditd.Stats
	n     counts
}

// replayPipeline runs source → assembler → detection → stdout until the
// inputs end. The source goroutine owns the channel and closes it; the
// detection stage ranges over it.
func replayPipeline(ctx context.Context, rep *auditd.Replay, stage *detectStage, log zerolog.Logger) (replayResult, error) {
	batches := &execBatches{ch: make(chan []*auditd.Exec, 8), batch: make([]*auditd.Exec, 0, batchSize)}
	asm := auditd.NewAssembler(batches.add)
	asm.Names = auditd.NewUserNames().Name
	shown := 0
	rep.Malformed = func(e *auditd.LineError) {
		if shown < maxMalformedShown {
			log.Warn().Str("file", e.File).Int("line", e.Line).Err(e.Err).Msg("malformed line skipped")
		} else if shown == maxMalformedShown {
			log.Warn().Msg("more malformed lines skipped; not shown")
		}
		shown++
	}
	var srcErr error
	go func() {
		defer close(batches.ch)
		srcErr = rep.Run(ctx, asm)
		batches.flush()
	}()
	var outErr error
	for batch := range batches.ch {
		for _, x := range batch {
			if outErr == nil {
				outErr = stage.handle(x)
			}
		}
	}
	if err := stage.w.Flush(); outErr == nil {
		outErr = err
	}
	res := replayResult{stats: asm.Stats(), n: stage.n}
	if outErr != nil {
		return res, fmt.Errorf("write: %w", outErr)
	}
	return res, srcErr
}

const maxMalformedShown = 20

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

package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"

	"github.com/t1610d/t1610d/auditd"
)

func runReplay(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("replay", stderr)
	cfgPath := fs.String("config", "", "config file (default: the built-in defaults)")
	events := fs.String("events", "alerts", "what to write: alerts, container (every container-CLI exec, with its score) or all (every exec)")
	format := fs.String("format", "native", "record format: native or ecs (Elastic Common Schema)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	mode, err := parseEventMode(*events)
	if err != nil {
		return err
	}
	form, err := parseFormat(*format)
	if err != nil {
		return err
	}
	set, err := loadSettings(*cfgPath, "replay")
	if err != nil {
		return err
	}
	host, _ := os.Hostname()
	w := bufio.NewWriterSize(stdout, 64<<10)
	stage := &detectStage{
		procs: auditd.NewProcTable(auditd.DefaultProcTableSize, auditd.DefaultProcMaxAge),
		host:  host,
	}
	c := &stageConfig{det: set.det, allow: set.allow, files: set.files, outs: []outlet{{mode: mode, format: form, put: func(rec []byte) error {
		_, err := w.Write(rec)
		return err
	}}}}
	rep := &auditd.Replay{Paths: fs.Args(), Stdin: stdin}
	res, err := replayPipeline(ctx, rep, stage, c, newLogger(stderr))
	if ferr := w.Flush(); err == nil && ferr != nil {
		err = fmt.Errorf("write: %w", ferr)
	}
	st := res.stats
	fmt.Fprintf(stderr, "t1610d replay: %d lines, %d events, %d execs, %d container commands, %d alerts, %d records written; "+
		"%d suppressed by allow rules; %d malformed lines skipped, %d records cut short, %d sequence gaps, %d repeated serials, %d execs with warnings, %d events completed early (in-flight limit)\n",
		st.Lines, st.Events, st.Execs, res.n.container, res.n.alerts, res.n.written, res.n.suppressed,
		st.Malformed, st.Truncated, st.Gaps, st.Duplicates, st.Damaged, st.Evicted)
	return err
}

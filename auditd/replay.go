package auditd

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// LineError is a line that is not an audit record: where it is and why.
type LineError struct {
	File string
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// Replay reads audit logs in order and pushes their lines into an
// Assembler, as one stream: an event that starts at the end of audit.log.1
// and ends in audit.log is one event.
type Replay struct {
	// Paths are files (plain or gzip, told by their magic bytes), directories
	// (their files as auditd rotates them: audit.log.N … audit.log.1,
	// audit.log, oldest first) or "-" for Stdin. None means Stdin.
	Paths []string
	Stdin io.Reader
	// Malformed, when set, is called for each line that is not a record.
	Malformed func(*LineError)
}

// Run reads every input into asm, then flushes asm. An input that cannot be
// read is named in the returned error; the others are still read. Run stops
// early, returning ctx.Err(), when ctx is done.
func (r *Replay) Run(ctx context.Context, asm *Assembler) error {
	paths := r.Paths
	if len(paths) == 0 {
		paths = []string{"-"}
	}
	var errs []error
	for _, p := range paths {
		files, err := expand(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, f := range files {
			if err := r.readFile(ctx, f, asm); err != nil {
				if ctx.Err() != nil {
					asm.Flush()
					return ctx.Err()
				}
				errs = append(errs, err)
			}
		}
	}
	asm.Flush()
	return errors.Join(errs...)
}

// expand turns a path into the files to read, oldest first.
func expand(p string) ([]string, error) {
	if p == "-" {
		return []string{p}, nil
	}
	st, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("replay %s: %w", p, err)
	}
	if !st.IsDir() {
		return []string{p}, nil
	}
	entries, err := os.ReadDir(p)
	if err != nil {
		return nil, fmt.Errorf("replay %s: %w", p, err)
	}
	// An auditd log folder: read audit.log and its rotations only. Any
	// other folder: every regular file in it.
	var files, logs []string
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		files = append(files, filepath.Join(p, e.Name()))
		if isAuditLogName(e.Name()) {
			logs = append(logs, filepath.Join(p, e.Name()))
		}
	}
	if len(logs) > 0 {
		files = logs
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("replay %s: no files in directory", p)
	}
	SortRotated(files)
	return files, nil
}

// isAuditLogName reports whether name is audit.log or one of its rotations
// (audit.log.1, audit.log.2.gz).
func isAuditLogName(name string) bool {
	rest, ok := strings.CutPrefix(name, "audit.log")
	if !ok {
		return false
	}
	rest = strings.TrimSuffix(rest, ".gz")
	if rest == "" {
		return true
	}
	_, err := strconv.Atoi(strings.TrimPrefix(rest, "."))
	return rest[0] == '.' && err == nil
}

// SortRotated orders log files the way auditd and logrotate rotate them,
// oldest first: audit.log.3, audit.log.2, audit.log.1, audit.log (also with a
// .gz suffix). Files of different base names sort by name.
func SortRotated(files []string) {
	type key struct {
		base string
		gen  int
	}
	keyOf := func(f string) key {
		name := strings.TrimSuffix(filepath.Base(f), ".gz")
		if i := strings.LastIndexByte(name, '.'); i > 0 {
			if n, err := strconv.Atoi(name[i+1:]); err == nil && n >= 0 {
				return key{name[:i], n}
			}
		}
		return key{name, 0}
	}
	sort.SliceStable(files, func(i, j int) bool {
		a, b := keyOf(files[i]), keyOf(files[j])
		if a.base != b.base {
			return a.base < b.base
		}
		return a.gen > b.gen
	})
}

func (r *Replay) readFile(ctx context.Context, name string, asm *Assembler) error {
	var in io.Reader
	if name == "-" {
		in = r.Stdin
		if in == nil {
			in = os.Stdin
		}
		name = "stdin"
	} else {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("replay: %w", err)
		}
		defer f.Close()
		in = f
	}
	br := bufio.NewReaderSize(in, 1<<20)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("replay %s: %w", name, err)
		}
		defer zr.Close()
		br = bufio.NewReaderSize(zr, 1<<20)
	}
	lines := Lines{r: br}
	for n := 1; ; n++ {
		line, err := lines.Next()
		if len(line) > 0 {
			if perr := asm.Push(line); perr != nil && r.Malformed != nil {
				r.Malformed(&LineError{File: name, Line: n, Err: perr})
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("replay %s:%d: %w", name, n, err)
		}
		if n%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// Lines splits a stream into lines of any length without holding more than
// a record's worth: a line longer than any audit record is returned cut to
// just over that limit, so that Push rejects it, and the rest is skipped.
type Lines struct {
	r    *bufio.Reader
	long []byte
}

// NewLines returns a line splitter over r.
func NewLines(r io.Reader) *Lines { return &Lines{r: bufio.NewReaderSize(r, 1<<20)} }

// Next returns the next line without its newline. The slice is valid until
// the next call. At the end it returns the last, unterminated line (if any)
// with io.EOF.
func (l *Lines) Next() ([]byte, error) {
	line, err := l.r.ReadSlice('\n')
	if err == nil {
		return line[:len(line)-1], nil
	}
	if err != bufio.ErrBufferFull {
		return line, err
	}
	l.long = append(l.long[:0], line...)
	for {
		line, err = l.r.ReadSlice('\n')
		if len(l.long) <= maxLine {
			l.long = append(l.long, line...)
		}
		if err != bufio.ErrBufferFull {
			if err == nil {
				err = nil
			}
			return bytes.TrimSuffix(l.long, []byte("\n")), err
		}
	}
}

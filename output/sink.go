package output

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// Sink receives encoded records, one JSON object per record.
//
// Write is called from one goroutine, in order, with a batch of records each
// ending in a newline. A non-nil error means the batch was not delivered and
// may be offered again. Close flushes what is buffered and releases the
// sink; no Write follows it. Reopen, where a sink has it, may be called from
// another goroutine (on SIGHUP).
type Sink interface {
	Write(records [][]byte) error
	Close() error
}

// Stream writes records to an io.Writer (stdout), flushing after each batch.
type Stream struct {
	w *bufio.Writer
}

// NewStream returns a sink writing to w.
func NewStream(w io.Writer) *Stream { return &Stream{w: bufio.NewWriterSize(w, 64<<10)} }

// Write writes the batch and flushes it.
func (s *Stream) Write(records [][]byte) error {
	for _, r := range records {
		if _, err := s.w.Write(r); err != nil {
			return fmt.Errorf("stdout: %w", err)
		}
	}
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("stdout: %w", err)
	}
	return nil
}

// Close flushes.
func (s *Stream) Close() error { return s.w.Flush() }

// File appends records to a file (mode 0640, its directory created 0750),
// writing each batch with one write(2) and no fsync: the kernel's page cache
// holds what was written until it flushes it (a crash of the machine, not of
// t1610d, can lose the last seconds). Reopen (on SIGHUP) closes and opens the
// path again, for logrotate's rename-then-signal.
type File struct {
	path string
	mu   sync.Mutex
	f    *os.File
	buf  []byte
}

// NewFile opens path for appending.
func NewFile(path string) (*File, error) {
	f := &File{path: path}
	if err := f.open(); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *File) open() error {
	if err := os.MkdirAll(filepath.Dir(f.path), 0o750); err != nil {
		return fmt.Errorf("file output %s: %w", f.path, err)
	}
	fh, err := os.OpenFile(f.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("file output %s: %w", f.path, err)
	}
	f.f = fh
	return nil
}

// Write appends the batch.
func (f *File) Write(records [][]byte) error {
	f.buf = f.buf[:0]
	for _, r := range records {
		f.buf = append(f.buf, r...)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.f.Write(f.buf); err != nil {
		return fmt.Errorf("file output %s: %w", f.path, err)
	}
	return nil
}

// Reopen closes the file and opens the path again.
func (f *File) Reopen() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	old := f.f
	if err := f.open(); err != nil {
		return err
	}
	return old.Close()
}

// Close closes the file.
func (f *File) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.f.Close()
}

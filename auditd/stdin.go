package auditd

import (
	"context"
	"io"
	"time"
)

// Stdin reads records from an audit daemon's plugin interface: auditd
// (plugins.d, format = string) writes one record a line to our standard
// input. At the end of the input it completes what is pending and returns.
type Stdin struct {
	R io.Reader
	// Flush is called from Run's goroutine at least every 200 ms while
	// records arrive, and before Run returns: the pipeline hands on the
	// execs completed so far.
	Flush func()
	// Malformed, when set, is called for each line that is not a record.
	Malformed func(*LineError)
}

// Run reads until the input ends or ctx is done. Events whose end never
// comes (auditd's plugin feed has no EOE) complete after the Assembler's
// Timeout by the wall clock.
func (s *Stdin) Run(ctx context.Context, asm *Assembler) error {
	if asm.Now == nil {
		asm.Now = time.Now
	}
	lines := make(chan []byte, 1024)
	errc := make(chan error, 1)
	go func() {
		defer close(lines)
		l := NewLines(s.R)
		for {
			line, err := l.Next()
			if len(line) > 0 {
				select {
				case lines <- append([]byte(nil), line...):
				case <-ctx.Done():
					return
				}
			}
			if err != nil {
				if err != io.EOF {
					errc <- err
				}
				return
			}
		}
	}()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	n := 0
	flush := func() {
		if s.Flush != nil {
			s.Flush()
		}
	}
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				asm.Flush()
				flush()
				select {
				case err := <-errc:
					return err
				default:
					return nil
				}
			}
			n++
			if err := asm.Push(line); err != nil && s.Malformed != nil {
				s.Malformed(&LineError{File: "stdin", Line: n, Err: err})
			}
		case <-tick.C:
			asm.Expire()
			flush()
		case <-ctx.Done():
			asm.Flush()
			flush()
			return nil
		}
	}
}

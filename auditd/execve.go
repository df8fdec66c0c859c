package auditd

import (
	"fmt"
	"strings"
)

// argvBuilder rebuilds the argument vector of one exec from its EXECVE
// records. The kernel writes argc=N in the first record only and splits a
// long command line over several records (near 7.5 KB each); an argument too
// long for one record is written as aN_len=L (L counts encoded characters)
// followed by chunks aN[0]=…, aN[1]=…, possibly spread over several records.
// Values are "quoted" or, when they hold special bytes, hex.
// maxArgs bounds the arguments of one exec: the kernel's 2 MiB ARG_MAX
// cannot hold more than about a million (one byte and its NUL each).
const maxArgs = 1 << 20

type argvBuilder struct {
	argc      int    // from argc=; -1 until seen
	records   int    // EXECVE records added
	buf       []byte // the arguments, back to back
	ends      []int  // ends[i]: end of argument i in buf
	chunkArg  int    // argument whose chunks are arriving; -1 for none
	nextChunk int    // index of the chunk expected next
	wantLen   int    // aN_len of chunkArg
	gotLen    int    // encoded characters of chunkArg seen so far
	warnings  []string
}

func (b *argvBuilder) reset() {
	b.argc = -1
	b.records = 0
	b.buf = b.buf[:0]
	b.ends = b.ends[:0]
	b.chunkArg = -1
	b.nextChunk = 0
	b.wantLen, b.gotLen = 0, 0
	b.warnings = nil
}

func (b *argvBuilder) warnf(format string, args ...any) {
	if len(b.warnings) < 16 {
		b.warnings = append(b.warnings, fmt.Sprintf(format, args...))
	}
}

// add takes the fields of one EXECVE record.
func (b *argvBuilder) add(body []byte) {
	b.records++
	for f := Fields(body); f.Next(); {
		k := f.Key
		if string(k) == "argc" {
			n, ok := parseUint(f.Raw)
			if !ok || n > maxArgs {
				b.warnf("EXECVE: bad argc=%.20s", f.Raw)
				continue
			}
			if b.argc >= 0 && int(n) != b.argc {
				b.warnf("EXECVE: argc=%d after argc=%d", n, b.argc)
			}
			b.argc = int(n)
			continue
		}
		if len(k) < 2 || k[0] != 'a' {
			continue
		}
		i := 1
		n := 0
		for ; i < len(k) && k[i] >= '0' && k[i] <= '9' && n < 1<<20; i++ {
			n = n*10 + int(k[i]-'0')
		}
		if i == 1 {
			continue
		}
		switch suffix := k[i:]; {
		case len(suffix) == 0:
			b.finishChunks()
			if !b.startArg(n) {
				continue
			}
			var ok bool
			b.buf, ok = Value(b.buf, f.Raw)
			if !ok {
				b.warnf("EXECVE: a%d: malformed value kept as written", n)
			}
			b.ends[n] = len(b.buf)
		case string(suffix) == "_len":
			b.finishChunks()
			l, ok := parseUint(f.Raw)
			if !ok {
				b.warnf("EXECVE: bad a%d_len=%.20s", n, f.Raw)
			}
			if !b.startArg(n) {
				continue
			}
			b.chunkArg, b.nextChunk, b.wantLen, b.gotLen = n, 0, int(l), 0
		case suffix[0] == '[':
			if len(suffix) < 3 || suffix[len(suffix)-1] != ']' {
				b.warnf("EXECVE: bad field name %.30s", k)
				continue
			}
			c, ok := parseUint(suffix[1 : len(suffix)-1])
			if !ok {
				b.warnf("EXECVE: bad field name %.30s", k)
				continue
			}
			if n != b.chunkArg {
				// Chunks without their aN_len: take them, say so.
				b.finishChunks()
				if !b.startArg(n) {
					continue
				}
				b.warnf("EXECVE: a%d[%d] without a%d_len", n, c, n)
				b.chunkArg, b.nextChunk, b.wantLen, b.gotLen = n, int(c), -1, 0
			}
			if int(c) != b.nextChunk {
				b.warnf("EXECVE: a%d[%d] where a%d[%d] was expected", n, c, n, b.nextChunk)
			}
			b.nextChunk = int(c) + 1
			b.gotLen += len(f.Raw)
			if len(f.Raw) >= 2 && f.Raw[0] == '"' {
				b.gotLen -= 2 // a quoted chunk counts its characters, not its quotes
			}
			var vok bool
			b.buf, vok = Value(b.buf, f.Raw)
			if !vok {
				b.warnf("EXECVE: a%d[%d]: malformed value kept as written", n, c)
			}
			b.ends[n] = len(b.buf)
		}
	}
}

// startArg makes argument n the next one, and reports whether its value
// should be taken. Arguments arrive in order; a repeated one is ignored and a
// skipped one is left empty, each with a warning.
func (b *argvBuilder) startArg(n int) bool {
	switch {
	case b.argc >= 0 && n >= b.argc && n > len(b.ends):
		// Arguments past argc are kept only as they come, never by filling
		// a gap: a damaged record must not make a million empty ones.
		b.warnf("EXECVE: a%d beyond argc=%d after a gap; ignored", n, b.argc)
		return false
	case n >= maxArgs:
		b.warnf("EXECVE: a%d beyond any command line; ignored", n)
		return false
	case n < len(b.ends):
		b.warnf("EXECVE: a%d repeated; first value kept", n)
		return false
	case n > len(b.ends):
		if n-len(b.ends) > 1<<16 {
			b.warnf("EXECVE: a%d far beyond a%d; ignored", n, len(b.ends))
			return false
		}
		b.warnf("EXECVE: a%d..a%d missing", len(b.ends), n-1)
		for len(b.ends) < n {
			b.ends = append(b.ends, len(b.buf))
		}
	}
	b.ends = append(b.ends, len(b.buf))
	return true
}

// finishChunks checks that a chunked argument arrived whole.
func (b *argvBuilder) finishChunks() {
	if b.chunkArg < 0 {
		return
	}
	if b.wantLen >= 0 && b.gotLen != b.wantLen {
		b.warnf("EXECVE: a%d: %d of a%d_len=%d characters arrived", b.chunkArg, b.gotLen, b.chunkArg, b.wantLen)
	}
	b.chunkArg = -1
}

// argv returns the rebuilt arguments (one string allocation for all of them)
// and the warnings about what was missing or damaged.
func (b *argvBuilder) argv() ([]string, []string) {
	b.finishChunks()
	if b.argc >= 0 && len(b.ends) != b.argc {
		if len(b.ends) < b.argc {
			b.warnf("EXECVE: argc=%d but %d arguments arrived", b.argc, len(b.ends))
		} else {
			b.warnf("EXECVE: argc=%d but %d arguments present", b.argc, len(b.ends))
		}
	}
	if b.argc < 0 && b.records > 0 {
		b.warnf("EXECVE: no argc (first EXECVE record missing)")
	}
	all := string(b.buf)
	out := make([]string, len(b.ends))
	start := 0
	for i, end := range b.ends {
		out[i] = all[start:end]
		start = end
	}
	return out, b.warnings
}

// proctitleArgv splits a decoded PROCTITLE value (arguments separated by
// NUL, cut by the kernel at 128 bytes) into arguments.
func proctitleArgv(p []byte) []string {
	s := strings.TrimRight(string(p), "\x00")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\x00")
}

package auditd

import (
	"bytes"
	"errors"

	"github.com/elastic/go-libaudit/v2/auparse"
)

// Record is one audit record: one line of audit.log, or one netlink message.
// Its byte slices point into the buffer it was parsed from and are valid only
// until that buffer is reused; the Assembler copies what it keeps.
type Record struct {
	Node     []byte // the node= prefix; nil when absent
	Type     auparse.AuditMessageType
	Sec      int64  // seconds of msg=audit(SEC.MSEC:SERIAL)
	Msec     uint32 // milliseconds
	Serial   uint64
	Body     []byte // the fields after "): ", up to the ENRICHED separator
	Enriched []byte // the ENRICHED tail after 0x1d (UID="root" AUID="alice"); nil for RAW logs
}

// enrichedSep separates the kernel's fields from the names auditd adds in
// its ENRICHED log format.
const enrichedSep = 0x1d

// Errors of ParseRecord. They name what is wrong with the line; the line is
// counted and skipped.
var (
	ErrNoType    = errors.New("no type= field")
	ErrBadType   = errors.New("unknown record type")
	ErrNoHeader  = errors.New("no msg=audit(SEC.MSEC:SERIAL) header")
	ErrBadHeader = errors.New("malformed msg=audit(SEC.MSEC:SERIAL) header")
)

// ParseRecord parses one line as auditd writes it,
//
//	[node=NODE ]type=NAME msg=audit(SEC.MSEC:SERIAL): FIELDS[\x1dENRICHED]
//
// into r, without allocating. NAME may be UNKNOWN[1234]. A trailing newline
// is ignored.
func ParseRecord(line []byte, r *Record) error {
	*r = Record{}
	for len(line) > 0 && (line[len(line)-1] == '\n' || line[len(line)-1] == '\r') {
		line = line[:len(line)-1]
	}
	if bytes.HasPrefix(line, []byte("node=")) {
		sp := bytes.IndexByte(line, ' ')
		if sp < 0 {
			return ErrNoType
		}
		r.Node = line[len("node="):sp]
		line = line[sp+1:]
	}
	if !bytes.HasPrefix(line, []byte("type=")) {
		return ErrNoType
	}
	line = line[len("type="):]
	sp := bytes.IndexByte(line, ' ')
	if sp < 0 {
		return ErrNoHeader
	}
	typ, ok := messageType(line[:sp])
	if !ok {
		return ErrBadType
	}
	r.Type = typ
	return parseHeader(line[sp+1:], r)
}

// ParseMessage parses the data of a netlink audit message, which has no
// type= (the type comes in the netlink header) but is otherwise a record:
// "audit(SEC.MSEC:SERIAL): FIELDS".
func ParseMessage(typ auparse.AuditMessageType, data []byte, r *Record) error {
	*r = Record{Type: typ}
	return parseHeader(data, r)
}

// parseHeader parses "msg=audit(SEC.MSEC:SERIAL): FIELDS" (or the same
// without "msg=") into r.
func parseHeader(b []byte, r *Record) error {
	b = bytes.TrimLeft(b, " ")
	b = bytes.TrimPrefix(b, []byte("msg="))
	if !bytes.HasPrefix(b, []byte("audit(")) {
		return ErrNoHeader
	}
	b = b[len("audit("):]
	i := 0
	var sec int64
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		sec = sec*10 + int64(b[i]-'0')
		if sec > 1<<40 {
			return ErrBadHeader
		}
	}
	if i == 0 || i >= len(b) || b[i] != '.' {
		return ErrBadHeader
	}
	i++
	start := i
	var msec uint32
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		msec = msec*10 + uint32(b[i]-'0')
	}
	if i == start || i-start > 3 || i >= len(b) || b[i] != ':' {
		return ErrBadHeader
	}
	i++
	start = i
	var serial uint64
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		d := uint64(b[i] - '0')
		if serial > (1<<64-1-d)/10 {
			return ErrBadHeader
		}
		serial = serial*10 + d
	}
	if i == start || i+1 >= len(b) || b[i] != ')' || b[i+1] != ':' {
		return ErrBadHeader
	}
	r.Sec, r.Msec, r.Serial = sec, msec, serial
	body := b[i+2:]
	if len(body) > 0 && body[0] == ' ' {
		body = body[1:]
	}
	if sep := bytes.IndexByte(body, enrichedSep); sep >= 0 {
		r.Enriched = body[sep+1:]
		body = body[:sep]
	}
	r.Body = body
	return nil
}

// messageType maps a record type name to its number. The names of an exec
// event are matched without a map lookup; the rest go through go-libaudit's
// table, which also understands UNKNOWN[1234].
func messageType(name []byte) (auparse.AuditMessageType, bool) {
	switch string(name) {
	case "SYSCALL":
		return auparse.AUDIT_SYSCALL, true
	case "EXECVE":
		return auparse.AUDIT_EXECVE, true
	case "PATH":
		return auparse.AUDIT_PATH, true
	case "CWD":
		return auparse.AUDIT_CWD, true
	case "PROCTITLE":
		return auparse.AUDIT_PROCTITLE, true
	case "BPRM_FCAPS":
		return auparse.AUDIT_BPRM_FCAPS, true
	case "EOE":
		return auparse.AUDIT_EOE, true
	}
	if len(name) == 0 || len(name) > 40 {
		return 0, false
	}
	t, err := auparse.GetAuditMessageType(string(name))
	return t, err == nil
}

// Fields iterates over the key=value fields of a record body. Values are
// returned as they stand, with their quotes: use Value to decode them.
//
//	for f := auditd.Fields(r.Body); f.Next(); { use f.Key, f.Raw }
type FieldIter struct {
	rest []byte
	Key  []byte
	Raw  []byte // the value as written: "quoted", 'quoted', HEX, (null), ?
}

// Fields returns an iterator over the fields of b.
func Fields(b []byte) FieldIter { return FieldIter{rest: b} }

// Next advances to the next field and reports whether there was one.
func (f *FieldIter) Next() bool {
	b := f.rest
	for {
		for len(b) > 0 && b[0] == ' ' {
			b = b[1:]
		}
		if len(b) == 0 {
			f.rest = nil
			return false
		}
		eq := -1
		for i := 0; i < len(b) && b[i] != ' '; i++ {
			if b[i] == '=' {
				eq = i
				break
			}
		}
		if eq < 0 {
			// A word without '=': skip it.
			sp := bytes.IndexByte(b, ' ')
			if sp < 0 {
				f.rest = nil
				return false
			}
			b = b[sp:]
			continue
		}
		f.Key = b[:eq]
		v := b[eq+1:]
		end := len(v)
		if len(v) > 0 && (v[0] == '"' || v[0] == '\'') {
			if q := bytes.IndexByte(v[1:], v[0]); q >= 0 {
				end = q + 2
			}
		} else if sp := indexSpace(v); sp >= 0 {
			end = sp
		}
		f.Raw = v[:end]
		f.rest = v[end:]
		return true
	}
}

// indexSpace is bytes.IndexByte(b, ' ') for the short values most fields
// have: a plain loop over the first bytes beats the vector search's setup.
func indexSpace(b []byte) int {
	n := len(b)
	if n > 24 {
		n = 24
	}
	for i := 0; i < n; i++ {
		if b[i] == ' ' {
			return i
		}
	}
	if n == len(b) {
		return -1
	}
	if i := bytes.IndexByte(b[n:], ' '); i >= 0 {
		return n + i
	}
	return -1
}

// Value decodes a field value of the kind the kernel writes for strings a
// user controls (comm, exe, cwd, key, argv): "quoted" as is, unquoted as hex.
// (null) and ? decode to nothing with ok true. ok is false when hex is
// malformed; then the raw bytes are appended unchanged.
func Value(dst, raw []byte) (out []byte, ok bool) {
	if len(raw) >= 2 && (raw[0] == '"' || raw[0] == '\'') && raw[len(raw)-1] == raw[0] {
		return append(dst, raw[1:len(raw)-1]...), true
	}
	if len(raw) > 0 && (raw[0] == '"' || raw[0] == '\'') {
		// An opening quote without its closing one: the line was cut.
		return append(dst, raw[1:]...), false
	}
	if isNull(raw) {
		return dst, true
	}
	return appendHex(dst, raw)
}

// isNull reports whether raw is one of the kernel's spellings of no value.
func isNull(raw []byte) bool {
	return string(raw) == "(null)" || string(raw) == "?" || string(raw) == "(none)"
}

// appendHex appends the bytes of a hex string. On malformed input (odd
// length, a non-hex digit) it appends raw unchanged and reports false.
func appendHex(dst, raw []byte) ([]byte, bool) {
	if len(raw)%2 != 0 {
		return append(dst, raw...), false
	}
	n := len(dst)
	for i := 0; i < len(raw); i += 2 {
		hi, ok1 := unhex(raw[i])
		lo, ok2 := unhex(raw[i+1])
		if !ok1 || !ok2 {
			return append(dst[:n], raw...), false
		}
		dst = append(dst, hi<<4|lo)
	}
	return dst, true
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// parseUint parses a decimal field value; ok is false for anything else
// (including the kernel's "unset" spellings, which callers handle).
func parseUint(raw []byte) (uint64, bool) {
	if len(raw) == 0 || len(raw) > 20 {
		return 0, false
	}
	var n uint64
	for _, c := range raw {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if n > (1<<64-1-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

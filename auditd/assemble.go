package auditd

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/elastic/go-libaudit/v2/auparse"
)

// Unset is the kernel's value for an id that was never set (auid, ses).
const Unset = 4294967295

// Exec is one program execution rebuilt from the records of one audit event.
type Exec struct {
	Time    time.Time // the event's own timestamp
	Node    string    // node= of its records; empty when absent
	Serial  uint64
	Success bool // the execve returned success
	Pid     uint32
	Ppid    uint32
	UID     uint32
	EUID    uint32
	AUID    uint32 // login uid; Unset when not set
	Ses     uint32 // session; Unset when not set
	// User, EUser and LoginUser name UID, EUID and AUID: the names auditd
	// wrote in an ENRICHED log, else the local user database's. LoginUser is
	// empty when AUID is Unset.
	User, EUser, LoginUser string
	TTY                    string // empty for (none)
	Comm, Exe, Cwd, Key    string
	Argv                   []string
	Warnings               []string // what was missing or damaged; the rest is still right
}

// Stats counts what an Assembler saw. Malformed lines are counted and skipped.
type Stats struct {
	Lines      uint64 // lines given to Push
	Records    uint64 // records accepted
	Malformed  uint64 // lines that were not records, skipped
	Events     uint64 // events completed
	Execs      uint64 // exec events emitted
	Gaps       uint64 // serials missing between those seen: events lost before they reached us
	Duplicates uint64 // a serial seen again after its event completed
	Evicted    uint64 // events completed early because too many were in flight
	Orphans    uint64 // EXECVE records whose event had no SYSCALL record
	Damaged    uint64 // exec events emitted with warnings
	Truncated  uint64 // records cut short (an unclosed quote, a SYSCALL without its last field); kept
}

// Defaults of the Assembler's limits.
const (
	DefaultWindow      = 32
	DefaultMaxInFlight = 1024
	DefaultTimeout     = 2 * time.Second
	maxLine            = 256 << 10
)

// Assembler groups records into events by (node, serial) and turns each exec
// event into an Exec. An event ends at its EOE record, at a record type that
// is always alone (user-space and daemon messages), when Window later events
// have started since its last record (auditd's files have no EOE), when it is
// older than Timeout, or at Flush. At most MaxInFlight events are held.
//
// An Assembler is not safe for concurrent use: one goroutine pushes, and emit
// is called synchronously from Push, Expire and Flush, in completion order.
type Assembler struct {
	// Window is how many later events may start before an event without EOE
	// is taken as complete.
	Window int
	// MaxInFlight bounds the events held at once; the oldest is completed
	// early when it is exceeded.
	MaxInFlight int
	// Timeout completes an event this long after its first record: by the
	// records' own timestamps, or by Now when it is set (live sources).
	Timeout time.Duration
	// Now, when set, gives the wall clock for Timeout (live sources).
	Now func() time.Time
	// Names resolves a uid to a name when the log has no ENRICHED names.
	Names func(uid uint32) string

	emit     func(*Exec)
	nodes    map[string]*nodeState
	inflight map[eventKey]*pending
	last     *pending // the event of the last record, if still in flight
	head     *pending // least recently active
	tail     *pending
	free     []*pending
	ticks    uint64
	pos      int64 // position of the line being pushed (PushAt)
	rec      Record
	stats    Stats
}

type eventKey struct {
	node   *nodeState
	serial uint64
}

// doneRing remembers the serials of recently completed events of a node, to
// tell a repeated serial from a new event.
const doneRing = 4096

type nodeState struct {
	name      string
	maxSerial uint64
	done      [doneRing]uint64
}

// pending is an event whose records are still arriving. For exec events it
// keeps the fields an Exec needs, copied out of the records.
type pending struct {
	key        eventKey
	prev, next *pending
	tick       uint64    // Assembler.ticks at its last record
	ms         int64     // event time, milliseconds since the epoch
	arrival    time.Time // wall time of its first record, when Now is set
	pos        int64     // the source's position of its first record (PushAt)

	records     int
	syscall     bool // has its SYSCALL record
	execSyscall bool // the syscall is execve or execveat
	success     bool
	execve      bool // has EXECVE records
	pid, ppid   uint32
	uid, euid   uint32
	auid, ses   uint32
	// strs holds the strings below back to back; each is a span of it.
	strs                                   []byte
	tty, comm, exe, akey, cwd              span
	uidName, euidName, auidName, proctitle span
	argv                                   argvBuilder
	warnings                               []string
}

type span struct{ start, end int32 }

func (p *pending) warnf(format string, args ...any) {
	if len(p.warnings) < 16 {
		p.warnings = append(p.warnings, fmt.Sprintf(format, args...))
	}
}

func (p *pending) keep(b []byte) span {
	s := span{int32(len(p.strs)), 0}
	p.strs = append(p.strs, b...)
	s.end = int32(len(p.strs))
	return s
}

func (p *pending) keepValue(raw []byte) span {
	s := span{int32(len(p.strs)), 0}
	p.strs, _ = Value(p.strs, raw)
	s.end = int32(len(p.strs))
	return s
}

// NewAssembler returns an Assembler that hands every completed exec event to
// emit. The Exec and its slices belong to emit.
func NewAssembler(emit func(*Exec)) *Assembler {
	return &Assembler{
		Window:      DefaultWindow,
		MaxInFlight: DefaultMaxInFlight,
		Timeout:     DefaultTimeout,
		emit:        emit,
		nodes:       make(map[string]*nodeState),
		inflight:    make(map[eventKey]*pending, 2*DefaultWindow),
	}
}

// Stats returns the counts so far.
func (a *Assembler) Stats() Stats { return a.stats }

// InFlight returns the number of events whose records are still arriving.
func (a *Assembler) InFlight() int { return len(a.inflight) }

// Push parses one line of an audit log and adds its record. A line that is not
// a record is counted as malformed and its error returned; nothing else is
// affected by it.
func (a *Assembler) Push(line []byte) error {
	a.stats.Lines++
	if len(line) > maxLine {
		a.stats.Malformed++
		return fmt.Errorf("line of %d bytes is longer than any audit record", len(line))
	}
	if err := ParseRecord(line, &a.rec); err != nil {
		a.stats.Malformed++
		return err
	}
	a.PushRecord(&a.rec)
	return nil
}

// PushAt is Push for a source that resumes from a position (a tail): pos
// is the source's position just before line, as it counts them (bytes of a
// stream). Safe then tells how far the source may checkpoint.
func (a *Assembler) PushAt(line []byte, pos int64) error {
	a.pos = pos
	return a.Push(line)
}

// Safe returns the position up to which every record has left the
// Assembler in a completed event: the first record's position of the oldest
// event in flight, or current (the position after the last line pushed)
// when none is. A source that resumes from Safe loses no event.
func (a *Assembler) Safe(current int64) int64 {
	safe := current
	for p := a.head; p != nil; p = p.next {
		if p.pos < safe {
			safe = p.pos
		}
	}
	return safe
}

// PushRecord adds one parsed record.
func (a *Assembler) PushRecord(r *Record) {
	a.stats.Records++
	if daemonMessage(r.Type) {
		// The audit daemon's own records (DAEMON_START, ...) count in its
		// own serial space, not the kernel's, and stand alone.
		a.stats.Events++
		return
	}
	ns := a.node(r.Node)
	key := eventKey{ns, r.Serial}
	ms := r.Sec*1000 + int64(r.Msec)
	// Records of one event mostly come together: try the last one first.
	p := a.last
	if p == nil || p.key != key {
		p = a.inflight[key]
	}
	if p == nil {
		p = a.start(key, ms)
	} else {
		a.touch(p)
	}
	a.last = p
	p.records++
	if bytes.Count(r.Body, []byte{'"'})%2 != 0 {
		// The kernel hex-encodes any value holding a quote, so an odd count
		// means the line was cut inside a value.
		a.stats.Truncated++
		p.warnf("%s record cut short", r.Type)
	}
	switch r.Type {
	case auparse.AUDIT_EOE:
		a.complete(p)
		return
	case auparse.AUDIT_SYSCALL:
		if p.syscall {
			// A second SYSCALL under one serial: a new event reusing it.
			a.stats.Duplicates++
			a.complete(p)
			p = a.start(key, ms)
			a.last = p
			p.records++
		}
		p.syscall = true
		a.syscall(p, r)
	case auparse.AUDIT_EXECVE:
		p.execve = true
		p.argv.add(r.Body)
	case auparse.AUDIT_CWD:
		for f := Fields(r.Body); f.Next(); {
			if string(f.Key) == "cwd" {
				p.cwd = p.keepValue(f.Raw)
			}
		}
	case auparse.AUDIT_PROCTITLE:
		if !p.execve && (p.execSyscall || !p.syscall) {
			for f := Fields(r.Body); f.Next(); {
				if string(f.Key) == "proctitle" {
					p.proctitle = p.keepValue(f.Raw)
				}
			}
		}
	default:
		if single(r.Type) {
			a.complete(p)
			return
		}
	}
	if a.Now == nil && a.head != nil && a.Timeout > 0 {
		for a.head != nil && a.head != p && ms-a.head.ms > a.Timeout.Milliseconds() {
			a.complete(a.head)
		}
	}
}

// single reports whether records of type t always stand alone: messages from
// user space and from the audit daemon carry no SYSCALL and no EOE.
func single(t auparse.AuditMessageType) bool {
	// The kernel's ranges: 1100-1199 user messages, 1200-1299 daemon
	// messages, 2100-2999 more user messages (linux/audit.h).
	return t == auparse.AUDIT_USER || (t >= 1100 && t <= auparse.AUDIT_LAST_USER_MSG) ||
		daemonMessage(t) || (t >= 2100 && t <= auparse.AUDIT_LAST_USER_MSG2)
}

// daemonMessage reports whether t is one of the audit daemon's own record
// types (1200-1299).
func daemonMessage(t auparse.AuditMessageType) bool {
	return t >= auparse.AUDIT_DAEMON_START && t <= 1299
}

func (a *Assembler) node(name []byte) *nodeState {
	if ns, ok := a.nodes[string(name)]; ok {
		return ns
	}
	ns := &nodeState{name: string(name)}
	a.nodes[ns.name] = ns
	return ns
}

// start begins a new event and completes those it makes old.
func (a *Assembler) start(key eventKey, ms int64) *pending {
	ns := key.node
	switch {
	case ns.maxSerial == 0 || key.serial > ns.maxSerial:
		if ns.maxSerial != 0 && key.serial > ns.maxSerial+1 {
			a.stats.Gaps += key.serial - ns.maxSerial - 1
		}
		ns.maxSerial = key.serial
	case ns.done[key.serial%doneRing] == key.serial:
		a.stats.Duplicates++
	case ns.maxSerial-key.serial < doneRing && a.stats.Gaps > 0:
		// A serial counted missing has arrived late (records interleaved).
		a.stats.Gaps--
	}
	a.ticks++
	var p *pending
	if n := len(a.free); n > 0 {
		p = a.free[n-1]
		a.free = a.free[:n-1]
	} else {
		p = &pending{}
		p.argv.reset()
	}
	p.key, p.ms, p.tick, p.pos = key, ms, a.ticks, a.pos
	if a.Now != nil {
		p.arrival = a.Now()
	}
	a.inflight[key] = p
	a.append(p)
	for a.head != nil && a.head != p && (a.head.tick+uint64(a.Window) < a.ticks || len(a.inflight) > a.MaxInFlight) {
		if len(a.inflight) > a.MaxInFlight {
			a.stats.Evicted++
		}
		a.complete(a.head)
	}
	return p
}

func (a *Assembler) append(p *pending) {
	p.prev, p.next = a.tail, nil
	if a.tail != nil {
		a.tail.next = p
	} else {
		a.head = p
	}
	a.tail = p
}

func (a *Assembler) unlink(p *pending) {
	if p.prev != nil {
		p.prev.next = p.next
	} else {
		a.head = p.next
	}
	if p.next != nil {
		p.next.prev = p.prev
	} else {
		a.tail = p.prev
	}
	p.prev, p.next = nil, nil
}

// touch marks p as active now.
func (a *Assembler) touch(p *pending) {
	p.tick = a.ticks
	if a.tail != p {
		a.unlink(p)
		a.append(p)
	}
}

// Expire completes the events older than Timeout by the wall clock (Now).
// Live sources call it periodically; replay needs it not.
func (a *Assembler) Expire() {
	if a.Now == nil {
		return
	}
	now := a.Now()
	for a.head != nil && now.Sub(a.head.arrival) >= a.Timeout {
		a.complete(a.head)
	}
}

// Flush completes every event in flight: at the end of the input.
func (a *Assembler) Flush() {
	for a.head != nil {
		a.complete(a.head)
	}
}

// complete ends p's event: emit it if it is an exec, and recycle p.
func (a *Assembler) complete(p *pending) {
	if a.last == p {
		a.last = nil
	}
	a.unlink(p)
	delete(a.inflight, p.key)
	a.stats.Events++
	p.key.node.done[p.key.serial%doneRing] = p.key.serial
	if p.execve || (p.execSyscall && p.success) {
		a.stats.Execs++
		e := a.exec(p)
		if len(e.Warnings) > 0 {
			a.stats.Damaged++
		}
		a.emit(e)
	}
	p.reset()
	a.free = append(a.free, p)
}

func (p *pending) reset() {
	argv := p.argv
	argv.reset()
	strs := p.strs[:0]
	if cap(strs) > 64<<10 {
		strs = nil
	}
	if cap(argv.buf) > 64<<10 {
		argv.buf = nil
	}
	if cap(argv.ends) > 4096 {
		argv.ends = nil
	}
	*p = pending{strs: strs, argv: argv}
}

// exec builds the Exec of a completed exec event.
func (a *Assembler) exec(p *pending) *Exec {
	strs := string(p.strs)
	str := func(s span) string { return strs[s.start:s.end] }
	e := &Exec{
		Time:    time.UnixMilli(p.ms).UTC(),
		Node:    p.key.node.name,
		Serial:  p.key.serial,
		Success: p.success,
		Pid:     p.pid, Ppid: p.ppid,
		UID: p.uid, EUID: p.euid, AUID: p.auid, Ses: p.ses,
		TTY:  str(p.tty),
		Comm: str(p.comm), Exe: str(p.exe), Cwd: str(p.cwd), Key: str(p.akey),
		User: str(p.uidName), EUser: str(p.euidName), LoginUser: str(p.auidName),
	}
	e.Warnings = p.warnings
	if !p.syscall {
		a.stats.Orphans++
		e.Warnings = append(e.Warnings, "no SYSCALL record: pid, users and exe unknown")
		e.AUID, e.Ses = Unset, Unset
	} else if a.Names != nil {
		if p.uidName.end == p.uidName.start {
			e.User = a.Names(e.UID)
		}
		if p.euidName.end == p.euidName.start {
			e.EUser = a.Names(e.EUID)
		}
		if p.auidName.end == p.auidName.start && e.AUID != Unset {
			e.LoginUser = a.Names(e.AUID)
		}
	}
	if e.AUID == Unset || e.LoginUser == "unset" {
		e.LoginUser = ""
	}
	if e.Key != "" {
		e.Key = strings.ReplaceAll(e.Key, "\x01", ",")
	}
	if p.execve {
		var w []string
		e.Argv, w = p.argv.argv()
		e.Warnings = append(e.Warnings, w...)
	} else {
		e.Argv = proctitleArgv([]byte(str(p.proctitle)))
		e.Warnings = append(e.Warnings, "no EXECVE record: argv from PROCTITLE, which the kernel cuts at 128 bytes")
	}
	return e
}

// syscall takes the fields of a SYSCALL record. For syscalls other than
// execve and execveat on a known architecture it stops early: those events
// are counted, not kept.
func (a *Assembler) syscall(p *pending, r *Record) {
	var arch []byte
	p.execSyscall = true
	hasKey := false
	f := Fields(r.Body)
	for f.Next() {
		v := f.Raw
		switch string(f.Key) {
		case "arch":
			arch = v
		case "syscall":
			if n, ok := parseUint(v); ok && !isExecSyscall(arch, n) {
				p.execSyscall = false
				return
			}
		case "success":
			p.success = string(v) == "yes"
			// exit, a0-a3 and items follow: numbers t1610d does not need.
			if i := bytes.Index(f.rest, []byte(" ppid=")); i >= 0 {
				f.rest = f.rest[i:]
			}
		case "pid":
			p.pid = uint32field(v)
		case "ppid":
			p.ppid = uint32field(v)
		case "uid":
			p.uid = uint32field(v)
		case "euid":
			p.euid = uint32field(v)
			// suid, fsuid, egid, sgid and fsgid follow: skip to tty.
			if i := bytes.Index(f.rest, []byte(" tty=")); i >= 0 {
				f.rest = f.rest[i:]
			}
		case "auid":
			p.auid = uint32field(v)
		case "ses":
			p.ses = uint32field(v)
		case "tty":
			if !isNull(v) {
				p.tty = p.keep(v)
			}
		case "comm":
			p.comm = p.keepValue(v)
		case "exe":
			p.exe = p.keepValue(v)
		case "key":
			p.akey = p.keepValue(v)
			hasKey = true
		}
	}
	if !hasKey {
		// key= is the kernel's last SYSCALL field: without it the line was cut.
		a.stats.Truncated++
		p.warnf("SYSCALL record cut short (no key= field)")
	}
	found := 0
	for f := Fields(r.Enriched); found < 3 && f.Next(); {
		switch string(f.Key) {
		case "UID":
			p.uidName = p.keepValue(f.Raw)
			found++
		case "EUID":
			p.euidName = p.keepValue(f.Raw)
			found++
		case "AUID":
			p.auidName = p.keepValue(f.Raw)
			found++
		}
	}
}

func uint32field(v []byte) uint32 {
	n, ok := parseUint(v)
	if !ok || n > Unset {
		return Unset
	}
	return uint32(n)
}

// isExecSyscall reports whether syscall number n is execve or execveat on the
// audit architecture arch (hex, as in arch=c000003e). Unknown architectures
// report true, so their events are kept.
func isExecSyscall(arch []byte, n uint64) bool {
	switch string(arch) {
	case "c000003e": // x86_64
		return n == 59 || n == 322
	case "40000003": // i386
		return n == 11 || n == 358
	case "c00000b7", "c00000f3": // aarch64, riscv64
		return n == 221 || n == 281
	case "40000028": // arm
		return n == 11 || n == 387
	case "c0000015", "80000015": // ppc64le, ppc64
		return n == 11 || n == 362
	case "80000016": // s390x
		return n == 11 || n == 354
	}
	return true
}

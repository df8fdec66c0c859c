//go:build linux

package auditd

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	libaudit "github.com/elastic/go-libaudit/v2"
	"github.com/elastic/go-libaudit/v2/auparse"
	"github.com/elastic/go-libaudit/v2/rule"
	"github.com/elastic/go-libaudit/v2/rule/flags"
	"github.com/rs/zerolog"
)

// The exec rules t1610d needs, in auditctl syntax: every execve and execveat,
// for 64-bit and 32-bit programs, keyed t1610d.
const (
	ExecRule64 = "-a always,exit -F arch=b64 -S execve,execveat -k t1610d"
	ExecRule32 = "-a always,exit -F arch=b32 -S execve,execveat -k t1610d"
)

// DefaultRules returns the rules Netlink installs when its Rules is empty.
func DefaultRules() []string { return []string{ExecRule64, ExecRule32} }

// Netlink modes.
const (
	ModeAuto      = "auto"
	ModeMulticast = "multicast"
	ModeUnicast   = "unicast"
)

// Defaults of Netlink's settings.
const (
	DefaultBacklog     = 8192
	DefaultRcvBuf      = 8 << 20
	DefaultStatusEvery = 5 * time.Second
)

const (
	recvTimeout   = 50 * time.Millisecond  // SO_RCVTIMEO: how often an idle loop looks up
	idleSleep     = 20 * time.Millisecond  // the pause when the socket is empty (8 MiB buffer: ~4 s of a busy host)
	flushEvery    = 100 * time.Millisecond // Expire and Flush at least this often
	logEvery      = 10 * time.Second       // rate limit of the repeated warnings
	drainFor      = 250 * time.Millisecond // at exit, how long to read what the kernel still holds
	firstDataType = 1100                   // message types below are control replies (linux/audit.h)
	recvBufSize   = 16 << 10               // above the kernel's 8970-byte audit message limit
)

// Netlink reads audit records straight from the kernel over an
// AF_NETLINK/NETLINK_AUDIT socket and pushes them into an Assembler.
//
// In unicast mode it is the audit daemon: it registers its pid with the
// kernel (only one process may), sets the backlog limit, and receives every
// record. In multicast mode it joins the kernel's read-only log group beside
// the audit daemon that owns the pid; that needs only CAP_AUDIT_READ, and
// auditd logs the same records. Mode auto takes multicast when a process owns
// the audit pid and unicast otherwise.
//
// Control requests (status, rules, enabled, backlog limit) go through a
// separate unicast socket, so that their replies never interleave with the
// event stream. They need CAP_AUDIT_CONTROL; in multicast mode without it
// Run still receives, but polls no status and installs no rules.
//
// A Netlink must not be copied once used, and runs one Run at a time.
// Stats and ModeInUse are safe to call from any goroutine.
type Netlink struct {
	// Mode is "auto" (the default when empty), "multicast" or "unicast".
	Mode string
	// InstallRules makes sure auditing is enabled and every rule of Rules
	// exists, unless the kernel's audit configuration is immutable (enabled
	// 2: logged, and Run goes on with the rules it finds). A rule the kernel
	// already has is not Run's own and is never removed; the rules Run added
	// are removed when it returns. While it runs, a rule of Rules that
	// disappears (an auditd restart that reloads its rules with -D) is added
	// again at the next status poll. Enabling is put back (to 0) on exit only
	// in unicast mode: in multicast mode the audit daemon owns that state, and
	// disabling auditing under it would silence it.
	InstallRules bool
	// Rules are auditctl rules ("-a always,exit -F arch=b64 -S execve -k
	// key"); empty means DefaultRules.
	Rules []string
	// Backlog is the kernel's backlog limit Run sets in unicast mode (and
	// puts back on exit); 0 means DefaultBacklog.
	Backlog uint32
	// RcvBuf is the event socket's receive buffer in bytes, set with
	// SO_RCVBUFFORCE, or SO_RCVBUF (capped by net.core.rmem_max) without
	// CAP_NET_ADMIN; 0 means DefaultRcvBuf.
	RcvBuf int
	// StatusEvery is how often Run polls the kernel's audit status (lost
	// counter, backlog); 0 means DefaultStatusEvery.
	StatusEvery time.Duration
	// Flush, when set, is called from Run's goroutine at least every 100ms
	// while records arrive, after the Assembler's Expire, and once more
	// before Run returns: the pipeline hands on the execs completed so far.
	Flush func()
	// Log receives Run's own messages; the zero Logger discards them.
	Log zerolog.Logger

	mode          atomic.Pointer[string]
	records       atomic.Uint64
	malformed     atomic.Uint64
	kernelLost    atomic.Uint32
	lostDelta     atomic.Uint64
	backlog       atomic.Uint32
	backlogLimit  atomic.Uint32
	recvErrors    atomic.Uint64
	overflows     atomic.Uint64
	statusErrors  atomic.Uint64
	rulesAdded    atomic.Uint32
	rcvBufApplied atomic.Int64
}

// NetlinkStats is what a Netlink has seen and what the kernel reported.
type NetlinkStats struct {
	Records       uint64 // audit records received and pushed into the Assembler
	Malformed     uint64 // messages that were not records, skipped
	KernelLost    uint32 // the kernel's lost counter at the last status poll (absolute, since boot or its last reset)
	LostDelta     uint64 // how much KernelLost grew while Run ran (resets of the counter taken into account)
	Backlog       uint32 // records waiting in the kernel's queue at the last poll
	BacklogLimit  uint32 // the kernel's backlog limit at the last poll
	ReceiveErrors uint64 // receives that failed, Overflows included
	Overflows     uint64 // ENOBUFS: the socket's receive buffer overflowed and records were lost
	StatusErrors  uint64 // status polls that failed
	Mode          string // the mode in use: "multicast" or "unicast"; empty until Run receives
	RulesAdded    int    // rules Run added (and will remove)
	RcvBuf        int    // the receive buffer the kernel granted, in bytes (as SO_RCVBUF reports it)
}

// Stats returns the counts so far. It is safe for concurrent use.
func (n *Netlink) Stats() NetlinkStats {
	return NetlinkStats{
		Records:       n.records.Load(),
		Malformed:     n.malformed.Load(),
		KernelLost:    n.kernelLost.Load(),
		LostDelta:     n.lostDelta.Load(),
		Backlog:       n.backlog.Load(),
		BacklogLimit:  n.backlogLimit.Load(),
		ReceiveErrors: n.recvErrors.Load(),
		Overflows:     n.overflows.Load(),
		StatusErrors:  n.statusErrors.Load(),
		Mode:          n.ModeInUse(),
		RulesAdded:    int(n.rulesAdded.Load()),
		RcvBuf:        int(n.rcvBufApplied.Load()),
	}
}

// ModeInUse returns "multicast" or "unicast" once Run is set up and
// receiving, and "" before that and after Run returns.
func (n *Netlink) ModeInUse() string {
	if p := n.mode.Load(); p != nil {
		return *p
	}
	return ""
}

// ownedRule is a rule of Rules in the kernel's wire format.
type ownedRule struct {
	text  string
	wire  rule.WireFormat
	key   string // its canonical text (rule.ToCommandLine), to find it among the kernel's
	added bool   // Run added it: removed on exit
}

// netlinkRun is the state of one Run.
type netlinkRun struct {
	n            *Netlink
	log          zerolog.Logger
	mode         string
	control      *libaudit.AuditClient
	events       *libaudit.AuditClient
	sock         *auditSocket
	rules        []*ownedRule
	watchRules   bool // re-add our rules when they disappear
	enabledByUs  bool // auditing was 0 and Run enabled it (restored in unicast)
	oldBacklog   uint32
	setBacklog   bool
	statusOK     bool   // the control socket may ask for status
	lastLost     uint32 // the kernel's lost counter at the last poll
	lostSeen     bool
	lastLostLog  time.Time
	lastNobufLog time.Time
	lastErrLog   time.Time
	lastStatLog  time.Time
}

// Run receives audit records until ctx is done, pushing each into asm
// (setting asm.Now to time.Now when it is nil: netlink events end at their
// EOE, Expire ends the rest). Then it removes the rules it added, puts back
// what it changed (see InstallRules), reads what the kernel still holds for
// a moment, calls asm.Flush and Flush, gives the audit pid back (unicast)
// and returns nil.
//
// An error means Run could not set up (it says what was not permitted,
// e.g. the capabilities it needs, or that another process owns the audit
// pid) or that the socket failed for good; setup errors come before any
// record, with the kernel's state left as it was, so a caller may fall back
// to tailing the log. Errors wrap the errno (errors.Is(err, os.ErrPermission)).
func (n *Netlink) Run(ctx context.Context, asm *Assembler) (err error) {
	r := &netlinkRun{n: n, log: n.Log}
	rules, err := n.parseRules()
	if err != nil {
		return err
	}
	r.rules = rules
	defer func() {
		n.mode.Store(nil)
		if cerr := r.close(); cerr != nil && err == nil {
			r.log.Warn().Err(cerr).Msg("netlink audit: cleanup")
		}
	}()
	if err := r.setup(); err != nil {
		r.undo()
		return err
	}
	if asm.Now == nil {
		asm.Now = time.Now
	}
	mode := r.mode
	n.mode.Store(&mode)
	r.log.Info().Str("mode", r.mode).Int("rcvbuf", int(n.rcvBufApplied.Load())).
		Int("rules_added", int(n.rulesAdded.Load())).Msg("netlink audit source receiving")

	var stop atomic.Bool
	defer context.AfterFunc(ctx, func() { stop.Store(true) })()
	err = r.loop(asm, &stop)
	r.undo()
	r.drain(asm)
	asm.Flush()
	if n.Flush != nil {
		n.Flush()
	}
	return err
}

func (n *Netlink) parseRules() ([]*ownedRule, error) {
	if !n.InstallRules {
		return nil, nil
	}
	texts := n.Rules
	if len(texts) == 0 {
		texts = DefaultRules()
	}
	out := make([]*ownedRule, 0, len(texts))
	for _, t := range texts {
		parsed, err := flags.Parse(t)
		if err != nil {
			return nil, fmt.Errorf("netlink audit rule %q: %w", t, err)
		}
		wire, err := rule.Build(parsed)
		if err != nil {
			return nil, fmt.Errorf("netlink audit rule %q: %w", t, err)
		}
		o := &ownedRule{text: t, wire: wire}
		o.key = canonicalRule(wire)
		out = append(out, o)
	}
	return out, nil
}

// canonicalRule is a rule's text as the kernel's copy of it decodes, so that
// a rule built here can be found among those the kernel lists.
func canonicalRule(wire []byte) string {
	s, err := rule.ToCommandLine(wire, false)
	if err != nil {
		return string(wire)
	}
	return s
}

// notPermitted explains an errno of a setup step in the words an operator
// needs.
func notPermitted(op string, err error, need string) error {
	switch {
	case errors.Is(err, syscall.EPERM), errors.Is(err, syscall.EACCES):
		return &permissionError{op: op, need: need, err: err}
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("%s: refused: the kernel serves audit only to the initial user and pid namespace: %w", op, err)
	case errors.Is(err, syscall.EPROTONOSUPPORT), errors.Is(err, syscall.EAFNOSUPPORT), errors.Is(err, syscall.EINVAL):
		return fmt.Errorf("%s: audit not supported by the kernel: %w", op, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// permissionError is a setup step the kernel refused for want of a
// capability. It unwraps to the errno (os.ErrPermission).
type permissionError struct {
	op, need string
	err      error
}

func (e *permissionError) Error() string {
	return fmt.Sprintf("%s: operation not permitted (needs %s)", e.op, e.need)
}

func (e *permissionError) Unwrap() error { return e.err }

const (
	needRead    = "CAP_AUDIT_READ for multicast, CAP_AUDIT_CONTROL for unicast"
	needControl = "CAP_AUDIT_CONTROL"
)

func (r *netlinkRun) setup() error {
	n := r.n
	mode := n.Mode
	if mode == "" {
		mode = ModeAuto
	}
	if mode != ModeAuto && mode != ModeMulticast && mode != ModeUnicast {
		return fmt.Errorf("netlink audit: unknown mode %q (want auto, multicast or unicast)", n.Mode)
	}
	control, err := libaudit.NewAuditClient(nil)
	if err != nil {
		return notPermitted("netlink audit socket", err, needRead)
	}
	r.control = control
	st, err := control.GetStatus()
	fellBack := false
	switch {
	case err == nil:
		r.statusOK = true
	case mode == ModeUnicast:
		return notPermitted("netlink audit status", err, needControl+" for unicast")
	default:
		// Without CAP_AUDIT_CONTROL only the multicast group is left.
		r.log.Warn().Err(err).Msg("netlink audit: cannot read the audit status (needs CAP_AUDIT_CONTROL): " +
			"multicast without status polling or rule installation")
		fellBack = mode == ModeAuto
		mode = ModeMulticast
		st = &libaudit.AuditStatus{}
	}
	if mode == ModeAuto {
		mode = ModeUnicast
		if st.PID != 0 {
			mode = ModeMulticast
		}
	}
	r.mode = mode
	if r.statusOK {
		r.storeStatus(st)
	}
	immutable := st.Enabled == 2
	if immutable {
		r.log.Warn().Msg("netlink audit: the kernel's audit configuration is immutable (enabled 2): " +
			"rules, enabled flag and backlog limit stay as they are")
	}

	groups := uint32(0)
	if mode == ModeMulticast {
		groups = libaudit.NetlinkGroupReadLog
	}
	rcvbuf := n.RcvBuf
	if rcvbuf <= 0 {
		rcvbuf = DefaultRcvBuf
	}
	sock, granted, err := newAuditSocket(groups, rcvbuf)
	if err != nil {
		if mode == ModeMulticast && !fellBack {
			return notPermitted("netlink audit socket (multicast)", err, "CAP_AUDIT_READ for multicast")
		}
		return notPermitted("netlink audit socket", err, needRead)
	}
	r.sock = sock
	r.events = &libaudit.AuditClient{Netlink: sock}
	n.rcvBufApplied.Store(int64(granted))
	if granted < rcvbuf {
		r.log.Warn().Int("wanted", rcvbuf).Int("granted", granted).
			Msg("netlink audit: smaller receive buffer than asked (no CAP_NET_ADMIN for SO_RCVBUFFORCE, and net.core.rmem_max)")
	}

	if mode == ModeUnicast {
		if err := r.events.SetPID(libaudit.WaitForReply); err != nil {
			// go-libaudit's Close would now send pid 0 for a pid that is
			// not ours (refused, but audited): close the socket alone.
			r.events = nil
			r.sock.Close()
			r.sock = nil
			if errors.Is(err, syscall.EEXIST) {
				owner := uint32(0)
				if s, serr := control.GetStatus(); serr == nil {
					owner = s.PID
				}
				return fmt.Errorf("netlink audit set pid: the audit pid is owned by process %d (an audit daemon; "+
					"use netlink_mode = multicast beside it): %w", owner, err)
			}
			return notPermitted("netlink audit set pid", err, needControl+" for unicast")
		}
		limit := n.Backlog
		if limit == 0 {
			limit = DefaultBacklog
		}
		if !immutable && st.BacklogLimit != limit {
			if err := control.SetBacklogLimit(limit, libaudit.WaitForReply); err != nil {
				return notPermitted("netlink audit set backlog limit", err, needControl)
			}
			r.oldBacklog, r.setBacklog = st.BacklogLimit, true
			n.backlogLimit.Store(limit)
		}
	}

	if len(r.rules) > 0 && !r.statusOK {
		r.log.Warn().Msg("netlink audit: not permitted to install rules (needs CAP_AUDIT_CONTROL): using the rules the kernel has")
	} else if len(r.rules) > 0 && !immutable {
		if err := r.installRules(); err != nil {
			return err
		}
		r.watchRules = true
		if st.Enabled == 0 {
			if err := control.SetEnabled(true, libaudit.WaitForReply); err != nil {
				return notPermitted("netlink audit enable", err, needControl)
			}
			r.enabledByUs = true
		}
	}
	return nil
}

// installRules adds each rule of r.rules the kernel does not have.
func (r *netlinkRun) installRules() error {
	for _, o := range r.rules {
		if o.added {
			continue
		}
		err := r.control.AddRule(o.wire)
		switch {
		case err == nil:
			o.added = true
			r.n.rulesAdded.Add(1)
			r.log.Info().Str("rule", o.text).Msg("netlink audit: rule added")
		case isRuleExists(err):
			r.log.Debug().Str("rule", o.text).Msg("netlink audit: rule exists already (not ours: left in place)")
		default:
			return notPermitted(fmt.Sprintf("netlink audit add rule %q", o.text), err, needControl)
		}
	}
	return nil
}

// isRuleExists tells the kernel's EEXIST reply to an added rule:
// go-libaudit's AddRule turns it into an unwrapped "rule exists" error.
func isRuleExists(err error) bool {
	return errors.Is(err, syscall.EEXIST) || err.Error() == "rule exists"
}

// checkRules adds again the rules of r.rules the kernel has lost (an
// auditd restart that loads its rules after -D).
func (r *netlinkRun) checkRules(now time.Time) {
	have, err := r.control.GetRules()
	if err != nil {
		return
	}
	present := make(map[string]bool, len(have))
	for _, w := range have {
		present[canonicalRule(w)] = true
	}
	for _, o := range r.rules {
		if present[o.key] {
			continue
		}
		if o.added {
			o.added = false
			r.n.rulesAdded.Add(^uint32(0))
		}
		err := r.control.AddRule(o.wire)
		switch {
		case err == nil:
			o.added = true
			r.n.rulesAdded.Add(1)
			r.log.Warn().Str("rule", o.text).Msg("netlink audit: rule gone from the kernel: added it again")
		case isRuleExists(err):
		default:
			if now.Sub(r.lastStatLog) >= logEvery {
				r.lastStatLog = now
				r.log.Warn().Err(err).Str("rule", o.text).Msg("netlink audit: adding a lost rule again")
			}
		}
	}
}

// undo removes the rules Run added and puts back the enabled flag and the
// backlog limit it changed (unicast). It runs once.
func (r *netlinkRun) undo() {
	if r.control == nil {
		return
	}
	removed := 0
	for _, o := range r.rules {
		if !o.added {
			continue
		}
		// go-libaudit's DeleteRule reads the ACK but not its errno: check
		// with a listing below.
		if err := r.control.DeleteRule(o.wire); err != nil {
			r.log.Warn().Err(err).Str("rule", o.text).Msg("netlink audit: removing a rule")
		}
		o.added = false
		removed++
	}
	if removed > 0 {
		if have, err := r.control.GetRules(); err == nil {
			keys := map[string]bool{}
			for _, w := range have {
				keys[canonicalRule(w)] = true
			}
			for _, o := range r.rules {
				if keys[o.key] {
					r.log.Warn().Str("rule", o.text).Msg("netlink audit: a rule added at start is still there after its removal")
				}
			}
		}
		r.n.rulesAdded.Store(0)
	}
	if r.enabledByUs && r.mode == ModeUnicast {
		if err := r.control.SetEnabled(false, libaudit.WaitForReply); err != nil {
			r.log.Warn().Err(err).Msg("netlink audit: disabling auditing again")
		}
	}
	r.enabledByUs = false
	if r.setBacklog {
		if err := r.control.SetBacklogLimit(r.oldBacklog, libaudit.WaitForReply); err != nil {
			r.log.Warn().Err(err).Msg("netlink audit: putting the backlog limit back")
		}
		r.setBacklog = false
	}
	r.watchRules = false
}

// close gives the audit pid back (go-libaudit's Close unsets it when SetPID
// was called) and closes both sockets.
func (r *netlinkRun) close() error {
	var errs []error
	if r.events != nil {
		if err := r.events.Close(); err != nil {
			errs = append(errs, fmt.Errorf("netlink audit close: %w", err))
		}
		r.events = nil
	}
	if r.control != nil {
		if err := r.control.Close(); err != nil {
			errs = append(errs, fmt.Errorf("netlink audit close control socket: %w", err))
		}
		r.control = nil
	}
	return errors.Join(errs...)
}

func (r *netlinkRun) storeStatus(st *libaudit.AuditStatus) {
	n := r.n
	if r.lostSeen {
		grew := st.Lost - r.lastLost
		if st.Lost < r.lastLost {
			grew = st.Lost // reset (auditctl --reset-lost) since the last poll
		}
		n.lostDelta.Add(uint64(grew))
	}
	r.lastLost, r.lostSeen = st.Lost, true
	n.kernelLost.Store(st.Lost)
	n.backlog.Store(st.Backlog)
	n.backlogLimit.Store(st.BacklogLimit)
}

// pollStatus reads the kernel's lost counter and backlog.
func (r *netlinkRun) pollStatus(now time.Time) {
	if !r.statusOK {
		return
	}
	prevLost := r.n.kernelLost.Load()
	st, err := r.control.GetStatus()
	if err != nil {
		r.n.statusErrors.Add(1)
		if now.Sub(r.lastStatLog) >= logEvery {
			r.lastStatLog = now
			r.log.Warn().Err(err).Msg("netlink audit: status poll")
		}
		return
	}
	r.storeStatus(st)
	if st.Lost != prevLost && now.Sub(r.lastLostLog) >= logEvery {
		r.lastLostLog = now
		r.log.Warn().Uint32("lost", st.Lost).Uint64("lost_since_start", r.n.lostDelta.Load()).
			Uint32("backlog", st.Backlog).Uint32("backlog_limit", st.BacklogLimit).
			Msg("netlink audit: the kernel lost audit records")
	}
	if r.watchRules {
		r.checkRules(now)
	}
}

func (r *netlinkRun) loop(asm *Assembler, stop *atomic.Bool) error {
	n := r.n
	every := n.StatusEvery
	if every <= 0 {
		every = DefaultStatusEvery
	}
	now := time.Now()
	lastFlush, lastStatus := now, now
	var rec Record
	var msgs []syscall.NetlinkMessage
	for !stop.Load() {
		// Drain what the socket holds without blocking, many datagrams a
		// call, then sleep a little: a blocking receive would wake the thread
		// for every record, and at a busy host's exec rate the wake-ups and
		// system calls cost more than the records.
		var err error
		msgs, err = r.sock.receiveBatch(msgs[:0])
		now = time.Now()
		switch {
		case err == nil:
			for _, msg := range msgs {
				r.push(asm, msg, &rec)
			}
		case errors.Is(err, syscall.EAGAIN):
			time.Sleep(idleSleep)
			now = time.Now()
		default:
			if ferr := r.recvError(err, now); ferr != nil {
				return ferr
			}
		}
		if now.Sub(lastFlush) >= flushEvery {
			lastFlush = now
			asm.Expire()
			if n.Flush != nil {
				n.Flush()
			}
			if now.Sub(lastStatus) >= every {
				lastStatus = now
				r.pollStatus(now)
			}
		}
	}
	return nil
}

// recvError counts a failed receive; it returns an error only when the
// socket cannot go on.
func (r *netlinkRun) recvError(err error, now time.Time) error {
	switch {
	case errors.Is(err, syscall.EAGAIN), errors.Is(err, syscall.EINTR):
		return nil // the receive timeout: time to look up
	case errors.Is(err, syscall.ENOBUFS):
		r.n.recvErrors.Add(1)
		r.n.overflows.Add(1)
		if now.Sub(r.lastNobufLog) >= logEvery {
			r.lastNobufLog = now
			r.log.Warn().Uint64("overflows", r.n.overflows.Load()).
				Msg("netlink audit: receive buffer overflowed (ENOBUFS): records lost")
		}
		return nil
	case errors.Is(err, syscall.EBADF), errors.Is(err, syscall.ENOTSOCK):
		return fmt.Errorf("netlink audit receive: %w", err)
	}
	r.n.recvErrors.Add(1)
	if now.Sub(r.lastErrLog) >= logEvery {
		r.lastErrLog = now
		r.log.Warn().Err(err).Msg("netlink audit: receive")
	}
	return nil
}

// push hands one message to asm: records are parsed and pushed, control
// replies skipped.
func (r *netlinkRun) push(asm *Assembler, msg syscall.NetlinkMessage, rec *Record) {
	if msg.Header.Type < firstDataType {
		return
	}
	data := msg.Data
	for len(data) > 0 && (data[len(data)-1] == 0 || data[len(data)-1] == '\n') {
		data = data[:len(data)-1]
	}
	if err := ParseMessage(auparse.AuditMessageType(msg.Header.Type), data, rec); err != nil {
		r.n.malformed.Add(1)
		return
	}
	r.n.records.Add(1)
	asm.PushRecord(rec)
}

// drain reads what the socket still holds, for a moment: after the rules
// are gone, the events in flight are completed rather than dropped.
func (r *netlinkRun) drain(asm *Assembler) {
	if r.sock == nil {
		return
	}
	var rec Record
	deadline := time.Now().Add(drainFor)
	for time.Now().Before(deadline) {
		msg, err := r.sock.receive(true)
		if err != nil {
			if errors.Is(err, syscall.EINTR) || errors.Is(err, syscall.ENOBUFS) {
				continue
			}
			return
		}
		r.push(asm, msg, &rec)
	}
}

// auditSocket is an AF_NETLINK/NETLINK_AUDIT socket with a large receive
// buffer and a receive timeout. It implements go-libaudit's
// NetlinkSendReceiver, so that an AuditClient can drive it (SetPID, Close).
type auditSocket struct {
	fd  int
	pid uint32 // the port id the kernel gave it
	seq atomic.Uint32
	buf []byte

	// For receiveBatch: one buffer, iovec and sender address per datagram.
	mm   []mmsghdr
	iov  []syscall.Iovec
	bufs [][]byte
	from []syscall.RawSockaddrNetlink
}

// mmsghdr is the kernel's struct mmsghdr: a msghdr and the length received
// (Go pads it as C does, on 32- and 64-bit).
type mmsghdr struct {
	hdr syscall.Msghdr
	n   uint32
}

// batchMessages is how many datagrams one recvmmsg(2) takes.
const batchMessages = 64

// receiveBatch receives, without blocking, up to batchMessages datagrams
// in one recvmmsg(2) and appends the kernel's messages among them to out.
// It returns EAGAIN when none is waiting. The messages' data is valid until
// the next call.
func (s *auditSocket) receiveBatch(out []syscall.NetlinkMessage) ([]syscall.NetlinkMessage, error) {
	if s.mm == nil {
		s.mm = make([]mmsghdr, batchMessages)
		s.iov = make([]syscall.Iovec, batchMessages)
		s.bufs = make([][]byte, batchMessages)
		s.from = make([]syscall.RawSockaddrNetlink, batchMessages)
		for i := range s.mm {
			s.bufs[i] = make([]byte, recvBufSize)
			s.iov[i].Base = &s.bufs[i][0]
			s.iov[i].SetLen(recvBufSize)
			s.mm[i].hdr.Iov = &s.iov[i]
			s.mm[i].hdr.Iovlen = 1
			s.mm[i].hdr.Name = (*byte)(unsafe.Pointer(&s.from[i]))
		}
	}
	for i := range s.mm {
		s.mm[i].hdr.Namelen = syscall.SizeofSockaddrNetlink
		s.mm[i].n = 0
	}
	n, _, errno := syscall.Syscall6(syscall.SYS_RECVMMSG, uintptr(s.fd), uintptr(unsafe.Pointer(&s.mm[0])),
		batchMessages, syscall.MSG_DONTWAIT, 0, 0)
	if errno != 0 {
		return out, errno
	}
	for i := 0; i < int(n); i++ {
		b := s.bufs[i][:s.mm[i].n]
		if s.from[i].Pid != 0 || len(b) < syscall.NLMSG_HDRLEN {
			continue // not from the kernel, or not a netlink message
		}
		out = append(out, syscall.NetlinkMessage{
			Header: *(*syscall.NlMsghdr)(unsafe.Pointer(&b[0])),
			Data:   b[syscall.NLMSG_HDRLEN:],
		})
	}
	return out, nil
}

var _ libaudit.NetlinkSendReceiver = (*auditSocket)(nil)

// newAuditSocket opens and binds the socket: groups 0 for unicast,
// NetlinkGroupReadLog for multicast. It returns the receive buffer the
// kernel granted.
func newAuditSocket(groups uint32, rcvbuf int) (*auditSocket, int, error) {
	fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_RAW|syscall.SOCK_CLOEXEC, syscall.NETLINK_AUDIT)
	if err != nil {
		return nil, 0, err
	}
	fail := func(op string, err error) (*auditSocket, int, error) {
		syscall.Close(fd)
		return nil, 0, fmt.Errorf("%s: %w", op, err)
	}
	// Before bind, so that no burst at start finds a small buffer.
	if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, rcvbuf); err != nil {
		if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvbuf); err != nil {
			return fail("set receive buffer", err)
		}
	}
	granted, err := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_RCVBUF)
	if err != nil {
		return fail("get receive buffer", err)
	}
	tv := syscall.NsecToTimeval(recvTimeout.Nanoseconds())
	if err := syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv); err != nil {
		return fail("set receive timeout", err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK, Groups: groups}); err != nil {
		return fail("bind", err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		return fail("getsockname", err)
	}
	nl, ok := sa.(*syscall.SockaddrNetlink)
	if !ok {
		return fail("getsockname", errors.New("not a netlink address"))
	}
	// The kernel reports twice what was asked (its bookkeeping overhead).
	return &auditSocket{fd: fd, pid: nl.Pid, buf: make([]byte, recvBufSize)}, granted / 2, nil
}

// Send sends msg to the kernel and returns its sequence number.
func (s *auditSocket) Send(msg syscall.NetlinkMessage) (uint32, error) { return s.send(msg, 0) }

// SendNoWait is Send that fails with EAGAIN rather than block.
func (s *auditSocket) SendNoWait(msg syscall.NetlinkMessage) (uint32, error) {
	return s.send(msg, syscall.MSG_DONTWAIT)
}

func (s *auditSocket) send(msg syscall.NetlinkMessage, flags int) (uint32, error) {
	if msg.Header.Pid == 0 {
		msg.Header.Pid = s.pid
	}
	msg.Header.Seq = s.seq.Add(1)
	msg.Header.Len = uint32(syscall.NLMSG_HDRLEN + len(msg.Data))
	b := make([]byte, msg.Header.Len)
	*(*syscall.NlMsghdr)(unsafe.Pointer(&b[0])) = msg.Header
	copy(b[syscall.NLMSG_HDRLEN:], msg.Data)
	return msg.Header.Seq, syscall.Sendto(s.fd, b, flags, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK})
}

// Receive reads one datagram and parses it with p. Without nonBlocking it
// waits at most the receive timeout, then fails with EAGAIN.
func (s *auditSocket) Receive(nonBlocking bool, p libaudit.NetlinkParser) ([]syscall.NetlinkMessage, error) {
	b, err := s.read(nonBlocking)
	if err != nil {
		return nil, err
	}
	msgs, err := p(b)
	if err != nil {
		return nil, fmt.Errorf("parse netlink message (%d bytes): %w", len(b), err)
	}
	return msgs, nil
}

// receive reads one audit message without allocating for it. Its Data is
// the socket's buffer, valid until the next read. An audit message is one
// datagram whose header length the kernel does not always set right, so
// the datagram's size is used.
func (s *auditSocket) receive(nonBlocking bool) (syscall.NetlinkMessage, error) {
	b, err := s.read(nonBlocking)
	if err != nil {
		return syscall.NetlinkMessage{}, err
	}
	return syscall.NetlinkMessage{
		Header: *(*syscall.NlMsghdr)(unsafe.Pointer(&b[0])),
		Data:   b[syscall.NLMSG_HDRLEN:],
	}, nil
}

func (s *auditSocket) read(nonBlocking bool) ([]byte, error) {
	flags := 0
	if nonBlocking {
		flags = syscall.MSG_DONTWAIT
	}
	nr, from, err := syscall.Recvfrom(s.fd, s.buf, flags)
	if err != nil {
		return nil, err
	}
	if nr < syscall.NLMSG_HDRLEN {
		return nil, fmt.Errorf("netlink message of %d bytes is shorter than its header", nr)
	}
	if nl, ok := from.(*syscall.SockaddrNetlink); !ok || nl.Pid != 0 {
		return nil, errors.New("netlink message not from the kernel")
	}
	return s.buf[:nr], nil
}

// Close closes the socket.
func (s *auditSocket) Close() error {
	if err := syscall.Close(s.fd); err != nil {
		return fmt.Errorf("close netlink socket: %w", err)
	}
	return nil
}

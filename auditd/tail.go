package auditd

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/rs/zerolog"
)

// CheckpointFile is the name of the Tail's checkpoint in its StateDir.
const CheckpointFile = "tail.checkpoint"

// Defaults of the Tail's periods.
const (
	DefaultTailInterval = time.Second
	DefaultTailPoll     = 250 * time.Millisecond
)

const (
	tailFlushEvery  = 100 * time.Millisecond // Flush cadence while lines arrive
	tailExpireEvery = 200 * time.Millisecond // Assembler.Expire cadence
	tailSafetyEvery = time.Second            // a look at the files even without an inotify event
	tailHoldIdle    = 250 * time.Millisecond // held lines go to the Assembler after this long without data
	tailHoldWindow  = 8                      // ... or once this many later events have started
	tailChunk       = 256 << 10              // bytes read at a time
	tailErrLogEvery = 30 * time.Second       // rate limit of repeated warnings
	fingerprintMax  = 1024                   // bytes of a file's start its fingerprint covers
	checkpointVer   = 1
)

// Tail follows an audit log by name, as auditd writes and rotates it, and
// pushes its lines into an Assembler.
//
// Positions. Every line is pushed with Assembler.PushAt at its position: a
// byte count that grows monotonically over the whole stream, across
// rotations and truncations and across restarts (a resumed Tail continues
// from the position its checkpoint recorded). A position maps to one file
// (device, inode) and a byte offset in it.
//
// Start. Without a checkpoint in StateDir (or with a corrupt one, which is
// logged) Run begins at the end of the current log, like tail -F. With one
// it resumes exactly at the checkpointed offset: in the current file if it
// is still the checkpointed one (device, inode and a fingerprint of its
// first bytes); if the file was rotated meanwhile, the rest of it is read
// first from audit.log.N, then every newer rotated file, then the current
// log from its start; if it is gone, a warning says that events may have
// been lost and reading starts at the beginning of the oldest file newer
// than it (by mtime) still present, else of the current log.
//
// Following. Run watches the directory with inotify (fsnotify) and looks at
// the files at least every second anyway; when inotify is unavailable or its
// queue overflows it logs that once and polls every Poll. A new file at Path
// (auditd's rename rotation, or the log deleted and created anew) is taken
// up after the old one has been read to its end through the descriptor
// still open. A file that shrinks below the offset read (copytruncate) is
// read again from its start. The Assembler's state carries across every
// switch: an event split over two files is one event. A last line without
// its newline waits for it.
//
// Exactly once. auditd writes an event record by record, so a reader can
// find half an event at the end of the log. Run therefore holds back the
// lines at the end of the stream until their event looks written out: its
// PROCTITLE record (the kernel's last record of a syscall event) has come,
// 8 later events have started, or the log has been idle for 250ms. When
// Run stops, held lines are not pushed and the final position is taken
// before them, so an event being written at that moment is read whole after
// the restart instead of being emitted in two halves. With the pipeline's
// final Checkpoint a graceful restart is exactly once; after a crash the
// last checkpoint (at most Interval old) makes it at least once.
//
// Checkpoints. Run writes the checkpoint when it starts, every Interval at
// Acked(), and once more before it returns; Checkpoint writes it on demand.
// A Tail runs once; start a new one (on the same StateDir) to resume.
type Tail struct {
	Path     string        // e.g. /var/log/audit/audit.log
	StateDir string        // where the checkpoint file lives; created 0750 if missing; Run fails at start, naming it, if it cannot be written
	Interval time.Duration // checkpoint cadence (default 1s)
	Poll     time.Duration // polling period when inotify is unavailable or overflowed (default 250ms)
	// Flush is called from Run's goroutine at least every 100ms while lines
	// arrive (and while completed events wait to be handed on), and once
	// before Run returns, with safe = asm.Safe(position): every event with a
	// record before safe has been emitted by then. The pipeline hands on the
	// execs emitted so far, tagged with safe. Nil: nothing is called.
	Flush func(safe int64)
	// Acked returns the highest position the pipeline has fully written:
	// the safe of the last batch it wrote (positions of this Tail; a value
	// below where Run started means nothing yet). The periodic checkpoint is
	// taken there. Nil: the checkpoint follows the last safe given to Flush
	// (at-most-once for what is in flight in the pipeline).
	Acked func() int64
	Log   zerolog.Logger

	noInotify bool          // tests: behave as if inotify were unavailable
	holdIdle  time.Duration // tests: tailHoldIdle when 0

	ran     atomic.Bool
	current atomic.Int64 // position up to which lines were handed over or held
	stats   tailCounters

	mu      sync.Mutex
	segs    []*segment // the files read, oldest first; guarded by mu
	lastPos int64      // position of the last checkpoint written; guarded by mu
	written bool       // a checkpoint was written; guarded by mu
}

// TailStats counts what a Tail did.
type TailStats struct {
	Lines            uint64 // lines read (lines held back at a stop are read again by the next Run)
	Bytes            uint64 // bytes read
	Rotations        uint64 // a new file taken up at Path (rename rotation, or deleted and recreated)
	Truncations      uint64 // a file found shorter than the offset read (copytruncate), read again from 0
	ReopenErrors     uint64 // failures to stat, open or read the log
	PollingFallbacks uint64 // switches to polling: inotify unavailable or overflowed
	Checkpoints      uint64 // checkpoints written
	CheckpointErrors uint64 // checkpoints that could not be written
}

type tailCounters struct {
	lines, bytes, rotations, truncations, reopenErrors, fallbacks, checkpoints, checkpointErrors atomic.Uint64
}

// Stats returns the counts so far. It is safe for concurrent use.
func (t *Tail) Stats() TailStats {
	s := &t.stats
	return TailStats{
		Lines: s.lines.Load(), Bytes: s.bytes.Load(), Rotations: s.rotations.Load(),
		Truncations: s.truncations.Load(), ReopenErrors: s.reopenErrors.Load(),
		PollingFallbacks: s.fallbacks.Load(), Checkpoints: s.checkpoints.Load(),
		CheckpointErrors: s.checkpointErrors.Load(),
	}
}

// segment is one stretch of one file in the stream: the file's byte 0 sits
// at position base, and reading began at offset start.
type segment struct {
	base, start int64
	dev, ino    uint64
	name        string
	f           *os.File // while open and holding this segment's content; guarded by Tail.mu
	fp          [sha256.Size]byte
	fpLen       int
	mtime       time.Time
}

// checkpoint is the JSON content of CheckpointFile.
type checkpoint struct {
	Version        int       `json:"version"`
	Path           string    `json:"path"`        // Tail.Path it was written for
	File           string    `json:"file"`        // the file's name when it was opened (informational)
	Dev            uint64    `json:"dev"`         // st_dev of the file
	Inode          uint64    `json:"inode"`       // st_ino of the file
	Offset         int64     `json:"offset"`      // resume here: a line boundary
	Fingerprint    string    `json:"fingerprint"` // hex SHA-256 of the file's first FingerprintLen bytes
	FingerprintLen int       `json:"fingerprint_len"`
	Mtime          time.Time `json:"mtime"`   // the file's mtime when written: files newer than it are newer
	Pos            int64     `json:"pos"`     // the stream position of Offset, continued by the next Run
	Written        time.Time `json:"written"` // when the checkpoint was written
}

// source is an open file in the read queue.
type source struct {
	f         *os.File
	name      string
	dev, ino  uint64
	off       int64 // next offset to read
	follow    bool  // opened by Path and still found there: may grow
	skipFirst bool  // begin by discarding up to the first newline
	seg       *segment
}

type heldLine struct {
	pos        int64
	start, end int
	ev         *heldEvent
}

type heldEvent struct {
	key    string
	closed bool   // its PROCTITLE record was seen
	last   uint64 // tailRun.evSeq when its last line arrived
	lines  int    // its lines still held
}

// tailRun is the state of one Run, owned by Run's goroutine.
type tailRun struct {
	t        *Tail
	asm      *Assembler
	dir      string
	base     string // file name of Path
	interval time.Duration
	poll     time.Duration
	holdIdle time.Duration

	queue    []*source
	nextBase int64 // position of byte 0 of the next file taken up

	buf      []byte // bytes of the active source not yet split into lines
	lineOff  int64  // offset of buf[0] in the active source
	skipping bool   // discarding the rest of an overlong (or partial first) line

	held    []heldLine
	heldBuf []byte
	heldAt  int // first held line not yet pushed
	events  map[string]*heldEvent
	evSeq   uint64
	keyBuf  []byte

	watcher  *fsnotify.Watcher
	polling  bool
	pollTick *time.Ticker // while polling
	now      time.Time
	lastData time.Time
	lastExp  time.Time
	lastFl   time.Time
	lastCk   time.Time
	lastLook time.Time
	lastErr  time.Time

	flushedSafe  int64
	flushedExecs uint64
}

// Run follows the log until ctx is done, pushing its lines into asm (whose
// Now it sets to time.Now if nil). Then it completes what asm holds
// (asm.Flush), calls Flush with the final position, writes a checkpoint at
// Acked() and returns nil. Errors are returned only at start: no Path, a
// StateDir that cannot be created or written, an unreadable checkpoint file,
// the log's directory missing or the log unreadable.
func (t *Tail) Run(ctx context.Context, asm *Assembler) error {
	if t.Path == "" {
		return errors.New("tail: no log path")
	}
	if t.StateDir == "" {
		return fmt.Errorf("tail %s: no state dir", t.Path)
	}
	if !t.ran.CompareAndSwap(false, true) {
		return fmt.Errorf("tail %s: already run (a Tail runs once)", t.Path)
	}
	if err := t.prepareStateDir(); err != nil {
		return err
	}
	r := &tailRun{
		t: t, asm: asm, dir: filepath.Dir(t.Path), base: filepath.Base(t.Path),
		interval: t.Interval, poll: t.Poll, holdIdle: t.holdIdle, events: make(map[string]*heldEvent),
	}
	if r.holdIdle <= 0 {
		r.holdIdle = tailHoldIdle
	}
	if r.interval <= 0 {
		r.interval = DefaultTailInterval
	}
	if r.poll <= 0 {
		r.poll = DefaultTailPoll
	}
	if st, err := os.Stat(r.dir); err != nil {
		return fmt.Errorf("tail %s: %w", t.Path, err)
	} else if !st.IsDir() {
		return fmt.Errorf("tail %s: %s is not a directory", t.Path, r.dir)
	}
	if asm.Now == nil {
		asm.Now = time.Now
	}
	if err := r.start(); err != nil {
		r.closeAll()
		return err
	}
	if len(r.queue) > 0 {
		r.activate(r.queue[0]) // so that the first checkpoint records where Run starts
	}
	r.now = time.Now()
	r.lastExp, r.lastFl, r.lastCk, r.lastLook, r.lastData = r.now, r.now, r.now, r.now, r.now
	r.flushedSafe = r.current()
	r.checkpoint(true)
	r.watch()
	defer r.closeAll()

	period := tailFlushEvery
	tick := time.NewTicker(period)
	defer tick.Stop()
	r.step(ctx)
	for {
		var events chan fsnotify.Event
		var errs chan error
		var poll <-chan time.Time
		if r.watcher != nil {
			events, errs = r.watcher.Events, r.watcher.Errors
		}
		if r.pollTick != nil {
			poll = r.pollTick.C
		}
		select {
		case <-ctx.Done():
			return r.stop()
		case ev, ok := <-events:
			if !ok {
				r.fallback("inotify watcher closed")
				continue
			}
			relevant := r.relevant(ev)
			for i := 0; i < 4096; i++ { // take what else is queued: one look serves all
				select {
				case ev, ok = <-events:
					if ok && r.relevant(ev) {
						relevant = true
					}
				default:
					i = 4096
				}
			}
			if relevant {
				r.step(ctx)
			}
		case err, ok := <-errs:
			if !ok {
				r.fallback("inotify watcher closed")
				continue
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				r.fallback("inotify queue overflowed")
				r.step(ctx)
				continue
			}
			r.warnRate(err, "inotify error")
			r.step(ctx)
		case <-poll:
			r.step(ctx)
		case now := <-tick.C:
			r.now = now
			if !r.polling && now.Sub(r.lastLook) >= tailSafetyEvery {
				r.step(ctx)
			}
			r.duties()
		}
	}
}

// prepareStateDir creates StateDir if needed and checks that a file can be
// written in it.
func (t *Tail) prepareStateDir() error {
	if err := os.MkdirAll(t.StateDir, 0o750); err != nil {
		return fmt.Errorf("tail: create state dir %s: %w", t.StateDir, err)
	}
	f, err := os.CreateTemp(t.StateDir, ".probe-*")
	if err != nil {
		return fmt.Errorf("tail: state dir %s is not writable: %w", t.StateDir, err)
	}
	name := f.Name()
	f.Close()
	if err := os.Remove(name); err != nil {
		return fmt.Errorf("tail: state dir %s: %w", t.StateDir, err)
	}
	return nil
}

// --- start -----------------------------------------------------------------

// start decides where reading begins and opens the files to read.
func (r *tailRun) start() error {
	t := r.t
	ck, err := t.readCheckpoint()
	if err != nil {
		return err
	}
	if ck == nil {
		return r.startAtEnd()
	}
	var rot []*source
	var cur *source
	for attempt := 0; ; attempt++ {
		var ok bool
		rot, cur, ok, err = r.scan()
		if err != nil {
			return err
		}
		if ok || attempt == 4 {
			break
		}
		closeSources(rot, cur) // rotated while listing: look again
		time.Sleep(20 * time.Millisecond)
	}
	log := t.Log.With().Str("path", t.Path).Logger()
	if cur != nil && matches(cur, ck) {
		closeSources(rot, nil)
		r.queue = []*source{cur}
		r.resumeAt(cur, ck)
		log.Info().Int64("offset", cur.off).Msg("tail: resuming at checkpoint")
		return nil
	}
	for i, s := range rot {
		if !matches(s, ck) {
			continue
		}
		closeSources(rot[:i], nil)
		r.queue = append(append(r.queue, rot[i:]...), cur)
		if cur == nil {
			r.queue = r.queue[:len(r.queue)-1]
		}
		r.resumeAt(s, ck)
		log.Info().Str("file", s.name).Int64("offset", s.off).
			Msg("tail: checkpointed log was rotated; reading the rest of it and the newer files first")
		return nil
	}
	// Gone: the oldest file at least as new as the checkpointed one.
	from := len(rot)
	for i, s := range rot {
		if st, err := s.f.Stat(); err == nil && !st.ModTime().Before(ck.Mtime) {
			from = i
			break
		}
	}
	closeSources(rot[:from], nil)
	r.queue = append(r.queue, rot[from:]...)
	if cur != nil {
		r.queue = append(r.queue, cur)
	}
	r.nextBase = ck.Pos
	ev := log.Warn().Str("checkpoint_file", ck.File).Uint64("inode", ck.Inode).Int64("offset", ck.Offset)
	if len(r.queue) > 0 {
		ev = ev.Str("from", r.queue[0].name)
	}
	ev.Msg("tail: checkpointed log file is gone; events between it and the oldest file still present may be lost")
	return nil
}

// resumeAt positions s, the checkpointed file, at the checkpoint.
func (r *tailRun) resumeAt(s *source, ck *checkpoint) {
	s.off = ck.Offset
	if st, err := s.f.Stat(); err == nil && st.Size() < ck.Offset {
		r.t.stats.truncations.Add(1)
		r.t.Log.Warn().Str("path", r.t.Path).Str("file", s.name).Int64("offset", ck.Offset).Int64("size", st.Size()).
			Msg("tail: checkpointed file is shorter than the checkpoint (truncated); reading it from its start")
		s.off = 0
	}
	r.nextBase = ck.Pos - ck.Offset
	if r.nextBase < 0 {
		r.nextBase = 0
	}
}

// startAtEnd is the first start: at the end of the current log, or at the
// start of the log when it appears.
func (r *tailRun) startAtEnd() error {
	f, err := os.Open(r.t.Path)
	if errors.Is(err, os.ErrNotExist) {
		r.t.Log.Info().Str("path", r.t.Path).Msg("tail: first start; waiting for the log to appear")
		return nil
	}
	if err != nil {
		return fmt.Errorf("tail: open %s: %w", r.t.Path, err)
	}
	s, err := newSource(f, r.t.Path)
	if err != nil {
		f.Close()
		return fmt.Errorf("tail: stat %s: %w", r.t.Path, err)
	}
	st, _ := f.Stat()
	s.off = st.Size()
	if s.off > 0 {
		var last [1]byte
		if _, err := f.ReadAt(last[:], s.off-1); err == nil && last[0] != '\n' {
			s.skipFirst = true // begin after the line being written
		}
	}
	s.follow = true
	r.queue = []*source{s}
	r.t.Log.Info().Str("path", r.t.Path).Int64("offset", s.off).Msg("tail: first start (no checkpoint); beginning at the end of the log")
	return nil
}

// scan opens the rotated files (oldest first) and the current log, and
// reports whether no rotation happened meanwhile.
func (r *tailRun) scan() (rot []*source, cur *source, ok bool, err error) {
	entries, err := os.ReadDir(r.dir)
	if err != nil {
		return nil, nil, false, fmt.Errorf("tail: read dir %s: %w", r.dir, err)
	}
	type gen struct {
		name string
		n    int
	}
	var gens []gen
	for _, e := range entries {
		rest, found := strings.CutPrefix(e.Name(), r.base+".")
		if !found {
			continue
		}
		if n, err := strconv.Atoi(rest); err == nil && n > 0 && strconv.Itoa(n) == rest {
			gens = append(gens, gen{filepath.Join(r.dir, e.Name()), n})
		}
	}
	sort.Slice(gens, func(i, j int) bool { return gens[i].n > gens[j].n })
	ok = true
	for _, g := range gens {
		f, err := os.Open(g.name)
		if err != nil {
			ok = ok && !errors.Is(err, os.ErrNotExist)
			continue
		}
		s, err := newSource(f, g.name)
		if err != nil {
			f.Close()
			continue
		}
		rot = append(rot, s)
	}
	if f, err := os.Open(r.t.Path); err == nil {
		if cur, err = newSource(f, r.t.Path); err != nil {
			f.Close()
			closeSources(rot, nil)
			return nil, nil, false, fmt.Errorf("tail: stat %s: %w", r.t.Path, err)
		}
		cur.follow = true
	} else if !errors.Is(err, os.ErrNotExist) {
		closeSources(rot, nil)
		return nil, nil, false, fmt.Errorf("tail: open %s: %w", r.t.Path, err)
	}
	// Every name must still hold the file opened by it, and no file two names.
	seen := map[[2]uint64]bool{}
	all := rot
	if cur != nil {
		all = append(all[:len(all):len(all)], cur)
	}
	for _, s := range all {
		st, err := os.Stat(s.name)
		if err != nil {
			ok = false
			continue
		}
		dev, ino := fileID(st)
		if dev != s.dev || ino != s.ino || seen[[2]uint64{dev, ino}] {
			ok = false
		}
		seen[[2]uint64{dev, ino}] = true
	}
	return rot, cur, ok, nil
}

func closeSources(list []*source, s *source) {
	for _, x := range list {
		x.f.Close()
	}
	if s != nil {
		s.f.Close()
	}
}

func newSource(f *os.File, name string) (*source, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	dev, ino := fileID(st)
	return &source{f: f, name: name, dev: dev, ino: ino}, nil
}

func fileID(st os.FileInfo) (dev, ino uint64) {
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		return uint64(sys.Dev), sys.Ino
	}
	return 0, 0
}

// matches reports whether s is the checkpointed file: same device and
// inode, and the same first bytes.
func matches(s *source, ck *checkpoint) bool {
	if s.dev != ck.Dev || s.ino != ck.Inode {
		return false
	}
	buf := make([]byte, ck.FingerprintLen)
	if n, _ := s.f.ReadAt(buf, 0); n < len(buf) {
		return false
	}
	sum := sha256.Sum256(buf)
	return hex.EncodeToString(sum[:]) == ck.Fingerprint
}

// fingerprint hashes the first min(size, 1024) bytes of f.
func fingerprint(f *os.File) (sum [sha256.Size]byte, n int) {
	var buf [fingerprintMax]byte
	n, _ = f.ReadAt(buf[:], 0)
	return sha256.Sum256(buf[:n]), n
}

// --- following -------------------------------------------------------------

// watch sets up inotify on the log's directory, or polling.
func (r *tailRun) watch() {
	if r.t.noInotify {
		r.fallback("inotify disabled")
		return
	}
	w, err := fsnotify.NewWatcher()
	if err == nil {
		if err = w.Add(r.dir); err != nil {
			w.Close()
		}
	}
	if err != nil {
		r.fallback("inotify unavailable: " + err.Error())
		return
	}
	r.watcher = w
}

// fallback switches to polling, once.
func (r *tailRun) fallback(why string) {
	if r.watcher != nil {
		r.watcher.Close()
		r.watcher = nil
	}
	if r.polling {
		return
	}
	r.polling = true
	r.pollTick = time.NewTicker(r.poll)
	r.t.stats.fallbacks.Add(1)
	r.t.Log.Warn().Str("path", r.t.Path).Str("reason", why).Dur("poll", r.poll).Msg("tail: polling the log instead of inotify")
}

func (r *tailRun) relevant(ev fsnotify.Event) bool {
	return strings.HasPrefix(filepath.Base(ev.Name), r.base)
}

func (r *tailRun) warnRate(err error, msg string) {
	if r.now.Sub(r.lastErr) >= tailErrLogEvery || r.lastErr.IsZero() {
		r.lastErr = r.now
		r.t.Log.Warn().Err(err).Str("path", r.t.Path).Msg("tail: " + msg)
	}
}

// step looks for a new file at Path and reads what the files hold.
func (r *tailRun) step(ctx context.Context) {
	r.now = time.Now()
	r.lastLook = r.now
	r.checkPath()
	r.readAvailable(ctx)
	r.duties()
}

// checkPath takes up a new file found at Path.
func (r *tailRun) checkPath() {
	t := r.t
	st, err := os.Stat(t.Path)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			t.stats.reopenErrors.Add(1)
			r.warnRate(err, "cannot stat the log")
		}
		return // gone for now (deleted, or mid-rotation): keep reading the old one
	}
	var last *source
	if n := len(r.queue); n > 0 && r.queue[n-1].follow {
		last = r.queue[n-1]
	}
	dev, ino := fileID(st)
	if last != nil && last.dev == dev && last.ino == ino {
		return
	}
	f, err := os.Open(t.Path)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			t.stats.reopenErrors.Add(1)
			r.warnRate(err, "cannot open the new log")
		}
		return
	}
	s, err := newSource(f, t.Path)
	if err != nil {
		f.Close()
		t.stats.reopenErrors.Add(1)
		r.warnRate(err, "cannot stat the new log")
		return
	}
	for _, q := range r.queue {
		if q.dev == s.dev && q.ino == s.ino {
			f.Close() // a file already queued, renamed back
			return
		}
	}
	s.follow = true
	if last != nil {
		last.follow = false
		t.stats.rotations.Add(1)
		t.Log.Info().Str("path", t.Path).Uint64("inode", s.ino).Msg("tail: new log file; draining the old one first")
	}
	r.queue = append(r.queue, s)
}

// readAvailable reads the queued files up to what they hold now: finished
// files to their end, then the followed one.
func (r *tailRun) readAvailable(ctx context.Context) {
	for len(r.queue) > 0 {
		s := r.queue[0]
		if s.seg == nil {
			r.activate(s)
		}
		for {
			n := r.readChunk(s)
			if n == 0 {
				break
			}
			r.now = time.Now()
			r.duties()
			if ctx.Err() != nil {
				return
			}
		}
		if s.follow {
			if r.truncated(s) {
				continue
			}
			return
		}
		r.finish(s)
	}
}

// activate makes s the source being read: a new segment of the stream.
func (r *tailRun) activate(s *source) {
	seg := &segment{base: r.nextBase, start: s.off, dev: s.dev, ino: s.ino, name: s.name, f: s.f}
	seg.fp, seg.fpLen = fingerprint(s.f)
	if st, err := s.f.Stat(); err == nil {
		seg.mtime = st.ModTime()
	}
	r.t.mu.Lock()
	r.t.segs = append(r.t.segs, seg)
	r.t.mu.Unlock()
	s.seg = seg
	r.buf = r.buf[:0]
	r.lineOff = s.off
	r.skipping = s.skipFirst
	r.setCurrent()
}

// finish ends a file that will not grow any more: its last line, if it has
// no newline, is a line all the same.
func (r *tailRun) finish(s *source) {
	if len(r.buf) > 0 && !r.skipping {
		r.deliver(r.buf, s.seg.base+r.lineOff)
	}
	r.lineOff += int64(len(r.buf))
	r.buf = r.buf[:0]
	r.skipping = false
	r.nextBase = s.seg.base + s.off
	r.t.mu.Lock()
	r.t.closeSegment(s.seg)
	r.t.mu.Unlock()
	s.f.Close()
	r.queue = r.queue[1:]
	r.setCurrent()
}

// closeSegment takes the last fingerprint and mtime of seg's file and
// forgets the descriptor. The caller holds mu.
func (t *Tail) closeSegment(seg *segment) {
	if seg.f == nil {
		return
	}
	if seg.fpLen < fingerprintMax {
		seg.fp, seg.fpLen = fingerprint(seg.f)
	}
	if st, err := seg.f.Stat(); err == nil {
		seg.mtime = st.ModTime()
	}
	seg.f = nil
}

// truncated checks the followed file for copytruncate; if it shrank below
// the offset read, it is read again from its start, as a new segment.
func (r *tailRun) truncated(s *source) bool {
	st, err := s.f.Stat()
	if err != nil || st.Size() >= s.off {
		return false
	}
	r.t.stats.truncations.Add(1)
	r.t.Log.Info().Str("path", r.t.Path).Int64("offset", s.off).Int64("size", st.Size()).
		Msg("tail: log truncated (copytruncate); reading it again from its start")
	r.t.mu.Lock()
	s.seg.f = nil // its content is gone; the fingerprint taken stands
	r.t.mu.Unlock()
	r.nextBase = s.seg.base + s.off
	s.off, s.skipFirst, s.seg = 0, false, nil
	r.activate(s)
	return true
}

// readChunk reads the next bytes of s and hands on the complete lines.
func (r *tailRun) readChunk(s *source) int {
	if cap(r.buf)-len(r.buf) < tailChunk {
		nb := make([]byte, len(r.buf), len(r.buf)+2*tailChunk)
		copy(nb, r.buf)
		r.buf = nb
	}
	n, err := s.f.ReadAt(r.buf[len(r.buf):len(r.buf)+tailChunk], s.off)
	if err != nil && err != io.EOF {
		r.t.stats.reopenErrors.Add(1)
		r.warnRate(err, "cannot read "+s.name)
	}
	if n == 0 {
		return 0
	}
	r.buf = r.buf[:len(r.buf)+n]
	s.off += int64(n)
	r.t.stats.bytes.Add(uint64(n))
	r.lastData = time.Now()
	r.split(s)
	return n
}

// split hands on the complete lines in buf and keeps the partial last one.
func (r *tailRun) split(s *source) {
	data := r.buf
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		pos := s.seg.base + r.lineOff
		r.lineOff += int64(i + 1)
		line := data[:i]
		data = data[i+1:]
		if r.skipping {
			r.skipping = false
			continue
		}
		if len(line) > 0 {
			r.deliver(line, pos)
		}
	}
	switch {
	case r.skipping:
		r.lineOff += int64(len(data))
		data = nil
	case len(data) > maxLine:
		// Longer than any record: hand on its start so that Push rejects
		// and counts it, and skip the rest (as Lines does).
		r.deliver(data[:maxLine+1], s.seg.base+r.lineOff)
		r.lineOff += int64(len(data))
		r.skipping = true
		data = nil
	}
	r.buf = r.buf[:copy(r.buf, data)]
	r.setCurrent()
}

// deliver takes one complete line at pos: it is held until its event looks
// complete (see Tail), then pushed.
func (r *tailRun) deliver(line []byte, pos int64) {
	r.t.stats.lines.Add(1)
	node, stamp, typ := lineKey(line)
	if stamp == nil {
		// Not a record: the Assembler counts it; keep the order.
		r.release(true)
		r.asm.PushAt(line, pos)
		return
	}
	kb := append(append(append(r.keyBuf[:0], node...), 0), stamp...)
	r.keyBuf = kb
	ev := r.events[string(kb)]
	if ev == nil {
		r.evSeq++
		ev = &heldEvent{key: string(kb)}
		r.events[ev.key] = ev
	}
	ev.last = r.evSeq
	ev.lines++
	if string(typ) == "PROCTITLE" {
		ev.closed = true
	}
	r.held = append(r.held, heldLine{pos: pos, start: len(r.heldBuf), end: len(r.heldBuf) + len(line), ev: ev})
	r.heldBuf = append(r.heldBuf, line...)
	r.release(false)
}

// release pushes the held lines whose events look complete, in order; all
// pushes every one.
func (r *tailRun) release(all bool) {
	for r.heldAt < len(r.held) {
		h := r.held[r.heldAt]
		if !all && !h.ev.closed && r.evSeq-h.ev.last < tailHoldWindow {
			break
		}
		r.asm.PushAt(r.heldBuf[h.start:h.end], h.pos)
		if h.ev.lines--; h.ev.lines == 0 {
			delete(r.events, h.ev.key)
		}
		r.held[r.heldAt].ev = nil
		r.heldAt++
	}
	switch {
	case r.heldAt == len(r.held):
		r.held, r.heldBuf, r.heldAt = r.held[:0], r.heldBuf[:0], 0
	case r.heldAt >= 256 && 2*r.heldAt >= len(r.held):
		off := r.held[r.heldAt].start
		n := copy(r.held, r.held[r.heldAt:])
		r.held = r.held[:n]
		for i := range r.held {
			r.held[i].start -= off
			r.held[i].end -= off
		}
		r.heldBuf = r.heldBuf[:copy(r.heldBuf, r.heldBuf[off:])]
		r.heldAt = 0
	}
}

// lineKey returns a record line's node, its "SEC.MSEC:SERIAL" stamp and its
// type name; stamp is nil when the line is not a record.
func lineKey(line []byte) (node, stamp, typ []byte) {
	rest := line
	if bytes.HasPrefix(rest, []byte("node=")) {
		i := bytes.IndexByte(rest, ' ')
		if i < 0 {
			return nil, nil, nil
		}
		node, rest = rest[5:i], rest[i+1:]
	}
	if !bytes.HasPrefix(rest, []byte("type=")) {
		return nil, nil, nil
	}
	rest = rest[5:]
	i := bytes.IndexByte(rest, ' ')
	if i < 0 {
		return nil, nil, nil
	}
	typ, rest = rest[:i], rest[i+1:]
	if !bytes.HasPrefix(rest, []byte("msg=audit(")) {
		return nil, nil, nil
	}
	rest = rest[len("msg=audit("):]
	j := bytes.IndexByte(rest, ')')
	if j < 0 {
		return nil, nil, nil
	}
	return node, rest[:j], typ
}

// current is the position up to which lines were handed over: the first
// held line, else the start of the partial line of the active source.
func (r *tailRun) current() int64 {
	if r.heldAt < len(r.held) {
		return r.held[r.heldAt].pos
	}
	if len(r.queue) > 0 && r.queue[0].seg != nil {
		return r.queue[0].seg.base + r.lineOff
	}
	return r.nextBase
}

func (r *tailRun) setCurrent() { r.t.current.Store(r.current()) }

// duties does what is due: release idle held lines, Expire, Flush,
// checkpoint.
func (r *tailRun) duties() {
	now := r.now
	if now.Sub(r.lastExp) >= tailExpireEvery {
		r.lastExp = now
		if r.heldAt < len(r.held) && now.Sub(r.lastData) >= r.holdIdle {
			r.release(true)
			r.setCurrent()
		}
		r.asm.Expire()
	}
	if now.Sub(r.lastFl) >= tailFlushEvery {
		r.flush(false)
	}
	if now.Sub(r.lastCk) >= r.interval {
		r.lastCk = now
		r.checkpoint(false)
	}
}

// flush calls Flush when something changed since the last call (or always).
func (r *tailRun) flush(always bool) {
	r.lastFl = r.now
	safe := r.asm.Safe(r.current())
	execs := r.asm.Stats().Execs
	if !always && safe == r.flushedSafe && execs == r.flushedExecs {
		return
	}
	r.flushedSafe, r.flushedExecs = safe, execs
	if r.t.Flush != nil {
		r.t.Flush(safe)
	}
}

// checkpoint writes the checkpoint at Acked() (or the last safe flushed),
// unless it is where the last one was and !always.
func (r *tailRun) checkpoint(always bool) {
	pos := r.flushedSafe
	if r.t.Acked != nil {
		pos = r.t.Acked()
	}
	t := r.t
	t.mu.Lock()
	same := t.written && pos == t.lastPos
	t.mu.Unlock()
	if same && !always {
		return
	}
	if err := t.Checkpoint(pos); err != nil {
		r.warnRate(err, "checkpoint")
	}
}

// stop ends Run: completes what the Assembler holds, hands it on, writes the
// checkpoint. Lines still held are not pushed: they are read again after a
// restart.
func (r *tailRun) stop() error {
	r.now = time.Now()
	r.asm.Flush()
	r.setCurrent()
	r.flush(true)
	r.checkpoint(false)
	return nil
}

// closeAll closes every file, keeping what the checkpoint needs.
func (r *tailRun) closeAll() {
	if r.watcher != nil {
		r.watcher.Close()
		r.watcher = nil
	}
	if r.pollTick != nil {
		r.pollTick.Stop()
	}
	r.t.mu.Lock()
	for _, s := range r.queue {
		if s.seg != nil {
			r.t.closeSegment(s.seg)
		}
		s.f.Close()
	}
	r.t.mu.Unlock()
	r.queue = nil
}

// --- checkpoints -------------------------------------------------------------

// Checkpoint writes the checkpoint for stream position pos (a safe the
// pipeline has written): the file holding pos, its device, inode,
// fingerprint and the offset. The file is replaced atomically (a temporary
// file in StateDir, fsync, rename; mode 0640). A pos below what this Tail
// still knows (such as 0 before anything was acked) is taken as the earliest
// position it knows, where Run started; a pos beyond what Run has read is an
// error. Before Run has opened any file there is nothing to record and
// Checkpoint returns nil. It is safe for concurrent use, also after Run
// returned: the pipeline calls it with its final acked position so that a
// graceful restart resumes exactly there.
func (t *Tail) Checkpoint(pos int64) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.segs) == 0 {
		return nil
	}
	if first := t.segs[0].base + t.segs[0].start; pos < first {
		pos = first
	}
	if cur := t.current.Load(); pos > cur {
		return fmt.Errorf("tail %s: checkpoint at position %d: beyond the position read (%d)", t.Path, pos, cur)
	}
	i := len(t.segs) - 1
	for i > 0 && t.segs[i].base+t.segs[i].start > pos {
		i--
	}
	seg := t.segs[i]
	if seg.f != nil {
		if seg.fpLen < fingerprintMax {
			seg.fp, seg.fpLen = fingerprint(seg.f)
		}
		if st, err := seg.f.Stat(); err == nil {
			seg.mtime = st.ModTime()
		}
	}
	ck := checkpoint{
		Version: checkpointVer, Path: t.Path, File: seg.name, Dev: seg.dev, Inode: seg.ino,
		Offset: pos - seg.base, Fingerprint: hex.EncodeToString(seg.fp[:]), FingerprintLen: seg.fpLen,
		Mtime: seg.mtime, Pos: pos, Written: time.Now(),
	}
	if err := writeCheckpoint(t.StateDir, &ck); err != nil {
		t.stats.checkpointErrors.Add(1)
		return err
	}
	t.stats.checkpoints.Add(1)
	t.lastPos, t.written = pos, true
	if i > 0 {
		t.segs = append([]*segment(nil), t.segs[i:]...)
	}
	return nil
}

func writeCheckpoint(dir string, ck *checkpoint) error {
	b, err := json.MarshalIndent(ck, "", "  ")
	if err != nil {
		return fmt.Errorf("tail: encode checkpoint: %w", err)
	}
	b = append(b, '\n')
	final := filepath.Join(dir, CheckpointFile)
	f, err := os.CreateTemp(dir, "."+CheckpointFile+".*")
	if err != nil {
		return fmt.Errorf("tail: write checkpoint %s: %w", final, err)
	}
	tmp := f.Name()
	err = f.Chmod(0o640)
	if err == nil {
		_, err = f.Write(b)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, final)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("tail: write checkpoint %s: %w", final, err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync() // the rename itself; a failure here loses at most this checkpoint
		d.Close()
	}
	return nil
}

// readCheckpoint returns the checkpoint in StateDir, nil when there is none
// or it is unusable (then it warns and Run starts as the first time).
func (t *Tail) readCheckpoint() (*checkpoint, error) {
	name := filepath.Join(t.StateDir, CheckpointFile)
	b, err := os.ReadFile(name)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("tail: read checkpoint %s: %w", name, err)
	}
	var ck checkpoint
	bad := func(why string) (*checkpoint, error) {
		t.Log.Warn().Str("checkpoint", name).Str("reason", why).
			Msg("tail: unusable checkpoint; starting at the end of the log as on a first start")
		return nil, nil
	}
	if err := json.Unmarshal(b, &ck); err != nil {
		return bad("corrupt: " + err.Error())
	}
	fp, err := hex.DecodeString(ck.Fingerprint)
	switch {
	case ck.Version != checkpointVer:
		return bad(fmt.Sprintf("version %d, want %d", ck.Version, checkpointVer))
	case ck.Path != t.Path:
		return bad(fmt.Sprintf("written for %q", ck.Path))
	case err != nil || len(fp) != sha256.Size || ck.FingerprintLen < 0 || ck.FingerprintLen > fingerprintMax:
		return bad("bad fingerprint")
	case ck.Offset < 0 || ck.Pos < ck.Offset || ck.Inode == 0:
		return bad("bad offset or inode")
	}
	return &ck, nil
}

package output

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rs/zerolog"
)

// Spool keeps batches of records on disk until they are delivered, so that
// they survive an outage of the receiver and a restart of t1610d. Each batch
// is one file in the spool's folder, written whole (temporary file, fsync,
// rename, fsync of the folder) and named
// "<sequence>-<writer>-<records>.batch", so that names sort oldest first.
// The folder is bounded: a batch that would take it past its size evicts
// the oldest batches first, and they are counted.
//
// Several Spools may share a folder (the old and the new webhook across a
// reload, or two processes): each may Put; only the one holding the
// folder's lock (TryLock) delivers and removes, and it sees every writer's
// batches because it lists the folder each time. Put may be called from
// several goroutines.
type Spool struct {
	dir    string
	max    int64
	writer string // this Spool's part of the file names
	stats  *WebhookStats
	log    zerolog.Logger

	mu      sync.Mutex // serialises Put (sequence numbers, eviction)
	lastSeq uint64
	warned  bool
	lock    *os.File // the folder's lock, while held
}

// SpoolBatch is one batch read back from a spool.
type SpoolBatch struct {
	Name    string   // its file name
	ID      string   // stable: derived from the contents
	Records [][]byte // each ending in a newline
	Data    []byte   // the records as stored
}

const spoolSuffix = ".batch"

// OpenSpool opens (creating it, mode 0700) the spool folder dir, bounded to
// max bytes of batches. stats, if not nil, is updated with what the spool
// holds and evicts.
func OpenSpool(dir string, max int64, stats *WebhookStats, log zerolog.Logger) (*Spool, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("spool %s: %w", dir, err)
	}
	var nonce [4]byte
	rand.Read(nonce[:])
	if stats == nil {
		stats = new(WebhookStats)
	}
	s := &Spool{dir: dir, max: max, writer: hex.EncodeToString(nonce[:]), stats: stats, log: log}
	// A probe write: an unwritable state_dir is an error now, not an outage later.
	probe := filepath.Join(dir, ".tmp-probe-"+s.writer)
	if err := os.WriteFile(probe, nil, 0o600); err != nil {
		return nil, fmt.Errorf("spool %s: %w", dir, err)
	}
	os.Remove(probe)
	// Temporary files older than a minute are left over from a crash.
	if ents, err := os.ReadDir(dir); err == nil {
		for _, e := range ents {
			if info, err := e.Info(); err == nil && strings.HasPrefix(e.Name(), ".tmp-") && time.Since(info.ModTime()) > time.Minute {
				os.Remove(filepath.Join(dir, e.Name()))
			}
		}
	}
	if _, err := s.list(); err != nil {
		return nil, err
	}
	return s, nil
}

// Dir returns the spool's folder.
func (s *Spool) Dir() string { return s.dir }

type spoolFile struct {
	name    string
	seq     uint64
	records int
	size    int64
}

// list returns the batches in the folder, oldest first, and updates the
// gauges.
func (s *Spool) list() ([]spoolFile, error) {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("spool %s: %w", s.dir, err)
	}
	var files []spoolFile
	var recs, bytes int64
	for _, e := range ents {
		f, ok := parseSpoolName(e.Name())
		if !ok {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		f.size = info.Size()
		files = append(files, f)
		recs += int64(f.records)
		bytes += f.size
	}
	sort.Slice(files, func(i, j int) bool { return files[i].name < files[j].name })
	s.stats.SpoolRecords.Store(recs)
	s.stats.SpoolBytes.Store(bytes)
	return files, nil
}

func parseSpoolName(name string) (spoolFile, bool) {
	base, ok := strings.CutSuffix(name, spoolSuffix)
	if !ok {
		return spoolFile{}, false
	}
	parts := strings.Split(base, "-")
	if len(parts) != 3 || len(parts[0]) != 16 {
		return spoolFile{}, false
	}
	seq, err1 := strconv.ParseUint(parts[0], 16, 64)
	n, err2 := strconv.Atoi(parts[2])
	if err1 != nil || err2 != nil || n < 0 {
		return spoolFile{}, false
	}
	return spoolFile{name: name, seq: seq, records: n}, true
}

// Put writes records (each ending in a newline) as one batch. When the
// folder would grow past its bound, the oldest batches are removed first,
// counted in SpoolDropped, and the first eviction is logged loudly. It
// returns once the batch is on disk.
func (s *Spool) Put(records [][]byte) error {
	if len(records) == 0 {
		return nil
	}
	var data []byte
	for _, r := range records {
		data = append(data, r...)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	files, err := s.list()
	if err != nil {
		return err
	}
	var total, recs int64
	for _, f := range files {
		total += f.size
		recs += int64(f.records)
		s.lastSeq = max(s.lastSeq, f.seq)
	}
	for len(files) > 0 && total+int64(len(data)) > s.max {
		old := files[0]
		files = files[1:]
		if err := os.Remove(filepath.Join(s.dir, old.name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("spool %s: %w", s.dir, err)
		}
		total -= old.size
		recs -= int64(old.records)
		n := s.stats.SpoolDropped.Add(uint64(old.records))
		if !s.warned {
			s.warned = true
			s.log.Error().Str("spool", s.dir).Int64("max_bytes", s.max).Int("records", old.records).
				Msg("webhook spool full: dropping the oldest undelivered alerts (counted in t1610d_webhook_spool_dropped_total)")
		} else if n%1000 < uint64(old.records) {
			s.log.Warn().Str("spool", s.dir).Uint64("dropped", n).Msg("webhook spool still dropping alerts")
		}
	}
	s.lastSeq++
	name := fmt.Sprintf("%016x-%s-%d%s", s.lastSeq, s.writer, len(records), spoolSuffix)
	if err := writeFileSync(s.dir, name, data); err != nil {
		return fmt.Errorf("spool %s: %w", s.dir, err)
	}
	s.stats.Spooled.Add(uint64(len(records)))
	s.stats.SpoolRecords.Store(recs + int64(len(records)))
	s.stats.SpoolBytes.Store(total + int64(len(data)))
	return nil
}

// writeFileSync writes dir/name so that it is either absent or whole, and
// on disk when it returns.
func writeFileSync(dir, name string, data []byte) error {
	tmp := filepath.Join(dir, ".tmp-"+name)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, name))
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Oldest reads the oldest batch; ok is false when the spool is empty.
func (s *Spool) Oldest() (b SpoolBatch, ok bool, err error) {
	for {
		files, err := s.list()
		if err != nil || len(files) == 0 {
			return SpoolBatch{}, false, err
		}
		f := files[0]
		data, err := os.ReadFile(filepath.Join(s.dir, f.name))
		if errors.Is(err, fs.ErrNotExist) {
			continue // evicted meanwhile
		}
		if err != nil {
			return SpoolBatch{}, false, fmt.Errorf("spool %s: %w", s.dir, err)
		}
		sum := sha256.Sum256(data)
		b := SpoolBatch{Name: f.name, ID: "t1610d-" + hex.EncodeToString(sum[:16]), Data: data}
		for len(data) > 0 {
			i := bytes.IndexByte(data, '\n')
			if i < 0 {
				i = len(data) - 1 // a batch always ends in a newline; be lenient
			}
			b.Records = append(b.Records, data[:i+1:i+1])
			data = data[i+1:]
		}
		return b, true, nil
	}
}

// Has reports whether batch b is still in the spool (not evicted).
func (s *Spool) Has(b SpoolBatch) bool {
	_, err := os.Stat(filepath.Join(s.dir, b.Name))
	return err == nil
}

// Remove removes a delivered (or abandoned) batch.
func (s *Spool) Remove(b SpoolBatch) error {
	err := os.Remove(filepath.Join(s.dir, b.Name))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("spool %s: %w", s.dir, err)
	}
	s.list()
	return nil
}

// TryLock takes the folder's delivery lock (flock on .lock) if no other
// Spool, in this process or another, holds it, and reports whether it
// does now.
func (s *Spool) TryLock() (bool, error) {
	if s.lock != nil {
		return true, nil
	}
	f, err := os.OpenFile(filepath.Join(s.dir, ".lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return false, fmt.Errorf("spool %s: %w", s.dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return false, nil
		}
		return false, fmt.Errorf("spool %s: lock: %w", s.dir, err)
	}
	s.lock = f
	return true, nil
}

// Unlock releases the delivery lock.
func (s *Spool) Unlock() {
	if s.lock != nil {
		s.lock.Close()
		s.lock = nil
	}
}

package output

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// TestSpoolBounded: past its size the spool drops the oldest batches,
// counts their records, and keeps the newest; batches come back oldest
// first, whole, with an id that depends only on their contents.
func TestSpoolBounded(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "spool")
	var st WebhookStats
	batch := len(strings.Join(func() []string {
		var s []string
		for _, r := range testRecords(0, 10) {
			s = append(s, string(r))
		}
		return s
	}(), ""))
	s, err := OpenSpool(dir, int64(3*batch), &st, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		if err := s.Put(testRecords(i*10, 10)); err != nil {
			t.Fatal(err)
		}
	}
	if st.SpoolDropped.Load() != 20 || st.Spooled.Load() != 50 || st.SpoolRecords.Load() != 30 || st.SpoolBytes.Load() != int64(3*batch) {
		t.Errorf("dropped %d spooled %d in spool %d (%d bytes)", st.SpoolDropped.Load(), st.Spooled.Load(), st.SpoolRecords.Load(), st.SpoolBytes.Load())
	}
	b, ok, err := s.Oldest()
	if err != nil || !ok || len(b.Records) != 10 || !strings.Contains(string(b.Records[0]), `"a0020"`) {
		t.Fatalf("oldest: %v %v %d records, first %s", ok, err, len(b.Records), b.Records)
	}
	// The same contents, the same id, in another spool too.
	s2, _ := OpenSpool(filepath.Join(t.TempDir(), "other"), 1<<20, nil, zerolog.Nop())
	s2.Put(testRecords(20, 10))
	if b2, _, _ := s2.Oldest(); b2.ID != b.ID || strings.Contains(b.ID, ".") {
		t.Errorf("ids %q and %q", b.ID, b2.ID)
	}
	if err := s.Remove(b); err != nil {
		t.Fatal(err)
	}
	if b, _, _ := s.Oldest(); !strings.Contains(string(b.Records[0]), `"a0030"`) {
		t.Errorf("after removing the oldest: %s", b.Records[0])
	}
	// Mode 0700 folder, 0600 files: they hold alerts.
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Errorf("spool folder mode %v", fi.Mode())
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if fi, _ := e.Info(); strings.HasSuffix(e.Name(), spoolSuffix) && fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v", e.Name(), fi.Mode())
		}
	}
}

// TestSpoolLock: one holder at a time, across Spools on one folder.
func TestSpoolLock(t *testing.T) {
	dir := t.TempDir()
	a, _ := OpenSpool(dir, 1<<20, nil, zerolog.Nop())
	b, _ := OpenSpool(dir, 1<<20, nil, zerolog.Nop())
	if ok, err := a.TryLock(); !ok || err != nil {
		t.Fatalf("first lock: %v %v", ok, err)
	}
	if ok, _ := b.TryLock(); ok {
		t.Fatal("two holders")
	}
	a.Unlock()
	if ok, _ := b.TryLock(); !ok {
		t.Fatal("lock not released")
	}
	b.Unlock()
}

// TestSpoolLeftovers: a temporary file from a crash is cleaned up, and
// files that are not batches are ignored.
func TestSpoolLeftovers(t *testing.T) {
	dir := t.TempDir()
	tmp := filepath.Join(dir, ".tmp-0000000000000001-deadbeef-3.batch")
	os.WriteFile(tmp, []byte("{}\n"), 0o600)
	old := time.Now().Add(-time.Hour)
	os.Chtimes(tmp, old, old)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o600)
	s, err := OpenSpool(dir, 1<<20, nil, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(tmp); err == nil {
		t.Error("stale temporary file kept")
	}
	if _, ok, _ := s.Oldest(); ok {
		t.Error("a file that is not a batch read as one")
	}
}

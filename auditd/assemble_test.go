package auditd

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// execEvent writes the records the kernel writes for one execve, as auditd
// logs them (no EOE).
func execEvent(serial int, pid int, argv ...string) []string {
	hdr := fmt.Sprintf("msg=audit(1796393269.%03d:%d):", serial%1000, serial)
	var ex strings.Builder
	fmt.Fprintf(&ex, "type=EXECVE %s argc=%d", hdr, len(argv))
	for i, a := range argv {
		fmt.Fprintf(&ex, " a%d=%s", i, encodeArg(a))
	}
	return []string{
		fmt.Sprintf(`type=SYSCALL %s arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 items=2 ppid=%d pid=%d auid=1003 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts1 ses=11 comm="%s" exe="/usr/bin/%s" key="t1610_exec"`+"\x1dARCH=x86_64 SYSCALL=execve AUID=\"alice\" UID=\"root\" EUID=\"root\"",
			hdr, pid-1, pid, argv[0], argv[0]),
		fmt.Sprintf("type=BPRM_FCAPS %s fver=0 fp=0", hdr),
		ex.String(),
		fmt.Sprintf(`type=CWD %s cwd="/tmp/work"`, hdr),
		fmt.Sprintf(`type=PATH %s item=0 name="/usr/bin/%s" inode=1 dev=fe:00`, hdr, argv[0]),
		fmt.Sprintf("type=PROCTITLE %s proctitle=%X", hdr, strings.Join(argv, "\x00")),
	}
}

// encodeArg encodes an argument as the kernel does: quoted when it holds
// only printable ASCII other than '"', hex otherwise.
func encodeArg(a string) string {
	for i := 0; i < len(a); i++ {
		if a[i] <= 0x20 || a[i] >= 0x7f || a[i] == '"' {
			return fmt.Sprintf("%X", a)
		}
	}
	return `"` + a + `"`
}

type collector struct{ execs []*Exec }

func (c *collector) emit(e *Exec) { c.execs = append(c.execs, e) }

func pushAll(t *testing.T, a *Assembler, lines []string) {
	t.Helper()
	for _, l := range lines {
		if err := a.Push([]byte(l)); err != nil {
			t.Fatalf("Push(%q): %v", l, err)
		}
	}
}

func argvs(execs []*Exec) [][]string {
	var out [][]string
	for _, e := range execs {
		out = append(out, e.Argv)
	}
	return out
}

func TestAssembleExec(t *testing.T) {
	var c collector
	a := NewAssembler(c.emit)
	pushAll(t, a, execEvent(100, 4242, "docker", "run", "--privileged", "two words", "ünï\xff"))
	a.Flush()
	if len(c.execs) != 1 {
		t.Fatalf("got %d execs, want 1", len(c.execs))
	}
	e := c.execs[0]
	want := &Exec{
		Time: time.UnixMilli(1796393269100).UTC(), Serial: 100, Success: true,
		Pid: 4242, Ppid: 4241, UID: 0, EUID: 0, AUID: 1003, Ses: 11,
		User: "root", EUser: "root", LoginUser: "alice", TTY: "pts1",
		Comm: "docker", Exe: "/usr/bin/docker", Cwd: "/tmp/work", Key: "t1610_exec",
		Argv: []string{"docker", "run", "--privileged", "two words", "ünï\xff"},
	}
	if !reflect.DeepEqual(e, want) {
		t.Errorf("exec\n got %+v\nwant %+v", e, want)
	}
	if st := a.Stats(); st.Events != 1 || st.Execs != 1 || st.Records != 6 || st.Malformed != 0 {
		t.Errorf("stats = %+v", st)
	}
}

func TestAssembleInterleavedEvents(t *testing.T) {
	var c collector
	a := NewAssembler(c.emit)
	e1 := execEvent(200, 10, "ls", "-la")
	e2 := execEvent(201, 20, "docker", "ps")
	var lines []string
	for i := range e1 {
		lines = append(lines, e1[i], e2[i])
	}
	pushAll(t, a, lines)
	a.Flush()
	got := argvs(c.execs)
	want := [][]string{{"ls", "-la"}, {"docker", "ps"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("argvs = %q, want %q", got, want)
	}
	if c.execs[0].Pid != 10 || c.execs[1].Pid != 20 {
		t.Errorf("pids = %d, %d; want 10, 20", c.execs[0].Pid, c.execs[1].Pid)
	}
}

func TestAssembleEnds(t *testing.T) {
	t.Run("EOE", func(t *testing.T) {
		var c collector
		a := NewAssembler(c.emit)
		pushAll(t, a, execEvent(300, 1, "true"))
		if len(c.execs) != 0 {
			t.Fatal("emitted before its end")
		}
		pushAll(t, a, []string{"type=EOE msg=audit(1796393269.300:300): "})
		if len(c.execs) != 1 {
			t.Fatalf("EOE did not complete the event: %d execs", len(c.execs))
		}
	})
	t.Run("later events moved on", func(t *testing.T) {
		var c collector
		a := NewAssembler(c.emit)
		a.Window = 4
		pushAll(t, a, execEvent(400, 1, "first"))
		for s := 401; s <= 404; s++ {
			pushAll(t, a, []string{fmt.Sprintf("type=CWD msg=audit(1796393269.400:%d): cwd=\"/\"", s)})
		}
		if len(c.execs) != 0 {
			t.Fatalf("completed after %d later events, window is 4", 4)
		}
		pushAll(t, a, []string{"type=CWD msg=audit(1796393269.400:405): cwd=\"/\""})
		if len(c.execs) != 1 || c.execs[0].Argv[0] != "first" {
			t.Fatalf("not completed when the fifth later event started: %d execs", len(c.execs))
		}
	})
	t.Run("single record type", func(t *testing.T) {
		var c collector
		a := NewAssembler(c.emit)
		pushAll(t, a, []string{`type=USER_CMD msg=audit(1796393269.883:500): pid=1 uid=0 auid=1003 ses=11 msg='cwd="/" cmd=6C73 res=success'`})
		if a.InFlight() != 0 || a.Stats().Events != 1 {
			t.Errorf("USER_CMD left in flight: inflight=%d stats=%+v", a.InFlight(), a.Stats())
		}
	})
	t.Run("timeout by event time", func(t *testing.T) {
		var c collector
		a := NewAssembler(c.emit)
		a.Timeout = time.Second
		pushAll(t, a, execEvent(600, 1, "old"))
		pushAll(t, a, []string{"type=CWD msg=audit(1796393275.000:601): cwd=\"/\""})
		if len(c.execs) != 1 {
			t.Fatalf("an event 6 s older than the stream is still in flight")
		}
	})
	t.Run("wall-clock timeout", func(t *testing.T) {
		var c collector
		a := NewAssembler(c.emit)
		now := time.Unix(1000, 0)
		a.Now = func() time.Time { return now }
		pushAll(t, a, execEvent(700, 1, "live"))
		a.Expire()
		if len(c.execs) != 0 {
			t.Fatal("expired at once")
		}
		now = now.Add(DefaultTimeout)
		a.Expire()
		if len(c.execs) != 1 {
			t.Fatal("not expired after the timeout")
		}
	})
	t.Run("in-flight bound", func(t *testing.T) {
		var c collector
		a := NewAssembler(c.emit)
		a.Window = 1000
		a.MaxInFlight = 10
		for s := 800; s < 830; s++ {
			pushAll(t, a, execEvent(s, s, "x")[:1])
		}
		if a.InFlight() > 10 || a.Stats().Evicted != 20 {
			t.Errorf("inflight=%d evicted=%d; want <= 10 and 20", a.InFlight(), a.Stats().Evicted)
		}
	})
}

func TestAssembleSplitExecve(t *testing.T) {
	// The kernel's layout for a long command line: argc in the first record
	// only, continuation records with more arguments, and an argument too long
	// for one record in hex chunks, spread over two records.
	hdr := "msg=audit(1796393269.919:900):"
	big := strings.Repeat("BIG=", 1) + strings.Repeat("ab\n", 5000)
	hexBig := fmt.Sprintf("%X", big)
	half := len(hexBig) / 2
	lines := []string{
		fmt.Sprintf(`type=SYSCALL %s arch=c000003e syscall=59 success=yes exit=0 ppid=1 pid=2 auid=0 uid=0 euid=0 ses=1 tty=(none) comm="docker" exe="/usr/bin/docker" key=(null)`, hdr),
		fmt.Sprintf(`type=EXECVE %s argc=6 a0="docker" a1="run" a2="-e"`, hdr),
		fmt.Sprintf(`type=EXECVE %s  a3_len=%d a3[0]=%s`, hdr, len(hexBig), hexBig[:half]),
		fmt.Sprintf(`type=EXECVE %s  a3[1]=%s a4="--privileged"`, hdr, hexBig[half:]),
		fmt.Sprintf(`type=EXECVE %s  a5="alpine"`, hdr),
	}
	var c collector
	a := NewAssembler(c.emit)
	pushAll(t, a, lines)
	a.Flush()
	want := []string{"docker", "run", "-e", big, "--privileged", "alpine"}
	if len(c.execs) != 1 || !reflect.DeepEqual(c.execs[0].Argv, want) {
		t.Fatalf("argv = %q, want %q", argvs(c.execs), want)
	}
	if w := c.execs[0].Warnings; len(w) != 0 {
		t.Errorf("warnings on an intact event: %q", w)
	}
}

func TestAssembleDamagedExecve(t *testing.T) {
	tests := []struct {
		name    string
		execve  []string
		argv    []string
		warning string
	}{
		{"argc beyond the arguments present", []string{`argc=4 a0="docker" a1="run"`}, []string{"docker", "run"}, "argc=4 but 2 arguments arrived"},
		{"invalid hex kept as written", []string{`argc=2 a0="sh" a1=6162ZZ`}, []string{"sh", "6162ZZ"}, "a1: malformed value"},
		{"chunks cut short", []string{`argc=2 a0="x" a1_len=8 a1[0]=6162`}, []string{"x", "ab"}, "4 of a1_len=8"},
		{"continuation without its first record", []string{` a1="run" a2="-it"`}, []string{"", "run", "-it"}, "no argc"},
		{"argument repeated", []string{`argc=2 a0="a" a1="b" a1="c"`}, []string{"a", "b"}, "a1 repeated"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			serial := 1000 + i
			hdr := fmt.Sprintf("msg=audit(1796393269.000:%d):", serial)
			lines := []string{fmt.Sprintf(`type=SYSCALL %s arch=c000003e syscall=59 success=yes pid=5 ppid=4 uid=0 auid=0 euid=0 ses=1 comm="x" exe="/bin/x" key=(null)`, hdr)}
			for _, b := range tt.execve {
				lines = append(lines, fmt.Sprintf("type=EXECVE %s %s", hdr, b))
			}
			var c collector
			a := NewAssembler(c.emit)
			pushAll(t, a, lines)
			a.Flush()
			if len(c.execs) != 1 {
				t.Fatalf("%d execs, want 1", len(c.execs))
			}
			e := c.execs[0]
			if !reflect.DeepEqual(e.Argv, tt.argv) {
				t.Errorf("argv = %q, want %q", e.Argv, tt.argv)
			}
			if !strings.Contains(strings.Join(e.Warnings, "; "), tt.warning) {
				t.Errorf("warnings = %q, want one with %q", e.Warnings, tt.warning)
			}
			if a.Stats().Damaged != 1 {
				t.Errorf("Damaged = %d, want 1", a.Stats().Damaged)
			}
		})
	}
}

func TestAssembleOrphanAndFallback(t *testing.T) {
	var c collector
	a := NewAssembler(c.emit)
	ev := execEvent(1100, 7, "docker", "run", "--privileged", "alpine")
	pushAll(t, a, ev[1:]) // no SYSCALL
	// SYSCALL and PROCTITLE but no EXECVE: argv from PROCTITLE, with a warning.
	ev2 := execEvent(1101, 8, "podman", "ps")
	pushAll(t, a, []string{ev2[0], ev2[5]})
	a.Flush()
	if len(c.execs) != 2 {
		t.Fatalf("%d execs, want 2", len(c.execs))
	}
	o := c.execs[0]
	if !reflect.DeepEqual(o.Argv, []string{"docker", "run", "--privileged", "alpine"}) || o.Pid != 0 || o.AUID != Unset || len(o.Warnings) == 0 {
		t.Errorf("orphan = %+v", o)
	}
	if a.Stats().Orphans != 1 {
		t.Errorf("Orphans = %d", a.Stats().Orphans)
	}
	f := c.execs[1]
	if !reflect.DeepEqual(f.Argv, []string{"podman", "ps"}) || !strings.Contains(strings.Join(f.Warnings, ""), "PROCTITLE") {
		t.Errorf("proctitle fallback = %q %q", f.Argv, f.Warnings)
	}
}

func TestAssembleSerials(t *testing.T) {
	var c collector
	a := NewAssembler(c.emit)
	pushAll(t, a, execEvent(2000, 1, "a"))
	pushAll(t, a, execEvent(2005, 2, "b")) // 2001-2004 missing
	if g := a.Stats().Gaps; g != 4 {
		t.Errorf("gaps = %d, want 4", g)
	}
	pushAll(t, a, execEvent(2003, 3, "c")) // one of them arrives late
	if g := a.Stats().Gaps; g != 3 {
		t.Errorf("gaps after a late event = %d, want 3", g)
	}
	a.Flush()
	// The same serial again, after its event completed: a new event.
	pushAll(t, a, execEvent(2000, 4, "d"))
	// A second SYSCALL under a serial still in flight: also a new event.
	pushAll(t, a, execEvent(2005, 5, "e")[:1])
	a.Flush()
	if d := a.Stats().Duplicates; d != 2 {
		t.Errorf("duplicates = %d, want 2", d)
	}
	got := argvs(c.execs)
	want := [][]string{{"a"}, {"b"}, {"c"}, {"d"}}
	if !reflect.DeepEqual(got[:4], want) {
		t.Errorf("argvs = %q, want %q first", got, want)
	}
}

func TestAssembleNames(t *testing.T) {
	var c collector
	a := NewAssembler(c.emit)
	a.Names = func(uid uint32) string { return fmt.Sprintf("user%d", uid) }
	raw := `type=SYSCALL msg=audit(1.000:1): arch=c000003e syscall=59 success=yes ppid=1 pid=2 auid=1003 uid=1001 euid=0 ses=3 comm="x" exe="/bin/x" key=(null)`
	pushAll(t, a, []string{raw, `type=EXECVE msg=audit(1.000:1): argc=1 a0="x"`})
	unset := `type=SYSCALL msg=audit(1.000:2): arch=c000003e syscall=59 success=yes ppid=1 pid=3 auid=4294967295 uid=0 euid=0 ses=4294967295 comm="x" exe="/bin/x" key=(null)` + "\x1dAUID=\"unset\" UID=\"root\" EUID=\"root\""
	pushAll(t, a, []string{unset, `type=EXECVE msg=audit(1.000:2): argc=1 a0="x"`})
	a.Flush()
	if e := c.execs[0]; e.User != "user1001" || e.EUser != "user0" || e.LoginUser != "user1003" {
		t.Errorf("RAW names = %q %q %q", e.User, e.EUser, e.LoginUser)
	}
	if e := c.execs[1]; e.User != "root" || e.LoginUser != "" || e.AUID != Unset {
		t.Errorf("ENRICHED names = %q login %q auid %d", e.User, e.LoginUser, e.AUID)
	}
}

func TestMalformedLinesCounted(t *testing.T) {
	var c collector
	a := NewAssembler(c.emit)
	bad := []string{"garbage\x00\xff", "type=SYSCALL msg=audit(", strings.Repeat("x", maxLine+1)}
	for _, l := range bad {
		if err := a.Push([]byte(l)); err == nil {
			t.Errorf("Push(%.30q) accepted", l)
		}
	}
	pushAll(t, a, execEvent(3000, 1, "ok"))
	a.Flush()
	if st := a.Stats(); st.Malformed != 3 || st.Execs != 1 {
		t.Errorf("stats = %+v, want 3 malformed and the intact exec", st)
	}
}

// TestReplayRotatedFolder replays an event that starts at the end of
// audit.log.1 and ends in audit.log, from a folder, a gzip file among them.
func TestReplayRotatedFolder(t *testing.T) {
	dir := t.TempDir()
	ev := execEvent(4000, 9, "docker", "run", "--privileged", "alpine")
	older := append(execEvent(3998, 8, "oldest"), ev[:3]...)
	newer := append(ev[3:], execEvent(4001, 10, "newest")...)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(strings.Join(execEvent(3990, 7, "rotated-twice"), "\n") + "\n"))
	zw.Close()
	files := map[string][]byte{
		"audit.log.2.gz": gz.Bytes(),
		"audit.log.1":    []byte(strings.Join(older, "\n") + "\n"),
		"audit.log":      []byte(strings.Join(newer, "\n")), // no final newline
		"notes.txt":      []byte("not a log\n"),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var c collector
	a := NewAssembler(c.emit)
	r := &Replay{Paths: []string{dir, filepath.Join(dir, "missing.log")}}
	err := r.Run(context.Background(), a)
	if err == nil || !strings.Contains(err.Error(), "missing.log") {
		t.Errorf("Run error = %v, want one naming missing.log", err)
	}
	got := argvs(c.execs)
	want := [][]string{{"rotated-twice"}, {"oldest"}, {"docker", "run", "--privileged", "alpine"}, {"newest"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("argvs = %q, want %q", got, want)
	}
	if st := a.Stats(); st.Malformed != 0 {
		t.Errorf("notes.txt was read: %+v", st)
	}
}

func TestSortRotated(t *testing.T) {
	files := []string{"d/audit.log", "d/audit.log.1", "d/audit.log.10", "d/audit.log.2", "d/audit.log.3.gz"}
	SortRotated(files)
	want := []string{"d/audit.log.10", "d/audit.log.3.gz", "d/audit.log.2", "d/audit.log.1", "d/audit.log"}
	if !reflect.DeepEqual(files, want) {
		t.Errorf("SortRotated = %q, want %q", files, want)
	}
}

func TestProcTable(t *testing.T) {
	pt := NewProcTable(4, time.Hour)
	t0 := time.Unix(1000, 0)
	sh := &Exec{Time: t0, Pid: 10, Ppid: 1, Exe: "/usr/bin/sudo", Argv: []string{"sudo", "docker", "ps"}, User: "root"}
	if _, ok := pt.Observe(sh); ok {
		t.Error("parent of the first exec known")
	}
	child := &Exec{Time: t0.Add(time.Second), Pid: 11, Ppid: 10, Exe: "/usr/bin/docker"}
	p, ok := pt.Observe(child)
	if !ok || p.Exe != "/usr/bin/sudo" || p.User != "root" || len(p.Argv) != 3 {
		t.Errorf("parent = %+v, %v", p, ok)
	}
	late := &Exec{Time: t0.Add(2 * time.Hour), Pid: 12, Ppid: 11}
	if _, ok := pt.Observe(late); ok {
		t.Error("an exec older than MaxAge was returned")
	}
	for pid := uint32(100); pid < 110; pid++ {
		pt.Observe(&Exec{Time: t0, Pid: pid})
	}
	if pt.Len() > 4 {
		t.Errorf("Len = %d, want at most 4", pt.Len())
	}
	other := &Exec{Time: t0, Node: "other", Pid: 13, Ppid: 10}
	if _, ok := pt.Observe(other); ok {
		t.Error("a pid of another node matched")
	}
}

// TestAssembleArgvBounded: a damaged record naming arguments far apart must
// not make millions of empty ones (found by FuzzAssembler).
func TestAssembleArgvBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString(`type=EXECVE msg=audit(1.000:9): argc=1 a0="x"`)
	for n := 65536; n < 65536*20; n += 65536 {
		fmt.Fprintf(&b, ` a%d=""`, n)
	}
	var c collector
	a := NewAssembler(c.emit)
	pushAll(t, a, []string{b.String()})
	a.Flush()
	if len(c.execs) != 1 || len(c.execs[0].Argv) != 1 {
		t.Fatalf("argv of %d arguments", len(c.execs[0].Argv))
	}
}

package auditd

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/elastic/go-libaudit/v2/auparse"
)

// strictFuzz makes the targets fail on the bugs already reported, which they
// otherwise log and step over so that fuzzing goes on looking for new ones.

// The logs the seed corpora are taken from, relative to this package.
const (
	sampleLog   = "../testdata/sample/audit.log"
	badLog      = "../testdata/bad/audit.log"
	rawNodeLog  = "../testdata/long/audit-raw-node.log"
	enrichedLog = "../testdata/long/audit-enriched.log"
)

// readLines returns the lines of a log (without their newline); lines longer
// than maxLen are cut to it. A missing file gives no lines.
func readLines(tb testing.TB, name string, maxLen int) [][]byte {
	tb.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		tb.Logf("seed log %s: %v", name, err)
		return nil
	}
	var out [][]byte
	for _, l := range bytes.SplitAfter(data, []byte("\n")) {
		if len(l) == 0 {
			continue
		}
		l = bytes.TrimSuffix(l, []byte("\n"))
		if len(l) > maxLen {
			l = l[:maxLen]
		}
		out = append(out, l)
	}
	return out
}

// seedLines picks a few hundred lines of the real logs that cover what
// ParseRecord must handle: every record type seen, EXECVE with hex, aN_len and
// aN[i] chunks, ENRICHED tails, node= prefixes, and the damaged lines of
// testdata/bad.
func seedLines(tb testing.TB) [][]byte {
	const maxLen = 2 << 10
	var out [][]byte
	seen := map[string]int{}
	pick := func(l []byte, always bool) {
		// A line's kind: its type, and whether it has a node=, an ENRICHED
		// tail, hex arguments, aN_len chunks.
		kind := "garbage"
		if i := bytes.Index(l, []byte("type=")); i >= 0 {
			kind, _, _ = strings.Cut(string(l[i:]), " ")
		}
		for _, c := range []struct {
			tag string
			has bool
		}{
			{"node", bytes.HasPrefix(l, []byte("node="))},
			{"enriched", bytes.IndexByte(l, 0x1d) >= 0},
			{"hex", hexArgRE.Match(l)},
			{"chunks", bytes.Contains(l, []byte("_len="))},
		} {
			if c.has {
				kind += "+" + c.tag
			}
		}
		if always || seen[kind] < 8 {
			seen[kind]++
			out = append(out, l)
		}
	}
	for _, name := range []string{sampleLog, rawNodeLog, enrichedLog} {
		for _, l := range readLines(tb, name, maxLen) {
			pick(l, false)
		}
	}
	bad := readLines(tb, badLog, maxLen)
	// The damage of testdata/bad (1-based line numbers, see its README).
	for _, n := range []int{108, 114, 243, 244, 245, 246, 247, 301, 365, 384, 419, 684, 756, 816} {
		if n-1 < len(bad) {
			pick(bad[n-1], true)
		}
	}
	if len(out) > 400 {
		out = out[:400]
	}
	return out
}

var hexArgRE = regexp.MustCompile(` a\d+(\[\d+\])?=[0-9A-F]`)

// headerRE is an independent statement of the header ParseRecord accepts.
var headerRE = regexp.MustCompile(`^(?:node=([^ ]*) )?type=([^ ]+) +(?:msg=)?audit\(([0-9]+)\.([0-9]{1,3}):([0-9]+)\): ?`)

// subslice reports whether sub lies inside line (nil is inside anything).
func subslice(line, sub []byte) (off int, ok bool) {
	if sub == nil {
		return -1, true
	}
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(line)))
	p := uintptr(unsafe.Pointer(unsafe.SliceData(sub)))
	if len(sub) == 0 {
		// Go may point an empty slice at the base of its array.
		return int(p - lo), p >= lo && p <= lo+uintptr(len(line))
	}
	return int(p - lo), p >= lo && p+uintptr(len(sub)) <= lo+uintptr(len(line))
}

func FuzzParseRecord(f *testing.F) {
	for _, l := range seedLines(f) {
		f.Add(l)
	}
	for _, s := range []string{
		"type=EOE msg=audit(1.1:1): ",
		"type=EOE msg=audit(1.1:18446744073709551615):",
		"node= type=SYSCALL audit(0.000:0):x\x1d\x1d",
		"type=UNKNOWN[1334] msg=audit(1796394723.082:4328): a=b\r\n",
		"type=EXECVE   msg=audit(1099511627776.999:99999999999999999999):  a0=\"x\"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		var r Record
		err := ParseRecord(line, &r)
		orig := append([]byte(nil), line...)
		trimmed := bytes.TrimRight(line, "\r\n")
		m := headerRE.FindSubmatchIndex(trimmed)
		if err != nil {
			// The converse: a header of the accepted shape, a known type and
			// numbers in range must parse.
			if m == nil {
				return
			}
			name := trimmed[m[4]:m[5]]
			_, terr := auparse.GetAuditMessageType(string(name))
			sec, serr := strconv.ParseInt(string(trimmed[m[6]:m[7]]), 10, 64)
			_, uerr := strconv.ParseUint(string(trimmed[m[10]:m[11]]), 10, 64)
			if terr == nil && len(name) <= 40 && serr == nil && sec <= 1<<40 && uerr == nil && m[11]-m[10] <= 20 {
				t.Fatalf("ParseRecord(%q) = %v, but the header is well formed", line, err)
			}
			return
		}
		if !bytes.Equal(line, orig) {
			t.Fatalf("ParseRecord changed its input")
		}
		if m == nil {
			t.Fatalf("ParseRecord(%q) accepted a line without a well-formed header: %+v", line, r)
		}
		// Sub-slices of the line, in order: node, body, enriched.
		nodeOff, ok := subslice(line, r.Node)
		if !ok {
			t.Fatalf("Node %q is not a sub-slice of the line", r.Node)
		}
		bodyOff, ok := subslice(line, r.Body)
		if !ok || r.Body == nil {
			t.Fatalf("Body %q is not a sub-slice of the line", r.Body)
		}
		enrOff, ok := subslice(line, r.Enriched)
		if !ok {
			t.Fatalf("Enriched %q is not a sub-slice of the line", r.Enriched)
		}
		if r.Node != nil && nodeOff+len(r.Node) > bodyOff {
			t.Fatalf("Node overlaps Body")
		}
		if r.Enriched != nil && bodyOff+len(r.Body)+1 != enrOff {
			t.Fatalf("Enriched does not follow Body and its separator")
		}
		// Node.
		if m[2] >= 0 {
			if !bytes.Equal(r.Node, trimmed[m[2]:m[3]]) || r.Node == nil {
				t.Fatalf("Node = %q, want %q", r.Node, trimmed[m[2]:m[3]])
			}
		} else if r.Node != nil {
			t.Fatalf("Node = %q for a line without node=", r.Node)
		}
		// Type: the fast path agrees with go-libaudit's table.
		name := string(trimmed[m[4]:m[5]])
		if want, terr := auparse.GetAuditMessageType(name); terr != nil || want != r.Type {
			t.Fatalf("Type = %v for %q, go-libaudit says %v (%v)", r.Type, name, want, terr)
		}
		// Times and serial as written.
		sec, serr := strconv.ParseInt(string(trimmed[m[6]:m[7]]), 10, 64)
		msec, merr := strconv.ParseUint(string(trimmed[m[8]:m[9]]), 10, 32)
		serial, uerr := strconv.ParseUint(string(trimmed[m[10]:m[11]]), 10, 64)
		if serr != nil || sec > 1<<40 || r.Sec != sec {
			t.Fatalf("Sec = %d for %q (%v)", r.Sec, trimmed[m[6]:m[7]], serr)
		}
		if merr != nil || uint64(r.Msec) != msec || r.Msec > 999 {
			t.Fatalf("Msec = %d for %q", r.Msec, trimmed[m[8]:m[9]])
		}
		if errors.Is(uerr, strconv.ErrRange) {
			t.Fatalf("serial %q overflows uint64, accepted as %d", trimmed[m[10]:m[11]], r.Serial)
			return
		}
		if uerr != nil || r.Serial != serial {
			t.Fatalf("Serial = %d for %q (%v)", r.Serial, trimmed[m[10]:m[11]], uerr)
		}
		// Body and the ENRICHED tail are what follows the header.
		rest := trimmed[m[1]:]
		wantBody, wantEnr := rest, []byte(nil)
		if i := bytes.IndexByte(rest, enrichedSep); i >= 0 {
			wantBody, wantEnr = rest[:i], rest[i+1:]
		}
		if !bytes.Equal(r.Body, wantBody) || !bytes.Equal(r.Enriched, wantEnr) || (wantEnr == nil) != (r.Enriched == nil) {
			t.Fatalf("Body, Enriched = %q, %q; want %q, %q", r.Body, r.Enriched, wantBody, wantEnr)
		}
		// The field iterator and Value must not panic on any body.
		for it := Fields(r.Body); it.Next(); {
			Value(nil, it.Raw)
		}
		for it := Fields(r.Enriched); it.Next(); {
			Value(nil, it.Raw)
		}
	})
}

// maxArgv bounds the arguments of one exec: the kernel's ARG_MAX keeps real
// ones far below it, and the builder refuses an argc above it.
const maxArgv = 1 << 20

// eventFacts is what the input says about one (node, serial).
type eventFacts struct {
	syscalls int
	argc     map[uint64]bool // the argc= values of its EXECVE records
	badArgc  bool
}

func FuzzAssembler(f *testing.F) {
	// Seeds: runs of consecutive lines of the real logs.
	add := func(lines [][]byte, from, n int) {
		if from >= len(lines) {
			return
		}
		to := min(from+n, len(lines))
		f.Add(bytes.Join(lines[from:to], []byte("\n")), uint8(0), uint8(0))
	}
	sample := readLines(f, sampleLog, 16<<10)
	for i := 0; i < len(sample) && i < 600; i += 60 {
		add(sample, i, 40)
	}
	bad := readLines(f, badLog, 4<<10)
	for _, from := range []int{100, 235, 295, 360, 680, 750, 805} {
		add(bad, from, 20)
	}
	node := readLines(f, rawNodeLog, 8<<10)
	add(node, 0, 30)
	add(node, 140, 20) // the 3009-argument exec, aN_len chunks across records
	enr := readLines(f, enrichedLog, 8<<10)
	add(enr, 220, 12)
	f.Add([]byte("type=SYSCALL msg=audit(1.000:7): arch=c000003e syscall=59 success=yes pid=1\n"+
		"type=EXECVE msg=audit(1.000:7): argc=3 a0=\"x\" a2_len=4 a2[0]=\"ab\" a2[1]=\"cd\"\n"+
		"type=EXECVE msg=audit(1.000:7): a1=\"y\" a65537=\"z\"\n"+
		"type=EXECVE msg=audit(1.000:8): argc=1 a0[1]=ZZ a0[0]=00\n"), uint8(2), uint8(1))
	// Known bug: aN far apart fill the gaps with empty arguments, 65536 at a
	// time: 17 fields of one line make more than maxArgv arguments (160
	// fields, 1.9 KB, make 10.4 million and allocate 600 MB).
	var far strings.Builder
	far.WriteString("type=EXECVE msg=audit(1.000:9): argc=1")
	for n := 1 << 16; n <= 17<<16; n += 1 << 16 {
		fmt.Fprintf(&far, ` a%d=""`, n)
	}
	f.Add([]byte(far.String()), uint8(0), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, window, maxInFlight uint8) {
		lines := bytes.Split(data, []byte("\n"))
		// What the input says about each event, to check the warnings.
		facts := map[string]*eventFacts{}
		var r Record
		for _, l := range lines {
			if len(l) > maxLine || ParseRecord(l, &r) != nil {
				continue
			}
			k := string(r.Node) + "\x00" + strconv.FormatUint(r.Serial, 10)
			ef := facts[k]
			if ef == nil {
				ef = &eventFacts{argc: map[uint64]bool{}}
				facts[k] = ef
			}
			switch r.Type {
			case auparse.AUDIT_SYSCALL:
				ef.syscalls++
			case auparse.AUDIT_EXECVE:
				for it := Fields(r.Body); it.Next(); {
					if string(it.Key) == "argc" {
						n, err := strconv.ParseUint(string(it.Raw), 10, 64)
						if err != nil || n > 1<<20 {
							ef.badArgc = true
						}
						ef.argc[n] = true
					}
				}
			}
		}
		var execs, damaged uint64
		a := NewAssembler(func(e *Exec) {
			execs++
			if len(e.Warnings) > 0 {
				damaged++
			}
			if len(e.Argv) > maxArgv {
				t.Fatalf("serial %d: %d arguments rebuilt, more than %d", e.Serial, len(e.Argv), maxArgv)
			}
			fromProctitle := false
			for _, w := range e.Warnings {
				if strings.HasPrefix(w, "no EXECVE record") {
					fromProctitle = true
				}
			}
			ef := facts[e.Node+"\x00"+strconv.FormatUint(e.Serial, 10)]
			if ef == nil {
				t.Fatalf("emitted an exec of node %q serial %d that no record has", e.Node, e.Serial)
			}
			if !fromProctitle && !ef.badArgc && len(ef.argc) == 1 && ef.syscalls <= 1 {
				for n := range ef.argc {
					if uint64(len(e.Argv)) != n && len(e.Warnings) == 0 {
						t.Errorf("serial %d: argc=%d but %d arguments, and no warning", e.Serial, n, len(e.Argv))
					}
				}
			}
		})
		if window > 0 {
			a.Window = int(window % 64)
		}
		if maxInFlight > 0 {
			a.MaxInFlight = int(maxInFlight % 32)
		}
		for _, l := range lines {
			a.Push(l)
		}
		a.Flush()
		st := a.Stats()
		if st.Lines != uint64(len(lines)) || st.Records+st.Malformed != st.Lines {
			t.Fatalf("stats do not add up: %+v for %d lines", st, len(lines))
		}
		if st.Execs != execs || st.Damaged != damaged {
			t.Fatalf("stats say %d execs (%d damaged), %d (%d) were emitted", st.Execs, st.Damaged, execs, damaged)
		}
		if a.InFlight() != 0 {
			t.Fatalf("%d events in flight after Flush", a.InFlight())
		}
	})
}

// encodeArg is the kernel's choice for one argument (audit_string_contains_control):
// hex when any byte is '"', below 0x21 or above 0x7e; else quoted.
func needsHex(arg []byte) bool {
	for _, c := range arg {
		if c == '"' || c < 0x21 || c > 0x7e {
			return true
		}
	}
	return false
}

// execveRecords writes args as the kernel's audit_log_execve_info does, with
// lenMax in place of MAX_EXECVE_AUDIT_LEN (7500): each record holds about
// lenMax characters of arguments; an argument that does not fit in what is
// left of a record goes as aN_len=L and chunks aN[0], aN[1], ... spread over
// records; an argument of lenMax bytes or more is always chunked and hex.
func execveRecords(args [][]byte, argc, lenMax int) []string {
	var recs []string
	var b strings.Builder
	fmt.Fprintf(&b, "argc=%d", argc)
	rem := lenMax
	flush := func() {
		recs = append(recs, b.String())
		b.Reset()
		rem = lenMax
	}
	hexUpper := func(p []byte) string { return strings.ToUpper(hex.EncodeToString(p)) }
	for i, arg := range args {
		forced := len(arg) >= lenMax
		enc := forced || needsHex(arg)
		encLen := len(arg)
		abuf := len(arg) + 2
		if enc {
			encLen, abuf = 2*len(arg), 2*len(arg)
		}
		plain := fmt.Sprintf(" a%d=", i)
		if rem < len(plain)+3 {
			flush()
		}
		if !forced && len(plain)+abuf <= rem {
			b.WriteString(plain)
			if enc {
				b.WriteString(hexUpper(arg))
			} else {
				b.WriteString(`"` + string(arg) + `"`)
			}
			rem -= len(plain) + abuf
			continue
		}
		data := arg
		for iter := 0; iter == 0 || len(data) > 0; iter++ {
			h := fmt.Sprintf(" a%d[%d]=", i, iter)
			if iter == 0 {
				h = fmt.Sprintf(" a%d_len=%d", i, encLen) + h
			}
			if rem < len(h)+4 {
				flush()
			}
			avail := rem - len(h)
			n := avail - 2
			if enc {
				n = avail / 2
			}
			n = min(n, len(data))
			b.WriteString(h)
			if enc {
				b.WriteString(hexUpper(data[:n]))
				rem -= len(h) + 2*n
			} else {
				b.WriteString(`"` + string(data[:n]) + `"`)
				rem -= len(h) + n + 2
			}
			data = data[n:]
		}
	}
	flush()
	return recs
}

func FuzzArgvRoundTrip(f *testing.F) {
	f.Add([]byte("docker\x00run\x00--privileged\x00-v\x00/:/host\x00alpine"), uint16(7500), int8(0), false)
	f.Add([]byte("sh\x00-c\x00echo \"$HOME\"\x00\x00\xff\xfe"), uint16(0), int8(0), true)
	f.Add([]byte("a\x00"+strings.Repeat("x", 300)+"\x00"+strings.Repeat("y z", 100)), uint16(40), int8(0), false)
	f.Add([]byte("a\x00b\x00c"), uint16(100), int8(120), true)
	f.Add([]byte("a\x00b\x00c"), uint16(100), int8(-128), false)
	f.Add([]byte(strings.Repeat("\x00", 200)), uint16(20), int8(0), true)
	f.Fuzz(func(t *testing.T, data []byte, lenMax uint16, argcDelta int8, withNode bool) {
		args := bytes.Split(data, []byte{0})
		// At least room for one field per record; small sizes half the time,
		// so that short arguments get chunked too.
		lm := 64 + int(lenMax)%(7500-64+1)
		if lenMax&1 == 0 {
			lm = 64 + int(lenMax>>1)%512
		}
		argc := len(args)
		switch {
		case argcDelta > 100:
			argc += int(argcDelta) - 100
		case argcDelta < -100 && len(args) > 1:
			argc -= 1 + (-int(argcDelta)-101)%(len(args)-1)
		}
		prefix := ""
		if withNode {
			prefix = "node=host-1 "
		}
		hdr := func(typ string) string { return prefix + "type=" + typ + " msg=audit(1700000000.123:42): " }
		pt := bytes.Join(args, []byte{0})
		if len(pt) > 128 {
			pt = pt[:128]
		}
		lines := []string{hdr("SYSCALL") + "arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 items=2 " +
			"ppid=100 pid=101 auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=3 " +
			`comm="docker" exe="/usr/bin/docker" key="t1610_exec"` + "\x1dARCH=x86_64 SYSCALL=execve AUID=\"alice\" UID=\"root\""}
		for _, rec := range execveRecords(args, argc, lm) {
			lines = append(lines, hdr("EXECVE")+rec)
		}
		lines = append(lines,
			hdr("CWD")+`cwd="/root"`,
			hdr("PATH")+`item=0 name="/usr/bin/docker" inode=1 dev=fe:00 mode=0100755 nametype=NORMAL`,
			hdr("PROCTITLE")+"proctitle="+strings.ToUpper(hex.EncodeToString(pt)),
			hdr("EOE"))
		var got []*Exec
		a := NewAssembler(func(e *Exec) { got = append(got, e) })
		for _, l := range lines {
			if err := a.Push([]byte(l + "\n")); err != nil {
				t.Fatalf("Push(%.200q): %v", l, err)
			}
		}
		a.Flush()
		if len(got) != 1 {
			t.Fatalf("%d execs emitted, want 1", len(got))
		}
		e := got[0]
		if len(e.Argv) != len(args) {
			t.Fatalf("%d arguments rebuilt, want %d (lenMax %d); warnings %q\nrecords:\n%s",
				len(e.Argv), len(args), lm, e.Warnings, strings.Join(lines, "\n"))
		}
		for i := range args {
			if e.Argv[i] != string(args[i]) {
				t.Fatalf("a%d = %q, want %q (lenMax %d)\nrecords:\n%s", i, e.Argv[i], args[i], lm, strings.Join(lines, "\n"))
			}
		}
		if argc == len(args) && len(e.Warnings) > 0 {
			t.Fatalf("warnings for an intact exec: %q\nrecords:\n%s", e.Warnings, strings.Join(lines, "\n"))
		}
		if argc != len(args) && len(e.Warnings) == 0 {
			t.Fatalf("argc=%d with %d arguments, and no warning", argc, len(args))
		}
		if e.Pid != 101 || e.Ppid != 100 || e.Exe != "/usr/bin/docker" || e.Cwd != "/root" || e.LoginUser != "alice" ||
			e.User != "root" || e.Serial != 42 || !e.Success || (withNode && e.Node != "host-1") {
			t.Fatalf("exec fields wrong: %+v", e)
		}
	})
}

// TestExecveRecordsLikeKernel checks the test's own encoder against a real
// chunked record of testdata/long: same field layout for the same argument.
func TestExecveRecordsLikeKernel(t *testing.T) {
	recs := execveRecords([][]byte{[]byte("x"), bytes.Repeat([]byte("y"), 90), []byte("\x01z")}, 3, 100)
	got := strings.Join(recs, "|")
	want := `argc=3 a0="x" a1_len=90 a1[0]="` + strings.Repeat("y", 74) + `"|` +
		` a1[1]="` + strings.Repeat("y", 16) + `" a2=017A`
	if got != want {
		t.Fatalf("execveRecords:\n got %s\nwant %s", got, want)
	}
	// An argument of lenMax bytes or more: hex chunks, aN_len counting hex digits.
	recs = execveRecords([][]byte{bytes.Repeat([]byte("y"), 100)}, 1, 100)
	if got, want := recs[0][:len("argc=1 a0_len=200 a0[0]=7979")], "argc=1 a0_len=200 a0[0]=7979"; got != want {
		t.Fatalf("forced hex: got %s, want %s", got, want)
	}
	// The kernel's rule for hex.
	for s, want := range map[string]bool{"abc": false, "a b": true, `a"b`: true, "a\x7f": true, "~!": false, "": false} {
		if needsHex([]byte(s)) != want {
			t.Errorf("needsHex(%q) = %v", s, !want)
		}
	}
	// Every line of the long logs parses (they are the seeds' source).
	for _, name := range []string{rawNodeLog, enrichedLog} {
		fh, err := os.Open(name)
		if err != nil {
			t.Skip(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 1<<20)
		var r Record
		for sc.Scan() {
			if err := ParseRecord(sc.Bytes(), &r); err != nil {
				t.Errorf("%s: %v: %.80q", name, err, sc.Bytes())
			}
		}
		fh.Close()
	}
}

package auditd

import (
	"errors"
	"testing"

	"github.com/elastic/go-libaudit/v2/auparse"
)

func TestParseRecord(t *testing.T) {
	tests := []struct {
		name     string
		line     string
		node     string
		typ      auparse.AuditMessageType
		sec      int64
		msec     uint32
		serial   uint64
		body     string
		enriched string
		err      error
	}{
		{
			name: "raw syscall",
			line: `type=SYSCALL msg=audit(1796393269.487:966611): arch=c000003e syscall=59 success=yes` + "\n",
			typ:  auparse.AUDIT_SYSCALL, sec: 1796393269, msec: 487, serial: 966611,
			body: `arch=c000003e syscall=59 success=yes`,
		},
		{
			name: "node prefix",
			line: `node=k8s-worker-03 type=EXECVE msg=audit(1796393272.550:6314): argc=2 a0="ls" a1="-la"`,
			node: "k8s-worker-03", typ: auparse.AUDIT_EXECVE, sec: 1796393272, msec: 550, serial: 6314,
			body: `argc=2 a0="ls" a1="-la"`,
		},
		{
			name: "enriched tail",
			line: "type=LOGIN msg=audit(1796393269.503:966635): pid=32105 uid=0 auid=1003 res=1\x1dUID=\"root\" AUID=\"alice\"",
			typ:  auparse.AUDIT_LOGIN, sec: 1796393269, msec: 503, serial: 966635,
			body: `pid=32105 uid=0 auid=1003 res=1`, enriched: `UID="root" AUID="alice"`,
		},
		{
			name: "unknown type number",
			line: `type=UNKNOWN[1334] msg=audit(1.002:3): x=1`,
			typ:  1334, sec: 1, msec: 2, serial: 3, body: `x=1`,
		},
		{
			name: "continuation record keeps its double space trimmed once",
			line: `type=EXECVE msg=audit(1.000:7):  a4[1]=6161`,
			typ:  auparse.AUDIT_EXECVE, sec: 1, serial: 7, body: ` a4[1]=6161`,
		},
		{name: "no type", line: `msg=audit(1.000:7): x=1`, err: ErrNoType},
		{name: "bad type", line: `type=NOT_A_TYPE msg=audit(1.000:7): x=1`, err: ErrBadType},
		{name: "no header", line: `type=SYSCALL arch=c000003e`, err: ErrNoHeader},
		{name: "cut header", line: `type=SYSCALL msg=audit(1796393269.4`, err: ErrBadHeader},
		{name: "no serial", line: `type=SYSCALL msg=audit(1796393269.487:): x`, err: ErrBadHeader},
		{name: "empty", line: ``, err: ErrNoType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Record
			err := ParseRecord([]byte(tt.line), &r)
			if !errors.Is(err, tt.err) {
				t.Fatalf("ParseRecord(%q) error = %v, want %v", tt.line, err, tt.err)
			}
			if err != nil {
				return
			}
			if string(r.Node) != tt.node || r.Type != tt.typ || r.Sec != tt.sec || r.Msec != tt.msec || r.Serial != tt.serial ||
				string(r.Body) != tt.body || string(r.Enriched) != tt.enriched {
				t.Errorf("ParseRecord(%q)\n got node=%q type=%v %d.%03d:%d body=%q enriched=%q\nwant node=%q type=%v %d.%03d:%d body=%q enriched=%q",
					tt.line, r.Node, r.Type, r.Sec, r.Msec, r.Serial, r.Body, r.Enriched,
					tt.node, tt.typ, tt.sec, tt.msec, tt.serial, tt.body, tt.enriched)
			}
		})
	}
}

func TestParseRecordAllocatesNothing(t *testing.T) {
	line := []byte("type=SYSCALL msg=audit(1796393269.487:966611): arch=c000003e syscall=59 success=yes exit=0 comm=\"ls\" exe=\"/usr/bin/ls\" key=\"t1610_exec\"\x1dARCH=x86_64 UID=\"root\"")
	var r Record
	allocs := testing.AllocsPerRun(100, func() {
		if err := ParseRecord(line, &r); err != nil {
			t.Fatal(err)
		}
		for f := Fields(r.Body); f.Next(); {
		}
	})
	if allocs != 0 {
		t.Errorf("ParseRecord + Fields allocate %.0f times per record, want 0", allocs)
	}
}

func TestFieldsAndValue(t *testing.T) {
	body := []byte(`argc=3 a0="docker" a1=2D2D707269 a2=(null) key=? msg='op=PAM:x acct="root" res=success' exe="/usr/bin/sudo"`)
	type kv struct{ k, raw, v string }
	var got []kv
	for f := Fields(body); f.Next(); {
		v, ok := Value(nil, f.Raw)
		if !ok && string(f.Key) != "argc" {
			t.Errorf("Value(%q) not ok", f.Raw)
		}
		got = append(got, kv{string(f.Key), string(f.Raw), string(v)})
	}
	want := []kv{
		{"argc", "3", "3"},
		{"a0", `"docker"`, "docker"},
		{"a1", "2D2D707269", "--pri"},
		{"a2", "(null)", ""},
		{"key", "?", ""},
		{"msg", `'op=PAM:x acct="root" res=success'`, `op=PAM:x acct="root" res=success`},
		{"exe", `"/usr/bin/sudo"`, "/usr/bin/sudo"},
	}
	if len(got) != len(want) {
		t.Fatalf("fields = %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("field %d = %q, want %q", i, got[i], want[i])
		}
	}
}

func TestValueMalformedHex(t *testing.T) {
	for _, raw := range []string{"6162ZZ", "616", "6g"} {
		out, ok := Value(nil, []byte(raw))
		if ok || string(out) != raw {
			t.Errorf("Value(%q) = %q, %v; want the raw bytes and false", raw, out, ok)
		}
	}
	out, ok := Value(nil, []byte(`"cut`))
	if ok || string(out) != "cut" {
		t.Errorf(`Value("cut) = %q, %v; want "cut", false`, out, ok)
	}
}

func TestParseRecordSerialOverflow(t *testing.T) {
	var r Record
	if err := ParseRecord([]byte("type=EOE msg=audit(1.1:99999999999999999999): "), &r); err == nil {
		t.Errorf("a serial beyond uint64 accepted as %d", r.Serial)
	}
}

package auditd

import (
	"os/user"
	"strconv"
	"time"
)

// Proc is what the process table knows of a process: its last exec.
type Proc struct {
	Exe  string
	Argv []string
	UID  uint32
	User string
	ms   int64 // event time of that exec
}

// ProcTable maps a pid to the exec last seen for it, learned from the exec
// stream itself, so that an exec's parent can be named. It holds at most
// about Max processes (two generations of Max/2: the older generation is
// dropped whole when the newer fills) and forgets an exec older than MaxAge
// (by event time). Not safe for concurrent use.
type ProcTable struct {
	max      int
	maxAge   int64
	cur, old map[procKey]Proc
	nodes    map[string]uint32 // node name → a small number, for cheap keys
	lastNode string
	lastID   uint32
}

type procKey uint64 // node number << 32 | pid

// Defaults of the process table.
const (
	DefaultProcTableSize = 32768
	DefaultProcMaxAge    = 24 * time.Hour
)

// NewProcTable returns a table of at most about max processes whose entries
// are forgotten after maxAge.
func NewProcTable(max int, maxAge time.Duration) *ProcTable {
	if max < 2 {
		max = 2
	}
	return &ProcTable{
		max:    max,
		maxAge: maxAge.Milliseconds(),
		cur:    make(map[procKey]Proc, max/2),
		old:    make(map[procKey]Proc),
		nodes:  map[string]uint32{"": 0},
	}
}

func (t *ProcTable) key(node string, pid uint32) procKey {
	if node != t.lastNode {
		id, ok := t.nodes[node]
		if !ok {
			id = uint32(len(t.nodes))
			t.nodes[node] = id
		}
		t.lastNode, t.lastID = node, id
	}
	return procKey(uint64(t.lastID)<<32 | uint64(pid))
}

// Observe returns the parent of e, the exec last seen for e.Ppid on e.Node,
// and whether it was known; then it records e as e.Pid's exec.
func (t *ProcTable) Observe(e *Exec) (parent Proc, ok bool) {
	ms := e.Time.UnixMilli()
	parent, ok = t.lookup(t.key(e.Node, e.Ppid), ms)
	if e.Pid == 0 && e.Ppid == 0 {
		return parent, false
	}
	if len(t.cur) >= t.max/2 {
		t.old, t.cur = t.cur, make(map[procKey]Proc, t.max/2)
	}
	t.cur[t.key(e.Node, e.Pid)] = Proc{Exe: e.Exe, Argv: e.Argv, UID: e.UID, User: e.User, ms: ms}
	return parent, ok
}

func (t *ProcTable) lookup(k procKey, ms int64) (Proc, bool) {
	p, ok := t.cur[k]
	if !ok {
		p, ok = t.old[k]
	}
	if !ok || (t.maxAge > 0 && ms-p.ms > t.maxAge) {
		return Proc{}, false
	}
	return p, true
}

// Len returns the number of processes held.
func (t *ProcTable) Len() int { return len(t.cur) + len(t.old) }

// UserNames resolves uids to names through the local user database, caching
// each answer. An unknown uid is named by its number.
type UserNames struct {
	cache map[uint32]string
}

// NewUserNames returns an empty cache.
func NewUserNames() *UserNames { return &UserNames{cache: make(map[uint32]string)} }

// Name returns the name of uid.
func (u *UserNames) Name(uid uint32) string {
	if uid == Unset {
		return ""
	}
	if n, ok := u.cache[uid]; ok {
		return n
	}
	id := strconv.FormatUint(uint64(uid), 10)
	n := id
	if usr, err := user.LookupId(id); err == nil {
		n = usr.Username
	}
	u.cache[uid] = n
	return n
}

// Package auditd owns everything about Linux audit records: the line and
// record parser (ParseRecord, Fields, Value), the rebuild of an exec's argv
// from its EXECVE records, the reassembly of records into events
// (Assembler, which emits one Exec per exec event), the process table that
// names an exec's parent (ProcTable), and the readers that feed them (Replay).
//
// The parser works on []byte without per-field allocations: it is the hot
// path. Nothing here reads a config file; limits are plain fields.
package auditd

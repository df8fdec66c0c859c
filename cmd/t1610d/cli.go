package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
)

// usageError is a mistake on the command line or in the config: exit 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

const usage = `usage: t1610d COMMAND [flags]

commands:
  run          [--config FILE]     the daemon: audit records from netlink, the log or stdin
                                   (source.kind), alerts to the configured outputs
  replay       [--config FILE] [--events alerts|container|all] [--format native|ecs] [PATH ...]
                                   turn audit logs into alerts (stdout)
  explain      [--config FILE] [--json] -- ARGV ...
                                   score one command line and say why
  check-config [--config FILE]     validate a config offline: exit 0, or 2 with the reason
  rules                            print the audit rules the daemon needs (auditctl syntax)
  version                          print the version

PATH is a file (plain or gzip), a directory as auditd rotates it
(audit.log.N ... audit.log, oldest first), or - for stdin (the default).
`

// run is the whole program: main only adds signals and the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usagef("no command given")
	}
	switch args[0] {
	case "run":
		return runDaemon(ctx, args[1:], stdin, stdout, stderr)
	case "replay":
		return runReplay(ctx, args[1:], stdin, stdout, stderr)
	case "rules":
		return runRules(stdout)
	case "explain":
		return runExplain(args[1:], stdout, stderr)
	case "check-config":
		return runCheckConfig(args[1:], stdout, stderr)
	case "version", "--version":
		return runVersion(stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return usagef("unknown command %q", args[0])
}

// newFlags returns a flag set for a subcommand that reports its errors
// instead of exiting.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("t1610d "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses args, turning a flag error into a usage error.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	return nil
}

// exitCode maps an error to the exit status DESIGN.md gives: 0 ok, 1 a
// runtime error, 2 a usage or config error.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	var u usageError
	if errors.As(err, &u) {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "t1610d:", err)
		}
		return 2
	}
	fmt.Fprintln(stderr, "t1610d:", err)
	return 1
}

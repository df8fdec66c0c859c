package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// notifySocket is a service manager's end of the notify protocol: a
// unixgram socket collecting what the daemon sends.
type notifySocket struct {
	name string
	conn *net.UnixConn
	mu   sync.Mutex
	msgs []string
}

func listenNotify(t *testing.T, name string) *notifySocket {
	t.Helper()
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	s := &notifySocket{name: name, conn: conn}
	t.Cleanup(func() { conn.Close() })
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			s.mu.Lock()
			s.msgs = append(s.msgs, string(buf[:n]))
			s.mu.Unlock()
		}
	}()
	return s
}

func (s *notifySocket) messages() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.msgs...)
}

// count is how many messages contain the assignment kv.
func (s *notifySocket) count(kv string) int {
	n := 0
	for _, m := range s.messages() {
		for _, line := range strings.Split(m, "\n") {
			if line == kv {
				n++
			}
		}
	}
	return n
}

// shortSocketPath is a socket path under the 108-byte sun_path limit.
func shortSocketPath(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("/tmp", "t1610d-notify")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir + "/notify.sock"
}

func TestNotifierMessages(t *testing.T) {
	for _, name := range []string{shortSocketPath(t), fmt.Sprintf("@t1610d-notify-test-%d", os.Getpid())} {
		t.Run(name, func(t *testing.T) {
			s := listenNotify(t, name)
			t.Setenv("NOTIFY_SOCKET", name)
			t.Setenv("WATCHDOG_USEC", "40000")
			t.Setenv("WATCHDOG_PID", "")
			n := newNotifier()
			if n.watchdog != 40*time.Millisecond {
				t.Fatalf("watchdog %v, want 40ms", n.watchdog)
			}
			before := monotonicUsec()
			if err := n.ready("running"); err != nil {
				t.Fatal(err)
			}
			if err := n.reloading(); err != nil {
				t.Fatal(err)
			}
			n.stopping()
			n.stopping() // once only
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { n.runWatchdog(ctx); close(done) }()
			waitFor(t, func() bool { return s.count("WATCHDOG=1") >= 3 }, "three watchdog pings")
			cancel()
			<-done
			msgs := s.messages()
			if msgs[0] != "READY=1\nSTATUS=running" {
				t.Errorf("first message %q", msgs[0])
			}
			var usec int64
			if _, err := fmt.Sscanf(msgs[1], "RELOADING=1\nMONOTONIC_USEC=%d", &usec); err != nil {
				t.Errorf("reloading message %q: %v", msgs[1], err)
			}
			// MONOTONIC_USEC is CLOCK_MONOTONIC, not the wall clock.
			if usec < before || usec > monotonicUsec() {
				t.Errorf("MONOTONIC_USEC=%d not between %d and now", usec, before)
			}
			if s.count("STOPPING=1") != 1 {
				t.Errorf("STOPPING=1 sent %d times", s.count("STOPPING=1"))
			}
		})
	}
}

// TestNotifierOff: without NOTIFY_SOCKET nothing is sent and nothing
// fails; a watchdog meant for another process is not ours.
func TestNotifierOff(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	t.Setenv("WATCHDOG_USEC", "1000000")
	t.Setenv("WATCHDOG_PID", "1")
	n := newNotifier()
	if n.addr != nil || n.watchdog != 0 {
		t.Fatalf("notifier %+v, want off", n)
	}
	if err := n.ready("x"); err != nil {
		t.Error(err)
	}
	n.runWatchdog(context.Background())           // returns at once
	t.Setenv("NOTIFY_SOCKET", shortSocketPath(t)) // nobody listens
	if err := newNotifier().ready("x"); err == nil {
		t.Error("no error sending to a socket nobody listens on")
	}
}

// TestRunNotify runs the daemon as systemd would (NOTIFY_SOCKET,
// WATCHDOG_USEC): READY=1 once it runs, watchdog pings, RELOADING=1 and
// READY=1 around a SIGHUP reload, STOPPING=1 on SIGTERM.
func TestRunNotify(t *testing.T) {
	bin := buildBinary(t)
	s := listenNotify(t, shortSocketPath(t))
	cfg := writeConfig(t, "[source]\nkind = \"stdin\"\n[[output]]\ntype = \"stdout\"\n")
	d := startDaemon(t, bin, cfg, "NOTIFY_SOCKET="+s.name, "WATCHDOG_USEC=200000")
	cmd, stdin, stderr := d.cmd, d.stdin, d.stderr
	defer stdin.Close()
	waitFor(t, func() bool { return s.count("READY=1") == 1 }, "READY=1")
	waitFor(t, func() bool { return s.count("WATCHDOG=1") >= 2 }, "watchdog pings")
	cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, func() bool { return s.count("READY=1") == 2 }, "READY=1 after the reload")
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, stderr.String())
	}
	var seq []string
	for _, m := range s.messages() {
		if k := strings.SplitN(m, "=", 2)[0]; k != "WATCHDOG" {
			seq = append(seq, k)
		}
	}
	if got := strings.Join(seq, " "); got != "READY RELOADING READY STOPPING" {
		t.Errorf("notifications %q, want READY RELOADING READY STOPPING\n%s", got, stderr.String())
	}
	if !strings.Contains(s.messages()[0], "STATUS=") {
		t.Errorf("READY without STATUS: %q", s.messages()[0])
	}
}
